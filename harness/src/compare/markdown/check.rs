//! The `check` summary: the outcome first, then what regressed or is in doubt.

use std::fmt::Write;

use crate::compare::{Counts, RunComparison};

use super::tables::{cases_table, env_rows, header, pairs_table, why};
use super::{counts_line, suite_name, suite_problem, thresholds_line};

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
