//! The command line: `suite`, `list`, `system`, `report` (and the hidden `worker`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::plan::Plan;
use crate::results::{Status, store};
use crate::suite::{self, LoadOptions};
use crate::{calibrate, compare, console, project_root, report, runner, system, worker};

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "graphbench: how fast is this inference engine, really, on this machine?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run `suites/NAME.toml` and write results, CSV, report and plots.
    Suite {
        name: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// List suites and subjects (with availability, and why not).
    List,
    /// Print the machine information recorded with every run, as JSON.
    System,
    /// Re-render report.md, samples.csv and plots of a results folder from its results.json.
    Report { dir: PathBuf },
    /// Compare two runs case by case (B against A): writes compare.md and a chart.
    Compare(compare::commands::CompareArgs),
    /// Gate CI: compare a run with a baseline; exit 0 nothing regressed, 1 regressed, 2 bad input.
    Check(compare::commands::CheckArgs),
    /// Every stored run of a suite as a time series per case, with step changes flagged.
    History(compare::commands::HistoryArgs),
    /// Write a static HTML site of every run under a results root: index, reports, histories, compare view.
    Site(crate::site::SiteArgs),
    /// Run a suite twice (A/A) and store each case's noise for this machine.
    Calibrate(calibrate::CalibrateArgs),
    /// Run a suite N + 1 times: false alarms of `check` over N A/A pairs, and whether it catches a known slowdown.
    Aa(crate::aa::AaArgs),
    /// Write results/baselines/SUITE/CLASS.json, the baseline of this machine class, from a run (the newest by default).
    Baseline(compare::commands::BaselineArgs),
    /// Internal: run one measurement job read from stdin (see worker::protocol).
    #[command(hide = true)]
    Worker,
}

#[derive(Args)]
struct RunArgs {
    /// Run profile from configs/: quick, default or thorough.
    #[arg(long, default_value = "default")]
    profile: String,
    /// Subjects to run instead of the suite's list, comma-separated.
    #[arg(long, value_delimiter = ',')]
    subjects: Option<Vec<String>>,
    /// Thread count instead of the suite's list (0 = all cores).
    #[arg(long, value_delimiter = ',')]
    threads: Option<Vec<usize>>,
    /// Run only these of the suite's scenarios, comma-separated.
    #[arg(long, value_delimiter = ',')]
    scenarios: Option<Vec<String>>,
    /// Results root.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Override a setting: measure.min_time=1s, check.atol=1e-3, workload.seed=7, ...
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Finish the interrupted run in DIR (a folder with results.json) instead of starting a
    /// new one; give the same suite, --profile, --subjects, --threads, --scenarios and --set as
    /// it had.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Print the cases, the memory of the largest and the estimated duration; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Run even above 500 cases or an estimate over 2 h.
    #[arg(long)]
    yes: bool,
}

/// Exit codes: 0 all cases ok or skipped, 1 some case failed or was invalid, 2 bad input.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Worker => return worker::child::main(),
        Command::Suite { name, run } => run_suite(&name, run),
        Command::List => list(),
        Command::System => {
            println!(
                "{}",
                serde_json::to_string_pretty(&system::collect()).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { dir } => rerender(&dir),
        Command::Compare(args) => compare::commands::compare(args),
        Command::Check(args) => compare::commands::check(args),
        Command::History(args) => compare::commands::history(args),
        Command::Site(args) => crate::site::site(args),
        Command::Calibrate(args) => calibrate::calibrate(args),
        Command::Aa(args) => crate::aa::aa(args),
        Command::Baseline(args) => compare::commands::baseline(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}

fn run_suite(name: &str, args: RunArgs) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        root: project_root(),
        profile: args.profile,
        sets: args.sets,
        subjects: args.subjects,
        threads: args.threads,
        scenarios: args.scenarios,
    };
    let suite = suite::load(name, &opts)?;
    eprintln!(
        "suite {}: {} cases x {} rounds (profile {}: {})",
        suite.info.name,
        suite.cases.len(),
        suite.info.measure.rounds,
        suite.info.profile,
        suite.profile_description
    );
    let plan = Plan::of(&suite);
    eprintln!("plan: {}", plan.describe());
    plan.check_memory(system::available_memory())
        .map_err(|e| anyhow::anyhow!("{}: {e}", suite.info.file))?;
    if args.dry_run {
        for case in &suite.cases {
            println!("{}", case.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(why) = plan.needs_confirmation().filter(|_| !args.yes) {
        anyhow::bail!(
            "{}: {why}; check the plan with --dry-run, and pass --yes to run it anyway",
            suite.info.file
        );
    }
    let run_opts = runner::RunOptions {
        out: args.out,
        command: std::env::args().collect(),
    };
    let (dir, mut results, ending) = match &args.resume {
        Some(dir) => runner::resume(&suite, dir)?,
        None => runner::run(&suite, &run_opts)?,
    };
    if ending == runner::Ending::Interrupted {
        crate::results::settle_interrupted(&mut results);
    }
    let written = report::render_all(&results, &dir)?;
    console::print_summary(&results);
    println!("\nresults: {}", dir.join("results.json").display());
    for path in written {
        println!("         {}", path.display());
    }
    if ending == runner::Ending::Interrupted {
        let done = results.cases.iter().map(|c| c.rounds.len()).sum::<usize>();
        let planned = results.cases.len() * results.suite.measure.rounds as usize;
        let mut again: Vec<String> = std::env::args().skip(1).collect();
        if args.resume.is_none() {
            again.extend(["--resume".to_string(), dir.display().to_string()]);
        }
        eprintln!(
            "\ninterrupted after {done} of {planned} workers; every finished round is kept. To \
             finish the run: harness {}",
            again.join(" ")
        );
        return Ok(ExitCode::from(130));
    }
    let bad = results
        .cases
        .iter()
        .any(|c| matches!(c.status, Status::Failed | Status::Invalid));
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn list() -> anyhow::Result<ExitCode> {
    let root = project_root();
    println!("suites ({}):", root.join("suites").display());
    for name in suite::available_suites(&root) {
        let opts = LoadOptions {
            root: root.clone(),
            profile: "default".into(),
            ..Default::default()
        };
        match suite::load(&name, &opts) {
            Ok(s) => println!(
                "  {name:<22} {:>4} cases  {}",
                s.cases.len(),
                s.info.description
            ),
            Err(e) => println!("  {name:<22} INVALID: {e}"),
        }
    }
    println!("\nsubjects:");
    for s in subjects::registry() {
        match s.availability() {
            subjects::Availability::Available => {
                println!(
                    "  {:<22} available    {} — {}",
                    s.name(),
                    s.version(),
                    s.description()
                )
            }
            subjects::Availability::Unavailable { reason, fix } => {
                println!("  {:<22} unavailable  {reason} (fix: {fix})", s.name())
            }
        }
    }
    println!("\nworkloads:");
    for k in crate::workloads::KINDS {
        println!("  {:<22} {}", k.name, k.description);
    }
    Ok(ExitCode::SUCCESS)
}

fn rerender(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let results = store::load(dir)?;
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        dir.parent().map(PathBuf::from).unwrap_or_default()
    };
    for path in report::render_all(&results, &dir)? {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
