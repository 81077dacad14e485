//! Fuzzy membership functions: how much a value belongs to a set, in [0, 1].
//!
//! Edges are closed: a triangle [a, b, c] is 0 at or beyond a and c and 1 at b. A degenerate edge
//! (a == b, or b == c) is a vertical shoulder: the value at the peak is 1 and everything beyond the
//! shoulder is 0, exactly. A NaN input (an indicator's warm-up) gives NaN, never a membership.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Membership {
    Triangular { a: f64, b: f64, c: f64 },
    Trapezoidal { a: f64, b: f64, c: f64, d: f64 },
    Gaussian { mu: f64, sigma: f64 },
}

impl Membership {
    pub const KINDS: [&'static str; 3] = ["triangular", "trapezoidal", "gaussian"];

    /// Builds and validates: the right number of finite parameters, ordered corners, sigma > 0.
    pub fn new(kind: &str, p: &[f64]) -> Result<Self, String> {
        let want = match kind {
            "triangular" => 3,
            "trapezoidal" => 4,
            "gaussian" => 2,
            other => {
                return Err(format!(
                    "unknown membership type {other:?} (expected one of {})",
                    Self::KINDS.join(", ")
                ));
            }
        };
        if p.len() != want {
            return Err(format!("{kind} takes {want} parameters, got {}", p.len()));
        }
        if p.iter().any(|v| !v.is_finite()) {
            return Err(format!(
                "{kind} parameters must be finite numbers, got {p:?}"
            ));
        }
        let ordered = p.windows(2).all(|w| w[0] <= w[1]);
        match kind {
            "triangular" if ordered => Ok(Membership::Triangular {
                a: p[0],
                b: p[1],
                c: p[2],
            }),
            "triangular" => Err(format!("triangular [a, b, c] needs a <= b <= c, got {p:?}")),
            "trapezoidal" if ordered => Ok(Membership::Trapezoidal {
                a: p[0],
                b: p[1],
                c: p[2],
                d: p[3],
            }),
            "trapezoidal" => Err(format!(
                "trapezoidal [a, b, c, d] needs a <= b <= c <= d, got {p:?}"
            )),
            _ if p[1] > 0.0 => Ok(Membership::Gaussian {
                mu: p[0],
                sigma: p[1],
            }),
            _ => Err(format!(
                "gaussian [mu, sigma] needs sigma > 0, got {}",
                p[1]
            )),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Membership::Triangular { .. } => "triangular",
            Membership::Trapezoidal { .. } => "trapezoidal",
            Membership::Gaussian { .. } => "gaussian",
        }
    }

    #[inline]
    pub fn degree(&self, x: f64) -> f64 {
        match *self {
            Membership::Triangular { a, b, c } => plateau(x, a, b, b, c),
            Membership::Trapezoidal { a, b, c, d } => plateau(x, a, b, c, d),
            Membership::Gaussian { mu, sigma } => gaussian(x, mu, sigma),
        }
    }

    /// The membership of every value of a column.
    pub fn apply(&self, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| self.degree(x)).collect()
    }

    /// The same as `f32`, the feature matrix's type: [`Membership::apply_f32_lagged`] without lags.
    pub fn apply_f32(&self, xs: &[f64]) -> Vec<f32> {
        self.apply_f32_lagged(xs, 0).swap_remove(0)
    }

    /// The membership column as `f32` followed by its lags 1..=`lags` (`out[k][i]` is the degree of
    /// `xs[i - k]`, NaN for the first `k` rows): [`apply_f32_lagged`] for one set.
    pub fn apply_f32_lagged(&self, xs: &[f64], lags: usize) -> Vec<Vec<f32>> {
        apply_f32_lagged(&[self], xs, lags).swap_remove(0)
    }

    fn degrees_f32(&self, xs: &[f64], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { degrees_f32_avx2(self, xs, out) };
        }
        degrees_f32::<false>(self, xs, out)
    }
}

/// For each set, its membership column of `xs` as `f32` followed by its lags 1..=`lags`
/// (`out[set][k][i]` is the degree of `xs[i - k]`, NaN for the first `k` rows), all in one pass over
/// `xs`: each chunk of `xs` is read from memory once for every set, each chunk of degrees is
/// computed once into a buffer in L1 and appended to the set's column and to each of its lags, so
/// no column is read back to make a lag. The pipeline is bound by memory traffic, not arithmetic.
///
/// The kind is matched once per chunk, so each loop is straight-line arithmetic the compiler
/// vectorises; slopes are reciprocals and `exp` is a polynomial, both exact to far below f32's
/// resolution (tested against [`Membership::degree`]).
pub fn apply_f32_lagged(sets: &[&Membership], xs: &[f64], lags: usize) -> Vec<Vec<Vec<f32>>> {
    let len = xs.len();
    let mut out: Vec<Vec<Vec<f32>>> = sets
        .iter()
        .map(|_| {
            (0..=lags)
                .map(|k| {
                    let mut c = Vec::with_capacity(len);
                    c.resize(k.min(len), f32::NAN);
                    c
                })
                .collect()
        })
        .collect();
    let mut buf = [0.0f32; CHUNK];
    for chunk in xs.chunks(CHUNK) {
        let degrees = &mut buf[..chunk.len()];
        for (m, cols) in sets.iter().zip(&mut out) {
            m.degrees_f32(chunk, degrees);
            for c in cols {
                let take = degrees.len().min(len - c.len());
                c.extend_from_slice(&degrees[..take]);
            }
        }
    }
    out
}

/// Rows per chunk in [`apply_f32_lagged`]: 4 KB of f32, well inside L1.
const CHUNK: usize = 1024;

/// The same loops compiled for 4-wide f64 vectors, with `exp`'s polynomial in fused multiply-adds.
/// Rust never contracts a multiply and an add into an FMA by itself, so the triangles and
/// trapezoids are the same bits as the portable loops; the Gaussian sets' `exp` differs from the
/// portable one by rounding only (both well within the tested 1e-11 of libm).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn degrees_f32_avx2(m: &Membership, xs: &[f64], out: &mut [f32]) {
    degrees_f32::<true>(m, xs, out)
}

#[inline(always)]
fn degrees_f32<const FMA: bool>(m: &Membership, xs: &[f64], out: &mut [f32]) {
    match *m {
        Membership::Triangular { a, b, c } => plateau_f32(a, b, b, c, xs, out),
        Membership::Trapezoidal { a, b, c, d } => plateau_f32(a, b, c, d, xs, out),
        Membership::Gaussian { mu, sigma } => {
            let k = -0.5 / (sigma * sigma);
            for (o, &x) in out.iter_mut().zip(xs) {
                *o = exp_nonpositive::<FMA>(k * (x - mu) * (x - mu)) as f32;
            }
        }
    }
}

/// [`plateau`] over a chunk, with reciprocal slopes and one loop per kind of edge (sloped or
/// vertical), so that no loop tests the kind per value.
#[inline(always)]
fn plateau_f32(a: f64, b: f64, c: f64, d: f64, xs: &[f64], out: &mut [f32]) {
    let step = |inside: bool| if inside { 1.0 } else { 0.0 };
    match (b > a, d > c) {
        (true, true) => {
            let (ku, kd) = (1.0 / (b - a), 1.0 / (d - c));
            edges_f32(xs, out, |x| (x - a) * ku, |x| (d - x) * kd)
        }
        (true, false) => {
            let ku = 1.0 / (b - a);
            edges_f32(xs, out, |x| (x - a) * ku, |x| step(x <= d))
        }
        (false, true) => {
            let kd = 1.0 / (d - c);
            edges_f32(xs, out, |x| step(x >= a), |x| (d - x) * kd)
        }
        (false, false) => edges_f32(xs, out, |x| step(x >= a), |x| step(x <= d)),
    }
}

/// The smaller edge clamped to [0, 1], NaN for NaN. Plain compare-selects rather than `f64::min`
/// and `clamp`, whose NaN rules cost extra instructions per value: here a NaN can only come from
/// `x`, which is handled last.
#[inline(always)]
fn edges_f32(xs: &[f64], out: &mut [f32], up: impl Fn(f64) -> f64, down: impl Fn(f64) -> f64) {
    for (o, &x) in out.iter_mut().zip(xs) {
        let (u, d) = (up(x), down(x));
        let m = if d < u { d } else { u };
        let m = if m > 0.0 { m } else { 0.0 };
        let m = if m < 1.0 { m } else { 1.0 };
        *o = if x.is_nan() { f32::NAN } else { m as f32 };
    }
}

/// `a * b + c`, fused into one rounding when `FMA` (for callers compiled with the `fma` target
/// feature, where it is one instruction; elsewhere `mul_add` would be a libm call per value).
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `exp(x)` for `x <= 0` (NaN passes through) to about 1.2e-12 relative: range reduction by ln 2
/// and a degree-8 minimax polynomial on |r| <= ln 2 / 2 (fitted to relative error; a Taylor
/// polynomial needs degree 10 for the same accuracy). Below -700 the result (< 1e-304) is clamped
/// there, which is 0 as f32 anyway. libm's `exp` is a call per value; this is inline arithmetic,
/// with fused multiply-adds when `FMA`.
#[inline(always)]
fn exp_nonpositive<const FMA: bool>(x: f64) -> f64 {
    // ln 2 split in two (fdlibm's constants) so that k * LN2_HI is exact.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    // Adding 1.5 * 2^52 rounds to an integer in the default rounding mode.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let x = if x < -700.0 { -700.0 } else { x };
    let kf = (x * std::f64::consts::LOG2_E + ROUND) - ROUND;
    let r = madd::<FMA>(-kf, LN2_LO, madd::<FMA>(-kf, LN2_HI, x));
    // Coefficients of r^8 down to r^2, near-minimax for the relative error of exp on
    // [-ln 2 / 2, ln 2 / 2] (iteratively reweighted least squares; 1.14e-12 at most); the constant
    // and linear terms are exactly 1, so exp(0) is exactly 1.
    let mut p = 2.470_808_214_426_157_5e-5;
    for c in [
        1.990_900_778_157_719e-4,
        1.388_919_802_820_807e-3,
        8.333_281_702_922_465e-3,
        4.166_666_439_612_608e-2,
        1.666_666_678_480_434e-1,
        5.000_000_000_429_019e-1,
        1.0,
        1.0,
    ] {
        p = madd::<FMA>(p, r, c);
    }
    // k is in [-1010, 0], so the biased exponent stays positive. k is read from the low bits of
    // the rounded sum (whose last place is 1) rather than converted with `as i64`: that conversion
    // has no vector instruction before AVX-512 and would make the whole loop scalar. For NaN, `p`
    // is NaN and so is the product, whatever the scale.
    let k = (x * std::f64::consts::LOG2_E + ROUND)
        .to_bits()
        .wrapping_sub(ROUND.to_bits());
    p * f64::from_bits(k.wrapping_add(1023) << 52)
}

#[inline(always)]
fn gaussian(x: f64, mu: f64, sigma: f64) -> f64 {
    let z = (x - mu) / sigma;
    (-0.5 * z * z).exp()
}

/// The trapezoid a-b-c-d (a triangle when b == c) without branches on `x`: the rising edge
/// `(x - a) / (b - a)` and the falling edge `(d - x) / (d - c)`, the smaller of the two, clamped to
/// [0, 1]. On the plateau both are >= 1; beyond a or d one is <= 0. A vertical edge (a == b or
/// c == d) is a step that includes its corner, so shoulders give exactly 1 there.
#[inline(always)]
fn plateau(x: f64, a: f64, b: f64, c: f64, d: f64) -> f64 {
    let step = |inside: bool| if inside { 1.0 } else { 0.0 };
    let up = if b > a {
        (x - a) / (b - a)
    } else {
        step(x >= a)
    };
    let down = if d > c {
        (d - x) / (d - c)
    } else {
        step(x <= d)
    };
    let m = up.min(down).clamp(0.0, 1.0);
    // `min` would drop a NaN operand; an undefined input stays undefined.
    if x.is_nan() { f64::NAN } else { m }
}

impl fmt::Display for Membership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Membership::Triangular { a, b, c } => write!(f, "triangular [{a}, {b}, {c}]"),
            Membership::Trapezoidal { a, b, c, d } => {
                write!(f, "trapezoidal [{a}, {b}, {c}, {d}]")
            }
            Membership::Gaussian { mu, sigma } => write!(f, "gaussian [{mu}, {sigma}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tri(a: f64, b: f64, c: f64) -> Membership {
        Membership::new("triangular", &[a, b, c]).unwrap()
    }

    #[test]
    fn triangle_corners_are_exact() {
        let t = tri(0.0, 20.0, 35.0);
        assert_eq!(t.degree(-1.0), 0.0);
        assert_eq!(t.degree(0.0), 0.0);
        assert_eq!(t.degree(10.0), 0.5);
        assert_eq!(t.degree(20.0), 1.0);
        assert_eq!(t.degree(27.5), 0.5);
        assert_eq!(t.degree(35.0), 0.0);
        assert_eq!(t.degree(100.0), 0.0);
    }

    #[test]
    fn shoulders_are_vertical() {
        let left = tri(0.0, 0.0, 10.0);
        assert_eq!(left.degree(0.0), 1.0);
        assert_eq!(left.degree(-0.001), 0.0);
        assert_eq!(left.degree(5.0), 0.5);
        let right = tri(90.0, 100.0, 100.0);
        assert_eq!(right.degree(100.0), 1.0);
        assert_eq!(right.degree(100.001), 0.0);
        assert_eq!(right.degree(95.0), 0.5);
        let spike = tri(5.0, 5.0, 5.0);
        assert_eq!(spike.degree(5.0), 1.0);
        assert_eq!(spike.degree(5.0001), 0.0);
    }

    #[test]
    fn trapezoid_corners_are_exact() {
        let t = Membership::new("trapezoidal", &[0.0, 10.0, 20.0, 40.0]).unwrap();
        for (x, m) in [
            (0.0, 0.0),
            (5.0, 0.5),
            (10.0, 1.0),
            (15.0, 1.0),
            (20.0, 1.0),
            (30.0, 0.5),
            (40.0, 0.0),
            (41.0, 0.0),
        ] {
            assert_eq!(t.degree(x), m, "at {x}");
        }
        let shoulders = Membership::new("trapezoidal", &[0.0, 0.0, 20.0, 20.0]).unwrap();
        assert_eq!(shoulders.degree(0.0), 1.0);
        assert_eq!(shoulders.degree(20.0), 1.0);
        assert_eq!(shoulders.degree(20.5), 0.0);
    }

    #[test]
    fn gaussian_is_one_at_the_mean() {
        let g = Membership::new("gaussian", &[50.0, 10.0]).unwrap();
        assert_eq!(g.degree(50.0), 1.0);
        assert_eq!(g.degree(60.0), (-0.5f64).exp());
        assert_eq!(g.degree(40.0), g.degree(60.0));
    }

    #[test]
    fn nan_stays_nan() {
        assert!(tri(0.0, 1.0, 2.0).degree(f64::NAN).is_nan());
        let g = Membership::new("gaussian", &[0.0, 1.0]).unwrap();
        assert!(g.degree(f64::NAN).is_nan());
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Membership::new("triangular", &[3.0, 2.0, 1.0]).is_err());
        assert!(Membership::new("triangular", &[1.0, 2.0]).is_err());
        assert!(Membership::new("trapezoidal", &[0.0, 2.0, 1.0, 3.0]).is_err());
        assert!(Membership::new("gaussian", &[0.0, 0.0]).is_err());
        assert!(Membership::new("gaussian", &[0.0, -1.0]).is_err());
        assert!(Membership::new("triangular", &[0.0, f64::NAN, 1.0]).is_err());
        assert!(Membership::new("bell", &[0.0, 1.0]).is_err());
    }

    #[test]
    fn fast_exp_matches_libm() {
        // Both variants, whatever this CPU has (`mul_add` is correctly rounded either way).
        for exp in [exp_nonpositive::<false>, exp_nonpositive::<true>] {
            let mut x = 0.0f64;
            while x > -750.0 {
                let (fast, slow) = (exp(x), x.max(-700.0).exp());
                assert!(
                    (fast - slow).abs() <= 1e-11 * slow,
                    "exp({x}): {fast} vs {slow}"
                );
                x -= 0.0137;
            }
            assert!(exp(f64::NAN).is_nan());
            assert_eq!(exp(0.0), 1.0);
        }
    }

    proptest! {
        /// The f32 path is the f64 one rounded to f32, give or take one f32 step.
        #[test]
        fn the_f32_path_agrees_with_degree(
            mut p in proptest::collection::vec(-100.0f64..100.0, 4),
            xs in proptest::collection::vec(-200.0f64..200.0, 1..50),
        ) {
            p.sort_by(f64::total_cmp);
            for m in [
                Membership::new("triangular", &p[..3]).unwrap(),
                Membership::new("trapezoidal", &[p[0], p[0], p[2], p[3]]).unwrap(),
                Membership::new("trapezoidal", &p).unwrap(),
                Membership::new("gaussian", &[p[0], p[1].abs() + 0.1]).unwrap(),
            ] {
                // The dispatched path (AVX2 and FMA where the CPU has them) and the portable one.
                let mut portable = vec![0.0f32; xs.len()];
                degrees_f32::<false>(&m, &xs, &mut portable);
                for ((x, fast), plain) in xs.iter().zip(m.apply_f32(&xs)).zip(portable) {
                    let slow = m.degree(*x) as f32;
                    prop_assert!((fast - slow).abs() <= 1.2e-7, "{m} at {x}: {fast} vs {slow}");
                    prop_assert!((plain - slow).abs() <= 1.2e-7, "{m} at {x}: {plain} vs {slow}");
                }
            }
        }

        #[test]
        fn degrees_lie_in_the_unit_interval(
            mut p in proptest::collection::vec(-100.0f64..100.0, 4),
            x in -200.0f64..200.0,
        ) {
            p.sort_by(f64::total_cmp);
            for m in [
                Membership::new("triangular", &p[..3]).unwrap(),
                Membership::new("trapezoidal", &p).unwrap(),
                Membership::new("gaussian", &[p[0], p[1].abs() + 0.1]).unwrap(),
            ] {
                let d = m.degree(x);
                prop_assert!((0.0..=1.0).contains(&d), "{m} at {x} gave {d}");
            }
        }
    }

    #[test]
    fn kinds_and_display_name_the_parameters() {
        let trap = Membership::new("trapezoidal", &[0.0, 1.0, 2.0, 3.0]).unwrap();
        let gauss = Membership::new("gaussian", &[0.5, 0.25]).unwrap();
        assert_eq!(tri(0.0, 20.0, 35.0).kind(), "triangular");
        assert_eq!(trap.kind(), "trapezoidal");
        assert_eq!(gauss.kind(), "gaussian");
        assert_eq!(tri(0.0, 20.0, 35.0).to_string(), "triangular [0, 20, 35]");
        assert_eq!(trap.to_string(), "trapezoidal [0, 1, 2, 3]");
        assert_eq!(gauss.to_string(), "gaussian [0.5, 0.25]");
        // Every kind the file format names builds from its own name.
        for kind in Membership::KINDS {
            let n = match kind {
                "gaussian" => 2,
                "triangular" => 3,
                _ => 4,
            };
            let p: Vec<f64> = (1..=n).map(f64::from).collect();
            assert_eq!(Membership::new(kind, &p).unwrap().kind(), kind);
        }
    }

    #[test]
    fn a_rectangle_is_one_inside_and_zero_outside() {
        // Both edges vertical: the branch-free f32 path's step-step case.
        let rect = Membership::new("trapezoidal", &[1.0, 1.0, 2.0, 2.0]).unwrap();
        let xs = [0.5, 1.0, 1.5, 2.0, 2.5, f64::NAN];
        assert_eq!(rect.apply(&xs)[..5], [0.0, 1.0, 1.0, 1.0, 0.0]);
        let f = rect.apply_f32(&xs);
        assert_eq!(f[..5], [0.0, 1.0, 1.0, 1.0, 0.0]);
        assert!(f[5].is_nan());
    }

    #[test]
    fn portable_f32_path_matches_the_scalar_degrees() {
        // The AVX2 path runs wherever the CPU has it; the portable one must agree with `degree`.
        let xs: Vec<f64> = (-40..=140)
            .map(|i| f64::from(i) * 0.75)
            .chain([f64::NAN])
            .collect();
        for m in [
            tri(0.0, 20.0, 35.0),
            tri(0.0, 0.0, 10.0),
            Membership::new("trapezoidal", &[10.0, 20.0, 60.0, 60.0]).unwrap(),
            Membership::new("gaussian", &[50.0, 12.5]).unwrap(),
        ] {
            let mut out = vec![0f32; xs.len()];
            degrees_f32::<false>(&m, &xs, &mut out);
            for (x, got) in xs.iter().zip(&out) {
                let want = m.degree(*x) as f32;
                assert!(
                    (want.is_nan() && got.is_nan()) || (want - got).abs() <= 1e-6,
                    "{m} at {x}: {got} vs {want}"
                );
            }
        }
    }
}
