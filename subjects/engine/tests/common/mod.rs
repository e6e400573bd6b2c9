//! Helpers shared by the model-op test files: random tensors and the compiled-vs-reference
//! check over every compile configuration.
#![allow(dead_code)] // each test file uses its own subset

use engine::ops::Op;
use engine::{CompileOptions, Dim, Graph, Parity, Tensor, compile, reference};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const ATOL: f64 = 1e-5;
pub const RTOL: f64 = 1e-4;
/// Sizes that catch remainder loops and blocks that do not divide evenly.
pub const SIZES: [usize; 5] = [1, 2, 3, 7, 50];

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn random(rng: &mut ChaCha8Rng, dims: &[usize], (lo, hi): (f64, f64)) -> Tensor {
    let n: usize = dims.iter().product();
    let v = (0..n).map(|_| rng.random_range(lo..hi) as f32).collect();
    Tensor::from_f32(dims, v).unwrap()
}

/// Like [`random`], on a grid of 2^-12 steps: sums and differences of such values (within
/// ±2^11) are exact in f32, so a check measures the op, not the rounding of its inputs.
pub fn on_grid(rng: &mut ChaCha8Rng, dims: &[usize], range: (f64, f64)) -> Tensor {
    let t = random(rng, dims, range);
    let step = 2f32.powi(-12);
    let v = t
        .as_f32()
        .unwrap()
        .iter()
        .map(|x| (x / step).round() * step);
    Tensor::from_f32(dims, v.collect()).unwrap()
}

pub fn indices(rng: &mut ChaCha8Rng, dims: &[usize], below: i64) -> Tensor {
    let n: usize = dims.iter().product();
    Tensor::from_i64(dims, (0..n).map(|_| rng.random_range(0..below)).collect()).unwrap()
}

pub fn static_dims(d: &[usize]) -> Vec<Dim> {
    d.iter().map(|&n| n.into()).collect()
}

/// Whether this machine has a GPU adapter (any, software ones included). Under `CI=true`
/// a missing one fails the test instead: CI installs lavapipe so the GPU path is tested.
pub fn has_gpu() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        let found = !engine::gpu::adapters().is_empty();
        if !found && std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but wgpu finds no adapter: {}",
                engine::gpu::no_adapter_fix()
            );
        }
        found
    })
}

/// Every compile configuration: the CPU fused or not on 1 or 2 threads, and the GPU fused
/// or not where an adapter exists.
pub fn configurations() -> Vec<CompileOptions> {
    let mut all = Vec::new();
    for fuse in [true, false] {
        for threads in [1, 2] {
            all.push(CompileOptions {
                fuse,
                ..CompileOptions::cpu(threads)
            });
        }
        if has_gpu() {
            all.push(CompileOptions {
                fuse,
                ..CompileOptions::gpu()
            });
        }
    }
    all
}

/// Every compile configuration agrees with the reference, and a second run of the same
/// executable gives the same bits.
pub fn check(g: &Graph, inputs: &[Tensor]) -> Result<(), TestCaseError> {
    let want = reference::run(g, inputs).unwrap();
    for options in configurations() {
        let compiled = compile(g, &options).and_then(|mut exe| exe.run(inputs).map(|o| (exe, o)));
        let (mut exe, got) = match compiled {
            // A shape beyond the adapter's limits is its documented error (tests/gpu.rs),
            // not a wrong result: random shapes here reach 1 GB, lavapipe binds 128 MiB.
            Err(engine::Error::Gpu(e)) if e.contains("more than this adapter") => continue,
            other => other.unwrap(),
        };
        let p = Parity::of(&got, &want, ATOL, RTOL).unwrap();
        prop_assert!(
            p.ok(),
            "{:?}, fused {}: {p:?}\n{}",
            options.target,
            options.fuse,
            exe.report()
        );
        prop_assert_eq!(exe.run(inputs).unwrap(), got);
    }
    Ok(())
}

/// `g` compiled with `threads` threads, fused or not.
pub fn compiled(g: &Graph, threads: usize, fuse: bool) -> engine::Executable {
    compile(
        g,
        &CompileOptions {
            fuse,
            ..CompileOptions::cpu(threads)
        },
    )
    .unwrap()
}

/// The names of the computing nodes of a (compiled) graph, in order.
pub fn compiled_ops(g: &Graph) -> Vec<&'static str> {
    g.nodes()
        .iter()
        .filter(|n| !matches!(n.op, Op::Input { .. } | Op::Constant(_)))
        .map(|n| n.op.name())
        .collect()
}
