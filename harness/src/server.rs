//! The server scenario: requests arrive by a seeded Poisson process at an offered rate into
//! a first-in-first-out queue that one subject serves, one request at a time; a request's
//! latency is its completion minus its arrival, so queueing counts. A bisection on the rate
//! finds the highest rate whose latency percentile stays within the SLO.
//!
//! Each probe runs at least [`min_queries`] requests: for p99 that is 459, LoadGen's
//! early-stopping count, the fewest queries for which zero over-SLO queries bound the 99th
//! percentile at 99% confidence. A probe passes when its observed percentile is within the
//! SLO (LoadGen's server criterion); the probe's seed, rate and query count replay its
//! arrivals exactly. A probe stops as soon as enough requests exceed the SLO that its
//! percentile must too ([`fails_at`]): an overloaded probe fails in seconds, not minutes.

use std::time::{Duration, Instant};

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What a server scenario asks for: a latency bound at a percentile.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// The latency bound, seconds.
    pub slo_s: f64,
    /// The percentile that must stay within it, as a fraction (0.99).
    pub percentile: f64,
}

/// The search stops when the bracket around the maximum rate is this narrow (relative).
const PRECISION: f64 = 0.02;
/// Probes at most, whatever the bracket.
const MAX_PROBES: usize = 10;
/// The lowest rate probed, as a fraction of the service rate.
const MIN_UTILISATION: f64 = 1.0 / 16.0;
/// Confidence of the early-stopping bound behind [`min_queries`].
const CONFIDENCE: f64 = 0.99;

/// One probe: an offered rate and what the queue did at it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub offered_qps: f64,
    /// Requests completed per second of the probe's wall time.
    pub achieved_qps: f64,
    pub queries: u64,
    /// Seed of the arrival process (with `offered_qps` and `queries`, replays it).
    pub seed: u64,
    pub p50_s: f64,
    /// The latency at the spec's percentile.
    pub percentile_s: f64,
    /// Requests whose latency exceeded the SLO.
    pub over_slo: u64,
    /// Stopped before its full count: [`fails_at`] requests had exceeded the SLO.
    #[serde(default)]
    pub stopped_early: bool,
    pub pass: bool,
}

/// A finished search: every probe in the order run, and the highest passing rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    pub spec: ServerSpec,
    pub probes: Vec<Probe>,
    /// The highest offered rate that passed; `None` when none did.
    pub max_qps: Option<f64>,
}

impl Search {
    /// The passing probe at the maximum rate.
    pub fn best(&self) -> Option<&Probe> {
        let max = self.max_qps?;
        self.probes.iter().find(|p| p.pass && p.offered_qps == max)
    }
}

/// A server case over its worker processes: the median of their maximum rates, and the
/// passing probe closest to it (whose latencies reports show).
#[derive(Clone, Debug)]
pub struct CaseServer<'a> {
    pub spec: ServerSpec,
    /// Each process's maximum, in round order.
    pub per_process: Vec<Option<f64>>,
    pub max_qps: Option<f64>,
    pub typical: Option<&'a Probe>,
    pub probes: usize,
}

impl CaseServer<'_> {
    /// The searches of a case's rounds; `None` for a latency case.
    pub fn of(rounds: &[crate::results::RoundResult]) -> Option<CaseServer<'_>> {
        let searches: Vec<&Search> = rounds.iter().filter_map(|r| r.server.as_ref()).collect();
        let spec = searches.first()?.spec;
        let per_process: Vec<Option<f64>> = searches.iter().map(|s| s.max_qps).collect();
        let mut maxima: Vec<f64> = per_process.iter().flatten().copied().collect();
        maxima.sort_by(f64::total_cmp);
        let max_qps = (!maxima.is_empty()).then(|| stats::quantile(&maxima, 0.5));
        let typical = max_qps.and_then(|m| {
            searches.iter().filter_map(|s| s.best()).min_by(|a, b| {
                (a.offered_qps - m)
                    .abs()
                    .total_cmp(&(b.offered_qps - m).abs())
            })
        });
        Some(CaseServer {
            spec,
            per_process,
            max_qps,
            typical,
            probes: searches.iter().map(|s| s.probes.len()).sum(),
        })
    }
}

/// What a p99 search costs in units of one request's service time, roughly: at least 5
/// probes of [`min_queries`] requests near the service rate; at most the probes at 1/2,
/// 1/4, 1/8 and 1/16 of it all failing (2 + 4 + 8 + 16 times the requests).
pub fn search_cost() -> (usize, usize) {
    let n = min_queries(0.99);
    (5 * n, 30 * n)
}

/// The most requests one search serves: every probe at its minimum count.
pub fn max_requests(spec: ServerSpec) -> usize {
    MAX_PROBES * min_queries(spec.percentile)
}

/// Arrival times, seconds from the start, of `n` requests at `rate` per second: gaps drawn
/// from the exponential distribution by inversion.
pub fn arrivals(rate: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = 0.0;
    (0..n)
        .map(|_| {
            let u: f64 = rng.random();
            t += -(1.0 - u).ln() / rate;
            t
        })
        .collect()
}

/// The fewest queries for which zero over-SLO queries show, at 99% confidence, that the
/// `percentile` latency is within the SLO: ⌈ln(0.01) / ln(p)⌉.
pub fn min_queries(percentile: f64) -> usize {
    ((1.0 - CONFIDENCE).ln() / percentile.ln()).ceil() as usize
}

/// How many of `queries` requests over the SLO make the `percentile` latency exceed it
/// whatever the rest do: with that many above the bound, the order statistic the
/// percentile reads (index ⌊(n − 1)·p⌋, [`stats::quantile`]) is above it too.
pub fn fails_at(queries: usize, percentile: f64) -> usize {
    queries - ((queries - 1) as f64 * percentile).floor() as usize
}

/// Serves requests arriving at `arrivals` in order with `run`, one at a time, and returns
/// each one's latency (completion − arrival) and the wall time until the last completed;
/// stops early once `give_up` requests have taken longer than `slo_s`.
pub fn serve(
    arrivals: &[f64],
    slo_s: f64,
    give_up: usize,
    mut run: impl FnMut() -> Result<()>,
) -> Result<(Vec<f64>, f64)> {
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(arrivals.len());
    let mut over = 0;
    for &at in arrivals {
        wait_until(start, at);
        run()?;
        let latency = start.elapsed().as_secs_f64() - at;
        latencies.push(latency);
        over += usize::from(latency > slo_s);
        if over >= give_up {
            break;
        }
    }
    Ok((latencies, start.elapsed().as_secs_f64()))
}

/// Sleeps until `at` seconds after `start`; the last stretch spins, since a sleep may
/// overshoot by a scheduler tick and that would count as the subject's latency.
fn wait_until(start: Instant, at: f64) {
    const SPIN: Duration = Duration::from_micros(200);
    let target = start + Duration::from_secs_f64(at);
    loop {
        let now = Instant::now();
        if now >= target {
            return;
        }
        let left = target - now;
        if left > SPIN {
            std::thread::sleep(left - SPIN);
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Bisects the offered rate between zero and the service rate `1 / service_s` (no single
/// server sustains more), starting at half of it, until the bracket is [`PRECISION`] wide.
/// `probe(rate, queries, seed)` runs one probe and returns its latencies and wall time (fewer
/// than `queries` latencies: it stopped early, and fails).
/// A service time above the SLO passes no rate, so nothing is probed; nor below
/// [`MIN_UTILISATION`] of the service rate, where a failure is the service time's own tail
/// and each halving would double the probe's duration.
pub fn search(
    spec: ServerSpec,
    service_s: f64,
    seed: u64,
    mut probe: impl FnMut(f64, usize, u64) -> Result<(Vec<f64>, f64)>,
) -> Result<Search> {
    let queries = min_queries(spec.percentile);
    let service_rate = 1.0 / service_s.max(1e-9);
    let (mut lo, mut hi) = (0.0_f64, service_rate);
    let mut probes = Vec::new();
    let mut max_qps = None;
    while service_s <= spec.slo_s
        && probes.len() < MAX_PROBES
        && (hi - lo) > PRECISION * hi
        && hi > MIN_UTILISATION * service_rate
    {
        let rate = (lo + hi) / 2.0;
        let probe_seed = seed.wrapping_add(probes.len() as u64);
        let (latencies, wall_s) = probe(rate, queries, probe_seed)?;
        let p = judge(spec, rate, probe_seed, &latencies, wall_s);
        let p = Probe {
            stopped_early: latencies.len() < queries,
            pass: p.pass && latencies.len() >= queries,
            ..p
        };
        if p.pass {
            lo = rate;
            max_qps = Some(rate);
        } else {
            hi = rate;
        }
        probes.push(p);
    }
    Ok(Search {
        spec,
        probes,
        max_qps,
    })
}

/// The probe's statistics and whether its percentile latency is within the SLO.
pub fn judge(spec: ServerSpec, rate: f64, seed: u64, latencies: &[f64], wall_s: f64) -> Probe {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let percentile_s = stats::quantile(&sorted, spec.percentile);
    Probe {
        offered_qps: rate,
        achieved_qps: latencies.len() as f64 / wall_s.max(1e-12),
        queries: latencies.len() as u64,
        seed,
        p50_s: stats::quantile(&sorted, 0.5),
        percentile_s,
        over_slo: latencies.iter().filter(|&&l| l > spec.slo_s).count() as u64,
        stopped_early: false,
        pass: percentile_s <= spec.slo_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kolmogorov–Smirnov: the gaps of the arrival process are exponential with the asked
    /// mean (critical value at α = 0.01: 1.628 / √n).
    #[test]
    fn arrival_gaps_are_exponential_at_the_rate() {
        let (rate, n) = (80.0, 20_000);
        let t = arrivals(rate, n, 7);
        let mut gaps: Vec<f64> = std::iter::once(t[0])
            .chain(t.windows(2).map(|w| w[1] - w[0]))
            .collect();
        let mean = gaps.iter().sum::<f64>() / n as f64;
        assert!((mean * rate - 1.0).abs() < 0.03, "mean gap {mean}");
        gaps.sort_by(f64::total_cmp);
        let d = gaps
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                let f = 1.0 - (-rate * g).exp();
                (f - i as f64 / n as f64)
                    .abs()
                    .max(((i + 1) as f64 / n as f64 - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.628 / (n as f64).sqrt(), "KS statistic {d}");
        assert_eq!(
            arrivals(rate, 10, 7),
            t[..10],
            "a seed replays its arrivals"
        );
        assert_ne!(arrivals(rate, 10, 8), t[..10]);
    }

    #[test]
    fn min_queries_is_loadgens_early_stopping_count() {
        assert_eq!(min_queries(0.99), 459);
        assert_eq!(min_queries(0.9), 44);
    }

    /// With `fails_at` latencies over the SLO, the percentile is over it however fast the
    /// rest are; with one fewer, it can still be within.
    #[test]
    fn fails_at_is_the_fewest_over_slo_requests_that_fail_a_probe() {
        let spec = ServerSpec {
            slo_s: 0.1,
            percentile: 0.99,
        };
        for n in [459, 460, 1000] {
            let k = fails_at(n, spec.percentile);
            let with = |over: usize| {
                let mut l = vec![0.001; n];
                l[..over].fill(0.2);
                judge(spec, 1.0, 0, &l, 1.0).pass
            };
            assert!(!with(k) && with(k - 1), "n {n}, k {k}");
        }
        assert_eq!(fails_at(459, 0.99), 6);
    }

    #[test]
    fn serve_stops_once_the_probe_must_fail() {
        let (lat, _) = serve(&[0.0; 20], 0.0, 3, || Ok(())).unwrap();
        assert_eq!(lat.len(), 3);
    }

    /// A simulated M/D/1 queue (deterministic 10 ms service): the search's maximum lies
    /// where the queue's p99 reaches the SLO, below the service rate.
    #[test]
    fn the_search_finds_the_rate_where_the_percentile_meets_the_slo() {
        let service = 0.010;
        let spec = ServerSpec {
            slo_s: 0.100,
            percentile: 0.99,
        };
        let simulate = |rate: f64, n: usize, seed: u64| {
            let mut free_at = 0.0_f64;
            let lat = arrivals(rate, n, seed)
                .into_iter()
                .map(|a| {
                    free_at = free_at.max(a) + service;
                    free_at - a
                })
                .collect::<Vec<_>>();
            Ok((lat, free_at))
        };
        let s = search(spec, service, 1, simulate).unwrap();
        let max = s.max_qps.unwrap();
        assert!((60.0..=95.0).contains(&max), "{s:#?}");
        assert!(s.probes.len() <= MAX_PROBES);
        let best = s.best().unwrap();
        assert!(best.percentile_s <= 0.1 && best.queries == 459);
        assert!(s.probes.iter().all(|p| p.pass == (p.percentile_s <= 0.1)));
        // Never above the service rate.
        assert!(s.probes.iter().all(|p| p.offered_qps < 100.0));
    }

    #[test]
    fn a_service_slower_than_the_slo_passes_no_rate() {
        let spec = ServerSpec {
            slo_s: 0.010,
            percentile: 0.99,
        };
        let s = search(spec, 0.020, 1, |_, n, _| Ok((vec![0.020; n], 1.0))).unwrap();
        assert_eq!(s.max_qps, None);
        assert!(s.probes.is_empty() && s.best().is_none());
        // Within the SLO on average but with a slow tail: probes stop at 1/16 of the
        // service rate instead of halving on.
        let spec = ServerSpec {
            slo_s: 0.030,
            ..spec
        };
        let tail = |_: f64, n: usize, _: u64| {
            let mut l = vec![0.020; n];
            l[..n / 50].fill(0.050);
            Ok((l, 1.0))
        };
        let s = search(spec, 0.020, 1, tail).unwrap();
        assert_eq!(s.max_qps, None);
        assert_eq!(s.probes.len(), 4, "{s:#?}"); // 25, 12.5, 6.25, 3.125 of 50 QPS
    }

    #[test]
    fn serve_counts_queueing_in_latency() {
        // Two requests at once, 5 ms each: the second waits for the first.
        let (lat, wall) = serve(&[0.0, 0.0], 1.0, usize::MAX, || {
            std::thread::sleep(Duration::from_millis(5));
            Ok(())
        })
        .unwrap();
        assert!(lat[1] >= lat[0] + 0.004, "{lat:?}");
        assert!(wall >= 0.010);
    }
}
