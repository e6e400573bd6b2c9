//! `harness aa SUITE --pairs N`: what `check` can be trusted with on this machine, measured.
//!
//! Runs the suite N + 1 times in a row; each consecutive pair of runs (k, k + 1) is an A/A
//! pair of the same binary. Every pair is judged as `check` judges it (absolute mode, the
//! default 5% minimum threshold, no calibration): any case called slower is a **false
//! alarm**. Then the same pair again with the candidate's cases of one subject made a known
//! amount slower (every sample × (1 + slowdown)): the pair **detects** it when at least one
//! of those cases is called slower. The table goes to stdout and `ROOT/aa/SUITE.md`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use crate::compare::commands::parse_percent;
use crate::compare::{CompareOptions, compare_runs};
use crate::results::{RunResults, scale_case, store};
use crate::suite::{self, LoadOptions};
use crate::{project_root, runner};

#[derive(Args, Clone, Debug)]
pub struct AaArgs {
    /// The suite to run N + 1 times.
    pub suite: String,
    /// A/A pairs to judge (consecutive runs).
    #[arg(long, default_value_t = 10)]
    pub pairs: usize,
    /// The known slowdown injected into the candidate of each pair, in percent.
    #[arg(long, value_name = "PCT", default_value = "10", value_parser = parse_percent)]
    pub slowdown: f64,
    /// The subject made slower.
    #[arg(long, default_value = "engine-cpu")]
    pub subject: String,
    /// Minimum noise threshold of the verdicts, in percent (as `check --threshold`).
    #[arg(long, value_name = "PCT", default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
    /// Run profile from configs/.
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Override a setting, as for `suite`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Results root: runs go to ROOT/aa/runs/, the table to ROOT/aa/SUITE.md.
    #[arg(long, default_value = "results")]
    pub root: PathBuf,
}

/// One pair's outcome.
struct PairOutcome {
    /// Cases called slower in the A/A comparison (false alarms).
    false_alarms: Vec<String>,
    /// Of the slowed subject's cases, how many were called slower, of how many compared.
    detected: (usize, usize),
    /// The median threshold used, a fraction.
    threshold: f64,
}

pub fn aa(args: AaArgs) -> Result<ExitCode> {
    if args.pairs == 0 {
        bail!("--pairs: expected at least 1");
    }
    let opts = LoadOptions {
        root: project_root(),
        profile: args.profile.clone(),
        sets: args.sets.clone(),
        subjects: None,
        threads: None,
        scenarios: None,
    };
    let suite = suite::load(&args.suite, &opts)?;
    if !suite.subjects.contains(&args.subject) {
        bail!(
            "--subject {}: suite {} runs {}",
            args.subject,
            suite.info.name,
            suite.subjects.join(", ")
        );
    }
    let run_opts = runner::RunOptions {
        out: args.root.join("aa").join("runs"),
        command: std::env::args().collect(),
    };
    let mut runs: Vec<(PathBuf, RunResults)> = Vec::new();
    for i in 0..=args.pairs {
        eprintln!(
            "aa {}: run {} of {} ({} cases x {} rounds, {} profile)",
            suite.info.name,
            i + 1,
            args.pairs + 1,
            suite.cases.len(),
            suite.info.measure.rounds,
            suite.info.profile
        );
        let (dir, results, ending) = runner::run(&suite, &run_opts)?;
        if ending == runner::Ending::Interrupted {
            eprintln!("interrupted: no table written");
            return Ok(ExitCode::from(130));
        }
        runs.push((dir, results));
    }
    let compare = CompareOptions {
        min_threshold: args.threshold,
        ..CompareOptions::default()
    };
    let outcomes: Vec<PairOutcome> = runs
        .windows(2)
        .map(|w| judge(&w[0], &w[1], &args, &compare))
        .collect();
    let md = table(&args, &suite.info.name, &runs, &outcomes);
    print!("{md}");
    let out = args.root.join("aa").join(format!("{}.md", suite.info.name));
    store::write_atomic(&out, md.as_bytes())?;
    eprintln!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn judge(
    (pa, a): &(PathBuf, RunResults),
    (pb, b): &(PathBuf, RunResults),
    args: &AaArgs,
    opts: &CompareOptions,
) -> PairOutcome {
    let (la, lb) = (pa.display().to_string(), pb.display().to_string());
    let plain = compare_runs((&la, a), (&lb, b), (None, None), opts);
    let false_alarms = plain
        .cases
        .iter()
        .filter(|c| c.comparison.verdict == stats::Verdict::Slower)
        .map(|c| c.id.clone())
        .collect();
    let mut thresholds: Vec<f64> = plain.cases.iter().map(|c| c.threshold.value).collect();
    thresholds.sort_by(f64::total_cmp);
    let threshold = if thresholds.is_empty() {
        f64::NAN
    } else {
        stats::quantile(&thresholds, 0.5)
    };
    let mut slowed = b.clone();
    for case in slowed
        .cases
        .iter_mut()
        .filter(|c| c.subject == args.subject)
    {
        scale_case(case, 1.0 + args.slowdown);
    }
    let injected = compare_runs((&la, a), (&lb, &slowed), (None, None), opts);
    let theirs: Vec<_> = injected
        .cases
        .iter()
        .filter(|c| c.subject == args.subject)
        .collect();
    let caught = theirs
        .iter()
        .filter(|c| c.comparison.verdict == stats::Verdict::Slower)
        .count();
    PairOutcome {
        false_alarms,
        detected: (caught, theirs.len()),
        threshold,
    }
}

fn table(args: &AaArgs, suite: &str, runs: &[(PathBuf, RunResults)], o: &[PairOutcome]) -> String {
    let pct = crate::report::format::percent;
    let alarms = o.iter().filter(|p| !p.false_alarms.is_empty()).count();
    let detected = o.iter().filter(|p| p.detected.0 > 0).count();
    let mut md = String::new();
    let _ = writeln!(md, "## A/A and power: {suite} ({} profile)\n", args.profile);
    let _ = writeln!(
        md,
        "{} consecutive pairs of runs of one binary, judged as `harness check` does (absolute, \
         minimum threshold {}, no calibration).\n",
        o.len(),
        pct(args.threshold)
    );
    let _ = writeln!(
        md,
        "- false alarms: **{alarms} of {} pairs** called a case slower",
        o.len()
    );
    let _ = writeln!(
        md,
        "- {} slower {}: **detected in {detected} of {} pairs**\n",
        pct(args.slowdown),
        args.subject,
        o.len()
    );
    let _ = writeln!(
        md,
        "| pair | A | B | median threshold | cases called slower (A/A) | {} cases caught at +{} |",
        args.subject,
        pct(args.slowdown)
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (i, p) in o.iter().enumerate() {
        let slower = if p.false_alarms.is_empty() {
            "0".to_string()
        } else {
            format!("{}: {}", p.false_alarms.len(), p.false_alarms.join(", "))
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | ±{} | {slower} | {} of {} |",
            i + 1,
            runs[i].1.run_id,
            runs[i + 1].1.run_id,
            pct(p.threshold),
            p.detected.0,
            p.detected.1
        );
    }
    md
}
