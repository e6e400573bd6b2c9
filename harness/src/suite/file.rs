//! Suite and profile files as written: serde structs, unknown keys rejected, no I/O and no
//! cross-checks (those happen in `resolve`).

use serde::Deserialize;
use toml::Spanned;

use super::values::{Fraction, Seconds, WarmupSpec};

/// `suites/NAME.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub suite: SuiteSection,
    pub workload: WorkloadSection,
    /// `[[scenario]]` tables; a suite without one has a single scenario named `default`.
    #[serde(default, rename = "scenario")]
    pub scenarios: Vec<ScenarioSection>,
    pub subjects: SubjectsSection,
    #[serde(default)]
    pub measure: MeasureSection,
    #[serde(default)]
    pub check: CheckSection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteSection {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSection {
    /// Which graph to build (`elementwise`, `linear`, ...).
    pub kind: Spanned<String>,
    /// Seed of the synthetic inputs and weights.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Parameters every scenario starts from.
    #[serde(default)]
    pub params: SpannedTable,
}

/// A table whose values remember where they were written.
pub type SpannedTable = indexmap::IndexMap<String, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    pub name: Spanned<String>,
    /// Parameters that override the workload's for this scenario.
    #[serde(default)]
    pub params: SpannedTable,
    /// `param = [values...]`: the scenario runs the cartesian product.
    #[serde(default)]
    pub sweep: SpannedTable,
    /// `latency` (the default: one request at a time, timed), `offline` (a pool of items in
    /// batches; items per second) or `server` (requests arrive by a Poisson process; the
    /// highest rate whose `percentile` latency is within `slo`).
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    /// A server scenario's latency bound (`"100ms"`).
    #[serde(default)]
    pub slo: Option<Spanned<Seconds>>,
    /// The percentile that must stay within `slo`, in (0, 1); default 0.99.
    #[serde(default)]
    pub percentile: Option<Spanned<f64>>,
    /// An offline scenario's pool: the items one pass processes (default 64).
    #[serde(default)]
    pub pool: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectsSection {
    pub run: Spanned<Vec<Spanned<String>>>,
    /// Thread counts, each a positive integer or `"all"`; default `[1]`.
    #[serde(default)]
    pub threads: Option<Spanned<Vec<Spanned<toml::Value>>>>,
}

/// Measurement policy; every field optional so profile, suite and `--set` layer.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureSection {
    pub warmup: Option<WarmupSpec>,
    pub max_warmup: Option<Seconds>,
    pub min_iterations: Option<u64>,
    pub min_time: Option<Seconds>,
    pub max_time: Option<Seconds>,
    pub min_sample_time: Option<Seconds>,
    pub rounds: Option<u32>,
    pub timeout: Option<Seconds>,
    /// Sample until the median's CI half-width is within this fraction of it (or max_time).
    pub target_ci: Option<Fraction>,
}

impl MeasureSection {
    /// Whether this layer sets `key` (a field name).
    pub fn is_set(&self, key: &str) -> bool {
        match key {
            "warmup" => self.warmup.is_some(),
            "max_warmup" => self.max_warmup.is_some(),
            "min_iterations" => self.min_iterations.is_some(),
            "min_time" => self.min_time.is_some(),
            "max_time" => self.max_time.is_some(),
            "min_sample_time" => self.min_sample_time.is_some(),
            "rounds" => self.rounds.is_some(),
            "timeout" => self.timeout.is_some(),
            "target_ci" => self.target_ci.is_some(),
            _ => false,
        }
    }

    /// Fields set in `over` replace those in `self`.
    pub fn layer(self, over: MeasureSection) -> MeasureSection {
        MeasureSection {
            warmup: over.warmup.or(self.warmup),
            max_warmup: over.max_warmup.or(self.max_warmup),
            min_iterations: over.min_iterations.or(self.min_iterations),
            min_time: over.min_time.or(self.min_time),
            max_time: over.max_time.or(self.max_time),
            min_sample_time: over.min_sample_time.or(self.min_sample_time),
            rounds: over.rounds.or(self.rounds),
            timeout: over.timeout.or(self.timeout),
            target_ci: over.target_ci.or(self.target_ci),
        }
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    pub atol: Option<f64>,
    pub rtol: Option<f64>,
}

/// `configs/PROFILE.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    #[serde(default)]
    pub description: String,
    pub measure: MeasureSection,
    #[serde(default)]
    pub check: CheckSection,
}

/// What `--set key=value` may change, as a TOML document built from the pairs.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    pub measure: MeasureSection,
    #[serde(default)]
    pub check: CheckSection,
    #[serde(default)]
    pub workload: WorkloadOverrides,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadOverrides {
    pub seed: Option<u64>,
    /// Parameters forced on every scenario (they also replace a sweep over that key).
    #[serde(default)]
    pub params: toml::Table,
}
