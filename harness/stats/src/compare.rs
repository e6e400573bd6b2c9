//! The one verdict function: did `b` get faster or slower than `a`, or can we not tell?
//!
//! Every place that says "faster" or "slower" — `harness compare`, `harness check`,
//! `harness history`, reports — calls [`verdict`], so the rule exists once.
//!
//! # The unit of replication is the worker process
//!
//! Each side is a list of worker processes, each with its own samples. Samples within one
//! process are not independent draws of "the speed of this build": a fresh process lands in
//! one of several speeds (code and data alignment, page placement, which core) and keeps it.
//! Measured on linear_layer (2 rounds per case, samples pooled): an unchanged binary read
//! 1.37× slower with p = 2e-36, because both of one run's processes had landed in the slow
//! mode. Pooling hundreds of samples from two processes claims a precision the data do not
//! have. So:
//!
//! - the level of a side is the median of its per-process medians;
//! - the ratio `r = level(b) / level(a)` gets its CI from a two-level bootstrap that
//!   resamples processes, then samples within them ([`ratio_of_process_medians`]);
//! - the test is the two-sided Mann–Whitney U on the per-process medians ([`mann_whitney_u`]):
//!   `k` processes are `k` observations, whatever their sample counts.
//!
//! # The rule
//!
//! With `t` the noise threshold (a fraction: 0.05 = 5%) and `α = 1 − opts.confidence`, the
//! first rule that applies decides:
//!
//! 1. **inconclusive** — a side has no samples, or the ratio is not finite.
//! 2. **inconclusive** — too few processes to ever reach significance: even completely
//!    separated process medians give `p ≥ α` (3 against 3 gives at best `p = 0.1`; 4 per side
//!    is the least that can reach α = 0.05). The rule names the count that would be needed.
//! 3. **slower** / **faster** — significant (`p < α`) AND the CI lies wholly above `1 + t`
//!    (slower) or wholly below `1 − t` (faster) AND each side's processes agree: the spread
//!    of its process medians, `(max − min) / level`, is within `t`. Where the processes of a
//!    side disagree beyond the threshold, the verdict is **inconclusive** with that reason:
//!    a bimodal build is not evidence of a change.
//! 4. **unchanged** — the CI lies wholly inside the band `[1 − t, 1 + t]`, significant or
//!    not: whatever changed is smaller than the noise.
//! 5. **inconclusive** — significant, but the CI straddles an edge of the band.
//! 6. **inconclusive** — not significant, but the CI reaches beyond the band: too noisy to
//!    rule out a change bigger than `t`. The minimum detectable effect says how big a change
//!    this comparison could have caught.
//!
//! # Choices
//!
//! - `α` is tied to the CI's confidence level (95% → α = 0.05, criterion's and Google
//!   Benchmark's level), so the test and the interval speak at the same level.
//! - The band is symmetric in the ratio, `[1 − t, 1 + t]`: 20% slower is `r = 1.2`, 20%
//!   faster is `r = 0.8` (`b` takes 80% of `a`'s time).
//! - Only "slower" should fail a CI gate; "inconclusive" is reported, never silently
//!   turned into "unchanged".

use serde::{Deserialize, Serialize};

use crate::bootstrap::{Estimate, ratio_of_process_medians};
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
    /// Two-sided Mann–Whitney U p-value of `a`'s per-process medians against `b`'s.
    pub p_value: f64,
    /// Worker processes with samples on each side.
    pub processes: [usize; 2],
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

/// Compares `b` (candidate) with `a` (baseline), each a list of worker processes' samples;
/// see the [module docs](self) for the rule.
///
/// `threshold` is the noise band as a fraction (0.05 = ±5%); a negative or NaN threshold
/// counts as 0. `opts` gives the bootstrap (resamples, seed) and the confidence level, from
/// which `α = 1 − confidence`. Deterministic: the same inputs give the same comparison.
pub fn verdict<P: AsRef<[f64]>>(a: &[P], b: &[P], threshold: f64, opts: &Options) -> Comparison {
    let a: Vec<&[f64]> = a.iter().map(AsRef::as_ref).collect();
    let b: Vec<&[f64]> = b.iter().map(AsRef::as_ref).collect();
    let (a, b) = (a.as_slice(), b.as_slice());
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
    let medians_a = process_medians(a);
    let medians_b = process_medians(b);
    let processes = [medians_a.len(), medians_b.len()];
    let done = |ratio, p_value, verdict, rule: String, mde| Comparison {
        ratio,
        p_value,
        processes,
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
    if medians_a.is_empty() || medians_b.is_empty() {
        let rule = format!(
            "no samples on one side ({} vs {} processes)",
            processes[0], processes[1]
        );
        return done(nan, 1.0, Verdict::Inconclusive, rule, None);
    }

    // Rule 2: this many processes can never reach significance.
    let best_p = min_attainable_p(processes[0], processes[1]);
    let test = mann_whitney_u(&medians_a, &medians_b);
    if best_p >= alpha {
        let need = match min_samples_per_side(alpha) {
            Some(n) => format!("at least {n} per side"),
            None => "more".to_string(),
        };
        let rule = format!(
            "too few worker processes: {} vs {} can at best reach p = {} ≥ α = {}, so no \
             change of any size is detectable; need {need}",
            processes[0],
            processes[1],
            fmt_p(best_p),
            fmt_p(alpha),
        );
        let ratio = Estimate {
            point: median(&medians_b) / median(&medians_a),
            ci: nan.ci,
        };
        return done(ratio, test.p_value, Verdict::Inconclusive, rule, None);
    }

    let ratio = ratio_of_process_medians(a, b, opts);
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

    // Rule 3: significant and wholly outside the band, with processes that agree.
    let outside = if significant && ci.lo > band.hi {
        Some((Verdict::Slower, "above 1 +"))
    } else if significant && ci.hi < band.lo {
        Some((Verdict::Faster, "below 1 −"))
    } else {
        None
    };
    if let Some((v, where_)) = outside {
        let disagree = [("A", &medians_a), ("B", &medians_b)]
            .into_iter()
            .map(|(side, m)| (side, m.len(), spread(m)))
            .find(|(_, _, s)| *s > t);
        if let Some((side, k, s)) = disagree {
            let rule = format!(
                "{sig_text} and {ci_text} lies wholly {where_} {}%, but {side}'s {k} worker \
                 processes disagree: their medians spread {}% > the {band_text} threshold",
                fmt_pct(t),
                fmt_pct(s),
            );
            return done(ratio, p, Verdict::Inconclusive, rule, Some(mde));
        }
        let rule = format!(
            "{sig_text} and {ci_text} lies wholly {where_} {}%",
            fmt_pct(t)
        );
        return done(ratio, p, v, rule, Some(mde));
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

/// The median of each process that has samples.
pub fn process_medians(processes: &[&[f64]]) -> Vec<f64> {
    processes
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| median(p))
        .collect()
}

/// `(max − min) / median` of a side's process medians: how far its processes disagree.
fn spread(medians: &[f64]) -> f64 {
    let (lo, hi) = medians
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &m| {
            (lo.min(m), hi.max(m))
        });
    (hi - lo) / median(medians)
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

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    crate::quantile::quantile(&v, 0.5)
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

    /// `k` worker processes of `n` samples each: every process's level is `median` moved by a
    /// normal draw of relative size `between`, then its samples scatter by `within`.
    fn processes(
        rng: &mut ChaCha8Rng,
        k: usize,
        n: usize,
        median: f64,
        between: f64,
        within: f64,
    ) -> Vec<Vec<f64>> {
        (0..k)
            .map(|_| {
                let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                times(rng, n, median * (between * z).exp(), within)
            })
            .collect()
    }

    fn refs(p: &[Vec<f64>]) -> Vec<&[f64]> {
        p.iter().map(Vec::as_slice).collect()
    }

    fn judge(a: &[Vec<f64>], b: &[Vec<f64>], t: f64, o: &Options) -> Comparison {
        verdict(&refs(a), &refs(b), t, o)
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
        let a = processes(&mut rng, 5, 60, 1e-3, 0.005, 0.03);
        let b = processes(&mut rng, 5, 60, 1.2e-3, 0.005, 0.03);
        let c = judge(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Slower, "{c:?}");
        assert_eq!(c.processes, [5, 5]);
        assert!((c.ratio.point - 1.2).abs() < 0.05, "{c:?}");
        assert!(c.rule.contains("wholly above"), "{}", c.rule);
        let back = judge(&b, &a, 0.05, &opts());
        assert_eq!(back.verdict, Verdict::Faster, "{back:?}");
    }

    #[test]
    fn three_processes_per_side_are_inconclusive_whatever_the_effect() {
        // Thousands of samples do not help: the processes are the observations.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let a = processes(&mut rng, 3, 1000, 1e-3, 0.001, 0.01);
        let b = processes(&mut rng, 3, 1000, 2e-3, 0.001, 0.01);
        let c = judge(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert_eq!(c.min_detectable_effect, None);
        assert!((c.ratio.point - 2.0).abs() < 0.02, "{c:?}");
        assert!(
            c.rule.contains("too few worker processes") && c.rule.contains("p = 0.1"),
            "{}",
            c.rule
        );
        assert!(c.rule.contains("at least 4 per side"), "{}", c.rule);
    }

    #[test]
    fn a_mode_change_between_processes_is_not_a_regression() {
        // The A/A failure that pooled samples produced: all of B's processes landed in a mode
        // 37% slower than A's, each process tight. Pooled, 2 x 250 samples read "slower" at
        // p = 1e-30; as processes, 2 vs 2 can prove nothing.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let a = processes(&mut rng, 2, 250, 98.7e-6, 0.002, 0.02);
        let b = processes(&mut rng, 2, 250, 135e-6, 0.002, 0.02);
        let c = judge(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive, "{c:?}");
        let pooled = |p: &[Vec<f64>]| vec![p.concat()];
        let naive = judge(&pooled(&a), &pooled(&b), 0.05, &opts());
        assert_eq!(naive.processes, [1, 1]);
        assert_eq!(naive.verdict, Verdict::Inconclusive, "{naive:?}");
    }

    #[test]
    fn processes_that_disagree_beyond_the_threshold_are_inconclusive() {
        // B is clearly slower overall, but one of its processes sits at A's level: the
        // processes disagree by far more than the 5% band.
        let a: Vec<Vec<f64>> = (0..6)
            .map(|i| vec![1.0 + 0.001 * f64::from(i); 50])
            .collect();
        let mut b: Vec<Vec<f64>> = (0..6)
            .map(|i| vec![1.5 + 0.001 * f64::from(i); 50])
            .collect();
        b[0] = vec![1.02; 50];
        let c = judge(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive, "{c:?}");
        assert!(
            c.rule.contains("B's 6 worker processes disagree"),
            "{}",
            c.rule
        );
        // Once that process agrees with the others, the same comparison is slower.
        b[0] = vec![1.5; 50];
        assert_eq!(judge(&a, &b, 0.05, &opts()).verdict, Verdict::Slower);
    }

    #[test]
    fn tiny_change_with_tight_ci_is_unchanged() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let a = processes(&mut rng, 8, 100, 1e-3, 0.002, 0.005);
        let b = processes(&mut rng, 8, 100, 1.01e-3, 0.002, 0.005);
        let c = judge(&a, &b, 0.05, &opts());
        assert!(c.p_value < 0.05, "a real 1% shift is significant: {c:?}");
        assert_eq!(c.verdict, Verdict::Unchanged, "{c:?}");
        assert!(c.rule.contains("inside the ±5% noise band"), "{}", c.rule);
        let mde = c.min_detectable_effect.unwrap();
        assert!(mde > 0.05 && mde < 0.07, "{mde}");
    }

    #[test]
    fn noisy_processes_are_inconclusive_with_an_effect_size_stated() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a = processes(&mut rng, 5, 20, 1e-3, 0.2, 0.05);
        let b = processes(&mut rng, 5, 20, 1e-3, 0.2, 0.05);
        let c = judge(&a, &b, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive, "{c:?}");
        assert!(c.min_detectable_effect.unwrap() > 0.1, "{c:?}");
        assert!(c.rule.contains("too noisy"), "{}", c.rule);
    }

    #[test]
    fn significant_change_straddling_the_band_is_inconclusive() {
        // A clear 5% shift judged against a 5% band: the CI straddles 1.05.
        let a: Vec<Vec<f64>> = (0..8)
            .map(|k| {
                (0..50)
                    .map(|i| 1.0 + 0.0005 * f64::from((i + 5 * k) % 40))
                    .collect()
            })
            .collect();
        let b: Vec<Vec<f64>> = a
            .iter()
            .map(|p| p.iter().map(|x| x * 1.05).collect())
            .collect();
        let c = judge(&a, &b, 0.05, &opts());
        assert!(c.p_value < 0.05);
        assert_eq!(c.verdict, Verdict::Inconclusive, "{c:?}");
        assert!(c.rule.contains("overlaps"), "{}", c.rule);
    }

    #[test]
    fn degenerate_inputs_are_inconclusive() {
        let ones = vec![vec![1.0; 10]; 5];
        let c = judge(&[], &ones, 0.05, &opts());
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(c.rule.contains("no samples"));
        // Empty processes are not processes.
        let hollow = vec![Vec::new(); 5];
        assert_eq!(judge(&hollow, &ones, 0.05, &opts()).processes, [0, 5]);
        let zeros = judge(&vec![vec![0.0; 10]; 5], &ones, 0.05, &opts());
        assert_eq!(zeros.verdict, Verdict::Inconclusive, "{zeros:?}");
        // A NaN or negative threshold counts as 0.
        assert_eq!(judge(&ones, &ones, f64::NAN, &opts()).threshold, 0.0);
    }

    #[test]
    fn identical_samples_are_unchanged() {
        let xs: Vec<Vec<f64>> = (0..5)
            .map(|k| (1..=50).map(|i| f64::from(i + k)).collect())
            .collect();
        let c = judge(&xs, &xs, 0.05, &opts());
        assert_eq!(c.ratio.point, 1.0);
        assert_ne!(c.verdict, Verdict::Slower);
        assert_ne!(c.verdict, Verdict::Faster);
    }

    #[test]
    fn a_over_a_is_never_slower_over_many_seeds() {
        // Independent runs of one build: processes whose levels vary by `between`, judged
        // against the threshold the harness would derive from that spread (about 3 of its
        // standard deviations): never "slower" or "faster". 200 seeds x 3 shapes.
        let mut counts = std::collections::HashMap::new();
        for seed in 0..200u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for &(k, n, between, within) in &[
                (5usize, 40usize, 0.02, 0.05),
                (5, 200, 0.01, 0.01),
                (10, 20, 0.03, 0.1),
            ] {
                let a = processes(&mut rng, k, n, 1e-3, between, within);
                let b = processes(&mut rng, k, n, 1e-3, between, within);
                let o = Options {
                    resamples: 500,
                    seed,
                    ..Options::default()
                };
                let c = judge(&a, &b, (3.0 * between).max(0.01), &o);
                assert!(
                    !matches!(c.verdict, Verdict::Slower | Verdict::Faster),
                    "seed {seed}, k {k}, between {between}: {c:?}"
                );
                *counts.entry(c.verdict).or_insert(0) += 1;
            }
        }
        assert!(
            counts.get(&Verdict::Unchanged).copied().unwrap_or(0) > 300,
            "{counts:?}"
        );
    }

    #[test]
    fn a_ten_percent_slowdown_is_found_with_five_processes() {
        // Power at the quick profile's shape: 5 processes per side, 1% between-process
        // noise, a 5% threshold: a 10% slowdown is "slower" in at least 95 of 100 seeds.
        let mut slower = 0;
        for seed in 0..100u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let a = processes(&mut rng, 5, 50, 1e-3, 0.01, 0.03);
            let b = processes(&mut rng, 5, 50, 1.1e-3, 0.01, 0.03);
            let o = Options {
                resamples: 500,
                seed,
                ..Options::default()
            };
            slower += usize::from(judge(&a, &b, 0.05, &o).verdict == Verdict::Slower);
        }
        assert!(slower >= 95, "{slower} of 100");
    }

    #[test]
    fn verdict_agrees_with_its_own_numbers() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..200 {
            let t = rng.random_range(0.0..0.3);
            let shift = rng.random_range(0.7..1.4);
            let between = rng.random_range(0.0..0.1);
            let k = rng.random_range(1..9);
            let a = processes(&mut rng, k, 20, 1.0, between, 0.05);
            let kb = rng.random_range(1..9);
            let b = processes(&mut rng, kb, 20, shift, between, 0.05);
            let o = Options {
                resamples: 300,
                ..Options::default()
            };
            let c = judge(&a, &b, t, &o);
            match c.verdict {
                Verdict::Slower => assert!(c.p_value < c.alpha && c.ratio.ci.lo > 1.0 + t),
                Verdict::Faster => assert!(c.p_value < c.alpha && c.ratio.ci.hi < 1.0 - t),
                Verdict::Unchanged => {
                    assert!(c.ratio.ci.lo >= 1.0 - t && c.ratio.ci.hi <= 1.0 + t)
                }
                Verdict::Inconclusive => {}
            }
            assert!(c.rule.len() > 10);
        }
    }
}
