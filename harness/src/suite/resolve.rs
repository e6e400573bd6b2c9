//! From a parsed suite, a profile and the command line to the list of cases to run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::file::{MeasureSection, Overrides, ProfileFile, SpannedTable, SuiteFile};
use crate::results::{MeasurePolicy, SuiteInfo, Tolerance};
use crate::workloads::{self, WorkloadSpec};

/// A suite or profile mistake: where it is and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SuiteError {
    /// `suites/x.toml:12`, `configs/quick.toml`, or `--set measure.rounds`.
    pub location: String,
    pub message: String,
}

/// What the command line contributes.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Project root holding `suites/` and `configs/`.
    pub root: PathBuf,
    pub profile: String,
    /// `--set key=value` pairs.
    pub sets: Vec<String>,
    /// `--subjects`: replaces the suite's list.
    pub subjects: Option<Vec<String>>,
    /// `--threads`: replaces the suite's thread counts (0 = all cores).
    pub threads: Option<Vec<usize>>,
}

/// One (workload instance, subject, thread count) to measure.
#[derive(Clone, Debug)]
pub struct CaseSpec {
    pub id: String,
    pub scenario: String,
    pub workload: WorkloadSpec,
    pub subject: String,
    /// 0 = all cores.
    pub threads: usize,
}

pub struct ResolvedSuite {
    pub info: SuiteInfo,
    /// What the profile says it is for (`configs/PROFILE.toml`'s description).
    pub profile_description: String,
    pub subjects: Vec<String>,
    pub cases: Vec<CaseSpec>,
}

/// Names of the suites under `root/suites`, sorted.
pub fn available_suites(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("suites"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

pub fn load(name: &str, opts: &LoadOptions) -> Result<ResolvedSuite, SuiteError> {
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_name {
        return Err(err(
            name,
            "a suite name is a file name under suites/ without `.toml` (letters, digits, `_`, `-`)",
        ));
    }
    let rel = format!("suites/{name}.toml");
    let text = std::fs::read_to_string(opts.root.join(&rel)).map_err(|e| {
        err(
            &rel,
            format!(
                "cannot read the suite: {e} (available: {})",
                available_suites(&opts.root).join(", ")
            ),
        )
    })?;
    let file: SuiteFile = toml::from_str(&text).map_err(|e| toml_err(&rel, &text, &e))?;
    let at = |span: std::ops::Range<usize>| format!("{rel}:{}", line_of(&text, span.start));

    let profile_rel = format!("configs/{}.toml", opts.profile);
    let profile_text = std::fs::read_to_string(opts.root.join(&profile_rel)).map_err(|e| {
        err(
            &profile_rel,
            format!("cannot read the profile `{}`: {e}", opts.profile),
        )
    })?;
    let profile: ProfileFile =
        toml::from_str(&profile_text).map_err(|e| toml_err(&profile_rel, &profile_text, &e))?;
    let overrides = parse_sets(&opts.sets)?;

    let measure = resolve_measure(
        profile
            .measure
            .layer(file.measure.clone())
            .layer(overrides.measure.clone()),
        &profile_rel,
    )?;
    let check = Tolerance {
        atol: overrides
            .check
            .atol
            .or(file.check.atol)
            .or(profile.check.atol)
            .unwrap_or(1e-5),
        rtol: overrides
            .check
            .rtol
            .or(file.check.rtol)
            .or(profile.check.rtol)
            .unwrap_or(1e-4),
    };

    // Subjects and threads.
    let subjects: Vec<String> = match &opts.subjects {
        Some(list) => {
            for s in list {
                subjects::find(s).map_err(|e| err("--subjects", e))?;
            }
            list.clone()
        }
        None => {
            let mut names = Vec::new();
            for s in file.subjects.run.get_ref() {
                subjects::find(s.get_ref())
                    .map_err(|e| err(&at(s.span()), format!("subjects.run: {e}")))?;
                names.push(s.get_ref().clone());
            }
            names
        }
    };
    if subjects.is_empty() {
        return Err(err(
            &at(file.subjects.run.span()),
            "subjects.run: expected at least one subject",
        ));
    }
    let threads = match (&opts.threads, &file.subjects.threads) {
        (Some(t), _) => t.clone(),
        (None, None) => vec![1],
        (None, Some(list)) => {
            if list.get_ref().is_empty() {
                return Err(err(
                    &at(list.span()),
                    "subjects.threads: expected at least one thread count",
                ));
            }
            list.get_ref()
                .iter()
                .map(|v| {
                    parse_threads(v.get_ref())
                        .map_err(|m| err(&at(v.span()), format!("subjects.threads: {m}")))
                })
                .collect::<Result<_, _>>()?
        }
    };

    // Scenarios and sweeps.
    let kind = file.workload.kind.get_ref().clone();
    let seed = overrides.workload.seed.or(file.workload.seed).unwrap_or(0);
    workloads::check_kind(&kind).map_err(|m| {
        err(
            &at(file.workload.kind.span()),
            format!("workload.kind: {m}"),
        )
    })?;
    let base = to_json_map(&file.workload.params);
    let forced: BTreeMap<String, serde_json::Value> = overrides
        .workload
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
        .collect();

    let scenarios: Vec<(String, SpannedTable, SpannedTable, String)> = if file.scenarios.is_empty()
    {
        vec![(
            "default".into(),
            SpannedTable::new(),
            SpannedTable::new(),
            at(file.workload.kind.span()),
        )]
    } else {
        file.scenarios
            .iter()
            .map(|s| {
                (
                    s.name.get_ref().clone(),
                    s.params.clone(),
                    s.sweep.clone(),
                    at(s.name.span()),
                )
            })
            .collect()
    };

    let mut cases = Vec::new();
    for (scenario, params, sweep, location) in &scenarios {
        let mut fixed = base.clone();
        fixed.extend(to_json_map(params));
        let mut axes: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
        for (key, values) in sweep {
            if forced.contains_key(key) {
                continue;
            }
            let list = match values.get_ref() {
                toml::Value::Array(a) if !a.is_empty() => a,
                toml::Value::Array(_) => {
                    return Err(err(
                        &at(values.span()),
                        format!("sweep.{key}: expected a non-empty list of values"),
                    ));
                }
                other => {
                    return Err(err(
                        &at(values.span()),
                        format!(
                            "sweep.{key}: expected a list of values, got {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            axes.push((
                key.clone(),
                list.iter()
                    .map(|v| serde_json::to_value(v).unwrap_or_default())
                    .collect(),
            ));
        }
        fixed.extend(forced.clone());
        for point in cartesian(&axes) {
            let mut params = fixed.clone();
            params.extend(point.iter().cloned());
            workloads::check(&kind, &params)
                .map_err(|m| err(location, format!("scenario `{scenario}`: {m}")))?;
            let point_id: Vec<String> = point
                .iter()
                .map(|(k, v)| format!("{k}={}", plain(v)))
                .collect();
            for &t in &threads {
                for subject in &subjects {
                    let mut id = vec![scenario.clone()];
                    if !point_id.is_empty() {
                        id.push(point_id.join(","));
                    }
                    id.push(subject.clone());
                    id.push(format!(
                        "threads={}",
                        if t == 0 { "all".into() } else { t.to_string() }
                    ));
                    cases.push(CaseSpec {
                        id: id.join("/"),
                        scenario: scenario.clone(),
                        workload: WorkloadSpec {
                            kind: kind.clone(),
                            seed,
                            params: params.clone(),
                        },
                        subject: subject.clone(),
                        threads: t,
                    });
                }
            }
        }
    }

    Ok(ResolvedSuite {
        info: SuiteInfo {
            name: file.suite.name.get_ref().clone(),
            description: file.suite.description.clone(),
            file: rel,
            file_hash: super::fingerprint(text.as_bytes()),
            profile: opts.profile.clone(),
            workload: kind,
            seed,
            measure,
            check,
            overrides: opts.sets.clone(),
        },
        profile_description: profile.description.clone(),
        subjects,
        cases,
    })
}

fn err(location: &str, message: impl Into<String>) -> SuiteError {
    SuiteError {
        location: location.into(),
        message: message.into(),
    }
}

fn toml_err(rel: &str, text: &str, e: &toml::de::Error) -> SuiteError {
    let location = match e.span() {
        Some(span) => format!("{rel}:{}", line_of(text, span.start)),
        None => rel.to_string(),
    };
    err(&location, e.message().to_string())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn resolve_measure(m: MeasureSection, profile: &str) -> Result<MeasurePolicy, SuiteError> {
    let missing = |key: &str| {
        err(
            profile,
            format!("measure.{key} is set by neither the profile, the suite nor --set"),
        )
    };
    let policy = MeasurePolicy {
        warmup: m.warmup.ok_or_else(|| missing("warmup"))?.0,
        max_warmup_s: m.max_warmup.ok_or_else(|| missing("max_warmup"))?.0,
        min_iterations: m.min_iterations.ok_or_else(|| missing("min_iterations"))?,
        min_time_s: m.min_time.ok_or_else(|| missing("min_time"))?.0,
        max_time_s: m.max_time.ok_or_else(|| missing("max_time"))?.0,
        min_sample_time_s: m
            .min_sample_time
            .ok_or_else(|| missing("min_sample_time"))?
            .0,
        rounds: m.rounds.ok_or_else(|| missing("rounds"))?,
        timeout_s: m.timeout.ok_or_else(|| missing("timeout"))?.0,
    };
    if policy.rounds == 0 {
        return Err(err(profile, "measure.rounds: expected at least 1"));
    }
    if policy.max_time_s < policy.min_time_s {
        return Err(err(
            profile,
            "measure.max_time: expected a value >= measure.min_time",
        ));
    }
    Ok(policy)
}

/// Parses `--set a.b=value` pairs into the override document.
fn parse_sets(sets: &[String]) -> Result<Overrides, SuiteError> {
    let mut doc = toml::Table::new();
    for pair in sets {
        let (key, raw) = pair.split_once('=').ok_or_else(|| {
            err(
                &format!("--set {pair}"),
                "expected key=value, e.g. measure.min_time=1s",
            )
        })?;
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        let mut table = &mut doc;
        let parts: Vec<&str> = key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            table = match table
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(err(
                        &format!("--set {pair}"),
                        format!("`{part}` is not a table"),
                    ));
                }
            };
        }
        table.insert(parts[parts.len() - 1].to_string(), value);
    }
    Overrides::deserialize(toml::Value::Table(doc)).map_err(|e| {
        err(
            &format!("--set {}", sets.join(" ")),
            format!("{} (settable: measure.*, check.atol, check.rtol, workload.seed, workload.params.*)", e.message()),
        )
    })
}

fn parse_threads(v: &toml::Value) -> Result<usize, String> {
    match v {
        toml::Value::Integer(n) if *n >= 1 => Ok(*n as usize),
        toml::Value::String(s) if s == "all" => Ok(0),
        other => Err(format!(
            "expected a positive integer or \"all\", got {other}"
        )),
    }
}

fn to_json_map(table: &SpannedTable) -> BTreeMap<String, serde_json::Value> {
    table
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(v.get_ref()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Every combination of the axes' values, first axis outermost.
fn cartesian(axes: &[(String, Vec<serde_json::Value>)]) -> Vec<Vec<(String, serde_json::Value)>> {
    let mut points = vec![Vec::new()];
    for (key, values) in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((key.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// A JSON value as it should read in a case id (strings without quotes).
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
