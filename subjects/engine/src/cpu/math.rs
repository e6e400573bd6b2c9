//! Branch-free f32 transcendentals that LLVM can vectorise (no libm calls in hot loops).
//!
//! Every function is `#[inline(always)]` and generic over `FMA`, so the element-wise kernels
//! compiled under an ISA's `target_feature`s get fused multiply-adds and full-width vectors.
//! Special cases are handled with selects, never branches. Accuracy (checked against f64 in
//! the tests below): exp, log ≤ 2 ulp; tanh ≤ 3 ulp;
//! erfc (for GELU) relative error < 1e-6 for z < 2, < 1e-5 up to 9, so GELU is accurate to
//! that relative error everywhere (not just in absolute terms).

/// `a * b + c`, fused when the ISA has FMA (a libm call otherwise, so not then).
#[inline(always)]
pub fn fma<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// Horner evaluation of `coefs[0] * x^(n-1) + ... + coefs[n-1]`.
#[inline(always)]
fn poly<const FMA: bool, const N: usize>(x: f32, coefs: [f32; N]) -> f32 {
    let mut acc = coefs[0];
    let mut i = 1;
    while i < N {
        acc = fma::<FMA>(acc, x, coefs[i]);
        i += 1;
    }
    acc
}

/// 2^n for integer-valued `n` in [-150, 130], as two normal factors (so results in the
/// subnormal range round once and overflow gives infinity).
#[inline(always)]
fn scale_pow2(p: f32, n: i32) -> f32 {
    let n1 = n >> 1;
    let n2 = n - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    p * s1 * s2
}

/// e^x: x = n ln2 + r with |r| <= ln2/2, e^r by Cephes' degree-7 polynomial, times 2^n.
#[inline(always)]
pub fn exp<const FMA: bool>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Cody-Waite split of ln 2: the high part has few bits so n * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to an integer and leaves it in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let xc = x.clamp(-104.0, 89.0);
    let t = fma::<FMA>(xc, LOG2E, MAGIC);
    let n = t - MAGIC;
    let r = fma::<FMA>(n, -LN2_HI, xc);
    let r = fma::<FMA>(n, -LN2_LO, r);
    let p = poly::<FMA, 6>(
        r,
        [
            1.987_569_1e-4,
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            1.666_666_6e-1,
            5e-1,
        ],
    );
    let p = fma::<FMA>(p, r * r, r) + 1.0;
    let ni = t.to_bits() as i32 - MAGIC.to_bits() as i32;
    scale_pow2(p, ni)
}

/// ln x: x = m 2^e with m in [sqrt(1/2), sqrt 2), ln(m) by Cephes' polynomial.
#[inline(always)]
pub fn log<const FMA: bool>(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    // Subnormals: scale into the normal range first.
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * 8_388_608.0 } else { x };
    let bits = xs.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 126 - if sub { 23 } else { 0 };
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let small = m < SQRT_HALF;
    let e = (e - small as i32) as f32;
    let f = if small { m + m - 1.0 } else { m - 1.0 };
    let z = f * f;
    let p = poly::<FMA, 9>(
        f,
        [
            7.037_683_6e-2,
            -1.151_461e-1,
            1.167_699_9e-1,
            -1.242_014_1e-1,
            1.424_932_3e-1,
            -1.666_805_8e-1,
            2.000_071_5e-1,
            -2.499_999_4e-1,
            3.333_333e-1,
        ],
    );
    let y = p * f * z;
    let y = fma::<FMA>(e, -2.121_944_4e-4, y);
    let y = fma::<FMA>(z, -0.5, y);
    let r = fma::<FMA>(e, 0.693_359_4, f + y);
    let r = if x == 0.0 { f32::NEG_INFINITY } else { r };
    let r = if x == f32::INFINITY { x } else { r };
    if x < 0.0 || x.is_nan() { f32::NAN } else { r }
}

/// tanh x: Cephes' odd polynomial for |x| < 0.625, else 1 - 2 / (e^{2|x|} + 1).
#[inline(always)]
pub fn tanh<const FMA: bool>(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let p = poly::<FMA, 5>(
        z,
        [
            -5.704_988_7e-3,
            2.063_909e-2,
            -5.373_971_6e-2,
            1.333_144_2e-1,
            -3.333_328e-1,
        ],
    );
    let small = fma::<FMA>(p * z, x, x);
    // tanh(9) rounds to 1 in f32; clamping keeps e finite.
    let e = exp::<FMA>(2.0 * a.min(9.0));
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    if a < 0.625 { small } else { large }
}

/// erfc z for z >= 0: Numerical Recipes' `erfcc` (Chebyshev fit, fractional error
/// < 1.2e-7 in exact arithmetic). Relative accuracy where erfc is tiny is what GELU needs:
/// 1 + erf(x) = erfc(-x) cancels completely for x << 0 if computed from erf.
#[inline(always)]
pub fn erfc_pos<const FMA: bool>(z: f32) -> f32 {
    let t = 1.0 / fma::<FMA>(0.5, z, 1.0);
    let p = poly::<FMA, 10>(
        t,
        [
            0.170_872_77,
            -0.822_152_23,
            1.488_515_9,
            -1.135_204,
            0.278_868_07,
            -0.186_288_06,
            0.096_784_18,
            0.374_091_96,
            1.000_023_7,
            -1.265_512_2,
        ],
    );
    t * exp::<FMA>(fma::<FMA>(-z, z, p))
}

/// GELU with the exact erf: 0.5 x (1 + erf(x / sqrt 2)), with 1 + erf(u) = erfc(-u) for
/// u < 0 and 2 - erfc(u) otherwise, both accurate to a few ulp.
#[inline(always)]
pub fn gelu<const FMA: bool>(x: f32) -> f32 {
    let e = erfc_pos::<FMA>(x.abs() * std::f32::consts::FRAC_1_SQRT_2);
    0.5 * x * if x < 0.0 { e } else { 2.0 - e }
}

/// GELU, tanh form, written as x * sigmoid(2u): 0.5 (1 + tanh u) = 1 / (1 + e^{-2u}),
/// which keeps relative accuracy for negative x where 1 + tanh u cancels.
#[inline(always)]
pub fn gelu_tanh<const FMA: bool>(x: f32) -> f32 {
    const K: f32 = crate::ops::elementwise::SQRT_2_OVER_PI as f32;
    const C: f32 = crate::ops::elementwise::GELU_TANH_COEF as f32;
    let u = K * fma::<FMA>(C * x, x * x, x);
    x / (1.0 + exp::<FMA>(-2.0 * u))
}

/// ln(1 + e^x) = max(x, 0) + ln(1 + t), t = e^-|x| in (0, 1]. ln(1 + t) is taken as
/// ln(u) * t / (u - 1) with u = 1 + t rounded, which cancels u's rounding error (Goldberg's
/// log1p), so the small tail of softplus keeps its relative accuracy.
#[inline(always)]
pub fn softplus<const FMA: bool>(x: f32) -> f32 {
    let t = exp::<FMA>(-x.abs());
    let u = 1.0 + t;
    let d = u - 1.0;
    let log1p = if d == 0.0 { t } else { log::<FMA>(u) * (t / d) };
    x.max(0.0) + log1p
}

// The simple rows of the op table, so that every unary op names a kernel here.
#[inline(always)]
pub fn neg<const FMA: bool>(x: f32) -> f32 {
    -x
}
#[inline(always)]
pub fn relu<const FMA: bool>(x: f32) -> f32 {
    x.max(0.0)
}
#[inline(always)]
pub fn sqrt<const FMA: bool>(x: f32) -> f32 {
    x.sqrt()
}
#[inline(always)]
pub fn rsqrt<const FMA: bool>(x: f32) -> f32 {
    1.0 / x.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest error in ulps of the f32 result over `n` points of [lo, hi], for both FMA modes.
    fn max_ulp(
        f: fn(f32) -> f32,
        g: fn(f32) -> f32,
        reference: fn(f64) -> f64,
        lo: f32,
        hi: f32,
    ) -> f64 {
        let n = 200_000;
        let mut worst = 0f64;
        for i in 0..=n {
            let x = lo + (hi - lo) * i as f32 / n as f32;
            let want = reference(x as f64);
            let ulp = ((want as f32).abs().max(f32::MIN_POSITIVE) * f32::EPSILON) as f64;
            for got in [f(x), g(x)] {
                worst = worst.max((got as f64 - want).abs() / ulp);
            }
        }
        worst
    }

    #[test]
    fn exp_is_within_2_ulp() {
        let e = max_ulp(exp::<true>, exp::<false>, f64::exp, -87.0, 88.0);
        assert!(e <= 2.0, "{e} ulp");
    }

    #[test]
    fn exp_handles_the_extremes() {
        assert_eq!(exp::<true>(-200.0), 0.0);
        assert_eq!(exp::<true>(100.0), f32::INFINITY);
        assert!(exp::<true>(f32::NAN).is_nan());
        let sub = exp::<true>(-100.0) as f64;
        assert!((sub - (-100f64).exp()).abs() < 1.5e-45);
    }

    #[test]
    fn log_is_within_2_ulp() {
        let e = max_ulp(log::<true>, log::<false>, f64::ln, 1e-6, 1e4);
        assert!(e <= 2.0, "{e} ulp");
        assert_eq!(log::<true>(0.0), f32::NEG_INFINITY);
        assert!(log::<true>(-1.0).is_nan());
        assert_eq!(log::<true>(f32::INFINITY), f32::INFINITY);
        assert!((log::<true>(1e-40) as f64 - (1e-40f32 as f64).ln()).abs() < 1e-5);
    }

    #[test]
    fn tanh_is_within_3_ulp() {
        let e = max_ulp(tanh::<true>, tanh::<false>, f64::tanh, -12.0, 12.0);
        assert!(e <= 3.0, "{e} ulp");
    }

    #[test]
    fn erfc_is_relatively_accurate() {
        // The error grows with z through the rounding of z^2 in exp(-z^2 + ..).
        for (lo, hi, bound) in [(0.0, 2.0, 1e-6), (2.0, 4.0, 2e-6), (4.0, 9.0, 1e-5)] {
            let n = 100_000;
            let mut worst = 0f64;
            for i in 0..=n {
                let z = lo + (hi - lo) * i as f32 / n as f32;
                let want = libm::erfc(z as f64);
                for got in [erfc_pos::<true>(z), erfc_pos::<false>(z)] {
                    worst = worst.max((got as f64 - want).abs() / want);
                }
            }
            assert!(worst < bound, "[{lo}, {hi}]: {worst}");
        }
    }

    /// Every row of the op table: its f32 kernel against its f64 definition, over its
    /// domain, relative error 1e-5 (the GELUs' far tails set the bound, see above).
    #[test]
    fn every_kernel_matches_its_f64_definition() {
        use crate::ops::UnaryOp;
        macro_rules! kernels {
            ($( $(#[$doc:meta])* $v:ident($fn:ident) { flops: $fl:expr, cost: $c:expr,
                domain: ($lo:expr, $hi:expr), f64: $f64:expr, f32: $f32:ident, $($rest:tt)* } )*) => {
                [$( (UnaryOp::$v, $f32::<true> as fn(f32) -> f32, $f32::<false> as fn(f32) -> f32) ),*]
            };
        }
        for (op, with_fma, without) in crate::unary_ops!(kernels) {
            let (lo, hi) = op.domain();
            for i in 0..=20_000 {
                let x = (lo + (hi - lo) * i as f64 / 20_000.0) as f32;
                let want = op.eval_f64(x as f64);
                for got in [with_fma(x), without(x)] {
                    let tol = 1e-12 + 1e-5 * want.abs();
                    let got = got as f64;
                    assert!(
                        (got - want).abs() <= tol,
                        "{op:?}({x}) = {got}, want {want}"
                    );
                }
            }
        }
    }
}
