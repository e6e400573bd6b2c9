//! `compare.md`: the whole comparison report.

use std::fmt::Write;

use crate::compare::RunComparison;
use crate::report::format;

use super::tables::{cases_table, env_rows, header, pairs_table, pct, why};
use super::{counts_line, suite_name, suite_problem, thresholds_line};

/// The whole comparison report. `plot` is the chart's path relative to the report, if drawn.
pub fn compare_md(c: &RunComparison, plot: Option<&str>) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Comparison: {}\n", suite_name(c));
    header(&mut md, c);
    if let Some(problem) = suite_problem(c) {
        let _ = writeln!(md, "{problem}\n");
        env_table(&mut md, c);
        return md;
    }
    let _ = writeln!(md, "## Verdicts\n\n{}\n", counts_line(&c.counts()));
    if let Some(line) = thresholds_line(c) {
        let _ = writeln!(md, "{line}\n");
    }
    env_table(&mut md, c);
    if c.mode.is_ratios() {
        pairs_table(&mut md, c, false);
    } else {
        cases_table(&mut md, c, false);
    }
    if let Some(p) = plot {
        let what = if c.mode.is_ratios() {
            "within-run ratio changes"
        } else {
            "B/A ratios"
        };
        let _ = writeln!(
            md,
            "![{what} with {}% CIs and noise bands]({p})\n",
            pct(c.confidence)
        );
    }
    why(&mut md, c, false);
    gflops_table(&mut md, c);
    not_compared(&mut md, c);
    how_to_read(&mut md, c);
    md
}

fn env_table(md: &mut String, c: &RunComparison) {
    if c.env.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Environment differences\n");
    env_rows(md, c);
}

fn gflops_table(md: &mut String, c: &RunComparison) {
    if c.gflops.iter().all(|g| g.a.is_none() && g.b.is_none()) {
        return;
    }
    let _ = writeln!(
        md,
        "## Achieved GFLOP/s\n\nFor reference: each machine's own rate, not a verdict.\n\n| case | A | B |\n|---|---|---|"
    );
    for g in &c.gflops {
        let f = |x: Option<f64>| x.map_or("n/a".to_string(), format::sig3);
        let _ = writeln!(md, "| `{}` | {} | {} |", g.id, f(g.a), f(g.b));
    }
    md.push('\n');
}

fn not_compared(md: &mut String, c: &RunComparison) {
    if c.not_compared.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Not compared\n");
    for n in &c.not_compared {
        let mark = if n.broken {
            " **(regression: no longer measured)**"
        } else {
            ""
        };
        let _ = writeln!(md, "- `{}`: {}{mark}", n.id, n.reason);
    }
    md.push('\n');
}

fn how_to_read(md: &mut String, c: &RunComparison) {
    let alpha = 1.0 - c.confidence;
    let _ = writeln!(
        md,
        "## How to read this\n\n\
         - **ratio B/A**: median of B over median of A, with a bootstrap {conf}% CI; above 1 B is \
           slower. In ratio mode, the change of a within-run ratio (numerator time in units of \
           the denominator's median).\n\
         - **slower / faster**: Mann–Whitney U p < {alpha} AND the CI lies wholly outside \
           1 ± threshold.\n\
         - **unchanged**: the CI lies wholly inside 1 ± threshold.\n\
         - **inconclusive**: too few samples to ever reach p < {alpha} (the rule says how many \
           are needed), or the CI straddles or reaches beyond the band (the rule states the \
           smallest change that could have been detected).\n\
         - **threshold**: the largest of the user minimum ({min}), the noise of each run's \
           rounds (the spread of its per-round medians, widened for few rounds: ×2.66 with 2, \
           ×1.45 with 3) and an A/A calibration of the suite on B's machine; the table names \
           which one decided.\n",
        conf = pct(c.confidence),
        alpha = markdown_alpha(alpha),
        min = format::percent(c.min_threshold),
    );
}

/// α as written in prose: `0.05`, `0.002`.
fn markdown_alpha(alpha: f64) -> String {
    let s = format!("{alpha:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
