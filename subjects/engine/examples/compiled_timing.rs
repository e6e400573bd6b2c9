//! Quick timings of the compiled CPU path (median of 100 runs after warm-up).
//!
//! `cargo run -p engine --release --example compiled_timing [threads]`

use std::time::Instant;

use engine::nn::Linear;
use engine::{CompileOptions, DType, Graph, Tensor, compile, dims};

fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..10 {
        f();
    }
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn filled(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    Tensor::from_f32(
        dims,
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect(),
    )
    .unwrap()
}

fn time(name: &str, g: &Graph, x: Tensor, threads: usize, flops: f64) {
    let mut exe = compile(g, &CompileOptions::cpu(threads)).unwrap();
    let inputs = [x];
    let us = median_us(100, || {
        std::hint::black_box(exe.run(&inputs).unwrap());
    });
    let rate = if flops > 0.0 {
        format!(" ({:.1} GFLOP/s)", flops / us / 1e3)
    } else {
        String::new()
    };
    println!("{name:<34} {us:>9.1} us{rate}");
}

fn linear(k: usize, n: usize, act: fn(&mut Graph, engine::Value) -> engine::Value) -> Graph {
    let mut g = Graph::new("linear");
    let x = g.input("x", DType::F32, dims!["m", k]).unwrap();
    let layer = Linear::new(&mut g, filled(&[n, k]), Some(filled(&[n])));
    let y = layer.forward(&mut g, x).unwrap();
    let y = act(&mut g, y);
    g.output(y);
    g
}

fn unary_chain(f: fn(&mut Graph, engine::Value) -> engine::Value) -> Graph {
    let mut g = Graph::new("chain");
    let x = g.input("x", DType::F32, dims!["n"]).unwrap();
    let y = f(&mut g, x);
    g.output(y);
    g
}

fn main() {
    let threads = std::env::args().nth(1).map_or(1, |s| s.parse().unwrap());
    println!("isa {}, {threads} thread(s)", engine::cpu_isa());
    let relu = |g: &mut Graph, y| g.relu(y).unwrap();
    let gelu = |g: &mut Graph, y| g.gelu(y).unwrap();
    for (m, k, n, act, label) in [
        (32, 128, 64, relu as fn(&mut Graph, _) -> _, "relu"),
        (128, 768, 3072, gelu, "gelu"),
        (8, 768, 768, relu, "relu"),
    ] {
        let flops = 2.0 * (m * k * n) as f64;
        time(
            &format!("linear+{label} {m}x{k} @ {k}x{n}"),
            &linear(k, n, act),
            filled(&[m, k]),
            threads,
            flops,
        );
    }
    let relu_affine = unary_chain(|g, x| {
        let (two, one) = (g.scalar(2.0), g.scalar(1.0));
        let y = g.mul(x, two).unwrap();
        let y = g.add(y, one).unwrap();
        g.relu(y).unwrap()
    });
    time(
        "relu(x*2+1), 1M",
        &relu_affine,
        filled(&[1 << 20]),
        threads,
        0.0,
    );
    time(
        "gelu(x), 1M",
        &unary_chain(|g, x| g.gelu(x).unwrap()),
        filled(&[1 << 20]),
        threads,
        0.0,
    );
    time(
        "exp(x), 1M",
        &unary_chain(|g, x| g.exp(x).unwrap()),
        filled(&[1 << 20]),
        threads,
        0.0,
    );
    floor();
}

/// What the element-wise numbers compare with: allocating (and zeroing) the returned
/// tensor, and a plain loop over a 1M-element buffer.
fn floor() {
    let x = filled(&[1 << 20]);
    let xs = x.as_f32().unwrap();
    let us = median_us(100, || {
        let t = Tensor::zeros(DType::F32, &[1 << 20]);
        std::hint::black_box(t);
    });
    println!("alloc zeros 1M (untouched)          {us:>9.1} us");
    let us = median_us(100, || {
        let mut v = vec![0f32; 1 << 20];
        for (o, &a) in v.iter_mut().zip(xs) {
            *o = (a * 2.0 + 1.0).max(0.0);
        }
        std::hint::black_box(v);
    });
    println!("alloc + plain loop 1M                {us:>9.1} us");
    let mut v = vec![0f32; 1 << 20];
    let us = median_us(100, || {
        for (o, &a) in v.iter_mut().zip(xs) {
            *o = (a * 2.0 + 1.0).max(0.0);
        }
        std::hint::black_box(&v);
    });
    println!("plain loop into reused buffer 1M     {us:>9.1} us");
}
