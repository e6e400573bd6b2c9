//! `harness history SUITE`: every stored run of a suite as a time series per case, with step
//! changes flagged by the one verdict function between consecutive runs.
//!
//! Consecutive points are compared only when both runs used the same suite definition and
//! the same comparability key (machine, subject versions, thread resolution); otherwise the
//! point says why it was not compared. The threshold is max(user minimum, either run's round
//! spread), as in `compare`.

use std::fmt::Write;
use std::path::PathBuf;

use stats::{Comparison, Verdict};

use super::keys::{case_key, group_key, group_label};
use super::machine::{comparability_key, key_differences};
use super::noise::Threshold;
use crate::report::format;
use crate::results::RunResults;

/// One run in a history.
#[derive(Clone, Debug)]
pub struct HistoryRun {
    pub path: PathBuf,
    pub run_id: String,
    pub started_at: String,
    pub commit: String,
    pub machine: String,
    pub suite_hash: String,
    pub profile: String,
}

impl HistoryRun {
    /// `2025-01-02 14:03` plus the short commit, for axis labels.
    pub fn short_label(&self) -> String {
        let when = self
            .started_at
            .get(..16)
            .unwrap_or(&self.started_at)
            .replace('T', " ");
        let when = when.get(5..).unwrap_or(&when).to_string();
        if self.commit == "unknown" {
            when
        } else {
            format!("{when} {}", self.commit.get(..7).unwrap_or(&self.commit))
        }
    }
}

/// How a point relates to the previous point of its series.
#[derive(Clone, Debug)]
pub enum Step {
    /// Compared with the previous point.
    Compared {
        comparison: Comparison,
        threshold: Threshold,
    },
    /// Not compared, and why (suite changed, machine changed).
    NotComparable(String),
}

/// One measured point of a series.
#[derive(Clone, Debug)]
pub struct Point {
    /// Index into [`History::runs`].
    pub run: usize,
    pub median_s: f64,
    pub ci_lo_s: f64,
    pub ci_hi_s: f64,
    /// `None` for the first point of a series.
    pub step: Option<Step>,
}

/// One case over the runs.
#[derive(Clone, Debug)]
pub struct Series {
    pub key: String,
    /// The case id in its latest run.
    pub id: String,
    pub group_key: String,
    pub group_label: String,
    pub subject: String,
    pub points: Vec<Point>,
}

/// A suite's history.
#[derive(Clone, Debug)]
pub struct History {
    pub suite: String,
    pub runs: Vec<HistoryRun>,
    pub series: Vec<Series>,
    /// Run folders that could not be read, with the error.
    pub skipped: Vec<(PathBuf, String)>,
}

impl History {
    /// Builds the history of `runs` (any order; sorted here by start time).
    pub fn build(
        suite: &str,
        mut runs: Vec<(PathBuf, RunResults)>,
        skipped: Vec<(PathBuf, String)>,
        min_threshold: f64,
        opts: &stats::Options,
    ) -> History {
        runs.sort_by(|a, b| (&a.1.started_at, &a.1.run_id).cmp(&(&b.1.started_at, &b.1.run_id)));
        let keys: Vec<_> = runs.iter().map(|(_, r)| comparability_key(r)).collect();
        let mut series: Vec<Series> = Vec::new();
        for (i, (_, run)) in runs.iter().enumerate() {
            for case in run.cases.iter().filter(|c| c.is_measured()) {
                let key = case_key(case);
                let s = match series.iter_mut().position(|s| s.key == key) {
                    Some(at) => &mut series[at],
                    None => {
                        series.push(Series {
                            key: key.clone(),
                            id: case.id.clone(),
                            group_key: group_key(case),
                            group_label: group_label(case),
                            subject: case.subject.clone(),
                            points: Vec::new(),
                        });
                        series.last_mut().expect("just pushed")
                    }
                };
                s.id = case.id.clone();
                let step = s.points.last().map(|prev| {
                    let (prev_run, prev_case) = {
                        let r = &runs[prev.run].1;
                        (
                            r,
                            r.cases
                                .iter()
                                .find(|c| case_key(c) == key)
                                .expect("a point has its case"),
                        )
                    };
                    if prev_run.suite.file_hash != run.suite.file_hash {
                        return Step::NotComparable(format!(
                            "suite definition changed ({} → {})",
                            prev_run.suite.file_hash, run.suite.file_hash
                        ));
                    }
                    if let Some(d) = key_differences(&keys[prev.run], &keys[i]).first() {
                        return Step::NotComparable(format!(
                            "{} changed ({} → {})",
                            d.what, d.a, d.b
                        ));
                    }
                    let spread = super::noise::case_noise;
                    let threshold =
                        Threshold::decide(min_threshold, None, spread(prev_case), spread(case));
                    let comparison =
                        stats::verdict(&prev_case.judged(), &case.judged(), threshold.value, opts);
                    Step::Compared {
                        comparison,
                        threshold,
                    }
                });
                let summary = case
                    .summary
                    .as_ref()
                    .expect("measured cases have a summary");
                s.points.push(Point {
                    run: i,
                    median_s: summary.median_s,
                    ci_lo_s: summary.ci_low_s,
                    ci_hi_s: summary.ci_high_s,
                    step,
                });
            }
        }
        let runs = runs
            .into_iter()
            .map(|(path, r)| HistoryRun {
                path,
                commit: super::RunLabel::new("", &r).commit,
                run_id: r.run_id,
                started_at: r.started_at,
                machine: r.system.hostname.unwrap_or_else(|| "unknown".into()),
                suite_hash: r.suite.file_hash,
                profile: r.suite.profile,
            })
            .collect();
        History {
            suite: suite.to_string(),
            runs,
            series,
            skipped,
        }
    }

    /// Case groups in order of appearance, each with its chart's file stem.
    pub fn groups(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for s in &self.series {
            if !out.iter().any(|(g, _)| *g == s.group_key) {
                out.push((
                    s.group_key.clone(),
                    format!("history_{}", crate::report::file_stem(&s.group_key)),
                ));
            }
        }
        out
    }

    /// Every step flagged faster or slower: (series, point).
    pub fn steps(&self) -> Vec<(&Series, &Point)> {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(move |p| (s, p)))
            .filter(|(_, p)| {
                matches!(&p.step, Some(Step::Compared { comparison, .. })
                    if matches!(comparison.verdict, Verdict::Slower | Verdict::Faster))
            })
            .collect()
    }

    /// `history.md`; `plots` maps a group key to its chart's path relative to the file.
    pub fn markdown(&self, plots: &[(String, String)]) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# History: {}\n", self.suite);
        let (first, last) = match (self.runs.first(), self.runs.last()) {
            (Some(f), Some(l)) => (f.started_at.as_str(), l.started_at.as_str()),
            _ => {
                let _ = writeln!(md, "No readable run of this suite.\n");
                self.skipped_md(&mut md);
                return md;
            }
        };
        let _ = writeln!(
            md,
            "{} runs, {first} to {last}. Consecutive runs of the same suite definition on the same \
             machine are compared with the same rule as `harness compare`; ▲ marks a step to \
             slower, ▼ a step to faster.\n",
            self.runs.len()
        );
        let _ = writeln!(md, "## Step changes\n");
        let steps = self.steps();
        if steps.is_empty() {
            let _ = writeln!(md, "None.\n");
        }
        for (s, p) in &steps {
            if let Some(Step::Compared {
                comparison: c,
                threshold,
            }) = &p.step
            {
                let run = &self.runs[p.run];
                let _ = writeln!(
                    md,
                    "- `{}` at run {} ({}, {}): **{}** {} — {}; threshold {}.",
                    s.id,
                    p.run + 1,
                    run.started_at,
                    run.commit,
                    c.verdict,
                    format::ratio_ci(c.ratio.point, c.ratio.ci.lo, c.ratio.ci.hi),
                    c.rule,
                    threshold.describe()
                );
            }
        }
        if !steps.is_empty() {
            md.push('\n');
        }
        let _ = writeln!(
            md,
            "## Runs\n\n| # | run | started | commit | machine | profile | suite hash |\n|---|---|---|---|---|---|---|"
        );
        for (i, r) in self.runs.iter().enumerate() {
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} | {} | {} | {} |",
                i + 1,
                r.run_id,
                r.started_at,
                r.commit,
                r.machine,
                r.profile,
                r.suite_hash
            );
        }
        md.push('\n');
        for (group, _) in self.groups() {
            let members: Vec<&Series> = self
                .series
                .iter()
                .filter(|s| s.group_key == group)
                .collect();
            let _ = writeln!(md, "## {}\n", members[0].group_label);
            if let Some((_, path)) = plots.iter().find(|(g, _)| *g == group) {
                let _ = writeln!(md, "![history of {}]({path})\n", members[0].group_label);
            }
            let _ = write!(md, "| # |");
            for s in &members {
                let _ = write!(md, " {} |", s.subject);
            }
            let _ = write!(md, "\n|---|");
            for _ in &members {
                md.push_str("---|");
            }
            md.push('\n');
            for (i, _) in self.runs.iter().enumerate() {
                if !members.iter().any(|s| s.points.iter().any(|p| p.run == i)) {
                    continue;
                }
                let _ = write!(md, "| {} |", i + 1);
                for s in &members {
                    let cell = match s.points.iter().find(|p| p.run == i) {
                        None => "—".to_string(),
                        Some(p) => point_cell(p),
                    };
                    let _ = write!(md, " {cell} |");
                }
                md.push('\n');
            }
            md.push('\n');
        }
        self.skipped_md(&mut md);
        md
    }

    fn skipped_md(&self, md: &mut String) {
        if self.skipped.is_empty() {
            return;
        }
        let _ = writeln!(md, "## Not read\n");
        for (path, why) in &self.skipped {
            let _ = writeln!(md, "- `{}`: {why}", path.display());
        }
        md.push('\n');
    }
}

fn point_cell(p: &Point) -> String {
    let value = format::duration_ci(p.median_s, p.ci_lo_s, p.ci_hi_s);
    match &p.step {
        Some(Step::Compared { comparison: c, .. }) => match c.verdict {
            Verdict::Slower => format!("{value} **▲ slower {}**", format::ratio(c.ratio.point)),
            Verdict::Faster => format!("{value} **▼ faster {}**", format::ratio(c.ratio.point)),
            _ => value,
        },
        Some(Step::NotComparable(why)) => format!("{value} ({why})"),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Synth, run, scale};

    fn runs() -> Vec<(PathBuf, RunResults)> {
        (0..4u64)
            .map(|i| {
                let mut r = run(
                    "s",
                    "box",
                    vec![
                        Synth {
                            seed: i,
                            ..Synth::new("x", "engine-cpu")
                        }
                        .case(),
                    ],
                );
                r.started_at = format!("2025-01-0{}T10:00:00Z", i + 1);
                r.run_id = format!("2025010{}T100000Z_box", i + 1);
                if i >= 2 {
                    scale(&mut r.cases[0], 1.25);
                }
                (PathBuf::from(format!("results/s/{}", r.run_id)), r)
            })
            .rev() // any order in, time order out
            .collect()
    }

    #[test]
    fn a_step_is_flagged_once_where_it_happened() {
        let h = History::build(
            "s",
            runs(),
            Vec::new(),
            0.05,
            &crate::compare::CompareOptions::default().stats,
        );
        assert_eq!(h.runs[0].run_id, "20250101T100000Z_box");
        assert_eq!(h.series.len(), 1);
        let steps = h.steps();
        assert_eq!(steps.len(), 1, "{:#?}", h.series);
        assert_eq!(steps[0].1.run, 2);
        let md = h.markdown(&[]);
        assert!(md.contains("▲ slower"), "{md}");
        assert!(md.contains("at run 3"), "{md}");
    }

    #[test]
    fn a_machine_change_is_not_a_step() {
        let mut rs = runs();
        for (_, r) in rs.iter_mut().take(2) {
            r.system.cpu_model = "Other CPU".into(); // the two newest runs (reversed order)
        }
        let h = History::build(
            "s",
            rs,
            Vec::new(),
            0.05,
            &crate::compare::CompareOptions::default().stats,
        );
        assert!(h.steps().is_empty());
        let p = &h.series[0].points[2];
        assert!(
            matches!(&p.step, Some(Step::NotComparable(why)) if why.starts_with("CPU model changed")),
            "{p:?}"
        );
    }
}
