//! Learning path, step 2: a linear layer, `relu(x @ W^T + b)`.
//!
//! `W` is stored `[out, in]`, as PyTorch stores it, and `engine::nn::Linear` adds the
//! transpose, matmul and bias to the graph. The graph is compiled for the CPU (or the GPU
//! with `--device gpu`), run on the reference interpreter and on the compiled executable, and
//! both are checked against values worked out by hand. Exits non-zero if either disagrees.
//!
//!     cargo run -p engine --example 02_linear_layer [-- --device cpu|gpu]

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

    let inputs = [Tensor::from_f32(&[1, 4], vec![1., 2., 3., 4.])?];
    // Row 0 of W: 1 + 1 - 1.5 + 8 + 0.1 = 8.6; row 1: -1 + 1 + 4.5 - 8 - 0.1 = -3.6 -> 0.
    let expected = Tensor::from_f32(&[1, 2], vec![8.6, 0.0])?;
    common::compile_run_verify(&g, &inputs, expected, 1e-5)
}
