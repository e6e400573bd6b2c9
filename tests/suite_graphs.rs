//! Every suite's graphs on every subject the suite lists, against the reference interpreter:
//! the first case of each scenario (sweeps list their smallest values first), built exactly
//! as a worker builds it, run on one thread and checked with the suite's own tolerance.
//!
//! A subject or workload that cannot run here (baseline library or weights not installed) is
//! skipped with its reason, except under CI (`CI` set), where that fails the test.

use std::path::Path;

use engine::Parity;
use harness::suite::{self, LoadOptions};
use harness::workloads::{self, Unavailable};

fn skip_or_fail(what: &str) {
    assert!(std::env::var_os("CI").is_none(), "{what}");
    eprintln!("skipped: {what}");
}

#[test]
fn every_suite_graph_matches_the_reference_on_every_subject() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let names = suite::available_suites(root);
    assert!(names.len() >= 5, "suites found: {names:?}");
    let mut checked = Vec::new();
    for name in names {
        let opts = LoadOptions {
            root: root.into(),
            profile: "quick".into(),
            ..LoadOptions::default()
        };
        let s = suite::load(&name, &opts).unwrap_or_else(|e| panic!("{e}"));
        let (atol, rtol) = (s.info.check.atol, s.info.check.rtol);
        let mut scenarios_done: Vec<&str> = Vec::new();
        for case in &s.cases {
            if scenarios_done.contains(&case.scenario.as_str()) {
                continue;
            }
            scenarios_done.push(&case.scenario);
            let at = format!("suite {name}, scenario {}", case.scenario);
            let w = match workloads::build(&case.workload) {
                Ok(w) => w,
                Err(e) if e.downcast_ref::<Unavailable>().is_some() => {
                    skip_or_fail(&format!("{at}: {e:#}"));
                    continue;
                }
                Err(e) => panic!("{at}: {e:#}"),
            };
            let expected = engine::reference::run(&w.graph, &w.inputs)
                .unwrap_or_else(|e| panic!("{at}: reference: {e}"));
            for subject in s.subjects.iter().filter(|n| *n != "reference") {
                let sub = subjects::find(subject).unwrap_or_else(|e| panic!("{at}: {e}"));
                if let subjects::Availability::Unavailable { reason, fix } = sub.availability() {
                    skip_or_fail(&format!("{at}: {subject}: {reason} (fix: {fix})"));
                    continue;
                }
                let outputs = sub
                    .load(&w.graph, 1)
                    .and_then(|mut session| session.run(&w.inputs))
                    .unwrap_or_else(|e| panic!("{at}: {subject}: {e:#}"));
                let parity = Parity::of(&outputs, &expected, atol, rtol)
                    .unwrap_or_else(|e| panic!("{at}: {subject}: {e}"));
                assert!(parity.ok(), "{at}: {subject}: {parity:?}");
                checked.push(format!("{name}/{}/{subject}", case.scenario));
            }
        }
    }
    eprintln!("checked against the reference: {}", checked.join(", "));
    // Synthetic workloads never skip: each of these suites was checked.
    for suite in ["cnn", "distilbert", "elementwise", "linear_layer", "mlp"] {
        assert!(
            checked.iter().any(|c| c.starts_with(&format!("{suite}/"))),
            "{suite}: {checked:?}"
        );
    }
}
