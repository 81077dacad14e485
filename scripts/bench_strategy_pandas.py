#!/usr/bin/env python3
"""The strategy benchmark's pandas side: the same feature pipeline as strategy/src/bin/bench_strategy.rs
(10 indicators, their fuzzy sets, lags 2) on the bars in the CSV given as argument, written the way a
pandas user would (vectorised rolling/ewm; the indicator formulas of scripts/reference_indicators.py).
Indicators are float64; the feature columns float32, as in the Rust matrix.

Prints one JSON line: {"seconds": best of --runs, "columns": feature columns, "checksum": sum of every
defined feature value}. Reading the CSV is not timed; neither is the Rust side's bar generation.
Usage: bench_strategy_pandas.py BARS.csv [--runs N]
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_indicators as ref  # noqa: E402  (re-runs this script under .venv-ref if needed)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ref.EXACT_WINDOWS = False

# (indicator, params, output index, fuzzy key, sets): mirrors STRATEGY in bench_strategy.rs.
PIPELINE = [
    ("rsi", {}, 0, "rsi", {"oversold": ("triangular", [0, 20, 35]), "neutral": ("triangular", [30, 50, 70]),
                           "overbought": ("triangular", [65, 80, 100])}),
    ("macd", {}, 0, "macd", {"negative": ("gaussian", [-0.05, 0.05]), "positive": ("gaussian", [0.05, 0.05])}),
    ("sma", {"period": 50}, 0, "sma", {"below": ("trapezoidal", [0, 0, 90, 100]),
                                       "above": ("trapezoidal", [100, 110, 1000, 1000])}),
    ("ema", {}, 0, "ema", {"low": ("triangular", [80, 90, 100]), "high": ("triangular", [100, 110, 120])}),
    ("bbands", {}, 4, "bbands.percent_b", {"low": ("triangular", [-1, 0, 0.3]), "high": ("triangular", [0.7, 1, 2])}),
    ("atr", {}, 0, "atr", {"calm": ("gaussian", [0.02, 0.02]), "wild": ("gaussian", [0.1, 0.05])}),
    ("stochastic", {}, 0, "stochastic", {"low": ("triangular", [0, 0, 20]), "high": ("triangular", [80, 100, 100])}),
    ("williams_r", {}, 0, "williams_r", {"low": ("triangular", [-100, -100, -80]), "high": ("triangular", [-20, 0, 0])}),
    ("roc", {}, 0, "roc", {"down": ("gaussian", [-0.5, 0.3]), "up": ("gaussian", [0.5, 0.3])}),
    ("adx", {}, 0, "adx", {"weak": ("trapezoidal", [0, 0, 20, 25]), "strong": ("trapezoidal", [20, 25, 100, 100])}),
]
LOOKBACK = 2


def membership(x, kind, p):
    x = x.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "gaussian":
            out = np.exp(-0.5 * ((x - p[0]) / p[1]) ** 2)
        else:
            a, b, c, d = (p[0], p[1], p[1], p[2]) if kind == "triangular" else p
            out = np.where((x >= b) & (x <= c), 1.0,
                           np.where((x <= a) | (x >= d), 0.0,
                                    np.where(x < b, (x - a) / (b - a), (d - x) / (d - c))))
    out[np.isnan(x)] = np.nan
    return out


def pipeline(df):
    cols = {}
    for name, params, output, key, sets in PIPELINE:
        x = ref.compute(df, name, params)[output]
        for set_name, (kind, p) in sets.items():
            col = f"{key}_{set_name}"
            # float32, as the Rust matrix: the network's input dtype.
            m = pd.Series(membership(x, kind, p).astype(np.float32), index=df.index)
            cols[col] = m
            for k in range(1, LOOKBACK + 1):
                cols[f"{col}_lag_{k}"] = m.shift(k)
    return pd.DataFrame(cols, index=df.index)


def main():
    path = sys.argv[1]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    df = pd.read_csv(path)
    df = df[["open", "high", "low", "close", "volume"]].astype(float)
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        features = pipeline(df)
        best = min(best, time.perf_counter() - t)
    checksum = float(np.nansum(features.to_numpy(dtype=np.float64)))
    print(json.dumps({"seconds": best, "columns": features.shape[1], "checksum": checksum}))


if __name__ == "__main__":
    main()
