//! `harness site`: every run under a results root as a static HTML site that opens from
//! `file://` with no server.
//!
//! - `index.html`: suites × machines, and every run of every suite.
//! - `SUITE/RUN/index.html`: the run's report, rendered as `harness report` renders it.
//! - `SUITE/index.html`: the suite's history, as `harness history` writes it, with charts.
//! - `SUITE/compare.html`: any two runs of the suite side by side.
//!
//! The report and history pages are the markdown those commands write, turned into HTML, so
//! the site cannot say something else than they do. Only the compare view runs a script
//! (`assets/site.js`, ours, no library): a page per pair of runs would grow as the square of
//! the runs. It shows medians and their intervals as stored; the verdict, with its noise
//! threshold, is `harness compare`'s.

mod pages;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::compare::CompareOptions;
use crate::compare::commands::{SuiteRuns, parse_percent, read_suite_dir, write_history};
use crate::compare::history::History;
use crate::results::RunResults;
use crate::results::store::write_atomic;

#[derive(Args, Clone, Debug)]
pub struct SiteArgs {
    /// Results root: every ROOT/SUITE/RUN/results.json is a run.
    #[arg(long, default_value = "results")]
    pub root: PathBuf,
    /// Where to write the site.
    #[arg(long, default_value = "site")]
    pub out: PathBuf,
    /// Minimum noise threshold for the history's step changes, in percent.
    #[arg(long, value_name = "PCT", default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
}

pub fn site(args: SiteArgs) -> Result<ExitCode> {
    let mut suites = scan(&args.root)?;
    if suites.iter().all(|s| s.runs.is_empty()) {
        anyhow::bail!(
            "{}: no runs (expected ROOT/SUITE/RUN/results.json)",
            args.root.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write_atomic(&args.out.join("site.css"), pages::CSS.as_bytes())?;
    write_atomic(&args.out.join("site.js"), pages::JS.as_bytes())?;
    let mut run_count = 0;
    for suite in &mut suites {
        let dir = args.out.join(&suite.name);
        // A run whose page fails (a plot, a full disk) is listed as not shown, and every
        // other page is still written.
        for (path, run) in std::mem::take(&mut suite.runs) {
            match run_page(&suite.name, &path, &run, &dir) {
                Ok(()) => suite.runs.push((path, run)),
                Err(e) => {
                    eprintln!("warning: {}: page not written: {e:#}", path.display());
                    suite
                        .skipped
                        .push((path, format!("its page could not be written: {e:#}")));
                }
            }
        }
        run_count += suite.runs.len();
        if suite.runs.is_empty() {
            continue; // only unreadable runs: the index lists them
        }
        let h = History::build(
            &suite.name,
            suite.runs.clone(),
            suite.skipped.clone(),
            args.threshold,
            &CompareOptions::default().stats,
        );
        let (md_path, _) = write_history(&h, &dir)?;
        let md = std::fs::read_to_string(md_path)?;
        let title = format!("{} · history", suite.name);
        write_atomic(
            &dir.join("index.html"),
            pages::markdown_page(&title, 1, &md).as_bytes(),
        )?;
        write_atomic(
            &dir.join("compare.html"),
            pages::compare_page(suite)?.as_bytes(),
        )?;
    }
    let index = args.out.join("index.html");
    write_atomic(&index, pages::index_page(&suites, &args.root).as_bytes())?;
    let machines = pages::machines(&suites);
    println!(
        "{run_count} runs of {} suites on {} machines",
        suites.len(),
        machines.len()
    );
    println!("{}", index.display());
    Ok(ExitCode::SUCCESS)
}

/// `SUITE/RUN/index.html`: the run's report, rendered into the run's folder under `dir`.
fn run_page(suite: &str, path: &Path, run: &RunResults, dir: &Path) -> Result<()> {
    let folder = pages::folder(path);
    let run_dir = dir.join(&folder);
    crate::report::render_all(run, &run_dir)?;
    let md = std::fs::read_to_string(run_dir.join("report.md"))?;
    write_atomic(
        &run_dir.join("index.html"),
        pages::markdown_page(&format!("{suite} · {folder}"), 2, &md).as_bytes(),
    )
}

/// Every folder under `root` that holds runs, as a suite; folders with none (baselines,
/// calibration, history) are not suites and are passed over.
fn scan(root: &Path) -> Result<Vec<SuiteRuns>> {
    let entries = std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))?;
    let mut by_name: BTreeMap<String, SuiteRuns> = BTreeMap::new();
    for entry in entries {
        let dir = entry?.path();
        let holds_runs = dir.is_dir()
            && std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok())
                .any(|e| e.path().join("results.json").is_file());
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !holds_runs {
            continue;
        }
        let mut found = read_suite_dir(root, name)?;
        // Oldest first, as the history orders them.
        found
            .runs
            .sort_by(|a, b| (&a.1.started_at, &a.1.run_id).cmp(&(&b.1.started_at, &b.1.run_id)));
        by_name.insert(name.to_string(), found);
    }
    Ok(by_name.into_values().collect())
}
