//! Records how the harness was built, for results.json, and fingerprints the workload
//! builders for the reference cache.
// The workspace's one FNV-1a, shared with the engine (a build script cannot use its crate).
#[allow(dead_code)]
#[path = "../subjects/engine/src/hash.rs"]
mod hash;

fn main() {
    let get = |k: &str| std::env::var(k).unwrap_or_else(|_| "unknown".into());
    let rustc = std::process::Command::new(get("RUSTC"))
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HARNESS_PROFILE={}", get("PROFILE"));
    println!("cargo:rustc-env=HARNESS_OPT_LEVEL={}", get("OPT_LEVEL"));
    println!("cargo:rustc-env=HARNESS_RUSTC={rustc}");
    workloads_fingerprint();
    torch_rpath();
}

/// The workload builders decide the inputs and weights behind every reference output, so
/// their source is part of the reference cache's key.
fn workloads_fingerprint() {
    let mut files: Vec<_> = std::fs::read_dir("src/workloads")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut hash = hash::Fnv1a::new();
    for file in &files {
        hash.update(&std::fs::read(file).unwrap_or_default());
    }
    let hash = hash.finish();
    println!("cargo:rustc-env=HARNESS_WORKLOADS_FINGERPRINT={hash:016x}");
    println!("cargo:rerun-if-changed=src/workloads");
}

/// With the `torch` feature, the harness binary (and its test binaries) find libtorch's
/// shared libraries through an rpath to `$LIBTORCH/lib`, so running needs no
/// LD_LIBRARY_PATH. LIBTORCH comes from the environment or, by default, from
/// `.cargo/config.toml` (the project's `.venv/libtorch`); LIBTORCH_LIB overrides the
/// library root as it does for torch-sys.
fn torch_rpath() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TORCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");
    let Some(root) = std::env::var_os("LIBTORCH_LIB").or_else(|| std::env::var_os("LIBTORCH"))
    else {
        return;
    };
    let lib = std::path::PathBuf::from(root).join("lib");
    let lib = lib.canonicalize().unwrap_or(lib);
    // `rustc-link-arg` applies to this package's binaries, tests, examples and benches.
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
