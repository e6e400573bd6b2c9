//! `report.md`: the human-readable report of one run.
//!
//! The layout lives in `reports/templates/report.md.j2` (minijinja), embedded into the binary
//! so the harness renders from any working directory. This module decides every number and
//! word that goes in (all pre-formatted with [`super::format`]); the template only arranges
//! them. Sections: title, summary (see [`super::summary`]), configuration, results table,
//! correctness, skipped/failed cases, per-case detail, system, plots.
//!
//! One file per part: [`run`] (head and configuration), [`tables`] (results, correctness,
//! accuracy), [`detail`] (per-case detail), [`system`] (machine and System section).

mod detail;
mod run;
mod system;
mod tables;

use minijinja::{Environment, syntax::SyntaxConfig};
use serde::Serialize;

use crate::results::{CaseResult, CaseSummary, RunResults, Status};

use super::format::{self, duration};
use super::groups::{self, SpeedUps};
use super::plots;
use super::summary::{self, Summary};
use detail::{Detail, detail};
use run::{build, config, counts, rfc3339_seconds};
use system::{machine_line, system_rows};
use tables::{
    AccuracyRow, CorrectnessRow, OfflineRow, ResultRow, ServerRow, accuracy_row, correctness_row,
    offline_row, result_row, server_row,
};

const TEMPLATE_NAME: &str = "report.md.j2";
const TEMPLATE: &str = include_str!("../../../../reports/templates/report.md.j2");

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
    offline: Vec<OfflineRow>,
    server: Vec<ServerRow>,
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
        let winners = crate::offline::winners(&r.cases);
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
                .map(|c| result_row(c, &varying, r.suite.measure.target_ci))
                .collect(),
            correctness: in_group_order(r)
                .into_iter()
                .filter_map(|c| correctness_row(c, &varying))
                .collect(),
            accuracy: in_group_order(r)
                .into_iter()
                .filter_map(|c| accuracy_row(c, &varying))
                .collect(),
            offline: in_group_order(r)
                .into_iter()
                .filter_map(|c| offline_row(c, &varying, &winners))
                .collect(),
            server: in_group_order(r)
                .into_iter()
                .filter_map(|c| server_row(c, &varying))
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

/// The run's cases grouped as the summary groups them (scenario, parameters, threads), so
/// tables read group by group.
fn in_group_order(r: &RunResults) -> Vec<&CaseResult> {
    groups::case_groups(r)
        .into_iter()
        .flat_map(|g| g.cases)
        .collect()
}

fn percentile_text(value: Option<f64>, p: f64, s: &CaseSummary) -> String {
    match value {
        Some(v) => duration(v),
        None => match stats::samples_for_percentile(p, s.confidence) {
            Some(n) => format!("n/a (needs {n} samples)"),
            None => "n/a".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::SystemInfo;
    use crate::testing::demo as testdata;

    fn report() -> String {
        render(&testdata::run()).unwrap()
    }

    #[test]
    fn every_table_row_has_its_header_column_count() {
        let problems = crate::testing::markdown::table_problems(&report());
        assert!(problems.is_empty(), "{problems:#?}");
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
        assert!(md.contains("| forward · seq_len=8 | candle | 1 | 2.1e-1 | 9.0e-1 | 17 | atol 1.0e-4, rtol 1.0e-3 | **FAIL** |"), "{md}");
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
}
