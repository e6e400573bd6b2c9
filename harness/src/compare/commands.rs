//! The CLI entry points of `compare`, `check`, `history` and `baseline`, with their
//! arguments, and the half of `calibrate` that reads its two runs (`crate::calibrate` runs
//! them). Each returns the process exit code; an `Err` is bad input (the CLI prints it and
//! exits 2).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::history::History;
use super::noise::{self, NoiseEntry, SuiteCalibration, Threshold};
use super::{CompareOptions, RunComparison, compare_runs, keys, markdown, plot, ratios};
use crate::results::{RunResults, Status, store};

/// How changes are judged (shared by `compare` and `check`).
#[derive(Args, Clone, Debug)]
pub struct JudgeArgs {
    /// Minimum noise threshold, in percent: a change smaller than this is never called
    /// faster or slower (the measured noise of a case can raise it).
    #[arg(long, value_name = "PCT", default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
    /// Compare machine-independent ratios between subjects (each subject's time relative to
    /// every other subject's in the same run), even on the same machine. Automatic when the
    /// machines differ.
    #[arg(long)]
    pub ratios: bool,
    /// Results root: calibrations are read from ROOT/calibration/, runs found under ROOT/SUITE/.
    #[arg(long, default_value = "results")]
    pub root: PathBuf,
}

impl JudgeArgs {
    fn options(&self) -> CompareOptions {
        CompareOptions {
            min_threshold: self.threshold,
            force_ratios: self.ratios,
            ..CompareOptions::default()
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct CompareArgs {
    /// Baseline run: a results folder or its results.json.
    pub a: PathBuf,
    /// Candidate run: a results folder or its results.json.
    pub b: PathBuf,
    /// Where to write compare.md and compare.{svg,png} [default: ROOT/compare/<A>_vs_<B>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Args, Clone, Debug)]
pub struct CheckArgs {
    /// The baseline: a run (its folder or results.json), or a folder of baselines
    /// (results/baselines/SUITE/, one per machine class), from which the one made on a
    /// machine like the run's is taken.
    #[arg(long)]
    pub baseline: PathBuf,
    /// The run to check [default: the newest run of the baseline's suite under ROOT].
    pub run: Option<PathBuf>,
    /// Also write compare.md and its chart into this folder (e.g. for a CI artifact).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Args, Clone, Debug)]
pub struct HistoryArgs {
    /// The suite whose runs (ROOT/SUITE/*) to show.
    pub suite: String,
    /// Where to write history.md and its charts [default: ROOT/history/SUITE].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Minimum noise threshold for step changes, in percent.
    #[arg(long, value_name = "PCT", default_value = "5", value_parser = parse_percent)]
    pub threshold: f64,
    /// Results root.
    #[arg(long, default_value = "results")]
    pub root: PathBuf,
}

#[derive(Args, Clone, Debug)]
pub struct BaselineArgs {
    /// The suite whose baseline for this run's machine class
    /// (ROOT/baselines/SUITE/CLASS.json) to write.
    pub suite: String,
    /// The run to use [default: the newest run of SUITE under ROOT].
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Results root.
    #[arg(long, default_value = "results")]
    pub root: PathBuf,
}

/// `5`, `5%` or `2.5` → 0.05, 0.05, 0.025.
pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage (e.g. 5 or 2.5%)"))?;
    if !(0.0..100.0).contains(&v) {
        return Err(format!("{v}% is outside 0..100"));
    }
    Ok(v / 100.0)
}

/// `harness compare A B`: writes compare.md and its chart, prints a summary. Exit 0.
pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    let (ra, rb) = (load(&args.a)?, load(&args.b)?);
    let c = run_comparison(&args.a, &ra, &args.b, &rb, &args.judge)?;
    let out = args.out.unwrap_or_else(|| {
        args.judge
            .root
            .join("compare")
            .join(format!("{}_vs_{}", ra.run_id, rb.run_id))
    });
    let written = write_report(&c, &out)?;
    print!("{}", markdown::terminal_summary(&c));
    for path in written {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `harness check --baseline PATH [RUN]`: exit 0 when nothing regressed, 1 when something
/// did, 2 when the inputs cannot be compared, 3 when PATH is a folder of baselines and none
/// of them was made on a machine like the run's.
pub fn check(args: CheckArgs) -> Result<ExitCode> {
    // A run folder (with its results.json) is one baseline; any other folder holds several.
    let folder = args.baseline.is_dir() && !args.baseline.join("results.json").is_file();
    let suite = if folder {
        folder_suite(&args.baseline)?
    } else {
        load(&args.baseline)?.suite.name
    };
    let run_path = match args.run {
        Some(p) => p,
        None => newest_run(&args.judge.root, &suite)?,
    };
    let run = load(&run_path)?;
    let (base_path, base) = if folder {
        match choose_baseline(&args.baseline, &run)? {
            Ok(chosen) => chosen,
            Err(why) => {
                eprintln!("{why}");
                return Ok(ExitCode::from(3));
            }
        }
    } else {
        (args.baseline.clone(), load(&args.baseline)?)
    };
    eprintln!("baseline: {}", base_path.display());
    let c = run_comparison(&base_path, &base, &run_path, &run, &args.judge)?;
    let summary = markdown::check_md(&c);
    print!("{summary}");
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("{summary}\n").as_bytes()));
        if let Err(e) = appended {
            eprintln!(
                "warning: could not append to $GITHUB_STEP_SUMMARY ({}): {e}",
                Path::new(&path).display()
            );
        }
    }
    if let Some(out) = &args.out {
        for path in write_report(&c, out)? {
            eprintln!("{}", path.display());
        }
    }
    if markdown::suite_problem(&c).is_some() {
        return Ok(ExitCode::from(2));
    }
    if c.regressed() {
        return Ok(ExitCode::from(1));
    }
    if c.cases.is_empty() && c.pairs.is_empty() {
        eprintln!("error: nothing could be compared with the baseline, so nothing was checked");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The suite a folder of baselines belongs to: its name (`baselines/linear_layer/`).
fn folder_suite(dir: &Path) -> Result<String> {
    dir.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .with_context(|| {
            format!(
                "{}: a baseline folder is named after its suite",
                dir.display()
            )
        })
}

/// In a folder of baselines, the one to check `run` against: one made on a machine whose
/// absolute times compare (same comparability key), else one with the same CPU model and
/// subject builds (ratios compare), newest first. `Ok(Err(why))` when none fits, saying how each
/// differs and how to add one.
fn choose_baseline(dir: &Path, run: &RunResults) -> Result<Result<(PathBuf, RunResults), String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut fits = Vec::new();
    let mut misfits = Vec::new();
    for path in files {
        let base = load(&path)?;
        let blocking: Vec<_> = super::machine::environment_differences(&base, run)
            .into_iter()
            .filter(|d| d.blocks_absolute)
            .collect();
        // Even ratios between subjects move with the CPU: engine-cpu ÷ reference at batch 32
        // read 0.053 on an Intel Xeon and 0.079 on an AMD EPYC, both with AVX-512.
        let decisive = |what: &str| {
            what == "CPU model" || what == "architecture" || what.starts_with("subject ")
        };
        match blocking.iter().find(|d| decisive(&d.what)) {
            Some(d) => misfits.push(format!(
                "  {}: {} differs ({} there, {} here)",
                path.display(),
                d.what,
                d.a,
                d.b
            )),
            None => fits.push((blocking.is_empty(), base.started_at.clone(), path, base)),
        }
    }
    // Absolute fits before ratio fits, then the newest.
    fits.sort_by(|x, y| (y.0, &y.1).cmp(&(x.0, &x.1)));
    if let Some((_, _, path, base)) = fits.into_iter().next() {
        return Ok(Ok((path, base)));
    }
    let class = super::machine::class_name(run);
    let mut why = format!(
        "no baseline in {} was made on a machine like this run's (machine class {class}), so \
         nothing was checked:\n",
        dir.display()
    );
    for m in &misfits {
        why.push_str(m);
        why.push('\n');
    }
    why.push_str(&format!(
        "to gate this machine class, add its baseline and commit it: harness baseline {} --run \
         RUN (writes {}/{class}.json)",
        run.suite.name,
        dir.display()
    ));
    Ok(Err(why))
}

/// `harness history SUITE`: writes history.md and one chart per case group.
pub fn history(args: HistoryArgs) -> Result<ExitCode> {
    let found = suite_runs(&args.root, &args.suite)?;
    let h = History::build(
        &args.suite,
        found.runs,
        found.skipped,
        args.threshold,
        &CompareOptions::default().stats,
    );
    let out = args
        .out
        .unwrap_or_else(|| args.root.join("history").join(&args.suite));
    let (md_path, charts) = write_history(&h, &out)?;
    let steps = h.steps();
    println!(
        "{} runs of {}, {} series, {} step changes",
        h.runs.len(),
        args.suite,
        h.series.len(),
        steps.len()
    );
    for (s, p) in steps {
        if let Some(super::history::Step::Compared { comparison, .. }) = &p.step {
            println!(
                "  {:<9} {} at run {} ({})",
                comparison.verdict.as_str(),
                s.id,
                p.run + 1,
                h.runs[p.run].started_at
            );
        }
    }
    println!("{}", md_path.display());
    for path in charts {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// One suite's runs as found under a results root.
pub struct SuiteRuns {
    pub name: String,
    /// The runs that load, in the order found (`History::build` sorts them).
    pub runs: Vec<(PathBuf, RunResults)>,
    /// The folders with a `results.json` that do not load, or are another suite's, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// [`read_suite_dir`], and an error when it finds no readable run.
pub fn suite_runs(root: &Path, suite: &str) -> Result<SuiteRuns> {
    let found = read_suite_dir(root, suite)?;
    if found.runs.is_empty() {
        bail!(
            "no readable run of suite `{suite}` under {}",
            root.join(suite).display()
        );
    }
    Ok(found)
}

/// Every folder of `root/suite/` with a `results.json`: the runs of `suite` that load, and
/// the others with why.
pub fn read_suite_dir(root: &Path, suite: &str) -> Result<SuiteRuns> {
    let dir = root.join(suite);
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!(
            "reading {}: no runs of suite `{suite}` there",
            dir.display()
        )
    })?;
    let (mut runs, mut skipped) = (Vec::new(), Vec::new());
    for entry in entries {
        let path = entry?.path();
        if !path.join("results.json").is_file() {
            continue;
        }
        match store::load(&path) {
            Ok(r) if r.suite.name == suite => runs.push((path, r)),
            Ok(r) => skipped.push((path, format!("a run of suite `{}`", r.suite.name))),
            Err(e) => skipped.push((path, format!("{e:#}"))),
        }
    }
    Ok(SuiteRuns {
        name: suite.to_string(),
        runs,
        skipped,
    })
}

/// Writes `out/history.md` and its charts (`out/plots/`); returns the markdown's path and
/// the charts'.
pub fn write_history(h: &History, out: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let charts = plot::render_history(h, &out.join("plots"))?;
    let links: Vec<(String, String)> = h
        .groups()
        .into_iter()
        .filter(|(_, stem)| {
            charts
                .iter()
                .any(|p| p.file_stem().is_some_and(|s| s == stem.as_str()))
        })
        .map(|(group, stem)| (group, format!("plots/{stem}.svg")))
        .collect();
    let md_path = out.join("history.md");
    store::write_atomic(&md_path, h.markdown(&links).as_bytes())?;
    Ok((md_path, charts))
}

/// The second half of `harness calibrate`, on its two finished A/A runs: prints the
/// calibration summary and stores each case's noise for the runs' machine.
pub fn record_calibration(runs: [&RunResults; 2], threshold: f64, root: &Path) -> Result<()> {
    let stats_opts = CompareOptions::default().stats;
    let cal = calibration_from(runs[0], runs[1], threshold, &stats_opts);
    print!("{}", markdown::calibration_summary(&cal, threshold));
    let path = noise::save(
        root,
        &runs[1].system.machine_slug(),
        &runs[1].suite.name,
        cal,
    )?;
    println!("{}", path.display());
    Ok(())
}

/// The A/A noise of every case and subject pair measured in both `first` and `second`.
/// The recorded verdict uses `min_threshold` and the runs' round spreads, as `compare`
/// would without a calibration.
pub fn calibration_from(
    first: &RunResults,
    second: &RunResults,
    min_threshold: f64,
    opts: &stats::Options,
) -> SuiteCalibration {
    let mut cal = SuiteCalibration {
        suite_hash: second.suite.file_hash.clone(),
        profile: second.suite.profile.clone(),
        created_at: second
            .finished_at
            .clone()
            .unwrap_or_else(|| second.started_at.clone()),
        runs: vec![first.run_id.clone(), second.run_id.clone()],
        key: super::machine::comparability_key(second),
        cases: Default::default(),
        pairs: Default::default(),
    };
    let measured = |r: &RunResults, key: &str| {
        r.cases
            .iter()
            .find(|c| c.is_measured() && keys::case_key(c) == key)
            .cloned()
    };
    for c2 in second.cases.iter().filter(|c| c.is_measured()) {
        let key = keys::case_key(c2);
        let Some(c1) = measured(first, &key) else {
            continue;
        };
        let spread = super::noise::case_noise;
        let t = Threshold::decide(min_threshold, None, spread(&c1), spread(c2));
        let comparison = stats::verdict(&c1.judged(), &c2.judged(), t.value, opts);
        let rounds: Vec<f64> = c1
            .rounds
            .iter()
            .chain(&c2.rounds)
            .map(|r| r.median_s)
            .collect();
        if let Some(entry) = NoiseEntry::new(&comparison, &rounds) {
            cal.cases.insert(key, entry);
        }
    }
    for p2 in ratios::pairs(second) {
        let (Some(n1), Some(d1)) = (
            measured(first, &keys::case_key(p2.numerator)),
            measured(first, &keys::case_key(p2.denominator)),
        ) else {
            continue;
        };
        let t = Threshold::decide(
            min_threshold,
            None,
            ratios::noise(&n1, &d1),
            ratios::noise(p2.numerator, p2.denominator),
        );
        let comparison = ratios::verdict((&n1, &d1), (p2.numerator, p2.denominator), t.value, opts);
        let mut rounds = ratios::round_ratios(&n1, &d1);
        rounds.extend(ratios::round_ratios(p2.numerator, p2.denominator));
        if let Some(entry) = NoiseEntry::new(&comparison, &rounds) {
            cal.pairs.insert(p2.key.clone(), entry);
        }
    }
    cal
}

/// `harness baseline SUITE [--run DIR]`: copies a run's results.json to
/// ROOT/baselines/SUITE/CLASS.json, CLASS naming its machine class
/// ([`super::machine::class_name`]): one baseline per kind of machine that `check` meets.
pub fn baseline(args: BaselineArgs) -> Result<ExitCode> {
    let run_path = match args.run {
        Some(p) => p,
        None => newest_run(&args.root, &args.suite)?,
    };
    let run = load(&run_path)?;
    if run.suite.name != args.suite {
        bail!(
            "{} is a run of suite `{}`, not `{}`",
            run_path.display(),
            run.suite.name,
            args.suite
        );
    }
    if !run.cases.iter().any(|c| c.is_measured()) {
        bail!(
            "{}: no case was measured; not a usable baseline",
            run_path.display()
        );
    }
    let bad: Vec<&str> = run
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Failed | Status::Invalid | Status::Pending))
        .map(|c| c.id.as_str())
        .collect();
    if !bad.is_empty() {
        eprintln!(
            "warning: {} cases were not measured in this run and will not be checked: {}",
            bad.len(),
            bad.join(", ")
        );
    }
    let file = if run_path.is_dir() {
        run_path.join("results.json")
    } else {
        run_path.clone()
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let dest_dir = args.root.join("baselines").join(&args.suite);
    std::fs::create_dir_all(&dest_dir)
        .with_context(|| format!("creating {}", dest_dir.display()))?;
    let dest = dest_dir.join(format!("{}.json", super::machine::class_name(&run)));
    store::write_atomic(&dest, &bytes)?;
    println!(
        "{} ← {} (run {}, commit {}, machine {})",
        dest.display(),
        file.display(),
        run.run_id,
        super::RunLabel::new("", &run).commit,
        run.system.hostname.as_deref().unwrap_or("unknown")
    );
    println!(
        "commit it to make it the baseline of `harness check`: git add {}",
        dest.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads a run, naming the path in every error.
fn load(path: &Path) -> Result<RunResults> {
    store::load(path).with_context(|| format!("cannot use {} as a run", path.display()))
}

fn run_comparison(
    pa: &Path,
    ra: &RunResults,
    pb: &Path,
    rb: &RunResults,
    judge: &JudgeArgs,
) -> Result<RunComparison> {
    let (cal, note) = noise::lookup(&judge.root, rb)?;
    Ok(compare_runs(
        (&pa.display().to_string(), ra),
        (&pb.display().to_string(), rb),
        (cal.as_ref(), note),
        &judge.options(),
    ))
}

/// Writes compare.md and compare.{svg,png} into `out`.
fn write_report(c: &RunComparison, out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = plot::render_compare(c, out)?;
    let svg = written
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "svg"));
    let md_path = out.join("compare.md");
    store::write_atomic(
        &md_path,
        markdown::compare_md(c, svg.then_some("compare.svg")).as_bytes(),
    )?;
    written.insert(0, md_path);
    Ok(written)
}

/// The newest run folder of `suite` under `root` (folder names start with the UTC time).
pub fn newest_run(root: &Path, suite: &str) -> Result<PathBuf> {
    let dir = root.join(suite);
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!("reading {}: no runs of suite `{suite}` (run `harness suite {suite}` first, or name a run)", dir.display())
    })?;
    let mut runs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("results.json").is_file())
        .collect();
    runs.sort();
    runs.pop()
        .with_context(|| format!("{}: no run folder with a results.json", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse() {
        assert_eq!(parse_percent("5"), Ok(0.05));
        assert_eq!(parse_percent("2.5%"), Ok(0.025));
        assert!(parse_percent("x").is_err());
        assert!(parse_percent("120").is_err());
    }
}
