//! `compare.md`, the `check` summary, the terminal summary and the calibration summary,
//! rendered from a [`RunComparison`]: one file per output, shared tables in [`tables`], the
//! sentences every output states here.

mod calibration;
mod check;
mod compare;
mod tables;
mod terminal;

use crate::report::format;

use super::{Counts, RunComparison, SuiteMatch};

pub use calibration::calibration_summary;
pub use check::check_md;
pub use compare::compare_md;
pub use tables::p_text;
pub use terminal::terminal_summary;

fn suite_name(c: &RunComparison) -> String {
    if c.a.suite == c.b.suite {
        c.a.suite.clone()
    } else {
        format!("{} vs {}", c.a.suite, c.b.suite)
    }
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
