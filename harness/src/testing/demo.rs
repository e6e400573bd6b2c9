//! The report tests' run: a `forward` sweep over `seq_len` (8, 32, 128)
//! on two subjects whose order flips at 128 (a crossover), an `invalid` candle case, and a
//! `pipeline` scenario with an ok, a failed and a skipped subject.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::results::*;
use crate::system::{CacheInfo, GpuInfo, SystemInfo};

/// Deterministic samples around `median_s`: a tight body, a slow tail, one severe outlier.
pub fn samples(median_s: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            let body = 1.0 + 0.04 * (u - 0.5);
            let tail = if i % 10 == 9 { 1.0 + 0.15 * u } else { 1.0 };
            let spike = if i == n / 2 { 1.8 } else { 1.0 };
            median_s * body * tail * spike
        })
        .collect()
}

fn params(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn case_id(
    scenario: &str,
    params: &BTreeMap<String, serde_json::Value>,
    subject: &str,
    threads: usize,
) -> String {
    let p: Vec<_> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{scenario}/{}/{subject}/threads={threads}", p.join(","))
}

/// A measured case: two rounds of `n / 2` samples each.
pub fn measured(
    scenario: &str,
    params: BTreeMap<String, serde_json::Value>,
    subject: &str,
    median_s: f64,
    n: usize,
    seed: u64,
) -> CaseResult {
    let items = params.get("batch").and_then(|v| v.as_u64()).unwrap_or(1);
    let flops = params
        .get("seq_len")
        .and_then(|v| v.as_u64())
        .map_or(0, |l| l * 85_000_000);
    let samples_s = samples(median_s, n, seed);
    let half = n / 2;
    let rounds = [(1u32, &samples_s[..half]), (2, &samples_s[half..])]
        .into_iter()
        .map(|(round, s)| RoundResult {
            round,
            warmup_iterations: 12,
            warmup_s: 12.0 * median_s,
            warmup_converged: round == 1,
            iterations_per_sample: if median_s < 1e-3 { 10 } else { 1 },
            samples: s.len(),
            measure_wall_s: s.iter().sum::<f64>() * 1.02,
            iterations: s.len() as u64,
            median_s: median_s * (1.0 + 0.01 * round as f64),
            timer_overhead_s: 25e-9,
            device_median_s: None,
            server: None,
        })
        .collect();
    let mut case = CaseResult {
        status: Status::Ok,
        items_per_iteration: items,
        flops,
        load_s: vec![0.25, 0.23],
        first_run_s: vec![median_s * 3.0, median_s * 2.5],
        parity: Some(ParityResult {
            max_abs_err: 2.4e-6,
            max_rel_err: 3.1e-5,
            mismatches: 0,
            atol: 1e-4,
            rtol: 1e-3,
        }),
        samples_s,
        rounds,
        peak_rss_bytes: Some(180 << 20),
        ..CaseResult::new(
            case_id(scenario, &params, subject, 1),
            scenario,
            params,
            subject,
            1,
            1,
        )
    };
    case.summary = summarize_case(&case);
    case
}

fn unmeasured(scenario: &str, subject: &str, status: Status, reason: &str) -> CaseResult {
    let params = BTreeMap::new();
    CaseResult {
        status,
        reason: Some(reason.to_string()),
        items_per_iteration: 1,
        ..CaseResult::new(
            case_id(scenario, &params, subject, 1),
            scenario,
            params,
            subject,
            1,
            1,
        )
    }
}

/// The synthetic run.
pub fn run() -> RunResults {
    use serde_json::json;
    let fwd = |seq: u64| params(&[("batch", json!(1)), ("seq_len", json!(seq))]);
    let mut cases = vec![
        measured("forward", fwd(8), "engine-cpu", 0.0061, 100, 1),
        measured("forward", fwd(8), "torch", 0.0112, 40, 2),
        measured("forward", fwd(32), "engine-cpu", 0.0198, 40, 3),
        measured("forward", fwd(32), "torch", 0.0243, 40, 4),
        measured("forward", fwd(128), "engine-cpu", 0.131, 40, 5),
        measured("forward", fwd(128), "torch", 0.118, 40, 6),
    ];
    let mut invalid = measured("forward", fwd(8), "candle", 0.0301, 40, 7);
    invalid.status = Status::Invalid;
    invalid.reason = Some("max abs error 0.21 exceeds tolerance (atol 1e-4, rtol 1e-3)".into());
    invalid.parity = Some(ParityResult {
        max_abs_err: 0.21,
        max_rel_err: 0.9,
        mismatches: 17,
        atol: 1e-4,
        rtol: 1e-3,
    });
    cases.push(invalid);
    let mut pipeline = measured("pipeline", BTreeMap::new(), "engine-cpu", 0.0042, 40, 8);
    pipeline.id = case_id("pipeline", &BTreeMap::new(), "engine-cpu", 1);
    cases.push(pipeline);
    cases.push(unmeasured(
        "pipeline",
        "torch",
        Status::Failed,
        "worker exited with signal 11 (SIGSEGV) | in round 1",
    ));
    cases.push(unmeasured(
        "pipeline",
        "onnxruntime",
        Status::Skipped,
        "libonnxruntime not found",
    ));

    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: "20240501T120000Z_bench-box".into(),
        started_at: "2024-05-01T12:00:00Z".into(),
        finished_at: Some("2024-05-01T12:03:21Z".into()),
        harness: HarnessInfo {
            version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            git_dirty: Some(true),
            build_profile: "dev".into(),
            harness_opt_level: "2".into(),
            engine_opt_level: "3".into(),
            engine_debug_assertions: "false".into(),
            rustc: "rustc 1.95.0".into(),
            features: vec![],
            command: vec!["harness".into(), "suite".into(), "demo".into()],
        },
        suite: SuiteInfo {
            name: "demo".into(),
            description: "A demo suite: forward pass sweep and text pipeline".into(),
            file: "suites/demo.toml".into(),
            file_hash: "cbf29ce484222325".into(),
            profile: "quick".into(),
            workload: "distilbert".into(),
            seed: 42,
            measure: MeasurePolicy {
                warmup: Warmup::Auto,
                max_warmup_s: 5.0,
                min_iterations: 30,
                min_time_s: 3.0,
                max_time_s: 30.0,
                min_sample_time_s: 0.001,
                rounds: 2,
                timeout_s: 600.0,
                target_ci: None,
            },
            check: Tolerance {
                atol: 1e-4,
                rtol: 1e-3,
            },
            overrides: vec!["measure.rounds=2".into()],
        },
        system: SystemInfo {
            hostname: Some("bench-box".into()),
            os_name: Some("Debian GNU/Linux".into()),
            os_version: Some("12".into()),
            kernel: Some("6.1.0-18-amd64".into()),
            arch: "x86_64".into(),
            cpu_model: "AMD EPYC 9R14".into(),
            cpu_vendor: Some("AuthenticAMD".into()),
            physical_cores: Some(2),
            logical_cores: 2,
            available_parallelism: Some(2),
            cpu_freq_max_mhz: Some(3700),
            scaling_governor: Some("performance".into()),
            boost: Some(true),
            isa_flags: vec!["avx2".into(), "fma".into(), "avx512f".into()],
            caches: vec![CacheInfo {
                level: 3,
                kind: "unified".into(),
                size_bytes: 32 << 20,
                shared_by_cpus: Some(2),
            }],
            memory_total_bytes: Some(24 << 30),
            memory_available_bytes: Some(20 << 30),
            load_average: Some([0.12, 0.2, 0.31]),
            gpus: vec![GpuInfo {
                name: "NVIDIA H100 80GB HBM3".into(),
                vendor: Some("NVIDIA".into()),
                driver: Some("nvidia 550.54.15".into()),
                memory_bytes: Some(81559 << 20),
                pci_id: None,
                source: "nvidia-smi".into(),
            }],
            ..Default::default()
        },
        subjects: vec![
            SubjectInfo {
                name: "engine-cpu".into(),
                threading: "a rayon pool of N threads".into(),
                version: "engine 0.1.0 (avx512)".into(),
                available: true,
                reason: None,
                fix: None,
            },
            SubjectInfo {
                name: "torch".into(),
                threading: "`torch.set_num_threads(N)`, 1 inter-op thread".into(),
                version: "libtorch 2.11.0".into(),
                available: true,
                reason: None,
                fix: None,
            },
            SubjectInfo {
                name: "candle".into(),
                threading: "RAYON_NUM_THREADS = N".into(),
                version: "candle 0.11.1".into(),
                available: true,
                reason: None,
                fix: None,
            },
            SubjectInfo {
                name: "onnxruntime".into(),
                threading: "N intra-op threads".into(),
                version: "unknown".into(),
                available: false,
                reason: Some("libonnxruntime not found".into()),
                fix: Some(
                    "pip install --no-deps onnxruntime==1.31.1 and set ORT_DYLIB_PATH".into(),
                ),
            },
        ],
        cases,
    }
}

/// A fresh, empty folder under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "graphbench-report-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
