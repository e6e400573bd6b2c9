//! Branch-free f32 transcendentals that LLVM can vectorise (no libm calls in hot loops).
//!
//! Every function is `#[inline(always)]` and generic over `FMA`, so the element-wise kernels
//! compiled under an ISA's `target_feature`s get fused multiply-adds and full-width vectors.
//! Special cases are handled with selects, never branches. Accuracy (checked against f64 in
//! the tests below): exp, log ≤ 2 ulp; tanh ≤ 3 ulp; erf |err| < 3e-7.

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
            1.987_569_15e-4,
            1.398_199_95e-3,
            8.333_451_9e-3,
            4.166_579_6e-2,
            1.666_666_55e-1,
            5.000_000_1e-1,
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
            2.063_908_9e-2,
            -5.373_971_6e-2,
            1.333_144_2e-1,
            -3.333_328_2e-1,
        ],
    );
    let small = fma::<FMA>(p * z, x, x);
    // tanh(9) rounds to 1 in f32; clamping keeps e finite.
    let e = exp::<FMA>(2.0 * a.min(9.0));
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    if a < 0.625 { small } else { large }
}

/// erf x as x P(x²) / Q(x²) on [-4, 4] (±1 beyond): the rational fit Eigen and XLA use.
#[inline(always)]
pub fn erf<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let z = x * x;
    let p = poly::<FMA, 7>(
        z,
        [
            -2.726_142_3e-10,
            2.770_681_4e-8,
            -2.101_024e-6,
            -5.692_506_4e-5,
            -7.349_906_3e-4,
            -2.954_6e-3,
            -1.609_603_3e-2,
        ],
    );
    let q = poly::<FMA, 5>(
        z,
        [
            -1.456_607_2e-5,
            -2.133_740_6e-4,
            -1.682_827e-3,
            -7.373_329_5e-3,
            -1.426_474e-2,
        ],
    );
    x * p / q
}

/// GELU with the exact erf.
#[inline(always)]
pub fn gelu<const FMA: bool>(x: f32) -> f32 {
    0.5 * x * (1.0 + erf::<FMA>(x * std::f32::consts::FRAC_1_SQRT_2))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest error in ulps of the f32 result over `n` points of [lo, hi], for both FMA modes.
    fn max_ulp(f: fn(f32) -> f32, g: fn(f32) -> f32, reference: fn(f64) -> f64, lo: f32, hi: f32) -> f64 {
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
    fn erf_is_within_3e_7() {
        let n = 400_000;
        let mut worst = 0f64;
        for i in 0..=n {
            let x = -6.0 + 12.0 * i as f32 / n as f32;
            let want = libm::erf(x as f64);
            for got in [erf::<true>(x), erf::<false>(x)] {
                worst = worst.max((got as f64 - want).abs());
            }
        }
        assert!(worst < 3e-7, "{worst}");
    }

    #[test]
    fn gelus_match_their_f64_definitions() {
        use crate::ops::UnaryOp;
        for (f, op) in [(gelu::<true> as fn(f32) -> f32, UnaryOp::Gelu), (gelu_tanh::<true>, UnaryOp::GeluTanh)] {
            for i in 0..=20_000 {
                let x = -10.0 + 20.0 * i as f32 / 20_000.0;
                let want = op.eval_f64(x as f64);
                let got = f(x) as f64;
                assert!((got - want).abs() <= 1e-6 + 1e-5 * want.abs(), "{op:?}({x}) = {got}, want {want}");
            }
        }
    }
}
