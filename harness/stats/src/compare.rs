//! The one verdict function: did `b` get faster or slower than `a`, or can we not tell?
//!
//! Every place that says "faster" or "slower" — `harness compare`, `harness check`,
//! `harness history`, reports — calls [`verdict`], so the rule exists once.
//!
//! # The rule
//!
//! With times as samples, `a` the baseline, `b` the candidate, the ratio of medians
//! `r = median(b) / median(a)` with its percentile-bootstrap CI ([`ratio_of_medians`]), the
//! two-sided Mann–Whitney U p-value `p` ([`mann_whitney_u`]), the noise threshold `t` (a
//! fraction: 0.05 = 5%) and the significance level `α = 1 − opts.confidence`, the first rule
//! that applies decides:
//!
//! 1. **inconclusive** — a side has no samples, or the ratio is not finite.
//! 2. **inconclusive** — the sample sizes cannot reach significance: even two completely
//!    separated samples of these sizes give `p ≥ α` (3 against 3 gives at best `p = 0.1`).
//!    No change of any size is detectable ([`Comparison::min_detectable_effect`] is `None`),
//!    and the rule names the sample size that would be needed. A bootstrap CI of so few
//!    samples is not trustworthy either, so this rule comes before the CI rules.
//! 3. **slower** / **faster** — significant (`p < α`) AND the CI lies wholly above `1 + t`
//!    (slower) or wholly below `1 − t` (faster).
//! 4. **unchanged** — the CI lies wholly inside the band `[1 − t, 1 + t]`, significant or
//!    not: whatever changed is smaller than the noise.
//! 5. **inconclusive** — significant, but the CI straddles an edge of the band: there is a
//!    change, but it cannot be told apart from noise of size `t`.
//! 6. **inconclusive** — not significant, but the CI reaches beyond the band: too noisy to
//!    rule out a change bigger than `t`. The minimum detectable effect says how big a change
//!    this comparison could have caught.
//!
//! # Choices
//!
//! - `α` is tied to the CI's confidence level (95% → α = 0.05, criterion's and Google
//!   Benchmark's level), so the test and the interval speak at the same level. asv uses
//!   α = 0.002 with a 10% ratio threshold; here the threshold already carries the
//!   run-to-run noise (the caller passes max(user minimum, measured noise)), and samples
//!   within one run are not independent, so the CI-outside-the-band condition, not the
//!   p-value, is what keeps an A/A comparison from ever reading "slower". A stricter α is
//!   one `Options { confidence: 0.998, .. }` away.
//! - The band is symmetric in the ratio, `[1 − t, 1 + t]`: 20% slower is `r = 1.2`, 20%
//!   faster is `r = 0.8` (`b` takes 80% of `a`'s time).
//! - Only "slower" should fail a CI gate; "inconclusive" is reported, never silently
//!   turned into "unchanged".

use serde::{Deserialize, Serialize};

use crate::bootstrap::{Estimate, ratio_of_medians};
use crate::mann_whitney::mann_whitney_u;
use crate::summary::{Interval, Options};

/// The outcome of [`verdict`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// `b` is faster than `a` by more than the noise threshold, significantly.
    Faster,
    /// `b` is slower than `a` by more than the noise threshold, significantly.
    Slower,
    /// Any change is within the noise threshold.
    Unchanged,
    /// The data cannot tell (too few samples, or too noisy for the threshold).
    Inconclusive,
}

impl Verdict {
    /// `faster`, `slower`, `unchanged` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything [`verdict`] decided from, so that a report can show its reasoning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `median(b) / median(a)` with its bootstrap CI (above 1: `b` is slower).
    pub ratio: Estimate,
    /// Two-sided Mann–Whitney U p-value of `a` against `b`.
    pub p_value: f64,
    pub verdict: Verdict,
    /// Which rule decided, in words, with the numbers it compared.
    pub rule: String,
    /// The smallest relative change of the median this comparison could have called faster
    /// or slower: the threshold plus the CI's relative half-width (0.12 = 12%). `None` when
    /// no change of any size is detectable (too few samples, or no samples).
    pub min_detectable_effect: Option<f64>,
    /// The noise threshold used (a fraction) and the significance level.
    pub threshold: f64,
    pub alpha: f64,
}

/// Compares `b` (candidate) with `a` (baseline); see the [module docs](self) for the rule.
///
/// `threshold` is the noise band as a fraction (0.05 = ±5%); a negative or NaN threshold
/// counts as 0. `opts` gives the bootstrap (resamples, seed) and the confidence level, from
/// which `α = 1 − confidence`. Deterministic: the same inputs give the same comparison.
pub fn verdict(a: &[f64], b: &[f64], threshold: f64, opts: &Options) -> Comparison {
    let t = if threshold.is_nan() {
        0.0
    } else {
        threshold.max(0.0)
    };
    let alpha = 1.0 - opts.confidence;
    let band = Interval {
        lo: 1.0 - t,
        hi: 1.0 + t,
    };
    let done = |ratio, p_value, verdict, rule: String, mde| Comparison {
        ratio,
        p_value,
        verdict,
        rule,
        min_detectable_effect: mde,
        threshold: t,
        alpha,
    };
    let nan = Estimate {
        point: f64::NAN,
        ci: Interval {
            lo: f64::NAN,
            hi: f64::NAN,
        },
    };

    // Rule 1: nothing to compare.
    if a.is_empty() || b.is_empty() {
        let rule = format!("no samples on one side ({} vs {})", a.len(), b.len());
        return done(nan, 1.0, Verdict::Inconclusive, rule, None);
    }

    // Rule 2: these sample sizes can never reach significance.
    let best_p = min_attainable_p(a.len(), b.len());
    let test = mann_whitney_u(a, b);
    if best_p >= alpha {
        let need = match min_samples_per_side(alpha) {
            Some(n) => format!("at least {n} per side"),
            None => "more samples".to_string(),
        };
        let rule = format!(
            "too few samples: {} vs {} can at best reach p = {} ≥ α = {}, so no change of any \
             size is detectable; need {need}",
            a.len(),
            b.len(),
            fmt_p(best_p),
            fmt_p(alpha),
        );
        let ratio = Estimate {
            point: median_ratio(a, b),
            ci: nan.ci,
        };
        return done(ratio, test.p_value, Verdict::Inconclusive, rule, None);
    }

    let ratio = ratio_of_medians(a, b, opts);
    let p = test.p_value;
    let ci = ratio.ci;
    if !(ratio.point.is_finite() && ci.lo.is_finite() && ci.hi.is_finite()) {
        let rule = "the ratio of medians is not finite (a median is 0 or not a number)".to_string();
        return done(ratio, p, Verdict::Inconclusive, rule, None);
    }
    let mde = t + ((ratio.point - ci.lo).max(ci.hi - ratio.point) / ratio.point).max(0.0);
    let significant = p < alpha;
    let sig_text = if significant {
        format!("p = {} < α = {}", fmt_p(p), fmt_p(alpha))
    } else {
        format!("p = {} ≥ α = {}", fmt_p(p), fmt_p(alpha))
    };
    let ci_text = format!(
        "the ratio's {}% CI [{:.3}, {:.3}]",
        fmt_pct(opts.confidence),
        ci.lo,
        ci.hi
    );
    let band_text = format!("±{}%", fmt_pct(t));

    // Rule 3: significant and wholly outside the band.
    if significant && ci.lo > band.hi {
        let rule = format!(
            "{sig_text} and {ci_text} lies wholly above 1 + {}%",
            fmt_pct(t)
        );
        return done(ratio, p, Verdict::Slower, rule, Some(mde));
    }
    if significant && ci.hi < band.lo {
        let rule = format!(
            "{sig_text} and {ci_text} lies wholly below 1 − {}%",
            fmt_pct(t)
        );
        return done(ratio, p, Verdict::Faster, rule, Some(mde));
    }
    // Rule 4: wholly inside the band.
    if ci.lo >= band.lo && ci.hi <= band.hi {
        let rule = format!("{ci_text} lies inside the {band_text} noise band ({sig_text})");
        return done(ratio, p, Verdict::Unchanged, rule, Some(mde));
    }
    // Rules 5 and 6: the CI straddles the band or reaches beyond it.
    let rule = if significant {
        format!(
            "{sig_text}, but {ci_text} overlaps the {band_text} noise band: a change, not \
             distinguishable from noise"
        )
    } else {
        format!(
            "{sig_text} and {ci_text} reaches beyond the {band_text} noise band: too noisy to \
             rule out a change; detectable from about {}%",
            fmt_pct(mde)
        )
    };
    done(ratio, p, Verdict::Inconclusive, rule, Some(mde))
}

/// The smallest two-sided Mann–Whitney p-value that samples of sizes `na` and `nb` can give:
/// that of two completely separated samples without ties (3 vs 3: 2 / C(6, 3) = 0.1).
pub fn min_attainable_p(na: usize, nb: usize) -> f64 {
    if na == 0 || nb == 0 {
        return 1.0;
    }
    let low: Vec<f64> = (0..na).map(|i| i as f64).collect();
    let high: Vec<f64> = (na..na + nb).map(|i| i as f64).collect();
    mann_whitney_u(&low, &high).p_value
}

/// The smallest `n` such that `n` vs `n` samples can reach `p < alpha` (up to 1000).
pub fn min_samples_per_side(alpha: f64) -> Option<usize> {
    (1..=1000).find(|&n| min_attainable_p(n, n) < alpha)
}

/// `median(b) / median(a)` without an interval.
fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    let med = |xs: &[f64]| {
        let mut v = xs.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        crate::quantile::quantile(&v, 0.5)
    };
    med(b) / med(a)
}

/// A p-value or level: 3 decimals, or 2 significant digits in scientific notation when
/// smaller than 0.001.
fn fmt_p(p: f64) -> String {
    if p >= 0.001 || p == 0.0 {
        let s = format!("{p:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() {
            "0".to_string()
        } else {
            s.to_string()
        }
    } else {
        format!("{p:.1e}")
    }
}

/// A fraction as a percentage with at most one decimal: 0.05 → `5`, 0.123 → `12.3`.
fn fmt_pct(x: f64) -> String {
    let s = format!("{:.1}", x * 100.0);
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn opts() -> Options {
        Options {
            resamples: 2000,
            ..Options::default()
        }
    }

    /// `n` lognormal-ish times around `median` with relative spread `cv`.
    fn times(rng: &mut ChaCha8Rng, n: usize, median: f64, cv: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                // Sum of uniforms: roughly normal, plus a rare slow tail like real timings.
                let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                let tail = if rng.random::<f64>() < 0.03 { 1.5 } else { 1.0 };
                median * (cv * z).exp() * tail
            })
            .collect()
    }

    #[test]
    fn min_attainable_p_matches_the_exact_distribution() {
        // 2 / C(6, 3) = 0.1; 2 / C(8, 4) = 2/70; 2 / C(5, 2) = 0.2.
        assert!((min_attainable_p(3, 3) - 0.1).abs() < 1e-12);
        assert!((min_attainable_p(4, 4) - 2.0 / 70.0).abs() < 1e-12);
        assert!((min_attainable_p(2, 3) - 0.2).abs() < 1e-12);
        assert_eq!(min_attainable_p(0, 5), 1.0);
        assert_eq!(min_samples_per_side(0.05), Some(4));
        // asv's α: C(2n, n) / 2 > 500 first at n = 7 (C(14, 7) = 3432; C(12, 6) = 924 → 0.0022).
        assert_eq!(min_samples_per_side(0.002), Some(7));
    }

    #[test]
    fn twenty_percent_slower_is_slower() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let a = times(&mut rng, 60, 1e-3, 0.03);
        let b = times(&mut rng, 60, 1.2e-3, 0.03);
        let c = verdict(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Slower, "{c:?}");
        assert!((c.ratio.point - 1.2).abs() < 0.05, "{c:?}");
        assert!(c.rule.contains("wholly above"), "{}", c.rule);
        let back = verdict(&b, &a, 0.05, &opts());
        assert_eq!(back.verdict, Verdict::Faster, "{back:?}");
    }

    #[test]
    fn three_samples_per_side_are_inconclusive_whatever_the_effect() {
        let c = verdict(&[1.0, 1.01, 1.02], &[2.0, 2.01, 2.02], 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert_eq!(c.min_detectable_effect, None);
        assert!((c.ratio.point - 2.01 / 1.01).abs() < 1e-12);
        assert!(
            c.rule.contains("too few samples") && c.rule.contains("p = 0.1"),
            "{}",
            c.rule
        );
        assert!(c.rule.contains("at least 4 per side"), "{}", c.rule);
    }

    #[test]
    fn tiny_change_with_tight_ci_is_unchanged() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let a = times(&mut rng, 400, 1e-3, 0.005);
        let b = times(&mut rng, 400, 1.01e-3, 0.005);
        let c = verdict(&a, &b, 0.05, &opts());
        assert!(c.p_value < 0.05, "a real 1% shift is significant: {c:?}");
        assert_eq!(c.verdict, Verdict::Unchanged, "{c:?}");
        assert!(c.rule.contains("inside the ±5% noise band"), "{}", c.rule);
        let mde = c.min_detectable_effect.unwrap();
        assert!(mde > 0.05 && mde < 0.06, "{mde}");
    }

    #[test]
    fn noisy_small_samples_are_inconclusive_with_an_effect_size_stated() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a = times(&mut rng, 8, 1e-3, 0.3);
        let b = times(&mut rng, 8, 1e-3, 0.3);
        let c = verdict(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive, "{c:?}");
        assert!(c.min_detectable_effect.unwrap() > 0.1, "{c:?}");
        assert!(c.rule.contains("too noisy"), "{}", c.rule);
    }

    #[test]
    fn significant_change_straddling_the_band_is_inconclusive() {
        // A clear 5% shift judged against a 5% band: the CI straddles 1.05.
        let a: Vec<f64> = (0..200).map(|i| 1.0 + 0.0005 * f64::from(i % 40)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.05).collect();
        let c = verdict(&a, &b, 0.05, &opts());
        assert!(c.p_value < 0.05);
        assert_eq!(c.verdict, Verdict::Inconclusive, "{c:?}");
        assert!(c.rule.contains("overlaps"), "{}", c.rule);
    }

    #[test]
    fn degenerate_inputs_are_inconclusive() {
        let c = verdict(&[], &[1.0; 10], 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(c.rule.contains("no samples"));
        let zeros = verdict(&[0.0; 10], &[1.0; 10], 0.05, &opts());
        assert_eq!(zeros.verdict, Verdict::Inconclusive, "{zeros:?}");
        // A NaN or negative threshold counts as 0.
        assert_eq!(
            verdict(&[1.0; 10], &[1.0; 10], f64::NAN, &opts()).threshold,
            0.0
        );
    }

    #[test]
    fn identical_samples_are_unchanged() {
        let xs: Vec<f64> = (1..=50).map(f64::from).collect();
        let c = verdict(&xs, &xs, 0.05, &opts());
        assert_eq!(c.ratio.point, 1.0);
        assert_ne!(c.verdict, Verdict::Slower);
        assert_ne!(c.verdict, Verdict::Faster);
    }

    #[test]
    fn a_over_a_is_never_slower_over_many_seeds() {
        // Independent draws from one distribution, at the sizes and noise levels benchmarks
        // see, judged against a threshold of twice the CV (the round spread of such data):
        // never "slower" or "faster". 300 seeds x 4 shapes.
        let mut counts = std::collections::HashMap::new();
        for seed in 0..300u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for &(n, cv) in &[(5usize, 0.1), (12, 0.05), (40, 0.02), (200, 0.01)] {
                let a = times(&mut rng, n, 1e-3, cv);
                let b = times(&mut rng, n, 1e-3, cv);
                let o = Options {
                    resamples: 500,
                    seed,
                    ..Options::default()
                };
                let c = verdict(&a, &b, (2.0 * cv).max(0.01), &o);
                assert!(
                    !matches!(c.verdict, Verdict::Slower | Verdict::Faster),
                    "seed {seed}, n {n}, cv {cv}: {c:?}"
                );
                *counts.entry(c.verdict).or_insert(0) += 1;
            }
        }
        assert!(
            counts.get(&Verdict::Unchanged).copied().unwrap_or(0) > 600,
            "{counts:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn verdict_agrees_with_its_own_numbers(
            a in prop::collection::vec(0.5f64..2.0, 1..40),
            b in prop::collection::vec(0.5f64..2.0, 1..40),
            t in 0.0f64..0.3,
        ) {
            let o = Options { resamples: 300, ..Options::default() };
            let c = verdict(&a, &b, t, &o);
            match c.verdict {
                Verdict::Slower => prop_assert!(c.p_value < c.alpha && c.ratio.ci.lo > 1.0 + t),
                Verdict::Faster => prop_assert!(c.p_value < c.alpha && c.ratio.ci.hi < 1.0 - t),
                Verdict::Unchanged => {
                    prop_assert!(c.ratio.ci.lo >= 1.0 - t && c.ratio.ci.hi <= 1.0 + t)
                }
                Verdict::Inconclusive => {}
            }
            // Swapping the sides swaps faster and slower.
            let back = verdict(&b, &a, t, &o).verdict;
            if c.verdict == Verdict::Slower { prop_assert_ne!(back, Verdict::Slower); }
            if c.verdict == Verdict::Faster { prop_assert_ne!(back, Verdict::Faster); }
        }
    }
}
