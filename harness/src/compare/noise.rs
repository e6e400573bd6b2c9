//! The noise threshold of each comparison, and A/A calibration files.
//!
//! A change is only called faster or slower when its CI lies beyond the threshold, which is
//! the largest of:
//!
//! - the user's minimum (`--threshold`, default 5%);
//! - the noise implied by the case's rounds in either run. Each round is a fresh worker, so
//!   the spread of the per-round medians, `(max − min) / median`, shows how much a level
//!   moves between processes. With `k` rounds that spread estimates `d_k` standard
//!   deviations of one round's level (`d_k`: the expected range of `k` normal draws, 1.128
//!   for 2, 1.693 for 3); two runs' medians, each about the mean of `k` levels, then differ
//!   by `√(2/k)` of those. The threshold allows 3 such standard deviations, and never less
//!   than the spread itself: `spread × max(1, 3·√(2/k) / d_k)` — ×2.66 with 2 rounds,
//!   ×1.45 with 3, ×1 from 4 on. Few rounds say little about between-process noise, and
//!   this keeps a single disturbed round from reading as a regression;
//! - the case's A/A noise from a calibration of this suite on the candidate's machine
//!   (`harness calibrate`, stored in `results/calibration/<machine>.json`): how far apart
//!   two runs of unchanged code came out, and how far apart all their worker processes
//!   were ([`NoiseEntry::noise`]).
//!
//! Every comparison reports which of these decided.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::machine::{KeyField, key_differences};
use crate::results::{CaseResult, RunResults};

/// Expected range of `k` independent standard normal draws, `d_k` for k = 2..=10 (the
/// control-chart constants).
const EXPECTED_RANGE: [f64; 9] = [
    1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
];

/// The between-run noise implied by a spread of `spread` over `rounds` rounds (see the
/// module docs); `None` with fewer than 2 rounds or a non-finite spread.
pub fn from_round_spread(spread: f64, rounds: usize) -> Option<f64> {
    if rounds < 2 || !spread.is_finite() {
        return None;
    }
    let d = EXPECTED_RANGE[rounds.min(10) - 2];
    Some(spread * (3.0 * (2.0 / rounds as f64).sqrt() / d).max(1.0))
}

/// The between-run noise of a case from its own rounds.
pub fn case_noise(case: &CaseResult) -> Option<f64> {
    from_round_spread(case.summary.as_ref()?.round_spread?, case.rounds.len())
}

/// Where a threshold came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseSource {
    UserMinimum,
    Calibration,
    RoundSpreadA,
    RoundSpreadB,
}

/// The threshold one comparison used and what decided it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// A fraction: 0.05 = ±5%.
    pub value: f64,
    pub source: NoiseSource,
}

impl Threshold {
    /// The largest of the user's minimum and whatever noise was measured; ties go to the
    /// user's minimum, then calibration.
    pub fn decide(
        user_min: f64,
        calibration: Option<f64>,
        spread_a: Option<f64>,
        spread_b: Option<f64>,
    ) -> Threshold {
        let mut best = Threshold {
            value: user_min.max(0.0),
            source: NoiseSource::UserMinimum,
        };
        for (value, source) in [
            (calibration, NoiseSource::Calibration),
            (spread_a, NoiseSource::RoundSpreadA),
            (spread_b, NoiseSource::RoundSpreadB),
        ] {
            if let Some(v) = value.filter(|v| v.is_finite() && *v > best.value) {
                best = Threshold { value: v, source };
            }
        }
        best
    }

    /// `±7.2% (round spread of B)`.
    pub fn describe(&self) -> String {
        let what = match self.source {
            NoiseSource::UserMinimum => "user minimum",
            NoiseSource::Calibration => "A/A calibration",
            NoiseSource::RoundSpreadA => "noise of A's rounds",
            NoiseSource::RoundSpreadB => "noise of B's rounds",
        };
        format!("±{} ({what})", crate::report::format::percent(self.value))
    }
}

/// Version of the calibration file format.
pub const CALIBRATION_SCHEMA: u32 = 1;

/// `results/calibration/<machine>.json`: per suite, the A/A noise of every case measured on
/// one machine.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CalibrationFile {
    pub schema_version: u32,
    /// The machine slug (hostname) the file is named after.
    pub machine: String,
    pub suites: BTreeMap<String, SuiteCalibration>,
}

/// One suite's A/A calibration on one machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteCalibration {
    /// The suite file's hash at calibration: a changed suite is not calibrated.
    pub suite_hash: String,
    pub profile: String,
    pub created_at: String,
    /// The two runs compared (run ids).
    pub runs: Vec<String>,
    /// The comparability key of the machine at calibration.
    pub key: Vec<KeyField>,
    /// Per case key ([`super::keys::case_key`]): the A/A noise of its absolute time.
    pub cases: BTreeMap<String, NoiseEntry>,
    /// Per subject pair ([`super::ratios::pair_key`]): the A/A noise of the ratio.
    pub pairs: BTreeMap<String, NoiseEntry>,
}

/// The A/A result of one quantity: the second run over the first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseEntry {
    /// The A/A noise: the larger of the half-width of the smallest band around 1 that
    /// holds the A/A ratio's CI, `max(1 − lo, hi − 1)`, and the spread of the per-round
    /// medians of both runs pooled (`round_spread`). Pooling the rounds of an A/A pair sees
    /// twice as many worker processes as one run does, so a level that moves between
    /// processes (two modes, say) shows here even when each run's own rounds agree.
    pub noise: f64,
    /// The A/A ratio and its CI; NaN (`null` in the file) where the verdict had none, e.g.
    /// with too few worker processes.
    #[serde(with = "nan_as_null")]
    pub ratio: f64,
    #[serde(with = "nan_as_null")]
    pub ci_lo: f64,
    #[serde(with = "nan_as_null")]
    pub ci_hi: f64,
    /// `(max − min) / median` of every per-round median of both runs.
    pub round_spread: Option<f64>,
    /// What `verdict` said of the A/A pair without calibration (the user minimum and the
    /// runs' own round noise as threshold): anything but unchanged or inconclusive is a
    /// false alarm that this calibration now prevents.
    pub verdict: stats::Verdict,
}

impl NoiseEntry {
    /// The entry of an A/A comparison whose pooled per-round values are `rounds`; `None`
    /// when neither says anything about the noise (one process per run, no CI).
    pub fn new(c: &stats::Comparison, rounds: &[f64]) -> Option<NoiseEntry> {
        let (lo, hi) = (c.ratio.ci.lo, c.ratio.ci.hi);
        let ci_noise = if lo.is_finite() && hi.is_finite() {
            (1.0 - lo).max(hi - 1.0).max(0.0)
        } else {
            f64::NAN
        };
        let round_spread = spread(rounds);
        let noise = match round_spread {
            Some(s) if ci_noise.is_finite() => s.max(ci_noise),
            Some(s) => s,
            None => ci_noise,
        };
        noise.is_finite().then_some(NoiseEntry {
            noise,
            ratio: c.ratio.point,
            ci_lo: lo,
            ci_hi: hi,
            round_spread,
            verdict: c.verdict,
        })
    }
}

/// JSON has no NaN: a non-finite number is written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// `(max − min) / median` of `values`; `None` with fewer than 2 or a non-positive median.
pub fn spread(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let median = stats::quantile(&v, 0.5);
    (median > 0.0).then(|| (v[v.len() - 1] - v[0]) / median)
}

/// `<root>/calibration/<machine>.json`.
pub fn calibration_path(root: &Path, machine: &str) -> PathBuf {
    root.join("calibration").join(format!("{machine}.json"))
}

/// The calibration that applies to `run` (same machine, suite definition and comparability
/// key), if any, with a note when one exists but does not apply. A file that exists but
/// cannot be read is an error.
pub fn lookup(root: &Path, run: &RunResults) -> Result<(Option<SuiteCalibration>, Option<String>)> {
    let path = calibration_path(root, &run.system.machine_slug());
    if !path.exists() {
        return Ok((None, None));
    }
    let file = load(&path)?;
    let Some(cal) = file.suites.get(&run.suite.name) else {
        return Ok((None, None));
    };
    let shown = path.display();
    if cal.suite_hash != run.suite.file_hash {
        let note = format!(
            "{shown}: calibrated for another version of suite `{}` (hash {}); not used",
            run.suite.name, cal.suite_hash
        );
        return Ok((None, Some(note)));
    }
    let diffs = key_differences(&cal.key, &super::machine::comparability_key(run));
    if let Some(d) = diffs.first() {
        let note = format!(
            "{shown}: calibrated with {} = {}, this run has {}; not used",
            d.what, d.a, d.b
        );
        return Ok((None, Some(note)));
    }
    Ok((
        Some(cal.clone()),
        Some(format!(
            "A/A calibration: {shown} ({} profile, {})",
            cal.profile, cal.created_at
        )),
    ))
}

/// Reads a calibration file, checking its version.
pub fn load(path: &Path) -> Result<CalibrationFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON (truncated or corrupt?)", path.display()))?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(CALIBRATION_SCHEMA) => {}
        Some(v) => bail!(
            "{}: calibration schema_version {v} is not supported (this harness reads {CALIBRATION_SCHEMA}); rerun `harness calibrate`",
            path.display()
        ),
        None => bail!(
            "{}: no schema_version: not a graphbench calibration file",
            path.display()
        ),
    }
    serde_json::from_value(value)
        .with_context(|| format!("{}: does not match the calibration format", path.display()))
}

/// Stores `cal` as suite `suite` in the machine's calibration file (other suites are kept).
pub fn save(root: &Path, machine: &str, suite: &str, cal: SuiteCalibration) -> Result<PathBuf> {
    let path = calibration_path(root, machine);
    let mut file = if path.exists() {
        load(&path)?
    } else {
        CalibrationFile {
            schema_version: CALIBRATION_SCHEMA,
            machine: machine.to_string(),
            suites: BTreeMap::new(),
        }
    };
    file.suites.insert(suite.to_string(), cal);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::results::store::write_atomic(&path, &serde_json::to_vec_pretty(&file)?)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_spread_is_scaled_for_few_rounds() {
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-3;
        assert!(close(from_round_spread(0.1, 2), 0.266));
        assert!(close(from_round_spread(0.1, 3), 0.1446));
        assert!(close(from_round_spread(0.1, 5), 0.1));
        assert!(close(from_round_spread(0.1, 40), 0.1));
        assert_eq!(from_round_spread(0.1, 1), None);
        assert_eq!(from_round_spread(f64::NAN, 3), None);
    }

    #[test]
    fn the_largest_noise_decides_and_says_so() {
        let t = Threshold::decide(0.05, None, Some(0.02), Some(0.08));
        assert_eq!((t.value, t.source), (0.08, NoiseSource::RoundSpreadB));
        assert_eq!(t.describe(), "±8.00% (noise of B's rounds)");
        let t = Threshold::decide(0.05, Some(0.03), Some(0.02), None);
        assert_eq!(t.source, NoiseSource::UserMinimum);
        let t = Threshold::decide(0.05, Some(0.07), Some(0.06), Some(f64::NAN));
        assert_eq!((t.value, t.source), (0.07, NoiseSource::Calibration));
    }
}
