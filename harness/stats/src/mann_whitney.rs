//! Two-sided Mann–Whitney U test: does one run tend to give larger values than the other?
//!
//! It uses ranks only, so a few huge outliers (a page fault, a preempted thread) cannot fake
//! or hide a change the way they can in a t-test on benchmark times.

use serde::{Deserialize, Serialize};

/// Result of [`mann_whitney_u`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U of the first sample: the number of pairs (x from `a`, y from `b`) with x > y, ties
    /// counting one half. It is R's `W` for `wilcox.test(a, b)`; swapping gives n_a n_b - U.
    pub u: f64,
    /// Normal score of `u`, tie- and continuity-corrected: positive when `a` tends to be
    /// larger. Reported even when `p_value` comes from the exact distribution.
    pub z: f64,
    /// Two-sided p-value: exact when both samples have at most 20 values and there are no
    /// ties, otherwise from the normal approximation.
    pub p_value: f64,
}

/// Largest sample size on either side for which the exact distribution is used.
const EXACT_MAX: usize = 20;

/// Two-sided Mann–Whitney U test of `a` against `b`.
///
/// Ties get mid-ranks and shrink the variance (tie correction). The continuity correction
/// never moves U past its mean, so a U within 0.5 of the mean gives p = 1. An empty sample
/// carries no evidence: U = 0, z = 0, p = 1. Callers must not pass NaN (it does not panic,
/// but the ranks are then meaningless).
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> MannWhitney {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return MannWhitney {
            u: 0.0,
            z: 0.0,
            p_value: 1.0,
        };
    }
    let (rank_sum_a, tie_sum) = rank_sum_of_first(a, b);
    let u = rank_sum_a - (na * (na + 1)) as f64 / 2.0;

    let (m, n, total) = (na as f64, nb as f64, (na + nb) as f64);
    let variance = m * n / 12.0 * ((total + 1.0) - tie_sum / (total * (total - 1.0)));
    let deviation = u - m * n / 2.0;
    let z = if variance > 0.0 {
        deviation.signum() * (deviation.abs() - 0.5).max(0.0) / variance.sqrt()
    } else {
        0.0 // every value tied: no evidence either way
    };
    let p_value = if na <= EXACT_MAX && nb <= EXACT_MAX && tie_sum == 0.0 {
        exact_p_value(u as usize, na, nb)
    } else {
        erfc(z.abs() / std::f64::consts::SQRT_2)
    };
    MannWhitney {
        u,
        z,
        p_value: p_value.min(1.0),
    }
}

/// Sum of the mid-ranks of `a` in the pooled sample, and Σ(t³ - t) over groups of t ties.
fn rank_sum_of_first(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&y| (y, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_sum, mut tie_sum) = (0.0, 0.0);
    let mut start = 0;
    while start < pooled.len() {
        let end = start
            + pooled[start..]
                .iter()
                .take_while(|v| v.0 == pooled[start].0)
                .count()
                .max(1);
        let t = (end - start) as f64;
        let mid_rank = (start + 1 + end) as f64 / 2.0; // mean of 1-based ranks start+1..=end
        rank_sum += mid_rank * pooled[start..end].iter().filter(|v| v.1).count() as f64;
        tie_sum += t * t * t - t;
        start = end;
    }
    (rank_sum, tie_sum)
}

/// Exact two-sided p-value of U = `u` (no ties): twice the smaller tail, capped at 1 (as R).
fn exact_p_value(u: usize, m: usize, n: usize) -> f64 {
    let counts = u_distribution(m, n);
    let total: f64 = counts.iter().sum();
    let lower: f64 = counts[..=u].iter().sum();
    let upper: f64 = counts[u..].iter().sum();
    (2.0 * lower.min(upper) / total).min(1.0)
}

/// Number of orderings of `m` + `n` distinct values giving each U of the first sample, for
/// U in 0..=m n. Built from f(i, j)[k] = f(i-1, j)[k-j] + f(i, j-1)[k] (the largest value
/// comes from the first sample and beats all j of the second, or from the second). The counts
/// stay below C(40, 20) ≈ 1.4e11, exact in an f64.
fn u_distribution(m: usize, n: usize) -> Vec<f64> {
    // prev[j] = f(i - 1, j); f(0, j) = f(i, 0) = [1].
    let mut prev: Vec<Vec<f64>> = vec![vec![1.0]; n + 1];
    for i in 1..=m {
        let mut cur: Vec<Vec<f64>> = vec![vec![1.0]];
        for j in 1..=n {
            let mut f = vec![0.0; i * j + 1];
            for (k, c) in prev[j].iter().enumerate() {
                f[k + j] += c;
            }
            for (k, c) in cur[j - 1].iter().enumerate() {
                f[k] += c;
            }
            cur.push(f);
        }
        prev = cur;
    }
    prev.swap_remove(n)
}

/// Complementary error function, Numerical Recipes' Chebyshev fit (`erfcc`, fractional error
/// below 1.2e-7 everywhere): ample for p-values, and std has no stable `erfc`.
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = [
        -1.26551223,
        1.00002368,
        0.37409196,
        0.09678418,
        -0.18628806,
        0.27886807,
        -1.13520398,
        1.48851587,
        -0.82215223,
        0.17087277,
    ]
    .iter()
    .rev()
    .fold(0.0, |acc, c| acc * t + c);
    let r = t * (-x * x + poly).exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(actual: f64, expected: f64, tol: f64) -> bool {
        (actual - expected).abs() <= tol
    }

    #[test]
    fn exact_small_example_from_r_documentation() {
        // R's ?wilcox.test (Hollander & Wolfe, 1973, p. 69):
        //   wilcox.test(x, y)  ->  W = 35, p-value = 0.2544 (exact).
        // scipy 1.17.1 mannwhitneyu(x, y, method="exact") agrees: 0.2544122544 = 764 / 3003,
        // i.e. 2 * P(U >= 35) with C(15, 5) = 3003 equally likely orderings.
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let r = mann_whitney_u(&x, &y);
        assert_eq!(r.u, 35.0);
        assert!(close(r.p_value, 764.0 / 3003.0, 1e-12), "{r:?}");
        let swapped = mann_whitney_u(&y, &x);
        assert_eq!(swapped.u, 15.0);
        assert_eq!(swapped.p_value, r.p_value);
    }

    #[test]
    fn exact_distribution_by_hand() {
        // Two against two: C(4, 2) = 6 orderings; U counts 0,1,2,2,3,4 -> [1, 1, 2, 1, 1].
        assert_eq!(u_distribution(2, 2), [1.0, 1.0, 2.0, 1.0, 1.0]);
        // [1, 2] vs [3, 4]: U = 0, p = 2 * 1/6 (R: W = 0, p-value = 0.3333).
        let r = mann_whitney_u(&[1.0, 2.0], &[3.0, 4.0]);
        assert_eq!(r.u, 0.0);
        assert!(close(r.p_value, 1.0 / 3.0, 1e-15));
        // The largest exact case still sums to C(40, 20) = 137846528820.
        assert_eq!(
            u_distribution(20, 20).iter().sum::<f64>(),
            137_846_528_820.0
        );
    }

    #[test]
    fn normal_approximation_with_ties_from_r_documentation() {
        // R's ?wilcox.test: wilcox.test(Ozone ~ Month, data = airquality,
        // subset = Month %in% c(5, 8)) -> W = 127.5, p-value = 0.0001208 (ties, so normal
        // approximation with continuity correction). Ozone of May and August 1973, NAs dropped.
        // By hand: Σ(t³ - t) = 90, var = 26·26/12 · (53 - 90 / (52·51)) = 2983.755,
        // z = (127.5 - 338 + 0.5) / 54.6238 = -3.84448.
        let may = [
            41., 36., 12., 18., 28., 23., 19., 8., 7., 16., 11., 14., 18., 14., 34., 6., 30., 11.,
            1., 11., 4., 32., 23., 45., 115., 37.,
        ];
        let august = [
            39., 9., 16., 78., 35., 66., 122., 89., 110., 44., 28., 65., 22., 59., 23., 31., 44.,
            21., 9., 45., 168., 73., 76., 118., 84., 85.,
        ];
        let r = mann_whitney_u(&may, &august);
        assert_eq!(r.u, 127.5);
        assert!(close(r.z, -3.844481, 1e-6), "{r:?}");
        assert!(close(r.p_value, 0.0001208078, 1e-9), "{r:?}");
    }

    #[test]
    fn normal_approximation_without_ties_beyond_exact_sizes() {
        // 0..30 against 7.5..32.5 (no ties, n = 30 and 25): scipy 1.17.1
        // mannwhitneyu(a, b, method="asymptotic") gives U = 253, p = 0.0400023311.
        let a: Vec<f64> = (0..30).map(f64::from).collect();
        let b: Vec<f64> = (0..25).map(|i| f64::from(i) + 7.5).collect();
        let r = mann_whitney_u(&a, &b);
        assert_eq!(r.u, 253.0);
        assert!(close(r.p_value, 0.0400023311, 1e-8), "{r:?}");
    }

    #[test]
    fn erfc_matches_the_normal_table() {
        // 2 * Φ(-1.959963985) = 0.05; 2 * Φ(-2.575829304) = 0.01.
        assert!(close(
            erfc(1.959963985 / std::f64::consts::SQRT_2),
            0.05,
            1e-8
        ));
        assert!(close(
            erfc(2.575829304 / std::f64::consts::SQRT_2),
            0.01,
            2e-9
        ));
        assert!(close(erfc(0.0), 1.0, 1e-7));
        assert!(close(erfc(-1.0), 2.0 - erfc(1.0), 1e-15));
    }

    #[test]
    fn degenerate_inputs() {
        let none = MannWhitney {
            u: 0.0,
            z: 0.0,
            p_value: 1.0,
        };
        assert_eq!(mann_whitney_u(&[], &[1.0]), none);
        let tied = mann_whitney_u(&[2.0; 5], &[2.0; 7]);
        assert_eq!((tied.u, tied.z, tied.p_value), (17.5, 0.0, 1.0));
        let r = mann_whitney_u(&[1.0, f64::NAN], &[f64::NAN, 0.0]);
        assert!((0.0..=1.0).contains(&r.p_value));
    }

    proptest! {
        #[test]
        fn p_value_is_a_probability_and_symmetric(
            a in prop::collection::vec(prop_oneof![-50i32..50, 0i32..3], 1..40),
            b in prop::collection::vec(prop_oneof![-50i32..50, 0i32..3], 1..40),
        ) {
            // Integers make ties common, covering both the exact and the tie-corrected paths.
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let ab = mann_whitney_u(&a, &b);
            let ba = mann_whitney_u(&b, &a);
            prop_assert!((0.0..=1.0).contains(&ab.p_value), "{ab:?}");
            prop_assert_eq!(ab.p_value, ba.p_value);
            prop_assert_eq!(ab.u + ba.u, (a.len() * b.len()) as f64);
            prop_assert_eq!(ab.z, -ba.z);
        }
    }
}
