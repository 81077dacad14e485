//! Reduces a long series to a few points per pixel column without hiding its extremes.
//!
//! Plain decimation (every k-th bar) would skip the bottom of a drawdown that lasts less than
//! k bars; averaging would flatten it. Each bucket instead keeps its first, lowest, highest and
//! last bar in time order, so the drawn line reaches every extreme and joins the next bucket
//! exactly where the data does.

/// Points of `(time, value)` to draw for `ts`/`values` when about `buckets` pixel columns are
/// available. Series of at most four points per bucket are returned whole.
pub fn min_max(ts: &[i64], values: &[f64], buckets: usize) -> Vec<(i64, f64)> {
    let n = ts.len().min(values.len());
    let buckets = buckets.max(1);
    if n <= buckets.saturating_mul(4) {
        return (0..n).map(|i| (ts[i], values[i])).collect();
    }
    let size = n.div_ceil(buckets);
    let mut out = Vec::with_capacity(buckets * 4);
    let mut start = 0;
    while start < n {
        let end = (start + size).min(n);
        let (mut lo, mut hi) = (start, start);
        for i in start..end {
            if values[i] < values[lo] {
                lo = i;
            }
            if values[i] > values[hi] {
                hi = i;
            }
        }
        let mut keep = [start, lo, hi, end - 1];
        keep.sort_unstable();
        let mut last = None;
        for i in keep {
            if last != Some(i) {
                out.push((ts[i], values[i]));
                last = Some(i);
            }
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_is_untouched() {
        let ts: Vec<i64> = (0..10).collect();
        let v: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let out = min_max(&ts, &v, 100);
        assert_eq!(out.len(), 10);
        assert_eq!(out[3], (3, 3.0));
    }

    #[test]
    fn long_series_is_bounded_and_keeps_extremes_and_ends() {
        let n = 100_000;
        let ts: Vec<i64> = (0..n as i64).map(|i| 1_000 * i).collect();
        let mut v: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.01).sin()).collect();
        // A one-bar crash and a one-bar spike that decimation would almost surely skip.
        v[31_337] = 1.0;
        v[77_777] = 500.0;
        let out = min_max(&ts, &v, 500);
        assert!(out.len() <= 500 * 4, "{} points", out.len());
        assert!(out.len() >= 500, "{} points", out.len());
        assert!(out.contains(&(31_337_000, 1.0)));
        assert!(out.contains(&(77_777_000, 500.0)));
        assert_eq!(out.first(), Some(&(0, v[0])));
        assert_eq!(out.last(), Some(&(ts[n - 1], v[n - 1])));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "time order kept");
    }
}
