//! End-to-end tests of `compare`, `check`, `history`, `baseline` and `calibrate` through the
//! built CLI, on synthetic results with known effects (see `harness::testing`).

mod common;

use std::path::{Path, PathBuf};

use common::{Project, save, text};
use harness::results::RunResults;
use harness::testing::{Synth, run, scale, sweep};

/// Two batch sizes on two subjects; `engine-cpu` 4x faster than `reference`.
fn cases(seed: u64) -> Vec<harness::results::CaseResult> {
    sweep(seed, &["engine-cpu", "reference"])
}

fn baseline(p: &Project, r: RunResults) -> PathBuf {
    let path = p.root().join("results/baselines/s.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec(&r).unwrap()).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn show(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

#[test]
fn a_case_made_20_percent_slower_fails_check_with_exit_1_and_a_step_summary() {
    let p = Project::new();
    let base = baseline(&p, run("s", "box", cases(1)));
    let mut cand = run("s", "box", cases(2));
    scale(&mut cand.cases[2], 1.2); // sweep/batch=32/engine-cpu
    save(&p, cand, "20250102T000000Z");
    let summary = p.root().join("step_summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["check", "--baseline", s(&base)])
        .current_dir(p.root())
        .env("GRAPHBENCH_ROOT", p.root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("**FAIL**: 1 case slower regressed."),
        "{stdout}"
    );
    assert!(
        stdout.contains("| `sweep/batch=32/engine-cpu/threads=1` |"),
        "{stdout}"
    );
    assert!(stdout.contains("**slower**"), "{stdout}");
    assert!(
        stdout.contains("<details><summary>3 unchanged</summary>"),
        "{stdout}"
    );
    let appended = std::fs::read_to_string(&summary).unwrap();
    assert!(
        appended.starts_with("earlier step\n## graphbench check: s"),
        "{appended}"
    );
}

#[test]
fn identical_distributions_pass_check() {
    let p = Project::new();
    let base = baseline(&p, run("s", "box", cases(1)));
    let cand = save(&p, run("s", "box", cases(2)), "20250102T000000Z");
    let out = p.harness(&["check", "--baseline", s(&base), s(&cand)]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(
        text(&out.stdout).contains("**PASS**: nothing regressed."),
        "{}",
        show(&out)
    );
}

#[test]
fn three_processes_per_side_are_inconclusive_not_a_regression() {
    let p = Project::new();
    let few = |seed, factor: f64| {
        let mut c = Synth {
            rounds: 3,
            per_round: 100,
            seed,
            ..Synth::new("tiny", "engine-cpu")
        }
        .case();
        scale(&mut c, factor);
        run("s", "box", vec![c])
    };
    let a = save(&p, few(1, 1.0), "20250101T000000Z");
    let b = save(&p, few(2, 1.5), "20250102T000000Z");
    let out_dir = p.root().join("cmp");
    let out = p.harness(&["compare", s(&a), s(&b), "--out", s(&out_dir)]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(text(&out.stdout).contains("inconclusive"), "{}", show(&out));
    let md = std::fs::read_to_string(out_dir.join("compare.md")).unwrap();
    assert!(
        md.contains("too few worker processes: 3 vs 3 can at best reach p = 0.1"),
        "{md}"
    );
    assert!(md.contains("need at least 4 per side"), "{md}");
    let check = p.harness(&["check", "--baseline", s(&a), s(&b)]);
    assert_eq!(
        code(&check),
        0,
        "inconclusive never fails the gate\n{}",
        show(&check)
    );
}

#[test]
fn different_machines_switch_to_ratios_and_never_judge_absolute_times() {
    let p = Project::new();
    let a = save(&p, run("s", "box", cases(1)), "20250101T000000Z");
    let mut other = run("s", "ci-runner", cases(2));
    other.system.cpu_model = "Slower CPU".into();
    other.system.logical_cores = 4;
    for c in &mut other.cases {
        scale(c, 1.8); // a slower box: every absolute time 80% higher
    }
    let b = save(&p, other, "20250102T000000Z");
    let out_dir = p.root().join("cmp");
    let out = p.harness(&["compare", s(&a), s(&b), "--out", s(&out_dir)]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(
        text(&out.stdout).contains("DIFFERENT MACHINES (CPU model, logical cores)"),
        "{}",
        show(&out)
    );
    let md = std::fs::read_to_string(out_dir.join("compare.md")).unwrap();
    assert!(md.contains("> **Different machines** (CPU model, logical cores differ): absolute times are **not** compared"), "{md}");
    assert!(md.contains("## Environment differences"), "{md}");
    assert!(
        md.contains("| CPU model | Synthetic CPU | Slower CPU | **yes** |"),
        "{md}"
    );
    assert!(
        md.contains("| sweep · batch=1 · threads=1 | engine-cpu / reference |"),
        "{md}"
    );
    assert!(md.contains("## Achieved GFLOP/s"), "{md}");
    assert!(
        !md.contains("A median"),
        "no absolute-time table across machines:\n{md}"
    );
    assert!(!md.contains("**slower**"), "{md}");
    for f in ["compare.svg", "compare.png"] {
        assert!(out_dir.join(f).is_file(), "{f}");
    }
    let check = p.harness(&["check", "--baseline", s(&a), s(&b)]);
    assert_eq!(
        code(&check),
        0,
        "a slower machine is not a regression\n{}",
        show(&check)
    );
}

#[test]
fn corrupt_truncated_or_foreign_results_exit_2_with_a_clear_error() {
    let p = Project::new();
    let good = save(&p, run("s", "box", cases(1)), "20250101T000000Z");
    let json = std::fs::read_to_string(good.join("results.json")).unwrap();
    let bad = p.root().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let cases: [(&str, String, &str); 4] = [
        (
            "truncated.json",
            json[..json.len() / 2].to_string(),
            "not valid JSON (truncated or corrupt?)",
        ),
        (
            "garbage.json",
            "\u{0}\u{1}binary".to_string(),
            "not valid JSON (truncated or corrupt?)",
        ),
        (
            "future.json",
            json.replace("\"schema_version\": 1", "\"schema_version\": 99"),
            "schema_version 99 is not supported",
        ),
        (
            "other.json",
            "{\"hello\": 1}".to_string(),
            "no schema_version: not a graphbench results file",
        ),
    ];
    for (name, content, expected) in cases {
        let path = bad.join(name);
        std::fs::write(&path, content).unwrap();
        for args in [
            vec!["check", "--baseline", s(&path), s(&good)],
            vec!["check", "--baseline", s(&good), s(&path)],
            vec!["compare", s(&good), s(&path)],
        ] {
            let out = p.harness(&args);
            assert_eq!(code(&out), 2, "{args:?}\n{}", show(&out));
            let err = text(&out.stderr);
            assert!(
                err.contains(expected) && err.contains(name),
                "{args:?}: {err}"
            );
        }
    }
    let missing = p.harness(&["check", "--baseline", "nowhere.json"]);
    assert_eq!(code(&missing), 2, "{}", show(&missing));
    assert!(
        text(&missing.stderr).contains("nowhere.json"),
        "{}",
        show(&missing)
    );
}

#[test]
fn a_changed_suite_is_reported_and_never_matched() {
    let p = Project::new();
    let base = baseline(&p, run("s", "box", cases(1)));
    let mut changed = run("s", "box", cases(2));
    changed.suite.file_hash = "feedfacefeedface".into();
    let cand = save(&p, changed, "20250102T000000Z");
    let out = p.harness(&["check", "--baseline", s(&base), s(&cand)]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(
        text(&out.stdout).contains("The suite definition changed between the runs"),
        "{}",
        show(&out)
    );
}

#[test]
fn baseline_copies_the_newest_run_and_check_finds_the_newest_run_itself() {
    let p = Project::new();
    save(&p, run("s", "box", cases(1)), "20250101T000000Z");
    let newest = save(&p, run("s", "box", cases(2)), "20250103T000000Z");
    save(&p, run("s", "box", cases(3)), "20250102T000000Z");
    let out = p.harness(&["baseline", "s"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    // One baseline per machine class, named after the CPU model and a hash of the key.
    let folder = p.root().join("results/baselines/s");
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("synthetic-") && name.ends_with(".json"),
        "{name}"
    );
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(newest.join("results.json")).unwrap()
    );
    assert!(text(&out.stdout).contains("git add"), "{}", show(&out));
    // Checking the newest run against the folder: it picks this machine's baseline, the
    // run itself: identical samples, nothing regressed.
    let out = p.harness(&["check", "--baseline", "results/baselines/s"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(
        text(&out.stdout).contains("20250103T000000Z_box"),
        "{}",
        show(&out)
    );
    let wrong = p.harness(&["baseline", "nosuch"]);
    assert_eq!(code(&wrong), 2, "{}", show(&wrong));
}

#[test]
fn history_flags_the_step_where_it_happened() {
    let p = Project::new();
    for (i, factor) in [1.0, 1.0, 1.3, 1.3].into_iter().enumerate() {
        let mut r = run("s", "box", cases(i as u64));
        scale(&mut r.cases[0], factor); // sweep/batch=1/engine-cpu
        save(&p, r, &format!("2025010{}T000000Z", i + 1));
    }
    std::fs::create_dir_all(p.root().join("results/s/20250109T000000Z_broken")).unwrap();
    std::fs::write(
        p.root()
            .join("results/s/20250109T000000Z_broken/results.json"),
        "{",
    )
    .unwrap();
    let out = p.harness(&["history", "s"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("4 runs of s, 4 series, 1 step changes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("slower    sweep/batch=1/engine-cpu/threads=1 at run 3"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(p.root().join("results/history/s/history.md")).unwrap();
    assert!(md.contains("**▲ slower 1.3"), "{md}");
    assert!(
        md.contains("## Not read") && md.contains("20250109T000000Z_broken"),
        "{md}"
    );
    assert!(
        p.root()
            .join("results/history/s/plots/history_sweep_batch-1_threads-1.svg")
            .is_file(),
        "{md}"
    );
}

const TINY: &str = r#"[suite]
name = "tiny"
description = "calibration test suite"

[workload]
kind = "elementwise"
seed = 1
params = { size = 64 }

[subjects]
run = ["engine-cpu", "reference"]
threads = [1]
"#;

#[test]
fn calibrate_runs_the_suite_twice_and_compare_uses_the_noise() {
    let p = Project::new();
    p.write("suites/tiny.toml", TINY);
    let out = p.harness(&["calibrate", "tiny", "--profile", "test"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("## A/A calibration"), "{stdout}");
    assert!(
        stdout.contains("false alarms without calibration (faster or slower in this A/A pair)"),
        "{stdout}"
    );
    let cal_dir = p.root().join("results/calibration");
    let file = std::fs::read_dir(&cal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a calibration file");
    let cal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let suite = &cal["suites"]["tiny"];
    assert_eq!(suite["cases"].as_object().unwrap().len(), 2, "{cal}");
    assert_eq!(suite["pairs"].as_object().unwrap().len(), 1, "{cal}");
    assert!(
        suite["cases"]["default/size=64/engine-cpu/threads=1"]["noise"]
            .as_f64()
            .unwrap()
            >= 0.0
    );
    // The two calibration runs stay out of the suite's own history.
    assert!(!p.root().join("results/tiny").exists());
    let runs: Vec<PathBuf> = std::fs::read_dir(cal_dir.join("runs/tiny"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 2);
    let out = p.harness(&["compare", s(&runs[0]), s(&runs[1]), "--out", "cmp"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let md = std::fs::read_to_string(p.root().join("cmp/compare.md")).unwrap();
    assert!(md.contains("A/A calibration: "), "{md}");
}

#[test]
fn check_takes_the_baseline_of_the_run_machine_class_from_a_folder() {
    let p = Project::new();
    let cand = save(&p, run("s", "box", cases(2)), "20250103T000000Z");
    let folder = p.root().join("results/baselines/s");
    std::fs::create_dir_all(&folder).unwrap();
    // Another machine whose engine was built for another SIMD level: its ratios are another
    // quantity, so with only that baseline nothing is checked (exit 3, saying why and how
    // to add one).
    let mut other = run("s", "ci", cases(1));
    other.system.cpu_model = "Other CPU".into();
    for s in &mut other.subjects {
        s.version = "1.0 (avx2+fma)".into();
    }
    std::fs::write(
        folder.join("other.json"),
        serde_json::to_vec(&other).unwrap(),
    )
    .unwrap();
    let out = p.harness(&["check", "--baseline", s(&folder), s(&cand)]);
    assert_eq!(code(&out), 3, "{}", show(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("no baseline in") && err.contains("CPU model differs"),
        "{err}"
    );
    assert!(err.contains("harness baseline s --run"), "{err}");
    // With this machine's baseline beside it, that one is used.
    std::fs::write(
        folder.join("box.json"),
        serde_json::to_vec(&run("s", "box", cases(1))).unwrap(),
    )
    .unwrap();
    let out = p.harness(&["check", "--baseline", s(&folder), s(&cand)]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(text(&out.stderr).contains("box.json"), "{}", show(&out));
}
