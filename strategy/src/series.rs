//! Column primitives the indicators are built from: rolling windows, seeded exponential averages,
//! shifts. Every function returns a column as long as its input; a position it cannot define (warm-up,
//! or a window touching a NaN) is NaN, never zero.
//!
//! Exponential averages are seeded the TA-Lib way: the first value is the simple mean of the first
//! `n` defined inputs, placed at the n-th of them; the recursion `y = (1 - alpha) * y_prev + alpha * x`
//! runs from there. EMA uses `alpha = 2 / (n + 1)`, Wilder's smoothing `alpha = 1 / n`.
//! `scripts/reference_indicators.py` implements the same convention in pandas.

pub fn nan(len: usize) -> Vec<f64> {
    vec![f64::NAN; len]
}

/// Sum of the last `n` values; NaN while fewer than `n` values exist or the window holds a NaN.
/// A window of zeros sums to exactly 0: a sliding sum would leave rounding residue (1e-17) once the
/// non-zero values have left it, and callers test for "no flow" with `== 0`.
pub fn rolling_sum(x: &[f64], n: usize) -> Vec<f64> {
    if n > 0 && !has_nan(x) {
        return dense_sums(x, n, |s| s);
    }
    let mut sum = RollingSum::new(n);
    x.iter().map(|&v| sum.push(v)).collect()
}

/// [`RollingSum`] over a column without NaN, each window's sum passed through `f`: the same
/// operations in the same order (add the new value, subtract the one leaving, zero the sum when
/// the window holds only zeros), so the same bits, but the leaving value is read from `x` rather
/// than a ring, there is no NaN bookkeeping, and the warm-up has its own loop, which leaves the
/// steady loop little besides the sum's two dependent additions.
#[inline(always)]
fn dense_sums(x: &[f64], n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let len = x.len();
    let mut out = Vec::with_capacity(len);
    let (mut sum, mut nonzero) = (0.0f64, 0usize);
    for (i, &v) in x[..n.min(len)].iter().enumerate() {
        sum += v;
        nonzero += (v != 0.0) as usize;
        if nonzero == 0 {
            sum = 0.0;
        }
        out.push(if i + 1 == n { f(sum) } else { f64::NAN });
    }
    if len > n {
        // Into the spare capacity: a `push` per row has a growth path (a call), around which the
        // compiler keeps the sum in memory, on its dependency chain.
        let rows = x[n..].iter().zip(&x[..len - n]);
        for (o, (&v, &old)) in out.spare_capacity_mut()[..len - n].iter_mut().zip(rows) {
            sum += v;
            nonzero += (v != 0.0) as usize;
            sum -= old;
            nonzero -= (old != 0.0) as usize;
            if nonzero == 0 {
                sum = 0.0;
            }
            o.write(f(sum));
        }
        // SAFETY: the capacity is `len`; the first `n` values were pushed and the loop above
        // initialised the remaining `len - n`.
        unsafe { out.set_len(len) };
    }
    out
}

/// [`rolling_sum`] fed one value at a time, for callers that produce its input as they go: the
/// input column then never exists. The last `n` values are kept in a ring.
pub(crate) struct RollingSum {
    ring: Vec<f64>,
    at: usize,
    seen: usize,
    sum: f64,
    nans: usize,
    nonzero: usize,
}

impl RollingSum {
    pub(crate) fn new(n: usize) -> Self {
        RollingSum {
            ring: vec![0.0; n],
            at: 0,
            seen: 0,
            sum: 0.0,
            nans: 0,
            nonzero: 0,
        }
    }

    /// Takes the next value; returns the sum of the window ending at it, or NaN.
    #[inline]
    pub(crate) fn push(&mut self, v: f64) -> f64 {
        let n = self.ring.len();
        if n == 0 {
            return f64::NAN;
        }
        if v.is_nan() {
            self.nans += 1;
        } else {
            self.sum += v;
            self.nonzero += (v != 0.0) as usize;
        }
        if self.seen >= n {
            let old = self.ring[self.at];
            if old.is_nan() {
                self.nans -= 1;
            } else {
                self.sum -= old;
                self.nonzero -= (old != 0.0) as usize;
            }
        }
        self.ring[self.at] = v;
        self.at = if self.at + 1 == n { 0 } else { self.at + 1 };
        self.seen += 1;
        if self.nonzero == 0 {
            self.sum = 0.0;
        }
        if self.seen >= n && self.nans == 0 {
            self.sum
        } else {
            f64::NAN
        }
    }

    /// [`RollingSum::push`] of each of `xs` in turn, `f` of each result appended to `out`: the same
    /// operations, so the same bits, with the state held in locals for the loop. A call per value
    /// keeps the sum in memory, so every value's two additions wait on a store and a load.
    pub(crate) fn extend(
        &mut self,
        xs: impl IntoIterator<Item = f64>,
        out: &mut Vec<f64>,
        f: impl Fn(f64) -> f64,
    ) {
        let n = self.ring.len();
        if n == 0 {
            out.extend(xs.into_iter().map(|_| f(f64::NAN)));
            return;
        }
        let (mut at, mut seen, mut sum) = (self.at, self.seen, self.sum);
        let (mut nans, mut nonzero) = (self.nans, self.nonzero);
        let ring = &mut self.ring[..];
        for v in xs {
            if v.is_nan() {
                nans += 1;
            } else {
                sum += v;
                nonzero += (v != 0.0) as usize;
            }
            if seen >= n {
                let old = ring[at];
                if old.is_nan() {
                    nans -= 1;
                } else {
                    sum -= old;
                    nonzero -= (old != 0.0) as usize;
                }
            }
            ring[at] = v;
            at = if at + 1 == n { 0 } else { at + 1 };
            seen += 1;
            if nonzero == 0 {
                sum = 0.0;
            }
            out.push(f(if seen >= n && nans == 0 {
                sum
            } else {
                f64::NAN
            }));
        }
        (self.at, self.seen, self.sum) = (at, seen, sum);
        (self.nans, self.nonzero) = (nans, nonzero);
    }
}

/// How many of the last `n` values satisfy `pred` (an exact integer count, unlike a float sum, so a
/// caller can tell "no volume in the window" without rounding noise).
pub fn rolling_count(x: &[f64], n: usize, pred: impl Fn(f64) -> bool) -> Vec<usize> {
    let mut out = vec![0; x.len()];
    let mut count = 0usize;
    for i in 0..x.len() {
        count += pred(x[i]) as usize;
        if i >= n {
            count -= pred(x[i - n]) as usize;
        }
        out[i] = count;
    }
    out
}

pub fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let k = n as f64;
    if n > 0 && !has_nan(x) {
        return dense_sums(x, n, |s| s / k);
    }
    let mut sum = RollingSum::new(n);
    x.iter().map(|&v| sum.push(v) / k).collect()
}

/// Mean and population standard deviation (divisor `n`, TA-Lib's convention) of the last `n` values,
/// both computed in two passes per window: a sliding sum of squares cancels catastrophically on
/// prices like 1.03, and a sliding mean's rounding shows in %B near the lower band.
pub fn rolling_mean_std(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut mean, mut sd) = (nan(x.len()), nan(x.len()));
    if n == 0 {
        return (mean, sd);
    }
    if !has_nan(x) {
        let mut s = n - 1;
        while s < x.len() {
            let e = (s + CHUNK).min(x.len());
            window_mean_std(x, n, s, &mut mean[s..e], &mut sd[s..e]);
            s = e;
        }
        return (mean, sd);
    }
    for i in n - 1..x.len() {
        let w = &x[i + 1 - n..=i];
        let m = w.iter().sum::<f64>() / n as f64;
        if m.is_nan() {
            continue;
        }
        let ss: f64 = w.iter().map(|v| (v - m) * (v - m)).sum();
        mean[i] = m;
        sd[i] = (ss / n as f64).sqrt();
    }
    (mean, sd)
}

/// Exponential average with smoothing `alpha`, seeded by the mean of the first `n` consecutive defined
/// inputs. A NaN after the seed yields NaN at that row and leaves the state unchanged.
pub fn ema_seeded(x: &[f64], n: usize, alpha: f64) -> Vec<f64> {
    if n == 0 {
        return nan(x.len());
    }
    let mut run = 0;
    let mut seed_at = None;
    for (i, v) in x.iter().enumerate() {
        run = if v.is_nan() { 0 } else { run + 1 };
        if run == n {
            seed_at = Some(i);
            break;
        }
    }
    let Some(e) = seed_at else {
        return nan(x.len());
    };
    // Written front to back once, not filled with NaN first.
    let mut out = Vec::with_capacity(x.len());
    out.resize(e, f64::NAN);
    let mut prev = x[e + 1 - n..=e].iter().sum::<f64>() / n as f64;
    out.push(prev);
    // Into the spare capacity with `prev` a plain local: through `extend` with a closure that
    // updates it, or `push` (whose growth path is a call), the compiler kept `prev` in memory,
    // which put a store and a load on the recursion's dependency chain.
    let rest = &x[e + 1..];
    for (o, &v) in out.spare_capacity_mut()[..rest.len()].iter_mut().zip(rest) {
        o.write(if v.is_nan() {
            f64::NAN
        } else {
            prev = (1.0 - alpha) * prev + alpha * v;
            prev
        });
    }
    // SAFETY: the capacity is `x.len()` and the loop above initialised the `x.len() - e - 1`
    // values after the first `e + 1`.
    unsafe { out.set_len(x.len()) };
    out
}

pub fn ema(x: &[f64], n: usize) -> Vec<f64> {
    ema_seeded(x, n, 2.0 / (n as f64 + 1.0))
}

pub fn wilder(x: &[f64], n: usize) -> Vec<f64> {
    ema_seeded(x, n, 1.0 / n as f64)
}

/// Index of the maximum (`max = true`) or minimum of the last `n` values, the latest one on ties;
/// `None` during warm-up or when the window holds a NaN. A monotonic deque keeps this O(len).
pub fn rolling_arg_extreme(x: &[f64], n: usize, max: bool) -> Vec<Option<usize>> {
    let mut out = vec![None; x.len()];
    if max {
        extremes::<true>(x, n, |i, j| out[i] = Some(j));
    } else {
        extremes::<false>(x, n, |i, j| out[i] = Some(j));
    }
    out
}

/// Windows up to this size are scanned directly: a tight compare loop beats the deque's branches
/// (measured 4-8 ms against 19-26 ms for n = 14 on a million rows).
const SCAN_WINDOW: usize = 64;

/// Rows are handled in chunks this long by the window loops below (8 KB of f64, so a chunk's
/// accumulators stay in L1 while every offset of the window is added in).
pub(crate) const CHUNK: usize = 1024;

pub(crate) fn has_nan(x: &[f64]) -> bool {
    x.iter().any(|v| v.is_nan())
}

pub fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme::<true>(x, n)
}

pub fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme::<false>(x, n)
}

/// Whether the chunked, NaN-free window loops apply to a window of `n` on `x`.
pub(crate) fn scannable(x: &[f64], n: usize) -> bool {
    (1..=SCAN_WINDOW).contains(&n) && !has_nan(x)
}

fn rolling_extreme<const MAX: bool>(x: &[f64], n: usize) -> Vec<f64> {
    if scannable(x, n) {
        let mut buf = [0.0; CHUNK];
        return by_chunks(x.len(), n, |s, len, out| {
            window_extremes::<MAX>(x, n, s, &mut buf[..len]);
            out.extend_from_slice(&buf[..len]);
        });
    }
    if n > SCAN_WINDOW || n == 0 {
        let mut out = nan(x.len());
        extremes::<MAX>(x, n, |i, j| out[i] = x[j]);
        return out;
    }
    let mut out = Vec::with_capacity(x.len());
    let mut nans = 0usize;
    for i in 0..x.len() {
        nans += x[i].is_nan() as usize;
        if i >= n {
            nans -= x[i - n].is_nan() as usize;
        }
        if i + 1 < n || nans > 0 {
            out.push(f64::NAN);
            continue;
        }
        let w = &x[i + 1 - n..=i];
        let mut m = w[0];
        for &v in &w[1..] {
            if (MAX && v > m) || (!MAX && v < m) {
                m = v;
            }
        }
        out.push(m);
    }
    out
}

/// A column of `len` rows whose first `n - 1` are NaN (a window's warm-up) and whose others are
/// appended by `chunk(start, rows, out)`, `rows <= CHUNK` at a time. The column is written once,
/// front to back, never filled first and overwritten.
pub(crate) fn by_chunks(
    len: usize,
    n: usize,
    mut chunk: impl FnMut(usize, usize, &mut Vec<f64>),
) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    let warm = n.saturating_sub(1).min(len);
    out.resize(warm, f64::NAN);
    let mut s = warm;
    while s < len {
        let rows = CHUNK.min(len - s);
        chunk(s, rows, &mut out);
        s += rows;
    }
    out
}

/// `out[j]` = the extreme of the window of `n` ending at row `s + j`, for a NaN-free `x`,
/// `1 <= n <= SCAN_WINDOW`, `s >= n - 1` and at most `CHUNK` rows. Extremes of windows of 2, 4,
/// 8, ... are built by doubling (each pass an elementwise max of two shifted copies, which
/// vectorises), and the window of `n` is two overlapping power-of-two windows: 4 passes for
/// `n = 14` instead of a 14-value scan per row. An extreme is one of the values, whatever the
/// order it is taken in, so the result is the same as a scan's.
pub(crate) fn window_extremes<const MAX: bool>(x: &[f64], n: usize, s: usize, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { window_extremes_avx2::<MAX>(x, n, s, out) };
    }
    window_extremes_portable::<MAX>(x, n, s, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn window_extremes_avx2<const MAX: bool>(x: &[f64], n: usize, s: usize, out: &mut [f64]) {
    window_extremes_portable::<MAX>(x, n, s, out)
}

#[inline(always)]
fn window_extremes_portable<const MAX: bool>(x: &[f64], n: usize, s: usize, out: &mut [f64]) {
    let pick = |a: f64, b: f64| {
        let beats = if MAX { b > a } else { b < a };
        if beats { b } else { a }
    };
    let rows = out.len();
    let span = rows + n - 1;
    // bufs[cur][t] is the extreme of the window of `w` ending at x[s + 1 - n + t].
    let mut bufs = [[0.0; CHUNK + SCAN_WINDOW]; 2];
    bufs[0][..span].copy_from_slice(&x[s + 1 - n..s + rows]);
    let (mut cur, mut w) = (0, 1);
    while 2 * w <= n {
        let [a, b] = &mut bufs;
        let (src, dst) = if cur == 0 { (&*a, b) } else { (&*b, a) };
        for ((d, &now), &before) in dst[w..span]
            .iter_mut()
            .zip(&src[w..span])
            .zip(&src[..span - w])
        {
            *d = pick(now, before);
        }
        cur = 1 - cur;
        w *= 2;
    }
    let m = &bufs[cur];
    for ((o, &end), &start) in out
        .iter_mut()
        .zip(&m[n - 1..n - 1 + rows])
        .zip(&m[w - 1..w - 1 + rows])
    {
        *o = pick(end, start);
    }
}

/// `mean[j]`, `sd[j]` of the window of `n` ending at row `s + j` (NaN-free `x`, `s >= n - 1`),
/// with exactly the arithmetic of [`rolling_mean_std`]'s two passes: each window is summed oldest
/// value first, so the results are the same bits, only computed for a chunk of rows at once.
pub(crate) fn window_mean_std(x: &[f64], n: usize, s: usize, mean: &mut [f64], sd: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { window_mean_std_avx2(x, n, s, mean, sd) };
    }
    window_mean_std_portable(x, n, s, mean, sd)
}

/// The same loops compiled for 4-wide vectors; Rust never contracts a multiply and an add into an
/// FMA, so only the width changes, not the bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn window_mean_std_avx2(x: &[f64], n: usize, s: usize, mean: &mut [f64], sd: &mut [f64]) {
    window_mean_std_portable(x, n, s, mean, sd)
}

#[inline(always)]
fn window_mean_std_portable(x: &[f64], n: usize, s: usize, mean: &mut [f64], sd: &mut [f64]) {
    let rows = mean.len();
    let first = s + 1 - n;
    mean.copy_from_slice(&x[first..first + rows]);
    for k in 1..n {
        for (m, &v) in mean.iter_mut().zip(&x[first + k..first + k + rows]) {
            *m += v;
        }
    }
    let k = n as f64;
    mean.iter_mut().for_each(|m| *m /= k);
    for (j, (d, &m)) in sd.iter_mut().zip(mean.iter()).enumerate() {
        let v = x[first + j] - m;
        *d = v * v;
    }
    for k in 1..n {
        let w = &x[first + k..first + k + rows];
        for ((d, &m), &v) in sd.iter_mut().zip(mean.iter()).zip(w) {
            *d += (v - m) * (v - m);
        }
    }
    let k = n as f64;
    sd.iter_mut().for_each(|d| *d = (*d / k).sqrt());
}

/// Calls `emit(i, j)` for every row `i` whose window of `n` is defined, with `j` the index of the
/// window's extreme. The deque is a ring of indices sized to the window (it never holds more), and
/// the direction is a const parameter so the comparison compiles to one instruction.
fn extremes<const MAX: bool>(x: &[f64], n: usize, mut emit: impl FnMut(usize, usize)) {
    if n == 0 {
        return;
    }
    let beats = |a: f64, b: f64| if MAX { a >= b } else { a <= b };
    // A power of two, so wrapping is a mask rather than a division.
    let mask = (n + 1).next_power_of_two() - 1;
    let mut ring = vec![0usize; mask + 1];
    let (mut head, mut len) = (0usize, 0usize);
    let mut nans = 0usize;
    for i in 0..x.len() {
        let v = x[i];
        if v.is_nan() {
            nans += 1;
        } else {
            while len > 0 && beats(v, x[ring[(head + len - 1) & mask]]) {
                len -= 1;
            }
            ring[(head + len) & mask] = i;
            len += 1;
        }
        if i >= n && x[i - n].is_nan() {
            nans -= 1;
        }
        while len > 0 && ring[head] + n <= i {
            head = (head + 1) & mask;
            len -= 1;
        }
        if i + 1 >= n && nans == 0 && len > 0 {
            emit(i, ring[head]);
        }
    }
}

/// `out[i] = x[i - k]`: the value `k` rows earlier, NaN for the first `k` rows.
pub fn shift(x: &[f64], k: usize) -> Vec<f64> {
    let k = k.min(x.len());
    let mut out = Vec::with_capacity(x.len());
    out.resize(k, f64::NAN);
    out.extend_from_slice(&x[..x.len() - k]);
    out
}

/// True range: the bar's range widened to the previous close. Undefined on the first bar, which has
/// no previous close (TA-Lib's convention, so ATR's seed averages bars 1..=n).
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    let mut out = nan(close.len());
    for i in 1..close.len() {
        let pc = close[i - 1];
        out[i] = (high[i] - low[i])
            .max((high[i] - pc).abs())
            .max((low[i] - pc).abs());
    }
    out
}

/// Elementwise `f(a, b)`.
pub fn zip(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-12)
    }

    #[test]
    fn sma_has_n_minus_one_undefined_rows() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(same(&sma(&x, 3), &[f64::NAN, f64::NAN, 2.0, 3.0, 4.0]));
    }

    proptest::proptest! {
        /// The NaN-free path is the general one, bit for bit (zeros included).
        #[test]
        fn dense_sums_are_the_rolling_sums_bits(
            x in proptest::collection::vec(
                proptest::prop_oneof![-1e3f64..1e3, proptest::strategy::Just(0.0)],
                0..80,
            ),
            n in 1usize..12,
        ) {
            let mut ring = RollingSum::new(n);
            let general: Vec<f64> = x.iter().map(|&v| ring.push(v)).collect();
            let bits = |c: &[f64]| c.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&rolling_sum(&x, n)), bits(&general));
            let k = n as f64;
            let means: Vec<f64> = general.iter().map(|s| s / k).collect();
            proptest::prop_assert_eq!(bits(&sma(&x, n)), bits(&means));
        }

        /// `extend` is `push` per value, bit for bit, across calls and with NaN in the input.
        #[test]
        fn extend_is_push_per_value(
            x in proptest::collection::vec(
                proptest::prop_oneof![
                    -1e3f64..1e3,
                    proptest::strategy::Just(0.0),
                    proptest::strategy::Just(f64::NAN),
                ],
                0..80,
            ),
            n in 0usize..6,
            cut in 0usize..80,
        ) {
            let mut one = RollingSum::new(n);
            let want: Vec<u64> = x.iter().map(|&v| (one.push(v) / 3.0).to_bits()).collect();
            let (mut many, mut got) = (RollingSum::new(n), Vec::new());
            let cut = cut.min(x.len());
            many.extend(x[..cut].iter().copied(), &mut got, |s| s / 3.0);
            many.extend(x[cut..].iter().copied(), &mut got, |s| s / 3.0);
            let got: Vec<u64> = got.iter().map(|v| v.to_bits()).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn a_window_of_zeros_sums_to_exactly_zero() {
        let x = [0.1, 0.2, 0.0, 0.0];
        assert_eq!(rolling_sum(&x, 2)[3], 0.0);
    }

    #[test]
    fn window_touching_nan_is_nan() {
        let x = [1.0, f64::NAN, 3.0, 4.0, 5.0];
        assert!(same(
            &rolling_sum(&x, 2),
            &[f64::NAN, f64::NAN, f64::NAN, 7.0, 9.0]
        ));
        assert!(same(
            &rolling_max(&x, 2),
            &[f64::NAN, f64::NAN, f64::NAN, 4.0, 5.0]
        ));
    }

    #[test]
    fn ema_is_seeded_with_the_mean() {
        let x = [f64::NAN, 2.0, 4.0, 6.0, 8.0];
        let e = ema(&x, 2);
        assert!(same(&e[..3], &[f64::NAN, f64::NAN, 3.0]));
        let a = 2.0 / 3.0;
        assert!((e[3] - ((1.0 - a) * 3.0 + a * 6.0)).abs() < 1e-12);
    }

    #[test]
    fn arg_extreme_prefers_the_latest_tie() {
        let x = [5.0, 3.0, 5.0, 1.0];
        assert_eq!(
            rolling_arg_extreme(&x, 3, true),
            vec![None, None, Some(2), Some(2)]
        );
        assert_eq!(
            rolling_arg_extreme(&x, 3, false),
            vec![None, None, Some(1), Some(3)]
        );
    }

    #[test]
    fn rolling_std_is_population() {
        let (m, sd) = rolling_mean_std(&[1.0, 3.0], 2);
        assert!(same(&m, &[f64::NAN, 2.0]));
        assert!(same(&sd, &[f64::NAN, 1.0]));
    }

    #[test]
    fn shift_moves_forward() {
        assert!(same(&shift(&[1.0, 2.0, 3.0], 1), &[f64::NAN, 1.0, 2.0]));
        assert!(same(&shift(&[1.0], 3), &[f64::NAN]));
    }

    #[test]
    fn a_window_of_zero_defines_nothing() {
        let x = [1.0, 2.0, 3.0];
        let all_nan = |v: &[f64]| v.len() == 3 && v.iter().all(|y| y.is_nan());
        assert!(all_nan(&sma(&x, 0)));
        assert!(all_nan(&ema_seeded(&x, 0, 0.5)));
        let (mean, sd) = rolling_mean_std(&x, 0);
        assert!(all_nan(&mean) && all_nan(&sd));
        assert!(all_nan(&rolling_max(&x, 0)));
        assert!(all_nan(&rolling_min(&x, 0)));
        let mut out = Vec::new();
        RollingSum::new(0).extend(x, &mut out, |v| v);
        assert!(all_nan(&out));
    }

    proptest::proptest! {
        /// Every path of the rolling extremes (chunked scan, NaN-aware short windows, the deque
        /// for long ones) is the naive window scan, NaN wherever the window touches one.
        #[test]
        fn rolling_extremes_are_the_naive_scan(
            x in proptest::collection::vec(
                proptest::prop_oneof![8 => -1e3f64..1e3, 1 => proptest::strategy::Just(f64::NAN)],
                0..200,
            ),
            n in 1usize..80,
        ) {
            let naive = |max: bool| -> Vec<f64> {
                (0..x.len())
                    .map(|i| {
                        if i + 1 < n {
                            return f64::NAN;
                        }
                        let w = &x[i + 1 - n..=i];
                        if w.iter().any(|v| v.is_nan()) {
                            f64::NAN
                        } else if max {
                            w.iter().cloned().fold(f64::MIN, f64::max)
                        } else {
                            w.iter().cloned().fold(f64::MAX, f64::min)
                        }
                    })
                    .collect()
            };
            proptest::prop_assert!(same(&rolling_max(&x, n), &naive(true)), "max n={}", n);
            proptest::prop_assert!(same(&rolling_min(&x, n), &naive(false)), "min n={}", n);
        }
    }
}
