//! A cache of reference outputs for synthetic workloads, which are deterministic: the same
//! workload spec, the same workload builders and the same reference semantics
//! (`engine::REFERENCE_FINGERPRINT`) give the same outputs, so a model-sized f64 reference is computed once per machine, not once
//! per run.
//!
//! Location: `$GRAPHBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/graphbench`, else
//! `~/.cache/graphbench`; files under `reference/`. Deleting it is always safe.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::workloads::WorkloadSpec;

/// Where the outputs of `spec` are (or would be) cached; `None` without a cache folder.
pub fn path(spec: &WorkloadSpec) -> Option<PathBuf> {
    let root = std::env::var_os("GRAPHBENCH_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("graphbench")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/graphbench")))?;
    let key = format!(
        "{}{}{}",
        serde_json::to_string(spec).ok()?,
        engine::REFERENCE_FINGERPRINT,
        env!("HARNESS_WORKLOADS_FINGERPRINT")
    );
    Some(root.join("reference").join(format!(
        "{}.safetensors",
        crate::suite::fingerprint(key.as_bytes())
    )))
}

/// Copies a freshly computed reference file into the cache, atomically.
pub fn store(file: &Path, cached: &Path) -> Result<()> {
    if let Some(dir) = cached.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::results::store::write_atomic(cached, &std::fs::read(file)?)
}
