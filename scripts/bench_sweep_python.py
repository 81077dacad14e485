#!/usr/bin/env python3
"""The sweep benchmark's Python side, the predecessor's way: the cells of a sweep done one after
another in a plain loop, as a researcher's notebook would, with pandas features, a Python ZigZag,
PyTorch training and a Python bar-loop backtest. The Rust side is `ktrdrctl sweep run` (cells in
parallel in ktrdrd); the benchmark driver writes the cells it planned to CELLS.json and runs this.

Per cell (the cell's own strategy dict, overrides already applied):
  1. features on the bars of the train window [train_start, train_end) only, so indicators warm up
     inside the window: each declared indicator (rsi, macd, sma, ema; TA-Lib seeding, the formulas
     of scripts/reference_indicators.py), each fuzzy set on the output its key names (triangular,
     trapezoidal, gaussian), lags 1..lookback_periods after each membership column; float32;
  2. labels on the same bars (ZigZag with `zigzag_threshold`, or forward return), the rows with every
     feature and a label, split in time order by `data_split` (floor, floor, rest);
  3. the MLP (hidden_layers, activation, dropout after each hidden activation; PyTorch's default
     init, which draws from the same +-1/sqrt(fan_in) ranges as the Rust trainer), adam / sgd /
     rmsprop with weight_decay and momentum, `batch_size`, up to `epochs` epochs, each epoch a
     randperm shuffle, per-batch loss and accuracy read back (as the Rust trainer does for its
     progress), validation loss and accuracy in chunks of 8,192 rows; early stopping on validation
     loss (an epoch improves when it beats the best by more than `min_delta`; stop after `patience`
     epochs without improvement; patience 0 = off); the best epoch's weights restored; test and
     validation evaluated once more;
  4. features on every bar of the CSV before the test end (bars before the test start warm the
     indicators up, as a daemon backtest does), class probabilities (softmax, batches of 4,096 rows;
     rows with an undefined feature NaN, i.e. HOLD), and the backtest on the test window's bars
     [test_start, test_end): backtest/src/engine.rs's rules (scripts/bench_backtest_python.py's loop:
     confidence threshold, position awareness, min_signal_separation, fills at the next bar's open
     with slippage 0.0005 and commission 0.001, 25 % of equity per position, long-only, an open
     position closed at the last close), the metrics of backtest/src/metrics.rs (total return,
     Sharpe annualised by bars per year as `periods_per_year` derives it, max drawdown, Calmar,
     trades, win rate) and buy-and-hold over the same bars.

What differs from the Rust cells (so the numbers agree in kind, not bit for bit):
  - Random numbers: torch's generator (torch.manual_seed(model.training.seed, default 42) at the
    start of every cell, so a cell does not depend on the cells before it) for the initial weights,
    the shuffle and the dropout masks; the Rust trainer draws them from its own SplitMix64 stream
    with the same seed. Different weights mean different epochs_run and metrics.
  - No model is saved: a notebook keeps the model in memory and backtests it; the daemon writes
    each cell's model (a few KB of weights) to its store.
  - Only what the cells need is implemented: single-timeframe strategies on the cell's bars, the
    indicators rsi, macd, sma, ema, a constant learning rate and no class weights; anything else
    stops with a message rather than silently doing less work.
Reading the CSVs is not timed (each distinct CSV is read once before the timer), nor is torch.optim's
one-off lazy import (a long-lived daemon has paid its equivalent). One torch thread
(torch.set_num_threads(1)), as ktrdrd's default `training.torch_threads = 1`.

Usage: bench_sweep_python.py CELLS.json [--json OUT]      (in the torch venv, with pandas)
CELLS.json: {"cells": [{"index", "symbol", "timeframe", "bars_csv", "train": [start_ms, end_ms],
             "test": [start_ms, end_ms], "strategy": {...}}, ...], "capital": 100000}
bars_csv: `ktrdrctl data export ... --format csv`: timestamp,open,high,low,close,volume with
          `2017-05-01 00:00:00+00:00` times (integer UTC ms are accepted too).
Prints one line per cell, then `python cells=N total_secs=S per_cell_secs=S`; with --json, writes
{"cells": [per-cell metrics], "cells_count", "total_secs", "per_cell_secs", "torch", "pandas"} to OUT.
"""

import copy
import json
import math
import sys
import time

import numpy as np
import pandas as pd
import torch

BUY, HOLD, SELL = 0, 1, 2
FLAT, LONG = 0, 1
DAY_MS = 86_400_000
YEAR_MS = 365.25 * DAY_MS
TIMEFRAME_MS = {"m": 60_000, "h": 3_600_000, "d": DAY_MS, "w": 7 * DAY_MS}
# backtest/src/config.rs defaults; the decision rules come from each cell's strategy.
COMMISSION, SLIPPAGE, FRACTION = 0.001, 0.0005, 0.25


class CellError(Exception):
    """A cell this script cannot run as asked; the message names the strategy key."""


# ---- bars ----------------------------------------------------------------------------------------

def read_bars(path):
    df = pd.read_csv(path)
    cols = {c.lower(): c for c in df.columns}
    tcol = next((cols[k] for k in ("timestamp", "time", "date", "datetime") if k in cols), df.columns[0])
    t = df[tcol]
    if pd.api.types.is_numeric_dtype(t):
        ts = t.to_numpy(dtype=np.int64)
    else:
        dt = pd.to_datetime(t, utc=True)
        ts = ((dt - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64)
    out = pd.DataFrame({"ts": ts})
    for k in ("open", "high", "low", "close", "volume"):
        if k not in cols:
            raise SystemExit(f"{path}: no {k!r} column (columns: {', '.join(df.columns)})")
        out[k] = df[cols[k]].astype(float)
    out = out.sort_values("ts", kind="stable").drop_duplicates("ts").reset_index(drop=True)
    return out


def timeframe_ms(tf):
    try:
        return int(tf[:-1]) * TIMEFRAME_MS[tf[-1]]
    except (KeyError, ValueError):
        raise CellError(f"timeframe {tf!r}: expected e.g. 15m, 1h, 4h, 1d")


# ---- indicators (TA-Lib seeding: scripts/reference_indicators.py) ---------------------------------

def seeded(x, n, alpha):
    """EMA/Wilder average seeded with the mean of the first n defined values, at the n-th of them."""
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


def source(df, name):
    if name in ("open", "high", "low", "close", "volume"):
        return df[name]
    blends = {"hl2": ("high", "low"), "hlc3": ("high", "low", "close"), "ohlc4": ("open", "high", "low", "close")}
    if name not in blends:
        raise CellError(f"indicator source {name!r} is not one of open, high, low, close, volume, hl2, hlc3, ohlc4")
    cols = blends[name]
    return sum(df[c] for c in cols) / len(cols)


def rsi(x, n):
    d = x.diff()
    ag, al = seeded(d.clip(lower=0), n, 1.0 / n), seeded((-d).clip(lower=0), n, 1.0 / n)
    return pd.Series(np.where(ag + al == 0, 50.0, 100 * ag / (ag + al)), index=x.index).where(ag.notna())


def ema(x, n):
    return seeded(x, n, 2.0 / (n + 1))


INDICATORS = {
    # name: (defaults, output names after the main one, name parameters in order)
    "rsi": ({"period": 14, "source": "close"}, [], ["period"]),
    "macd": ({"fast_period": 12, "slow_period": 26, "signal_period": 9, "source": "close"},
             ["signal", "hist"], ["fast_period", "slow_period", "signal_period"]),
    "sma": ({"period": 20, "source": "close"}, [], ["period"]),
    "ema": ({"period": 20, "source": "close"}, [], ["period"]),
}


def indicator_output(df, name, p, sub):
    x = source(df, p["source"])
    if name == "rsi":
        return rsi(x, int(p["period"]))
    if name == "sma":
        return x.rolling(int(p["period"])).mean()
    if name == "ema":
        return ema(x, int(p["period"]))
    line = ema(x, int(p["fast_period"])) - ema(x, int(p["slow_period"]))
    if sub is None:
        return line
    signal = ema(line, int(p["signal_period"]))
    return signal if sub == "signal" else line - signal


def membership(x, kind, p):
    x = x.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "gaussian":
            out = np.exp(-((x - p[0]) ** 2) / (2 * p[1] ** 2))
        else:
            a, b, c, d = (p[0], p[1], p[1], p[2]) if kind == "triangular" else p
            out = np.where((x >= b) & (x <= c), 1.0,
                           np.where((x <= a) | (x >= d), 0.0,
                                    np.where(x < b, (x - a) / (b - a), (d - x) / (d - c))))
    out[np.isnan(x)] = np.nan
    return out


# ---- the strategy dict ---------------------------------------------------------------------------

def norm(name):
    return str(name).lower().replace("_", "").replace("-", "")


def plan(strategy, timeframe):
    """What a cell needs from its strategy dict, with the strategy file's defaults (docs/strategy.md)."""
    s = strategy
    tfs = ((s.get("training_data") or {}).get("timeframes") or {}).get("list") or [timeframe]
    if len(tfs) > 1:
        raise CellError(f"training_data.timeframes: {tfs} is multi-timeframe; this script does one timeframe")
    indicators = []
    for i, spec in enumerate(s.get("indicators") or []):
        name = norm(spec.get("name", ""))
        if name not in INDICATORS:
            raise CellError(f"indicators[{i}].name: {spec.get('name')!r} is not one of {', '.join(INDICATORS)}")
        defaults, subs, named = INDICATORS[name]
        p = {k: spec.get(k, v) for k, v in defaults.items()}
        out = f"{name}_" + "_".join(str(p[k]) for k in named)
        if p["source"] != "close":
            out += f"_{p['source']}"
        indicators.append({"name": name, "params": p, "subs": subs, "output": out, "id": spec.get("feature_id")})
    fuzzy = []
    for key, sets in (s.get("fuzzy_sets") or {}).items():
        base, _, sub = key.partition(".")
        hits = [d for d in indicators if d["id"] == base or d["output"] == base]
        hits = hits or [d for d in indicators if d["name"] == norm(base)]
        if len(hits) != 1:
            raise CellError(f"fuzzy_sets.{key}: names {len(hits)} declared indicators, needs exactly one")
        if sub and sub not in hits[0]["subs"]:
            raise CellError(f"fuzzy_sets.{key}: {hits[0]['name']} has no output {sub!r}")
        for set_name, spec in sets.items():
            if isinstance(spec, list):  # the short form is triangular
                kind, params = "triangular", spec
            else:
                kind, params = spec.get("type", "triangular"), spec["parameters"]
            if kind not in ("triangular", "trapezoidal", "gaussian"):
                raise CellError(f"fuzzy_sets.{key}.{set_name}.type: {kind!r} is not triangular, "
                                "trapezoidal or gaussian")
            fuzzy.append({"column": f"{key}_{set_name}", "indicator": hits[0], "sub": sub or None,
                          "kind": kind, "params": [float(v) for v in params]})
    model = s.get("model") or {}
    if model.get("type", "mlp") != "mlp":
        raise CellError(f"model.type: {model.get('type')!r} is not supported (only mlp)")
    arch = model.get("architecture") or {}
    tr = model.get("training") or {}
    for key in ("lr_schedule", "class_weights", "embedding_dim"):
        if tr.get(key) not in (None, "none", "constant"):
            raise CellError(f"model.training.{key}: not supported by this benchmark script")
    es = tr.get("early_stopping") or {}
    labels = (s.get("training") or {}).get("labels") or {}
    split = (s.get("training") or {}).get("data_split") or {}
    dec = s.get("decisions") or {}
    return {
        "fuzzy": fuzzy,
        "lookback": int((model.get("features") or {}).get("lookback_periods", 2)),
        "hidden": [int(h) for h in arch.get("hidden_layers", [50, 25])],
        "activation": arch.get("activation", "relu"),
        "dropout": float(arch.get("dropout", 0.2)),
        "lr": float(tr.get("learning_rate", 0.001)),
        "batch": max(1, int(tr.get("batch_size", 32))),
        "epochs": max(1, int(tr.get("epochs", 100))),
        "optimizer": str(tr.get("optimizer", "adam")).lower(),
        "weight_decay": float(tr.get("weight_decay", 0.0)),
        "momentum": float(tr.get("momentum", 0.0)),
        "seed": int(tr.get("seed", 42)),
        "patience": max(0, int(es.get("patience", 10))),
        "min_delta": float(es.get("min_delta", 0.0001)),
        "labels": labels.get("source", "zigzag"),
        "zigzag": float(labels.get("zigzag_threshold", 0.03)),
        "forward_periods": int(labels.get("forward_periods", 5)),
        "return_threshold": float(labels.get("return_threshold", 0.01)),
        "split": (float(split.get("train", 0.7)), float(split.get("validation", 0.15))),
        "threshold": float(dec.get("confidence_threshold", 0.6)),
        "aware": bool(dec.get("position_awareness", True)),
        "separation": max(0, int((dec.get("filters") or {}).get("min_signal_separation", 4))),
    }


# ---- features, labels, split ---------------------------------------------------------------------

def features(df, pl):
    """The float32 feature matrix (each membership column followed by its lags), one row per bar."""
    cache, cols = {}, {}
    for f in pl["fuzzy"]:
        d = f["indicator"]
        key = (d["output"], f["sub"])
        if key not in cache:
            cache[key] = indicator_output(df, d["name"], d["params"], f["sub"])
        m = pd.Series(membership(cache[key], f["kind"], f["params"]).astype(np.float32), index=df.index)
        cols[f["column"]] = m
        for k in range(1, pl["lookback"] + 1):
            cols[f"{f['column']}_lag_{k}"] = m.shift(k)
    return pd.DataFrame(cols, index=df.index)


def zigzag(close, threshold):
    """Segment labels: inside a rising swing BUY, falling SELL, the extremes HOLD; NaN outside."""
    pivots, hi, lo, direction, ext = [], 0, 0, 0, 0
    for i in range(1, len(close)):
        x = close[i]
        if not math.isfinite(x):
            continue
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


def forward_return(close, periods, threshold):
    c = pd.Series(close)
    r = (c.shift(-periods) / c - 1).to_numpy()
    return np.where(np.isnan(r), np.nan, np.where(r > threshold, BUY, np.where(r < -threshold, SELL, HOLD)))


def dataset(df, pl):
    f = features(df, pl)
    close = df.close.tolist()
    if pl["labels"] == "zigzag":
        y = zigzag(close, pl["zigzag"])
    else:
        y = forward_return(close, pl["forward_periods"], pl["return_threshold"])
    usable = f.notna().all(axis=1).to_numpy() & ~np.isnan(y)
    x, y = f.to_numpy(dtype=np.float32)[usable], y[usable].astype(np.int64)
    n = len(x)
    a = min(n, int(math.floor(n * pl["split"][0])))
    b = min(n, a + int(math.floor(n * pl["split"][1])))
    return [(torch.from_numpy(x[s]), torch.from_numpy(y[s])) for s in (slice(0, a), slice(a, b), slice(b, n))]


# ---- training ------------------------------------------------------------------------------------

ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
               "leaky_relu": torch.nn.LeakyReLU}


def build_model(width, pl):
    if pl["activation"] not in ACTIVATIONS:
        raise CellError(f"model.architecture.activation: {pl['activation']!r} is not one of {', '.join(ACTIVATIONS)}")
    layers = []
    for h in pl["hidden"]:
        layers += [torch.nn.Linear(width, h), ACTIVATIONS[pl["activation"]]()]
        if pl["dropout"] > 0:
            layers.append(torch.nn.Dropout(pl["dropout"]))
        width = h
    layers.append(torch.nn.Linear(width, 3))
    return torch.nn.Sequential(*layers)


def optimizer(model, pl):
    params, lr, wd, mom = model.parameters(), pl["lr"], pl["weight_decay"], pl["momentum"]
    if pl["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if pl["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd)
    if pl["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=mom, weight_decay=wd)
    raise CellError(f"model.training.optimizer: {pl['optimizer']!r} is not one of adam, sgd, rmsprop")


def evaluate(model, loss_fn, x, y):
    """Mean loss and accuracy, in chunks of 8,192 rows as the Rust trainer predicts."""
    model.eval()
    n, loss_sum, preds = len(x), 0.0, []
    with torch.no_grad():
        for s in range(0, n, 8192):
            logits = model(x[s:s + 8192])
            loss_sum += loss_fn(logits, y[s:s + 8192]).item() * len(logits)
            preds.append(logits.argmax(-1))
    pred = torch.cat(preds) if preds else torch.empty(0, dtype=torch.int64)
    return loss_sum / max(n, 1), (pred == y).float().mean().item() if n else 0.0


def train(parts, pl):
    (xt, yt), (xv, yv), (xs, ys) = parts
    if len(xt) == 0 or len(xv) == 0:
        raise CellError(f"too few usable rows in the train window: {len(xt)} train, {len(xv)} validation")
    torch.manual_seed(pl["seed"])
    model = build_model(xt.shape[1], pl)
    opt = optimizer(model, pl)
    loss_fn = torch.nn.CrossEntropyLoss()
    n, batch = len(xt), pl["batch"]
    best, since_best, epochs_run = None, 0, 0
    for epoch in range(1, pl["epochs"] + 1):
        model.train()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = xt[idx], yt[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(-1) == yb).sum().item()
        epochs_run = epoch
        val_loss, _ = evaluate(model, loss_fn, xv, yv)
        if best is None or val_loss < best[0] - pl["min_delta"]:
            best, since_best = (val_loss, epoch, copy.deepcopy(model.state_dict())), 0
        else:
            since_best += 1
        if pl["patience"] > 0 and since_best >= pl["patience"]:
            break
    model.load_state_dict(best[2])
    test_loss, test_acc = evaluate(model, loss_fn, xs, ys) if len(xs) else (0.0, 0.0)
    evaluate(model, loss_fn, xv, yv)
    model.eval()
    return model, {"epochs_run": epochs_run, "best_epoch": best[1], "val_loss": best[0],
                   "stopped_early": epochs_run < pl["epochs"], "test_accuracy": test_acc, "test_loss": test_loss}


def probabilities(model, f):
    """Softmax per bar, NaN where a feature is undefined (the engine's HOLD), batches of 4,096."""
    x = f.to_numpy(dtype=np.float32)
    defined = ~np.isnan(x).any(axis=1)
    rows = np.flatnonzero(defined)
    probs = np.full((len(x), 3), np.nan, dtype=np.float32)
    with torch.no_grad():
        for s in range(0, len(rows), 4096):
            r = rows[s:s + 4096]
            probs[r] = torch.softmax(model(torch.from_numpy(x[r])), dim=-1).numpy()
    return probs


# ---- backtest (backtest/src/engine.rs's rules, long-only; scripts/bench_backtest_python.py) ------

def decide(p0, p1, p2, position, since, pl):
    if math.isnan(p0) or math.isnan(p1) or math.isnan(p2):
        return HOLD
    best, top = 0, p0
    if p1 > top:
        best, top = 1, p1
    if p2 > top:
        best, top = 2, p2
    if top < pl["threshold"] or best == HOLD:
        return HOLD
    changes = (best == BUY and position == FLAT) or (best == SELL and position == LONG)
    if not changes:
        return HOLD if pl["aware"] else best
    if since is not None and since < pl["separation"]:
        return HOLD
    return best


def backtest(opens, closes, probs, capital, pl):
    n = len(closes)
    cash, side, qty, entry_price, entry_fee = capital, FLAT, 0.0, 0.0, 0.0
    pnls, equity = [], []
    pending, last_acted = None, None
    for t in range(n):
        if pending is not None:
            action, pending = pending, None
            sizing = equity[-1] if equity else capital
            if side == LONG:  # a SELL closes the long
                price = opens[t] * (1.0 - SLIPPAGE)
                fee = COMMISSION * price * qty
                cash += qty * price - fee
                pnls.append(qty * (price - entry_price) - entry_fee - fee)
                side, qty = FLAT, 0.0
            elif action == BUY and sizing > 0.0:
                price = opens[t] * (1.0 + SLIPPAGE)
                qty = FRACTION * sizing / price
                entry_fee = COMMISSION * price * qty
                cash -= qty * price + entry_fee
                side, entry_price = LONG, price
        position = side
        equity.append(cash + qty * closes[t] if side == LONG else cash)
        since = None if last_acted is None else t - last_acted
        p = probs[t]
        action = decide(float(p[0]), float(p[1]), float(p[2]), position, since, pl)
        changes = (action == BUY and position == FLAT) or (action == SELL and position == LONG)
        if t + 1 < n and changes:
            pending, last_acted = action, t
    if side == LONG:
        price = closes[-1] * (1.0 - SLIPPAGE)
        fee = COMMISSION * price * qty
        cash += qty * price - fee
        pnls.append(qty * (price - entry_price) - entry_fee - fee)
        equity[-1] = cash
    return np.array(equity), pnls


def periods_per_year(ts, bar_ms):
    span = float(ts[-1] - ts[0])
    return (len(ts) - 1) / (span / YEAR_MS) if span >= 30 * DAY_MS else YEAR_MS / bar_ms


def curve(start, equity, ppy):
    n = len(equity)
    total = equity[-1] / start - 1.0
    annual = 0.0 if n < 2 else (-1.0 if 1 + total <= 0 else (1 + total) ** (ppy / (n - 1)) - 1)
    prev = equity[:-1]
    r = np.where(prev > 0, equity[1:] / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)
    std = r.std(ddof=1) if len(r) >= 2 else 0.0
    sharpe = r.mean() / std * math.sqrt(ppy) if std > 0 else 0.0
    peak = np.maximum.accumulate(np.concatenate([[start], equity]))[1:]
    dd = float(np.clip((peak - equity) / peak, 0.0, 1.0).max()) if n else 0.0
    finite = lambda v: float(v) if math.isfinite(v) else 0.0  # noqa: E731
    return finite(total), finite(annual), finite(sharpe), dd


def run_backtest(bars, probs, capital, bar_ms, pl):
    opens, closes = bars.open.to_numpy(), bars.close.to_numpy()
    equity, pnls = backtest(opens.tolist(), closes.tolist(), probs, capital, pl)
    ppy = periods_per_year(bars.ts.to_numpy(), bar_ms)
    total, annual, sharpe, dd = curve(capital, equity, ppy)
    buy = opens[0] * (1 + SLIPPAGE)
    q = capital / (buy * (1 + COMMISSION))
    cash = capital - q * buy - COMMISSION * buy * q
    hold = cash + q * closes
    sell = closes[-1] * (1 - SLIPPAGE)
    hold[-1] = cash + q * sell - COMMISSION * sell * q
    bh_total = curve(capital, hold, ppy)[0]
    wins = sum(1 for p in pnls if p > 0)
    calmar = annual / dd if dd > 0 and math.isfinite(annual / dd) else 0.0
    return {"total_return": total, "sharpe": sharpe, "calmar": calmar, "max_drawdown": dd, "trades": len(pnls),
            "win_rate": wins / len(pnls) if pnls else 0.0, "buy_hold_return": bh_total, "bars": len(closes)}


# ---- one cell, and the loop ----------------------------------------------------------------------

def run_cell(cell, df, capital):
    pl = plan(cell["strategy"], cell["timeframe"])
    bar_ms = timeframe_ms(cell["timeframe"])
    (t0, t1), (s0, s1) = cell["train"], cell["test"]
    train_bars = df[(df.ts >= t0) & (df.ts < t1)].reset_index(drop=True)
    parts = dataset(train_bars, pl)
    model, fit = train(parts, pl)
    upto = df[df.ts < s1].reset_index(drop=True)
    probs = probabilities(model, features(upto, pl))
    test = (upto.ts >= s0).to_numpy()
    if not test.any():
        raise CellError(f"no bars in the test window {cell['test']}")
    out = run_backtest(upto[test].reset_index(drop=True), probs[test], capital, bar_ms, pl)
    out.update(fit)
    out["rows"] = [len(p[0]) for p in parts]
    return out


def iso(ms):
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M")


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-") or ("--json" in args and args.index("--json") + 1 >= len(args)):
        raise SystemExit("usage: bench_sweep_python.py CELLS.json [--json OUT]")
    json_out = args[args.index("--json") + 1] if "--json" in args else None
    with open(args[0]) as fh:
        spec = json.load(fh)
    cells, capital = spec["cells"], float(spec.get("capital", 100_000))
    bars = {path: read_bars(path) for path in dict.fromkeys(c["bars_csv"] for c in cells)}
    torch.set_num_threads(1)
    # torch.optim's first use imports lazily for ~1.5 s; a long-lived daemon has paid its equivalent.
    w = torch.nn.Parameter(torch.zeros(1))
    warm = torch.optim.Adam([w])
    w.sum().backward()
    warm.step()

    results = []
    start = time.perf_counter()
    for cell in cells:
        t = time.perf_counter()
        try:
            r = run_cell(cell, bars[cell["bars_csv"]], capital)
        except CellError as e:
            r = {"error": str(e)}
        r = {"index": cell["index"], "symbol": cell["symbol"], "timeframe": cell["timeframe"],
             "train": cell["train"], "test": cell["test"], **r, "secs": time.perf_counter() - t}
        results.append(r)
        head = (f"cell index={r['index']} symbol={r['symbol']} timeframe={r['timeframe']} "
                f"train={iso(r['train'][0])}/{iso(r['train'][1])} test={iso(r['test'][0])}/{iso(r['test'][1])}")
        if "error" in r:
            print(f"{head} error={json.dumps(r['error'])} secs={r['secs']:.3f}", flush=True)
        else:
            print(f"{head} rows={'/'.join(map(str, r['rows']))} epochs={r['epochs_run']} best_epoch={r['best_epoch']} "
                  f"test_accuracy={r['test_accuracy']:.3f} bars={r['bars']} total_return={r['total_return']:.6f} "
                  f"sharpe={r['sharpe']:.3f} max_drawdown={r['max_drawdown']:.6f} trades={r['trades']} "
                  f"buy_hold_return={r['buy_hold_return']:.6f} secs={r['secs']:.3f}", flush=True)
    total = time.perf_counter() - start
    n = len(cells)
    per = total / n if n else 0.0
    failed = sum(1 for r in results if "error" in r)
    print(f"python cells={n} total_secs={total:.3f} per_cell_secs={per:.3f}"
          + (f" failed={failed}" if failed else ""), flush=True)
    if json_out:
        with open(json_out, "w") as fh:
            json.dump({"cells": results, "cells_count": n, "failed": failed, "total_secs": total,
                       "per_cell_secs": per, "torch": torch.__version__, "pandas": pd.__version__}, fh, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
