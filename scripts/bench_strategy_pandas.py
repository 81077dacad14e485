#!/usr/bin/env python3
"""The strategy benchmark's pandas side: the same feature pipeline as strategy/src/bin/bench_strategy.rs
(10 indicators, their fuzzy sets, lags 2) on the bars in the CSV given as argument, written the way a
pandas user after speed would (vectorised rolling/ewm with the indicator formulas of
scripts/reference_indicators.py, only the outputs the fuzzy sets read, memberships with in-place numpy
operations, the matrix one preallocated block with lags as slices of it). Indicators are float64; the
feature columns float32, as in the Rust matrix.

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


def indicator(df, name, params, output):
    """The one output the fuzzy sets read, with the reference formulas: as in the Rust pipeline,
    outputs nobody reads (MACD's signal and histogram, Bollinger's bands and width, Stochastic %D)
    are not computed."""
    g = lambda k: params.get(k, dict(ref.DEFAULTS[name])[k])  # noqa: E731
    x = ref.source(df, params.get("source", "close"))
    if name == "macd" and output == 0:
        return ref.ema(x, int(g("fast_period"))) - ref.ema(x, int(g("slow_period")))
    if name == "bbands" and output == 4:
        n, k = int(g("period")), float(g("multiplier"))
        mid, sd = x.rolling(n).mean(), x.rolling(n).std(ddof=0)
        up, lo = mid + k * sd, mid - k * sd
        return ref.where(up - lo == 0, 0.5, (x - lo) / (up - lo))
    if name == "stochastic" and output == 0:
        k = int(g("k_period"))
        hh, ll = df.high.rolling(k).max(), df.low.rolling(k).min()
        c = df.close
        raw = ref.where(hh - ll == 0, 50.0, 100 * (c - ll) / (hh - ll)).where(hh.notna())
        return raw.rolling(int(g("smooth_k"))).mean()
    return ref.compute(df, name, params)[output]


def membership(x, kind, p, out):
    """Degrees of x (float64) written into out (a float32 row of the feature block), in place,
    with one float64 scratch column: the numpy idiom without a temporary per operation."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "gaussian":
            z = np.subtract(x, p[0])
            z *= 1.0 / p[1]
            np.square(z, out=z)
            z *= -0.5
            np.exp(z, out=out, casting="same_kind")
            return
        a, b, c, d = (p[0], p[1], p[1], p[2]) if kind == "triangular" else p
        # min(rising edge, falling edge) clipped to [0, 1]; a vertical edge is a step that includes
        # its corner. NaN propagates through subtract, minimum and clip.
        up = np.subtract(x, a)
        if b > a:
            up *= 1.0 / (b - a)
        else:
            np.greater_equal(up, 0.0, out=up, casting="unsafe")
        down = np.subtract(d, x)
        if d > c:
            down *= 1.0 / (d - c)
        else:
            np.greater_equal(down, 0.0, out=down, casting="unsafe")
        np.minimum(up, down, out=up)
        np.clip(up, 0.0, 1.0, out=up)
        if b <= a or d <= c:
            up[np.isnan(x)] = np.nan  # the step comparisons turned NaN into 0
        out[:] = up


def pipeline(df):
    n = len(df)
    width = sum(len(sets) for *_, sets in PIPELINE) * (LOOKBACK + 1)
    # The whole matrix as one float32 block (the network's input dtype), column after column, so
    # that the DataFrame wraps it without a copy and lags are slices of it.
    block = np.empty((width, n), dtype=np.float32)
    names = []
    row = 0
    for name, params, output, key, sets in PIPELINE:
        x = indicator(df, name, params, output).to_numpy()
        for set_name, (kind, p) in sets.items():
            col = f"{key}_{set_name}"
            membership(x, kind, p, block[row])
            names.append(col)
            for k in range(1, LOOKBACK + 1):
                block[row + k, :k] = np.nan
                block[row + k, k:] = block[row, :-k]
                names.append(f"{col}_lag_{k}")
            row += LOOKBACK + 1
    return pd.DataFrame(block.T, index=df.index, columns=names, copy=False)


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
