//! The results, correctness, accuracy, offline and server tables: one row per case.

use serde::Serialize;

use crate::offline::{self, Throughput};
use crate::results::{CaseResult, Status, threads_text};
use crate::server::CaseServer;

use super::{NONE, percentile_text};
use crate::report::format::{self, duration};
use crate::report::groups::{self, Varying};

#[derive(Serialize)]
pub(super) struct ResultRow {
    case: String,
    subject: String,
    threads: String,
    status: String,
    median: String,
    mean: String,
    p95: String,
    cv: String,
    throughput: String,
    gflops: String,
    load: String,
    first_run: String,
    peak_rss: String,
}

#[derive(Serialize)]
pub(super) struct CorrectnessRow {
    case: String,
    subject: String,
    threads: String,
    max_abs: String,
    max_rel: String,
    mismatches: String,
    tolerance: String,
    verdict: String,
}

#[derive(Serialize)]
pub(super) struct AccuracyRow {
    case: String,
    subject: String,
    threads: String,
    weights: String,
    accuracy: String,
    agreement: String,
}

#[derive(Serialize)]
pub(super) struct OfflineRow {
    case: String,
    subject: String,
    threads: String,
    batch: String,
    items_per_s: String,
    wall_items_per_s: String,
    batch_time: String,
    best: String,
}

#[derive(Serialize)]
pub(super) struct ServerRow {
    case: String,
    subject: String,
    threads: String,
    bound: String,
    max_qps: String,
    per_process: String,
    p50: String,
    percentile: String,
    probes: String,
}

pub(super) fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(stats::quantile(&v, 0.5))
}

/// `target_ci` is the run's precision target: a median whose interval stays wider is marked.
pub(super) fn result_row(
    c: &CaseResult,
    varying: &Varying<'_>,
    target_ci: Option<f64>,
) -> ResultRow {
    let s = c.summary.as_ref();
    let or_none = |v: Option<String>| v.unwrap_or_else(|| NONE.into());
    let low_precision = |s: &crate::results::CaseSummary| {
        let half = (s.median_s - s.ci_low_s).max(s.ci_high_s - s.median_s) / s.median_s;
        match target_ci {
            Some(t) if half > t => format!(
                " (low precision: ±{} > ±{})",
                format::percent(half),
                format::percent(t)
            ),
            _ => String::new(),
        }
    };
    ResultRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
        threads: threads_cell(c),
        status: c.status.as_str().into(),
        median: or_none(
            s.map(|s| format::duration_ci(s.median_s, s.ci_low_s, s.ci_high_s) + &low_precision(s)),
        ),
        mean: or_none(s.map(|s| duration(s.mean_s))),
        p95: or_none(s.map(|s| percentile_text(s.p95_s, 0.95, s))),
        cv: or_none(s.map(|s| format::percent(s.cv))),
        throughput: or_none(s.map(|s| format::si(s.items_per_s))),
        gflops: or_none(
            s.and_then(|s| s.gflops)
                .filter(|_| c.flops > 0)
                .map(format::sig3),
        ),
        load: or_none(median(&c.load_s).map(duration)),
        first_run: or_none(median(&c.first_run_s).map(duration)),
        peak_rss: or_none(c.peak_rss_bytes.map(format::bytes)),
    }
}

fn threads_cell(c: &CaseResult) -> String {
    if c.threads == 0 && c.threads_resolved > 0 {
        format!("all ({})", c.threads_resolved)
    } else {
        threads_text(c.threads)
    }
}

pub(super) fn correctness_row(c: &CaseResult, varying: &Varying<'_>) -> Option<CorrectnessRow> {
    let p = c.parity.as_ref()?;
    let pass = p.mismatches == 0 && c.status != Status::Invalid;
    Some(CorrectnessRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
        threads: threads_cell(c),
        max_abs: format::sci(p.max_abs_err),
        max_rel: format::sci(p.max_rel_err),
        mismatches: p.mismatches.to_string(),
        tolerance: format!("atol {}, rtol {}", format::sci(p.atol), format::sci(p.rtol)),
        verdict: if pass {
            "pass".into()
        } else {
            "**FAIL**".into()
        },
    })
}

pub(super) fn accuracy_row(c: &CaseResult, varying: &Varying<'_>) -> Option<AccuracyRow> {
    let a = c.accuracy.as_ref()?;
    let share = |n: u64| {
        format!(
            "{n}/{} ({})",
            a.total,
            format::percent(n as f64 / a.total.max(1) as f64)
        )
    };
    Some(AccuracyRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
        threads: threads_cell(c),
        weights: if c.real_weights { "real" } else { "synthetic" }.into(),
        accuracy: if c.real_weights {
            share(a.correct)
        } else {
            "n/a (synthetic weights)".into()
        },
        agreement: share(a.agree_with_reference),
    })
}

/// An offline case: items per second at its batch, marked where its batch wins the group.
pub(super) fn offline_row(
    c: &CaseResult,
    varying: &Varying<'_>,
    winners: &[(&CaseResult, Throughput)],
) -> Option<OfflineRow> {
    let t = Throughput::of(c)?;
    Some(OfflineRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
        threads: threads_cell(c),
        batch: format!("{} (pool {})", t.batch, t.pool),
        items_per_s: format!(
            "{} [{}, {}]",
            format::sig3(t.items_per_s),
            format::sig3(t.ci.0),
            format::sig3(t.ci.1)
        ),
        wall_items_per_s: format::sig3(t.wall_items_per_s),
        batch_time: duration(t.batch_s),
        best: if offline::is_winner(c, winners) {
            "best".into()
        } else {
            String::new()
        },
    })
}

/// A server case: the median over worker processes of the highest rate within the bound,
/// and the latencies of the process whose maximum is closest to it.
pub(super) fn server_row(c: &CaseResult, varying: &Varying<'_>) -> Option<ServerRow> {
    let s = CaseServer::of(&c.rounds)?;
    let qps = |q: f64| format!("{} QPS", format::sig3(q));
    Some(ServerRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
        threads: threads_cell(c),
        bound: format::server_bound(&s.spec),
        max_qps: s
            .max_qps
            .map_or_else(|| "none within the bound".into(), qps),
        per_process: s
            .per_process
            .iter()
            .map(|m| m.map_or_else(|| NONE.to_string(), format::sig3))
            .collect::<Vec<_>>()
            .join(", "),
        p50: s.typical.map_or_else(|| NONE.into(), |p| duration(p.p50_s)),
        percentile: s
            .typical
            .map_or_else(|| NONE.into(), |p| duration(p.percentile_s)),
        probes: s.probes.to_string(),
    })
}
