//! Workloads: the graphs suites measure, built from a kind, a seed and parameters.
//!
//! Each kind has a parameter struct that serde checks (unknown or missing parameters are
//! errors naming the field) and a function that builds the graph and deterministic inputs.
//! The parent builds a workload once for the reference outputs; every worker builds the same
//! one again from the same spec.

mod cnn;
mod data;
mod distilbert;
mod elementwise;
mod linear;
mod minilm;
mod mlp;
mod text;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use engine::{Graph, Tensor};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use text::{LabelledText, TextPipeline};

/// A graph with its inputs, and how one timed iteration drives it.
pub struct Workload {
    pub graph: Graph,
    /// Inputs of the parity check, and of every iteration when `pipeline` is `None`.
    pub inputs: Vec<Tensor>,
    /// Items one iteration processes (batch size, elements, texts), for throughput.
    pub items_per_iteration: u64,
    /// Text in, label out: tokenization is part of each timed iteration.
    pub pipeline: Option<TextPipeline>,
    /// Labelled texts whose predictions are checked once per worker, outside timing.
    pub validation: Option<Vec<LabelledText>>,
    /// Whether the weights are a real checkpoint (accuracy means something) or synthetic.
    pub real_weights: bool,
}

/// A workload that cannot run on this machine (weights not installed, ...): its cases are
/// recorded as `skipped` with the reason and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{reason} (fix: {fix})")]
pub struct Unavailable {
    pub reason: String,
    pub fix: String,
}

/// Everything needed to rebuild a workload in another process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub kind: String,
    pub seed: u64,
    pub params: BTreeMap<String, serde_json::Value>,
}

/// The workload kinds suites may name, with what each builds.
pub const KINDS: &[(&str, &str)] = &[
    ("elementwise", "y = relu(x * 2 + 1) over `size` elements"),
    (
        "linear",
        "y = act(x @ W^T + b): `batch` x `in_features` -> `out_features`",
    ),
    ("mlp", "8 -> 128 -> 64 -> 1 MLP with ReLU over `batch` rows"),
    (
        "cnn",
        "conv-pool-conv-pool-fc-fc CNN over `batch` 1x28x28 images",
    ),
    (
        "distilbert",
        "DistilBERT sentiment: `mode` forward (ids -> logits) or pipeline (text -> label)",
    ),
    (
        "minilm",
        "all-MiniLM-L6-v2 sentence embeddings (real weights) over `batch` x `seq_len`",
    ),
];

pub fn build(spec: &WorkloadSpec) -> Result<Workload> {
    let seed = spec.seed;
    match spec.kind.as_str() {
        "elementwise" => elementwise::build(&parse_params(spec)?, seed),
        "linear" => linear::build(&parse_params(spec)?, seed),
        "mlp" => mlp::build(&parse_params(spec)?, seed),
        "cnn" => cnn::build(&parse_params(spec)?, seed),
        "distilbert" => distilbert::build(&parse_params(spec)?, seed),
        "minilm" => minilm::build(&parse_params(spec)?, seed),
        other => anyhow::bail!("unknown workload kind `{other}` (known: {})", kind_names()),
    }
    .with_context(|| format!("building workload `{}`", spec.kind))
}

/// Checks a kind and its parameters without building anything; the error names the field.
pub fn check(kind: &str, params: &BTreeMap<String, serde_json::Value>) -> Result<(), String> {
    let spec = WorkloadSpec {
        kind: kind.into(),
        seed: 0,
        params: params.clone(),
    };
    let result = match kind {
        "elementwise" => parse_params::<elementwise::Params>(&spec).map(drop),
        "linear" => parse_params::<linear::Params>(&spec).map(drop),
        "mlp" => parse_params::<mlp::Params>(&spec).map(drop),
        "cnn" => parse_params::<cnn::Params>(&spec).map(drop),
        "distilbert" => parse_params::<distilbert::Params>(&spec).and_then(|p| p.check()),
        "minilm" => parse_params::<minilm::Params>(&spec).map(drop),
        other => {
            return Err(format!(
                "unknown workload kind `{other}` (known: {})",
                kind_names()
            ));
        }
    };
    result.map_err(|e| format!("{e:#}"))
}

/// Checks that a workload kind exists.
pub fn check_kind(kind: &str) -> Result<(), String> {
    if KINDS.iter().any(|(k, _)| *k == kind) {
        Ok(())
    } else {
        Err(format!(
            "unknown workload kind `{kind}` (known: {})",
            kind_names()
        ))
    }
}

fn kind_names() -> String {
    KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

fn parse_params<P: DeserializeOwned>(spec: &WorkloadSpec) -> Result<P> {
    let map = spec.params.clone().into_iter().collect();
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| anyhow::anyhow!("workload `{}` parameters: {e}", spec.kind))
}

impl Workload {
    /// A workload whose every iteration runs the same inputs.
    pub fn fixed(graph: Graph, inputs: Vec<Tensor>, items_per_iteration: u64) -> Workload {
        Workload {
            graph,
            inputs,
            items_per_iteration,
            pipeline: None,
            validation: None,
            real_weights: false,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Gelu,
    None,
}
