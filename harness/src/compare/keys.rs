//! How cases of two runs are matched: by suite (name and file hash, checked once per run
//! pair), then scenario, every workload parameter, subject and thread setting. The case id
//! is not used as the key, since it names only the swept parameters: a `--set` that changed
//! a fixed parameter must not match.

use crate::results::{CaseResult, threads_text, value_text};

fn params_text(case: &CaseResult) -> String {
    case.params
        .iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The matching key of a case: `scenario/k=v,.../subject/threads=N`, with every workload
/// parameter (sorted), not only the swept ones.
pub fn case_key(case: &CaseResult) -> String {
    join(
        &case.scenario,
        &params_text(case),
        Some(&case.subject),
        case.threads,
    )
}

/// The key of a case's group (the same case on every subject): `scenario/k=v,.../threads=N`.
pub fn group_key(case: &CaseResult) -> String {
    join(&case.scenario, &params_text(case), None, case.threads)
}

/// A group as a reader sees it: `scenario · k=v, k=v · threads=N`.
pub fn group_label(case: &CaseResult) -> String {
    let mut parts = vec![case.scenario.clone()];
    if !case.params.is_empty() {
        let params: Vec<String> = case
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect();
        parts.push(params.join(", "));
    }
    parts.push(format!("threads={}", threads_text(case.threads)));
    parts.join(" · ")
}

fn join(scenario: &str, params: &str, subject: Option<&str>, threads: usize) -> String {
    let mut parts = vec![scenario.to_string()];
    if !params.is_empty() {
        parts.push(params.to_string());
    }
    if let Some(s) = subject {
        parts.push(s.to_string());
    }
    parts.push(format!("threads={}", threads_text(threads)));
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Synth;

    #[test]
    fn keys_name_every_parameter() {
        let case = Synth::new("forward", "engine-cpu")
            .with_params(&[("seq_len", 8), ("batch", 1)])
            .case();
        assert_eq!(
            case_key(&case),
            "forward/batch=1,seq_len=8/engine-cpu/threads=1"
        );
        assert_eq!(group_key(&case), "forward/batch=1,seq_len=8/threads=1");
        assert_eq!(
            group_label(&case),
            "forward · batch=1, seq_len=8 · threads=1"
        );
        let bare = Synth {
            threads: 0,
            ..Synth::new("default", "reference")
        }
        .case();
        assert_eq!(case_key(&bare), "default/reference/threads=all");
    }
}
