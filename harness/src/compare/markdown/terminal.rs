//! The plain-text comparison summary `harness compare` prints.

use std::fmt::Write;

use stats::Verdict;

use crate::compare::{Mode, RunComparison};
use crate::report::format;

use super::{counts_line, suite_name, suite_problem};

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
