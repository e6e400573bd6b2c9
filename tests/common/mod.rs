//! A scratch project root (suites/ + configs/) and a way to run the built CLI in it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::results::{RunResults, store};

pub struct Project {
    pub dir: tempfile::TempDir,
}

/// A profile short enough for tests: every case measures ~40 ms in 2 rounds.
pub const TEST_PROFILE: &str = r#"
[measure]
warmup = 3
max_warmup = "0.2s"
min_iterations = 6
min_time = "0.04s"
max_time = "1s"
min_sample_time = "1ms"
rounds = 2
timeout = "10s"

[check]
atol = 1e-5
rtol = 1e-4
"#;

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("suites")).unwrap();
        std::fs::create_dir_all(dir.path().join("configs")).unwrap();
        let p = Project { dir };
        p.write("configs/test.toml", TEST_PROFILE);
        p.write("configs/default.toml", TEST_PROFILE);
        p
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.root().join(rel), text).unwrap();
    }

    pub fn harness(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(args)
            .current_dir(self.root())
            .env("GRAPHBENCH_ROOT", self.root())
            .output()
            .expect("run harness")
    }

    /// The single run folder under results/<suite>/.
    pub fn run_dir(&self, suite: &str) -> PathBuf {
        let dirs: Vec<PathBuf> = std::fs::read_dir(self.root().join("results").join(suite))
            .expect("results folder")
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(dirs.len(), 1, "expected one run folder, found {dirs:?}");
        dirs[0].clone()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Saves `r` as results/<suite>/<stamp>_<machine>/results.json; returns the folder.
pub fn save(p: &Project, mut r: RunResults, stamp: &str) -> PathBuf {
    let host = r.system.hostname.clone().unwrap();
    r.run_id = format!("{stamp}_{host}");
    r.started_at = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    let dir = p.root().join("results").join(&r.suite.name).join(&r.run_id);
    std::fs::create_dir_all(&dir).unwrap();
    store::save(&dir, &r).unwrap();
    dir
}
