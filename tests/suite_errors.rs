//! Bad suites fail before anything runs, with exit code 2 and a message naming the file,
//! the line and what was expected.

mod common;

use common::{Project, text};

const GOOD: &str = r#"[suite]
name = "tiny"
description = "test"

[workload]
kind = "elementwise"
params = { size = 8 }

[subjects]
run = ["reference"]
"#;

fn error_of(suite: &str, args: &[&str]) -> String {
    let p = Project::new();
    p.write("suites/bad.toml", suite);
    let mut all = vec!["suite", "bad", "--profile", "test"];
    all.extend_from_slice(args);
    let out = p.harness(&all);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        !p.root().join("results").exists(),
        "nothing may run for a bad suite"
    );
    text(&out.stderr)
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let err = error_of(
        &GOOD.replace(
            "description = \"test\"",
            "description = \"test\"\ncolour = 3",
        ),
        &[],
    );
    assert!(err.contains("suites/bad.toml:4"), "{err}");
    assert!(err.contains("unknown field `colour`"), "{err}");
}

#[test]
fn wrong_type_names_what_was_expected() {
    let err = error_of(&format!("{GOOD}\n[measure]\nmin_time = true\n"), &[]);
    assert!(err.contains("suites/bad.toml:13"), "{err}");
    assert!(err.contains("expected a duration"), "{err}");
}

#[test]
fn unknown_subject_lists_known_ones() {
    let err = error_of(
        &GOOD.replace("[\"reference\"]", "[\"reference\", \"tensorflow\"]"),
        &[],
    );
    assert!(err.contains("suites/bad.toml:10"), "{err}");
    assert!(err.contains("unknown subject `tensorflow`"), "{err}");
    assert!(err.contains("engine-cpu"), "{err}");
}

#[test]
fn empty_sweep_is_an_error() {
    let err = error_of(
        &format!("{GOOD}\n[[scenario]]\nname = \"s\"\nsweep = {{ size = [] }}\n"),
        &[],
    );
    assert!(err.contains("suites/bad.toml:14"), "{err}");
    assert!(
        err.contains("sweep.size: expected a non-empty list"),
        "{err}"
    );
}

#[test]
fn unknown_workload_parameter_names_the_field() {
    let err = error_of(&GOOD.replace("size = 8", "sise = 8"), &[]);
    assert!(err.contains("unknown field `sise`"), "{err}");
    assert!(err.contains("suites/bad.toml:6"), "{err}");
}

#[test]
fn bad_set_override_names_the_flag() {
    let err = error_of(GOOD, &["--set", "measure.min_tme=1s"]);
    assert!(err.contains("--set measure.min_tme=1s"), "{err}");
    assert!(err.contains("unknown field `min_tme`"), "{err}");
}

#[test]
fn suite_names_cannot_escape_suites_folder() {
    let p = Project::new();
    for name in ["../configs/test", "/etc/passwd", "a/b"] {
        let out = p.harness(&["suite", name, "--profile", "test"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("a suite name is a file name under suites/"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn missing_suite_lists_available_ones() {
    let p = Project::new();
    p.write("suites/tiny.toml", GOOD);
    let out = p.harness(&["suite", "nope", "--profile", "test"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("suites/nope.toml") && err.contains("available: tiny"),
        "{err}"
    );
}
