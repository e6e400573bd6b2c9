//! Machine-independent quantities: how each subject's time relates to every other subject's
//! time measured in the same run, on the same case group (same scenario, parameters and
//! threads).
//!
//! Two runs on different machines cannot compare absolute times, but "engine-cpu takes
//! 0.82× the time of onnxruntime" travels much better: both subjects ran interleaved on the
//! same machine, so machine speed and drift largely cancel. Pairs are ordered by the suite's
//! subject list: the subject listed first is the numerator ("the subject under test").
//!
//! To compare a pair between runs with the one [`stats::verdict`], each run's numerator
//! samples are divided by that run's denominator median, turning them into samples of "time
//! in units of the other subject": the ratio of their medians between runs is exactly the
//! change of the within-run ratio. The denominator's own uncertainty is not in that CI; the
//! noise threshold carries it, since the pair's round spread is measured from the per-round
//! ratio (both subjects' drift included).

use crate::results::{CaseResult, RunResults};

use super::keys::{group_key, group_label};

/// Two subjects of one case group in one run.
pub struct Pair<'a> {
    pub key: String,
    pub group_key: String,
    pub group_label: String,
    pub numerator: &'a CaseResult,
    pub denominator: &'a CaseResult,
}

/// `group/numerator÷denominator`, the key of a pair in comparisons and calibration files.
pub fn pair_key(group_key: &str, numerator: &str, denominator: &str) -> String {
    format!("{group_key}/{numerator}÷{denominator}")
}

/// Every pair of measured subjects in every case group of `run`, groups in case order,
/// numerators before denominators in the suite's subject order.
pub fn pairs(run: &RunResults) -> Vec<Pair<'_>> {
    let order = |c: &CaseResult| {
        run.subjects
            .iter()
            .position(|s| s.name == c.subject)
            .unwrap_or(run.subjects.len())
    };
    let mut groups: Vec<(String, Vec<&CaseResult>)> = Vec::new();
    for case in run.cases.iter().filter(|c| c.is_measured()) {
        let key = group_key(case);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, cases)) => cases.push(case),
            None => groups.push((key, vec![case])),
        }
    }
    let mut out = Vec::new();
    for (key, mut cases) in groups {
        cases.sort_by_key(|c| order(c));
        for (i, num) in cases.iter().enumerate() {
            for den in &cases[i + 1..] {
                out.push(Pair {
                    key: pair_key(&key, &num.subject, &den.subject),
                    group_key: key.clone(),
                    group_label: group_label(num),
                    numerator: num,
                    denominator: den,
                });
            }
        }
    }
    out
}

/// The numerator's samples in units of the denominator's level, one list per worker
/// process: each round is divided by the denominator's median in the same round (they ran
/// minutes apart at most, so machine drift cancels), or by its overall median where the
/// denominator has no such round.
pub fn normalized(numerator: &CaseResult, denominator: &CaseResult) -> Vec<Vec<f64>> {
    let overall = denominator
        .summary
        .as_ref()
        .map_or(f64::NAN, |s| s.median_s);
    numerator
        .rounds
        .iter()
        .zip(numerator.processes())
        .map(|(r, samples)| {
            let den = denominator
                .rounds
                .iter()
                .find(|d| d.round == r.round && d.median_s > 0.0)
                .map_or(overall, |d| d.median_s);
            samples.iter().map(|x| x / den).collect()
        })
        .collect()
}

/// The one verdict on a pair between runs: its normalized processes in A against B's.
pub fn verdict(
    (num_a, den_a): (&CaseResult, &CaseResult),
    (num_b, den_b): (&CaseResult, &CaseResult),
    threshold: f64,
    opts: &stats::Options,
) -> stats::Comparison {
    let (a, b) = (normalized(num_a, den_a), normalized(num_b, den_b));
    stats::verdict(&a, &b, threshold, opts)
}

/// `median(numerator) / median(denominator)` within one run, with its bootstrap CI.
pub fn within(
    numerator: &CaseResult,
    denominator: &CaseResult,
    opts: &stats::Options,
) -> stats::Estimate {
    stats::ratio_of_medians(&denominator.samples_s, &numerator.samples_s, opts)
}

/// The pair's between-run noise from one run's rounds: the spread of the per-round ratios,
/// scaled as for a case ([`super::noise::from_round_spread`]).
pub fn noise(numerator: &CaseResult, denominator: &CaseResult) -> Option<f64> {
    let (spread, rounds) = round_spread(numerator, denominator)?;
    super::noise::from_round_spread(spread, rounds)
}

/// The pair's spread in one run, [`super::noise::spread`] of its per-round ratios, and how
/// many rounds it has; `None` with fewer than 2.
pub fn round_spread(numerator: &CaseResult, denominator: &CaseResult) -> Option<(f64, usize)> {
    let ratios = round_ratios(numerator, denominator);
    Some((super::noise::spread(&ratios)?, ratios.len()))
}

/// Per round (matched by number), the numerator's round median over the denominator's.
pub fn round_ratios(numerator: &CaseResult, denominator: &CaseResult) -> Vec<f64> {
    numerator
        .rounds
        .iter()
        .filter_map(|r| {
            let d = denominator.rounds.iter().find(|d| d.round == r.round)?;
            (d.median_s > 0.0).then(|| r.median_s / d.median_s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Synth, run};

    #[test]
    fn every_subject_against_every_later_one_per_group() {
        let mut cases = Vec::new();
        for batch in [1, 8] {
            for subject in ["engine-cpu", "onnxruntime", "reference"] {
                cases.push(
                    Synth::new("sweep", subject)
                        .with_params(&[("batch", batch)])
                        .case(),
                );
            }
        }
        let r = run("s", "box", cases);
        let keys: Vec<String> = pairs(&r).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "sweep/batch=1/threads=1/engine-cpu÷onnxruntime",
                "sweep/batch=1/threads=1/engine-cpu÷reference",
                "sweep/batch=1/threads=1/onnxruntime÷reference",
                "sweep/batch=8/threads=1/engine-cpu÷onnxruntime",
                "sweep/batch=8/threads=1/engine-cpu÷reference",
                "sweep/batch=8/threads=1/onnxruntime÷reference",
            ]
        );
    }

    #[test]
    fn normalized_medians_give_the_within_run_ratio() {
        let num = Synth {
            median_s: 2e-3,
            ..Synth::new("x", "a")
        }
        .case();
        let den = Synth {
            median_s: 4e-3,
            ..Synth::new("x", "b")
        }
        .case();
        // One list per worker process, each in units of the denominator's same round.
        let norm = normalized(&num, &den);
        assert_eq!(norm.len(), num.rounds.len());
        for ((process, rn), rd) in norm.iter().zip(&num.rounds).zip(&den.rounds) {
            let mut sorted = process.clone();
            sorted.sort_by(f64::total_cmp);
            let expected = rn.median_s / rd.median_s;
            assert!((stats::quantile(&sorted, 0.5) - expected).abs() < 1e-12);
            assert!((expected - 0.5).abs() < 0.03, "{expected}");
        }
        let (spread, rounds) = round_spread(&num, &den).unwrap();
        assert!(spread > 0.0 && spread < 0.05 && rounds == 5, "{spread}");
        // From 4 rounds on, the noise is the spread itself.
        assert!((noise(&num, &den).unwrap() / spread - 1.0).abs() < 1e-12);
    }
}
