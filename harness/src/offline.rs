//! The offline scenario's summary: items per second at each batch of a case group, and the
//! batch that wins.
//!
//! An offline case measures one batch size: every sample is one pass over the pool in whole
//! batches, timed per batch, so `items / median` is the throughput at the median pass, with
//! the interval mapped from the median's. The cases of a scenario that differ only in their
//! batch form a group; the batch with the highest median throughput wins it.

use std::collections::BTreeMap;

use crate::results::{CaseResult, Mode, value_text};

/// One offline case's throughput.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    pub batch: u64,
    pub pool: u64,
    /// Items per second at the median batch time, and its confidence interval.
    pub items_per_s: f64,
    pub ci: (f64, f64),
    /// Items per second over the measured wall time of every pass.
    pub wall_items_per_s: f64,
    /// Median seconds of one batch.
    pub batch_s: f64,
}

impl Throughput {
    /// `None` for cases that are not offline or were not measured.
    pub fn of(case: &CaseResult) -> Option<Throughput> {
        let Mode::Offline { pool } = case.mode else {
            return None;
        };
        let s = case.summary.as_ref().filter(|_| case.is_measured())?;
        let (items_per_s, lo, hi) = case.items_per_s_at_median()?;
        Some(Throughput {
            batch: case.items_per_iteration,
            pool,
            items_per_s,
            ci: (lo, hi),
            wall_items_per_s: s.items_per_s,
            batch_s: s.median_s,
        })
    }
}

/// The key of an offline case's group: everything but its batch.
fn group_key(case: &CaseResult) -> String {
    let params: Vec<String> = case
        .params
        .iter()
        .filter(|(k, _)| *k != "batch")
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect();
    format!(
        "{}/{}/{}/{}",
        case.scenario,
        params.join(","),
        case.subject,
        case.threads
    )
}

/// The winning case of every offline group, by group, in the order groups first appear.
pub fn winners(cases: &[CaseResult]) -> Vec<(&CaseResult, Throughput)> {
    let mut best: BTreeMap<String, (usize, &CaseResult, Throughput)> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(t) = Throughput::of(case) else {
            continue;
        };
        let key = group_key(case);
        match best.get(&key) {
            Some((_, _, b)) if b.items_per_s >= t.items_per_s => {}
            Some(&(first, ..)) => {
                best.insert(key, (first, case, t));
            }
            None => {
                best.insert(key, (i, case, t));
            }
        }
    }
    let mut out: Vec<(usize, &CaseResult, Throughput)> = best.into_values().collect();
    out.sort_by_key(|(first, ..)| *first);
    out.into_iter().map(|(_, c, t)| (c, t)).collect()
}

/// Whether `case` is the winner of its offline group.
pub fn is_winner(case: &CaseResult, winners: &[(&CaseResult, Throughput)]) -> bool {
    winners.iter().any(|(w, _)| w.id == case.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::summarize_case;
    use crate::testing::Synth;

    fn offline(batch: i64, subject: &str, batch_s: f64) -> CaseResult {
        let mut c = Synth {
            median_s: batch_s,
            ..Synth::new("o", subject)
        }
        .with_params(&[("batch", batch), ("seq_len", 8)])
        .case();
        c.mode = Mode::Offline { pool: 16 };
        c.items_per_iteration = batch as u64;
        c.summary = summarize_case(&c);
        c
    }

    #[test]
    fn the_batch_with_the_most_items_per_second_wins_its_group() {
        // Batch 4 in 10 ms beats batch 1 in 3 ms (400 against 333 items/s) and batch 16 in
        // 50 ms (320); the other subject's group is separate.
        let cases = vec![
            offline(1, "a", 0.003),
            offline(4, "a", 0.010),
            offline(16, "a", 0.050),
            offline(1, "b", 0.001),
        ];
        let w = winners(&cases);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].0.id, "o/batch=4,seq_len=8/a/threads=1");
        let t = &w[0].1;
        assert!((t.items_per_s / 400.0 - 1.0).abs() < 0.03, "{t:?}");
        assert!(t.ci.0 <= t.items_per_s && t.items_per_s <= t.ci.1);
        assert_eq!((t.batch, t.pool), (4, 16));
        assert_eq!(w[1].0.id, "o/batch=1,seq_len=8/b/threads=1");
        assert!(is_winner(&cases[1], &w) && !is_winner(&cases[0], &w));
        // Latency cases have no offline throughput.
        let mut latency = cases[0].clone();
        latency.mode = Mode::Latency;
        assert_eq!(Throughput::of(&latency), None);
    }
}
