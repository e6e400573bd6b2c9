//! Does where a buffer starts within a cache line change how fast a compiled linear layer
//! runs? Issue 10 saw fresh worker processes land in different speeds and keep them; a
//! buffer's offset modulo 64 is fixed for a process by its allocation history, so it is a
//! suspect. This times `relu(x @ W^T + b)` (the linear_layer suite's shape) with the input
//! placed at each 16-byte offset of a cache line, and records the offset of the output the
//! executable allocates on every run. (Inputs of more than the allocator's mmap threshold,
//! 128 KiB at first, always start 16 bytes past a page: the probe says so and stops.)
//!
//! `cargo run -p engine --release --example alignment_probe [batch] [runs] [windows]`
//! (defaults 32, 20000, 10). Prints the median run time by input offset (the offsets take
//! turns), the median of each of `windows` stretches of the run in time order, and the
//! output offsets seen. Run it as many processes to see the per-process spread
//! (docs/ENGINE_GUIDE.md, pitfall 4).

mod timing;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use engine::nn::Linear;
use engine::{CompileOptions, DType, Graph, Tensor, compile, dims};
use timing::{arg, median};

const IN: usize = 128;
const OUT: usize = 64;
/// Where an input may start within a cache line: the allocator's 16-byte steps.
const OFFSETS: [usize; 4] = [0, 16, 32, 48];

fn main() -> engine::Result<()> {
    let (batch, runs, windows) = (arg(1, 32), arg(2, 20000), arg(3, 10));
    let mut exe = compile(&linear()?, &CompileOptions::cpu(1))?;
    let inputs: Vec<[Tensor; 1]> = OFFSETS
        .iter()
        .map(|&o| input_at(batch, o).map(|x| [x]))
        .collect::<engine::Result<_>>()?;
    for _ in 0..100 {
        for x in &inputs {
            exe.run(x)?;
        }
    }
    // Offsets take turns, so a drift in time (a slow stretch of the process) reaches every
    // offset alike and an offset's own cost shows as a difference between their medians.
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); OFFSETS.len()];
    let mut control_times = Vec::with_capacity(runs);
    let mut out_offsets: BTreeMap<usize, usize> = BTreeMap::new();
    for _ in 0..runs {
        for (x, t) in inputs.iter().zip(&mut times) {
            let start = Instant::now();
            let out = exe.run(x)?;
            t.push(start.elapsed());
            *out_offsets.entry(addr(&out[0]) % 64).or_insert(0) += 1;
        }
        let start = Instant::now();
        std::hint::black_box(control());
        control_times.push(start.elapsed());
    }
    let by_offset: Vec<String> = OFFSETS
        .iter()
        .zip(&times)
        .map(|(o, t)| format!("in@{o} {:.2}", us(median(t.clone()))))
        .collect();
    // Every offset's runs together, window by window in time order.
    let per_window = runs.div_ceil(windows.max(1));
    let by_window: Vec<String> = (0..runs)
        .step_by(per_window)
        .map(|from| {
            let to = (from + per_window).min(runs);
            let all = times.iter().flat_map(|t| t[from..to].iter().copied());
            let control = control_times[from..to].to_vec();
            format!(
                "{:.2}/{:.2}",
                us(median(all.collect())),
                us(median(control))
            )
        })
        .collect();
    let seen: Vec<String> = out_offsets
        .iter()
        .map(|(o, n)| format!("@{o}: {n}"))
        .collect();
    println!(
        "batch {batch}: median us by input offset: {} | by time window (linear/control): {} | outputs {}",
        by_offset.join(", "),
        by_window.join(" "),
        seen.join(", ")
    );
    Ok(())
}

/// The suite's linear layer: `relu(x @ W^T + b)`, `x` `[batch, 128]`, 64 outputs.
fn linear() -> engine::Result<Graph> {
    let mut g = Graph::new("linear_relu");
    let x = g.input("x", DType::F32, dims!["batch", IN])?;
    let weight = Tensor::from_f32(
        &[OUT, IN],
        (0..OUT * IN).map(|i| (i % 13) as f32 * 0.01).collect(),
    )?;
    let bias = Tensor::from_f32(&[OUT], vec![0.1; OUT])?;
    let y = Linear::new(&mut g, weight, Some(bias)).forward(&mut g, x)?;
    let y = g.relu(y)?;
    g.output(y);
    Ok(g)
}

/// An input `[batch, 128]` whose data starts `offset` bytes past a 64-byte boundary. A Vec
/// cannot be over-aligned, so allocations are drawn until one lands there (the allocator
/// hands out 16-byte-aligned blocks at varying offsets); the misses are then freed.
fn input_at(batch: usize, offset: usize) -> engine::Result<Tensor> {
    let n = batch * IN;
    let mut misses = Vec::new();
    for _ in 0..1000 {
        let v: Vec<f32> = (0..n).map(|i| (i % 17) as f32 * 0.1).collect();
        if v.as_ptr() as usize % 64 == offset {
            drop(misses);
            return Tensor::from_f32(&[batch, IN], v);
        }
        misses.push(v);
    }
    Err(engine::Error::BadArgument {
        op: "alignment_probe".into(),
        why: format!("no allocation of {n} floats landed at offset {offset} of a cache line"),
    })
}

/// A fixed amount of arithmetic on 128 independent lanes held in registers, about as long
/// as a small linear layer, with no memory traffic or allocation: if its time jumps in the
/// same windows as the linear layer's, the machine changed speed, not our code.
fn control() -> f32 {
    // Opaque to the optimiser, so the loop is computed at run time, not folded away.
    let mut acc = [std::hint::black_box(1.0f32); 128];
    for _ in 0..50 {
        for a in &mut acc {
            *a = *a * 0.999 + 0.001;
        }
    }
    acc.iter().sum()
}

fn addr(t: &Tensor) -> usize {
    t.as_f32().map_or(0, |v| v.as_ptr() as usize)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
