//! From a parsed suite, a profile and the command line to the list of cases to run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::file::{
    MeasureSection, Overrides, ProfileFile, ScenarioSection, SpannedTable, SuiteFile,
};
use crate::results::{MeasurePolicy, Mode, SuiteInfo, Tolerance, threads_text, value_text};
use crate::server::ServerSpec;
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
    /// `--scenarios`: run only these of the suite's scenarios.
    pub scenarios: Option<Vec<String>>,
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
    pub mode: Mode,
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
    let (source, file) = read_suite(name, &opts.root)?;
    let (profile_rel, profile) = read_profile(&opts.root, &opts.profile)?;
    let overrides = parse_sets(&opts.sets)?;
    let check = resolve_check(&file, &profile, &overrides, &source, &profile_rel)?;
    let measure = resolve_measure(
        profile
            .measure
            .layer(file.measure.clone())
            .layer(overrides.measure.clone()),
        &|key| {
            let set = format!("measure.{key}=");
            if opts.sets.iter().any(|s| s.starts_with(&set)) {
                format!("--set measure.{key}")
            } else if file.measure.is_set(key) {
                source.key_line(key)
            } else {
                profile_rel.clone()
            }
        },
    )?;
    let subjects = resolve_subjects(opts.subjects.as_deref(), &file, &source)?;
    let threads = resolve_threads(opts.threads.as_deref(), &file, &source)?;
    let workload = resolve_workload(&file, &overrides, &source)?;
    let mut cases = Vec::new();
    for scenario in select_scenarios(
        scenarios(&file, &source)?,
        opts.scenarios.as_deref(),
        &source,
    )? {
        cases.extend(expand_scenario(
            &scenario, &workload, &subjects, &threads, &source,
        )?);
    }
    Ok(ResolvedSuite {
        info: SuiteInfo {
            name: file.suite.name.get_ref().clone(),
            description: file.suite.description.clone(),
            file_hash: super::fingerprint(source.text.as_bytes()),
            file: source.rel,
            profile: opts.profile.clone(),
            workload: workload.kind,
            seed: workload.seed,
            measure,
            check,
            overrides: opts.sets.clone(),
        },
        profile_description: profile.description.clone(),
        subjects,
        cases,
    })
}

/// The suite file's path and text, so errors can name the line.
struct Source {
    rel: String,
    text: String,
}

impl Source {
    /// `suites/x.toml:LINE` for a span of the text.
    fn at(&self, span: std::ops::Range<usize>) -> String {
        format!("{}:{}", self.rel, line_of(&self.text, span.start))
    }

    /// `suites/x.toml:LINE` of the first line that sets `key` (for values read without spans).
    fn key_line(&self, key: &str) -> String {
        let line = self.text.lines().position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        match line {
            Some(i) => format!("{}:{}", self.rel, i + 1),
            None => self.rel.clone(),
        }
    }
}

fn read_suite(name: &str, root: &Path) -> Result<(Source, SuiteFile), SuiteError> {
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
    let text = std::fs::read_to_string(root.join(&rel)).map_err(|e| {
        err(
            &rel,
            format!(
                "cannot read the suite: {e} (available: {})",
                available_suites(root).join(", ")
            ),
        )
    })?;
    let file: SuiteFile = toml::from_str(&text).map_err(|e| toml_err(&rel, &text, &e))?;
    Ok((Source { rel, text }, file))
}

/// `configs/PROFILE.toml`, with its path for later errors.
fn read_profile(root: &Path, profile: &str) -> Result<(String, ProfileFile), SuiteError> {
    let rel = format!("configs/{profile}.toml");
    let text = std::fs::read_to_string(root.join(&rel))
        .map_err(|e| err(&rel, format!("cannot read the profile `{profile}`: {e}")))?;
    let file: ProfileFile = toml::from_str(&text).map_err(|e| toml_err(&rel, &text, &e))?;
    Ok((rel, file))
}

/// `--set`, then the suite, then the profile, then the defaults; each a finite number ≥ 0,
/// the error naming where the value came from.
fn resolve_check(
    file: &SuiteFile,
    profile: &ProfileFile,
    overrides: &Overrides,
    source: &Source,
    profile_rel: &str,
) -> Result<Tolerance, SuiteError> {
    let pick = |key: &str, get: fn(&super::file::CheckSection) -> Option<f64>, default: f64| {
        let (value, location) = if let Some(v) = get(&overrides.check) {
            (v, format!("--set check.{key}"))
        } else if let Some(v) = get(&file.check) {
            (v, source.key_line(key))
        } else if let Some(v) = get(&profile.check) {
            (v, profile_rel.to_string())
        } else {
            (default, String::new())
        };
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(err(
                &location,
                format!("check.{key}: expected a finite tolerance >= 0, got {value}"),
            ))
        }
    };
    Ok(Tolerance {
        atol: pick("atol", |c| c.atol, 1e-5)?,
        rtol: pick("rtol", |c| c.rtol, 1e-4)?,
    })
}

/// `--subjects` or the suite's `subjects.run`, each a known subject, at least one.
fn resolve_subjects(
    cli: Option<&[String]>,
    file: &SuiteFile,
    source: &Source,
) -> Result<Vec<String>, SuiteError> {
    let subjects: Vec<String> = match cli {
        Some(list) => {
            for s in list {
                subjects::find(s).map_err(|e| err("--subjects", e))?;
            }
            list.to_vec()
        }
        None => {
            let mut names = Vec::new();
            for s in file.subjects.run.get_ref() {
                subjects::find(s.get_ref())
                    .map_err(|e| err(&source.at(s.span()), format!("subjects.run: {e}")))?;
                names.push(s.get_ref().clone());
            }
            names
        }
    };
    if subjects.is_empty() {
        return Err(err(
            &source.at(file.subjects.run.span()),
            "subjects.run: expected at least one subject",
        ));
    }
    Ok(subjects)
}

/// `--threads`, or the suite's `subjects.threads`, or `[1]`.
fn resolve_threads(
    cli: Option<&[usize]>,
    file: &SuiteFile,
    source: &Source,
) -> Result<Vec<usize>, SuiteError> {
    match (cli, &file.subjects.threads) {
        (Some(t), _) => Ok(t.to_vec()),
        (None, None) => Ok(vec![1]),
        (None, Some(list)) => {
            if list.get_ref().is_empty() {
                return Err(err(
                    &source.at(list.span()),
                    "subjects.threads: expected at least one thread count",
                ));
            }
            list.get_ref()
                .iter()
                .map(|v| {
                    parse_threads(v.get_ref())
                        .map_err(|m| err(&source.at(v.span()), format!("subjects.threads: {m}")))
                })
                .collect()
        }
    }
}

/// What every scenario shares: the kind, the seed, the base and the forced parameters.
struct WorkloadBase {
    kind: String,
    seed: u64,
    base: BTreeMap<String, serde_json::Value>,
    /// `--set workload.params.*`: win over scenarios and replace sweeps over their key.
    forced: BTreeMap<String, serde_json::Value>,
}

fn resolve_workload(
    file: &SuiteFile,
    overrides: &Overrides,
    source: &Source,
) -> Result<WorkloadBase, SuiteError> {
    let kind = file.workload.kind.get_ref().clone();
    let seed = overrides.workload.seed.or(file.workload.seed).unwrap_or(0);
    workloads::check_kind(&kind).map_err(|m| {
        err(
            &source.at(file.workload.kind.span()),
            format!("workload.kind: {m}"),
        )
    })?;
    let forced = overrides
        .workload
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
        .collect();
    Ok(WorkloadBase {
        kind,
        seed,
        base: to_json_map(&file.workload.params),
        forced,
    })
}

struct Scenario {
    name: String,
    params: SpannedTable,
    sweep: SpannedTable,
    /// Where parameter errors of its cases point.
    location: String,
    mode: Mode,
}

/// The suite's `[[scenario]]`s, or one `default` scenario.
fn scenarios(file: &SuiteFile, source: &Source) -> Result<Vec<Scenario>, SuiteError> {
    if file.scenarios.is_empty() {
        return Ok(vec![Scenario {
            name: "default".into(),
            params: SpannedTable::new(),
            sweep: SpannedTable::new(),
            location: source.at(file.workload.kind.span()),
            mode: Mode::Latency,
        }]);
    }
    file.scenarios
        .iter()
        .map(|s| {
            Ok(Scenario {
                name: s.name.get_ref().clone(),
                params: s.params.clone(),
                sweep: s.sweep.clone(),
                location: source.at(s.name.span()),
                mode: scenario_mode(s, source)?,
            })
        })
        .collect()
}

/// The scenarios `--scenarios` names (all when it names none), each one the suite declares.
fn select_scenarios(
    all: Vec<Scenario>,
    wanted: Option<&[String]>,
    source: &Source,
) -> Result<Vec<Scenario>, SuiteError> {
    let Some(wanted) = wanted else {
        return Ok(all);
    };
    let declared: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    if let Some(unknown) = wanted.iter().find(|w| !declared.contains(&w.as_str())) {
        return Err(err(
            "--scenarios",
            format!(
                "{}: no scenario named `{unknown}`; expected one of {}",
                source.rel,
                declared.join(", ")
            ),
        ));
    }
    Ok(all
        .into_iter()
        .filter(|s| wanted.contains(&s.name))
        .collect())
}

/// Items an offline scenario's pool holds unless it says `pool`.
const DEFAULT_POOL: u64 = 64;

/// A scenario's `mode` and the keys that only that mode takes.
fn scenario_mode(s: &ScenarioSection, source: &Source) -> Result<Mode, SuiteError> {
    let name = s.name.get_ref();
    let mode = s.mode.as_ref().map_or("latency", |m| m.get_ref().as_str());
    let keys = [
        ("slo", "server", s.slo.as_ref().map(|v| v.span())),
        (
            "percentile",
            "server",
            s.percentile.as_ref().map(|v| v.span()),
        ),
        ("pool", "offline", s.pool.as_ref().map(|v| v.span())),
    ];
    for (key, owner, span) in keys {
        if let Some(span) = span.filter(|_| owner != mode) {
            let article = if owner == "offline" { "an" } else { "a" };
            return Err(err(
                &source.at(span),
                format!(
                    "scenario `{name}`: {key} is {article} {owner} scenario's (add mode = \"{owner}\")"
                ),
            ));
        }
    }
    match mode {
        "latency" => Ok(Mode::Latency),
        "offline" => match &s.pool {
            Some(p) if *p.get_ref() == 0 => Err(err(
                &source.at(p.span()),
                format!("scenario `{name}`: pool: expected at least 1 item, got 0"),
            )),
            p => Ok(Mode::Offline {
                pool: p.as_ref().map_or(DEFAULT_POOL, |p| *p.get_ref()),
            }),
        },
        "server" => {
            let slo = s.slo.as_ref().ok_or_else(|| {
                err(
                    &source.at(s.name.span()),
                    format!("scenario `{name}`: a server scenario needs slo, a latency bound like \"100ms\""),
                )
            })?;
            if slo.get_ref().0 <= 0.0 {
                return Err(err(
                    &source.at(slo.span()),
                    format!("scenario `{name}`: slo: expected a duration above zero"),
                ));
            }
            let percentile = match &s.percentile {
                Some(p) if !(p.get_ref() > &0.0 && p.get_ref() < &1.0) => {
                    return Err(err(
                        &source.at(p.span()),
                        format!(
                            "scenario `{name}`: percentile: expected a fraction between 0 and 1 (0.99 for p99), got {}",
                            p.get_ref()
                        ),
                    ));
                }
                Some(p) => *p.get_ref(),
                None => 0.99,
            };
            Ok(Mode::Server(ServerSpec {
                slo_s: slo.get_ref().0,
                percentile,
            }))
        }
        other => Err(err(
            &source.at(s.mode.as_ref().map_or(s.name.span(), |m| m.span())),
            format!(
                "scenario `{name}`: mode: expected \"latency\", \"offline\" or \"server\", got \"{other}\""
            ),
        )),
    }
}

/// An offline case's batch: its `batch` parameter, which must divide the pool (a pass is
/// whole batches, so items per second count no padding).
fn offline_batch(
    scenario: &Scenario,
    params: &BTreeMap<String, serde_json::Value>,
    pool: u64,
) -> Result<(), SuiteError> {
    let name = &scenario.name;
    let batch = params.get("batch").and_then(serde_json::Value::as_u64);
    match batch {
        None => Err(err(
            &scenario.location,
            format!(
                "scenario `{name}`: an offline scenario needs a `batch` parameter (params or sweep, e.g. sweep = {{ batch = [1, 2, 4, 8, 16] }})"
            ),
        )),
        Some(b) if !pool.is_multiple_of(b) => Err(err(
            &scenario.location,
            format!(
                "scenario `{name}`: pool = {pool} is not a whole number of batches of {b}: expected a multiple of every batch"
            ),
        )),
        Some(_) => Ok(()),
    }
}

type Axis = (String, Vec<serde_json::Value>);

/// The scenario's sweep as axes, leaving out keys that `--set` forces.
fn sweep_axes(
    sweep: &SpannedTable,
    forced: &BTreeMap<String, serde_json::Value>,
    source: &Source,
) -> Result<Vec<Axis>, SuiteError> {
    let mut axes = Vec::new();
    for (key, values) in sweep {
        if forced.contains_key(key) {
            continue;
        }
        let list = match values.get_ref() {
            toml::Value::Array(a) if !a.is_empty() => a,
            toml::Value::Array(_) => {
                return Err(err(
                    &source.at(values.span()),
                    format!("sweep.{key}: expected a non-empty list of values"),
                ));
            }
            other => {
                return Err(err(
                    &source.at(values.span()),
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
    Ok(axes)
}

/// One case per sweep point, thread count and subject, in that nesting; each point's
/// parameters are checked against the workload.
fn expand_scenario(
    scenario: &Scenario,
    workload: &WorkloadBase,
    subjects: &[String],
    threads: &[usize],
    source: &Source,
) -> Result<Vec<CaseSpec>, SuiteError> {
    let mut fixed = workload.base.clone();
    fixed.extend(to_json_map(&scenario.params));
    let axes = sweep_axes(&scenario.sweep, &workload.forced, source)?;
    fixed.extend(workload.forced.clone());
    let mut cases = Vec::new();
    for point in cartesian(&axes) {
        let mut params = fixed.clone();
        params.extend(point.iter().cloned());
        workloads::check(&workload.kind, &params).map_err(|m| {
            err(
                &scenario.location,
                format!("scenario `{}`: {m}", scenario.name),
            )
        })?;
        if let Mode::Offline { pool } = scenario.mode {
            offline_batch(scenario, &params, pool)?;
        }
        let point_id: Vec<String> = point
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect();
        for (k, &t) in threads.iter().enumerate() {
            for subject in subjects {
                if k > 0 && !uses_threads(subject) {
                    continue;
                }
                cases.push(CaseSpec {
                    id: case_id(&scenario.name, &point_id, subject, t),
                    scenario: scenario.name.clone(),
                    workload: WorkloadSpec {
                        kind: workload.kind.clone(),
                        seed: workload.seed,
                        params: params.clone(),
                    },
                    subject: subject.clone(),
                    threads: t,
                    mode: scenario.mode,
                });
            }
        }
    }
    Ok(cases)
}

/// Whether `subject`'s cases differ by thread count (unknown names are reported elsewhere).
fn uses_threads(subject: &str) -> bool {
    subjects::find(subject).map_or(true, |s| s.uses_threads())
}

/// `scenario[/k=v,...]/subject/threads=N`.
fn case_id(scenario: &str, point_id: &[String], subject: &str, threads: usize) -> String {
    let mut id = vec![scenario.to_string()];
    if !point_id.is_empty() {
        id.push(point_id.join(","));
    }
    id.push(subject.to_string());
    id.push(format!("threads={}", threads_text(threads)));
    id.join("/")
}

fn err(location: &str, message: impl Into<String>) -> SuiteError {
    SuiteError {
        location: location.into(),
        message: message.into(),
    }
}

/// A parse error at its line, quoting that line so the key is named even where the
/// parser's message does not (a value of the wrong type says only what it expected).
fn toml_err(rel: &str, text: &str, e: &toml::de::Error) -> SuiteError {
    let Some(span) = e.span() else {
        return err(rel, e.message());
    };
    let line = line_of(text, span.start);
    let quoted = text.lines().nth(line - 1).map(str::trim).unwrap_or("");
    let message = if quoted.is_empty() {
        e.message().to_string()
    } else {
        format!("{} (in `{quoted}`)", e.message())
    };
    err(&format!("{rel}:{line}"), message)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The layered measurement settings as a policy; `at(key)` says where a key's value came
/// from (`--set`, the suite's line, or the profile) for the error.
fn resolve_measure(
    m: MeasureSection,
    at: &dyn Fn(&str) -> String,
) -> Result<MeasurePolicy, SuiteError> {
    let missing = |key: &str| {
        err(
            &at(key),
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
        target_ci: m.target_ci.map(|f| f.0),
    };
    if policy.rounds == 0 {
        return Err(err(&at("rounds"), "measure.rounds: expected at least 1"));
    }
    if policy.max_time_s < policy.min_time_s {
        return Err(err(
            &at("max_time"),
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

#[cfg(test)]
mod tests {
    use super::super::{LoadOptions, load};

    #[test]
    fn subjects_that_ignore_threads_get_one_case_per_point() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let opts = LoadOptions {
            root: root.into(),
            profile: "quick".into(),
            ..LoadOptions::default()
        };
        let s = load("linear_layer", &opts).unwrap();
        let count = |subject: &str| s.cases.iter().filter(|c| c.subject == subject).count();
        // batch32 plus six batch sizes, at threads 1 and all.
        assert_eq!(count("engine-cpu"), 14);
        assert_eq!(count("engine-gpu"), 7);
        assert!(
            s.cases
                .iter()
                .filter(|c| c.subject == "engine-gpu")
                .all(|c| c.threads == 1 && c.id.ends_with("/engine-gpu/threads=1"))
        );
    }

    #[test]
    fn scenarios_flag_keeps_only_the_named_scenarios_and_rejects_unknown_names() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let opts = |names: &[&str]| LoadOptions {
            root: root.into(),
            profile: "quick".into(),
            scenarios: Some(names.iter().map(|n| n.to_string()).collect()),
            ..LoadOptions::default()
        };
        let s = load("distilbert_serving", &opts(&["server"])).unwrap();
        assert!(!s.cases.is_empty());
        assert!(s.cases.iter().all(|c| c.scenario == "server"));
        let Err(e) = load("distilbert_serving", &opts(&["offline", "serve"])) else {
            panic!("an unknown scenario was accepted");
        };
        let e = e.to_string();
        assert!(
            e.contains("--scenarios")
                && e.contains("suites/distilbert_serving.toml")
                && e.contains("`serve`")
                && e.contains("offline, server"),
            "{e}"
        );
    }
}
