//! End-to-end: the built CLI runs a tiny suite into a temp folder; results.json, samples.csv,
//! report.md and plots are written; crashing, hanging and wrong subjects are recorded while
//! the other cases survive; `report` re-renders from results.json alone.

mod common;

use common::{Project, text};
use serde_json::Value;

const TINY: &str = r#"[suite]
name = "tiny"
description = "end-to-end test suite"

[workload]
kind = "linear"
seed = 7
params = { in_features = 16, out_features = 8 }

[[scenario]]
name = "sweep"
sweep = { batch = [1, 4] }

[subjects]
run = ["engine-cpu", "reference"]
threads = [1]
"#;

fn case<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

#[test]
fn tiny_suite_writes_results_csv_report_and_plots() {
    let p = Project::new();
    p.write("suites/tiny.toml", TINY);
    let out = p.harness(&["suite", "tiny", "--profile", "test"]);
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let dir = p.run_dir("tiny");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.len() > 17 && name.as_bytes()[8] == b'T' && name[..16].ends_with('Z'),
        "{name}"
    );
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["schema_version"], 1);
    assert_eq!(results["suite"]["name"], "tiny");
    assert!(results["system"].is_object());
    let cases = results["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    let mut total_samples = 0;
    for c in cases {
        assert_eq!(c["status"], "ok", "{c}");
        let samples = c["samples_s"].as_array().unwrap();
        assert!(samples.len() >= 6, "{}", c["id"]);
        total_samples += samples.len();
        let s = &c["summary"];
        let (lo, med, hi) = (
            s["ci_low_s"].as_f64().unwrap(),
            s["median_s"].as_f64().unwrap(),
            s["ci_high_s"].as_f64().unwrap(),
        );
        assert!(lo <= med && med <= hi && med > 0.0, "{s}");
        assert!(s["cv"].as_f64().unwrap() >= 0.0);
        assert!(c["parity"]["max_abs_err"].as_f64().unwrap() < 1e-5);
        assert_eq!(c["rounds"].as_array().unwrap().len(), 2);
        assert!(c["flops"].as_u64().unwrap() > 0);
    }
    let c = case(&results, "sweep/batch=4/engine-cpu/threads=1");
    assert_eq!(c["flops"], 2 * 4 * 16 * 8 + 4 * 8 * 2);

    let csv = std::fs::read_to_string(dir.join("samples.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        total_samples + 1,
        "one row per sample plus a header"
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let problems = harness::testing::markdown::table_problems(&report);
    assert!(problems.is_empty(), "{problems:#?}\n{report}");
    for section in [
        "# ",
        "## Summary",
        "## Results",
        "## Correctness",
        "## System",
    ] {
        assert!(
            report.contains(section),
            "report.md lacks {section}:\n{report}"
        );
    }
    let plots: Vec<String> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        plots.iter().any(|p| p.ends_with(".png")) && plots.iter().any(|p| p.ends_with(".svg")),
        "{plots:?}"
    );
    for png in plots.iter().filter(|p| p.ends_with(".png")) {
        let bytes = std::fs::read(dir.join("plots").join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
    }

    // `report` re-renders from results.json alone.
    std::fs::remove_file(dir.join("report.md")).unwrap();
    std::fs::remove_dir_all(dir.join("plots")).unwrap();
    let out = p.harness(&["report", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.md")).unwrap(),
        report
    );
    assert!(dir.join("plots").is_dir());
}

#[test]
fn crashes_hangs_and_wrong_outputs_are_recorded_while_other_cases_survive() {
    let p = Project::new();
    p.write(
        "suites/faulty.toml",
        &TINY
            .replace("name = \"tiny\"", "name = \"faulty\"")
            .replace("sweep = { batch = [1, 4] }", "params = { batch = 2 }")
            .replace(
                "run = [\"engine-cpu\", \"reference\"]",
                "run = [\"fake:crash\", \"engine-cpu\", \"fake:hang\", \"fake:wrong\", \"fake:fail-load\", \"reference\"]",
            ),
    );
    let out = p.harness(&[
        "suite",
        "faulty",
        "--profile",
        "test",
        "--set",
        "measure.timeout=2s",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "failed cases make the exit code 1: {}",
        text(&out.stderr)
    );
    let dir = p.run_dir("faulty");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let status = |id: &str| case(&results, id)["status"].as_str().unwrap().to_string();
    let reason = |id: &str| {
        case(&results, id)["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };

    assert_eq!(status("sweep/fake:crash/threads=1"), "failed");
    assert!(
        reason("sweep/fake:crash/threads=1").contains("signal"),
        "{}",
        reason("sweep/fake:crash/threads=1")
    );
    assert_eq!(status("sweep/fake:hang/threads=1"), "failed");
    assert!(reason("sweep/fake:hang/threads=1").contains("timed out after 2.0 s"));
    assert_eq!(status("sweep/fake:wrong/threads=1"), "invalid");
    assert!(
        case(&results, "sweep/fake:wrong/threads=1")["parity"]["max_abs_err"]
            .as_f64()
            .unwrap()
            >= 0.99
    );
    assert_eq!(status("sweep/fake:fail-load/threads=1"), "failed");
    assert!(reason("sweep/fake:fail-load/threads=1").contains("load: fake subject asked to fail"));
    for survivor in ["sweep/engine-cpu/threads=1", "sweep/reference/threads=1"] {
        assert_eq!(status(survivor), "ok");
        assert_eq!(
            case(&results, survivor)["rounds"].as_array().unwrap().len(),
            2
        );
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("timed out"),
        "the report shows why cases failed"
    );
}

#[test]
fn list_shows_suites_and_subjects() {
    let p = Project::new();
    p.write("suites/tiny.toml", TINY);
    let out = p.harness(&["list"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("tiny") && stdout.contains("4 cases"),
        "{stdout}"
    );
    assert!(
        stdout.contains("engine-cpu") && stdout.contains("reference"),
        "{stdout}"
    );
}
