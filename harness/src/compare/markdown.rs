//! `compare.md` and the `check` summary, rendered from a [`RunComparison`].

use std::fmt::Write;

use stats::Verdict;

use super::{Counts, Mode, RunComparison, SuiteMatch};
use crate::report::format;

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

/// The `check` summary: the outcome first, regressions and doubts listed, unchanged cases
/// folded away.
pub fn check_md(c: &RunComparison) -> String {
    let mut md = String::new();
    let n = c.counts();
    let outcome = if let Some(problem) = suite_problem(c) {
        format!("**ERROR**: {problem}")
    } else if c.regressed() {
        format!(
            "**FAIL**: {} regressed.",
            regressed_text(&n, c.mode.is_ratios())
        )
    } else {
        "**PASS**: nothing regressed.".to_string()
    };
    let _ = writeln!(md, "## graphbench check: {}\n\n{outcome}\n", suite_name(c));
    header(&mut md, c);
    if suite_problem(c).is_some() {
        return md;
    }
    let _ = writeln!(md, "{}\n", counts_line(&n));
    if let Some(line) = thresholds_line(c) {
        let _ = writeln!(md, "{line}\n");
    }
    if c.mode.is_ratios() {
        pairs_table(&mut md, c, true);
    } else {
        cases_table(&mut md, c, true);
    }
    why(&mut md, c, true);
    if n.broken > 0 {
        let _ = writeln!(md, "**Cases that no longer run:**\n");
        for nc in c.not_compared.iter().filter(|n| n.broken) {
            let _ = writeln!(md, "- `{}`: {}", nc.id, nc.reason);
        }
        md.push('\n');
    }
    let blocking: Vec<_> = c.env.iter().filter(|d| d.blocks_absolute).collect();
    if !blocking.is_empty() {
        let _ = writeln!(md, "<details><summary>Environment differences</summary>\n");
        env_rows(&mut md, c);
        let _ = writeln!(md, "</details>\n");
    }
    md
}

fn suite_name(c: &RunComparison) -> String {
    if c.a.suite == c.b.suite {
        c.a.suite.clone()
    } else {
        format!("{} vs {}", c.a.suite, c.b.suite)
    }
}

/// A plain-text summary for the terminal: the mode, the counts, and every comparison that
/// is not `unchanged`.
pub fn terminal_summary(c: &RunComparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "compare {}: B {} against A {}",
        suite_name(c),
        c.b.run_id,
        c.a.run_id
    );
    if let Some(problem) = suite_problem(c) {
        let _ = writeln!(out, "  {problem}");
        return out;
    }
    let mode = match c.mode {
        Mode::Absolute => "same machine: absolute times".to_string(),
        Mode::RatiosAsked => "machine-independent ratios (--ratios)".to_string(),
        Mode::RatiosMachinesDiffer => {
            let what: Vec<&str> = c
                .env
                .iter()
                .filter(|d| d.blocks_absolute)
                .map(|d| d.what.as_str())
                .collect();
            format!(
                "DIFFERENT MACHINES ({}): machine-independent ratios only",
                what.join(", ")
            )
        }
    };
    let _ = writeln!(out, "  {mode}");
    let _ = writeln!(out, "  {}", counts_line(&c.counts()));
    let rows = c
        .cases
        .iter()
        .map(|x| {
            (
                x.comparison.verdict,
                x.id.clone(),
                &x.comparison,
                x.threshold,
            )
        })
        .chain(c.pairs.iter().map(|x| {
            (
                x.comparison.verdict,
                format!("{} · {} / {}", x.group, x.numerator, x.denominator),
                &x.comparison,
                x.threshold,
            )
        }));
    for (v, what, cmp, t) in rows.filter(|r| r.0 != Verdict::Unchanged) {
        let r = &cmp.ratio;
        let _ = writeln!(
            out,
            "  {:<12} {what}  {}  threshold {}",
            v.as_str(),
            format::ratio_ci(r.point, r.ci.lo, r.ci.hi),
            t.describe()
        );
    }
    for n in c.not_compared.iter().filter(|n| n.broken) {
        let _ = writeln!(out, "  {:<12} {}  {}", "broken", n.id, n.reason);
    }
    out
}

/// The A/A result of `harness calibrate`, as markdown.
pub fn calibration_summary(cal: &super::noise::SuiteCalibration, min_threshold: f64) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## A/A calibration ({} vs {})\n\n\
         | case or subject pair | A/A ratio [CI] | spread of all rounds | noise stored | verdict without calibration (≥{}) |\n\
         |---|---|---|---|---|",
        cal.runs.first().map_or("", |s| s.as_str()),
        cal.runs.get(1).map_or("", |s| s.as_str()),
        format::percent(min_threshold)
    );
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for (key, e) in cal.cases.iter().chain(cal.pairs.iter()) {
        *counts.entry(e.verdict.as_str()).or_default() += 1;
        let _ = writeln!(
            md,
            "| `{key}` | {} | {} | ±{} | {} |",
            format::ratio_ci(e.ratio, e.ci_lo, e.ci_hi),
            e.round_spread.map_or("n/a".to_string(), format::percent),
            format::percent(e.noise),
            e.verdict
        );
    }
    let alarms = counts.get("faster").unwrap_or(&0) + counts.get("slower").unwrap_or(&0);
    let total: usize = counts.values().sum();
    let tally: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(
        md,
        "\n{} · false alarms without calibration (faster or slower in this A/A pair): {alarms} of {total}\n",
        tally.join(" · ")
    );
    md
}

/// Why nothing could be compared, if so.
pub fn suite_problem(c: &RunComparison) -> Option<String> {
    match &c.suite {
        SuiteMatch::Same => None,
        SuiteMatch::DefinitionChanged { a, b } => Some(format!(
            "The suite definition changed between the runs (file hash {a} in A, {b} in B): cases \
             are never matched across a changed suite. Refresh the baseline (`harness baseline {}`) \
             or compare runs of the same suite file.",
            c.b.suite
        )),
        SuiteMatch::Different { a, b } => Some(format!(
            "A is a run of suite `{a}` and B of suite `{b}`: there is nothing to match."
        )),
    }
}

fn regressed_text(n: &Counts, ratios: bool) -> String {
    let mut parts = Vec::new();
    if n.slower > 0 {
        let what = if ratios { "subject ratio" } else { "case" };
        parts.push(format!(
            "{} {what}{} slower",
            n.slower,
            if n.slower == 1 { "" } else { "s" }
        ));
    }
    if n.broken > 0 {
        parts.push(format!(
            "{} case{} no longer measured (failed or invalid)",
            n.broken,
            if n.broken == 1 { "" } else { "s" }
        ));
    }
    parts.join(", ")
}

/// The spread of thresholds used: what size of change this comparison could see at all.
fn thresholds_line(c: &RunComparison) -> Option<String> {
    let mut t: Vec<(f64, &str)> = c
        .cases
        .iter()
        .map(|x| (x.threshold.value, x.id.as_str()))
        .chain(c.pairs.iter().map(|x| (x.threshold.value, x.key.as_str())))
        .collect();
    if t.is_empty() {
        return None;
    }
    t.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = t[t.len() / 2].0;
    let (max, at) = t[t.len() - 1];
    Some(format!(
        "Noise thresholds: median ±{}, largest ±{} (`{at}`): changes smaller than its threshold \
         are never called faster or slower.",
        format::percent(median),
        format::percent(max)
    ))
}

fn counts_line(n: &Counts) -> String {
    format!(
        "slower {} · faster {} · unchanged {} · inconclusive {} · broken {} · not compared {}",
        n.slower, n.faster, n.unchanged, n.inconclusive, n.broken, n.not_compared
    )
}

fn header(md: &mut String, c: &RunComparison) {
    let _ = writeln!(
        md,
        "| | results | run | started | commit | machine | profile |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for (side, r) in [("A (baseline)", &c.a), ("B (candidate)", &c.b)] {
        let _ = writeln!(
            md,
            "| {side} | `{}` | {} | {} | {} | {} ({}) | {} |",
            r.path, r.run_id, r.started_at, r.commit, r.machine, r.cpu, r.profile
        );
    }
    md.push('\n');
    match c.mode {
        Mode::Absolute => {
            let _ = writeln!(
                md,
                "Same machine (comparability key matches): absolute times are compared, B over A.\n"
            );
        }
        Mode::RatiosMachinesDiffer => {
            let what: Vec<String> = c
                .env
                .iter()
                .filter(|d| d.blocks_absolute)
                .map(|d| d.what.clone())
                .collect();
            let _ = writeln!(
                md,
                "> **Different machines** ({} differ{}): absolute times are **not** compared. \
                 Compared instead: each subject's time relative to every other subject's in the \
                 same run (machine-independent ratios); achieved GFLOP/s are shown for reference.\n",
                what.join(", "),
                if what.len() == 1 { "s" } else { "" }
            );
        }
        Mode::RatiosAsked => {
            let _ = writeln!(
                md,
                "Machine-independent mode (`--ratios`): each subject's time relative to every \
                 other subject's in the same run is compared, not absolute times.\n"
            );
        }
    }
    if let Some(note) = &c.calibration_note {
        let _ = writeln!(md, "{note}\n");
    }
}

fn env_table(md: &mut String, c: &RunComparison) {
    if c.env.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Environment differences\n");
    env_rows(md, c);
}

fn env_rows(md: &mut String, c: &RunComparison) {
    let _ = writeln!(md, "| what | A | B | blocks absolute comparison |");
    let _ = writeln!(md, "|---|---|---|---|");
    for d in &c.env {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            d.what,
            cell(&d.a),
            cell(&d.b),
            if d.blocks_absolute { "**yes**" } else { "no" }
        );
    }
    md.push('\n');
}

fn cases_table(md: &mut String, c: &RunComparison, folded: bool) {
    if c.cases.is_empty() {
        let _ = writeln!(md, "No case was measured in both runs.\n");
        return;
    }
    let head = format!(
        "| case | A median | B median | B/A [{}% CI] | p | threshold | verdict |\n|---|---|---|---|---|---|---|\n",
        pct(c.confidence)
    );
    let row = |x: &super::CaseComparison| {
        let r = &x.comparison.ratio;
        format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            x.id,
            format::duration(x.median_a),
            format::duration(x.median_b),
            format::ratio_ci(r.point, r.ci.lo, r.ci.hi),
            p_text(x.comparison.p_value),
            x.threshold.describe(),
            verdict_cell(x.comparison.verdict)
        )
    };
    table(
        md,
        folded,
        &head,
        c.cases
            .iter()
            .map(|x| (x.comparison.verdict, row(x)))
            .collect(),
    );
}

fn pairs_table(md: &mut String, c: &RunComparison, folded: bool) {
    if c.pairs.is_empty() {
        let _ = writeln!(
            md,
            "No machine-independent ratio: no case group has two subjects measured in both runs.\n"
        );
        return;
    }
    let head = format!(
        "| group | ratio | in A | in B | change B/A [{}% CI] | p | threshold | verdict |\n|---|---|---|---|---|---|---|---|\n",
        pct(c.confidence)
    );
    let row = |x: &super::PairComparison| {
        let r = &x.comparison.ratio;
        format!(
            "| {} | {} / {} | {} | {} | {} | {} | {} | {} |\n",
            x.group,
            x.numerator,
            x.denominator,
            format::ratio_ci(x.within_a.point, x.within_a.ci.lo, x.within_a.ci.hi),
            format::ratio_ci(x.within_b.point, x.within_b.ci.lo, x.within_b.ci.hi),
            format::ratio_ci(r.point, r.ci.lo, r.ci.hi),
            p_text(x.comparison.p_value),
            x.threshold.describe(),
            verdict_cell(x.comparison.verdict)
        )
    };
    table(
        md,
        folded,
        &head,
        c.pairs
            .iter()
            .map(|x| (x.comparison.verdict, row(x)))
            .collect(),
    );
}

/// Writes the rows; folded (for `check`), changes and doubts first and unchanged rows in a
/// collapsed block.
fn table(md: &mut String, folded: bool, head: &str, rows: Vec<(Verdict, String)>) {
    if !folded {
        md.push_str(head);
        for (_, r) in &rows {
            md.push_str(r);
        }
        md.push('\n');
        return;
    }
    let rank = |v: Verdict| match v {
        Verdict::Slower => 0,
        Verdict::Inconclusive => 1,
        Verdict::Faster => 2,
        Verdict::Unchanged => 3,
    };
    let (quiet, loud): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|(v, _)| *v == Verdict::Unchanged);
    let mut loud = loud;
    loud.sort_by_key(|(v, _)| rank(*v));
    if !loud.is_empty() {
        md.push_str(head);
        for (_, r) in &loud {
            md.push_str(r);
        }
        md.push('\n');
    }
    if !quiet.is_empty() {
        let _ = writeln!(
            md,
            "<details><summary>{} unchanged</summary>\n",
            quiet.len()
        );
        md.push_str(head);
        for (_, r) in &quiet {
            md.push_str(r);
        }
        let _ = writeln!(md, "\n</details>\n");
    }
}

/// The rule that decided each verdict (only the non-unchanged ones when `folded`).
fn why(md: &mut String, c: &RunComparison, folded: bool) {
    let items: Vec<(String, Verdict, &str, String)> = c
        .cases
        .iter()
        .map(|x| {
            (
                format!("`{}`", x.id),
                x.comparison.verdict,
                x.comparison.rule.as_str(),
                x.threshold.describe(),
            )
        })
        .chain(c.pairs.iter().map(|x| {
            (
                format!("{} · {} / {}", x.group, x.numerator, x.denominator),
                x.comparison.verdict,
                x.comparison.rule.as_str(),
                x.threshold.describe(),
            )
        }))
        .filter(|(_, v, _, _)| !folded || *v != Verdict::Unchanged)
        .collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "{}\n",
        if folded {
            "**Why:**"
        } else {
            "## Why each verdict"
        }
    );
    for (what, v, rule, threshold) in items {
        let _ = writeln!(md, "- {what}: **{v}** — {rule}; threshold {threshold}.");
    }
    md.push('\n');
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

fn verdict_cell(v: Verdict) -> String {
    match v {
        Verdict::Slower | Verdict::Faster => format!("**{v}**"),
        _ => v.to_string(),
    }
}

/// A p-value: 3 significant digits, or `<1e-6`.
pub fn p_text(p: f64) -> String {
    if !p.is_finite() {
        "n/a".into()
    } else if p < 1e-6 {
        "<1e-6".into()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format::sig3(p)
    }
}

/// A confidence level as a percentage without trailing zeros: 0.95 → `95`, 0.998 → `99.8`.
fn pct(confidence: f64) -> String {
    let s = format::sig3(confidence * 100.0);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn cell(s: &str) -> String {
    if s.is_empty() {
        "—".into()
    } else {
        s.replace('|', "\\|")
    }
}
