//! Learning path, step 5: the original project's MLP and CNN, built from `engine::models`
//! (PyTorch-initialised synthetic weights), run batched.
//!
//! Compiles each for the CPU (or the GPU), runs a batch of 4 deterministic inputs, and checks
//! the outputs against the reference interpreter (f64, op by op) on the same graph. Prints
//! what the compiler fused and the outputs. Exits non-zero when either model disagrees.
//!
//!     cargo run -p engine --release --example 05_mlp_cnn [-- --device cpu|gpu]

#[path = "../common/mod.rs"]
mod common;
mod graph;

use std::process::ExitCode;

use engine::Tensor;

const BATCH: usize = 4;

fn main() -> ExitCode {
    common::exit_code(run())
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let device = common::device_arg();
    let options = common::options_for(&device, 1)?;
    let mut ok = true;
    for (name, g, dims) in [
        ("MLP", graph::mlp()?, vec![BATCH, 8]),
        ("CNN", graph::cnn()?, vec![BATCH, 1, 28, 28]),
    ] {
        println!("{name}: {} nodes as built", g.nodes().len());
        let mut exe = engine::compile(&g, &options)?;
        common::print_indented(&exe.report().to_string());
        let x = input(&dims)?;
        let out = exe.run(std::slice::from_ref(&x))?;
        let parity = common::against_reference(&g, std::slice::from_ref(&x), &out, 1e-4, 1e-4)?;
        println!(
            "   against the reference interpreter: {}",
            common::verdict(&parity)
        );
        ok &= parity.ok();
        let y = out[0].as_f32()?;
        let per_row = y.len() / BATCH;
        for row in 0..BATCH {
            let shown: Vec<String> = y[row * per_row..(row + 1) * per_row]
                .iter()
                .map(|v| format!("{v:.4}"))
                .collect();
            println!("   row {row}: [{}]", shown.join(", "));
        }
    }
    Ok(ok)
}

/// A deterministic input in [-1, 1): a fixed, irregular pattern, not a random draw.
fn input(dims: &[usize]) -> engine::Result<Tensor> {
    let n: usize = dims.iter().product();
    let v = (0..n)
        .map(|i| ((i * 37 % 101) as f32 / 50.5) - 1.0)
        .collect();
    Tensor::from_f32(dims, v)
}
