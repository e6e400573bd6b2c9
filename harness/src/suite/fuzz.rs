//! Hostile suites: whatever text a suite file holds, loading it gives a suite or an error
//! that names the file, never a panic. Property tests over mutations of a valid suite
//! (bytes deleted, duplicated, replaced; values swapped for huge, negative, non-finite or
//! mistyped ones) and over arbitrary text.

use proptest::prelude::*;

use super::{LoadOptions, load};

const GOOD: &str = r#"[suite]
name = "fuzz"
description = "property test"

[workload]
kind = "linear"
params = { batch = 4, in_features = 8, out_features = 4 }

[subjects]
run = ["reference", "engine-cpu"]
threads = [1, "all"]

[measure]
min_time = "0.1s"

[check]
atol = 1e-5

[[scenario]]
name = "sweep"
sweep = { batch = [1, 2] }
"#;

const PROFILE: &str = r#"
[measure]
warmup = "auto"
max_warmup = "0.1s"
min_iterations = 5
min_time = "0.1s"
max_time = "1s"
min_sample_time = "1ms"
rounds = 5
timeout = "10s"
"#;

/// Loads `text` as `suites/fuzz.toml`; the error, if any, must name that file.
fn load_text(text: &str, sets: Vec<String>) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::create_dir_all(dir.path().join("configs")).unwrap();
    std::fs::write(dir.path().join("suites/fuzz.toml"), text).unwrap();
    std::fs::write(dir.path().join("configs/p.toml"), PROFILE).unwrap();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        profile: "p".into(),
        sets,
        subjects: None,
        threads: None,
        scenarios: None,
    };
    match load("fuzz", &opts) {
        Ok(_) => Ok(()),
        Err(e) => {
            let shown = e.to_string();
            assert!(
                shown.contains("suites/fuzz.toml")
                    || shown.contains("configs/p.toml")
                    || shown.contains("--set"),
                "an error must say where: {shown}"
            );
            Err(shown)
        }
    }
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("100000000000000000000".to_string()),
        Just("9223372036854775807".to_string()),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        Just("1e308".to_string()),
        Just("\"\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        Just("\"../../etc\"".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        "[a-z]{0,8}".prop_map(|s| format!("\"{s}\"")),
    ]
}

#[test]
fn the_valid_suite_loads() {
    // The mutations below start from a suite that loads, so they test the damage.
    let loaded = load_text(GOOD, Vec::new());
    assert!(loaded.is_ok(), "{loaded:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_value_in_any_place_is_a_suite_or_an_error(
        at in 0usize..GOOD.matches('=').count(),
        v in value(),
    ) {
        // Replace the right-hand side of the `at`-th assignment.
        let mut out = String::new();
        let mut seen = 0;
        for line in GOOD.lines() {
            match line.split_once(" = ") {
                Some((key, _)) if seen == at => {
                    out.push_str(&format!("{key} = {v}\n"));
                    seen += 1;
                }
                Some(_) => {
                    out.push_str(line);
                    out.push('\n');
                    seen += 1;
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let _ = load_text(&out, Vec::new());
    }

    #[test]
    fn byte_level_damage_is_a_suite_or_an_error(
        cut in 0usize..GOOD.len(),
        len in 0usize..40,
        insert in "[\\[\\]{}=\"'#,.0-9a-z \n-]{0,12}",
    ) {
        let mut text = GOOD.as_bytes().to_vec();
        let end = (cut + len).min(text.len());
        text.splice(cut..end, insert.bytes());
        let _ = load_text(&String::from_utf8_lossy(&text), Vec::new());
    }

    #[test]
    fn arbitrary_text_is_an_error(text in "\\PC{0,300}") {
        let _ = load_text(&text, Vec::new());
    }

    #[test]
    fn any_set_override_is_a_suite_or_an_error(
        key in prop_oneof![
            Just("measure.rounds"), Just("measure.min_time"), Just("check.atol"),
            Just("check.rtol"), Just("workload.seed"), Just("workload.params.batch"),
            Just("workload.params.in_features"), Just("nosuch.key"), Just("measure"),
        ],
        v in value(),
    ) {
        let _ = load_text(GOOD, vec![format!("{key}={v}")]);
    }
}
