//! Learning path, step 6: an op of your own. `silu(x) = x * sigmoid(x)` is written as a Rust
//! function that adds primitive nodes (neg, exp, add, div, mul) to the graph; the compiler
//! fuses them, the bias add and the matmul into one kernel.
//!
//! Runs `silu(x @ W^T + b)` three ways (reference interpreter, compiled, reference on the
//! compiled graph) and checks them against the same formula evaluated in f64 right here.
//! Exits non-zero if any disagrees.
//!
//!     cargo run -p engine --example 06_custom_op [-- --device cpu|gpu]

#[path = "../common/mod.rs"]
mod common;
mod graph;

use std::process::ExitCode;

use engine::Tensor;

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> engine::Result<bool> {
    println!("1. build the graph: silu(x @ W^T + b), silu from primitives");
    let g = graph::graph()?;
    common::print_indented(&g.to_string());

    let x = [1.0, -2.0, 0.5, -1.0, 0.0, 3.0];
    let inputs = [Tensor::from_f32(&[2, 3], x.to_vec())?];
    let expected = Tensor::from_f32(&[2, 2], by_hand(&x))?;
    common::compile_run_verify(&g, &inputs, expected, 1e-5)
}

/// The layer and silu in f64, straight from their definitions, for `x` `[rows, 3]`.
fn by_hand(x: &[f32]) -> Vec<f32> {
    let (w, b) = (graph::WEIGHT, graph::BIAS);
    let mut out = Vec::new();
    for row in x.chunks(3) {
        for o in 0..2 {
            let z: f64 = (0..3)
                .map(|i| f64::from(row[i]) * f64::from(w[o * 3 + i]))
                .sum::<f64>()
                + f64::from(b[o]);
            out.push((z / (1.0 + (-z).exp())) as f32);
        }
    }
    out
}
