//! What a resolved suite will cost, checked against this machine before anything runs: the
//! memory of its largest case, the number of cases and an estimate of the duration. A suite
//! that would not fit in memory is refused (exit 2, naming the case), and one that is very
//! large or very long needs `--yes`; `--dry-run` prints the plan and stops.

use crate::report::format;
use crate::suite::ResolvedSuite;

/// Bytes per f32 element of a workload: its f32 copy in the parent (4), the reference
/// interpreter's f64 copy (8) and the worker's own f32 copy (4).
const BYTES_PER_ELEMENT: u64 = 16;
/// Above this many cases a run needs `--yes`.
pub const MAX_CASES: usize = 500;
/// Above this estimated duration (seconds) a run needs `--yes`.
pub const MAX_SECONDS: f64 = 2.0 * 3600.0;
/// What starting a worker costs before measuring: spawn, load, compile, first run, parity
/// (linear_layer quick on the 2-vCPU dev machine: 140 workers in 50 s, 0.06 s of it measuring).
const WORKER_START_S: f64 = 0.25;

/// The plan of a run.
#[derive(Debug)]
pub struct Plan {
    pub cases: usize,
    pub workers: usize,
    /// The case needing the most memory (its id and workload parameters), and its estimate
    /// in bytes.
    pub largest: Option<(String, u64)>,
    /// Estimated duration, seconds: at the profile's minimum time and at its maximum
    /// (server cases' searches not included: they scale with the service time).
    pub seconds: (f64, f64),
    /// Cases of server scenarios.
    pub server_cases: usize,
    /// `measure.target_ci`, if the run samples to a precision.
    pub target_ci: Option<f64>,
}

impl Plan {
    pub fn of(suite: &ResolvedSuite) -> Plan {
        let m = &suite.info.measure;
        let rounds = m.rounds as usize;
        let largest = suite
            .cases
            .iter()
            .filter_map(|c| {
                let elements = crate::workloads::elements(&c.workload).ok()?;
                let params: Vec<String> = c
                    .workload
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect();
                let what = format!("{} ({})", c.id, params.join(", "));
                Some((what, elements.saturating_mul(BYTES_PER_ELEMENT)))
            })
            .max_by_key(|(_, b)| *b);
        // Auto warm-up mostly converges well before its cap.
        let per_worker = WORKER_START_S + m.max_warmup_s.min(0.5) / 4.0;
        let workers = suite.cases.len() * rounds;
        let overhead = workers as f64 * per_worker;
        Plan {
            cases: suite.cases.len(),
            workers,
            largest,
            seconds: (
                overhead + suite.cases.len() as f64 * m.min_time_s,
                overhead + suite.cases.len() as f64 * m.max_time_s,
            ),
            server_cases: suite
                .cases
                .iter()
                .filter(|c| matches!(c.mode, crate::results::Mode::Server(_)))
                .count(),
            target_ci: m.target_ci,
        }
    }

    /// `Err` when the largest case cannot fit in `available` bytes of memory.
    pub fn check_memory(&self, available: Option<u64>) -> Result<(), String> {
        match (&self.largest, available) {
            (Some((id, need)), Some(have)) if *need > have => Err(format!(
                "case {id} needs about {} (inputs, weights, outputs and the reference's f64 \
                 copies), but this machine has {} of memory available; make the workload \
                 smaller",
                format::bytes(*need),
                format::bytes(have)
            )),
            _ => Ok(()),
        }
    }

    /// Why this run needs `--yes`, if it does.
    pub fn needs_confirmation(&self) -> Option<String> {
        if self.cases > MAX_CASES {
            return Some(format!("{} cases is more than {MAX_CASES}", self.cases));
        }
        (self.seconds.0 > MAX_SECONDS).then(|| {
            format!(
                "the estimate of at least {} is more than {}",
                format::duration(self.seconds.0),
                format::duration(MAX_SECONDS)
            )
        })
    }

    /// One line: `12 cases, 60 workers, about 20.0 s – 1.20 min; largest case 1.00 MiB (ID)`.
    pub fn describe(&self) -> String {
        let mut line = format!(
            "{} cases, {} workers, about {} to {}",
            self.cases,
            self.workers,
            format::duration(self.seconds.0),
            format::duration(self.seconds.1)
        );
        if let Some((id, bytes)) = &self.largest {
            line.push_str(&format!(
                "; largest case about {} of memory ({id})",
                format::bytes(*bytes)
            ));
        }
        if let Some(t) = self.target_ci {
            line.push_str(&format!("; {}", precision_needs(t)));
        }
        if self.server_cases > 0 {
            let (lo, hi) = crate::server::search_cost();
            line.push_str(&format!(
                "; plus {} server case(s): each worker's rate search takes about {lo} to {hi} \
                 times one request's service time",
                self.server_cases
            ));
        }
        line
    }
}

/// What a precision target asks of each worker, up front: the samples its median needs at a
/// few spreads (normal approximation of the median's interval: 1.96 · 1.2533 · CV / √n), and
/// the samples each reported percentile needs before it is shown at all.
pub fn precision_needs(target: f64) -> String {
    let confidence = stats::Options::default().confidence;
    let median = |cv: f64| (1.96 * 1.2533 * cv / target).powi(2).ceil() as usize;
    let percentiles: Vec<String> = [0.9, 0.95, 0.99]
        .iter()
        .filter_map(|&p| {
            let n = stats::samples_for_percentile(p, confidence)?;
            Some(format!("p{} {n}", (p * 100.0).round()))
        })
        .collect();
    format!(
        "target_ci ±{}: each worker samples until its median's interval is that narrow or \
         max_time passes (about {} samples at a CV of 2%, {} at 5%, {} at 10%); percentiles \
         need {} samples",
        format::percent(target),
        median(0.02),
        median(0.05),
        median(0.10),
        percentiles.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(cases: usize, largest: u64, seconds: f64) -> Plan {
        Plan {
            cases,
            workers: cases * 5,
            largest: Some(("x/engine-cpu/threads=1 (size = 8)".into(), largest)),
            seconds: (seconds, 2.0 * seconds),
            server_cases: 0,
            target_ci: None,
        }
    }

    #[test]
    fn a_case_larger_than_memory_is_refused_naming_it() {
        let e = plan(1, 2 << 30, 1.0)
            .check_memory(Some(1 << 30))
            .unwrap_err();
        assert!(
            e.contains("x/engine-cpu/threads=1") && e.contains("2.00 GiB"),
            "{e}"
        );
        assert!(plan(1, 1 << 20, 1.0).check_memory(Some(1 << 30)).is_ok());
        // Unknown memory: nothing to check against.
        assert!(plan(1, u64::MAX, 1.0).check_memory(None).is_ok());
    }

    #[test]
    fn many_cases_or_hours_need_confirmation() {
        assert!(plan(MAX_CASES, 1, 60.0).needs_confirmation().is_none());
        let many = plan(MAX_CASES + 1, 1, 60.0).needs_confirmation().unwrap();
        assert!(many.contains("501 cases"), "{many}");
        let long = plan(10, 1, 3.0 * 3600.0).needs_confirmation().unwrap();
        assert!(long.contains("3.00 h") || long.contains("10800"), "{long}");
    }
}
