#!/usr/bin/env python3
"""Reference indicator values computed with pandas, for the Rust indicators' fixture test.

Reads the IB sample bars in ../shared/data/ktrdr-ib-samples/ (relative to the repository root; they
are never copied into the repository) and writes, for each sample,
strategy/fixtures/<SAMPLE>_reference.csv: the bar's open time in Unix ms, then one column per indicator
output, named as the Rust registry names them (rsi_14, macd_12_26_9.signal, ...). Empty cells are
undefined (warm-up). strategy/fixtures/reference_cases.txt lists the indicators and parameters used.

Conventions, the same as strategy/src/series.rs (TA-Lib's, written out in pandas):
- EMA (alpha = 2/(n+1)) and Wilder smoothing (alpha = 1/n) are seeded with the simple mean of the first
  n defined inputs, placed at the n-th of them, then y = (1 - alpha) * y_prev + alpha * x.
- The true range needs a previous close, so it is undefined on the first bar; ATR, ADX, SuperTrend
  and Keltner's bands seed on bars 1..=n.
- Standard deviation is the population one (ddof = 0), two-pass per window.
- Volume that is not a positive number counts as none; a volume window without any is undefined.

Usage: scripts/reference_indicators.py        (creates .venv-ref/ with pandas on first run)
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-ref")
VPY = os.path.join(VENV, "bin", "python")


def ensure_venv():
    """Re-runs this script under .venv-ref (created with pandas from PyPI) unless already there."""
    if os.path.abspath(sys.prefix) == VENV:
        return
    if not os.path.exists(VPY):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([VPY, "-m", "pip", "install", "-q", "pandas", "numpy"])
    os.execv(VPY, [VPY] + sys.argv)


ensure_venv()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SAMPLES = ["EURUSD_1h", "AAPL_1h"]
# Exact per-window statistics for the fixtures; the benchmark turns this off for pandas' fast path.
EXACT_WINDOWS = True
DATA = os.path.join(ROOT, "..", "shared", "data", "ktrdr-ib-samples")
FIXTURES = os.path.join(ROOT, "strategy", "fixtures")

# (registry name, parameters as the Rust side spells them). Defaults first, then variants.
CASES = [
    ("sma", {}), ("sma", {"period": 10, "source": "hl2"}),
    ("ema", {}), ("ema", {"period": 50, "source": "hlc3"}),
    ("rsi", {}), ("rsi", {"period": 7}),
    ("macd", {}), ("macd", {"fast_period": 5, "slow_period": 35, "signal_period": 5}),
    ("bbands", {}), ("bbands", {"period": 10, "multiplier": 1.5}),
    ("atr", {}),
    ("stochastic", {}), ("stochastic", {"k_period": 5, "d_period": 3, "smooth_k": 1}),
    ("williams_r", {}),
    ("cci", {}),
    ("roc", {}),
    ("momentum", {}),
    ("obv", {}),
    ("mfi", {}),
    ("vwap", {}),
    ("adx", {}),
    ("aroon", {}),
    ("donchian", {}),
    ("keltner", {}),
    ("psar", {}),
    ("supertrend", {}),
    ("cmf", {}),
    ("ichimoku", {}),
]

DEFAULTS = {
    "sma": [("period", 20)], "ema": [("period", 20)], "rsi": [("period", 14)],
    "macd": [("fast_period", 12), ("slow_period", 26), ("signal_period", 9)],
    "bbands": [("period", 20), ("multiplier", 2.0)], "atr": [("period", 14)],
    "stochastic": [("k_period", 14), ("d_period", 3), ("smooth_k", 3)],
    "williams_r": [("period", 14)], "cci": [("period", 20)], "roc": [("period", 10)],
    "momentum": [("period", 10)], "obv": [], "mfi": [("period", 14)], "vwap": [("period", 20)],
    "adx": [("period", 14)], "aroon": [("period", 25)], "donchian": [("period", 20)],
    "keltner": [("period", 20), ("atr_period", 10), ("multiplier", 2.0)],
    "psar": [("step", 0.02), ("max_step", 0.2)], "supertrend": [("period", 10), ("multiplier", 3.0)],
    "cmf": [("period", 20)],
    "ichimoku": [("tenkan_period", 9), ("kijun_period", 26), ("senkou_b_period", 52), ("displacement", 26)],
}
TAKES_SOURCE = {"sma", "ema", "rsi", "macd", "bbands", "roc", "momentum"}


def fmt_num(v):
    """Rust's `{}` for f64: 14.0 -> "14", 0.02 -> "0.02"."""
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def base_name(name, params):
    vals = [params.get(k, d) for k, d in DEFAULTS[name]]
    s = "_".join([name] + [fmt_num(v) for v in vals])
    src = params.get("source", "close")
    if name in TAKES_SOURCE and src != "close":
        s += "_" + src
    return s


# --- primitives ------------------------------------------------------------------------------------

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


def ema(x, n):
    return seeded(x, n, 2.0 / (n + 1))


def wilder(x, n):
    return seeded(x, n, 1.0 / n)


def true_range(df):
    pc = df.close.shift(1)
    tr = pd.concat([df.high - df.low, (df.high - pc).abs(), (df.low - pc).abs()], axis=1).max(axis=1)
    tr.iloc[0] = np.nan
    return tr


def source(df, name):
    return {
        "open": df.open, "high": df.high, "low": df.low, "close": df.close, "volume": df.volume,
        "hl2": (df.high + df.low) / 2, "hlc3": (df.high + df.low + df.close) / 3,
        "ohlc4": (df.open + df.high + df.low + df.close) / 4,
    }[name]


def clean_volume(df):
    v = df.volume
    return v.where(np.isfinite(v) & (v > 0), 0.0)


def volume_window_count(df, n):
    return (clean_volume(df) > 0).astype(float).rolling(n).sum()


def where(cond, a, b):
    """Elementwise a if cond else b, NaN where b would be NaN through arithmetic."""
    return pd.Series(np.where(cond, a, b), index=cond.index)


# --- indicators: each returns the outputs in the registry's order ---------------------------------

def compute(df, name, p):
    g = lambda k: p.get(k, dict(DEFAULTS[name])[k])  # noqa: E731
    x = source(df, p.get("source", "close"))
    h, l, c = df.high, df.low, df.close
    if name == "sma":
        return [x.rolling(int(g("period"))).mean()]
    if name == "ema":
        return [ema(x, int(g("period")))]
    if name == "rsi":
        n = int(g("period"))
        d = x.diff()
        ag, al = wilder(d.clip(lower=0), n), wilder((-d).clip(lower=0), n)
        return [where(ag + al == 0, 50.0, 100 * ag / (ag + al)).where(ag.notna())]
    if name == "macd":
        line = ema(x, int(g("fast_period"))) - ema(x, int(g("slow_period")))
        sig = ema(line, int(g("signal_period")))
        return [line, sig, line - sig]
    if name == "bbands":
        n, k = int(g("period")), float(g("multiplier"))
        if EXACT_WINDOWS:
            # Two passes per window (numpy), as the Rust side does: pandas' online rolling variance
            # drifts by ~1e-12 on EURUSD, which shows as 1e-7 relative error in %B near the band.
            mid = x.rolling(n).apply(np.mean, raw=True)
            sd = x.rolling(n).apply(lambda w: np.std(w, ddof=0), raw=True)
        else:
            mid, sd = x.rolling(n).mean(), x.rolling(n).std(ddof=0)
        up, lo = mid + k * sd, mid - k * sd
        pb = where(up - lo == 0, 0.5, (x - lo) / (up - lo))
        return [mid, up, lo, (up - lo) / mid, pb]
    if name == "atr":
        return [wilder(true_range(df), int(g("period")))]
    if name == "stochastic":
        k = int(g("k_period"))
        hh, ll = h.rolling(k).max(), l.rolling(k).min()
        raw = where(hh - ll == 0, 50.0, 100 * (c - ll) / (hh - ll)).where(hh.notna())
        kk = raw.rolling(int(g("smooth_k"))).mean()
        return [kk, kk.rolling(int(g("d_period"))).mean()]
    if name == "williams_r":
        n = int(g("period"))
        hh, ll = h.rolling(n).max(), l.rolling(n).min()
        return [where(hh - ll == 0, -50.0, -100 * (hh - c) / (hh - ll)).where(hh.notna())]
    if name == "cci":
        n = int(g("period"))
        tp = (h + l + c) / 3
        m = tp.rolling(n).mean()
        md = tp.rolling(n).apply(lambda w: np.abs(w - w.mean()).mean(), raw=True)
        return [where(md == 0, 0.0, (tp - m) / (0.015 * md)).where(m.notna())]
    if name == "roc":
        past = x.shift(int(g("period")))
        return [where(past == 0, np.nan, 100 * (x - past) / past)]
    if name == "momentum":
        return [x - x.shift(int(g("period")))]
    if name == "obv":
        sign = np.sign(c.diff()).fillna(0.0)
        seen = (clean_volume(df) > 0).cummax()
        return [(sign * clean_volume(df)).cumsum().where(seen)]
    if name == "mfi":
        n = int(g("period"))
        tp = (h + l + c) / 3
        flow = tp * clean_volume(df)
        pos = flow.where(tp > tp.shift(1), 0.0)
        neg = flow.where(tp < tp.shift(1), 0.0)
        pos.iloc[0] = neg.iloc[0] = np.nan
        ps, ns = pos.rolling(n).sum(), neg.rolling(n).sum()
        mfi = where(ps + ns == 0, 50.0, 100 * ps / (ps + ns)).where(ps.notna())
        return [mfi.where(volume_window_count(df, n) > 0)]
    if name == "vwap":
        n = int(g("period"))
        tp = (h + l + c) / 3
        vc = clean_volume(df)
        out = (tp * vc).rolling(n).sum() / vc.rolling(n).sum()
        return [out.where(volume_window_count(df, n) > 0)]
    if name == "cmf":
        n = int(g("period"))
        mult = where(h == l, 0.0, ((c - l) - (h - c)) / (h - l))
        vc = clean_volume(df)
        out = (mult * vc).rolling(n).sum() / vc.rolling(n).sum()
        return [out.where(volume_window_count(df, n) > 0)]
    if name == "adx":
        n = int(g("period"))
        up, down = h.diff(), -l.diff()
        pdm = where((up > down) & (up > 0), up, 0.0)
        mdm = where((down > up) & (down > 0), down, 0.0)
        pdm.iloc[0] = mdm.iloc[0] = np.nan
        st = wilder(true_range(df), n)
        pdi = where(st == 0, 0.0, 100 * wilder(pdm, n) / st)
        mdi = where(st == 0, 0.0, 100 * wilder(mdm, n) / st)
        dx = where(pdi + mdi == 0, 0.0, 100 * (pdi - mdi).abs() / (pdi + mdi)).where(pdi.notna())
        return [wilder(dx, n), pdi, mdi]
    if name == "aroon":
        n = int(g("period"))
        up = h.rolling(n + 1).apply(lambda w: 100.0 * (n - np.argmax(w[::-1])) / n, raw=True)
        down = l.rolling(n + 1).apply(lambda w: 100.0 * (n - np.argmin(w[::-1])) / n, raw=True)
        return [up - down, up, down]
    if name == "donchian":
        n = int(g("period"))
        hh, ll = h.rolling(n).max(), l.rolling(n).min()
        return [(hh + ll) / 2, hh, ll]
    if name == "keltner":
        mid = ema(c, int(g("period")))
        atr = wilder(true_range(df), int(g("atr_period")))
        k = float(g("multiplier"))
        return [mid, mid + k * atr, mid - k * atr]
    if name == "psar":
        return [psar(h.to_numpy(), l.to_numpy(), c.to_numpy(), float(g("step")), float(g("max_step")), df.index)]
    if name == "supertrend":
        return supertrend(df, int(g("period")), float(g("multiplier")))
    if name == "ichimoku":
        mid = lambda n: (h.rolling(n).max() + l.rolling(n).min()) / 2  # noqa: E731
        tenkan, kijun = mid(int(g("tenkan_period"))), mid(int(g("kijun_period")))
        disp = int(g("displacement"))
        return [tenkan, kijun, ((tenkan + kijun) / 2).shift(disp), mid(int(g("senkou_b_period"))).shift(disp)]
    raise ValueError(name)


def psar(h, l, c, step, max_step, index):
    out = np.full(len(c), np.nan)
    if len(c) < 2:
        return pd.Series(out, index=index)
    up = c[1] >= c[0]
    sar, ep, af = (l[0], h[0], step) if up else (h[0], l[0], step)
    for i in range(1, len(c)):
        sar = sar + af * (ep - sar)
        if up:
            sar = min(sar, l[i - 1], l[i - 2]) if i >= 2 else min(sar, l[i - 1])
            if l[i] < sar:
                up, sar, ep, af = False, ep, l[i], step
            elif h[i] > ep:
                ep, af = h[i], min(af + step, max_step)
        else:
            sar = max(sar, h[i - 1], h[i - 2]) if i >= 2 else max(sar, h[i - 1])
            if h[i] > sar:
                up, sar, ep, af = True, ep, h[i], step
            elif l[i] < ep:
                ep, af = l[i], min(af + step, max_step)
        out[i] = sar
    return pd.Series(out, index=index)


def supertrend(df, n, m):
    h, l, c = df.high.to_numpy(), df.low.to_numpy(), df.close.to_numpy()
    atr = wilder(true_range(df), n).to_numpy()
    line, direction = np.full(len(c), np.nan), np.full(len(c), np.nan)
    state = None
    for i in range(len(c)):
        if np.isnan(atr[i]):
            continue
        mid = (h[i] + l[i]) / 2
        bu, bl = mid + m * atr[i], mid - m * atr[i]
        if state is None:
            fu, fl, d = bu, bl, 1.0
        else:
            pu, pl, pd_ = state
            fu = bu if (bu < pu or c[i - 1] > pu) else pu
            fl = bl if (bl > pl or c[i - 1] < pl) else pl
            d = 1.0 if c[i] > pu else (-1.0 if c[i] < pl else pd_)
        state = (fu, fl, d)
        line[i] = fl if d > 0 else fu
        direction[i] = d
    return [pd.Series(line, index=df.index), pd.Series(direction, index=df.index)]


OUTPUTS = {
    "macd": ["signal", "hist"], "bbands": ["upper", "lower", "width", "percent_b"],
    "stochastic": ["d"], "adx": ["plus_di", "minus_di"], "aroon": ["up", "down"],
    "donchian": ["upper", "lower"], "keltner": ["upper", "lower"], "supertrend": ["direction"],
    "ichimoku": ["kijun", "senkou_a", "senkou_b"],
}


def load_bars(sample):
    path = os.path.join(DATA, sample + ".csv")
    if not os.path.exists(path):
        sys.exit(f"missing sample bars: {path} (the shared data directory must sit beside the repository)")
    df = pd.read_csv(path)
    ts = pd.to_datetime(df.timestamp, utc=True)
    df.index = (ts - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(milliseconds=1)
    df.index.name = "ts"
    return df[["open", "high", "low", "close", "volume"]].astype(float)


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, "reference_cases.txt"), "w") as f:
        f.write("# Indicators in the reference fixtures: name, then key=value parameters (written by\n")
        f.write("# scripts/reference_indicators.py; regenerate rather than edit).\n")
        for name, p in CASES:
            f.write(" ".join([name] + [f"{k}={v}" for k, v in p.items()]) + "\n")
    for sample in SAMPLES:
        df = load_bars(sample)
        cols = {}
        for name, p in CASES:
            base = base_name(name, p)
            names = [base] + [f"{base}.{o}" for o in OUTPUTS.get(name, [])]
            outs = compute(df, name, p)
            assert len(outs) == len(names), name
            for n, s in zip(names, outs):
                cols[n] = s.astype(float)
        out = pd.DataFrame(cols, index=df.index)
        dest = os.path.join(FIXTURES, f"{sample}_reference.csv")
        out.to_csv(dest, float_format="%.17g", na_rep="")
        print(f"wrote {dest}: {len(out)} rows, {len(out.columns)} columns")


if __name__ == "__main__":
    main()
