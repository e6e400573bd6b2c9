//! The worker side: load the subject, check its outputs, warm up, measure, report.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use engine::Parity;

use super::protocol::{Job, Message};
use crate::results::{MeasurePolicy, Mode, Warmup};
use crate::server::{self, ServerSpec};
use crate::workloads::{LabelledText, TextPipeline};
use crate::{tensorfile, workloads};

/// Samples are streamed in chunks of this many, so a killed worker loses little.
const CHUNK: usize = 256;
/// `auto` warm-up: the window whose median must settle, and how much it may still move.
const WINDOW: usize = 5;
const SETTLED: f64 = 0.02;
/// `auto` warm-up runs at least this long (CPU frequency and caches settle).
const MIN_AUTO_WARMUP: Duration = Duration::from_millis(50);

/// Entry point of `harness worker`: reads the job from stdin, reports on stdout.
pub fn main() -> ExitCode {
    let mut input = String::new();
    let job: Job = match std::io::stdin()
        .read_to_string(&mut input)
        .map_err(anyhow::Error::from)
        .and_then(|_| serde_json::from_str(&input).context("parsing the job"))
    {
        Ok(job) => job,
        Err(e) => {
            send(&Message::Error {
                stage: "job".into(),
                message: format!("{e:#}"),
            });
            return ExitCode::from(2);
        }
    };
    let mut stage = "build";
    match run(&job, &mut stage) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            send(&Message::Error {
                stage: stage.into(),
                message: format!("{e:#}"),
            });
            ExitCode::FAILURE
        }
    }
}

fn send(message: &Message) {
    let mut out = std::io::stdout().lock();
    // A closed pipe means the parent is gone; nothing useful is left to do with the error.
    let _ = serde_json::to_writer(&mut out, message);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn run(job: &Job, stage: &mut &'static str) -> Result<()> {
    let workload = workloads::build(&job.workload)?;
    *stage = "reference";
    let reference = tensorfile::read(&job.reference, "output")?;
    *stage = "load";
    let subject = subjects::find(&job.subject).map_err(anyhow::Error::msg)?;
    let t = Instant::now();
    let mut session = subject.load(&workload.graph, job.threads)?;
    send(&Message::Loaded {
        load_s: t.elapsed().as_secs_f64(),
    });

    *stage = "first run";
    let inputs = &workload.inputs;
    let t = Instant::now();
    let outputs = session.run(inputs)?;
    let first = t.elapsed();
    send(&Message::FirstRun {
        latency_s: first.as_secs_f64(),
    });

    *stage = "parity";
    let parity = Parity::of(&outputs, &reference, job.tolerance.atol, job.tolerance.rtol)?;
    drop(outputs);
    send(&Message::Parity {
        max_abs_err: finite(parity.max_abs_err),
        max_rel_err: finite(parity.max_rel_err),
        mismatches: parity.mismatches as u64,
    });

    if let (Some(pipeline), Some(texts)) = (&workload.pipeline, &workload.validation) {
        *stage = "accuracy";
        let expected = tensorfile::read(&job.reference, "validation")?;
        send(&accuracy(session.as_mut(), pipeline, texts, &expected)?);
    }

    *stage = "warmup";
    let mut i = 0usize;
    // Device time of every run, where the subject measures one (GPU timestamps).
    let device_s = std::cell::RefCell::new(Vec::new());
    let mut body = || {
        let ran = match &workload.pipeline {
            // Text in, label out: tokenization is part of the timed work.
            Some(p) => {
                let text = &p.texts[i % p.texts.len()].text;
                i += 1;
                let outputs = session.run(&p.inputs(black_box(text))?)?;
                black_box(TextPipeline::predict(&outputs)?);
                Ok(())
            }
            None => session.run(black_box(inputs)).map(drop),
        };
        if let (Ok(()), Some(t)) = (&ran, session.device_time()) {
            device_s.borrow_mut().push(t);
        }
        ran
    };
    let (warm, estimate) = warm_up(&mut body, &job.budget, first)?;
    send(&warm);

    let k = match job.mode {
        Mode::Server(spec) => {
            *stage = "server";
            return serve(job, spec, estimate, &mut body);
        }
        // One sample is one pass over the pool, in whole batches.
        Mode::Offline { pool } => {
            let batch = workload.items_per_iteration.max(1);
            anyhow::ensure!(
                pool.is_multiple_of(batch),
                "an offline pool of {pool} items is not a whole number of batches of {batch}"
            );
            pool / batch
        }
        Mode::Latency => {
            let per_sample =
                (job.budget.min_sample_time_s / estimate.as_secs_f64().max(1e-9)).ceil();
            (per_sample as u64).max(1)
        }
    };
    *stage = "measure";
    device_s.borrow_mut().clear();
    let mut done = measure(&mut body, k, &job.budget)?;
    if let Message::Done {
        device_median_s,
        device_memory_bytes,
        ..
    } = &mut done
    {
        let d = device_s.take();
        *device_median_s = (!d.is_empty()).then(|| median(&d).as_secs_f64());
        *device_memory_bytes = session.device_memory_bytes();
    }
    send(&done);
    Ok(())
}

/// The server scenario: the rate search, its requests' service times as samples, `done`.
fn serve(
    job: &Job,
    spec: ServerSpec,
    estimate: Duration,
    body: &mut impl FnMut() -> Result<()>,
) -> Result<()> {
    let start = Instant::now();
    // Reserved up front: a reallocation inside a request would count as its latency.
    let mut service = Vec::with_capacity(server::max_requests(spec));
    let mut timed = || {
        let t = Instant::now();
        body()?;
        service.push(t.elapsed().as_secs_f64());
        Ok(())
    };
    // Seeded by case and round: the recorded seeds replay every probe's arrivals.
    let seed = engine::hash::fnv1a(job.case_id.as_bytes()) ^ u64::from(job.round);
    let search = server::search(spec, estimate.as_secs_f64(), seed, |rate, n, s| {
        let give_up = server::fails_at(n, spec.percentile);
        server::serve(
            &server::arrivals(rate, n, s),
            spec.slo_s,
            give_up,
            &mut timed,
        )
    })?;
    if search.probes.is_empty() {
        // Nothing probed (the service time alone exceeds the SLO): still time a few runs.
        for _ in 0..WINDOW {
            timed()?;
        }
    }
    send(&Message::Server { search });
    for chunk in service.chunks(CHUNK) {
        send(&Message::Samples {
            iterations_per_sample: 1,
            samples_s: chunk.to_vec(),
        });
    }
    send(&Message::Done {
        measure_wall_s: start.elapsed().as_secs_f64(),
        iterations: service.len() as u64,
        timer_overhead_s: timer_overhead(1)?,
        peak_rss_bytes: peak_rss_bytes(),
        device_median_s: None,
        device_memory_bytes: None,
    });
    Ok(())
}

/// Labels of the validation texts: against their expected labels (meaningful with real
/// weights) and against the reference interpreter's labels (meaningful always).
fn accuracy(
    session: &mut dyn subjects::Session,
    pipeline: &TextPipeline,
    texts: &[LabelledText],
    reference: &[engine::Tensor],
) -> Result<Message> {
    let (mut correct, mut agree) = (0, 0);
    for (item, expected) in texts.iter().zip(reference) {
        let label = TextPipeline::predict(&session.run(&pipeline.inputs(&item.text)?)?)?;
        correct += u64::from(pipeline.labels.get(label) == Some(&item.expected_label));
        agree += u64::from(label == TextPipeline::predict(std::slice::from_ref(expected))?);
    }
    Ok(Message::Accuracy {
        total: texts.len() as u64,
        correct,
        agree_with_reference: agree,
    })
}

/// JSON has no NaN or infinity: report the largest finite value instead.
fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { f64::MAX }
}

/// Warms up as the policy says; returns the `warmup` message and an estimate of one run.
fn warm_up(
    body: &mut impl FnMut() -> Result<()>,
    policy: &MeasurePolicy,
    first: Duration,
) -> Result<(Message, Duration)> {
    let start = Instant::now();
    let mut times: Vec<Duration> = Vec::new();
    let mut converged = true;
    loop {
        let done = match policy.warmup {
            Warmup::Iterations(n) => times.len() as u64 >= n,
            Warmup::Seconds(s) => start.elapsed().as_secs_f64() >= s,
            Warmup::Auto => {
                if start.elapsed().as_secs_f64() >= policy.max_warmup_s {
                    converged = settled(&times);
                    true
                } else {
                    start.elapsed() >= MIN_AUTO_WARMUP && settled(&times)
                }
            }
        };
        if done {
            break;
        }
        let t = Instant::now();
        body()?;
        times.push(t.elapsed());
    }
    let recent = &times[times.len().saturating_sub(WINDOW)..];
    let estimate = if recent.is_empty() {
        first
    } else {
        median(recent)
    };
    let message = Message::Warmup {
        iterations: times.len() as u64,
        seconds: start.elapsed().as_secs_f64(),
        converged,
    };
    Ok((message, estimate))
}

/// Whether the median of the last window is within `SETTLED` of the window before it.
fn settled(times: &[Duration]) -> bool {
    if times.len() < 2 * WINDOW {
        return false;
    }
    let n = times.len();
    let last = median(&times[n - WINDOW..]).as_secs_f64();
    let prev = median(&times[n - 2 * WINDOW..n - WINDOW]).as_secs_f64();
    prev > 0.0 && ((last - prev) / prev).abs() <= SETTLED
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// Times `k` runs per sample until the budget is met, streaming samples; then measures the
/// timing loop's own cost with an empty body.
fn measure(
    body: &mut impl FnMut() -> Result<()>,
    k: u64,
    budget: &MeasurePolicy,
) -> Result<Message> {
    let start = Instant::now();
    let mut chunk = Vec::with_capacity(CHUNK);
    let (mut samples, mut iterations) = (0u64, 0u64);
    let mut precision = Precision::new(budget.target_ci);
    loop {
        let t = time_batch(body, k)?;
        chunk.push(t);
        precision.push(t);
        samples += 1;
        iterations += k;
        if chunk.len() == CHUNK {
            flush(&mut chunk, k);
        }
        let elapsed = start.elapsed().as_secs_f64();
        let enough = samples >= budget.min_iterations && elapsed >= budget.min_time_s;
        if (enough && precision.reached()) || elapsed >= budget.max_time_s {
            break;
        }
    }
    let measure_wall_s = start.elapsed().as_secs_f64();
    flush(&mut chunk, k);

    Ok(Message::Done {
        measure_wall_s,
        iterations,
        timer_overhead_s: timer_overhead(k)?,
        peak_rss_bytes: peak_rss_bytes(),
        device_median_s: None,
        device_memory_bytes: None,
    })
}

/// Precision-targeted sampling: whether the samples so far put the median's confidence
/// interval within the target. Checked at geometrically spaced counts (every 10% more
/// samples), between samples, so sorting never costs more than a small share of the time.
struct Precision {
    target: Option<f64>,
    samples: Vec<f64>,
    next_check: usize,
}

impl Precision {
    fn new(target: Option<f64>) -> Precision {
        Precision {
            target,
            samples: Vec::new(),
            next_check: 6,
        }
    }

    fn push(&mut self, sample: f64) {
        if self.target.is_some() {
            self.samples.push(sample);
        }
    }

    /// Always true without a target.
    fn reached(&mut self) -> bool {
        let Some(target) = self.target else {
            return true;
        };
        if self.samples.len() < self.next_check {
            return false;
        }
        self.next_check = self.samples.len() + (self.samples.len() / 10).max(1);
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        stats::median_ci_half_width(&sorted, stats::Options::default().confidence) <= target
    }
}

/// The timing loop's own cost per iteration in batches of `k`: the median of 101 batches
/// with an empty body.
fn timer_overhead(k: u64) -> Result<f64> {
    let mut empty = || Ok(());
    let mut overhead: Vec<f64> = (0..101)
        .map(|_| time_batch(&mut empty, k))
        .collect::<Result<_>>()?;
    overhead.sort_by(f64::total_cmp);
    Ok(overhead[overhead.len() / 2])
}

/// Seconds per iteration over a batch of `k` iterations.
#[inline(never)]
fn time_batch(body: &mut impl FnMut() -> Result<()>, k: u64) -> Result<f64> {
    let t = Instant::now();
    for _ in 0..k {
        black_box(body()?);
    }
    Ok(t.elapsed().as_secs_f64() / k as f64)
}

fn flush(chunk: &mut Vec<f64>, k: u64) {
    if !chunk.is_empty() {
        send(&Message::Samples {
            iterations_per_sample: k,
            samples_s: std::mem::take(chunk),
        });
    }
}

/// Peak resident set size of this process.
fn peak_rss_bytes() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a full rusage struct into the pointer on success.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: rc == 0, so the struct was written.
    let max = unsafe { usage.assume_init() }.ru_maxrss as u64;
    // Linux reports kilobytes, macOS bytes.
    Some(if cfg!(target_os = "macos") {
        max
    } else {
        max * 1024
    })
}
