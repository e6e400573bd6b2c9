//! Runs a resolved suite: references once per workload instance, then every case in
//! interleaved rounds of fresh workers, persisting after each worker.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::results::{
    AccuracyResult, CaseResult, MeasurePolicy, ParityResult, RoundResult, RunResults, Status,
    SubjectInfo, Tolerance, finish_case, store, timestamp,
};
use crate::suite::ResolvedSuite;
use crate::worker::{Job, Message, WorkerOutcome, run_worker};
use crate::{environment, interrupt, reference_cache, system, tensorfile, workloads};

pub struct RunOptions {
    /// Results root; the run goes to `<out>/<suite>/<stamp>_<machine>/`.
    pub out: PathBuf,
    /// The command line, recorded in the results.
    pub command: Vec<String>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every round of every case ran (or was skipped, or failed).
    Complete,
    /// Stopped by Ctrl-C after the last finished worker; `--resume` continues it.
    Interrupted,
}

/// Runs every case; returns the run folder, its results and how it ended. Failed cases are
/// recorded, not returned as errors: only I/O problems with the results folder stop a run.
pub fn run(suite: &ResolvedSuite, opts: &RunOptions) -> Result<(PathBuf, RunResults, Ending)> {
    let (stamp, started_at) = timestamp::now_utc();
    let system = system::collect();
    let dir = store::create_run_dir(&opts.out, &suite.info.name, &stamp, &system.machine_slug())?;
    let subjects = subject_infos(&suite.subjects);
    let mut results = RunResults {
        schema_version: crate::results::SCHEMA_VERSION,
        run_id: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        started_at,
        finished_at: None,
        harness: environment::harness_info(&opts.command),
        suite: suite.info.clone(),
        system,
        cases: suite
            .cases
            .iter()
            .map(|c| initial_case(c, &subjects))
            .collect(),
        subjects,
    };
    store::save(&dir, &results)?;
    let ending = measure(suite, &dir, &mut results)?;
    Ok((dir, results, ending))
}

/// Finishes the interrupted run in `dir`: the rounds that did not run, for the same cases
/// (same ids, same order of rounds), into the same folder.
pub fn resume(suite: &ResolvedSuite, dir: &Path) -> Result<(PathBuf, RunResults, Ending)> {
    let mut results = store::load_stored(dir)?;
    let file = dir.join("results.json");
    if results.finished_at.is_some() {
        bail!(
            "{}: this run finished at {}; there is nothing to resume",
            file.display(),
            results.finished_at.as_deref().unwrap_or("")
        );
    }
    let stored: Vec<&str> = results.cases.iter().map(|c| c.id.as_str()).collect();
    let asked: Vec<&str> = suite.cases.iter().map(|c| c.id.as_str()).collect();
    let differs = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        anyhow!(
            "{}: cannot resume with these options: {what} differs (run: {a:?}, now: {b:?}); \
             pass the suite, --profile, --subjects, --threads, --scenarios and --set of the \
             interrupted run",
            file.display()
        )
    };
    if results.suite.name != suite.info.name {
        return Err(differs("suite", &results.suite.name, &suite.info.name));
    }
    if results.suite.file_hash != suite.info.file_hash {
        return Err(differs(
            "suite file (its hash)",
            &results.suite.file_hash,
            &suite.info.file_hash,
        ));
    }
    if results.suite.measure != suite.info.measure {
        return Err(differs(
            "measurement policy",
            &results.suite.measure,
            &suite.info.measure,
        ));
    }
    if stored != asked {
        let at = stored.iter().zip(&asked).position(|(a, b)| a != b);
        let (a, b) = match at {
            Some(i) => (stored[i], asked[i]),
            None => ("(end of list)", "(end of list)"),
        };
        return Err(differs(
            &format!(
                "case list ({} cases then, {} now; first difference)",
                stored.len(),
                asked.len()
            ),
            &a,
            &b,
        ));
    }
    let ending = measure(suite, dir, &mut results)?;
    Ok((dir.to_path_buf(), results, ending))
}

/// References, then every missing round of every pending case in interleaved order, saving
/// after each worker; finishes the run unless Ctrl-C stopped it.
fn measure(suite: &ResolvedSuite, dir: &Path, results: &mut RunResults) -> Result<Ending> {
    let scratch = tempfile::tempdir().context("creating a scratch folder for reference outputs")?;
    let references = prepare_references(suite, results, scratch.path());
    store::save(dir, results)?;

    let rounds = suite.info.measure.rounds;
    let budget = round_budget(&suite.info.measure);
    let timeout = Duration::from_secs_f64(suite.info.measure.timeout_s);
    let todo = |c: &CaseResult, round: u32| {
        c.status == Status::Pending && !c.rounds.iter().any(|r| r.round == round)
    };
    let total: usize = (0..rounds)
        .map(|r| results.cases.iter().filter(|c| todo(c, r)).count())
        .sum();
    let progress = progress_bar(total as u64);
    interrupt::watch();
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..suite.cases.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            if !todo(&results.cases[i], round) {
                continue;
            }
            if interrupt::requested() {
                progress.finish_and_clear();
                return Ok(Ending::Interrupted);
            }
            let spec = &suite.cases[i];
            progress.set_message(spec.id.clone());
            let job = Job {
                case_id: spec.id.clone(),
                workload: spec.workload.clone(),
                subject: spec.subject.clone(),
                threads: spec.threads,
                round,
                budget: budget.clone(),
                reference: references[&workload_key(&spec.workload)].clone(),
                tolerance: suite.info.check,
                mode: spec.mode,
            };
            let outcome = run_worker(&job, timeout);
            if interrupt::requested() {
                // The worker was most likely killed by the same Ctrl-C: not its case's fault.
                progress.finish_and_clear();
                return Ok(Ending::Interrupted);
            }
            merge(&mut results.cases[i], round, outcome, suite.info.check);
            store::save(dir, results)?;
            progress.inc(1);
        }
    }
    progress.finish_and_clear();

    for case in &mut results.cases {
        finish_case(case);
    }
    results.finished_at = Some(timestamp::now_utc().1);
    store::save(dir, results)?;
    Ok(Ending::Complete)
}

fn subject_infos(names: &[String]) -> Vec<SubjectInfo> {
    names
        .iter()
        .map(|name| match subjects::find(name) {
            Ok(s) => {
                let (reason, fix) = match s.availability() {
                    subjects::Availability::Available => (None, None),
                    subjects::Availability::Unavailable { reason, fix } => {
                        (Some(reason), Some(fix))
                    }
                };
                SubjectInfo {
                    name: name.clone(),
                    version: s.version(),
                    threading: s.threading().to_string(),
                    available: reason.is_none(),
                    reason,
                    fix,
                }
            }
            Err(e) => SubjectInfo {
                name: name.clone(),
                version: String::new(),
                threading: String::new(),
                available: false,
                reason: Some(e),
                fix: None,
            },
        })
        .collect()
}

fn initial_case(spec: &crate::suite::CaseSpec, subjects: &[SubjectInfo]) -> CaseResult {
    let info = subjects.iter().find(|s| s.name == spec.subject);
    let skip = info.filter(|s| !s.available).map(|s| {
        let reason = s.reason.clone().unwrap_or_default();
        match &s.fix {
            Some(fix) => format!("{reason} (fix: {fix})"),
            None => reason,
        }
    });
    CaseResult {
        status: if skip.is_some() {
            Status::Skipped
        } else {
            Status::Pending
        },
        reason: skip,
        mode: spec.mode,
        ..CaseResult::new(
            &spec.id,
            &spec.scenario,
            spec.workload.params.clone(),
            &spec.subject,
            spec.threads,
            subjects::resolve_threads(spec.threads),
        )
    }
}

fn workload_key(spec: &workloads::WorkloadSpec) -> String {
    serde_json::to_string(spec).unwrap_or_default()
}

/// Builds each distinct workload once and writes its reference outputs. Cases whose workload
/// is unavailable here are skipped with the reason; cases whose workload or reference fails
/// are failed with it.
fn prepare_references(
    suite: &ResolvedSuite,
    results: &mut RunResults,
    scratch: &Path,
) -> HashMap<String, PathBuf> {
    let mut outcomes: HashMap<String, Result<Reference, (Status, String)>> = HashMap::new();
    for spec in &suite.cases {
        let key = workload_key(&spec.workload);
        if outcomes.contains_key(&key) {
            continue;
        }
        let path = scratch.join(format!("reference-{}.safetensors", outcomes.len()));
        let outcome = reference_outputs(&spec.workload, &path).map_err(|e| {
            match e.downcast_ref::<workloads::Unavailable>() {
                Some(u) => (Status::Skipped, u.to_string()),
                None => (Status::Failed, format!("reference: {e:#}")),
            }
        });
        outcomes.insert(key, outcome);
    }
    let mut paths = HashMap::new();
    for (spec, case) in suite.cases.iter().zip(&mut results.cases) {
        match &outcomes[&workload_key(&spec.workload)] {
            Ok(r) => {
                case.items_per_iteration = r.items_per_iteration;
                case.flops = r.flops;
                case.weights_bytes = r.memory.0;
                case.largest_intermediate_bytes = r.memory.1;
                case.real_weights = r.real_weights;
                paths.insert(workload_key(&spec.workload), r.path.clone());
            }
            Err((status, why)) => {
                if case.status == Status::Pending {
                    case.status = *status;
                    case.reason = Some(why.clone());
                }
            }
        }
    }
    paths
}

struct Reference {
    path: PathBuf,
    items_per_iteration: u64,
    flops: u64,
    /// Weights and largest intermediate, bytes ([`graph_memory`]).
    memory: (u64, u64),
    real_weights: bool,
}

/// Runs the reference interpreter on the workload's inputs (and on its validation texts) and
/// writes the outputs for the workers. Synthetic workloads are deterministic, so their
/// outputs are cached across runs (see `reference_cache`).
fn reference_outputs(spec: &workloads::WorkloadSpec, path: &Path) -> Result<Reference> {
    let w = workloads::build(spec)?;
    let cached = (!w.real_weights)
        .then(|| reference_cache::path(spec))
        .flatten();
    match cached.as_deref().filter(|c| c.is_file()) {
        Some(hit) => {
            std::fs::copy(hit, path).with_context(|| format!("copying {}", hit.display()))?;
        }
        None => {
            tensorfile::write(path, &reference_tensors(&w)?)?;
            if let Some(c) = &cached {
                // A cache that cannot be written only costs time on the next run.
                let _ = reference_cache::store(path, c);
            }
        }
    }
    let shapes = w.graph.concrete_shapes(&w.graph.bind_inputs(&w.inputs)?)?;
    Ok(Reference {
        path: path.to_path_buf(),
        items_per_iteration: w.items_per_iteration,
        flops: w.graph.flops(&shapes),
        memory: graph_memory(&w.graph, &shapes),
        real_weights: w.real_weights,
    })
}

/// Bytes of the graph's constants, and of the largest value any other node produces at
/// `shapes` (its concrete shapes).
fn graph_memory(graph: &engine::Graph, shapes: &[Vec<usize>]) -> (u64, u64) {
    let (mut weights, mut largest) = (0u64, 0u64);
    for (node, shape) in graph.nodes().iter().zip(shapes) {
        let bytes = (shape.iter().product::<usize>() * node.dtype.size_bytes()) as u64;
        match node.op {
            engine::ops::Op::Constant(_) => weights += bytes,
            engine::ops::Op::Input { .. } => {}
            _ => largest = largest.max(bytes),
        }
    }
    (weights, largest)
}

fn reference_tensors(w: &workloads::Workload) -> Result<Vec<(String, engine::Tensor)>> {
    let run = |inputs: &[engine::Tensor]| {
        engine::reference::run(&w.graph, inputs).context("running the reference interpreter")
    };
    let mut tensors: Vec<(String, engine::Tensor)> = Vec::new();
    for (i, t) in run(&w.inputs)?.into_iter().enumerate() {
        tensors.push((format!("output.{i}"), t));
    }
    if let (Some(pipeline), Some(texts)) = (&w.pipeline, &w.validation) {
        for (i, item) in texts.iter().enumerate() {
            let logits = run(&pipeline.inputs(&item.text)?)?.swap_remove(0);
            tensors.push((format!("validation.{i}"), logits));
        }
    }
    Ok(tensors)
}

/// Each round gets an equal share of the time and iteration budget.
fn round_budget(m: &MeasurePolicy) -> MeasurePolicy {
    let r = m.rounds as f64;
    MeasurePolicy {
        min_iterations: m.min_iterations.div_ceil(m.rounds as u64),
        min_time_s: m.min_time_s / r,
        max_time_s: m.max_time_s / r,
        ..m.clone()
    }
}

fn merge(case: &mut CaseResult, round: u32, outcome: WorkerOutcome, tol: Tolerance) {
    let mut r = RoundResult {
        round,
        warmup_iterations: 0,
        warmup_s: 0.0,
        warmup_converged: false,
        iterations_per_sample: 0,
        samples: 0,
        measure_wall_s: 0.0,
        iterations: 0,
        median_s: 0.0,
        timer_overhead_s: 0.0,
        device_median_s: None,
        server: None,
    };
    let mut samples = Vec::new();
    let mut finished = false;
    for m in outcome.messages {
        match m {
            Message::Loaded { load_s } => case.load_s.push(load_s),
            Message::FirstRun { latency_s } => case.first_run_s.push(latency_s),
            Message::Parity {
                max_abs_err,
                max_rel_err,
                mismatches,
            } => {
                let worst = case.parity.get_or_insert(ParityResult {
                    max_abs_err: 0.0,
                    max_rel_err: 0.0,
                    mismatches: 0,
                    atol: tol.atol,
                    rtol: tol.rtol,
                });
                worst.max_abs_err = worst.max_abs_err.max(max_abs_err);
                worst.max_rel_err = worst.max_rel_err.max(max_rel_err);
                worst.mismatches = worst.mismatches.max(mismatches);
            }
            Message::Accuracy {
                total,
                correct,
                agree_with_reference,
            } => {
                case.accuracy = Some(AccuracyResult {
                    total,
                    correct,
                    agree_with_reference,
                });
            }
            Message::Warmup {
                iterations,
                seconds,
                converged,
            } => {
                r.warmup_iterations = iterations;
                r.warmup_s = seconds;
                r.warmup_converged = converged;
            }
            Message::Samples {
                iterations_per_sample,
                samples_s,
            } => {
                r.iterations_per_sample = iterations_per_sample;
                samples.extend(samples_s);
            }
            Message::Done {
                measure_wall_s,
                iterations,
                timer_overhead_s,
                peak_rss_bytes,
                device_median_s,
                device_memory_bytes,
            } => {
                r.device_median_s = device_median_s;
                case.device_memory_bytes = case.device_memory_bytes.max(device_memory_bytes);
                r.measure_wall_s = measure_wall_s;
                r.iterations = iterations;
                r.timer_overhead_s = timer_overhead_s;
                case.peak_rss_bytes = case.peak_rss_bytes.max(peak_rss_bytes);
                finished = true;
            }
            Message::Server { search } => r.server = Some(search),
            Message::Error { .. } => {}
        }
    }
    if finished && !samples.is_empty() {
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        r.samples = samples.len();
        r.median_s = stats::quantile(&sorted, 0.5);
        case.samples_s.extend(samples);
        case.rounds.push(r);
    }
    if let Some(why) = outcome.failure {
        case.status = Status::Failed;
        case.reason = Some(format!("round {round}: {why}"));
    }
}

fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} workers, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear layer 16 -> 8 over 64 rows: weights are W (8 x 16) and b (8), the largest
    /// intermediate the [64, 8] output of the matmul (the input does not count).
    #[test]
    fn graph_memory_counts_constants_and_the_largest_result() {
        let spec = workloads::WorkloadSpec {
            kind: "linear".into(),
            seed: 1,
            params: [
                ("in_features".to_string(), serde_json::json!(16)),
                ("out_features".to_string(), serde_json::json!(8)),
                ("batch".to_string(), serde_json::json!(64)),
            ]
            .into(),
        };
        let w = workloads::build(&spec).unwrap();
        let shapes = w
            .graph
            .concrete_shapes(&w.graph.bind_inputs(&w.inputs).unwrap())
            .unwrap();
        assert_eq!(
            graph_memory(&w.graph, &shapes),
            ((8 * 16 + 8) * 4, 64 * 8 * 4)
        );
    }
}
