//! With the `torch` feature: records the libtorch version for the `torch` subject and lets
//! this crate's test binaries find libtorch's shared libraries at run time (an rpath, so no
//! LD_LIBRARY_PATH is needed). Binaries of other crates (the harness) emit their own rpath:
//! link arguments do not propagate to dependents.
//!
//! LIBTORCH (and LIBTORCH_LIB, as torch-sys reads them) comes from the environment or, by
//! default, from `.cargo/config.toml`: the project's `.venv/libtorch`.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TORCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");
    let Some(libtorch) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        println!("cargo:rustc-env=GRAPHBENCH_LIBTORCH_VERSION=unknown");
        return;
    };
    let lib_root = std::env::var_os("LIBTORCH_LIB").map_or_else(|| libtorch.clone(), PathBuf::from);
    let lib = lib_root.join("lib");
    let lib = lib.canonicalize().unwrap_or(lib);
    // `rustc-link-arg` reaches this package's tests, examples and benches (never the lib).
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());

    // A PyTorch wheel has `version.py` (`__version__ = '2.11.0+cu130'`), a libtorch zip
    // `build-version`.
    let version_py = libtorch.join("version.py");
    let build_version = libtorch.join("build-version");
    for f in [&version_py, &build_version] {
        // (A missing file named here would rerun this script on every build.)
        if f.exists() {
            println!("cargo:rerun-if-changed={}", f.display());
        }
    }
    let from_py = std::fs::read_to_string(&version_py).ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.trim().strip_prefix("__version__"))
            .map(|v| {
                v.trim_start_matches([' ', '='])
                    .trim()
                    .trim_matches(['\'', '"'])
                    .to_string()
            })
    });
    let version = from_py
        .or_else(|| {
            std::fs::read_to_string(&build_version)
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            // Not there (yet): name the file, so this script runs again on every build
            // until setup-baselines has put it there, rather than keeping "unknown".
            println!("cargo:rerun-if-changed={}", version_py.display());
            "unknown".into()
        });
    println!("cargo:rustc-env=GRAPHBENCH_LIBTORCH_VERSION={version}");
}
