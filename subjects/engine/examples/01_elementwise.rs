//! Learning path, step 1: an element-wise graph, `relu(x * 2 + 1)`.
//!
//! Builds the graph, compiles it for the CPU, runs it on the reference interpreter and on the
//! compiled executable, and checks both against values worked out by hand. Exits non-zero if
//! either disagrees.
//!
//!     cargo run -p engine --example 01_elementwise [-- --device cpu|gpu]

mod common;

use std::process::ExitCode;

use engine::{DType, Graph, Tensor, dims};

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> engine::Result<bool> {
    println!("1. build the graph");
    let mut g = Graph::new("relu_affine");
    // `n` is a symbolic dim: the graph runs for any length, bound when it runs.
    let x = g.input("x", DType::F32, dims!["n"])?;
    let two = g.scalar(2.0);
    let one = g.scalar(1.0);
    let y = g.mul(x, two)?;
    let y = g.add(y, one)?;
    let y = g.relu(y)?;
    g.output(y);
    common::print_indented(&g.to_string());

    let inputs = [Tensor::from_f32(&[4], vec![1., -2., 3., -4.])?];
    // relu(x * 2 + 1).
    let expected = Tensor::from_f32(&[4], vec![3., 0., 7., 0.])?;
    common::compile_run_verify(&g, &inputs, expected, 1e-6)
}
