//! `samples.csv`: every raw sample of the run, one row each, for analysis in any tool.
//!
//! Columns: `case_id, scenario, <one column per parameter>, subject, threads, round,
//! sample_index, iterations_per_sample, seconds`. The parameter columns are the union over
//! all cases, sorted by name, empty where a case lacks one; a parameter whose name clashes
//! with a fixed column gets a `param_` prefix. `threads` is the resolved thread count,
//! `sample_index` counts from 0 within its round, and `seconds` is the per-iteration time
//! (the sample's time divided by `iterations_per_sample`), as recorded in `samples_s`.
//! Samples that no round accounts for (an interrupted run) have an empty `round` and
//! `iterations_per_sample`.

use std::collections::BTreeSet;

use crate::results::{CaseResult, RunResults};

use crate::results::value_text;

const FIXED: [&str; 8] = [
    "case_id",
    "scenario",
    "subject",
    "threads",
    "round",
    "sample_index",
    "iterations_per_sample",
    "seconds",
];

/// The CSV text of every sample of `results`.
pub fn samples_csv(results: &RunResults) -> anyhow::Result<Vec<u8>> {
    let params: Vec<&String> = results
        .cases
        .iter()
        .flat_map(|c| c.params.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut w = ::csv::Writer::from_writer(Vec::new());

    let mut header: Vec<String> = vec![FIXED[0].into(), FIXED[1].into()];
    header.extend(params.iter().map(|p| {
        if FIXED.contains(&p.as_str()) {
            format!("param_{p}")
        } else {
            p.to_string()
        }
    }));
    header.extend(FIXED[2..].iter().map(|s| s.to_string()));
    w.write_record(&header)?;

    for case in &results.cases {
        let threads = if case.threads_resolved > 0 {
            case.threads_resolved
        } else {
            case.threads
        };
        let mut prefix: Vec<String> = vec![case.id.clone(), case.scenario.clone()];
        prefix.extend(
            params
                .iter()
                .map(|p| case.params.get(*p).map(value_text).unwrap_or_default()),
        );
        prefix.push(case.subject.clone());
        prefix.push(threads.to_string());
        for (round, index, per_sample, seconds) in attributed(case) {
            let mut row = prefix.clone();
            row.push(round.map(|r| r.to_string()).unwrap_or_default());
            row.push(index.to_string());
            row.push(per_sample.map(|n| n.to_string()).unwrap_or_default());
            // `{}` prints the shortest text that parses back to the same f64.
            row.push(format!("{seconds}"));
            w.write_record(&row)?;
        }
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing samples.csv: {e}"))
}

/// Each sample of `case` with its round, index within the round, and iterations per sample:
/// `samples_s` holds the rounds' samples back to back, `rounds[i].samples` of each.
fn attributed(case: &CaseResult) -> Vec<(Option<u32>, usize, Option<u64>, f64)> {
    let mut out = Vec::with_capacity(case.samples_s.len());
    let mut rest = case.samples_s.as_slice();
    for round in &case.rounds {
        let take = round.samples.min(rest.len());
        let (mine, tail) = rest.split_at(take);
        out.extend(
            mine.iter()
                .enumerate()
                .map(|(i, &s)| (Some(round.round), i, Some(round.iterations_per_sample), s)),
        );
        rest = tail;
    }
    out.extend(rest.iter().enumerate().map(|(i, &s)| (None, i, None, s)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::demo;

    #[test]
    fn one_row_per_sample_with_param_columns() {
        let results = demo::run();
        let text = String::from_utf8(samples_csv(&results).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "case_id,scenario,batch,seq_len,subject,threads,round,sample_index,iterations_per_sample,seconds"
        );
        let total: usize = results.cases.iter().map(|c| c.samples_s.len()).sum();
        assert_eq!(lines.clone().count(), total);

        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        // The first case: engine-cpu at seq_len=8, 100 samples in two rounds of 50.
        let case = &results.cases[0];
        let first = &rows[0];
        assert_eq!(&first[0], case.id);
        assert_eq!(
            (&first[1], &first[2], &first[3], &first[4]),
            ("forward", "1", "8", "engine-cpu")
        );
        assert_eq!(
            (&first[5], &first[6], &first[7], &first[8]),
            ("1", "1", "0", "1")
        );
        assert_eq!(first[9].parse::<f64>().unwrap(), case.samples_s[0]);
        let row_50 = &rows[50];
        assert_eq!((&row_50[6], &row_50[7]), ("2", "0"));
        assert_eq!(row_50[9].parse::<f64>().unwrap(), case.samples_s[50]);
        // The pipeline case has no parameters: empty cells.
        let pipeline = rows.iter().find(|r| &r[1] == "pipeline").unwrap();
        assert_eq!((&pipeline[2], &pipeline[3]), ("", ""));
    }

    #[test]
    fn unattributed_samples_and_clashing_names() {
        let mut results = demo::run();
        results.cases.truncate(1);
        let case = &mut results.cases[0];
        case.params.insert("threads".into(), serde_json::json!("x"));
        case.rounds.truncate(1); // 50 of 100 samples now belong to no round
        let text = String::from_utf8(samples_csv(&results).unwrap()).unwrap();
        assert!(text.starts_with("case_id,scenario,batch,seq_len,param_threads,subject,threads,"));
        let rows: Vec<::csv::StringRecord> = ::csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows.len(), 100);
        let last = &rows[99];
        assert_eq!(
            (&last[4], &last[6], &last[7], &last[8], &last[9]),
            ("x", "1", "", "49", "")
        );
    }
}
