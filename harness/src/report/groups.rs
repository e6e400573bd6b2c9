//! How a run's cases are grouped for comparison, shared by the Markdown report and the plots
//! so both rank, name and order things the same way.
//!
//! - A **case group** is every subject measured on the same scenario, parameters and thread
//!   setting: the cases a reader compares side by side.
//! - A **sweep** is a scenario whose cases vary one numeric parameter while everything else
//!   (other parameters, threads) is fixed: the input of a scaling chart. A suite that sweeps
//!   two parameters gives one sweep per parameter and per value of the other.
//!
//! Only `ok` cases with samples are ranked: `invalid` ones were measured but computed the
//! wrong thing, so they never count as "fastest".

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use stats::Estimate;

use crate::results::{CaseResult, RunResults, threads_text, value_text};

/// `batch=1, seq_len=8` (empty without parameters).
pub(crate) fn params_label<'a>(
    params: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> String {
    params
        .into_iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// All subjects measured on one scenario, parameter set and thread setting.
pub(crate) struct CaseGroup<'a> {
    pub scenario: &'a str,
    pub params: &'a BTreeMap<String, Value>,
    pub threads: usize,
    /// In the order of the run's cases.
    pub cases: Vec<&'a CaseResult>,
}

impl CaseGroup<'_> {
    /// `forward · seq_len=8`: the scenario and the parameters that tell its cases apart
    /// (see [`varying_params`]), without threads.
    pub fn case_label(&self, varying: &Varying<'_>) -> String {
        case_label(varying, self.scenario, self.params)
    }

    /// `forward · seq_len=8 · threads=1`.
    pub fn label(&self, varying: &Varying<'_>) -> String {
        format!(
            "{} · threads={}",
            self.case_label(varying),
            threads_text(self.threads)
        )
    }

    /// The case id without its subject: `forward/batch=1,seq_len=8/threads=1`.
    pub fn key(&self) -> String {
        let params: Vec<_> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect();
        let mut parts = vec![self.scenario.to_string()];
        if !params.is_empty() {
            parts.push(params.join(","));
        }
        parts.push(format!("threads={}", threads_text(self.threads)));
        parts.join("/")
    }
}

/// The run's case groups, in the order their first case appears.
pub(crate) fn case_groups(results: &RunResults) -> Vec<CaseGroup<'_>> {
    let mut groups: Vec<CaseGroup<'_>> = Vec::new();
    for case in &results.cases {
        match groups.iter_mut().find(|g| {
            g.scenario == case.scenario && *g.params == case.params && g.threads == case.threads
        }) {
            Some(g) => g.cases.push(case),
            None => groups.push(CaseGroup {
                scenario: &case.scenario,
                params: &case.params,
                threads: case.threads,
                cases: vec![case],
            }),
        }
    }
    groups
}

/// The fastest ranked case of a group (by median); `None` when no case of it is ranked.
pub(crate) fn fastest<'a>(group: &CaseGroup<'a>) -> Option<&'a CaseResult> {
    let median = |c: &CaseResult| c.summary.as_ref().map_or(f64::INFINITY, |s| s.median_s);
    group
        .cases
        .iter()
        .copied()
        .filter(|c| c.is_measured())
        .min_by(|a, b| median(a).total_cmp(&median(b)))
}

/// The subject a run is about: the first its suite lists (`engine-cpu` in ours). The
/// summary and the speed-up chart measure every other subject against it.
pub(crate) fn focus_subject(results: &RunResults) -> Option<&str> {
    results.subjects.first().map(|s| s.name.as_str())
}

/// How many times faster the focus subject is than one other subject of a case group.
pub(crate) struct SpeedUp<'a> {
    pub baseline: &'a CaseResult,
    /// `median(baseline) / median(focus)` with a bootstrap CI: above 1, the focus is faster.
    pub estimate: Estimate,
}

impl SpeedUp<'_> {
    /// Whether the CI excludes 1, i.e. the samples tell the two subjects apart.
    pub fn significant(&self) -> bool {
        let ci = self.estimate.ci;
        ci.lo > 1.0 || ci.hi < 1.0
    }
}

/// The focus subject's speed-up over every other ranked case of `group`, in group order;
/// empty when the focus case itself is not ranked (invalid, failed, skipped, absent).
pub(crate) fn speed_ups<'a>(group: &CaseGroup<'a>, focus: &str) -> Vec<SpeedUp<'a>> {
    let Some(focus_case) = group
        .cases
        .iter()
        .copied()
        .find(|c| c.subject == focus && c.is_measured())
    else {
        return Vec::new();
    };
    let opts = ratio_options(focus_case);
    group
        .cases
        .iter()
        .copied()
        .filter(|c| c.subject != focus && c.is_measured())
        .map(|baseline| SpeedUp {
            baseline,
            estimate: stats::ratio_of_medians(&focus_case.samples_s, &baseline.samples_s, &opts),
        })
        .collect()
}

/// The focus subject's speed-ups in every case group of a run, computed once per report so
/// the summary table and the speed-up chart show the same numbers without bootstrapping
/// twice.
pub(crate) struct SpeedUps<'a> {
    pub focus: Option<&'a str>,
    /// Every case group of the run, in order.
    pub groups: Vec<CaseGroup<'a>>,
    /// Per group (same index), the focus subject's speed-ups over the others.
    pub per_group: Vec<Vec<SpeedUp<'a>>>,
}

impl<'a> SpeedUps<'a> {
    pub fn of(results: &'a RunResults) -> SpeedUps<'a> {
        let focus = focus_subject(results);
        let groups = case_groups(results);
        let per_group = match focus {
            Some(focus) => speed_ups_all(&groups, focus),
            None => groups.iter().map(|_| Vec::new()).collect(),
        };
        SpeedUps {
            focus,
            groups,
            per_group,
        }
    }
}

/// [`speed_ups`] for every group of the run, the groups spread over the available cores
/// (each ratio is a 10 000-resample bootstrap: the slowest part of rendering a report).
pub(crate) fn speed_ups_all<'a>(groups: &[CaseGroup<'a>], focus: &str) -> Vec<Vec<SpeedUp<'a>>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(groups.len());
    if workers <= 1 {
        return groups.iter().map(|g| speed_ups(g, focus)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<SpeedUp<'a>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(group) = groups.get(i) else { break };
                        mine.push((i, speed_ups(group, focus)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, s)| s).collect()
}

/// Per scenario, the parameters whose value differs between its cases.
pub(crate) type Varying<'a> = BTreeMap<&'a str, BTreeSet<&'a str>>;

/// `forward · seq_len=8`: a scenario and those of its parameters that vary (see
/// [`varying_params`]).
pub(crate) fn case_label(
    varying: &Varying<'_>,
    scenario: &str,
    params: &BTreeMap<String, Value>,
) -> String {
    let shown = shown_params(varying, scenario, params);
    if shown.is_empty() {
        scenario.to_string()
    } else {
        format!("{scenario} · {shown}")
    }
}

/// `batch=1, seq_len=8` for those of `params` that vary in `scenario`.
fn shown_params<'a>(
    varying: &Varying<'_>,
    scenario: &str,
    params: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> String {
    let varies = |k: &str| varying.get(scenario).is_some_and(|v| v.contains(k));
    params_label(params.into_iter().filter(|(k, _)| varies(k)))
}

/// The parameters that tell a scenario's cases apart (those whose value is not the same in
/// all of them), so labels can leave out what every case shares (`mode=forward`).
pub(crate) fn varying_params(results: &RunResults) -> Varying<'_> {
    let mut keys: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in &results.cases {
        let scenario = keys.entry(c.scenario.as_str()).or_default();
        scenario.extend(c.params.keys().map(String::as_str));
    }
    // Per scenario and parameter, its distinct values (`None` where a case lacks it).
    let mut values: BTreeMap<&str, BTreeMap<&str, BTreeSet<Option<String>>>> = BTreeMap::new();
    for c in &results.cases {
        let per_param = values.entry(c.scenario.as_str()).or_default();
        for &k in &keys[c.scenario.as_str()] {
            let value = c.params.get(k).map(|v| v.to_string());
            per_param.entry(k).or_default().insert(value);
        }
    }
    values
        .into_iter()
        .map(|(scenario, per_param)| {
            let varying = per_param
                .into_iter()
                .filter(|(_, distinct)| distinct.len() > 1)
                .map(|(k, _)| k)
                .collect();
            (scenario, varying)
        })
        .collect()
}

/// Bootstrap options for speed-ups: the run's confidence level, a fixed seed so a re-render
/// prints the same intervals.
fn ratio_options(case: &CaseResult) -> stats::Options {
    let mut opts = stats::Options::default();
    if let Some(s) = case
        .summary
        .as_ref()
        .filter(|s| s.confidence > 0.0 && s.confidence < 1.0)
    {
        opts.confidence = s.confidence;
    }
    opts
}

/// One sweep: a scenario's cases that differ only in `param`.
pub(crate) struct Sweep<'a> {
    pub scenario: &'a str,
    pub param: &'a str,
    /// The other parameters, fixed along the sweep.
    pub fixed: BTreeMap<&'a String, &'a Value>,
    pub threads: usize,
    /// One line per subject, in the order subjects first appear in the run.
    pub series: Vec<Series<'a>>,
    /// Where the fastest subject changes, in increasing `param` order.
    pub crossovers: Vec<Crossover<'a>>,
}

pub(crate) struct Series<'a> {
    pub subject: &'a str,
    /// Ranked cases only, by increasing x.
    pub points: Vec<(f64, &'a CaseResult)>,
}

/// Between `from_x` and `to_x` (adjacent sweep values) the fastest subject changes.
pub(crate) struct Crossover<'a> {
    pub from_x: f64,
    pub to_x: f64,
    pub from: &'a str,
    pub to: &'a str,
}

impl<'a> Sweep<'a> {
    /// `forward: seq_len · batch=1 · threads=1`.
    pub fn label(&self, varying: &Varying<'_>) -> String {
        let mut parts = vec![format!("{}: {}", self.scenario, self.param)];
        let fixed = shown_params(
            varying,
            self.scenario,
            self.fixed.iter().map(|(k, v)| (*k, *v)),
        );
        if !fixed.is_empty() {
            parts.push(fixed);
        }
        parts.push(format!("threads={}", threads_text(self.threads)));
        parts.join(" · ")
    }

    /// `forward/seq_len/batch=1/threads=1`, the source of the plot's file name.
    pub fn key(&self) -> String {
        let mut parts = vec![self.scenario.to_string(), self.param.to_string()];
        if !self.fixed.is_empty() {
            let fixed: Vec<_> = self
                .fixed
                .iter()
                .map(|(k, v)| format!("{k}={}", value_text(v)))
                .collect();
            parts.push(fixed.join(","));
        }
        parts.push(format!("threads={}", threads_text(self.threads)));
        parts.join("/")
    }

    /// The sweep values with at least one ranked case, ascending.
    pub fn xs(&self) -> Vec<f64> {
        let mut xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        xs
    }

    /// The fastest subject at each sweep value.
    pub fn fastest_at(&self) -> Vec<(f64, &'a str)> {
        self.xs()
            .into_iter()
            .filter_map(|x| {
                self.series
                    .iter()
                    .filter_map(|s| {
                        let (_, c) = s.points.iter().find(|p| p.0 == x)?;
                        Some((s.subject, c.summary.as_ref()?.median_s))
                    })
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(subject, _)| (x, subject))
            })
            .collect()
    }

    /// The other subjects at `x` whose median's confidence interval overlaps that of the
    /// fastest one (`fastest`): the samples do not tell them apart.
    pub fn tied_at(&self, x: f64, fastest: &str) -> Vec<&'a str> {
        let ci_at = |s: &Series<'a>| {
            let (_, c) = s.points.iter().find(|p| p.0 == x)?;
            let sum = c.summary.as_ref()?;
            Some((sum.ci_low_s, sum.ci_high_s))
        };
        let Some((_, best_hi)) = self
            .series
            .iter()
            .find(|s| s.subject == fastest)
            .and_then(ci_at)
        else {
            return Vec::new();
        };
        self.series
            .iter()
            .filter(|s| s.subject != fastest)
            .filter(|s| ci_at(s).is_some_and(|(lo, _)| lo <= best_hi))
            .map(|s| s.subject)
            .collect()
    }
}

/// Every sweep in the run: for each scenario and each parameter that is numeric in all its
/// cases, the families of cases that agree on everything else and have ranked results at two
/// or more values of it.
pub(crate) fn sweeps(results: &RunResults) -> Vec<Sweep<'_>> {
    let mut scenarios: Vec<&str> = Vec::new();
    for c in &results.cases {
        if !scenarios.contains(&c.scenario.as_str()) {
            scenarios.push(&c.scenario);
        }
    }
    let mut subjects_in_order: Vec<&str> = Vec::new();
    for c in &results.cases {
        if !subjects_in_order.contains(&c.subject.as_str()) {
            subjects_in_order.push(&c.subject);
        }
    }
    let mut out = Vec::new();
    for scenario in scenarios {
        let cases: Vec<&CaseResult> = results
            .cases
            .iter()
            .filter(|c| c.scenario == scenario)
            .collect();
        let names: BTreeSet<&String> = cases.iter().flat_map(|c| c.params.keys()).collect();
        for param in names {
            let numeric = |c: &CaseResult| {
                c.params
                    .get(param)
                    .and_then(Value::as_f64)
                    .filter(|x| x.is_finite())
            };
            if !cases.iter().all(|c| numeric(c).is_some()) {
                continue;
            }
            // Families: same threads and same other parameters, in order of appearance.
            let mut families: Vec<(usize, BTreeMap<&String, &Value>, Vec<&CaseResult>)> =
                Vec::new();
            for c in &cases {
                let fixed: BTreeMap<&String, &Value> =
                    c.params.iter().filter(|(k, _)| *k != param).collect();
                match families
                    .iter_mut()
                    .find(|f| f.0 == c.threads && f.1 == fixed)
                {
                    Some(f) => f.2.push(c),
                    None => families.push((c.threads, fixed, vec![c])),
                }
            }
            for (threads, fixed, members) in families {
                let series: Vec<Series<'_>> = subjects_in_order
                    .iter()
                    .filter_map(|&subject| {
                        let mut points: Vec<(f64, &CaseResult)> = members
                            .iter()
                            .filter(|c| c.subject == subject && c.is_measured())
                            .filter_map(|c| Some((numeric(c)?, *c)))
                            .collect();
                        points.sort_by(|a, b| a.0.total_cmp(&b.0));
                        (!points.is_empty()).then_some(Series { subject, points })
                    })
                    .collect();
                let mut sweep = Sweep {
                    scenario,
                    param,
                    fixed,
                    threads,
                    series,
                    crossovers: Vec::new(),
                };
                if sweep.xs().len() < 2 {
                    continue;
                }
                let fastest = sweep.fastest_at();
                sweep.crossovers = fastest
                    .windows(2)
                    .filter(|w| w[0].1 != w[1].1)
                    .map(|w| Crossover {
                        from_x: w[0].0,
                        to_x: w[1].0,
                        from: w[0].1,
                        to: w[1].1,
                    })
                    .collect();
                out.push(sweep);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::demo;

    #[test]
    fn labels_keep_only_the_parameters_that_vary() {
        let results = demo::run();
        let varying = varying_params(&results);
        assert_eq!(varying["forward"], BTreeSet::from(["seq_len"]));
        assert!(varying["pipeline"].is_empty());
        let groups = case_groups(&results);
        assert_eq!(groups[0].case_label(&varying), "forward · seq_len=8");
        assert_eq!(groups[0].label(&varying), "forward · seq_len=8 · threads=1");
        let sweeps = sweeps(&results);
        assert_eq!(sweeps[0].label(&varying), "forward: seq_len · threads=1");
    }

    #[test]
    fn speed_ups_are_of_the_focus_over_each_ranked_other() {
        let results = demo::run();
        assert_eq!(focus_subject(&results), Some("engine-cpu"));
        let groups = case_groups(&results);
        // seq_len 8: torch ranked, candle invalid (left out).
        let ups = speed_ups(&groups[0], "engine-cpu");
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].baseline.subject, "torch");
        // torch 11.2 ms / engine-cpu 6.1 ms.
        assert!(
            (ups[0].estimate.point - 11.2 / 6.1).abs() < 0.1,
            "{:?}",
            ups[0].estimate
        );
        assert!(ups[0].significant());
        assert_eq!(fastest(&groups[0]).unwrap().subject, "engine-cpu");
        // A group whose focus case is not ranked has no speed-ups.
        assert!(speed_ups(&groups[0], "candle").is_empty());
        let all = speed_ups_all(&groups, "engine-cpu");
        assert_eq!(all.len(), groups.len());
        assert_eq!(all[0][0].estimate.point, ups[0].estimate.point);
    }
}
