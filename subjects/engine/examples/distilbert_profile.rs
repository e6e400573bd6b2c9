//! Where a whole DistilBERT forward goes on the compiled CPU path (synthetic weights, the
//! real model's shapes): the median forward, and the summed median time and weight
//! bandwidth of its matmuls with a constant weight.
//!
//! `cargo run -p engine --release --example distilbert_profile [seq] [threads] [runs] [batch]
//! [device]` (defaults 8, 1, 30, 1, cpu); device `gpu` profiles the GPU backend (threads
//! then unused), one submission per node.

mod timing;

use std::time::{Duration, Instant};

use timing::{arg, distilbert_inputs, median};

use engine::models::{DistilBert, DistilBertConfig};
use engine::ops::{FusedOp, Op};
use engine::{CompileOptions, Target, compile};

fn main() {
    let (seq, threads, runs, batch) = (arg(1, 8), arg(2, 1), arg(3, 30), arg(4, 1));
    let model = DistilBert::synthetic(DistilBertConfig::sst2(), 0).unwrap();
    let options = match std::env::args().nth(5).as_deref() {
        Some("gpu") => CompileOptions {
            // As the engine-gpu subject runs it: no bounds checks.
            target: Target::Gpu {
                adapter: String::new(),
                checked: false,
            },
            ..CompileOptions::gpu()
        },
        Some("cpu") | None => CompileOptions::cpu(threads),
        Some(other) => panic!("device is cpu or gpu, not {other:?}"),
    };
    let mut exe = compile(&model.graph, &options).unwrap();
    let inputs = distilbert_inputs(batch, seq);
    for _ in 0..3 {
        exe.run(&inputs).unwrap();
    }
    let mut totals = Vec::with_capacity(runs);
    let mut per_node: Vec<Vec<Duration>> = vec![Vec::new(); exe.graph().nodes().len()];
    for _ in 0..runs {
        let start = Instant::now();
        exe.run(&inputs).unwrap();
        totals.push(start.elapsed());
        let (_, times) = exe.run_profiled(&inputs).unwrap();
        for (acc, t) in per_node.iter_mut().zip(times) {
            acc.push(t);
        }
    }
    let g = exe.graph();
    let (mut mm_time, mut mm_bytes, mut mm_count) = (Duration::ZERO, 0, 0);
    let mut by_op: Vec<(&str, Duration)> = Vec::new();
    for (node, times) in g.nodes().iter().zip(per_node) {
        let t = median(times);
        match by_op.iter_mut().find(|(name, _)| *name == node.op.name()) {
            Some((_, total)) => *total += t,
            None => by_op.push((node.op.name(), t)),
        }
        if !matches!(node.op, Op::MatMul | Op::Fused(FusedOp::MatMulEpilogue(_))) {
            continue;
        }
        if let Op::Constant(w) = &g.node(node.inputs[1]).op {
            mm_time += t;
            mm_bytes += 4 * w.numel();
            mm_count += 1;
        }
    }
    let fastest = *totals.iter().min().unwrap();
    let total = median(totals);
    println!(
        "distilbert, batch {batch}, seq {seq}, {threads} thread(s), {runs} runs: forward median {:.2} ms (min {:.2})",
        total.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
    );
    println!(
        "{mm_count} matmuls with a constant weight: {:.2} ms, {:.1} MB of weights, {:.1} GB/s",
        mm_time.as_secs_f64() * 1e3,
        mm_bytes as f64 / 1e6,
        mm_bytes as f64 / mm_time.as_secs_f64() / 1e9
    );
    by_op.sort_by_key(|&(_, t)| std::cmp::Reverse(t));
    for (name, t) in by_op.iter().take(8) {
        println!("  {name:<20} {:8.2} ms", t.as_secs_f64() * 1e3);
    }
    println!("{}", exe.report());
}
