//! Facts about the harness build and the source tree, recorded with every run.

use std::path::Path;
use std::process::Command;

use crate::results::HarnessInfo;

pub fn harness_info(command: &[String]) -> HarnessInfo {
    let root = crate::project_root();
    HarnessInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: git(&root, &["rev-parse", "HEAD"]),
        git_dirty: git(&root, &["status", "--porcelain", "--untracked-files=no"])
            .map(|s| !s.is_empty()),
        build_profile: match env!("HARNESS_PROFILE") {
            "debug" => "dev".into(),
            other => other.into(),
        },
        harness_opt_level: env!("HARNESS_OPT_LEVEL").into(),
        engine_opt_level: engine::BUILD_OPT_LEVEL.into(),
        engine_debug_assertions: engine::BUILD_DEBUG_ASSERTIONS.into(),
        rustc: env!("HARNESS_RUSTC").into(),
        features: enabled_features(),
        command: command.to_vec(),
    }
}

fn enabled_features() -> Vec<String> {
    let features: &[(&str, bool)] = &[("torch", cfg!(feature = "torch"))];
    features
        .iter()
        .filter(|(_, on)| *on)
        .map(|(f, _)| f.to_string())
        .collect()
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
