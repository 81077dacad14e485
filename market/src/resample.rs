//! Aggregation to a coarser timeframe.

use crate::bars::{Bar, Bars};
use crate::timeframe::Timeframe;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot resample {from} to {to}: the target must be coarser and a whole multiple")]
    Incompatible { from: Timeframe, to: Timeframe },
    #[error("the series is not sorted with unique timestamps; repair it first")]
    NotNormal,
}

/// Aggregates a normal series of `from` bars into `to` bars: the first open, the highest high, the
/// lowest low, the last close and the summed volume of each bucket (see
/// [`Timeframe::bucket_start`] for alignment). Each output bar is stamped with its bucket's open
/// time. A bucket with any input bar yields a bar, so the last one may be partial; buckets with no
/// input (a weekend, a closed session) yield none rather than a made-up flat bar.
pub fn resample(bars: &Bars, from: Timeframe, to: Timeframe) -> Result<Bars, ResampleError> {
    if !to.can_resample_from(from) {
        return Err(ResampleError::Incompatible { from, to });
    }
    if !bars.is_normal() {
        return Err(ResampleError::NotNormal);
    }
    let mut out = Bars::with_capacity(
        bars.len() / (to.duration_ms() / from.duration_ms()).max(1) as usize + 1,
    );
    let mut cur: Option<Bar> = None;
    for b in bars.iter() {
        let bucket = to.bucket_start(b.ts);
        match cur.as_mut() {
            Some(c) if c.ts == bucket => {
                c.high = c.high.max(b.high);
                c.low = c.low.min(b.low);
                c.close = b.close;
                c.volume += b.volume;
            }
            _ => {
                if let Some(done) = cur.take() {
                    out.push(done);
                }
                cur = Some(Bar { ts: bucket, ..b });
            }
        }
    }
    if let Some(done) = cur {
        out.push(done);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, days_from_civil};
    use proptest::prelude::*;

    #[test]
    fn ohlcv_aggregation() {
        let t0 = days_from_civil(2025, 1, 6) * DAY_MS; // a Monday
        let bars = Bars::from_bars([
            Bar {
                ts: t0,
                open: 10.0,
                high: 11.0,
                low: 9.0,
                close: 10.5,
                volume: 100.0,
            },
            Bar {
                ts: t0 + 5 * MINUTE_MS,
                open: 10.5,
                high: 13.0,
                low: 10.0,
                close: 12.0,
                volume: 50.0,
            },
            Bar {
                ts: t0 + 55 * MINUTE_MS,
                open: 12.0,
                high: 12.5,
                low: 8.0,
                close: 8.5,
                volume: 25.0,
            },
            Bar {
                ts: t0 + HOUR_MS,
                open: 8.5,
                high: 9.0,
                low: 8.0,
                close: 8.8,
                volume: 1.0,
            },
        ]);
        let h = resample(&bars, Timeframe::M5, Timeframe::H1).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            h.get(0).unwrap(),
            Bar {
                ts: t0,
                open: 10.0,
                high: 13.0,
                low: 8.0,
                close: 8.5,
                volume: 175.0
            }
        );
        assert_eq!(h.get(1).unwrap().ts, t0 + HOUR_MS);
    }

    #[test]
    fn weekly_buckets_start_on_monday() {
        let sunday = days_from_civil(2025, 1, 12) * DAY_MS;
        let monday = days_from_civil(2025, 1, 13) * DAY_MS;
        let bars = Bars::from_bars([
            Bar {
                ts: sunday,
                open: 1.0,
                high: 1.0,
                low: 1.0,
                close: 1.0,
                volume: 1.0,
            },
            Bar {
                ts: monday,
                open: 2.0,
                high: 2.0,
                low: 2.0,
                close: 2.0,
                volume: 1.0,
            },
        ]);
        let w = resample(&bars, Timeframe::D1, Timeframe::W1).unwrap();
        assert_eq!(w.ts(), &[days_from_civil(2025, 1, 6) * DAY_MS, monday]);
    }

    #[test]
    fn refuses_finer_targets_and_unsorted_input() {
        assert!(resample(&Bars::new(), Timeframe::H1, Timeframe::M5).is_err());
        assert!(resample(&Bars::new(), Timeframe::H4, Timeframe::D1).is_ok());
        let unsorted = Bars::from_bars([
            Bar {
                ts: 2,
                open: 1.0,
                high: 1.0,
                low: 1.0,
                close: 1.0,
                volume: 1.0,
            },
            Bar {
                ts: 1,
                open: 1.0,
                high: 1.0,
                low: 1.0,
                close: 1.0,
                volume: 1.0,
            },
        ]);
        assert_eq!(
            resample(&unsorted, Timeframe::M1, Timeframe::H1),
            Err(ResampleError::NotNormal)
        );
    }

    fn minute_series() -> impl Strategy<Value = Bars> {
        proptest::collection::btree_map(
            0i64..20_000,
            (1.0f64..100.0, 0.0f64..5.0, 0.0f64..1000.0),
            1..300,
        )
        .prop_map(|m| {
            Bars::from_bars(m.into_iter().map(|(k, (p, spread, v))| Bar {
                ts: k * MINUTE_MS,
                open: p,
                high: p + spread,
                low: p - spread,
                close: p + spread / 2.0,
                volume: v.floor(),
            }))
        })
    }

    proptest! {
        #[test]
        fn resample_invariants(bars in minute_series(), to_i in 1usize..8) {
            let to = Timeframe::ALL[to_i];
            let out = resample(&bars, Timeframe::M1, to).unwrap();
            prop_assert!(out.is_normal());
            prop_assert!(out.len() <= bars.len());
            let vol_in: f64 = bars.volume().iter().sum();
            let vol_out: f64 = out.volume().iter().sum();
            prop_assert!((vol_in - vol_out).abs() < 1e-6);
            for b in out.iter() {
                prop_assert_eq!(to.bucket_start(b.ts), b.ts);
                let r = bars.range(Some(b.ts), Some(b.ts + to.duration_ms()));
                let part = bars.slice(r);
                prop_assert!(!part.is_empty());
                prop_assert_eq!(b.open, part.open()[0]);
                prop_assert_eq!(b.close, *part.close().last().unwrap());
                prop_assert_eq!(b.high, part.high().iter().cloned().fold(f64::MIN, f64::max));
                prop_assert_eq!(b.low, part.low().iter().cloned().fold(f64::MAX, f64::min));
            }
            // Resampling in two steps equals resampling at once.
            if to.can_resample_from(Timeframe::M5) {
                let via = resample(&resample(&bars, Timeframe::M1, Timeframe::M5).unwrap(), Timeframe::M5, to).unwrap();
                prop_assert_eq!(via.ts(), out.ts());
                prop_assert_eq!(via.high(), out.high());
                prop_assert_eq!(via.close(), out.close());
            }
        }
    }
}
