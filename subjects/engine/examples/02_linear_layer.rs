//! Learning path, step 2: a linear layer, `relu(x @ W^T + b)`.
//!
//! `W` is stored `[out, in]`, as PyTorch stores it, and `engine::nn::Linear` adds the
//! transpose, matmul and bias to the graph. The graph is compiled for the CPU (or the GPU with `--device gpu`), run on the
//! reference interpreter and on the compiled executable, and both are checked against values
//! worked out by hand. Exits non-zero if either disagrees.
//!
//!     cargo run -p engine --example 02_linear_layer [-- --device cpu|gpu]

mod common;

use std::process::ExitCode;

use engine::nn::Linear;
use engine::{DType, Graph, Tensor, dims};

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> engine::Result<bool> {
    println!("1. build the graph");
    let mut g = Graph::new("linear_relu");
    let x = g.input("x", DType::F32, dims!["batch", 4])?;
    let weight = Tensor::from_f32(&[2, 4], vec![1., 0.5, -0.5, 2., -1., 0.5, 1.5, -2.])?;
    let bias = Tensor::from_f32(&[2], vec![0.1, -0.1])?;
    let layer = Linear::new(&mut g, weight, Some(bias));
    let y = layer.forward(&mut g, x)?;
    let y = g.relu(y)?;
    g.output(y);
    common::print_indented(&g.to_string());

    let inputs = [Tensor::from_f32(&[1, 4], vec![1., 2., 3., 4.])?];
    // Row 0 of W: 1 + 1 - 1.5 + 8 + 0.1 = 8.6; row 1: -1 + 1 + 4.5 - 8 - 0.1 = -3.6 -> 0.
    let expected = Tensor::from_f32(&[1, 2], vec![8.6, 0.0])?;
    common::compile_run_verify(&g, &inputs, expected, 1e-5)
}
