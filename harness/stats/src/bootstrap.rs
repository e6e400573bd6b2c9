//! Deterministic percentile bootstrap: confidence intervals for statistics with no handy
//! formula (the mean of a skewed sample, a ratio of medians) without assuming a distribution.
//!
//! The generator is ChaCha8 seeded from [`Options::seed`], so the same samples and options
//! give bit-identical intervals on every machine: results can be recomputed and diffed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::quantile::quantile;
use crate::summary::{Interval, Options};

/// A point estimate with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub point: f64,
    pub ci: Interval,
}

/// Percentile-bootstrap CI of `statistic` over `samples`: the α/2 and 1-α/2 quantiles of the
/// statistic over `opts.resamples` resamples drawn with replacement.
///
/// An empty sample gives NaN bounds; `resamples == 0` gives the degenerate interval at the
/// statistic of the sample itself. The result depends on the order of `samples`: pass them
/// sorted when the caller needs order invariance.
pub fn bootstrap_ci(
    samples: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    opts: &Options,
) -> Interval {
    if samples.is_empty() {
        return Interval {
            lo: f64::NAN,
            hi: f64::NAN,
        };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut buf = vec![0.0; samples.len()];
    let stats = (0..opts.resamples)
        .map(|_| {
            resample(samples, &mut buf, &mut rng);
            statistic(&buf)
        })
        .collect();
    percentile_interval(stats, opts.confidence).unwrap_or_else(|| {
        let s = statistic(samples);
        Interval { lo: s, hi: s }
    })
}

/// How many times larger the median of `b` is than the median of `a`, `median(b) /
/// median(a)`, with a two-sample percentile-bootstrap CI (`a` and `b` resampled
/// independently, as they are independent runs).
///
/// Direction: with `a` the baseline and `b` the candidate, and times as samples, a ratio
/// below 1 means `b` is faster (0.8: `b` takes 80% of `a`'s time, a speed-up of 1/0.8 = 1.25).
/// An empty side gives NaN; `resamples == 0` gives a degenerate CI at the point.
pub fn ratio_of_medians(a: &[f64], b: &[f64], opts: &Options) -> Estimate {
    let nan = Interval {
        lo: f64::NAN,
        hi: f64::NAN,
    };
    if a.is_empty() || b.is_empty() {
        return Estimate {
            point: f64::NAN,
            ci: nan,
        };
    }
    let (mut buf_a, mut buf_b) = (a.to_vec(), b.to_vec());
    let point = sorted_median(&mut buf_b) / sorted_median(&mut buf_a);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let ratios = (0..opts.resamples)
        .map(|_| {
            resample(a, &mut buf_a, &mut rng);
            resample(b, &mut buf_b, &mut rng);
            sorted_median(&mut buf_b) / sorted_median(&mut buf_a)
        })
        .collect();
    let ci = percentile_interval(ratios, opts.confidence).unwrap_or(Interval {
        lo: point,
        hi: point,
    });
    Estimate { point, ci }
}

/// How many times larger `b`'s level is than `a`'s, when each side is a set of worker
/// processes (`a[i]`: the samples of process `i`), with a two-level bootstrap CI.
///
/// The level of a side is the median of its per-process medians: a process that landed in
/// a slow mode counts once, however many samples it took. The CI comes from resampling at
/// both levels (Davison & Hinkley 1997, §3.8; Saravanan et al. 2020, "Application of the
/// hierarchical bootstrap to multi-level data"): draw processes with replacement, then
/// within each drawn process draw its samples with replacement, and take the statistic of
/// that. Between-process variation, the part that a pooled bootstrap treats as if it
/// averaged away, is what widens the interval. Empty processes are ignored; a side without
/// samples gives NaN.
pub fn ratio_of_process_medians(a: &[&[f64]], b: &[&[f64]], opts: &Options) -> Estimate {
    let nonempty = |side: &[&[f64]]| -> Vec<Vec<f64>> {
        side.iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.to_vec())
            .collect()
    };
    let (a, b) = (nonempty(a), nonempty(b));
    if a.is_empty() || b.is_empty() {
        let nan = Interval {
            lo: f64::NAN,
            hi: f64::NAN,
        };
        return Estimate {
            point: f64::NAN,
            ci: nan,
        };
    }
    let point = level(&mut b.clone()) / level(&mut a.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let (mut draw_a, mut draw_b) = (Draw::new(&a), Draw::new(&b));
    let ratios = (0..opts.resamples)
        .map(|_| {
            let la = draw_a.level(&a, &mut rng);
            let lb = draw_b.level(&b, &mut rng);
            lb / la
        })
        .collect();
    let ci = percentile_interval(ratios, opts.confidence).unwrap_or(Interval {
        lo: point,
        hi: point,
    });
    Estimate { point, ci }
}

/// The median of per-process medians (reorders each process's samples).
pub fn level(processes: &mut [Vec<f64>]) -> f64 {
    let mut medians: Vec<f64> = processes.iter_mut().map(|p| sorted_median(p)).collect();
    sorted_median(&mut medians)
}

/// Scratch space for one side's two-level resample.
struct Draw {
    buf: Vec<f64>,
    medians: Vec<f64>,
}

impl Draw {
    fn new(side: &[Vec<f64>]) -> Draw {
        let longest = side.iter().map(Vec::len).max().unwrap_or(0);
        Draw {
            buf: vec![0.0; longest],
            medians: vec![0.0; side.len()],
        }
    }

    /// One two-level resample of `side`, reduced to its level.
    fn level(&mut self, side: &[Vec<f64>], rng: &mut ChaCha8Rng) -> f64 {
        for m in self.medians.iter_mut() {
            let process = &side[rng.random_range(0..side.len())];
            let buf = &mut self.buf[..process.len()];
            resample(process, buf, rng);
            *m = sorted_median(buf);
        }
        sorted_median(&mut self.medians)
    }
}

/// Fills `buf` (same length as `samples`) with a draw with replacement from `samples`.
fn resample(samples: &[f64], buf: &mut [f64], rng: &mut ChaCha8Rng) {
    for slot in buf.iter_mut() {
        *slot = samples[rng.random_range(0..samples.len())];
    }
}

/// Sorts `xs` in place and returns its median.
fn sorted_median(xs: &mut [f64]) -> f64 {
    // Selection, not a full sort: the same type-7 median in O(n) per resample, which keeps
    // ratio CIs over thousands of samples at milliseconds.
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (below, &mut upper, _) = xs.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = below
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(upper);
        (lower + upper) / 2.0
    }
}

fn percentile_interval(mut stats: Vec<f64>, confidence: f64) -> Option<Interval> {
    if stats.is_empty() {
        return None;
    }
    stats.sort_unstable_by(f64::total_cmp);
    let half_alpha = (1.0 - confidence) / 2.0;
    Some(Interval {
        lo: quantile(&stats, half_alpha),
        hi: quantile(&stats, 1.0 - half_alpha),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::mean;
    use proptest::prelude::*;

    #[test]
    fn two_point_sample_spans_both_points() {
        // Resampled means of [0, 1] are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5%
        // and 97.5% quantiles of that distribution are 0 and 1.
        let ci = bootstrap_ci(&[0.0, 1.0], mean, &Options::default());
        assert_eq!(ci, Interval { lo: 0.0, hi: 1.0 });
    }

    #[test]
    fn mean_ci_matches_the_normal_approximation_for_a_flat_sample() {
        // 1..=100: mean 50.5, s = 29.011, s / sqrt(100) = 2.9011; 1.96 * 2.9011 = 5.686, and
        // the bootstrap uses the n (not n - 1) standard error, 0.995 times that: 5.658.
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        let ci = bootstrap_ci(&xs, mean, &Options::default());
        assert!((ci.lo - (50.5 - 5.658)).abs() < 0.3, "{ci:?}");
        assert!((ci.hi - (50.5 + 5.658)).abs() < 0.3, "{ci:?}");
    }

    #[test]
    fn same_seed_same_interval_other_seed_other_interval() {
        let xs: Vec<f64> = (0..30).map(|i| f64::from(i * i % 17)).collect();
        let opts = Options {
            resamples: 1000,
            ..Options::default()
        };
        assert_eq!(
            bootstrap_ci(&xs, mean, &opts),
            bootstrap_ci(&xs, mean, &opts)
        );
        let other = Options {
            seed: 1,
            ..opts.clone()
        };
        assert_ne!(
            bootstrap_ci(&xs, mean, &opts),
            bootstrap_ci(&xs, mean, &other)
        );
    }

    #[test]
    fn degenerate_inputs() {
        assert!(bootstrap_ci(&[], mean, &Options::default()).lo.is_nan());
        let none = Options {
            resamples: 0,
            ..Options::default()
        };
        assert_eq!(
            bootstrap_ci(&[1.0, 3.0], mean, &none),
            Interval { lo: 2.0, hi: 2.0 }
        );
        assert!(ratio_of_medians(&[], &[1.0], &none).point.is_nan());
    }

    #[test]
    fn ratio_direction_is_b_over_a() {
        let a: Vec<f64> = (1..=50).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|x| 2.0 * x).collect();
        let est = ratio_of_medians(&a, &b, &Options::default());
        assert_eq!(est.point, 2.0);
        assert!(est.ci.lo < 2.0 && 2.0 < est.ci.hi, "{est:?}");
        assert_eq!(ratio_of_medians(&b, &a, &Options::default()).point, 0.5);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn bootstrap_mean_ci_contains_the_mean(xs in prop::collection::vec(-1e3f64..1e3, 1..80)) {
            let opts = Options { resamples: 1000, ..Options::default() };
            let ci = bootstrap_ci(&xs, mean, &opts);
            prop_assert!(ci.lo <= ci.hi);
            prop_assert!(ci.contains(mean(&xs)), "{ci:?} vs {}", mean(&xs));
        }

        #[test]
        fn ratio_of_identical_samples_is_one(xs in prop::collection::vec(0.1f64..100.0, 1..60)) {
            let opts = Options { resamples: 1000, ..Options::default() };
            let est = ratio_of_medians(&xs, &xs, &opts);
            prop_assert_eq!(est.point, 1.0);
            prop_assert!(est.ci.contains(1.0), "{:?}", est);
        }
    }
}
