//! The summary table printed at the end of a run, and a line per offline group and per
//! server case.

use crate::report::format::{bytes, duration, server_bound, sig3};
use crate::results::{RunResults, Status};
use crate::server::CaseServer;

pub fn print_summary(results: &RunResults) {
    println!();
    println!(
        "{:<48} {:>9} {:>12} {:>25} {:>8} {:>6} {:>10}",
        "case", "status", "median", "95% CI", "CV", "n", "peak RSS"
    );
    for case in &results.cases {
        let status = format!("{:?}", case.status).to_lowercase();
        match (&case.summary, case.status) {
            (Some(s), Status::Ok | Status::Invalid) => println!(
                "{:<48} {:>9} {:>12} {:>25} {:>7.1}% {:>6} {:>10}",
                case.id,
                status,
                duration(s.median_s),
                format!("[{}, {}]", duration(s.ci_low_s), duration(s.ci_high_s)),
                s.cv * 100.0,
                s.n,
                case.peak_rss_bytes.map_or_else(|| "—".into(), bytes)
            ),
            _ => println!(
                "{:<48} {:>9}  {}",
                case.id,
                status,
                case.reason.as_deref().unwrap_or("")
            ),
        }
    }
    for (case, t) in crate::offline::winners(&results.cases) {
        println!(
            "{}: best batch {} of its group, {} items/s [{}, {}]",
            case.id,
            t.batch,
            sig3(t.items_per_s),
            sig3(t.ci.0),
            sig3(t.ci.1)
        );
    }
    for case in &results.cases {
        let Some(s) = CaseServer::of(&case.rounds) else {
            continue;
        };
        let at = |p: &crate::server::Probe| {
            format!(", p50 {} at {} QPS", duration(p.p50_s), sig3(p.offered_qps))
        };
        println!(
            "{}: max {} with {}{}",
            case.id,
            s.max_qps
                .map_or_else(|| "none".into(), |q| format!("{} QPS", sig3(q))),
            server_bound(&s.spec),
            s.typical.map(at).unwrap_or_default()
        );
    }
}
