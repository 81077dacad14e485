#!/usr/bin/env python3
"""The whole-pipeline benchmark's Python side, the predecessor's way: pandas features, a Python ZigZag,
PyTorch training. Mirrors train/src/bin/bench_pipeline.rs on the bars it wrote to CSV:
strategies/rsi_mean_reversion.yaml = RSI 14 (Wilder) + MACD 12/26/9 on close, three triangular fuzzy
sets each, lags 1..2 -> 18 float32 columns; ZigZag 1 % labels; rows with every feature and a label,
split 0.7 / 0.15 / 0.15 in time order; MLP [50, 25] relu dropout 0.2, Adam 0.001, batch 32, a fixed
number of epochs (no early stopping), validation every epoch, best epoch's weights kept, test
evaluation, weights saved.

Indicator formulas are those of scripts/reference_indicators.py (TA-Lib seeding), memberships those of
scripts/bench_strategy_pandas.py; copied rather than imported because reference_indicators re-executes
itself under its own venv, which has no torch. Reading the CSV is not timed (nor is the Rust side's
bar generation). The training loop is bench-train.sh's (tensor indexing with randperm, not a
DataLoader), plus what the Rust trainer does each epoch. torch's default threads, as ktrdrd's.

Usage: bench_pipeline_torch.py BARS.csv EPOCHS       (in the torch venv, with pandas)
Prints one line: python ... total_secs=... samples_per_sec=... test_accuracy=...
"""

import copy
import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import torch

RSI_SETS = {"oversold": [0, 20, 35], "neutral": [30, 50, 70], "overbought": [65, 80, 100]}
MACD_SETS = {"negative": [-0.01, -0.005, 0], "neutral": [-0.002, 0, 0.002], "positive": [0, 0.005, 0.01]}
LOOKBACK = 2
ZIGZAG = 0.01
SPLIT = (0.7, 0.15)
BUY, HOLD, SELL = 0, 1, 2


def seeded(x, n, alpha):
    v = x.to_numpy(dtype=float)
    run, end = 0, None
    for i, val in enumerate(v):
        run = 0 if np.isnan(val) else run + 1
        if run == n:
            end = i
            break
    if end is None:
        return pd.Series(np.nan, index=x.index)
    y = v.copy()
    y[:end] = np.nan
    y[end] = v[end - n + 1:end + 1].mean()
    return pd.Series(y, index=x.index).ewm(alpha=alpha, adjust=False).mean()


def rsi(x, n=14):
    d = x.diff()
    ag, al = seeded(d.clip(lower=0), n, 1.0 / n), seeded((-d).clip(lower=0), n, 1.0 / n)
    return pd.Series(np.where(ag + al == 0, 50.0, 100 * ag / (ag + al)), index=x.index).where(ag.notna())


def macd(x, fast=12, slow=26):
    return seeded(x, fast, 2.0 / (fast + 1)) - seeded(x, slow, 2.0 / (slow + 1))


def triangular(x, p):
    x = x.to_numpy()
    a, b, c, d = p[0], p[1], p[1], p[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((x >= b) & (x <= c), 1.0,
                       np.where((x <= a) | (x >= d), 0.0,
                                np.where(x < b, (x - a) / (b - a), (d - x) / (d - c))))
    out[np.isnan(x)] = np.nan
    return out


def zigzag(close, threshold):
    """Segment labels: inside a rising swing BUY, falling SELL, the extremes HOLD; None outside."""
    pivots, hi, lo, direction, ext = [], 0, 0, 0, 0
    for i in range(1, len(close)):
        x = close[i]
        if direction == 0:
            if x > close[hi]:
                hi = i
            if x < close[lo]:
                lo = i
            if close[hi] >= close[lo] * (1 + threshold):
                if hi > lo:
                    pivots.append(lo)
                    direction, ext = 1, hi
                else:
                    pivots.append(hi)
                    direction, ext = -1, lo
        elif direction == 1:
            if x > close[ext]:
                ext = i
            elif x <= close[ext] * (1 - threshold):
                pivots.append(ext)
                direction, ext = -1, i
        else:
            if x < close[ext]:
                ext = i
            elif x >= close[ext] * (1 + threshold):
                pivots.append(ext)
                direction, ext = 1, i
    if direction != 0:
        pivots.append(ext)
    labels = np.full(len(close), np.nan)
    for a, b in zip(pivots, pivots[1:]):
        labels[a + 1:b] = BUY if close[b] > close[a] else SELL
    labels[pivots] = HOLD
    return labels


def features(df):
    cols = {}
    for key, x, sets in (("rsi", rsi(df.close), RSI_SETS), ("macd", macd(df.close), MACD_SETS)):
        for name, p in sets.items():
            col = f"{key}_{name}"
            m = pd.Series(triangular(x, p).astype(np.float32), index=df.index)
            cols[col] = m
            for k in range(1, LOOKBACK + 1):
                cols[f"{col}_lag_{k}"] = m.shift(k)
    f = pd.DataFrame(cols, index=df.index)
    y = zigzag(df.close.tolist(), ZIGZAG)
    usable = f.notna().all(axis=1).to_numpy() & ~np.isnan(y)
    x, y = f.to_numpy(dtype=np.float32)[usable], y[usable].astype(np.int64)
    n = len(x)
    a = int(np.floor(n * SPLIT[0]))
    b = a + int(np.floor(n * SPLIT[1]))
    return [(torch.from_numpy(x[s]), torch.from_numpy(y[s])) for s in (slice(0, a), slice(a, b), slice(b, n))]


def evaluate(model, loss_fn, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        return loss_fn(logits, y).item(), (logits.argmax(-1) == y).float().mean().item()


def train(parts, epochs, save_dir):
    (xt, yt), (xv, yv), (xs, ys) = parts
    torch.manual_seed(1)
    width = xt.shape[1]
    model = torch.nn.Sequential(torch.nn.Linear(width, 50), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(50, 25), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(25, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    n, seen, best = len(xt), 0, None
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for i in range(0, n, 32):
            idx = perm[i:i + 32]
            xb, yb = xt[idx], yt[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(-1) == yb).sum().item()
        val_loss, _ = evaluate(model, loss_fn, xv, yv)
        if best is None or val_loss < best[0]:
            best = (val_loss, copy.deepcopy(model.state_dict()))
    train_secs = time.perf_counter() - start
    model.load_state_dict(best[1])
    _, test_acc = evaluate(model, loss_fn, xs, ys)
    evaluate(model, loss_fn, xv, yv)
    torch.save(model.state_dict(), os.path.join(save_dir, "model.pt"))
    return train_secs, seen / train_secs, test_acc


def main():
    path, epochs = sys.argv[1], int(sys.argv[2])
    df = pd.read_csv(path)
    # torch.optim's first use imports lazily for ~1.5 s; a long-lived worker has paid that already,
    # so it stays out of the timed region (ktrdrd's equivalent, libtorch loading, is outside too).
    w = torch.nn.Parameter(torch.zeros(1))
    warm = torch.optim.Adam([w])
    w.sum().backward()
    warm.step()
    with tempfile.TemporaryDirectory() as save_dir:
        t0 = time.perf_counter()
        parts = features(df)
        features_secs = time.perf_counter() - t0
        train_secs, rate, test_acc = train(parts, epochs, save_dir)
        total = time.perf_counter() - t0
    sizes = "/".join(str(len(p[0])) for p in parts)
    print(f"python bars={len(df)} epochs={epochs} features={parts[0][0].shape[1]} rows={sizes} "
          f"features_secs={features_secs:.3f} train_secs={train_secs:.2f} total_secs={total:.2f} "
          f"samples_per_sec={rate:.0f} test_accuracy={test_acc:.3f} torch={torch.__version__} "
          f"pandas={pd.__version__}")


if __name__ == "__main__":
    main()
