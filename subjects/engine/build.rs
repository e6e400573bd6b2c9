//! Records how this crate was optimised, so results can say whether they measured optimised
//! code, and fingerprints the sources that define what the reference interpreter computes,
//! so cached reference outputs are never reused across a change of semantics.
use std::path::Path;

#[allow(dead_code)]
#[path = "src/hash.rs"]
mod hash;

fn main() {
    let opt = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    let debug_assertions = std::env::var("CARGO_CFG_DEBUG_ASSERTIONS").is_ok();
    println!("cargo:rustc-env=ENGINE_OPT_LEVEL={opt}");
    println!("cargo:rustc-env=ENGINE_DEBUG_ASSERTIONS={debug_assertions}");

    // The sources that define what a graph means and what the reference interpreter
    // computes; backends (cpu/, and any other) and the ONNX export are left out, so
    // optimising a kernel keeps the cache.
    let mut files = Vec::new();
    for semantic in [
        "src/graph.rs",
        "src/graph",
        "src/ops",
        "src/reference.rs",
        "src/reference",
        "src/models",
        "src/lowering.rs",
        "src/layout.rs",
        "src/shape.rs",
        "src/tensor.rs",
        "src/dtype.rs",
    ] {
        collect(Path::new(semantic), &mut files);
    }
    files.sort();
    let mut hash = hash::Fnv1a::new();
    for file in &files {
        hash.update(file.to_string_lossy().as_bytes())
            .update(&std::fs::read(file).unwrap_or_default());
    }
    let hash = hash.finish();
    println!("cargo:rustc-env=ENGINE_REFERENCE_FINGERPRINT={hash:016x}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=assets");
}

fn collect(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        collect(&entry.path(), out);
    }
}
