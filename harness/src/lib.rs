//! graphbench's harness: runs benchmark suites on subjects in isolated worker processes,
//! checks their outputs, and writes reproducible results and reports.
//!
//! Crate map: `suite` (TOML → cases) → `runner` (rounds of `worker` processes) → `results`
//! (the results.json model and store) → `report` (markdown, CSV, plots from results.json).

pub mod aa;
pub mod calibrate;
pub mod cli;
pub mod compare;
pub mod console;
pub mod environment;
pub mod interrupt;
pub mod offline;
pub mod plan;
pub mod reference_cache;
pub mod report;
pub mod results;
pub mod runner;
pub mod server;
pub mod site;
pub mod suite;
pub mod system;
pub mod tensorfile;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
pub mod worker;
pub mod workloads;

use std::path::PathBuf;

/// The project root holding `suites/` and `configs/`: `$GRAPHBENCH_ROOT`, else the nearest
/// ancestor of the current directory that has both, else the workspace this binary was
/// built from.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("GRAPHBENCH_ROOT") {
        return PathBuf::from(root);
    }
    let has_both = |p: &std::path::Path| p.join("suites").is_dir() && p.join("configs").is_dir();
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = cwd.ancestors().find(|p| has_both(p))
    {
        return found.to_path_buf();
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
