#!/usr/bin/env python3
"""The backtest benchmark's Python side: the rules of backtest/src/engine.rs (docs/backtest.md,
"Engine") as a plain Python bar loop, the way a hand-written backtester in the predecessor's language
would do it: decision per bar (NaN row, argmax, threshold, position awareness, minimum separation),
fills at the next bar's open with slippage and commission, reversals when shorting is allowed, equity
marked at each close, an open position closed at the last close. Metrics and buy-and-hold are not
computed here (the Rust side's timing includes them).

The arithmetic is written in the same order as the Rust code, so both end equities agree to the last
bits. Reading the CSV is not timed.

Prints one JSON line: {"seconds": best of --runs, "end_equity": ..., "trades": ...}.
Usage: bench_backtest_python.py BARS.csv [--runs N] [--capital X] [--commission X] [--slippage X]
       [--fraction X] [--threshold X] [--separation N] [--short 0|1] [--aware 0|1]
"""

import csv
import json
import math
import sys
import time

BUY, HOLD, SELL = 0, 1, 2
FLAT, LONG, SHORT = 0, 1, -1


def option(name, default, kind):
    flag = "--" + name
    return kind(sys.argv[sys.argv.index(flag) + 1]) if flag in sys.argv else default


def changes_position(action, position, allow_short):
    if action == HOLD or (action == BUY and position == LONG) or (action == SELL and position == SHORT):
        return False
    if action == SELL and position == FLAT:
        return allow_short
    return True


def decide(row, position, since, cfg):
    p0, p1, p2 = row
    if math.isnan(p0) or math.isnan(p1) or math.isnan(p2):
        return HOLD
    best, top = 0, p0
    if p1 > top:
        best, top = 1, p1
    if p2 > top:
        best, top = 2, p2
    if top < cfg["threshold"] or best == HOLD:
        return HOLD
    if not changes_position(best, position, cfg["short"]):
        return HOLD if cfg["aware"] else best
    if since is not None and since < cfg["separation"]:
        return HOLD
    return best


def backtest(opens, closes, probs, cfg):
    commission, slippage, fraction = cfg["commission"], cfg["slippage"], cfg["fraction"]
    allow_short = cfg["short"]
    n = len(closes)
    cash = cfg["capital"]
    side, qty = FLAT, 0.0
    entry_price = entry_commission = 0.0
    trades = 0
    pending = None
    last_acted = None
    equity = []

    def close(reference):
        nonlocal cash, side, qty, trades
        if side == LONG:
            price = reference * (1.0 - slippage)
            fee = commission * price * qty
            cash += qty * price - fee
        else:
            price = reference * (1.0 + slippage)
            fee = commission * price * qty
            cash -= qty * price + fee
        trades += 1
        side, qty = FLAT, 0.0

    def enter(new_side, reference, sizing):
        nonlocal cash, side, qty, entry_price, entry_commission
        if sizing <= 0.0:
            return
        price = reference * (1.0 + slippage) if new_side == LONG else reference * (1.0 - slippage)
        quantity = fraction * sizing / price
        fee = commission * price * quantity
        if new_side == LONG:
            cash -= quantity * price + fee
        else:
            cash += quantity * price - fee
        side, qty, entry_price, entry_commission = new_side, quantity, price, fee

    for t in range(n):
        if pending is not None:
            action, pending = pending, None
            sizing = equity[-1] if equity else cfg["capital"]
            if action == BUY and side in (FLAT, SHORT):
                target = LONG
            elif action == SELL and side in (FLAT, LONG) and allow_short:
                target = SHORT
            else:
                target = FLAT
            if side != FLAT:
                close(opens[t])
            if target != FLAT:
                enter(target, opens[t], sizing)
        position = side
        if side == LONG:
            equity.append(cash + qty * closes[t])
        elif side == SHORT:
            equity.append(cash - qty * closes[t])
        else:
            equity.append(cash)
        since = None if last_acted is None else t - last_acted
        action = decide(probs[t], position, since, cfg)
        if t + 1 < n and changes_position(action, position, allow_short):
            pending = action
            last_acted = t
    if side != FLAT:
        close(closes[-1])
        equity[-1] = cash
    return equity[-1], trades


def main():
    path = sys.argv[1]
    cfg = {
        "capital": option("capital", 100_000.0, float),
        "commission": option("commission", 0.001, float),
        "slippage": option("slippage", 0.0005, float),
        "fraction": option("fraction", 0.25, float),
        "threshold": option("threshold", 0.6, float),
        "separation": option("separation", 4, int),
        "short": option("short", 0, int) == 1,
        "aware": option("aware", 1, int) == 1,
    }
    runs = option("runs", 3, int)
    opens, closes, probs = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            opens.append(float(row["open"]))
            closes.append(float(row["close"]))
            probs.append((float(row["p_buy"]), float(row["p_hold"]), float(row["p_sell"])))
    best = float("inf")
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = backtest(opens, closes, probs, cfg)
        best = min(best, time.perf_counter() - t)
    end_equity, trades = result
    print(json.dumps({"seconds": best, "end_equity": end_equity, "trades": trades}))


if __name__ == "__main__":
    main()
