//! Where runs live on disk: one new folder per run, `results.json` rewritten atomically after
//! every finished worker, so a run killed half-way keeps every finished case.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{RunResults, SCHEMA_VERSION};

/// Creates `root/<suite>/<stamp>_<machine>[-N]`; never reuses an existing folder.
pub fn create_run_dir(root: &Path, suite: &str, stamp: &str, machine: &str) -> Result<PathBuf> {
    let parent = root.join(suite);
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let base = format!("{stamp}_{machine}");
    for n in 1.. {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    unreachable!("the loop returns or errors")
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see a
/// half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

pub fn save(dir: &Path, results: &RunResults) -> Result<()> {
    let json = serde_json::to_vec_pretty(results)?;
    write_atomic(&dir.join("results.json"), &json)
}

/// Loads a run from its folder or its `results.json`.
pub fn load(path: &Path) -> Result<RunResults> {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON (truncated or corrupt?)", file.display()))?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == SCHEMA_VERSION as u64 => {}
        Some(v) => bail!(
            "{}: schema_version {v} is not supported by this harness (it reads version {SCHEMA_VERSION})",
            file.display()
        ),
        None => bail!(
            "{}: no schema_version: not a graphbench results file",
            file.display()
        ),
    }
    serde_json::from_value(value).with_context(|| {
        format!(
            "{}: does not match results schema {SCHEMA_VERSION}",
            file.display()
        )
    })
}
