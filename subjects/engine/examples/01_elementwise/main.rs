//! Learning path, step 1: an element-wise graph, `relu(x * 2 + 1)`.
//!
//! Builds the graph, compiles it for the CPU, runs it on the reference interpreter and on the
//! compiled executable, and checks both against values worked out by hand. Exits non-zero if
//! either disagrees.
//!
//!     cargo run -p engine --example 01_elementwise [-- --device cpu|gpu]

#[path = "../common/mod.rs"]
mod common;
mod graph;

use std::process::ExitCode;

use engine::Tensor;

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> engine::Result<bool> {
    println!("1. build the graph");
    let g = graph::graph()?;
    common::print_indented(&g.to_string());

    let inputs = [Tensor::from_f32(&[4], vec![1., -2., 3., -4.])?];
    // relu(x * 2 + 1).
    let expected = Tensor::from_f32(&[4], vec![3., 0., 7., 0.])?;
    common::compile_run_verify(&g, &inputs, expected, 1e-6)
}
