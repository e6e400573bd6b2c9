//! The server and offline scenarios end to end on a fake subject with a known service time
//! (a 10 ms sleep, whatever the batch): under Poisson arrivals, the highest rate whose p99
//! stays within 100 ms; over a pool, the items per second of each batch and the winner.

mod common;

use common::{Project, text};
use serde_json::Value;

const SERVING: &str = r#"[suite]
name = "serving"
description = "server scenario test"

[workload]
kind = "linear"
seed = 7
params = { in_features = 16, out_features = 8, batch = 1 }

[[scenario]]
name = "serve"
mode = "server"
slo = "100ms"

[[scenario]]
name = "offline"
mode = "offline"
pool = 8
sweep = { batch = [1, 2, 4] }

[subjects]
run = ["fake:sleep=10ms"]
threads = [1]
"#;

/// An M/D/1 queue whose requests take 10.1 ms (the sleep and its wake-up; 10.2 ms measured)
/// keeps its p99 within 100 ms up to about 76 QPS (simulated with 200 000 requests: 72 QPS
/// gives a p99 of 82 ms, 78 gives 106 ms); no single server passes 100, its service rate. A 459-query
/// probe reads p99 off its 5th-slowest request, so near the knee a probe passes or fails
/// by chance: the bound below allows for that.
#[test]
fn a_10ms_service_sustains_70_to_95_qps_at_p99_100ms_and_its_largest_batch_wins_offline() {
    let p = Project::new();
    p.write("suites/serving.toml", SERVING);
    let out = p.harness(&[
        "suite",
        "serving",
        "--profile",
        "test",
        "--set",
        "measure.rounds=1",
        "--set",
        "measure.timeout=300s",
    ]);
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let dir = p.run_dir("serving");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let case = &results["cases"][0];
    assert_eq!(case["id"], "serve/fake:sleep=10ms/threads=1");
    assert_eq!(case["status"], "ok", "{case:#}");
    let search = &case["rounds"][0]["server"];
    let max = search["max_qps"].as_f64().unwrap();
    assert!((65.0..=95.0).contains(&max), "max {max} QPS: {search:#}");
    let probes = search["probes"].as_array().unwrap();
    assert!(probes.len() >= 4, "{search:#}");
    for probe in probes {
        assert!(probe["offered_qps"].as_f64().unwrap() < 100.0, "{probe}");
        if probe["stopped_early"] == true {
            // 6 requests over the SLO fail a 459-request probe whatever the rest do.
            assert_eq!(probe["pass"], false, "{probe}");
            assert_eq!(probe["over_slo"], 6, "{probe}");
            assert!(probe["queries"].as_u64().unwrap() < 459, "{probe}");
        } else {
            assert_eq!(probe["queries"], 459, "LoadGen's p99 early-stopping count");
            let pass = probe["percentile_s"].as_f64().unwrap() <= 0.1;
            assert_eq!(probe["pass"], pass, "{probe}");
        }
    }
    // The samples are the requests' service times: the rate never beats one server's
    // throughput (1 / service time), within the median's confidence interval.
    let ci_low = case["summary"]["ci_low_s"].as_f64().unwrap();
    assert!((0.0099..0.013).contains(&ci_low), "service time {ci_low}");
    assert!(max <= 1.0 / ci_low, "{max} QPS above 1 / {ci_low} s");

    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Server"), "{report}");
    let row = report
        .lines()
        .find(|l| l.starts_with("| serve | fake:sleep=10ms | 1 | p99 ≤ 100 ms |"))
        .unwrap_or_else(|| panic!("no server row:\n{report}"));
    assert!(row.contains(" QPS |"), "{row}");
    assert!(
        dir.join("plots/server_serve_fake_sleep-10ms_threads-1.png")
            .is_file(),
        "the latency-QPS chart"
    );

    // Offline: 10 ms per batch whatever its size, so about 100 items/s per item of a batch.
    let offline = |batch: u64| {
        let id = format!("offline/batch={batch}/fake:sleep=10ms/threads=1");
        let case = results["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no case {id}"));
        assert_eq!(case["status"], "ok", "{case:#}");
        assert_eq!(case["mode"]["kind"], "offline");
        // One sample is a pass over the pool: 8 / batch batches.
        assert_eq!(case["rounds"][0]["iterations_per_sample"], 8 / batch);
        let s = &case["summary"];
        let per_item = |key: &str| batch as f64 / s[key].as_f64().unwrap();
        (
            per_item("median_s"),
            per_item("ci_high_s"),
            per_item("ci_low_s"),
        )
    };
    for batch in [1, 2, 4] {
        let (items, _, _) = offline(batch);
        let expected = 100.0 * batch as f64;
        assert!(
            (0.8 * expected..=1.01 * expected).contains(&items),
            "batch {batch}: {items} items/s"
        );
    }
    // A single server never sustains more than its offline throughput at batch 1.
    let (_, _, batch1_high) = offline(1);
    assert!(
        max <= batch1_high,
        "server {max} QPS above offline {batch1_high} items/s"
    );
    let best = report
        .lines()
        .find(|l| l.starts_with("| offline") && l.ends_with("| best |"))
        .unwrap_or_else(|| panic!("no winning offline row:\n{report}"));
    assert!(best.contains("| 4 (pool 8) |"), "{best}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("offline/batch=4/fake:sleep=10ms/threads=1: best batch 4"),
        "{stdout}"
    );
    let problems = harness::testing::markdown::table_problems(&report);
    assert!(problems.is_empty(), "{problems:#?}");
}

const PRECISE: &str = r#"[suite]
name = "precise"
description = "precision-targeted sampling test"

[workload]
kind = "linear"
seed = 7
params = { in_features = 16, out_features = 8, batch = 1 }

[subjects]
run = ["fake:sleep=1ms"]
threads = [1]
"#;

/// `measure.target_ci`: the plan says what the target needs up front, and each worker samples
/// past the minimums until its median's interval is within ±2% (a 1 ms sleep's spread gets
/// there within the 10 s cap), so the case's pooled interval is too.
#[test]
fn target_ci_samples_until_the_median_interval_is_narrow() {
    let p = Project::new();
    p.write("suites/precise.toml", PRECISE);
    let out = p.harness(&[
        "suite",
        "precise",
        "--profile",
        "test",
        "--set",
        "measure.target_ci=2%",
        "--set",
        "measure.max_time=10s",
    ]);
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("target_ci ±2.00%") && printed.contains("p99 368"),
        "{printed}"
    );
    let dir = p.run_dir("precise");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["suite"]["measure"]["target_ci"], 0.02);
    let s = &results["cases"][0]["summary"];
    let (median, lo, hi) = (
        s["median_s"].as_f64().unwrap(),
        s["ci_low_s"].as_f64().unwrap(),
        s["ci_high_s"].as_f64().unwrap(),
    );
    assert!((median - lo).max(hi - median) / median <= 0.02, "{s:#}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("until the median's CI is within ±2.00%"),
        "{report}"
    );
    assert!(!report.contains("low precision"), "{report}");
}
