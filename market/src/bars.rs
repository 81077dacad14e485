//! [`Bars`]: a series as columns. Columns rather than a `Vec<Bar>` because that is how Parquet, CSV
//! readers and the wire hand them over, and because range filters and aggregations scan one column.

use std::ops::Range;

/// One bar, for building series and for tests. `ts` is the open time in Unix milliseconds, UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub ts: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// Columns of equal length. Most operations expect the series to be *normal*: strictly increasing
/// timestamps (see [`Bars::is_normal`]); the quality checks report, and the repair makes, that state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bars {
    ts: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("columns have different lengths: {0:?}")]
pub struct LengthMismatch(pub [usize; 6]);

/// Bytes per bar held in memory: one i64 and five f64.
pub const BYTES_PER_BAR: usize = 48;

impl Bars {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Bars {
            ts: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        }
    }

    pub fn from_columns(
        ts: Vec<i64>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    ) -> Result<Self, LengthMismatch> {
        let lens = [
            ts.len(),
            open.len(),
            high.len(),
            low.len(),
            close.len(),
            volume.len(),
        ];
        if lens.iter().any(|&l| l != lens[0]) {
            return Err(LengthMismatch(lens));
        }
        Ok(Bars {
            ts,
            open,
            high,
            low,
            close,
            volume,
        })
    }

    pub fn from_bars(bars: impl IntoIterator<Item = Bar>) -> Self {
        let mut b = Bars::new();
        for bar in bars {
            b.push(bar);
        }
        b
    }

    #[allow(clippy::type_complexity)]
    pub fn into_columns(self) -> (Vec<i64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        (
            self.ts,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )
    }

    pub fn push(&mut self, b: Bar) {
        self.ts.push(b.ts);
        self.open.push(b.open);
        self.high.push(b.high);
        self.low.push(b.low);
        self.close.push(b.close);
        self.volume.push(b.volume);
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Memory held by the columns, for the cache's byte budget.
    pub fn byte_size(&self) -> usize {
        self.len() * BYTES_PER_BAR
    }

    pub fn get(&self, i: usize) -> Option<Bar> {
        Some(Bar {
            ts: *self.ts.get(i)?,
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Bar> + '_ {
        (0..self.len()).map(|i| Bar {
            ts: self.ts[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        })
    }

    pub fn ts(&self) -> &[i64] {
        &self.ts
    }
    pub fn open(&self) -> &[f64] {
        &self.open
    }
    pub fn high(&self) -> &[f64] {
        &self.high
    }
    pub fn low(&self) -> &[f64] {
        &self.low
    }
    pub fn close(&self) -> &[f64] {
        &self.close
    }
    pub fn volume(&self) -> &[f64] {
        &self.volume
    }

    pub fn first_ts(&self) -> Option<i64> {
        self.ts.first().copied()
    }

    pub fn last_ts(&self) -> Option<i64> {
        self.ts.last().copied()
    }

    /// Strictly increasing timestamps.
    pub fn is_normal(&self) -> bool {
        self.ts.windows(2).all(|w| w[0] < w[1])
    }

    /// Indices of the bars with `start <= ts < end` (either bound may be absent), by binary search.
    /// Requires sorted timestamps.
    pub fn range(&self, start: Option<i64>, end: Option<i64>) -> Range<usize> {
        let lo = start.map_or(0, |s| self.ts.partition_point(|&t| t < s));
        let hi = end.map_or(self.len(), |e| self.ts.partition_point(|&t| t < e));
        lo..hi.max(lo)
    }

    /// A copy of the bars at `r`.
    pub fn slice(&self, r: Range<usize>) -> Bars {
        let r = r.start.min(self.len())..r.end.min(self.len());
        Bars {
            ts: self.ts[r.clone()].to_vec(),
            open: self.open[r.clone()].to_vec(),
            high: self.high[r.clone()].to_vec(),
            low: self.low[r.clone()].to_vec(),
            close: self.close[r.clone()].to_vec(),
            volume: self.volume[r].to_vec(),
        }
    }

    /// Sorts by timestamp (stable, so among equal timestamps the later row stays later) and keeps the
    /// last of each run of equal timestamps. Returns how many rows moved and how many were dropped.
    pub fn normalize(&mut self) -> (usize, usize) {
        if self.is_normal() {
            return (0, 0);
        }
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.sort_by_key(|&i| self.ts[i]);
        let moved = idx
            .iter()
            .enumerate()
            .filter(|(pos, i)| *pos != **i)
            .count();
        let mut keep: Vec<usize> = Vec::with_capacity(idx.len());
        for (k, &i) in idx.iter().enumerate() {
            let next_same = idx.get(k + 1).is_some_and(|&j| self.ts[j] == self.ts[i]);
            if !next_same {
                keep.push(i);
            }
        }
        let dropped = idx.len() - keep.len();
        *self = self.take(&keep);
        (moved, dropped)
    }

    /// The bars at the given indices, in that order.
    pub fn take(&self, idx: &[usize]) -> Bars {
        let pick_i = |v: &Vec<i64>| idx.iter().map(|&i| v[i]).collect();
        let pick = |v: &Vec<f64>| idx.iter().map(|&i| v[i]).collect();
        Bars {
            ts: pick_i(&self.ts),
            open: pick(&self.open),
            high: pick(&self.high),
            low: pick(&self.low),
            close: pick(&self.close),
            volume: pick(&self.volume),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn bar(ts: i64, p: f64) -> Bar {
        Bar {
            ts,
            open: p,
            high: p + 1.0,
            low: p - 1.0,
            close: p,
            volume: 10.0,
        }
    }

    #[test]
    fn range_is_start_inclusive_end_exclusive() {
        let b = Bars::from_bars((0..10).map(|i| bar(i * 10, 1.0)));
        assert_eq!(b.range(Some(20), Some(50)), 2..5);
        assert_eq!(b.range(Some(21), Some(51)), 3..6);
        assert_eq!(b.range(None, None), 0..10);
        assert_eq!(b.range(Some(500), None), 10..10);
        assert_eq!(b.range(Some(50), Some(20)), 5..5);
    }

    #[test]
    fn normalize_sorts_and_keeps_the_last_duplicate() {
        let mut b = Bars::from_bars([bar(30, 1.0), bar(10, 1.0), bar(30, 2.0), bar(20, 1.0)]);
        let (moved, dropped) = b.normalize();
        assert!(moved > 0);
        assert_eq!(dropped, 1);
        assert_eq!(b.ts(), &[10, 20, 30]);
        assert_eq!(b.open()[2], 2.0);
    }

    #[test]
    fn mismatched_columns_are_refused() {
        assert!(Bars::from_columns(vec![1], vec![], vec![], vec![], vec![], vec![]).is_err());
    }

    #[test]
    fn columns_round_trip_and_accessors_agree() {
        let b = Bars::from_columns(
            vec![10, 20],
            vec![1.0, 2.0],
            vec![1.5, 2.5],
            vec![0.5, 1.5],
            vec![1.25, 2.25],
            vec![100.0, 200.0],
        )
        .unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b.byte_size(), 2 * BYTES_PER_BAR);
        assert_eq!((b.first_ts(), b.last_ts()), (Some(10), Some(20)));
        assert_eq!(
            b.get(1),
            Some(Bar {
                ts: 20,
                open: 2.0,
                high: 2.5,
                low: 1.5,
                close: 2.25,
                volume: 200.0
            })
        );
        assert_eq!(b.get(2), None);
        let (ts, open, high, low, close, volume) = b.clone().into_columns();
        assert_eq!(ts, vec![10, 20]);
        assert_eq!(
            Bars::from_columns(ts, open, high, low, close, volume).unwrap(),
            b
        );
        let empty = Bars::new();
        assert!(empty.is_empty());
        assert_eq!((empty.first_ts(), empty.last_ts()), (None, None));
    }

    #[test]
    fn length_mismatch_names_every_column_length() {
        let err =
            Bars::from_columns(vec![1, 2], vec![1.0], vec![], vec![], vec![], vec![]).unwrap_err();
        assert_eq!(err, LengthMismatch([2, 1, 0, 0, 0, 0]));
        assert!(err.to_string().contains("[2, 1, 0, 0, 0, 0]"));
    }

    #[test]
    fn normalize_leaves_a_normal_series_alone() {
        let mut b = Bars::from_bars([bar(10, 1.0), bar(20, 2.0)]);
        let before = b.clone();
        assert_eq!(b.normalize(), (0, 0));
        assert_eq!(b, before);
    }

    #[test]
    fn slice_clamps_to_the_series() {
        let b = Bars::from_bars((0..5).map(|i| bar(i * 10, i as f64)));
        assert_eq!(b.slice(3..99).ts(), &[30, 40]);
        assert!(b.slice(7..9).is_empty());
    }
}
