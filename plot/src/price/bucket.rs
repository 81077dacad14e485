//! Bars grouped per pixel column when there are more bars than the canvas can show.

/// `n` bars shown on `px` pixel columns: one group per bar when each bar gets at least three
/// pixels (room for a candle body and its gaps), else groups of `size` bars, about one per two
/// columns, so candles stay distinguishable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    pub n: usize,
    pub size: usize,
}

impl Buckets {
    pub fn new(n: usize, px: u32) -> Buckets {
        let px = px.max(1) as usize;
        let size = if n * 3 <= px {
            1
        } else {
            n.div_ceil((px / 2).max(1))
        };
        Buckets { n, size }
    }

    /// Index ranges of each group, in order.
    pub fn ranges(self) -> impl Iterator<Item = std::ops::Range<usize>> {
        let Buckets { n, size } = self;
        (0..n.div_ceil(size)).map(move |b| b * size..((b + 1) * size).min(n))
    }
}

/// One aggregated candle: first open, highest high, lowest low, last close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    pub x: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

pub fn candles(b: Buckets, open: &[f64], high: &[f64], low: &[f64], close: &[f64]) -> Vec<Candle> {
    b.ranges()
        .map(|r| Candle {
            x: (r.start + r.end - 1) as f64 / 2.0,
            open: open[r.start],
            high: high[r.clone()]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max),
            low: low[r.clone()].iter().copied().fold(f64::INFINITY, f64::min),
            close: close[r.end - 1],
        })
        .collect()
}

/// `(x, sum)` per group (volume).
pub fn sums(b: Buckets, v: &[f64]) -> Vec<(f64, f64, bool)> {
    b.ranges()
        .map(|r| {
            let s: f64 = v[r.clone()].iter().filter(|x| x.is_finite()).sum();
            ((r.start + r.end - 1) as f64 / 2.0, s, false)
        })
        .collect()
}

/// The mean of each group's finite values, NaN for a group with none (heat strips).
pub fn means(b: Buckets, v: &[f64]) -> Vec<(std::ops::Range<usize>, f64)> {
    b.ranges()
        .map(|r| {
            let (s, k) = v[r.clone()]
                .iter()
                .filter(|x| x.is_finite())
                .fold((0.0, 0usize), |(s, k), x| (s + x, k + 1));
            let m = if k == 0 { f64::NAN } else { s / k as f64 };
            (r, m)
        })
        .collect()
}

/// The runs of finite values of `v`, as index ranges: lines are broken where a value is missing.
pub fn finite_runs(v: &[f64]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, x) in v.iter().enumerate() {
        match (x.is_finite(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..v.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_bars_are_not_grouped_and_many_are_per_two_columns() {
        assert_eq!(Buckets::new(100, 1000).size, 1);
        let b = Buckets::new(1_000_000, 1000);
        assert_eq!(b.size, 2000);
        assert_eq!(b.ranges().count(), 500);
        assert_eq!(b.ranges().last(), Some(998_000..1_000_000));
    }

    #[test]
    fn candles_keep_the_extremes() {
        let b = Buckets { n: 4, size: 2 };
        let c = candles(
            b,
            &[1.0, 2.0, 3.0, 4.0],
            &[5.0, 9.0, 4.0, 6.0],
            &[0.5, 1.5, 2.0, 0.1],
            &[2.0, 3.0, 4.0, 5.0],
        );
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].open, c[0].high, c[0].low, c[0].close),
            (1.0, 9.0, 0.5, 3.0)
        );
        assert_eq!(
            (c[1].open, c[1].high, c[1].low, c[1].close),
            (3.0, 6.0, 0.1, 5.0)
        );
    }

    #[test]
    fn runs_split_at_missing_values() {
        let v = [f64::NAN, 1.0, 2.0, f64::NAN, 3.0];
        assert_eq!(finite_runs(&v), vec![1..3, 4..5]);
        assert!(finite_runs(&[f64::NAN]).is_empty());
    }
}
