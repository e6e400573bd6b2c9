//! `report.md`: the human-readable report of one run.
//!
//! The layout lives in `reports/templates/report.md.j2` (minijinja), embedded into the binary
//! so the harness renders from any working directory. This module decides every number and
//! word that goes in (all pre-formatted with [`super::format`]); the template only arranges
//! them. Sections: title, summary (see [`super::summary`]), configuration, results table,
//! correctness, skipped/failed cases, per-case detail, system, plots.

use minijinja::{Environment, syntax::SyntaxConfig};
use serde::Serialize;

use crate::results::{CaseResult, CaseSummary, RunResults, Status, Warmup, threads_text};
use crate::system::SystemInfo;

use super::format::{self, duration};
use super::groups::{self, SpeedUps, Varying};
use super::plots;
use super::summary::{self, Summary};

const TEMPLATE_NAME: &str = "report.md.j2";
const TEMPLATE: &str = include_str!("../../../reports/templates/report.md.j2");

/// Renders `report.md` for `results`.
pub fn render(results: &RunResults) -> anyhow::Result<String> {
    render_with(results, &SpeedUps::of(results))
}

/// [`render`] with the run's speed-ups already computed (see [`super::render_all`]).
pub(super) fn render_with(
    results: &RunResults,
    speed_ups: &SpeedUps<'_>,
) -> anyhow::Result<String> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("cell", cell);
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    let text = env
        .get_template(TEMPLATE_NAME)?
        .render(minijinja::value::Serde(Context::new(results, speed_ups)))?;
    Ok(text)
}

/// Makes text safe in a Markdown table cell: no pipes, no line breaks, never empty.
fn cell(value: String) -> String {
    let v = value
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>");
    if v.trim().is_empty() {
        "—".to_string()
    } else {
        v
    }
}

const NONE: &str = "—";

type Row = (String, String);

fn row(k: &str, v: impl Into<String>) -> Row {
    (k.to_string(), v.into())
}

#[derive(Serialize)]
struct Context {
    title: String,
    description: String,
    run_id: String,
    started_at: String,
    finished_at: Option<String>,
    duration: Option<String>,
    machine: String,
    counts: String,
    confidence: String,
    summary: Summary,
    speedup_plot: Option<PlotLink>,
    config: Vec<Row>,
    build: Vec<Row>,
    subjects: Vec<SubjectRow>,
    results: Vec<ResultRow>,
    correctness: Vec<CorrectnessRow>,
    accuracy: Vec<AccuracyRow>,
    problems: Vec<ProblemRow>,
    unavailable: Vec<Unavailable>,
    details: Vec<Detail>,
    system: Vec<Row>,
    plots: Vec<PlotLink>,
}

#[derive(Serialize)]
struct SubjectRow {
    name: String,
    version: String,
    threading: String,
    available: String,
}

#[derive(Serialize)]
struct ResultRow {
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
}

#[derive(Serialize)]
struct CorrectnessRow {
    case: String,
    subject: String,
    max_abs: String,
    max_rel: String,
    mismatches: String,
    tolerance: String,
    verdict: String,
}

#[derive(Serialize)]
struct AccuracyRow {
    case: String,
    subject: String,
    weights: String,
    accuracy: String,
    agreement: String,
}

#[derive(Serialize)]
struct ProblemRow {
    id: String,
    status: String,
    reason: String,
}

#[derive(Serialize)]
struct Unavailable {
    name: String,
    reason: String,
    fix: Option<String>,
}

#[derive(Serialize)]
struct Detail {
    id: String,
    stats: Vec<Row>,
    rounds: Vec<RoundRow>,
}

#[derive(Serialize)]
struct RoundRow {
    round: u32,
    warmup: String,
    converged: String,
    per_sample: u64,
    samples: usize,
    wall: String,
    median: String,
    overhead: String,
}

#[derive(Serialize)]
struct PlotLink {
    title: String,
    svg: String,
    png: String,
}

impl From<plots::PlotSpec> for PlotLink {
    fn from(p: plots::PlotSpec) -> PlotLink {
        PlotLink {
            svg: format!("plots/{}.svg", p.stem),
            png: format!("plots/{}.png", p.stem),
            title: p.title,
        }
    }
}

impl Context {
    fn new(r: &RunResults, speed_ups: &SpeedUps<'_>) -> Context {
        let confidence = r
            .cases
            .iter()
            .find_map(|c| c.summary.as_ref().map(|s| s.confidence))
            .unwrap_or(stats::Options::default().confidence);
        let varying = groups::varying_params(r);
        let finished = r.finished_at.clone();
        let duration = finished
            .as_deref()
            .and_then(|f| Some(rfc3339_seconds(f)? - rfc3339_seconds(&r.started_at)?));
        Context {
            title: format!("graphbench: {}", r.suite.name),
            description: if r.suite.description.trim().is_empty() {
                format!("Suite `{}`.", r.suite.name)
            } else {
                r.suite.description.trim().to_string()
            },
            run_id: r.run_id.clone(),
            started_at: r.started_at.clone(),
            finished_at: finished.or_else(|| Some("not finished (interrupted run)".into())),
            duration: duration.filter(|d| *d >= 0.0).map(self::duration),
            machine: machine_line(&r.system),
            counts: counts(r),
            confidence: format!(
                "{}%",
                format::sig3(confidence * 100.0).trim_end_matches(".0")
            ),
            summary: summary::summary(r, speed_ups),
            speedup_plot: plots::plan(r)
                .into_iter()
                .find(|p| p.kind == plots::PlotKind::SpeedUp)
                .map(PlotLink::from),
            config: config(r),
            build: build(r),
            subjects: r
                .subjects
                .iter()
                .map(|s| SubjectRow {
                    name: s.name.clone(),
                    version: s.version.clone(),
                    threading: s.threading.clone(),
                    available: if s.available {
                        "yes".into()
                    } else {
                        format!("no: {}", s.reason.as_deref().unwrap_or("unknown reason"))
                    },
                })
                .collect(),
            results: in_group_order(r)
                .into_iter()
                .map(|c| result_row(c, &varying))
                .collect(),
            correctness: in_group_order(r)
                .into_iter()
                .filter_map(|c| correctness_row(c, &varying))
                .collect(),
            accuracy: in_group_order(r)
                .into_iter()
                .filter_map(|c| accuracy_row(c, &varying))
                .collect(),
            problems: r
                .cases
                .iter()
                .filter(|c| c.status != Status::Ok)
                .map(|c| ProblemRow {
                    id: c.id.clone(),
                    status: c.status.as_str().into(),
                    reason: c.reason.clone().unwrap_or_default(),
                })
                .collect(),
            unavailable: r
                .subjects
                .iter()
                .filter(|s| !s.available)
                .map(|s| Unavailable {
                    name: s.name.clone(),
                    reason: s.reason.clone().unwrap_or_else(|| "unknown reason".into()),
                    fix: s.fix.clone(),
                })
                .collect(),
            details: r
                .cases
                .iter()
                .filter(|c| c.summary.is_some() || !c.rounds.is_empty())
                .map(detail)
                .collect(),
            system: system_rows(&r.system),
            plots: plots::plan(r).into_iter().map(PlotLink::from).collect(),
        }
    }
}

fn counts(r: &RunResults) -> String {
    let n = |s: Status| r.cases.iter().filter(|c| c.status == s).count();
    let mut parts = vec![format!("{} in all", r.cases.len())];
    for s in [
        Status::Ok,
        Status::Invalid,
        Status::Failed,
        Status::Skipped,
        Status::Pending,
    ] {
        if n(s) > 0 {
            parts.push(format!("{} {}", n(s), s.as_str()));
        }
    }
    parts.join(", ")
}

fn machine_line(s: &SystemInfo) -> String {
    let mut parts = vec![
        s.hostname.clone().unwrap_or_else(|| "unknown host".into()),
        s.cpu_model.clone(),
    ];
    parts.push(match s.physical_cores {
        Some(p) => format!("{p} cores / {} threads", s.logical_cores),
        None => format!("{} logical CPUs", s.logical_cores),
    });
    if let Some(m) = s.memory_total_bytes {
        parts.push(format::bytes(m));
    }
    if let Some(os) = os_text(s) {
        parts.push(os);
    }
    parts.join(", ")
}

fn os_text(s: &SystemInfo) -> Option<String> {
    match (&s.os_name, &s.os_version) {
        (Some(n), Some(v)) => Some(format!("{n} {v}")),
        (Some(n), None) => Some(n.clone()),
        _ => s.os_long_version.clone(),
    }
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(stats::quantile(&v, 0.5))
}

/// The run's cases grouped as the summary groups them (scenario, parameters, threads), so
/// tables read group by group.
fn in_group_order(r: &RunResults) -> Vec<&CaseResult> {
    groups::case_groups(r)
        .into_iter()
        .flat_map(|g| g.cases)
        .collect()
}

fn warmup_text(w: &Warmup, cap_s: f64) -> String {
    match w {
        Warmup::Auto => format!(
            "auto (until the median of the last 5 iterations moves < 2%, at most {})",
            duration(cap_s)
        ),
        Warmup::Iterations(n) => format!("{n} iterations"),
        Warmup::Seconds(s) => duration(*s),
    }
}

fn config(r: &RunResults) -> Vec<Row> {
    let s = &r.suite;
    let m = &s.measure;
    vec![
        row(
            "Suite",
            format!("{} (`{}`, FNV-1a {})", s.name, s.file, s.file_hash),
        ),
        row("Workload", format!("{} (seed {})", s.workload, s.seed)),
        row("Profile", s.profile.clone()),
        row(
            "Overrides",
            if s.overrides.is_empty() {
                "none".into()
            } else {
                s.overrides.join(", ")
            },
        ),
        row("Warm-up", warmup_text(&m.warmup, m.max_warmup_s)),
        row(
            "Measurement",
            format!(
                "at least {} iterations and {}, at most {}; samples of at least {}",
                m.min_iterations,
                duration(m.min_time_s),
                duration(m.max_time_s),
                duration(m.min_sample_time_s)
            ),
        ),
        row(
            "Rounds",
            format!("{} interleaved rounds, each in a fresh worker", m.rounds),
        ),
        row("Worker timeout", duration(m.timeout_s)),
        row(
            "Tolerance",
            format!(
                "atol {}, rtol {}",
                format::sci(s.check.atol),
                format::sci(s.check.rtol)
            ),
        ),
    ]
}

fn build(r: &RunResults) -> Vec<Row> {
    let h = &r.harness;
    let commit = match (&h.git_commit, h.git_dirty) {
        (Some(c), Some(true)) => format!("`{}` (dirty: uncommitted changes)", c),
        (Some(c), _) => format!("`{c}`"),
        (None, _) => "unknown".into(),
    };
    vec![
        row("Harness", h.version.clone()),
        row("Git commit", commit),
        row("Build profile", h.build_profile.clone()),
        row(
            "Opt level",
            format!(
                "harness {}, engine {}",
                h.harness_opt_level, h.engine_opt_level
            ),
        ),
        row("Engine debug assertions", h.engine_debug_assertions.clone()),
        row("rustc", h.rustc.clone()),
        row(
            "Features",
            if h.features.is_empty() {
                "none".into()
            } else {
                h.features.join(", ")
            },
        ),
        row("Command", format!("`{}`", h.command.join(" "))),
    ]
}

/// The smallest sample count that supports percentile `p` at `confidence`.
fn samples_needed(p: f64, confidence: f64) -> Option<usize> {
    (1..=100_000).find(|&n| stats::percentile_supported(n, p, confidence))
}

fn percentile_text(value: Option<f64>, p: f64, s: &CaseSummary) -> String {
    match value {
        Some(v) => duration(v),
        None => match samples_needed(p, s.confidence) {
            Some(n) => format!("n/a (needs {n} samples)"),
            None => "n/a".into(),
        },
    }
}

fn result_row(c: &CaseResult, varying: &Varying<'_>) -> ResultRow {
    let s = c.summary.as_ref();
    let or_none = |v: Option<String>| v.unwrap_or_else(|| NONE.into());
    ResultRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
        threads: threads_cell(c),
        status: c.status.as_str().into(),
        median: or_none(s.map(|s| format::duration_ci(s.median_s, s.ci_low_s, s.ci_high_s))),
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
    }
}

fn threads_cell(c: &CaseResult) -> String {
    if c.threads == 0 && c.threads_resolved > 0 {
        format!("all ({})", c.threads_resolved)
    } else {
        threads_text(c.threads)
    }
}

fn correctness_row(c: &CaseResult, varying: &Varying<'_>) -> Option<CorrectnessRow> {
    let p = c.parity.as_ref()?;
    let pass = p.mismatches == 0 && c.status != Status::Invalid;
    Some(CorrectnessRow {
        case: groups::case_label(varying, &c.scenario, &c.params),
        subject: c.subject.clone(),
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

fn accuracy_row(c: &CaseResult, varying: &Varying<'_>) -> Option<AccuracyRow> {
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
        weights: if c.real_weights { "real" } else { "synthetic" }.into(),
        accuracy: if c.real_weights {
            share(a.correct)
        } else {
            "n/a (synthetic weights)".into()
        },
        agreement: share(a.agree_with_reference),
    })
}

fn detail(c: &CaseResult) -> Detail {
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
        stats.push(row("Peak RSS", format::bytes(b)));
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

fn system_rows(s: &SystemInfo) -> Vec<Row> {
    let unknown = || "unknown".to_string();
    let mhz = |v: Option<u64>| v.map(|m| format!("{m} MHz"));
    let mut rows = vec![
        row(
            "Host",
            s.hostname
                .clone()
                .map_or_else(unknown, |h| format!("{h} (`{}`)", s.machine_slug())),
        ),
        row("OS", os_text(s).unwrap_or_else(unknown)),
        row("Kernel", s.kernel.clone().unwrap_or_else(unknown)),
        row(
            "Architecture",
            if s.arch.is_empty() {
                unknown()
            } else {
                s.arch.clone()
            },
        ),
        row(
            "CPU",
            match &s.cpu_vendor {
                Some(v) => format!("{} ({v})", s.cpu_model),
                None => s.cpu_model.clone(),
            },
        ),
        row(
            "Cores",
            format!(
                "{} physical, {} logical{}",
                s.physical_cores.map_or_else(unknown, |p| p.to_string()),
                s.logical_cores,
                s.available_parallelism
                    .map_or(String::new(), |a| format!(", {a} available to the harness"))
            ),
        ),
    ];
    let freq: Vec<String> = [
        ("min", mhz(s.cpu_freq_min_mhz)),
        ("max", mhz(s.cpu_freq_max_mhz)),
        ("current", mhz(s.cpu_freq_current_mhz)),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some(format!("{k} {}", v?)))
    .collect();
    rows.push(row(
        "Frequency",
        if freq.is_empty() {
            "not readable".into()
        } else {
            freq.join(", ")
        },
    ));
    rows.push(row(
        "Frequency policy",
        format!(
            "driver {}, governor {}, boost {}",
            s.cpufreq_driver.clone().unwrap_or_else(unknown),
            s.scaling_governor.clone().unwrap_or_else(unknown),
            s.boost
                .map_or_else(unknown, |b| if b { "on".into() } else { "off".into() })
        ),
    ));
    rows.push(row(
        "Virtualised",
        s.virtualized
            .map_or_else(unknown, |v| if v { "yes".into() } else { "no".into() }),
    ));
    rows.push(row(
        "ISA extensions",
        if s.isa_flags.is_empty() {
            "none detected".into()
        } else {
            s.isa_flags.join(", ")
        },
    ));
    let caches: Vec<String> = s
        .caches
        .iter()
        .map(|c| {
            let kind = match c.kind.as_str() {
                "data" => "d",
                "instruction" => "i",
                _ => "",
            };
            let shared = c
                .shared_by_cpus
                .filter(|n| *n > 1)
                .map_or(String::new(), |n| format!(" (shared by {n})"));
            format!("L{}{kind} {}{shared}", c.level, format::bytes(c.size_bytes))
        })
        .collect();
    rows.push(row(
        "Caches",
        if caches.is_empty() {
            "not readable".into()
        } else {
            caches.join(", ")
        },
    ));
    rows.push(row(
        "Memory",
        match (s.memory_total_bytes, s.memory_available_bytes) {
            (Some(t), Some(a)) => format!(
                "{} total, {} available at start",
                format::bytes(t),
                format::bytes(a)
            ),
            (Some(t), None) => format!("{} total", format::bytes(t)),
            _ => unknown(),
        },
    ));
    rows.push(row(
        "Load average at start",
        s.load_average.map_or_else(unknown, |l| {
            format!("{:.2}, {:.2}, {:.2} (1, 5, 15 min)", l[0], l[1], l[2])
        }),
    ));
    if s.gpus.is_empty() {
        rows.push(row("GPU", "none found"));
    }
    for (i, g) in s.gpus.iter().enumerate() {
        let mut extra: Vec<String> = Vec::new();
        extra.extend(g.vendor.clone());
        extra.extend(g.driver.clone().map(|d| format!("driver {d}")));
        extra.extend(g.memory_bytes.map(format::bytes));
        extra.extend(g.pci_id.clone().map(|id| format!("PCI {id}")));
        let label = if s.gpus.len() > 1 {
            format!("GPU {i}")
        } else {
            "GPU".into()
        };
        rows.push(row(
            &label,
            if extra.is_empty() {
                g.name.clone()
            } else {
                format!("{} ({})", g.name, extra.join(", "))
            },
        ));
    }
    rows
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp (`2024-05-01T12:00:00Z`, fractional
/// seconds allowed); `None` for anything else.
fn rfc3339_seconds(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00"))?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':');
    let (hh, mm): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let ss: f64 = t.next()?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some((days * 86400 + hh * 3600 + mm * 60) as f64 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::demo as testdata;

    fn report() -> String {
        render(&testdata::run()).unwrap()
    }

    #[test]
    fn has_every_section_in_order() {
        let md = report();
        let sections = [
            "# graphbench: demo",
            "## Summary",
            "### Scaling",
            "## Configuration",
            "## Results",
            "## Correctness",
            "## Skipped and failed cases",
            "## Per-case detail",
            "## System",
            "## Plots",
        ];
        let mut from = 0;
        for s in sections {
            let at = md[from..]
                .find(s)
                .unwrap_or_else(|| panic!("{s} missing or out of order:\n{md}"));
            from += at + s.len();
        }
        assert!(md.contains("A demo suite: forward pass sweep and text pipeline"));
        assert!(md.contains("2024-05-01T12:00:00Z"));
        assert!(
            md.contains("(3.35 min)") || md.contains("(201 s)"),
            "run duration:\n{md}"
        );
    }

    #[test]
    fn results_table_numbers() {
        let results = testdata::run();
        let md = render(&results).unwrap();
        let s = results.cases[0].summary.as_ref().unwrap();
        let row = md
            .lines()
            .find(|l| l.starts_with("| forward · seq_len=8 | engine-cpu | 1 | ok |"))
            .expect("engine-cpu row");
        assert!(
            row.contains(&format::duration_ci(s.median_s, s.ci_low_s, s.ci_high_s)),
            "{row}"
        );
        assert!(row.contains(&duration(s.mean_s)));
        // 100 samples support p95; 40 do not.
        assert!(row.contains(&duration(s.p95_s.unwrap())), "{row}");
        let torch = md
            .lines()
            .find(|l| l.starts_with("| forward · seq_len=8 | torch |"))
            .unwrap();
        assert!(torch.contains("n/a (needs 72 samples)"), "{torch}");
        // GFLOP/s only where FLOPs are known; load and first run are medians over rounds.
        assert!(row.contains(&format::sig3(s.gflops.unwrap())));
        assert!(row.contains("| 240 ms |"), "{row}");
        let pipeline = md
            .lines()
            .find(|l| l.starts_with("| pipeline | engine-cpu |"))
            .unwrap();
        assert!(
            pipeline.contains("| — | 240 ms |"),
            "no GFLOP/s without FLOPs: {pipeline}"
        );
        let failed = md
            .lines()
            .find(|l| l.starts_with("| pipeline | torch |"))
            .unwrap();
        assert!(failed.contains("| failed | — |"), "{failed}");
    }

    #[test]
    fn correctness_problems_and_detail() {
        let md = report();
        assert!(md.contains("| forward · seq_len=8 | candle | 2.1e-1 | 9.0e-1 | 17 | atol 1.0e-4, rtol 1.0e-3 | **FAIL** |"), "{md}");
        assert!(md.contains("| 2.4e-6 | 3.1e-5 | 0 | atol 1.0e-4, rtol 1.0e-3 | pass |"));
        // Reasons are table-safe: the pipe inside the reason is escaped.
        assert!(
            md.contains("| failed | worker exited with signal 11 (SIGSEGV) \\| in round 1 |"),
            "{md}"
        );
        assert!(md.contains("| skipped | libonnxruntime not found |"));
        assert!(md.contains("| invalid | max abs error 0.21 exceeds tolerance"));
        assert!(md.contains("- **onnxruntime**: libonnxruntime not found — fix: pip install"));
        // Per-case detail: outliers, rounds, timer overhead.
        assert!(md.contains("### forward/batch=1,seq_len=8/engine-cpu/threads=1"));
        assert!(md.contains("| Outliers (Tukey, kept) | "));
        assert!(md.contains("| 1 | 12 iterations, "));
        assert!(md.contains("| 25.0 ns |"));
        assert!(
            !md.contains("### pipeline//torch"),
            "unmeasured cases have no detail"
        );
    }

    #[test]
    fn configuration_and_system() {
        let md = report();
        for needle in [
            "| Profile | quick |",
            "| Overrides | measure.rounds=2 |",
            "| Rounds | 2 interleaved rounds",
            "| Tolerance | atol 1.0e-4, rtol 1.0e-3 |",
            "| Git commit | `0123456789abcdef0123456789abcdef01234567` (dirty: uncommitted changes) |",
            "| Build profile | dev |",
            "| Opt level | harness 2, engine 3 |",
            "| onnxruntime | unknown | N intra-op threads | no: libonnxruntime not found |",
            "| torch | libtorch 2.11.0 | `torch.set_num_threads(N)`, 1 inter-op thread | yes |",
            "| Host | bench-box (`bench-box`) |",
            "| CPU | AMD EPYC 9R14 (AuthenticAMD) |",
            "| Cores | 2 physical, 2 logical, 2 available to the harness |",
            "| Frequency | max 3700 MHz |",
            "driver unknown, governor performance, boost on",
            "| ISA extensions | avx2, fma, avx512f |",
            "| Caches | L3 32.0 MiB (shared by 2) |",
            "| Memory | 24.0 GiB total, 20.0 GiB available at start |",
            "| Load average at start | 0.12, 0.20, 0.31 (1, 5, 15 min) |",
            "| GPU | NVIDIA H100 80GB HBM3 (NVIDIA, driver nvidia 550.54.15, 79.6 GiB) |",
        ] {
            assert!(md.contains(needle), "missing {needle:?}:\n{md}");
        }
    }

    #[test]
    fn plots_are_linked() {
        let results = testdata::run();
        let md = render(&results).unwrap();
        for p in plots::plan(&results) {
            assert!(
                md.contains(&format!("![{}](plots/{}.svg)", p.title, p.stem)),
                "{}",
                p.stem
            );
            assert!(md.contains(&format!("[PNG](plots/{}.png)", p.stem)));
        }
    }

    #[test]
    fn an_empty_or_interrupted_run_still_renders() {
        let mut results = testdata::run();
        results.cases.clear();
        results.finished_at = None;
        results.system = SystemInfo::default();
        let md = render(&results).unwrap();
        assert!(md.contains("No case has a valid measurement."));
        assert!(md.contains("not finished (interrupted run)"));
        assert!(md.contains("No plots"));
        assert!(md.contains("| GPU | none found |"));
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            rfc3339_seconds("2024-05-01T12:03:21Z").unwrap()
                - rfc3339_seconds("2024-05-01T12:00:00Z").unwrap(),
            201.0
        );
        assert_eq!(rfc3339_seconds("2000-03-01T00:00:00.5Z"), Some(951868800.5));
        assert_eq!(rfc3339_seconds("yesterday"), None);
    }
}
