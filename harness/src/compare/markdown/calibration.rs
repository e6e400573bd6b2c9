//! The A/A summary `harness calibrate` prints.

use std::fmt::Write;

use crate::report::format;

/// The A/A result of `harness calibrate`, as markdown.
pub fn calibration_summary(
    cal: &crate::compare::noise::SuiteCalibration,
    min_threshold: f64,
) -> String {
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
