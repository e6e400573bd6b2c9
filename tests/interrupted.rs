//! Interrupted runs are results: a run killed with SIGKILL at any moment keeps every finished
//! round readable, and `--resume` completes it with the same case ids; Ctrl-C (SIGINT) stops
//! after the worker in flight, exit 130, with the resume command printed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Project, text};
use harness::results::{Status, store};

const SUITE: &str = r#"[suite]
name = "tiny"
description = "interruptible"

[workload]
kind = "elementwise"
params = { size = 64 }

[subjects]
run = ["engine-cpu"]

[[scenario]]
name = "sweep"
sweep = { size = [64, 128, 256, 512] }
"#;

/// 4 cases x 4 rounds of short workers: about 4 s in all (each round measures for a quarter
/// of min_time), so that kills between 0.25 s and 3 s land while it runs.
const PROFILE: &str = r#"
[measure]
warmup = 3
max_warmup = "0.1s"
min_iterations = 8
min_time = "0.8s"
max_time = "2s"
min_sample_time = "1ms"
rounds = 4
timeout = "20s"
"#;

fn project() -> Project {
    let p = Project::new();
    p.write("suites/tiny.toml", SUITE);
    p.write("configs/kill.toml", PROFILE);
    p
}

fn start(p: &Project) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["suite", "tiny", "--profile", "kill"])
        .current_dir(p.root())
        .env("GRAPHBENCH_ROOT", p.root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start harness")
}

fn run_dir(p: &Project) -> Option<PathBuf> {
    let dir = std::fs::read_dir(p.root().join("results/tiny")).ok()?;
    dir.filter_map(|e| e.ok().map(|e| e.path()))
        .find(|d| d.join("results.json").is_file())
}

fn resume(p: &Project, dir: &Path) -> std::process::Output {
    p.harness(&[
        "suite",
        "tiny",
        "--profile",
        "kill",
        "--resume",
        dir.to_str().unwrap(),
    ])
}

#[test]
fn a_run_killed_at_any_moment_keeps_its_rounds_and_resumes() {
    let mut interrupted = 0;
    for i in 0..10u64 {
        let p = project();
        let mut child = start(&p);
        // Kill times spread over the run: 0.25 s to about 3 s.
        std::thread::sleep(Duration::from_millis(250 + 300 * i));
        let _ = child.kill(); // SIGKILL: no handler runs
        let _ = child.wait();
        let Some(dir) = run_dir(&p) else {
            continue; // killed before the run folder existed: nothing was measured
        };
        let stored = store::load_stored(&dir).expect("results.json stays readable");
        if stored.finished_at.is_some() {
            continue; // finished before the kill
        }
        interrupted += 1;
        // Every finished round is there and adds up; readers count them.
        let read = store::load(&dir).unwrap();
        for case in &read.cases {
            let counted: usize = case.rounds.iter().map(|r| r.samples).sum();
            assert_eq!(counted, case.samples_s.len(), "{}", case.id);
            if !case.rounds.is_empty() {
                assert_eq!(case.status, Status::Ok, "{}", case.id);
                let reason = case.reason.as_deref().unwrap_or("");
                assert!(reason.starts_with("interrupted: "), "{}: {reason}", case.id);
            }
        }
        let report = p.harness(&["report", dir.to_str().unwrap()]);
        assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));

        let out = resume(&p, &dir);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let done = store::load_stored(&dir).unwrap();
        assert!(done.finished_at.is_some());
        let ids = |r: &harness::results::RunResults| {
            r.cases.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&done), ids(&stored));
        for (before, after) in stored.cases.iter().zip(&done.cases) {
            assert_eq!(after.status, Status::Ok, "{}", after.id);
            let mut rounds: Vec<u32> = after.rounds.iter().map(|r| r.round).collect();
            rounds.sort_unstable();
            assert_eq!(rounds, [0, 1, 2, 3], "{}", after.id);
            // What was measured before the kill is kept as it was.
            assert_eq!(
                after.samples_s[..before.samples_s.len()],
                before.samples_s[..],
                "{}",
                after.id
            );
        }
        // A finished run cannot be resumed again.
        assert_eq!(resume(&p, &dir).status.code(), Some(2));
    }
    assert!(
        interrupted >= 5,
        "only {interrupted} of 10 kills hit a run in progress"
    );
}

#[test]
fn ctrl_c_stops_after_the_worker_in_flight_and_says_how_to_resume() {
    let p = project();
    let child = start(&p);
    // Signal once the first worker's round is on disk: 15 of the 16 workers remain.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let measured = run_dir(&p)
            .and_then(|d| store::load_stored(&d).ok())
            .is_some_and(|r| r.cases.iter().any(|c| !c.rounds.is_empty()));
        if measured {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no round finished in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    let dir = run_dir(&p).expect("a run folder");
    let stored = store::load_stored(&dir).unwrap();
    assert!(
        stored.finished_at.is_none(),
        "the run must stop early: {err}"
    );
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted after") && err.contains("--resume"),
        "{err}"
    );
    assert!(
        stored.cases.iter().all(|c| c.status != Status::Failed),
        "Ctrl-C is not a failure of the case in flight"
    );
    let out = resume(&p, &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(store::load_stored(&dir).unwrap().finished_at.is_some());
}
