//! Synthetic results for tests, never measured: [`Synth`] cases with known effects (for
//! `compare`, `check` and `history`), [`demo`], the fixed run the report tests render, and
//! [`markdown`], the table lint every rendered and committed markdown file passes.
//! Compiled for unit tests and, through the `testing` feature that only the harness's own
//! dev-dependency turns on, for the integration tests; not part of the harness's API.
//!
//! [`Synth`] samples are deterministic (ChaCha8 from a seed) and shaped like real timings: each round
//! has its own level (`round_noise`, the drift between worker processes), samples scatter
//! around it log-normally (`cv`), and 3% of them fall in a slow tail.

use std::collections::BTreeMap;

use engine::hash::fnv1a;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use crate::results::scale_case as scale;
use crate::results::*;
use crate::system::{GpuInfo, SystemInfo};

pub mod demo;
pub mod markdown;

/// One synthetic case; build it with [`Synth::case`].
#[derive(Clone, Debug)]
pub struct Synth {
    pub scenario: String,
    pub params: Vec<(String, i64)>,
    pub subject: String,
    pub threads: usize,
    /// The true median time, seconds.
    pub median_s: f64,
    /// Log-normal spread of samples within a round.
    pub cv: f64,
    /// Spread of the per-round levels: each round's level is `median_s * (1 + u)` with
    /// `u` uniform in `±round_noise`.
    pub round_noise: f64,
    pub rounds: u32,
    pub per_round: usize,
    pub seed: u64,
    pub flops: u64,
}

impl Synth {
    /// 1 ms, 2% CV, 1% round drift, 5 rounds (worker processes) of 24 samples, seed 0, 1 MFLOP.
    pub fn new(scenario: &str, subject: &str) -> Synth {
        Synth {
            scenario: scenario.to_string(),
            params: Vec::new(),
            subject: subject.to_string(),
            threads: 1,
            median_s: 1e-3,
            cv: 0.02,
            round_noise: 0.01,
            rounds: 5,
            per_round: 24,
            seed: 0,
            flops: 1_000_000,
        }
    }

    /// The same case with its parameters set.
    pub fn with_params(mut self, params: &[(&str, i64)]) -> Synth {
        self.params = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        self
    }

    /// A measured (`ok`) case with samples, rounds and summary.
    pub fn case(&self) -> CaseResult {
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ fnv1a(self.subject.as_bytes()) ^ fnv1a(self.scenario.as_bytes()),
        );
        let mut samples = Vec::new();
        let mut rounds = Vec::new();
        for round in 0..self.rounds {
            let level =
                self.median_s * (1.0 + self.round_noise * (2.0 * rng.random::<f64>() - 1.0));
            let mut these: Vec<f64> = (0..self.per_round)
                .map(|_| {
                    let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                    let tail = if rng.random::<f64>() < 0.03 { 1.3 } else { 1.0 };
                    level * (self.cv * z).exp() * tail
                })
                .collect();
            samples.extend_from_slice(&these);
            these.sort_by(f64::total_cmp);
            let wall: f64 = these.iter().sum();
            rounds.push(RoundResult {
                round,
                warmup_iterations: 10,
                warmup_s: 10.0 * level,
                warmup_converged: true,
                iterations_per_sample: 1,
                samples: these.len(),
                measure_wall_s: wall,
                iterations: these.len() as u64,
                median_s: stats::quantile(&these, 0.5),
                timer_overhead_s: 2e-8,
                device_median_s: None,
                server: None,
            });
        }
        let params: BTreeMap<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
            .collect();
        let mut id = vec![self.scenario.clone()];
        if !params.is_empty() {
            id.push(
                self.params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        id.push(self.subject.clone());
        id.push(format!(
            "threads={}",
            crate::results::threads_text(self.threads)
        ));
        let mut case = CaseResult {
            status: Status::Ok,
            items_per_iteration: 1,
            flops: self.flops,
            load_s: vec![0.01; self.rounds as usize],
            first_run_s: vec![2.0 * self.median_s; self.rounds as usize],
            rounds,
            samples_s: samples,
            ..CaseResult::new(
                id.join("/"),
                &self.scenario,
                params,
                &self.subject,
                self.threads,
                self.threads.max(1),
            )
        };
        case.summary = summarize_case(&case);
        case
    }
}

/// A `sweep` scenario at batch 1 and 32 for each of `subjects`: `reference` takes 4 ms per
/// batch item, every other subject 1 ms (4x faster).
pub fn sweep(seed: u64, subjects: &[&str]) -> Vec<CaseResult> {
    let mut cases = Vec::new();
    for batch in [1, 32] {
        for s in subjects {
            let median = if *s == "reference" { 4e-3 } else { 1e-3 } * batch as f64;
            cases.push(
                Synth {
                    median_s: median,
                    seed,
                    ..Synth::new("sweep", s)
                }
                .with_params(&[("batch", batch)])
                .case(),
            );
        }
    }
    cases
}

/// A finished run of suite `suite` on machine `hostname` (a "Synthetic CPU" with 8 logical
/// cores, Linux, no GPU), with the given cases; every subject has version `1.0`.
pub fn run(suite: &str, hostname: &str, cases: Vec<CaseResult>) -> RunResults {
    let mut subjects: Vec<SubjectInfo> = Vec::new();
    for c in &cases {
        if !subjects.iter().any(|s| s.name == c.subject) {
            subjects.push(SubjectInfo {
                name: c.subject.clone(),
                version: "1.0".to_string(),
                threading: "N threads".to_string(),
                available: true,
                reason: None,
                fix: None,
            });
        }
    }
    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: format!("20250101T000000Z_{hostname}"),
        started_at: "2025-01-01T00:00:00Z".to_string(),
        finished_at: Some("2025-01-01T00:01:00Z".to_string()),
        harness: HarnessInfo {
            version: "0.1.0".to_string(),
            git_commit: Some("0123456789ab".to_string()),
            git_dirty: Some(false),
            build_profile: "release".to_string(),
            harness_opt_level: "3".to_string(),
            engine_opt_level: "3".to_string(),
            engine_debug_assertions: "false".to_string(),
            rustc: "rustc 1.89.0".to_string(),
            features: Vec::new(),
            command: vec![
                "harness".to_string(),
                "suite".to_string(),
                suite.to_string(),
            ],
        },
        suite: SuiteInfo {
            name: suite.to_string(),
            description: "synthetic".to_string(),
            file: format!("suites/{suite}.toml"),
            file_hash: "00000000deadbeef".to_string(),
            profile: "default".to_string(),
            workload: "linear".to_string(),
            seed: 42,
            measure: MeasurePolicy {
                warmup: Warmup::Auto,
                max_warmup_s: 3.0,
                min_iterations: 30,
                min_time_s: 3.0,
                max_time_s: 30.0,
                min_sample_time_s: 1e-3,
                rounds: 5,
                timeout_s: 300.0,
                target_ci: None,
            },
            check: Tolerance {
                atol: 1e-5,
                rtol: 1e-4,
            },
            overrides: Vec::new(),
        },
        system: synthetic_machine(hostname),
        subjects,
        cases,
    }
}

/// The machine of [`run`].
pub fn synthetic_machine(hostname: &str) -> SystemInfo {
    SystemInfo {
        hostname: Some(hostname.to_string()),
        os_name: Some("Linux".to_string()),
        os_version: Some("12".to_string()),
        arch: "x86_64".to_string(),
        cpu_model: "Synthetic CPU".to_string(),
        logical_cores: 8,
        available_parallelism: Some(8),
        gpus: Vec::<GpuInfo>::new(),
        ..SystemInfo::default()
    }
}
