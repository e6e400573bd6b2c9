//! The worker protocol: one fresh child process per (case, round).
//!
//! ## Wire format
//!
//! The parent runs `harness worker` and writes one [`Job`] as JSON to the child's standard
//! input, then closes it. The child writes [`Message`]s to standard output, one JSON object
//! per line, tagged by `"type"`, in this order:
//!
//! 1. `loaded` — the subject loaded (compiled) the graph; `load_s` is how long that took.
//! 2. `first_run` — latency of the first (cold) run.
//! 3. `parity` — how far the first run's outputs are from the reference outputs.
//! 4. `accuracy` — for workloads with labelled validation texts only: how many labels match
//!    the expected ones and the reference interpreter's (not timed).
//! 5. `warmup` — iterations and seconds spent warming up, and whether `auto` converged.
//! 6. `samples` — per-iteration seconds, sent in chunks as they are measured.
//!    Offline scenarios: each sample is one pass over the pool, in batches.
//!    Server scenarios: `server`, the rate search and its probes, then the service time
//!    of every request it served as samples.
//! 7. `done` — wall time and iteration count of the measurement, timer overhead, peak RSS.
//!
//! At any point the child may send `error` and exit non-zero. Standard output carries only
//! these messages; logs go to standard error. Any line that is not a valid message is a
//! protocol violation and fails the case. A child that dies or exceeds the timeout fails the
//! case with what it sent so far; the run goes on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::results::{MeasurePolicy, Mode, Tolerance};
use crate::server::Search;
use crate::workloads::WorkloadSpec;

/// What the parent asks of one worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    pub case_id: String,
    pub workload: WorkloadSpec,
    pub subject: String,
    /// 0 = all cores.
    pub threads: usize,
    pub round: u32,
    /// This round's share of the measurement budget.
    pub budget: MeasurePolicy,
    /// safetensors file with the reference outputs (`output.0`, `output.1`, ...).
    pub reference: PathBuf,
    pub tolerance: Tolerance,
    /// Latency (one request at a time), offline (passes over a pool) or server (the rate
    /// search).
    #[serde(default)]
    pub mode: Mode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Loaded {
        load_s: f64,
    },
    FirstRun {
        latency_s: f64,
    },
    Parity {
        max_abs_err: f64,
        max_rel_err: f64,
        mismatches: u64,
    },
    Accuracy {
        total: u64,
        correct: u64,
        agree_with_reference: u64,
    },
    Warmup {
        iterations: u64,
        seconds: f64,
        converged: bool,
    },
    Samples {
        iterations_per_sample: u64,
        samples_s: Vec<f64>,
    },
    /// Server scenarios only, before `done`: the rate search (samples are then the
    /// service times of its requests).
    Server {
        search: Search,
    },
    Done {
        measure_wall_s: f64,
        iterations: u64,
        timer_overhead_s: f64,
        peak_rss_bytes: Option<u64>,
        /// Median device (GPU) time per iteration, where the subject measures it.
        #[serde(default)]
        device_median_s: Option<f64>,
        /// Device (GPU) memory the session's buffers hold, where the subject says.
        #[serde(default)]
        device_memory_bytes: Option<u64>,
    },
    Error {
        stage: String,
        message: String,
    },
}
