//! `harness calibrate SUITE`: runs the suite twice (A/A) and hands both runs to
//! [`record_calibration`] (in `compare`), which stores each case's noise for this
//! machine. The running lives here, next to the CLI, so `compare` only ever reads results.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::compare::commands::{parse_percent, record_calibration};
use crate::suite::{self, LoadOptions};
use crate::{project_root, runner};

#[derive(Args, Clone, Debug)]
pub struct CalibrateArgs {
    /// The suite to run twice (A/A).
    pub suite: String,
    /// Run profile from configs/: quick, default or thorough (use the one you compare with).
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Subjects to run instead of the suite's list, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub subjects: Option<Vec<String>>,
    /// Thread count instead of the suite's list (0 = all cores).
    #[arg(long, value_delimiter = ',')]
    pub threads: Option<Vec<usize>>,
    /// Override a setting, as for `suite`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Threshold (percent) at which the A/A verdicts are reported, as `compare` would use it.
    #[arg(long, value_name = "PCT", default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
    /// Results root: the runs go to ROOT/calibration/runs/, the noise to ROOT/calibration/<machine>.json.
    #[arg(long, default_value = "results")]
    pub root: PathBuf,
}

pub fn calibrate(args: CalibrateArgs) -> Result<ExitCode> {
    let opts = LoadOptions {
        root: project_root(),
        profile: args.profile.clone(),
        sets: args.sets.clone(),
        subjects: args.subjects.clone(),
        threads: args.threads.clone(),
        scenarios: None,
    };
    let suite = suite::load(&args.suite, &opts)?;
    let run_opts = runner::RunOptions {
        out: args.root.join("calibration").join("runs"),
        command: std::env::args().collect(),
    };
    let mut runs = Vec::new();
    for pass in 1..=2 {
        eprintln!(
            "calibrate {}: pass {pass} of 2, {} cases x {} rounds ({} profile)",
            suite.info.name,
            suite.cases.len(),
            suite.info.measure.rounds,
            suite.info.profile
        );
        let (dir, results, ending) = runner::run(&suite, &run_opts)?;
        eprintln!("  {}", dir.display());
        if ending == runner::Ending::Interrupted {
            eprintln!("interrupted: no calibration recorded");
            return Ok(ExitCode::from(130));
        }
        runs.push(results);
    }
    record_calibration([&runs[0], &runs[1]], args.threshold, &args.root)?;
    Ok(ExitCode::SUCCESS)
}
