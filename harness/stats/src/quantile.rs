//! Quantiles of a sorted sample and their distribution-free confidence intervals.
//!
//! Benchmark times are skewed and multi-modal, so the intervals here assume nothing about
//! their shape: the number of samples below the true `p`-quantile is Binomial(n, p) whatever
//! the distribution, which turns a pair of order statistics into an exact-coverage interval.

use crate::summary::Interval;

/// The `p`-quantile of `sorted` (ascending) by linear interpolation between order statistics
/// (R type 7, numpy's default), so our numbers match what users check them against.
///
/// `p` is clamped to `[0, 1]`. An empty slice, or a NaN `p`, gives NaN.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || p.is_nan() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let i = h.floor() as usize;
    let frac = h - i as f64;
    if i + 1 >= n || frac == 0.0 {
        return sorted[i.min(n - 1)];
    }
    let (a, b) = (sorted[i], sorted[i + 1]);
    // Kept within [a, b] so that rounding can never make the quantile decrease as p grows.
    (a + frac * (b - a)).max(a).min(b)
}

/// Distribution-free confidence interval for the median: order statistics chosen from the
/// binomial distribution (see [`quantile_ci`]).
///
/// When the sample is too small for any pair of order statistics to reach `confidence`
/// (n < 6 at 95%), this returns the full range `min..=max`, whose coverage is then below
/// `confidence`: the honest interval is wider than the data. An empty slice gives NaN bounds.
pub fn median_ci(sorted: &[f64], confidence: f64) -> Interval {
    match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) => {
            quantile_ci(sorted, 0.5, confidence).unwrap_or(Interval { lo, hi })
        }
        _ => Interval {
            lo: f64::NAN,
            hi: f64::NAN,
        },
    }
}

/// Distribution-free, equal-tailed confidence interval for the `p`-quantile of `sorted`.
///
/// With B ~ Binomial(n, p) the count of samples below the true quantile, the interval is
/// `[x_(l), x_(u)]` (1-based order statistics) with the largest `l` such that P(B < l) <= α/2
/// and the smallest `u` such that P(B >= u) <= α/2, where α = 1 - `confidence`; its coverage
/// is therefore at least `confidence`. Returns `None` when a bound would fall outside the
/// sample (the sample is too small to bound this quantile), or when `p` or `confidence` is
/// not strictly between 0 and 1.
pub fn quantile_ci(sorted: &[f64], p: f64, confidence: f64) -> Option<Interval> {
    let (l, u) = rank_bounds(sorted.len(), p, confidence)?;
    Some(Interval {
        lo: sorted[l - 1],
        hi: sorted[u - 1],
    })
}

/// Whether `n` samples can bound the `p`-quantile at `confidence`, i.e. [`quantile_ci`]
/// exists. This is the rule for printing a percentile at all: below it, "p99" would only be
/// the maximum under another name.
///
/// At 95% the smallest supporting n is 6 for p50, 36 for p90, 72 for p95 and 368 for p99
/// (the sample must be large enough that p^n <= 2.5%).
pub fn percentile_supported(n: usize, p: f64, confidence: f64) -> bool {
    rank_bounds(n, p, confidence).is_some()
}

/// The smallest sample count that supports the `p`-quantile at `confidence`
/// ([`percentile_supported`]); `None` beyond ten million.
pub fn samples_for_percentile(p: f64, confidence: f64) -> Option<usize> {
    // The support only grows with n: double to a bracket, then bisect it.
    let mut hi = 1;
    while !percentile_supported(hi, p, confidence) {
        hi *= 2;
        if hi > 10_000_000 {
            return None;
        }
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if percentile_supported(mid, p, confidence) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The median's precision: the larger distance from the median to an end of its
/// distribution-free confidence interval, as a fraction of the median. Infinite for an
/// empty sample or a zero median.
pub fn median_ci_half_width(sorted: &[f64], confidence: f64) -> f64 {
    let m = quantile(sorted, 0.5);
    if sorted.is_empty() || m <= 0.0 {
        return f64::INFINITY;
    }
    let ci = median_ci(sorted, confidence);
    (m - ci.lo).max(ci.hi - m) / m
}

/// 1-based ranks `(l, u)` of the order statistics bounding the `p`-quantile, if both lie in
/// `1..=n`. Tail sums add the smallest terms first, each term computed directly in log space,
/// so n up to millions neither overflows nor accumulates error.
fn rank_bounds(n: usize, p: f64, confidence: f64) -> Option<(usize, usize)> {
    let valid = |x: f64| x > 0.0 && x < 1.0;
    if n == 0 || !valid(p) || !valid(confidence) {
        return None;
    }
    let half_alpha = (1.0 - confidence) / 2.0;
    // l - 1 = the largest k with P(B <= k) <= α/2.
    let mut lower_tail = 0.0;
    let mut l = 0;
    while l <= n {
        lower_tail += binomial_pmf(n, l, p);
        if lower_tail > half_alpha {
            break;
        }
        l += 1;
    }
    // u = the smallest k with P(B >= k) <= α/2.
    let mut upper_tail = 0.0;
    let mut u = n + 1;
    while u > 0 {
        let next = upper_tail + binomial_pmf(n, u - 1, p);
        if next > half_alpha {
            break;
        }
        upper_tail = next;
        u -= 1;
    }
    (l >= 1 && u <= n && l <= u).then_some((l, u))
}

/// P(B = k) for B ~ Binomial(n, p), via log-factorials so that no intermediate overflows.
fn binomial_pmf(n: usize, k: usize, p: f64) -> f64 {
    let ln_choose = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
    let (k, rest) = (k as f64, (n - k) as f64);
    (ln_choose + k * p.ln() + rest * (-p).ln_1p()).exp()
}

/// ln(k!): the exact product for small k, Stirling's series from 32 on (truncation
/// error below 1e-16 there).
fn ln_factorial(k: usize) -> f64 {
    if k < 32 {
        return (2..=k).map(|i| i as f64).product::<f64>().ln();
    }
    let x = k as f64;
    let (x2, ln_2pi) = (x * x, (2.0 * std::f64::consts::PI).ln());
    let series = 1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * x2)) / x2) / x2;
    x * x.ln() - x + 0.5 * (ln_2pi + x.ln()) + series / x
}

#[cfg(test)]
mod tests {
    /// Precision-targeted stopping on synthetic samples: log-normal times with a 10% spread
    /// reach a ±1% median interval somewhere in the hundreds of samples, never in twenty,
    /// and once reached the interval is what was asked.
    #[test]
    fn the_median_interval_narrows_to_a_target_as_samples_grow() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut samples = Vec::new();
        let mut reached = None;
        while samples.len() < 100_000 {
            let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            samples.push(1e-3 * (0.1 * z).exp());
            let mut sorted = samples.clone();
            sorted.sort_by(f64::total_cmp);
            if samples.len() == 20 {
                assert!(median_ci_half_width(&sorted, 0.95) > 0.01);
            }
            if samples.len() >= 6 && median_ci_half_width(&sorted, 0.95) <= 0.01 {
                reached = Some(samples.len());
                break;
            }
        }
        let n = reached.expect("reached the target");
        // σ ≈ 0.1: half-width ≈ 1.96 · 1.2533 · σ / √n ⇒ n ≈ 600.
        assert!((200..2000).contains(&n), "n = {n}");
        assert_eq!(median_ci_half_width(&[], 0.95), f64::INFINITY);
    }

    #[test]
    fn samples_for_percentile_is_the_smallest_supporting_count() {
        assert_eq!(samples_for_percentile(0.9, 0.95), Some(36));
        assert_eq!(samples_for_percentile(0.95, 0.95), Some(72));
        assert_eq!(samples_for_percentile(0.99, 0.95), Some(368));
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantile_matches_hand_computed_type_7() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.5), 2.5);
        assert!((quantile(&xs, 0.9) - 3.7).abs() < 1e-12); // h = 3 * 0.9 = 2.7 -> 3 + 0.7
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 4.0);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn ln_factorial_is_continuous_at_the_switch_to_stirling() {
        // ln(32!) computed as a sum of logs, against the Stirling branch.
        let direct: f64 = (2..=32).map(|i| (i as f64).ln()).sum();
        assert!((ln_factorial(32) - direct).abs() < 1e-12);
        assert!((ln_factorial(31) + 32f64.ln() - ln_factorial(32)).abs() < 1e-12);
    }

    #[test]
    fn median_ci_of_ten_is_order_statistics_2_and_9() {
        // Bin(10, 0.5): P(B <= 1) = 11/1024 = 0.0107 <= 0.025 < P(B <= 2) = 56/1024 = 0.0547,
        // so l = 2 and, by symmetry, u = 9; coverage 1 - 22/1024 = 0.9785.
        assert_eq!(rank_bounds(10, 0.5, 0.95), Some((2, 9)));
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_ci(&xs, 0.95), Interval { lo: 2.0, hi: 9.0 });
    }

    #[test]
    fn median_ci_of_hundred_matches_published_table() {
        // Standard tables (e.g. Conover, Practical Nonparametric Statistics) give the 40th and
        // 61st order statistics for n = 100 at 95%: P(B <= 39) = 0.0176, P(B <= 40) = 0.0284.
        assert_eq!(rank_bounds(100, 0.5, 0.95), Some((40, 61)));
    }

    #[test]
    fn median_ci_of_tiny_samples_is_the_full_range() {
        // 0.5^5 = 0.031 > 0.025: no pair of order statistics of 5 samples reaches 95%.
        assert_eq!(quantile_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 0.95), None);
        assert_eq!(
            median_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95),
            Interval { lo: 1.0, hi: 5.0 }
        );
        assert_eq!(median_ci(&[3.0], 0.95), Interval { lo: 3.0, hi: 3.0 });
        // 0.5^6 = 0.0156 <= 0.025: six samples give the full range as a real 96.9% interval.
        assert_eq!(rank_bounds(6, 0.5, 0.95), Some((1, 6)));
    }

    #[test]
    fn minimum_n_for_percentile_support_at_95_percent() {
        // Exact thresholds: the smallest n with p^n <= 0.025 (ln 0.025 / ln p rounded up;
        // p90: 0.9^35 = 0.02503 fails, 0.9^36 = 0.02253 passes; p99: 0.99^367 = 0.02500
        // just fails, 0.99^368 = 0.02475 passes).
        for (p, min_n) in [(0.5, 6), (0.9, 36), (0.95, 72), (0.99, 368)] {
            assert!(
                !percentile_supported(min_n - 1, p, 0.95),
                "p{p} at n={}",
                min_n - 1
            );
            assert!(percentile_supported(min_n, p, 0.95), "p{p} at n={min_n}");
            // Low percentiles are bounded by the same rule from the other side.
            assert!(!percentile_supported(min_n - 1, 1.0 - p, 0.95));
            assert!(percentile_supported(min_n, 1.0 - p, 0.95));
        }
    }

    #[test]
    fn rank_bounds_match_scipy() {
        // l - 1 = largest k with binom.cdf(k, n, p) <= 0.025 and u = smallest k with
        // binom.sf(k - 1, n, p) <= 0.025, from scipy.stats 1.17.1. For n = 1e6, p = 0.5:
        // cdf(499019) = 0.024939 <= 0.025 < cdf(499020) = 0.025056.
        for (n, p, ranks) in [
            (500, 0.9, (436, 464)),
            (1000, 0.99, (983, 997)),
            (10_000, 0.999, (9983, 9997)),
            (1_000_000, 0.5, (499_020, 500_981)),
        ] {
            assert_eq!(rank_bounds(n, p, 0.95), Some(ranks), "n = {n}, p = {p}");
        }
        let total: f64 = (0..=1000).map(|k| binomial_pmf(1000, k, 0.3)).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn invalid_arguments_give_none_not_a_panic() {
        let xs = [1.0; 100];
        for (p, c) in [
            (0.0, 0.95),
            (1.0, 0.95),
            (f64::NAN, 0.95),
            (0.5, 1.0),
            (0.5, 0.0),
        ] {
            assert_eq!(quantile_ci(&xs, p, c), None);
        }
        assert!(median_ci(&[], 0.95).lo.is_nan());
    }

    fn sorted_sample() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(-1e6f64..1e6, 1..200).prop_map(|mut v| {
            v.sort_by(f64::total_cmp);
            v
        })
    }

    proptest! {
        #[test]
        fn quantile_is_monotone_in_p(xs in sorted_sample(), p in 0.0f64..=1.0, q in 0.0f64..=1.0) {
            let (lo, hi) = if p <= q { (p, q) } else { (q, p) };
            prop_assert!(quantile(&xs, lo) <= quantile(&xs, hi));
        }

        #[test]
        fn median_ci_contains_the_median(xs in sorted_sample(), c in 0.5f64..0.999) {
            let ci = median_ci(&xs, c);
            let m = quantile(&xs, 0.5);
            prop_assert!(ci.lo <= m && m <= ci.hi, "{ci:?} vs {m}");
        }

        #[test]
        fn quantile_ci_contains_the_quantile(xs in sorted_sample(), p in 0.01f64..0.99) {
            if let Some(ci) = quantile_ci(&xs, p, 0.95) {
                let q = quantile(&xs, p);
                prop_assert!(ci.lo <= q && q <= ci.hi, "{ci:?} vs {q}");
            }
        }
    }
}
