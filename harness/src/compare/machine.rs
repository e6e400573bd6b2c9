//! Whether two runs' absolute times may be compared: the comparability key.
//!
//! The key is the CPU model, architecture, logical core count, GPUs, OS (name and version),
//! every subject's version (the engine's names the SIMD level it picked) and how each thread
//! setting resolved. If any of these differ, a time measured in one run says nothing about
//! the other, and comparisons switch to machine-independent quantities (see
//! [`super::ratios`]). Everything else that differs (kernel, frequency policy, commit, build,
//! profile) is shown in the environment table but does not block.

use serde::{Deserialize, Serialize};

use crate::results::RunResults;

/// One field of the comparability key, e.g. `("CPU model", "AMD EPYC 9R14")`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyField {
    pub name: String,
    pub value: String,
}

/// One way two runs' environments differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvDiff {
    pub what: String,
    pub a: String,
    pub b: String,
    /// Part of the comparability key: absolute times may not be compared.
    pub blocks_absolute: bool,
}

/// The comparability key of a run, in a fixed order: machine fields first, then one field
/// per subject (`subject NAME`) and per thread setting (`threads=N resolves to`).
pub fn comparability_key(run: &RunResults) -> Vec<KeyField> {
    let s = &run.system;
    let field = |name: &str, value: String| KeyField {
        name: name.to_string(),
        value,
    };
    let gpus = if s.gpus.is_empty() {
        "none".to_string()
    } else {
        s.gpus
            .iter()
            .map(|g| g.name.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let os = [s.os_name.as_deref(), s.os_version.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut key = vec![
        field("CPU model", s.cpu_model.clone()),
        field("architecture", s.arch.clone()),
        field("logical cores", s.logical_cores.to_string()),
        field("GPUs", gpus),
        field("OS", if os.is_empty() { "unknown".into() } else { os }),
    ];
    for subject in &run.subjects {
        key.push(field(
            &format!("subject {}", subject.name),
            subject.version.clone(),
        ));
    }
    let mut threads: Vec<(usize, usize)> = run
        .cases
        .iter()
        .map(|c| (c.threads, c.threads_resolved))
        .collect();
    threads.sort_unstable();
    threads.dedup();
    for (asked, resolved) in threads {
        if resolved == 0 {
            continue; // not run (skipped or pending): resolved to nothing yet
        }
        let name = format!(
            "threads={} resolves to",
            crate::results::threads_text(asked)
        );
        key.push(field(&name, resolved.to_string()));
    }
    key
}

/// The file name (without `.json`) of `run`'s baseline in `baselines/SUITE/`: the CPU model
/// as a slug, then a hash of the whole comparability key, e.g. `amd-epyc-1a2b3c4d`. Runs on
/// machines whose times (or whose subjects' builds) compare get the same name.
pub fn class_name(run: &RunResults) -> String {
    let key = comparability_key(run);
    let text: Vec<String> = key
        .iter()
        .map(|f| format!("{}={}", f.name, f.value))
        .collect();
    let hash = engine::hash::fnv1a(text.join("\n").as_bytes());
    let model: String = run
        .system
        .cpu_model
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let model = model
        .split('-')
        .filter(|w| !w.is_empty() && !matches!(*w, "r" | "tm" | "processor" | "cpu"))
        .take(4)
        .collect::<Vec<_>>()
        .join("-");
    format!("{model}-{:08x}", hash as u32)
}

/// The key fields that differ between `a` and `b`. Subject and thread fields count only
/// where both runs have them (a subject in one run only has no cases to compare anyway).
pub fn key_differences(a: &[KeyField], b: &[KeyField]) -> Vec<EnvDiff> {
    a.iter()
        .filter_map(|fa| {
            let fb = b.iter().find(|fb| fb.name == fa.name)?;
            (fa.value != fb.value).then(|| EnvDiff {
                what: fa.name.clone(),
                a: fa.value.clone(),
                b: fb.value.clone(),
                blocks_absolute: true,
            })
        })
        .collect()
}

/// Every difference between the environments of `a` and `b`: the comparability key's first
/// (blocking), then the rest (shown, not blocking).
pub fn environment_differences(a: &RunResults, b: &RunResults) -> Vec<EnvDiff> {
    let mut diffs = key_differences(&comparability_key(a), &comparability_key(b));
    for (what, va, vb) in informational(a)
        .into_iter()
        .zip(informational(b))
        .map(|((w, va), (_, vb))| (w, va, vb))
    {
        if va != vb {
            diffs.push(EnvDiff {
                what: what.to_string(),
                a: va,
                b: vb,
                blocks_absolute: false,
            });
        }
    }
    diffs
}

/// Fields shown when they differ but that do not decide comparability.
fn informational(r: &RunResults) -> Vec<(&'static str, String)> {
    let s = &r.system;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "unknown".to_string());
    let h = &r.harness;
    let commit = match (&h.git_commit, h.git_dirty) {
        (Some(c), Some(true)) => format!("{c} (dirty)"),
        (Some(c), _) => c.clone(),
        (None, _) => "unknown".to_string(),
    };
    vec![
        ("machine (hostname)", opt(s.hostname.clone())),
        ("kernel", opt(s.kernel.clone())),
        (
            "CPUs available to the process",
            opt(s.available_parallelism.map(|n| n.to_string())),
        ),
        (
            "CPU max frequency (MHz)",
            opt(s.cpu_freq_max_mhz.map(|n| n.to_string())),
        ),
        ("scaling governor", opt(s.scaling_governor.clone())),
        ("boost", opt(s.boost.map(|b| b.to_string()))),
        ("virtualized", opt(s.virtualized.map(|b| b.to_string()))),
        (
            "memory",
            opt(s.memory_total_bytes.map(crate::report::format::bytes)),
        ),
        ("ISA extensions", s.isa_flags.join(" ")),
        ("harness version", h.version.clone()),
        ("harness commit", commit),
        (
            "build profile",
            format!(
                "{} (harness opt {}, engine opt {})",
                h.build_profile, h.harness_opt_level, h.engine_opt_level
            ),
        ),
        ("rustc", h.rustc.clone()),
        ("run profile", r.suite.profile.clone()),
        ("rounds", r.suite.measure.rounds.to_string()),
        ("workload seed", r.suite.seed.to_string()),
        (
            "overrides (--set)",
            if r.suite.overrides.is_empty() {
                "none".into()
            } else {
                r.suite.overrides.join(" ")
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Synth, run};

    #[test]
    fn same_machine_has_no_blocking_difference() {
        let a = run("s", "box", vec![Synth::new("x", "engine-cpu").case()]);
        let mut b = a.clone();
        b.harness.git_commit = Some("fedcba".into());
        let diffs = environment_differences(&a, &b);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].what, "harness commit");
        assert!(!diffs[0].blocks_absolute);
    }

    #[test]
    fn cpu_cores_subject_versions_and_threads_block() {
        let a = run(
            "s",
            "box",
            vec![
                Synth {
                    threads: 0,
                    ..Synth::new("x", "engine-cpu")
                }
                .case(),
            ],
        );
        let mut b = run(
            "s",
            "ci",
            vec![
                Synth {
                    threads: 0,
                    ..Synth::new("x", "engine-cpu")
                }
                .case(),
            ],
        );
        b.system.cpu_model = "Other CPU".into();
        b.system.logical_cores = 2;
        b.subjects[0].version = "1.1".into();
        b.cases[0].threads_resolved = 2;
        let blocking: Vec<String> = environment_differences(&a, &b)
            .into_iter()
            .filter(|d| d.blocks_absolute)
            .map(|d| d.what)
            .collect();
        assert_eq!(
            blocking,
            [
                "CPU model",
                "logical cores",
                "subject engine-cpu",
                "threads=all resolves to"
            ]
        );
    }
}
