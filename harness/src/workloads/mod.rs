//! Workloads: the graphs suites measure, built from a kind, a seed and parameters.
//!
//! Each kind has a parameter struct that serde checks (unknown or missing parameters are
//! errors naming the field) and a function that builds the graph and deterministic inputs.
//! The parent builds a workload once for the reference outputs; every worker builds the same
//! one again from the same spec.

mod data;
mod elementwise;
mod linear;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use engine::{Graph, Tensor};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A graph with its inputs.
pub struct Workload {
    pub graph: Graph,
    pub inputs: Vec<Tensor>,
    /// Items one run processes (batch size, elements), for throughput.
    pub items_per_iteration: u64,
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
        "y = relu(x @ W^T + b): `batch` x `in_features` -> `out_features`",
    ),
];

pub fn build(spec: &WorkloadSpec) -> Result<Workload> {
    match spec.kind.as_str() {
        "elementwise" => elementwise::build(&parse_params(spec)?, spec.seed),
        "linear" => linear::build(&parse_params(spec)?, spec.seed),
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

#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Gelu,
    None,
}
