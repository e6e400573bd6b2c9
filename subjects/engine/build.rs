//! Records how this crate was optimised, so results can say whether they measured optimised
//! code, and fingerprints the sources that define what the reference interpreter computes,
//! so cached reference outputs are never reused across a change of semantics.
use std::path::Path;

fn main() {
    let opt = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    let debug_assertions = std::env::var("CARGO_CFG_DEBUG_ASSERTIONS").is_ok();
    println!("cargo:rustc-env=ENGINE_OPT_LEVEL={opt}");
    println!("cargo:rustc-env=ENGINE_DEBUG_ASSERTIONS={debug_assertions}");

    // Everything but the optimised path (compiler, CPU kernels) and the ONNX export.
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.retain(|p| {
        !["src/compiler", "src/cpu", "src/onnx"]
            .iter()
            .any(|skip| p.starts_with(skip))
    });
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in &files {
        for &b in file
            .to_string_lossy()
            .as_bytes()
            .iter()
            .chain(&std::fs::read(file).unwrap_or_default())
        {
            hash ^= b as u64;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=ENGINE_REFERENCE_FINGERPRINT={hash:016x}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=assets");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
