//! The facts docs/ENGINE_GUIDE.md cites that no other example prints:
//!
//! 1. DistilBERT's nodes by op, as built and after the passes (`engine::optimize`);
//! 2. how far the reference interpreter is off when it runs each backend's *lowered* graph
//!    (`Executable::graph`) instead of the optimised one (why `engine::optimize` exists);
//! 3. this machine's memory read rate on 1 and 2 threads, which the weight-streaming
//!    matmuls of `distilbert_profile` are measured against.
//!
//! `cargo run -p engine --release --example guide_facts [cpu|gpu]` (default: both backends;
//! the GPU part is skipped when no adapter opens).

mod timing;

use std::collections::BTreeMap;
use std::time::Instant;

use engine::models::{DistilBert, DistilBertConfig};
use engine::{CompileOptions, Graph, Parity, compile, optimize, reference};
use timing::distilbert_inputs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let which = std::env::args().nth(1);
    let model = DistilBert::synthetic(DistilBertConfig::sst2(), 0)?;
    let (optimised, _) = optimize(&model.graph, &CompileOptions::cpu(1))?;
    nodes_by_op(&model.graph, &optimised);

    println!("\nreference on the lowered graph (DistilBERT, synthetic seed 0, batch 1, seq 8):");
    let inputs = distilbert_inputs(1, 8);
    let expected = reference::run(&model.graph, &inputs)?;
    let mut backends = vec![];
    if which.as_deref() != Some("gpu") {
        backends.push(("cpu", CompileOptions::cpu(1)));
    }
    if which.as_deref() != Some("cpu") {
        backends.push(("gpu", CompileOptions::gpu()));
    }
    for (name, options) in backends {
        let mut exe = match compile(&model.graph, &options) {
            Ok(exe) => exe,
            Err(e) => {
                println!("  {name}: not compiled ({e})");
                continue;
            }
        };
        let run = Parity::of(&exe.run(&inputs)?, &expected, 1e-4, 1e-3)?;
        let lowered = reference::run(exe.graph(), &inputs)?;
        let lowered = Parity::of(&lowered, &expected, 1e-4, 1e-3)?;
        println!(
            "  {name}: exe.run max abs err {:.1e} ({} mismatches); reference on exe.graph() {:.1e} ({} mismatches)",
            run.max_abs_err, run.mismatches, lowered.max_abs_err, lowered.mismatches
        );
    }

    println!("\nmemory read rate (sum of a 512 MiB f32 buffer, best of 5):");
    for threads in [1, 2] {
        println!("  {threads} thread(s): {:.1} GB/s", read_rate(threads));
    }
    Ok(())
}

/// Prints how many nodes of each op `built` and `optimised` hold.
fn nodes_by_op(built: &Graph, optimised: &Graph) {
    let count = |g: &Graph| {
        let mut by_op = BTreeMap::new();
        for node in g.nodes() {
            *by_op.entry(node.op.name()).or_insert(0) += 1;
        }
        by_op
    };
    let (before, after) = (count(built), count(optimised));
    let ops: std::collections::BTreeSet<_> = before.keys().chain(after.keys()).collect();
    println!(
        "DistilBERT nodes by op: built {} -> optimised {}",
        built.nodes().len(),
        optimised.nodes().len()
    );
    println!("  {:<22} {:>5} {:>9}", "op", "built", "optimised");
    for op in ops {
        let n = |m: &BTreeMap<&str, usize>| m.get(op).copied().unwrap_or(0);
        println!("  {op:<22} {:>5} {:>9}", n(&before), n(&after));
    }
}

/// Bytes per second of summing a buffer far larger than the caches, split over `threads`.
fn read_rate(threads: usize) -> f64 {
    const LEN: usize = 128 << 20; // f32s: 512 MiB
    let data: Vec<f32> = (0..LEN).map(|i| (i % 7) as f32).collect();
    let mut best = f64::INFINITY;
    let mut checksum = 0.0;
    for _ in 0..5 {
        let start = Instant::now();
        checksum += std::thread::scope(|s| {
            let parts: Vec<_> = data
                .chunks(LEN.div_ceil(threads))
                .map(|part| s.spawn(move || sum(part)))
                .collect();
            parts.into_iter().map(|p| p.join().unwrap()).sum::<f32>()
        });
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(checksum);
    (LEN * 4) as f64 / best / 1e9
}

/// A sum in 16 independent lanes, so the compiler vectorises it without reassociating.
fn sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = values.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    lanes.iter().sum::<f32>() + tail
}
