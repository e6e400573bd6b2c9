//! The report's summary section: per case group the fastest valid subject, and the focus
//! subject's speed-up over every other subject as a ratio of medians with a bootstrap CI;
//! then, per sweep, who is fastest where and where that changes.

use serde::Serialize;

use crate::results::{CaseResult, RunResults, Status, threads_text};

use super::format::{self, duration};
use super::groups::{self, SpeedUp, SpeedUps};

/// Cell text for a missing number.
const NONE: &str = "—";

#[derive(Serialize)]
pub(super) struct Summary {
    /// The subject the speed-ups are of (`engine-cpu`); `None` without a suite subject.
    pub focus: Option<String>,
    /// One speed-up column per other subject, in the suite's order.
    pub baselines: Vec<String>,
    pub rows: Vec<SummaryRow>,
    pub scaling: Vec<ScalingNote>,
}

#[derive(Serialize)]
pub(super) struct SummaryRow {
    pub case: String,
    pub threads: String,
    /// `engine-cpu (6.10 ms)`, or why no subject is ranked.
    pub fastest: String,
    /// The focus subject's median, or its status when it has none.
    pub focus_median: String,
    /// Per baseline column: `1.84× (1.80–1.90)`, `, n.s.` when the CI includes 1, or the
    /// reason there is no ratio (`invalid`, `failed`, ...).
    pub speed_ups: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct ScalingNote {
    pub label: String,
    pub fastest: String,
    pub crossovers: Vec<String>,
}

pub(super) fn summary(r: &RunResults, speed_ups: &SpeedUps<'_>) -> Summary {
    let varying = groups::varying_params(r);
    let focus = speed_ups.focus;
    // Groups with something measured (or failed): a skipped-only group has nothing to say.
    let (groups, speed_ups): (Vec<_>, Vec<_>) = speed_ups
        .groups
        .iter()
        .zip(&speed_ups.per_group)
        .filter(|(g, _)| g.cases.iter().any(|c| c.status != Status::Skipped))
        .unzip();
    let baselines: Vec<String> = r
        .subjects
        .iter()
        .map(|s| s.name.clone())
        .filter(|name| Some(name.as_str()) != focus)
        .filter(|name| {
            groups
                .iter()
                .any(|g| g.cases.iter().any(|c| &c.subject == name))
        })
        .collect();
    let rows = groups
        .iter()
        .zip(speed_ups)
        .map(|(g, ups)| {
            let case_of = |subject: &str| g.cases.iter().copied().find(|c| c.subject == subject);
            let focus_case = focus.and_then(case_of);
            SummaryRow {
                case: g.case_label(&varying),
                threads: threads_text(g.threads),
                fastest: groups::fastest(g).map_or("no valid result".into(), |c| {
                    format!("{} ({})", c.subject, median_text(c))
                }),
                focus_median: focus_case.map_or(NONE.into(), |c| match c.status {
                    Status::Ok => median_text(c),
                    other => other.as_str().into(),
                }),
                speed_ups: baselines
                    .iter()
                    .map(|b| speed_up_cell(ups, case_of(b), focus_case))
                    .collect(),
            }
        })
        .collect();
    Summary {
        focus: focus.map(str::to_string),
        baselines,
        rows,
        scaling: scaling(r, &varying),
    }
}

fn median_text(c: &CaseResult) -> String {
    c.summary
        .as_ref()
        .map_or(NONE.into(), |s| duration(s.median_s))
}

/// The focus subject's speed-up over `baseline` in one group, or why there is none.
fn speed_up_cell(
    ups: &[SpeedUp<'_>],
    baseline: Option<&CaseResult>,
    focus: Option<&CaseResult>,
) -> String {
    let Some(baseline) = baseline else {
        return NONE.into();
    };
    if let Some(up) = ups.iter().find(|u| std::ptr::eq(u.baseline, baseline)) {
        let e = &up.estimate;
        let text = format::ratio_ci(e.point, e.ci.lo, e.ci.hi);
        return if up.significant() {
            text
        } else {
            format!("{text}, n.s.")
        };
    }
    match focus {
        Some(f) if !f.is_measured() => NONE.into(),
        _ if baseline.status == Status::Ok => "no samples".into(),
        _ => baseline.status.as_str().into(),
    }
}

fn scaling(r: &RunResults, varying: &groups::Varying<'_>) -> Vec<ScalingNote> {
    groups::sweeps(r)
        .iter()
        .map(|s| {
            // "engine-cpu at 8, 32 (≈ torch); torch at 128": runs of the same winner, each
            // value naming the subjects whose median CI overlaps the winner's.
            let mut runs: Vec<(&str, Vec<String>)> = Vec::new();
            for (x, subject) in s.fastest_at() {
                let tied = s.tied_at(x, subject);
                let mut text = format::param_value(x);
                if !tied.is_empty() {
                    text.push_str(&format!(" (≈ {})", tied.join(", ")));
                }
                match runs.last_mut() {
                    Some((last, xs)) if *last == subject => xs.push(text),
                    _ => runs.push((subject, vec![text])),
                }
            }
            let fastest = runs
                .iter()
                .map(|(s, xs)| format!("{s} at {}", xs.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
            let crossovers = s
                .crossovers
                .iter()
                .map(|c| {
                    format!(
                        "{} → {} between {p}={} and {p}={}",
                        c.from,
                        c.to,
                        format::param_value(c.from_x),
                        format::param_value(c.to_x),
                        p = s.param
                    )
                })
                .collect();
            ScalingNote {
                label: s.label(varying),
                fastest,
                crossovers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::markdown;
    use super::*;
    use crate::testing::demo;

    #[test]
    fn speed_ups_of_the_focus_subject_with_cis() {
        let results = demo::run();
        let md = markdown::render(&results).unwrap();
        let row = |prefix: &str| {
            md.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no row {prefix}:\n{md}"))
        };
        // The cell the stats crate's ratio gives for engine-cpu (case a) against case b.
        let cell = |a: usize, b: usize| {
            let e = stats::ratio_of_medians(
                &results.cases[a].samples_s,
                &results.cases[b].samples_s,
                &stats::Options::default(),
            );
            (format::ratio_ci(e.point, e.ci.lo, e.ci.hi), e)
        };
        row(
            "| Case | Threads | Fastest (median) | engine-cpu median | vs torch | vs candle | vs onnxruntime |",
        );
        // seq_len 8: engine-cpu (6.1 ms) beats torch (11.2 ms); candle is invalid, so no ratio.
        let line = row("| forward · seq_len=8 | 1 |");
        let engine = median_text(&results.cases[0]);
        assert!(
            line.contains(&format!("| engine-cpu ({engine}) | {engine} |")),
            "{line}"
        );
        let (text, est) = cell(0, 1);
        assert!(est.ci.lo > 1.0, "{est:?}");
        assert!(line.contains(&format!("| {text} | invalid |")), "{line}");
        // seq_len 128: torch (118 ms) is faster than engine-cpu (131 ms): below 1.
        let line = row("| forward · seq_len=128 | 1 |");
        let (text, est) = cell(4, 5);
        assert!(est.ci.hi < 1.0, "{est:?}");
        assert!(line.contains("| torch (1"), "{line}");
        assert!(line.contains(&format!("| {text} |")), "{line}");
        // The pipeline: torch failed, onnxruntime was skipped (its column shows it).
        let line = row("| pipeline | 1 |");
        assert!(line.contains("| engine-cpu (4."), "{line}");
        assert!(line.ends_with("| failed | — | skipped |"), "{line}");
    }

    #[test]
    fn a_ci_that_includes_one_is_not_significant() {
        let mut results = demo::run();
        // Same samples for torch as for engine-cpu at seq_len 8: a ratio of 1, n.s.
        results.cases[1].samples_s = results.cases[0].samples_s.clone();
        results.cases[1].summary = results.cases[0].summary.clone();
        let s = summary(&results, &SpeedUps::of(&results));
        let row = &s.rows[0];
        assert!(row.speed_ups[0].ends_with(", n.s."), "{:?}", row.speed_ups);
    }

    #[test]
    fn scaling_notes_name_subjects_the_samples_cannot_tell_apart() {
        let mut results = demo::run();
        // torch at seq_len 32 measured exactly like engine-cpu: a tie.
        results.cases[3].samples_s = results.cases[2].samples_s.clone();
        results.cases[3].summary = results.cases[2].summary.clone();
        let md = markdown::render(&results).unwrap();
        assert!(
            md.contains("fastest: engine-cpu at 8, 32 (≈ torch); torch at 128"),
            "{md}"
        );
    }

    #[test]
    fn scaling_notes_name_the_crossover() {
        let md = markdown::render(&demo::run()).unwrap();
        assert!(
            md.contains("fastest: engine-cpu at 8, 32; torch at 128"),
            "{md}"
        );
        assert!(
            md.contains("engine-cpu → torch between seq_len=32 and seq_len=128"),
            "{md}"
        );
    }
}
