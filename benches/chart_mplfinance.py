"""The baseline of benches/chart.sh: matplotlib/mplfinance drawing the chart ktrdr draws, from the
same CSV: candles with volume, SMA(20) and EMA(50) over the price, RSI(14) in a pane of its own,
saved as a PNG of the same size. Prints milliseconds (median of RUNS) of:
  indicators  the three indicators with pandas (the same formulas as ktrdr-strategy)
  plot        mpf.plot(...) + savefig: what the figure costs to draw
The CSV read is not timed (ktrdr's figure is of a series already in the daemon's cache).

    python chart_mplfinance.py FILE.csv OUT.png RUNS
"""
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")
import mplfinance as mpf  # noqa: E402
import pandas as pd  # noqa: E402


def rsi(close, period=14):
    d = close.diff()
    up = d.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    down = (-d.clip(upper=0)).ewm(alpha=1 / period, adjust=False).mean()
    return 100 - 100 / (1 + up / down)


def main():
    path, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    df = pd.read_csv(path)
    df.index = pd.DatetimeIndex(pd.to_datetime(df["timestamp"], utc=True).dt.tz_localize(None))
    df = df.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    ind, plot = [], []
    for _ in range(runs):
        t = time.perf_counter()
        sma = df["Close"].rolling(20).mean()
        ema = df["Close"].ewm(span=50, adjust=False).mean()
        r = rsi(df["Close"])
        ind.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        add = [
            mpf.make_addplot(sma, color="tab:blue", width=0.8),
            mpf.make_addplot(ema, color="tab:orange", width=0.8),
            mpf.make_addplot(r, panel=2, color="tab:blue", ylabel="rsi_14"),
        ]
        mpf.plot(
            df,
            type="candle",
            volume=True,
            addplot=add,
            warn_too_much_data=len(df) + 1,
            figsize=(14, 8.6),
            savefig=dict(fname=out, dpi=100),
        )
        plot.append((time.perf_counter() - t) * 1000)
    print(f"{statistics.median(ind):.1f} {statistics.median(plot):.1f}")


if __name__ == "__main__":
    main()
