//! The noise threshold of each comparison, and A/A calibration files.
//!
//! A change is only called faster or slower when its CI lies beyond the threshold, which is
//! the largest of:
//!
//! - the user's minimum (`--threshold`, default 5%);
//! - the case's round spread in either run, `(max − min) / median` of the per-round medians
//!   (`summary.round_spread`): each round is a fresh worker, so this is the run's own measure
//!   of how much a level moves between processes;
//! - the case's A/A noise from a calibration of this suite on the candidate's machine
//!   (`harness calibrate`, stored in `results/calibration/<machine>.json`).
//!
//! Every comparison reports which of these decided.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::machine::{KeyField, key_differences};
use crate::results::RunResults;

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
            NoiseSource::RoundSpreadA => "round spread of A",
            NoiseSource::RoundSpreadB => "round spread of B",
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
    /// The half-width of the smallest band around 1 that holds the A/A ratio's CI:
    /// `max(1 − lo, hi − 1, 0)`.
    pub noise: f64,
    pub ratio: f64,
    pub ci_lo: f64,
    pub ci_hi: f64,
    /// What `verdict` said of the A/A pair with the run's own noise as threshold (anything
    /// but unchanged or inconclusive is a false alarm).
    pub verdict: stats::Verdict,
}

impl NoiseEntry {
    pub fn from_comparison(c: &stats::Comparison) -> NoiseEntry {
        let (lo, hi) = (c.ratio.ci.lo, c.ratio.ci.hi);
        let noise = if lo.is_finite() && hi.is_finite() {
            (1.0 - lo).max(hi - 1.0).max(0.0)
        } else {
            f64::NAN
        };
        NoiseEntry {
            noise,
            ratio: c.ratio.point,
            ci_lo: lo,
            ci_hi: hi,
            verdict: c.verdict,
        }
    }
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
    crate::report::write_atomic(&path, &serde_json::to_vec_pretty(&file)?)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_noise_decides_and_says_so() {
        let t = Threshold::decide(0.05, None, Some(0.02), Some(0.08));
        assert_eq!((t.value, t.source), (0.08, NoiseSource::RoundSpreadB));
        assert_eq!(t.describe(), "±8.00% (round spread of B)");
        let t = Threshold::decide(0.05, Some(0.03), Some(0.02), None);
        assert_eq!(t.source, NoiseSource::UserMinimum);
        let t = Threshold::decide(0.05, Some(0.07), Some(0.06), Some(f64::NAN));
        assert_eq!((t.value, t.source), (0.07, NoiseSource::Calibration));
    }
}
