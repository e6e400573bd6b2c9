//! The report's head and configuration: what ran, when, for how long, with which settings
//! and which build.

use crate::results::{RunResults, Status, Warmup};

use super::{Row, row};
use crate::report::format::{self, duration};

pub(super) fn counts(r: &RunResults) -> String {
    let n = |s: Status| r.cases.iter().filter(|c| c.status == s).count();
    let mut parts = vec![format!("{} in all", r.cases.len())];
    for s in [
        Status::Ok,
        Status::Invalid,
        Status::Failed,
        Status::Skipped,
        Status::Pending,
    ] {
        if n(s) > 0 {
            parts.push(format!("{} {}", n(s), s.as_str()));
        }
    }
    parts.join(", ")
}

fn warmup_text(w: &Warmup, cap_s: f64) -> String {
    match w {
        Warmup::Auto => format!(
            "auto (until the median of the last 5 iterations moves < 2%, at most {})",
            duration(cap_s)
        ),
        Warmup::Iterations(n) => format!("{n} iterations"),
        Warmup::Seconds(s) => duration(*s),
    }
}

pub(super) fn config(r: &RunResults) -> Vec<Row> {
    let s = &r.suite;
    let m = &s.measure;
    vec![
        row(
            "Suite",
            format!("{} (`{}`, FNV-1a {})", s.name, s.file, s.file_hash),
        ),
        row("Workload", format!("{} (seed {})", s.workload, s.seed)),
        row("Profile", s.profile.clone()),
        row(
            "Overrides",
            if s.overrides.is_empty() {
                "none".into()
            } else {
                s.overrides.join(", ")
            },
        ),
        row("Warm-up", warmup_text(&m.warmup, m.max_warmup_s)),
        row(
            "Measurement",
            format!(
                "at least {} iterations and {}, at most {}; samples of at least {}",
                m.min_iterations,
                duration(m.min_time_s),
                duration(m.max_time_s),
                duration(m.min_sample_time_s)
            ) + &m.target_ci.map_or_else(String::new, |t| {
                format!(
                    "; then until the median's CI is within ±{}",
                    format::percent(t)
                )
            }),
        ),
        row(
            "Rounds",
            format!("{} interleaved rounds, each in a fresh worker", m.rounds),
        ),
        row("Worker timeout", duration(m.timeout_s)),
        row(
            "Tolerance",
            format!(
                "atol {}, rtol {}",
                format::sci(s.check.atol),
                format::sci(s.check.rtol)
            ),
        ),
    ]
}

pub(super) fn build(r: &RunResults) -> Vec<Row> {
    let h = &r.harness;
    let commit = match (&h.git_commit, h.git_dirty) {
        (Some(c), Some(true)) => format!("`{}` (dirty: uncommitted changes)", c),
        (Some(c), _) => format!("`{c}`"),
        (None, _) => "unknown".into(),
    };
    vec![
        row("Harness", h.version.clone()),
        row("Git commit", commit),
        row("Build profile", h.build_profile.clone()),
        row(
            "Opt level",
            format!(
                "harness {}, engine {}",
                h.harness_opt_level, h.engine_opt_level
            ),
        ),
        row("Engine debug assertions", h.engine_debug_assertions.clone()),
        row("rustc", h.rustc.clone()),
        row(
            "Features",
            if h.features.is_empty() {
                "none".into()
            } else {
                h.features.join(", ")
            },
        ),
        row("Command", format!("`{}`", h.command.join(" "))),
    ]
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp (`2024-05-01T12:00:00Z`, fractional
/// seconds allowed); `None` for anything else.
pub(super) fn rfc3339_seconds(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00"))?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':');
    let (hh, mm): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let ss: f64 = t.next()?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some((days * 86400 + hh * 3600 + mm * 60) as f64 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            rfc3339_seconds("2024-05-01T12:03:21Z").unwrap()
                - rfc3339_seconds("2024-05-01T12:00:00Z").unwrap(),
            201.0
        );
        assert_eq!(rfc3339_seconds("2000-03-01T00:00:00.5Z"), Some(951868800.5));
        assert_eq!(rfc3339_seconds("yesterday"), None);
    }
}
