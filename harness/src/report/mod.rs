//! Reports rendered from a run's results: `report.md`, `samples.csv` and `plots/*.{svg,png}`.
//!
//! Every exporter here is a function of [`RunResults`] alone, never of live run state, so
//! `harness report DIR` re-renders any old run from its `results.json`. Files are written
//! atomically (temp file, then rename): a reader never sees half a report.
//!
//! - [`markdown`]: the human report (a minijinja template, embedded in the binary).
//! - [`csv`]: one row per raw sample, for analysis elsewhere.
//! - [`plots`]: the speed-up chart, latency distributions per case group, scaling charts per
//!   sweep.
//! - [`format`]: how numbers read (adaptive time units, 3 significant digits).

pub mod csv;
pub mod format;
mod groups;
pub mod markdown;
pub mod plots;
mod summary;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::results::RunResults;
use crate::results::store::write_atomic;

/// Renders every report of `results` into `dir` (created if needed): `samples.csv`,
/// `report.md`, and `plots/<name>.svg` + `plots/<name>.png` (in that order, so an error
/// in plotting leaves the first two written). Returns the paths written.
pub fn render_all(results: &RunResults, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();

    // The data and the report first: a plotting failure must not cost them.
    let samples = dir.join("samples.csv");
    write_atomic(&samples, &csv::samples_csv(results)?)?;
    written.push(samples);

    // The speed-ups' bootstraps are the slowest part: both the summary and its chart use
    // these.
    let speed_ups = groups::SpeedUps::of(results);
    let report = dir.join("report.md");
    write_atomic(
        &report,
        markdown::render_with(results, &speed_ups)?.as_bytes(),
    )?;
    written.push(report);

    let plots = plots::render_with(results, &speed_ups, &dir.join("plots"));
    written.extend(plots.context("drawing plots")?);
    Ok(written)
}

/// A file-name stem from an id such as `forward/batch=1,seq_len=8/threads=1`: ASCII letters,
/// digits, `.`, `_` and `-` only (`=` becomes `-`, everything else `_`, runs collapsed), at
/// most 100 characters (longer ones end in a hash of the full id, so they stay distinct).
pub fn file_stem(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        let mapped = match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            '=' => '-',
            _ => '_',
        };
        let last = out.chars().last();
        if (mapped == '_' || mapped == '-') && last == Some(mapped) {
            continue;
        }
        out.push(mapped);
    }
    let mut out = out
        .trim_matches(|c| c == '_' || c == '-' || c == '.')
        .to_string();
    if out.is_empty() {
        out = "plot".to_string();
    }
    const MAX: usize = 100;
    if out.len() > MAX {
        out.truncate(MAX - 17);
        out.push_str(&format!("-{:016x}", engine::hash::fnv1a(id.as_bytes())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::demo;

    #[test]
    fn file_stems_are_safe_and_distinct() {
        assert_eq!(
            file_stem("forward/batch=1,seq_len=8/threads=1"),
            "forward_batch-1_seq_len-8_threads-1"
        );
        assert_eq!(file_stem("a b//c"), "a_b_c");
        assert_eq!(file_stem("../x"), "x");
        assert_eq!(file_stem("///"), "plot");
        let long_a = format!("{}a", "x".repeat(200));
        let long_b = format!("{}b", "x".repeat(200));
        assert_eq!(file_stem(&long_a).len(), 100);
        assert_ne!(file_stem(&long_a), file_stem(&long_b));
    }

    #[test]
    fn render_all_writes_every_file() {
        let results = demo::run();
        let dir = demo::temp_dir("render-all");
        let written = render_all(&results, &dir).unwrap();
        for name in ["report.md", "samples.csv"] {
            assert!(
                written.contains(&dir.join(name)),
                "{name} not in {written:?}"
            );
        }
        let svgs: Vec<_> = written
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .collect();
        let pngs: Vec<_> = written
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        assert!(!svgs.is_empty());
        assert_eq!(svgs.len(), pngs.len());
        for p in &written {
            let bytes = std::fs::read(p).unwrap();
            assert!(!bytes.is_empty(), "{} is empty", p.display());
            match p.extension().and_then(|e| e.to_str()) {
                Some("png") => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", p.display()),
                Some("svg") => {
                    let text = String::from_utf8(bytes).unwrap();
                    assert!(
                        text.contains("<svg") && text.trim_end().ends_with("</svg>"),
                        "{}",
                        p.display()
                    );
                }
                _ => {}
            }
        }
        // No temporary files are left behind.
        for d in [dir.clone(), dir.join("plots")] {
            for e in std::fs::read_dir(&d).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with('.'), "left over: {name}");
            }
        }
        // Re-rendering over an old report works and gives the same report.
        let first = std::fs::read_to_string(dir.join("report.md")).unwrap();
        render_all(&results, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("report.md")).unwrap(),
            first
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
