//! The results model: what `results.json` holds. It is the source of truth; every report,
//! CSV, plot and comparison is a function of it, never of live run state.
//!
//! Bump [`SCHEMA_VERSION`] on any change that an older reader would misread.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::system::SystemInfo;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResults {
    pub schema_version: u32,
    /// Folder name: `<YYYYmmddTHHMMSSZ>_<machine>`.
    pub run_id: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub harness: HarnessInfo,
    pub suite: SuiteInfo,
    pub system: SystemInfo,
    pub subjects: Vec<SubjectInfo>,
    pub cases: Vec<CaseResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HarnessInfo {
    pub version: String,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    /// `dev` or `release` (cargo profile of the harness binary).
    pub build_profile: String,
    pub harness_opt_level: String,
    pub engine_opt_level: String,
    pub engine_debug_assertions: String,
    pub rustc: String,
    pub features: Vec<String>,
    /// The command line that produced the run.
    pub command: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SuiteInfo {
    pub name: String,
    pub description: String,
    /// Path of the suite file, as given.
    pub file: String,
    /// FNV-1a 64 of the suite file's bytes: runs of a changed suite are never matched.
    pub file_hash: String,
    pub profile: String,
    pub workload: String,
    pub seed: u64,
    pub measure: MeasurePolicy,
    pub check: Tolerance,
    /// `--set` overrides applied on top of the suite and profile.
    pub overrides: Vec<String>,
}

/// How long and how often each case is measured (resolved from profile, suite and `--set`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasurePolicy {
    pub warmup: Warmup,
    /// Cap on `auto` warm-up time, seconds.
    pub max_warmup_s: f64,
    pub min_iterations: u64,
    pub min_time_s: f64,
    pub max_time_s: f64,
    /// Iterations shorter than this are timed in batches (samples of at least this length).
    pub min_sample_time_s: f64,
    /// Each case runs in this many interleaved rounds, each in a fresh worker.
    pub rounds: u32,
    /// A worker running longer than this is killed and its case marked failed.
    pub timeout_s: f64,
    /// Precision-targeted sampling: past the minimums, a worker samples until its median's
    /// confidence interval is within this fraction of the median on either side (0.01 =
    /// ±1%), or until `max_time_s`; a case whose interval stays wider is *low precision*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ci: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warmup {
    /// Until the median of the last 5 iterations moves less than 2% (capped by max_warmup_s).
    Auto,
    Iterations(u64),
    Seconds(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub atol: f64,
    pub rtol: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubjectInfo {
    pub name: String,
    pub version: String,
    /// How the subject applies a thread count (its runtime's knobs); empty in results
    /// written before it was recorded.
    #[serde(default)]
    pub threading: String,
    pub available: bool,
    pub reason: Option<String>,
    pub fix: Option<String>,
}

/// What a case measures: its scenario's `mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mode {
    /// Single-stream: one request at a time, each timed.
    #[default]
    Latency,
    /// A pool of `pool` items in batches of the case's batch size: every sample is one
    /// pass over the pool, so items per second include everything between batches.
    Offline { pool: u64 },
    /// Requests arrive by a Poisson process into a queue; the highest rate whose
    /// percentile latency stays within the SLO.
    Server(crate::server::ServerSpec),
}

impl Mode {
    pub fn is_latency(&self) -> bool {
        *self == Mode::Latency
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Measured and within tolerance.
    Ok,
    /// Not run: the subject is unavailable here.
    Skipped,
    /// The worker crashed, timed out, or reported an error.
    Failed,
    /// Measured, but outputs are outside tolerance: never ranked.
    Invalid,
    /// Rounds still to run (only seen in the results of an interrupted run).
    Pending,
}

impl Status {
    /// The name results files and reports use: `ok`, `skipped`, `failed`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseResult {
    /// `scenario/param=value,.../subject/threads=N`, unique in a run.
    pub id: String,
    pub scenario: String,
    /// Latency unless the scenario says otherwise.
    #[serde(default, skip_serializing_if = "Mode::is_latency")]
    pub mode: Mode,
    pub params: BTreeMap<String, serde_json::Value>,
    pub subject: String,
    /// Threads asked for (0 = all cores) and what that resolved to.
    pub threads: usize,
    pub threads_resolved: usize,
    pub status: Status,
    /// Why a case is skipped, failed or invalid.
    pub reason: Option<String>,
    /// Items one iteration processes (batch size, or elements), for throughput.
    pub items_per_iteration: u64,
    /// Floating-point operations of one iteration, counted from the graph.
    pub flops: u64,
    /// Bytes of the graph's constants (weights), and of its largest intermediate result at
    /// this case's shapes, before any fusion: what every subject must hold at least.
    #[serde(default)]
    pub weights_bytes: u64,
    #[serde(default)]
    pub largest_intermediate_bytes: u64,
    /// Whether the model ran a real checkpoint; synthetic weights make accuracy meaningless.
    #[serde(default)]
    pub real_weights: bool,
    /// Load/compile time of each round's worker.
    pub load_s: Vec<f64>,
    /// Latency of the first run after load, per round (cold).
    pub first_run_s: Vec<f64>,
    pub parity: Option<ParityResult>,
    /// Labels of labelled validation texts (text workloads only).
    #[serde(default)]
    pub accuracy: Option<AccuracyResult>,
    pub rounds: Vec<RoundResult>,
    /// Every measured per-iteration time, in seconds, in order (all rounds).
    pub samples_s: Vec<f64>,
    pub summary: Option<CaseSummary>,
    pub peak_rss_bytes: Option<u64>,
    /// The most device (GPU) memory a worker's session held, where the subject says
    /// (engine-gpu: its buffers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_memory_bytes: Option<u64>,
}

impl CaseResult {
    /// A case that has not run yet (`pending`): who it is, and nothing measured.
    pub fn new(
        id: impl Into<String>,
        scenario: impl Into<String>,
        params: BTreeMap<String, serde_json::Value>,
        subject: impl Into<String>,
        threads: usize,
        threads_resolved: usize,
    ) -> CaseResult {
        CaseResult {
            id: id.into(),
            scenario: scenario.into(),
            mode: Mode::Latency,
            params,
            subject: subject.into(),
            threads,
            threads_resolved,
            status: Status::Pending,
            reason: None,
            items_per_iteration: 0,
            flops: 0,
            weights_bytes: 0,
            largest_intermediate_bytes: 0,
            real_weights: false,
            load_s: Vec::new(),
            first_run_s: Vec::new(),
            parity: None,
            accuracy: None,
            rounds: Vec::new(),
            samples_s: Vec::new(),
            summary: None,
            peak_rss_bytes: None,
            device_memory_bytes: None,
        }
    }

    /// Measured and within tolerance, with samples: the cases that are ranked, charted and
    /// compared. `invalid` ones were measured but computed the wrong thing, so never count.
    pub fn is_measured(&self) -> bool {
        self.status == Status::Ok && self.summary.is_some() && !self.samples_s.is_empty()
    }

    /// Items per second at the median time, with the interval mapped from the median's:
    /// `(point, low, high)`; `None` without a summary.
    pub fn items_per_s_at_median(&self) -> Option<(f64, f64, f64)> {
        let s = self.summary.as_ref()?;
        let items = self.items_per_iteration.max(1) as f64;
        Some((items / s.median_s, items / s.ci_high_s, items / s.ci_low_s))
    }

    /// What comparisons judge, one list per worker process, lower being better: the samples
    /// of latency and offline cases; for a server case, each process's seconds per request
    /// at its maximum rate (1 / max QPS), so that a lower maximum reads as `slower`.
    /// Processes that sustained no rate within the bound are left out.
    pub fn judged(&self) -> Vec<Vec<f64>> {
        match self.mode {
            Mode::Server(_) => self
                .rounds
                .iter()
                .filter_map(|r| r.server.as_ref()?.max_qps)
                .map(|q| vec![1.0 / q])
                .collect(),
            _ => self.processes().into_iter().map(<[f64]>::to_vec).collect(),
        }
    }

    /// `samples_s` split into its worker processes (one per round, in round order): the
    /// unit that comparisons replicate over. Results whose round sample counts do not add up
    /// to `samples_s` (hand-edited files) count as one process.
    pub fn processes(&self) -> Vec<&[f64]> {
        let counts: usize = self.rounds.iter().map(|r| r.samples).sum();
        if counts != self.samples_s.len() {
            return vec![self.samples_s.as_slice()];
        }
        let mut rest = self.samples_s.as_slice();
        self.rounds
            .iter()
            .map(|r| {
                let (head, tail) = rest.split_at(r.samples);
                rest = tail;
                head
            })
            .collect()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParityResult {
    pub max_abs_err: f64,
    pub max_rel_err: f64,
    pub mismatches: u64,
    pub atol: f64,
    pub rtol: f64,
}

/// Predicted labels of validation texts, checked once per worker outside timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyResult {
    pub total: u64,
    /// Labels equal to the expected ones: an accuracy only when `real_weights`.
    pub correct: u64,
    /// Labels equal to the reference interpreter's.
    pub agree_with_reference: u64,
}

/// One worker's measurement of a case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoundResult {
    pub round: u32,
    pub warmup_iterations: u64,
    pub warmup_s: f64,
    /// Whether `auto` warm-up reached a steady state before its cap.
    pub warmup_converged: bool,
    pub iterations_per_sample: u64,
    pub samples: usize,
    /// Wall time of the measurement phase (timing overhead included).
    pub measure_wall_s: f64,
    pub iterations: u64,
    pub median_s: f64,
    /// Per-iteration cost of the timing loop itself, measured with an empty body.
    pub timer_overhead_s: f64,
    /// Median GPU time per iteration from the device's timestamps (GPU subjects whose
    /// adapter writes plausible ones); the host-side median above includes upload,
    /// submission, wait and read-back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_median_s: Option<f64>,
    /// Server scenarios: this worker's rate search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<crate::server::Search>,
}

/// Statistics of `samples_s` (see the `stats` crate for the definitions).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseSummary {
    pub n: usize,
    pub median_s: f64,
    /// Distribution-free confidence interval of the median.
    pub ci_low_s: f64,
    pub ci_high_s: f64,
    pub confidence: f64,
    pub mean_s: f64,
    /// Bootstrap confidence interval of the mean.
    pub mean_ci_low_s: f64,
    pub mean_ci_high_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    /// Sample standard deviation (n - 1).
    pub std_s: f64,
    pub cv: f64,
    /// `None` where the sample count cannot support that percentile.
    pub p50_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub p99_s: Option<f64>,
    pub outliers: stats::Outliers,
    /// Iterations per second over the measured wall time of all rounds.
    pub throughput_per_s: f64,
    /// Items (batch elements) per second over wall time.
    pub items_per_s: f64,
    /// Achieved GFLOP/s at the median.
    pub gflops: Option<f64>,
    /// Spread of the per-round medians, (max - min) / median: the run's own noise estimate
    /// (for a server case, of its per-process maximum rates).
    pub round_spread: Option<f64>,
}
