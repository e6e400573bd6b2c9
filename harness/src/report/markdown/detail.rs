//! Per-case detail: every statistic of one case and its rounds.

use serde::Serialize;

use crate::results::CaseResult;

use super::{NONE, Row, percentile_text, row};
use crate::report::format::{self, duration};

#[derive(Serialize)]
pub(super) struct Detail {
    id: String,
    stats: Vec<Row>,
    rounds: Vec<RoundRow>,
}

#[derive(Serialize)]
pub(super) struct RoundRow {
    round: u32,
    warmup: String,
    converged: String,
    per_sample: u64,
    samples: usize,
    wall: String,
    median: String,
    overhead: String,
}

pub(super) fn detail(c: &CaseResult) -> Detail {
    let mut stats = vec![row("Status", c.status.as_str())];
    if let Some(reason) = &c.reason {
        stats.push(row("Reason", reason.clone()));
    }
    if let Some(s) = &c.summary {
        let pct = |v, p| percentile_text(v, p, s);
        stats.extend([
            row("Samples", s.n.to_string()),
            row(
                "Median",
                format::duration_ci(s.median_s, s.ci_low_s, s.ci_high_s),
            ),
            row("Worker-process medians", process_medians_text(c)),
            row(
                "Mean",
                format::duration_ci(s.mean_s, s.mean_ci_low_s, s.mean_ci_high_s),
            ),
            row(
                "Min / max",
                format!("{} / {}", duration(s.min_s), duration(s.max_s)),
            ),
            row("Std dev (n − 1)", duration(s.std_s)),
            row("CV", format::percent(s.cv)),
            row(
                "p50 / p90 / p95 / p99",
                format!(
                    "{} / {} / {} / {}",
                    pct(s.p50_s, 0.5),
                    pct(s.p90_s, 0.9),
                    pct(s.p95_s, 0.95),
                    pct(s.p99_s, 0.99)
                ),
            ),
            row("Outliers (Tukey, kept)", outliers_text(&s.outliers, s.n)),
            row(
                "Round spread (max − min of round medians) / median",
                s.round_spread.map_or(NONE.into(), format::percent),
            ),
            row(
                "Throughput",
                format!(
                    "{} iterations/s, {} items/s (wall time)",
                    format::si(s.throughput_per_s),
                    format::si(s.items_per_s)
                ),
            ),
        ]);
        if let Some(g) = s.gflops.filter(|_| c.flops > 0) {
            stats.push(row("GFLOP/s at the median", format::sig3(g)));
        }
    }
    stats.push(row(
        "Items per iteration",
        c.items_per_iteration.to_string(),
    ));
    if c.flops > 0 {
        stats.push(row("FLOPs per iteration", format::si(c.flops as f64)));
    }
    if !c.load_s.is_empty() {
        stats.push(row(
            "Load time per round",
            c.load_s
                .iter()
                .map(|s| duration(*s))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if !c.first_run_s.is_empty() {
        stats.push(row(
            "First run per round",
            c.first_run_s
                .iter()
                .map(|s| duration(*s))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(b) = c.peak_rss_bytes {
        stats.push(row("Peak RSS of the worker", format::bytes(b)));
    }
    if let Some(b) = c.device_memory_bytes {
        stats.push(row(
            "Device memory",
            format!(
                "{} in the session's GPU buffers (weights, arena, I/O)",
                format::bytes(b)
            ),
        ));
    }
    if c.weights_bytes + c.largest_intermediate_bytes > 0 {
        stats.push(row(
            "Graph memory",
            format!(
                "weights {}, largest intermediate {}",
                format::bytes(c.weights_bytes),
                format::bytes(c.largest_intermediate_bytes)
            ),
        ));
    }
    let device: Vec<f64> = c.rounds.iter().filter_map(|r| r.device_median_s).collect();
    if let Some(m) = super::tables::median(&device) {
        stats.push(row(
            "GPU time (timestamps)",
            format!(
                "{} median per iteration over {} processes (the timed iteration adds upload, submission, wait and read-back)",
                duration(m),
                device.len()
            ),
        ));
    }
    let rounds = c
        .rounds
        .iter()
        .map(|r| RoundRow {
            round: r.round,
            warmup: format!(
                "{} iterations, {}",
                r.warmup_iterations,
                duration(r.warmup_s)
            ),
            converged: if r.warmup_converged {
                "yes".into()
            } else {
                "no".into()
            },
            per_sample: r.iterations_per_sample,
            samples: r.samples,
            wall: duration(r.measure_wall_s),
            median: duration(r.median_s),
            overhead: duration(r.timer_overhead_s),
        })
        .collect();
    Detail {
        id: c.id.clone(),
        stats,
        rounds,
    }
}

fn outliers_text(o: &stats::Outliers, n: usize) -> String {
    let total = o.low_severe + o.low_mild + o.high_mild + o.high_severe;
    format!(
        "{total} of {n}: {} low severe, {} low mild, {} high mild, {} high severe",
        o.low_severe, o.low_mild, o.high_mild, o.high_severe
    )
}

/// `5 processes: 13.2 µs, 13.3 µs, 18.4 µs, …`, sorted: the level of each worker, the unit
/// comparisons replicate over, so a case whose workers land in two speeds shows it.
fn process_medians_text(c: &CaseResult) -> String {
    let mut medians: Vec<f64> = c.rounds.iter().map(|r| r.median_s).collect();
    medians.sort_by(f64::total_cmp);
    let list: Vec<String> = medians.iter().map(|&m| duration(m)).collect();
    format!("{} processes: {}", medians.len(), list.join(", "))
}
