//! One sample's summary: every number a report prints about a case, each location estimate
//! with a confidence interval, so that no table shows a bare number that looks more certain
//! than it is.

use serde::{Deserialize, Serialize};

use crate::bootstrap::bootstrap_ci;
use crate::quantile::{median_ci, percentile_supported, quantile};

/// A closed interval `[lo, hi]`, the form of every confidence interval in this crate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// Whether `x` lies in `[lo, hi]`; verdicts ask this of a noise threshold or of 1.0.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// One requested percentile, absent when the sample is too small to support it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentile {
    /// The probability, e.g. 0.95 for p95.
    pub p: f64,
    /// `None` when the distribution-free CI of this percentile would reach past the sample
    /// ([`percentile_supported`]): then "p99" would just be the maximum under another name.
    pub value: Option<f64>,
}

/// Tukey-fence outlier counts (1.5 and 3 IQR beyond the quartiles). Outliers are counted,
/// never dropped: a slow tail is a property of the subject, not noise to hide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outliers {
    /// Below Q1 - 3 IQR.
    pub low_severe: usize,
    /// In [Q1 - 3 IQR, Q1 - 1.5 IQR).
    pub low_mild: usize,
    /// In (Q3 + 1.5 IQR, Q3 + 3 IQR].
    pub high_mild: usize,
    /// Above Q3 + 3 IQR.
    pub high_severe: usize,
}

impl Outliers {
    /// Counts `sorted` against Tukey's fences, quartiles by [`quantile`] (type 7).
    pub fn count(sorted: &[f64]) -> Self {
        let (q1, q3) = (quantile(sorted, 0.25), quantile(sorted, 0.75));
        let iqr = q3 - q1;
        let mut out = Outliers::default();
        for &x in sorted {
            if x < q1 - 3.0 * iqr {
                out.low_severe += 1;
            } else if x < q1 - 1.5 * iqr {
                out.low_mild += 1;
            } else if x > q3 + 3.0 * iqr {
                out.high_severe += 1;
            } else if x > q3 + 1.5 * iqr {
                out.high_mild += 1;
            }
        }
        out
    }

    /// All outliers, mild and severe, on both sides.
    pub fn total(&self) -> usize {
        self.low_severe + self.low_mild + self.high_mild + self.high_severe
    }
}

/// How to summarise: confidence level, bootstrap size and seed (recorded with the results so
/// that every interval can be recomputed bit for bit), and which percentiles to report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Confidence level of every interval, strictly between 0 and 1.
    pub confidence: f64,
    /// Bootstrap resamples: more give steadier interval ends, at linear cost.
    pub resamples: usize,
    /// Seed of the bootstrap's ChaCha8 generator: the same samples give the same interval.
    pub seed: u64,
    /// Percentiles to report, as probabilities.
    pub percentiles: Vec<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            confidence: 0.95,
            resamples: 10_000,
            seed: 0,
            percentiles: vec![0.5, 0.9, 0.95, 0.99],
        }
    }
}

/// The summary of one case's samples (times, or any other measure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Percentile-bootstrap CI of the mean.
    pub mean_ci: Interval,
    /// Type-7 median.
    pub median: f64,
    /// Distribution-free order-statistic CI of the median ([`median_ci`]).
    pub median_ci: Interval,
    pub min: f64,
    pub max: f64,
    /// Sample standard deviation (n - 1 denominator); 0 for a single sample.
    pub std_dev: f64,
    /// Coefficient of variation, `std_dev / mean`: noise relative to the level, comparable
    /// across cases. Infinite or NaN when the mean is 0.
    pub cv: f64,
    pub percentiles: Vec<Percentile>,
    pub outliers: Outliers,
    /// The confidence level of `mean_ci`, `median_ci` and percentile support.
    pub confidence: f64,
}

/// Summarises `samples`; `None` only when there are none.
///
/// Everything is computed from the sorted sample, so the result does not depend on the order
/// the samples came in. A single sample works: its intervals are degenerate and its standard
/// deviation is 0. Callers must not pass NaN: it is not filtered and makes the numbers
/// meaningless, but it does not panic (sorting uses `total_cmp`).
pub fn summarize(samples: &[f64], opts: &Options) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mean_ci = bootstrap_ci(&sorted, mean, opts);
    let mean = mean(&sorted);
    let std_dev = if n > 1 {
        (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let percentiles = opts
        .percentiles
        .iter()
        .map(|&p| Percentile {
            p,
            value: percentile_supported(n, p, opts.confidence).then(|| quantile(&sorted, p)),
        })
        .collect();
    Some(Summary {
        n,
        mean,
        mean_ci,
        median: quantile(&sorted, 0.5),
        median_ci: median_ci(&sorted, opts.confidence),
        min: sorted[0],
        max: sorted[n - 1],
        std_dev,
        cv: std_dev / mean,
        percentiles,
        outliers: Outliers::count(&sorted),
        confidence: opts.confidence,
    })
}

/// The arithmetic mean; NaN for an empty slice.
pub fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quick() -> Options {
        Options {
            resamples: 500,
            ..Options::default()
        }
    }

    #[test]
    fn hand_checked_moments() {
        // mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sqrt(32 / 7) = 2.138089935...
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], &quick()).unwrap();
        assert_eq!(
            (s.n, s.mean, s.median, s.min, s.max),
            (8, 5.0, 4.5, 2.0, 9.0)
        );
        assert!((s.std_dev - 2.138089935).abs() < 1e-9);
        assert!((s.cv - 2.138089935 / 5.0).abs() < 1e-9);
        assert!(s.mean_ci.contains(5.0));
        // n = 8 supports the median (0.5^8 <= 0.025) but none of the tail percentiles.
        let values: Vec<_> = s.percentiles.iter().map(|p| p.value).collect();
        assert_eq!(values, [Some(4.5), None, None, None]);
    }

    #[test]
    fn tukey_counts_verified_by_hand() {
        // n = 12. Type 7: Q1 at h = 11 * 0.25 = 2.75 -> 3 + 0.75 * (4 - 3) = 3.75;
        // Q3 at h = 8.25 -> 9 + 0.25 * (10 - 9) = 9.25; IQR = 5.5.
        // Inner fences 3.75 - 8.25 = -4.5 and 9.25 + 8.25 = 17.5;
        // outer fences 3.75 - 16.5 = -12.75 and 9.25 + 16.5 = 25.75.
        // So -20 is low severe, -5 low mild, 18 high mild, 40 high severe.
        let xs = [
            -20.0, -5.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 18.0, 40.0,
        ];
        let one_each = Outliers {
            low_severe: 1,
            low_mild: 1,
            high_mild: 1,
            high_severe: 1,
        };
        assert_eq!(summarize(&xs, &quick()).unwrap().outliers, one_each);
        assert_eq!(one_each.total(), 4);

        // Adding 25 (n = 13): Q1 = x_(4) = 4, Q3 = x_(10) = 10, IQR = 6; inner fences -5 and
        // 19, outer -14 and 28. -5 now sits on the fence, which is not beyond it; 18 is inside;
        // 25 is high mild.
        let mut xs = xs.to_vec();
        xs.push(25.0);
        let counts = Outliers {
            low_severe: 1,
            low_mild: 0,
            high_mild: 1,
            high_severe: 1,
        };
        assert_eq!(summarize(&xs, &quick()).unwrap().outliers, counts);
    }

    #[test]
    fn single_sample_is_degenerate_not_an_error() {
        let s = summarize(&[3.5], &Options::default()).unwrap();
        assert_eq!((s.mean, s.median, s.std_dev, s.cv), (3.5, 3.5, 0.0, 0.0));
        assert_eq!(s.mean_ci, Interval { lo: 3.5, hi: 3.5 });
        assert_eq!(s.median_ci, Interval { lo: 3.5, hi: 3.5 });
        assert!(s.percentiles.iter().all(|p| p.value.is_none()));
        assert_eq!(s.outliers.total(), 0);
        assert_eq!(summarize(&[], &Options::default()), None);
    }

    #[test]
    fn nan_input_does_not_panic() {
        let s = summarize(&[1.0, f64::NAN, 2.0, -f64::NAN], &quick()).unwrap();
        assert_eq!(s.n, 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn summarize_is_invariant_to_input_order(
            (xs, shuffled) in prop::collection::vec(-1e3f64..1e3, 1..60)
                .prop_flat_map(|xs| (Just(xs.clone()), Just(xs).prop_shuffle())),
        ) {
            prop_assert_eq!(summarize(&xs, &quick()), summarize(&shuffled, &quick()));
        }

        #[test]
        fn intervals_are_ordered_and_hold_their_estimates(xs in prop::collection::vec(-1e3f64..1e3, 1..60)) {
            let s = summarize(&xs, &quick()).unwrap();
            prop_assert!(s.mean_ci.lo <= s.mean_ci.hi);
            prop_assert!(s.median_ci.contains(s.median));
            prop_assert!(s.min <= s.median && s.median <= s.max);
            prop_assert!(s.outliers.total() <= s.n);
        }
    }
}
