#!/usr/bin/env python3
"""An example CELLS.json for scripts/bench_sweep_python.py, on real bars: EURUSD hourly 2017-2018 from
the PyPI package backtesting==0.6.6 (the sample scripts/run.sh imports). Writes OUTDIR/EURUSD_1h.csv,
OUTDIR/EURUSD_4h.csv (the 1h bars resampled into UTC-aligned 4h buckets, as ktrdr_market::resample
does) in `ktrdrctl data export --format csv`'s layout, and OUTDIR/cells.json: the grid rsi period
[7, 14] x learning_rate [0.001, 0.0003] over strategies/rsi_mean_reversion.yaml, timeframes 1h and
4h, walk-forward windows from 2017-05-01 to 2018-02-01 (train 120 days, test 30, step 45: 3
windows), so 2 x 2 x 2 x 3 = 24 cells. Standard library plus PyYAML (`pip install pyyaml`).

  python3 -m pip download --no-deps --only-binary=:all: -d /tmp/bt backtesting==0.6.6
  python3 -m zipfile -e /tmp/bt/backtesting-0.6.6-*.whl /tmp/bt/wheel
  python3 scripts/bench_sweep_cells_example.py /tmp/bt/wheel/backtesting/test/EURUSD.csv /tmp/sweep
  python scripts/bench_sweep_python.py /tmp/sweep/cells.json --json /tmp/sweep/python.json   # torch venv
"""

import copy
import csv
import datetime as dt
import itertools
import json
import os
import sys

import yaml

HOUR, DAY = 3_600_000, 86_400_000
UTC = dt.timezone.utc


def ms(text):
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def write(path, rows):
    with open(path, "w", newline="") as fh:
        fh.write("timestamp,open,high,low,close,volume\n")
        for ts, o, h, lo, c, v in rows:
            when = dt.datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
            fh.write(f"{when},{o!r},{h!r},{lo!r},{c!r},{v!r}\n")


def main():
    src, out = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with open(src, newline="") as fh:
        hourly = [(ms(r[""]), float(r["Open"]), float(r["High"]), float(r["Low"]), float(r["Close"]),
                   float(r["Volume"])) for r in csv.DictReader(fh)]
    four = {}
    for ts, o, h, lo, c, v in hourly:
        b = ts // (4 * HOUR) * (4 * HOUR)
        if b in four:
            _, o0, h0, l0, _, v0 = four[b]
            four[b] = (b, o0, max(h0, h), min(l0, lo), c, v0 + v)
        else:
            four[b] = (b, o, h, lo, c, v)
    csvs = {"1h": os.path.join(out, "EURUSD_1h.csv"), "4h": os.path.join(out, "EURUSD_4h.csv")}
    write(csvs["1h"], hourly)
    write(csvs["4h"], list(four.values()))

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with open(os.path.join(root, "strategies", "rsi_mean_reversion.yaml")) as fh:
        base = yaml.safe_load(fh)
    frm, to = ms("2017-05-01"), ms("2018-02-01")
    windows = []
    for k in itertools.count():
        start = frm + k * 45 * DAY
        mid, end = start + 120 * DAY, start + 150 * DAY
        if end > to:
            break
        windows.append(([start, mid], [mid, end]))
    cells = []
    for (period, lr), tf, (train, test) in itertools.product(
            itertools.product([7, 14], [0.001, 0.0003]), ["1h", "4h"], windows):
        s = copy.deepcopy(base)
        s["indicators"][0]["period"] = period
        s["model"]["training"]["learning_rate"] = lr
        s["training_data"]["timeframes"] = {"mode": "single_timeframe", "list": [tf], "base_timeframe": tf}
        cells.append({"index": len(cells), "symbol": "EURUSD", "timeframe": tf, "bars_csv": csvs[tf],
                      "train": train, "test": test, "strategy": s})
    with open(os.path.join(out, "cells.json"), "w") as fh:
        json.dump({"cells": cells, "capital": 100000}, fh, indent=1)
    print(f"{len(cells)} cells, {len(hourly)} 1h and {len(four)} 4h bars -> {out}/cells.json")


if __name__ == "__main__":
    main()
