//! Tables and lists that `compare.md` and the check summary share, and their cell formats.

use std::fmt::Write;

use stats::Verdict;

use crate::compare::noise::Threshold;
use crate::compare::{Mode, RunComparison};
use crate::report::format;

pub(super) fn header(md: &mut String, c: &RunComparison) {
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

pub(super) fn env_rows(md: &mut String, c: &RunComparison) {
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

pub(super) fn cases_table(md: &mut String, c: &RunComparison, folded: bool) {
    if c.cases.is_empty() {
        let _ = writeln!(md, "No case was measured in both runs.\n");
        return;
    }
    let head = format!(
        "| case | A median | B median | B/A [{}% CI] | p | threshold | verdict |\n|---|---|---|---|---|---|---|\n",
        pct(c.confidence)
    );
    let rows = c.cases.iter().map(|x| {
        let cells = format!(
            "`{}` | {} | {}",
            x.id,
            level(x.median_a, x.unit),
            level(x.median_b, x.unit),
        );
        row(&cells, &x.comparison, &x.threshold)
    });
    table(md, folded, &head, rows.collect());
}

/// A case's level as the table shows it.
fn level(x: f64, unit: crate::compare::Unit) -> String {
    match unit {
        crate::compare::Unit::Seconds => format::duration(x),
        crate::compare::Unit::Qps => format!("{} QPS", format::sig3(x)),
    }
}

pub(super) fn pairs_table(md: &mut String, c: &RunComparison, folded: bool) {
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
    let rows = c.pairs.iter().map(|x| {
        let cells = format!(
            "{} | {} / {} | {} | {}",
            x.group,
            x.numerator,
            x.denominator,
            format::ratio_ci(x.within_a.point, x.within_a.ci.lo, x.within_a.ci.hi),
            format::ratio_ci(x.within_b.point, x.within_b.ci.lo, x.within_b.ci.hi),
        );
        row(&cells, &x.comparison, &x.threshold)
    });
    table(md, folded, &head, rows.collect());
}

/// A table row: the row's own `cells`, then what every comparison row ends with (the
/// change with its CI, p, threshold, verdict), keyed by the verdict for folding.
fn row(cells: &str, c: &stats::Comparison, threshold: &Threshold) -> (Verdict, String) {
    let r = &c.ratio;
    let line = format!(
        "| {cells} | {} | {} | {} | {} |\n",
        format::ratio_ci(r.point, r.ci.lo, r.ci.hi),
        p_text(c.p_value),
        threshold.describe(),
        verdict_cell(c.verdict)
    );
    (c.verdict, line)
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
pub(super) fn why(md: &mut String, c: &RunComparison, folded: bool) {
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
pub(super) fn pct(confidence: f64) -> String {
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
