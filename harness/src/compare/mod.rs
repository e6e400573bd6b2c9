//! Comparing runs: `harness compare`, `check`, `history`, `calibrate` and `baseline`.
//!
//! Everything here is a function of `results.json` files. Two runs are compared case by case
//! ([`compare_runs`]), and every "faster / slower / unchanged / inconclusive" comes from the
//! one rule in [`stats::compare`]; this module decides only *what* is compared and with
//! which noise threshold:
//!
//! - [`keys`]: cases match by suite (name and file hash: a changed suite is reported, never
//!   matched), scenario, every workload parameter, subject and threads.
//! - [`machine`]: the comparability key. Same key: absolute times are compared. Different
//!   key (another CPU, core count, GPU, OS, subject version or thread resolution): only
//!   machine-independent quantities are, never an absolute time.
//! - [`ratios`]: those quantities — every subject against every other subject of the same
//!   case group, within each run.
//! - [`noise`]: the threshold, max(user minimum, round spread, A/A calibration).
//! - [`markdown`], [`plot`]: `compare.md`, the check summary, `history.md` and their charts.
//! - [`history`]: a suite's runs as time series, with step changes.
//! - [`commands`]: the CLI entry points (`calibrate`'s two runs are made by
//!   `crate::calibrate`; only their results come here).

pub mod commands;
pub mod history;
pub mod keys;
pub mod machine;
pub mod markdown;
pub mod noise;
pub mod plot;
pub mod ratios;

use std::collections::BTreeMap;

use stats::{Comparison, Estimate, Verdict};

use crate::results::{CaseResult, RunResults, Status};
use keys::{case_key, group_label};
use machine::{EnvDiff, environment_differences};
use noise::{SuiteCalibration, Threshold};

/// How to compare.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// The user's minimum noise threshold, a fraction (0.05 = 5%).
    pub min_threshold: f64,
    /// Compare machine-independent ratios even when the machines match.
    pub force_ratios: bool,
    /// Bootstrap and confidence level of every comparison.
    pub stats: stats::Options,
}

impl Default for CompareOptions {
    /// 5% minimum threshold, 95% confidence, 2 000 bootstrap resamples with seed 0.
    fn default() -> Self {
        CompareOptions {
            min_threshold: 0.05,
            force_ratios: false,
            stats: stats::Options {
                resamples: 2_000,
                ..stats::Options::default()
            },
        }
    }
}

/// Whether the two runs are of the same suite definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuiteMatch {
    Same,
    /// Same suite name, different file hash: cases are not matched.
    DefinitionChanged {
        a: String,
        b: String,
    },
    /// Different suites altogether.
    Different {
        a: String,
        b: String,
    },
}

/// What is compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Same comparability key: absolute times, case by case.
    Absolute,
    /// Ratios between subjects within each run, because the machines differ.
    RatiosMachinesDiffer,
    /// Ratios between subjects within each run, because the user asked (`--ratios`).
    RatiosAsked,
}

impl Mode {
    pub fn is_ratios(&self) -> bool {
        !matches!(self, Mode::Absolute)
    }
}

/// Who a run is, for headers.
#[derive(Clone, Debug)]
pub struct RunLabel {
    /// The path it was loaded from, as given.
    pub path: String,
    pub run_id: String,
    pub suite: String,
    pub started_at: String,
    pub commit: String,
    pub machine: String,
    pub cpu: String,
    pub profile: String,
}

impl RunLabel {
    pub fn new(path: &str, r: &RunResults) -> RunLabel {
        let commit = match (&r.harness.git_commit, r.harness.git_dirty) {
            (Some(c), Some(true)) => format!("{} (dirty)", short(c)),
            (Some(c), _) => short(c).to_string(),
            (None, _) => "unknown".to_string(),
        };
        RunLabel {
            path: path.to_string(),
            run_id: r.run_id.clone(),
            suite: r.suite.name.clone(),
            started_at: r.started_at.clone(),
            commit,
            machine: r
                .system
                .hostname
                .clone()
                .unwrap_or_else(|| "unknown".into()),
            cpu: format!(
                "{}, {} logical cores",
                r.system.cpu_model, r.system.logical_cores
            ),
            profile: r.suite.profile.clone(),
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// One case's absolute times compared (same machine only).
#[derive(Clone, Debug)]
pub struct CaseComparison {
    pub key: String,
    /// The case id in B, for display.
    pub id: String,
    pub group: String,
    pub subject: String,
    /// The level each side shows: the median time, or a server case's max QPS.
    pub median_a: f64,
    pub median_b: f64,
    pub unit: Unit,
    pub n_a: usize,
    pub n_b: usize,
    pub threshold: Threshold,
    pub comparison: Comparison,
}

/// What a case comparison's levels are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Median seconds per iteration (latency and offline cases).
    Seconds,
    /// A server case's maximum rate within its bound: the verdict judges its inverse.
    Qps,
}

impl Unit {
    pub fn of(case: &CaseResult) -> Unit {
        match case.mode {
            crate::results::Mode::Server(_) => Unit::Qps,
            _ => Unit::Seconds,
        }
    }
}

/// One subject pair's within-run ratio compared between runs.
#[derive(Clone, Debug)]
pub struct PairComparison {
    pub key: String,
    pub group_key: String,
    pub group: String,
    pub numerator: String,
    pub denominator: String,
    /// `median(numerator) / median(denominator)` in A and in B.
    pub within_a: Estimate,
    pub within_b: Estimate,
    pub threshold: Threshold,
    /// The change of the within-run ratio, B over A.
    pub comparison: Comparison,
}

/// Achieved GFLOP/s of a case in both runs: shown across machines, never judged.
#[derive(Clone, Debug)]
pub struct GflopsRow {
    pub id: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
}

/// A case that was not compared, and why.
#[derive(Clone, Debug)]
pub struct NotCompared {
    pub id: String,
    pub reason: String,
    /// Measured in A, failed or invalid in B: counts as a regression.
    pub broken: bool,
}

/// Two runs compared.
#[derive(Clone, Debug)]
pub struct RunComparison {
    pub a: RunLabel,
    pub b: RunLabel,
    pub suite: SuiteMatch,
    pub mode: Mode,
    pub env: Vec<EnvDiff>,
    pub min_threshold: f64,
    pub confidence: f64,
    /// Where the A/A calibration came from, or why one was not used.
    pub calibration_note: Option<String>,
    pub cases: Vec<CaseComparison>,
    pub pairs: Vec<PairComparison>,
    pub gflops: Vec<GflopsRow>,
    pub not_compared: Vec<NotCompared>,
}

/// How many comparisons got each verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub faster: usize,
    pub slower: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
    pub broken: usize,
    pub not_compared: usize,
}

impl RunComparison {
    /// Every verdict in this comparison (cases in absolute mode, pairs in ratio mode).
    pub fn verdicts(&self) -> Vec<Verdict> {
        self.cases
            .iter()
            .map(|c| c.comparison.verdict)
            .chain(self.pairs.iter().map(|p| p.comparison.verdict))
            .collect()
    }

    pub fn counts(&self) -> Counts {
        let mut n = Counts::default();
        for v in self.verdicts() {
            match v {
                Verdict::Faster => n.faster += 1,
                Verdict::Slower => n.slower += 1,
                Verdict::Unchanged => n.unchanged += 1,
                Verdict::Inconclusive => n.inconclusive += 1,
            }
        }
        n.broken = self.not_compared.iter().filter(|c| c.broken).count();
        n.not_compared = self.not_compared.len() - n.broken;
        n
    }

    /// Whether anything regressed: a comparison said `slower`, or a case measured in A
    /// failed or was invalid in B.
    pub fn regressed(&self) -> bool {
        let n = self.counts();
        n.slower > 0 || n.broken > 0
    }
}

/// Compares run `b` (candidate) with run `a` (baseline). `calibration` is the A/A
/// calibration of B's machine for this suite, if any ([`noise::lookup`]).
pub fn compare_runs(
    a: (&str, &RunResults),
    b: (&str, &RunResults),
    calibration: (Option<&SuiteCalibration>, Option<String>),
    opts: &CompareOptions,
) -> RunComparison {
    let (path_a, ra) = a;
    let (path_b, rb) = b;
    let suite = if ra.suite.name != rb.suite.name {
        SuiteMatch::Different {
            a: ra.suite.name.clone(),
            b: rb.suite.name.clone(),
        }
    } else if ra.suite.file_hash != rb.suite.file_hash {
        SuiteMatch::DefinitionChanged {
            a: ra.suite.file_hash.clone(),
            b: rb.suite.file_hash.clone(),
        }
    } else {
        SuiteMatch::Same
    };
    let env = environment_differences(ra, rb);
    let mode = if env.iter().any(|d| d.blocks_absolute) {
        Mode::RatiosMachinesDiffer
    } else if opts.force_ratios {
        Mode::RatiosAsked
    } else {
        Mode::Absolute
    };
    let mut out = RunComparison {
        a: RunLabel::new(path_a, ra),
        b: RunLabel::new(path_b, rb),
        suite,
        mode,
        env,
        min_threshold: opts.min_threshold,
        confidence: opts.stats.confidence,
        calibration_note: calibration.1,
        cases: Vec::new(),
        pairs: Vec::new(),
        gflops: Vec::new(),
        not_compared: Vec::new(),
    };
    if out.suite != SuiteMatch::Same {
        return out;
    }
    let cal = calibration.0;
    let in_a: BTreeMap<String, &CaseResult> = ra.cases.iter().map(|c| (case_key(c), c)).collect();
    let in_b: BTreeMap<String, &CaseResult> = rb.cases.iter().map(|c| (case_key(c), c)).collect();
    out.not_compared = not_compared(ra, rb, &in_a, &in_b);

    if out.mode == Mode::Absolute {
        for cb in &rb.cases {
            let key = case_key(cb);
            let Some(ca) = in_a
                .get(&key)
                .copied()
                .filter(|ca| ca.is_measured() && cb.is_measured())
            else {
                continue;
            };
            let spread = noise::case_noise;
            let calibrated = cal.and_then(|c| c.cases.get(&key)).map(|e| e.noise);
            let threshold =
                Threshold::decide(opts.min_threshold, calibrated, spread(ca), spread(cb));
            let comparison =
                stats::verdict(&ca.judged(), &cb.judged(), threshold.value, &opts.stats);
            let unit = Unit::of(cb);
            let median = |c: &CaseResult| match unit {
                Unit::Seconds => c.summary.as_ref().map_or(f64::NAN, |s| s.median_s),
                Unit::Qps => crate::server::CaseServer::of(&c.rounds)
                    .and_then(|s| s.max_qps)
                    .unwrap_or(f64::NAN),
            };
            out.cases.push(CaseComparison {
                key,
                id: cb.id.clone(),
                group: group_label(cb),
                subject: cb.subject.clone(),
                median_a: median(ca),
                median_b: median(cb),
                unit,
                n_a: ca.samples_s.len(),
                n_b: cb.samples_s.len(),
                threshold,
                comparison,
            });
        }
        return out;
    }

    // A subject built differently (another version, another SIMD level) is another
    // quantity: its ratio to the others moves with the build, not with the code under test.
    let rebuilt: BTreeMap<&str, &EnvDiff> = out
        .env
        .iter()
        .filter_map(|d| Some((d.what.strip_prefix("subject ")?, d)))
        .collect();
    for pb in ratios::pairs(rb) {
        if rebuilt.contains_key(pb.numerator.subject.as_str())
            || rebuilt.contains_key(pb.denominator.subject.as_str())
        {
            continue;
        }
        let (Some(num_a), Some(den_a)) = (
            in_a.get(&case_key(pb.numerator))
                .copied()
                .filter(|c| c.is_measured()),
            in_a.get(&case_key(pb.denominator))
                .copied()
                .filter(|c| c.is_measured()),
        ) else {
            continue;
        };
        let calibrated = cal.and_then(|c| c.pairs.get(&pb.key)).map(|e| e.noise);
        let threshold = Threshold::decide(
            opts.min_threshold,
            calibrated,
            ratios::noise(num_a, den_a),
            ratios::noise(pb.numerator, pb.denominator),
        );
        let comparison = ratios::verdict(
            (num_a, den_a),
            (pb.numerator, pb.denominator),
            threshold.value,
            &opts.stats,
        );
        out.pairs.push(PairComparison {
            key: pb.key.clone(),
            group_key: pb.group_key.clone(),
            group: pb.group_label.clone(),
            numerator: pb.numerator.subject.clone(),
            denominator: pb.denominator.subject.clone(),
            within_a: ratios::within(num_a, den_a, &opts.stats),
            within_b: ratios::within(pb.numerator, pb.denominator, &opts.stats),
            threshold,
            comparison,
        });
    }
    let paired: std::collections::BTreeSet<(&str, &str)> = out
        .pairs
        .iter()
        .flat_map(|p| {
            [
                (p.group_key.as_str(), p.numerator.as_str()),
                (p.group_key.as_str(), p.denominator.as_str()),
            ]
        })
        .collect();
    let mut unpaired = Vec::new();
    for cb in &rb.cases {
        let key = case_key(cb);
        let Some(ca) = in_a.get(&key).copied() else {
            continue;
        };
        if !(ca.is_measured() && cb.is_measured()) {
            continue;
        }
        out.gflops.push(GflopsRow {
            id: cb.id.clone(),
            a: ca.summary.as_ref().and_then(|s| s.gflops),
            b: cb.summary.as_ref().and_then(|s| s.gflops),
        });
        if let Some(d) = rebuilt.get(cb.subject.as_str()) {
            unpaired.push(NotCompared {
                id: cb.id.clone(),
                reason: format!(
                    "subject {} differs between the runs (A: {}, B: {}): its ratios to other \
                     subjects change with its build, so they are not compared",
                    cb.subject, d.a, d.b
                ),
                broken: false,
            });
        } else if !paired.contains(&(keys::group_key(cb).as_str(), cb.subject.as_str())) {
            unpaired.push(NotCompared {
                id: cb.id.clone(),
                reason: "no other subject measured in its group in both runs: no machine-independent ratio".into(),
                broken: false,
            });
        }
    }
    drop(paired);
    drop(rebuilt);
    out.not_compared.extend(unpaired);
    out
}

/// Cases that cannot be compared: in one run only, or not measured in one of them.
fn not_compared(
    ra: &RunResults,
    rb: &RunResults,
    in_a: &BTreeMap<String, &CaseResult>,
    in_b: &BTreeMap<String, &CaseResult>,
) -> Vec<NotCompared> {
    let mut out = Vec::new();
    let state = |c: &CaseResult, side: &str| {
        let status = match c.status {
            Status::Ok if c.samples_s.is_empty() => "without samples",
            Status::Ok => "measured",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Invalid => "invalid (outputs outside tolerance)",
            Status::Pending => "pending (interrupted run)",
        };
        match &c.reason {
            Some(r) => format!("{status} in {side} ({r})"),
            None => format!("{status} in {side}"),
        }
    };
    for cb in &rb.cases {
        let key = case_key(cb);
        match in_a.get(&key) {
            None => out.push(NotCompared {
                id: cb.id.clone(),
                reason: "only in B (new case)".into(),
                broken: false,
            }),
            Some(ca) if ca.is_measured() && cb.is_measured() => {}
            Some(ca) => {
                let broken =
                    ca.is_measured() && matches!(cb.status, Status::Failed | Status::Invalid);
                let reason = format!("{}, {}", state(ca, "A"), state(cb, "B"));
                out.push(NotCompared {
                    id: cb.id.clone(),
                    reason,
                    broken,
                });
            }
        }
    }
    for ca in &ra.cases {
        if !in_b.contains_key(&case_key(ca)) {
            out.push(NotCompared {
                id: ca.id.clone(),
                reason: "only in A (removed, or not run in B)".into(),
                broken: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Synth, run, scale, sweep};

    fn compare(a: &RunResults, b: &RunResults, opts: &CompareOptions) -> RunComparison {
        compare_runs(("A", a), ("B", b), (None, None), opts)
    }

    #[test]
    fn a_case_made_20_percent_slower_is_slower_and_the_rest_unchanged() {
        let a = run("s", "box", sweep(1, &["engine-cpu", "reference"]));
        let mut b = run("s", "box", sweep(2, &["engine-cpu", "reference"]));
        scale(&mut b.cases[0], 1.2);
        let c = compare(&a, &b, &CompareOptions::default());
        assert_eq!(c.mode, Mode::Absolute);
        let verdicts: Vec<(&str, Verdict)> = c
            .cases
            .iter()
            .map(|c| (c.id.as_str(), c.comparison.verdict))
            .collect();
        assert_eq!(
            verdicts[0],
            ("sweep/batch=1/engine-cpu/threads=1", Verdict::Slower),
            "{:#?}",
            c.cases[0]
        );
        for (id, v) in &verdicts[1..] {
            assert_ne!(*v, Verdict::Slower, "{id}");
        }
        assert!(c.regressed());
        assert!((c.cases[0].comparison.ratio.point - 1.2).abs() < 0.03);
    }

    /// A server case of 5 worker processes whose maxima are `qps` times 0.99..1.01.
    fn server_case(qps: f64, seed: u64) -> CaseResult {
        let spec = crate::server::ServerSpec {
            slo_s: 0.1,
            percentile: 0.99,
        };
        let mut c = Synth {
            median_s: 0.01,
            seed,
            ..Synth::new("serve", "engine-cpu")
        }
        .case();
        c.mode = crate::results::Mode::Server(spec);
        for (i, r) in c.rounds.iter_mut().enumerate() {
            let q = qps * (0.99 + 0.005 * ((i as u64 + seed) % 5) as f64);
            r.server = Some(crate::server::Search {
                spec,
                probes: Vec::new(),
                max_qps: Some(q),
            });
        }
        c.summary = crate::results::summarize_case(&c);
        c
    }

    /// Server cases are judged on their maximum rate: 15% fewer QPS at the same bound is a
    /// regression even where the service time did not move.
    #[test]
    fn a_lower_max_qps_is_slower_and_the_same_is_not() {
        let a = run("s", "box", vec![server_case(73.0, 1)]);
        let same = run("s", "box", vec![server_case(73.0, 2)]);
        let lower = run("s", "box", vec![server_case(62.0, 3)]);
        let opts = CompareOptions::default();
        let c = compare(&a, &same, &opts);
        assert_eq!(c.cases[0].unit, Unit::Qps);
        assert_eq!(
            c.cases[0].comparison.verdict,
            Verdict::Unchanged,
            "{:#?}",
            c.cases[0]
        );
        assert!(!c.regressed());
        let c = compare(&a, &lower, &opts);
        assert_eq!(
            c.cases[0].comparison.verdict,
            Verdict::Slower,
            "{:#?}",
            c.cases[0]
        );
        assert!((c.cases[0].median_b - 62.0).abs() < 1.0);
        assert!(c.regressed());
        // A higher maximum is faster.
        let c = compare(&lower, &a, &opts);
        assert_eq!(c.cases[0].comparison.verdict, Verdict::Faster);
        // `harness aa`'s injected slowdown scales the rate too.
        let mut slowed = a.clone();
        crate::results::scale_case(&mut slowed.cases[0], 1.2);
        assert_eq!(
            compare(&a, &slowed, &opts).cases[0].comparison.verdict,
            Verdict::Slower
        );
    }

    #[test]
    fn changed_suite_hash_matches_nothing() {
        let a = run("s", "box", sweep(1, &["engine-cpu"]));
        let mut b = a.clone();
        b.suite.file_hash = "1111".into();
        let c = compare(&a, &b, &CompareOptions::default());
        assert_eq!(
            c.suite,
            SuiteMatch::DefinitionChanged {
                a: "00000000deadbeef".into(),
                b: "1111".into()
            }
        );
        assert!(c.cases.is_empty() && c.pairs.is_empty());
    }

    #[test]
    fn different_machines_compare_ratios_only() {
        let a = run("s", "box", sweep(1, &["engine-cpu", "reference"]));
        let mut b = run("s", "ci", sweep(2, &["engine-cpu", "reference"]));
        b.system.cpu_model = "Slower CPU".into();
        for c in &mut b.cases {
            scale(c, 2.0); // everything twice as slow: the box, not the code
        }
        let c = compare(&a, &b, &CompareOptions::default());
        assert_eq!(c.mode, Mode::RatiosMachinesDiffer);
        assert!(c.cases.is_empty(), "no absolute verdict across machines");
        assert_eq!(c.pairs.len(), 2);
        for p in &c.pairs {
            assert_eq!(
                (p.numerator.as_str(), p.denominator.as_str()),
                ("engine-cpu", "reference")
            );
            assert_ne!(p.comparison.verdict, Verdict::Slower, "{p:#?}");
            assert!((p.within_b.point - 0.25).abs() < 0.02);
        }
        assert!(!c.regressed());
        assert_eq!(c.gflops.len(), 4);
    }

    #[test]
    fn a_regression_relative_to_the_other_subject_shows_in_ratios() {
        let a = run("s", "box", sweep(1, &["engine-cpu", "reference"]));
        let mut b = run("s", "ci", sweep(2, &["engine-cpu", "reference"]));
        b.system.logical_cores = 2;
        scale(&mut b.cases[2], 1.3); // engine-cpu at batch 32
        let c = compare(&a, &b, &CompareOptions::default());
        let v: Vec<Verdict> = c.pairs.iter().map(|p| p.comparison.verdict).collect();
        assert_eq!(v, [Verdict::Unchanged, Verdict::Slower], "{:#?}", c.pairs);
        assert!(c.regressed());
    }

    #[test]
    fn failed_cases_are_listed_and_a_newly_failing_one_is_a_regression() {
        let a = run("s", "box", sweep(1, &["engine-cpu", "reference"]));
        let mut b = run("s", "box", sweep(2, &["engine-cpu", "reference"]));
        b.cases[1].status = Status::Failed;
        b.cases[1].reason = Some("worker crashed".into());
        b.cases.pop();
        let c = compare(&a, &b, &CompareOptions::default());
        let reasons: Vec<(&str, &str, bool)> = c
            .not_compared
            .iter()
            .map(|n| (n.id.as_str(), n.reason.as_str(), n.broken))
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    "sweep/batch=1/reference/threads=1",
                    "measured in A, failed in B (worker crashed)",
                    true
                ),
                (
                    "sweep/batch=32/reference/threads=1",
                    "only in A (removed, or not run in B)",
                    false
                ),
            ]
        );
        assert!(c.regressed());
    }

    /// A/A over many seeds: two runs drawn from the same distributions, with worker
    /// processes (rounds) whose levels drift uniformly by up to ±`round_noise`.
    ///
    /// On a quiet machine (drift ≤ 2%) no comparison may ever read faster or slower. On a
    /// noisy one, a few rounds cannot always see the drift (all rounds of one run can land
    /// high by chance), so the test bounds the false-alarm rate instead and checks that an
    /// A/A calibration lowers it; measured here (absolute and ratio mode):
    /// about 1% of comparisons at ±5-10% drift without calibration, half that with. (Each
    /// seed costs four synthetic runs, whose summaries bootstrap 10 000 times: 100 seeds.)
    #[test]
    fn a_over_a_is_never_slower_or_faster_over_many_seeds() {
        let opts = CompareOptions {
            stats: stats::Options {
                resamples: 400,
                ..stats::Options::default()
            },
            ..CompareOptions::default()
        };
        let configs = [(0.01, 3u32), (0.02, 2), (0.05, 3), (0.1, 3), (0.1, 5)];
        // Per config and calibrated or not: (false alarms, comparisons).
        let mut alarms = std::collections::BTreeMap::<(usize, bool), (usize, usize)>::new();
        for seed in 0..100u64 {
            for (i, &(round_noise, rounds)) in configs.iter().enumerate() {
                let mk = |s: u64| {
                    let synth = |subject: &str, median_s: f64| {
                        Synth {
                            seed: s,
                            round_noise,
                            rounds,
                            per_round: 20,
                            median_s,
                            ..Synth::new("x", subject)
                        }
                        .case()
                    };
                    run(
                        "s",
                        "box",
                        vec![synth("engine-cpu", 1e-3), synth("reference", 4e-3)],
                    )
                };
                let (a, b) = (mk(2 * seed), mk(2 * seed + 1));
                let cal = commands::calibration_from(
                    &mk(1000 + seed),
                    &mk(2000 + seed),
                    0.05,
                    &opts.stats,
                );
                for force_ratios in [false, true] {
                    for calibrated in [false, true] {
                        let o = CompareOptions {
                            force_ratios,
                            ..opts.clone()
                        };
                        let c = compare_runs(
                            ("A", &a),
                            ("B", &b),
                            (calibrated.then_some(&cal), None),
                            &o,
                        );
                        let entry = alarms.entry((i, calibrated)).or_default();
                        for v in c.verdicts() {
                            let alarm = matches!(v, Verdict::Slower | Verdict::Faster);
                            assert!(
                                !(alarm && round_noise <= 0.02),
                                "quiet machine, seed {seed}: {:#?} {:#?}",
                                c.cases,
                                c.pairs
                            );
                            entry.0 += usize::from(alarm);
                            entry.1 += 1;
                        }
                    }
                }
            }
        }
        for (i, _) in configs.iter().enumerate() {
            let (raw, cal) = (alarms[&(i, false)], alarms[&(i, true)]);
            assert!(
                raw.0 * 50 <= raw.1,
                "config {:?}: {raw:?} false alarms without calibration",
                configs[i]
            );
            assert!(
                cal.0 <= raw.0 && cal.0 * 100 <= cal.1,
                "config {:?}: {cal:?} with calibration",
                configs[i]
            );
        }
    }

    #[test]
    fn report_and_chart_are_written() {
        let a = run("s", "box", sweep(1, &["engine-cpu", "reference"]));
        let mut b = run("s", "box", sweep(2, &["engine-cpu", "reference"]));
        scale(&mut b.cases[0], 1.2);
        let c = compare(&a, &b, &CompareOptions::default());
        let md = markdown::compare_md(&c, Some("compare.svg"));
        for part in [
            "# Comparison: s",
            "## Verdicts",
            "slower 1 · faster 0",
            "Noise thresholds: median",
            "![B/A ratios",
            "## Why each verdict",
            "## How to read this",
        ] {
            assert!(md.contains(part), "{part}:\n{md}");
        }
        let dir = tempfile::tempdir().unwrap();
        let written = plot::render_compare(&c, dir.path()).unwrap();
        assert_eq!(written.len(), 2);
        let svg = std::fs::read_to_string(dir.path().join("compare.svg")).unwrap();
        assert!(
            svg.contains("sweep/batch=1/engine-cpu/threads=1") && svg.contains("slower"),
            "labels are drawn"
        );
        let png = std::fs::read(dir.path().join("compare.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }
}
