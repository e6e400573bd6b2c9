//! Where the time of one DistilBERT encoder layer goes on the compiled CPU path: the median
//! of the whole run and of every compiled node.
//!
//! `cargo run -p engine --release --example encoder_layer_timing [seq] [threads] [runs]`
//! (defaults 128, 1, 30): batch 1, width 768, 12 heads, FFN 3072, post-norm, exact GELU,
//! padding mask.

mod timing;

use std::time::Duration;

use timing::{arg, median};

use engine::{CompileOptions, DType, Graph, Tensor, Value, compile, dims};

const D: usize = 768;
const HEADS: usize = 12;
const FFN: usize = 3072;

/// Deterministic small weights (a hash of the index), so runs need no files.
fn filled(dims: &[usize], salt: usize) -> Tensor {
    let n: usize = dims.iter().product();
    let v = (0..n)
        .map(|i| (((i + salt) * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.05)
        .collect();
    Tensor::from_f32(dims, v).unwrap()
}

fn linear(g: &mut Graph, x: Value, k: usize, n: usize, salt: usize) -> Value {
    let w = g.constant(filled(&[n, k], salt));
    let b = g.constant(filled(&[n], salt + 1));
    let wt = g.t(w).unwrap();
    let y = g.matmul(x, wt).unwrap();
    g.add(y, b).unwrap()
}

fn layer_norm(g: &mut Graph, x: Value) -> Value {
    let gamma = g.constant(Tensor::from_f32(&[D], vec![1.0; D]).unwrap());
    let beta = g.constant(Tensor::from_f32(&[D], vec![0.0; D]).unwrap());
    g.layer_norm(x, gamma, beta, 1e-12).unwrap()
}

/// One post-norm block: `h = LN(attn(x) + x)`, `out = LN(ffn(h) + h)`.
fn encoder_layer() -> Graph {
    let mut g = Graph::new("distilbert_layer");
    let x = g.input("x", DType::F32, dims!["batch", "seq", D]).unwrap();
    let keep = g.input("mask", DType::F32, dims!["batch", "seq"]).unwrap();
    // (1 - mask) * -10000, as [batch, 1, 1, seq].
    let one = g.scalar(1.0);
    let big = g.scalar(-10000.0);
    let m = g.sub(one, keep).unwrap();
    let m = g.mul(m, big).unwrap();
    let m = g.reshape(m, dims!["batch", 1, 1, "seq"]).unwrap();

    let dh = D / HEADS;
    let heads = |g: &mut Graph, t: Value| {
        let t = g.reshape(t, dims!["batch", "seq", HEADS, dh]).unwrap();
        g.transpose(t, &[0, 2, 1, 3]).unwrap()
    };
    let q = linear(&mut g, x, D, D, 1);
    let q = heads(&mut g, q);
    let k = linear(&mut g, x, D, D, 2);
    let k = heads(&mut g, k);
    let v = linear(&mut g, x, D, D, 3);
    let v = heads(&mut g, v);
    let a = g
        .attention(q, k, v, Some(m), 1.0 / (dh as f32).sqrt())
        .unwrap();
    let a = g.transpose(a, &[0, 2, 1, 3]).unwrap();
    let a = g.reshape(a, dims!["batch", "seq", D]).unwrap();
    let a = linear(&mut g, a, D, D, 4);
    let h = g.add(a, x).unwrap();
    let h = layer_norm(&mut g, h);

    let f = linear(&mut g, h, D, FFN, 5);
    let f = g.gelu(f).unwrap();
    let f = linear(&mut g, f, FFN, D, 6);
    let out = g.add(f, h).unwrap();
    let out = layer_norm(&mut g, out);
    g.output(out);
    g
}

fn main() {
    let (seq, threads, runs) = (arg(1, 128), arg(2, 1), arg(3, 30));

    let g = encoder_layer();
    let options = CompileOptions::cpu(threads);
    let mut exe = compile(&g, &options).unwrap();
    let mut keep = vec![1.0; seq];
    keep[seq - seq / 8..].fill(0.0); // the last eighth is padding
    let inputs = [
        filled(&[1, seq, D], 7),
        Tensor::from_f32(&[1, seq], keep).unwrap(),
    ];
    let shapes = g.concrete_shapes(&g.bind_inputs(&inputs).unwrap()).unwrap();
    let gflop = g.flops(&shapes) as f64 / 1e9;

    for _ in 0..3 {
        exe.run(&inputs).unwrap();
    }
    let mut totals = Vec::with_capacity(runs);
    let mut per_node: Vec<Vec<Duration>> = vec![Vec::new(); exe.graph().nodes().len()];
    for _ in 0..runs {
        let start = std::time::Instant::now();
        exe.run(&inputs).unwrap();
        totals.push(start.elapsed());
        let (_, times) = exe.run_profiled(&inputs).unwrap();
        for (acc, t) in per_node.iter_mut().zip(times) {
            acc.push(t);
        }
    }
    // The minimum too: on a shared machine the median moves with other processes' load.
    let fastest = *totals.iter().min().unwrap();
    let total = median(totals);
    println!(
        "encoder layer, batch 1, seq {seq}, {threads} thread(s), {runs} runs: median {:.2} ms (min {:.2}), {gflop:.3} GFLOP, {:.1} GFLOP/s at the median",
        total.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        gflop / total.as_secs_f64()
    );
    println!("{}\n", exe.report());

    let cg = exe.graph();
    let cshapes = cg
        .concrete_shapes(&cg.bind_inputs(&inputs).unwrap())
        .unwrap();
    println!(
        "{:<22} {:<18} {:>9} {:>6} {:>9}",
        "node", "shape", "ms", "%", "GFLOP/s"
    );
    for (i, times) in per_node.into_iter().enumerate() {
        let t = median(times);
        if t.is_zero() {
            continue;
        }
        let node = &cg.nodes()[i];
        let ins: Vec<Vec<usize>> = node.inputs.iter().map(|v| cshapes[v.0].clone()).collect();
        let flops = node.op.flops(&ins, &cshapes[i]) as f64;
        println!(
            "{:<22} {:<18} {:>9.3} {:>6.1} {:>9.1}",
            node.op.name(),
            format!("{:?}", cshapes[i]),
            t.as_secs_f64() * 1e3,
            100.0 * t.as_secs_f64() / total.as_secs_f64(),
            flops / t.as_secs_f64() / 1e9
        );
    }
}
