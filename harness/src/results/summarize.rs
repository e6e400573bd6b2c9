//! Case statistics from raw samples: the one place where `CaseSummary` is computed, and
//! where a measured case (finished, or cut short by an interrupted run) gets its final status.

use super::{CaseResult, CaseSummary, Mode, RunResults, Status};

/// Turns a measured case into `ok` or `invalid` and computes its statistics.
pub fn finish_case(case: &mut CaseResult) {
    if case.status == Status::Pending {
        let mismatches = case.parity.as_ref().map_or(0, |p| p.mismatches);
        if mismatches > 0 {
            case.status = Status::Invalid;
            case.reason = Some(format!("{mismatches} output elements outside tolerance"));
        } else {
            case.status = Status::Ok;
        }
    }
    case.summary = summarize_case(case);
}

/// Multiplies every time of `case` by `factor` (a known effect, e.g. 1.1 for 10% slower)
/// and re-summarises it: how `harness aa` measures what `check` detects, and how tests
/// make a known change.
pub fn scale_case(case: &mut CaseResult, factor: f64) {
    for s in &mut case.samples_s {
        *s *= factor;
    }
    for r in &mut case.rounds {
        r.median_s *= factor;
        r.measure_wall_s *= factor;
        r.warmup_s *= factor;
        // A server that takes `factor` times as long per request sustains 1 / factor the rate.
        if let Some(search) = &mut r.server {
            search.max_qps = search.max_qps.map(|q| q / factor);
            for p in &mut search.probes {
                p.offered_qps /= factor;
                p.achieved_qps /= factor;
                p.p50_s *= factor;
                p.percentile_s *= factor;
            }
        }
    }
    case.summary = summarize_case(case);
}

/// A run that never finished (killed, or stopped by Ctrl-C) as readers see it: every case with
/// at least one finished round counts with the rounds it has, marked *interrupted: k of n
/// rounds*; cases that never ran stay `pending`. The file itself is left as it was, so
/// `harness suite NAME --resume DIR` can finish it.
pub fn settle_interrupted(run: &mut RunResults) {
    if run.finished_at.is_some() {
        return;
    }
    let planned = run.suite.measure.rounds;
    for case in &mut run.cases {
        if case.status == Status::Pending && !case.rounds.is_empty() {
            finish_case(case);
            let note = format!("interrupted: {} of {planned} rounds", case.rounds.len());
            case.reason = Some(match case.reason.take() {
                Some(r) => format!("{note}; {r}"),
                None => note,
            });
        }
    }
}

pub fn summarize_case(case: &CaseResult) -> Option<CaseSummary> {
    let opts = stats::Options::default();
    let s = stats::summarize(&case.samples_s, &opts)?;
    let percentile = |p: f64| {
        s.percentiles
            .iter()
            .find(|q| (q.p - p).abs() < 1e-9)
            .and_then(|q| q.value)
    };
    let wall: f64 = case.rounds.iter().map(|r| r.measure_wall_s).sum();
    let iterations: u64 = case.rounds.iter().map(|r| r.iterations).sum();
    let throughput = if wall > 0.0 {
        iterations as f64 / wall
    } else {
        0.0
    };
    // The spread of what comparisons judge: round medians, or a server's per-process maxima.
    let (medians, level): (Vec<f64>, f64) = match case.mode {
        Mode::Server(_) => {
            let mut levels: Vec<f64> = case.judged().into_iter().flatten().collect();
            levels.sort_by(f64::total_cmp);
            let level = stats::quantile(&levels, 0.5);
            (levels, level)
        }
        _ => (case.rounds.iter().map(|r| r.median_s).collect(), s.median),
    };
    let round_spread = (medians.len() >= 2).then(|| {
        let (lo, hi) = medians
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &m| {
                (lo.min(m), hi.max(m))
            });
        (hi - lo) / level
    });
    Some(CaseSummary {
        n: s.n,
        median_s: s.median,
        ci_low_s: s.median_ci.lo,
        ci_high_s: s.median_ci.hi,
        confidence: s.confidence,
        mean_s: s.mean,
        mean_ci_low_s: s.mean_ci.lo,
        mean_ci_high_s: s.mean_ci.hi,
        min_s: s.min,
        max_s: s.max,
        std_s: s.std_dev,
        cv: if s.cv.is_finite() { s.cv } else { 0.0 },
        p50_s: percentile(0.5),
        p90_s: percentile(0.9),
        p95_s: percentile(0.95),
        p99_s: percentile(0.99),
        outliers: s.outliers,
        throughput_per_s: throughput,
        items_per_s: throughput * case.items_per_iteration as f64,
        gflops: (case.flops > 0 && s.median > 0.0).then(|| case.flops as f64 / s.median / 1e9),
        round_spread,
    })
}
