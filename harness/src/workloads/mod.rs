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

/// One workload kind: its name, what it builds, and how its parameters are checked and built.
pub struct Kind {
    pub name: &'static str,
    pub description: &'static str,
    /// Parses and checks the parameters without building anything: the f32 elements the
    /// workload will hold ([`Params::elements`]).
    elements: fn(&WorkloadSpec) -> Result<u64>,
    build: fn(&WorkloadSpec) -> Result<Workload>,
}

/// A kind's parameters, as a suite declares them.
pub trait Params: DeserializeOwned {
    /// Rejects impossible values (a zero size, a missing field that another one needs) and
    /// estimates the f32 elements of the inputs, weights, outputs and largest activations:
    /// what the memory check before a run ([`crate::plan`]) counts. Saturates, never
    /// overflows.
    fn elements(&self) -> Result<u64>;
}

/// `value`, or an error naming `key` when it is 0.
pub(crate) fn positive(kind: &str, key: &str, value: usize) -> Result<u64> {
    if value == 0 {
        anyhow::bail!("workload `{kind}` parameter `{key}`: expected at least 1, got 0");
    }
    Ok(value as u64)
}

/// Every workload kind suites may name: adding one is a row here plus its module.
pub static KINDS: &[Kind] = &[
    Kind {
        name: "elementwise",
        description: "y = relu(x * 2 + 1) over `size` elements",
        elements: elements_of::<elementwise::Params>,
        build: |s| elementwise::build(&parse_params(s)?, s.seed),
    },
    Kind {
        name: "linear",
        description: "y = act(x @ W^T + b): `batch` x `in_features` -> `out_features`",
        elements: elements_of::<linear::Params>,
        build: |s| linear::build(&parse_params(s)?, s.seed),
    },
    Kind {
        name: "mlp",
        description: "8 -> 128 -> 64 -> 1 MLP with ReLU over `batch` rows",
        elements: elements_of::<mlp::Params>,
        build: |s| mlp::build(&parse_params(s)?, s.seed),
    },
    Kind {
        name: "cnn",
        description: "conv-pool-conv-pool-fc-fc CNN over `batch` 1x28x28 images",
        elements: elements_of::<cnn::Params>,
        build: |s| cnn::build(&parse_params(s)?, s.seed),
    },
    Kind {
        name: "distilbert",
        description: "DistilBERT sentiment: `mode` forward (ids -> logits) or pipeline (text -> label)",
        elements: elements_of::<distilbert::Params>,
        build: |s| distilbert::build(&parse_params(s)?, s.seed),
    },
    Kind {
        name: "minilm",
        description: "all-MiniLM-L6-v2 sentence embeddings (real weights) over `batch` x `seq_len`",
        elements: elements_of::<minilm::Params>,
        build: |s| minilm::build(&parse_params(s)?, s.seed),
    },
];

/// The registry entry of `kind`.
fn find(kind: &str) -> Result<&'static Kind, String> {
    KINDS.iter().find(|k| k.name == kind).ok_or_else(|| {
        format!(
            "unknown workload kind `{kind}` (known: {})",
            KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
        )
    })
}

pub fn build(spec: &WorkloadSpec) -> Result<Workload> {
    find(&spec.kind)
        .map_err(anyhow::Error::msg)
        .and_then(|k| (k.build)(spec))
        .with_context(|| format!("building workload `{}`", spec.kind))
}

/// Checks a kind and its parameters without building anything; the error names the field.
pub fn check(kind: &str, params: &BTreeMap<String, serde_json::Value>) -> Result<(), String> {
    let spec = WorkloadSpec {
        kind: kind.into(),
        seed: 0,
        params: params.clone(),
    };
    elements(&spec).map(drop)
}

/// The f32 elements a checked workload will hold ([`Params::elements`]).
pub fn elements(spec: &WorkloadSpec) -> Result<u64, String> {
    (find(&spec.kind)?.elements)(spec).map_err(|e| format!("{e:#}"))
}

/// Checks that a workload kind exists.
pub fn check_kind(kind: &str) -> Result<(), String> {
    find(kind).map(drop)
}

fn elements_of<P: Params>(spec: &WorkloadSpec) -> Result<u64> {
    parse_params::<P>(spec)?.elements()
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
