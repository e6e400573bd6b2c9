//! The `candle` subject beyond the shared op suite: a DistilBERT-sized model, the compiler's
//! fused ops, and the corners of the lowering (broadcasting matmuls and attention, unequal
//! conv strides and padding, folded constants, bad inputs, the thread setting).

use engine::models::{Cnn, DistilBert, DistilBertConfig, Mlp};
use engine::{CompileOptions, DType, Graph, Parity, Tensor, Value, dims};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn candle() -> Box<dyn subjects::Subject> {
    let s = subjects::find("candle").unwrap();
    assert_eq!(s.availability(), subjects::Availability::Available);
    assert!(
        s.version().starts_with("candle-core 0.11."),
        "{}",
        s.version()
    );
    s
}

fn random(rng: &mut ChaCha8Rng, dims: &[usize], lo: f32, hi: f32) -> Tensor {
    let n = dims.iter().product();
    Tensor::from_f32(dims, (0..n).map(|_| rng.random_range(lo..hi)).collect()).unwrap()
}

/// Runs `graph` on candle (twice, to see that a session is reusable) and on the reference.
fn check(graph: &Graph, inputs: &[Tensor], atol: f64, rtol: f64) -> Parity {
    let expected = engine::reference::run(graph, inputs).unwrap();
    let mut session = candle().load(graph, 1).unwrap();
    let first = session.run(inputs).unwrap();
    let again = session.run(inputs).unwrap();
    assert_eq!(first, again, "{}: a second run differs", graph.name());
    let parity = Parity::of(&first, &expected, atol, rtol).unwrap();
    assert!(parity.ok(), "{}: {parity:?}", graph.name());
    parity
}

/// A graph of the given inputs and one output built by `build`.
fn graph(
    name: &str,
    inputs: &[(&str, &Tensor)],
    build: impl FnOnce(&mut Graph, &[Value]) -> engine::Result<Value>,
) -> Graph {
    let mut g = Graph::new(name);
    let vals: Vec<Value> = inputs
        .iter()
        .map(|(n, t)| {
            let d = t.dims().iter().map(|&d| d.into()).collect();
            g.input(n, t.dtype(), d).unwrap()
        })
        .collect();
    let y = build(&mut g, &vals).unwrap();
    g.output(y);
    g
}

fn token_inputs(rng: &mut ChaCha8Rng, vocab: usize, batch: usize, seq: usize) -> Vec<Tensor> {
    let ids = (0..batch * seq)
        .map(|_| rng.random_range(0..vocab as i64))
        .collect();
    // The last row pads its final two tokens, so the mask matters.
    let mask = (0..batch * seq)
        .map(|i| i64::from(!(i / seq == batch - 1 && i % seq >= seq - 2)))
        .collect();
    vec![
        Tensor::from_i64(&[batch, seq], ids).unwrap(),
        Tensor::from_i64(&[batch, seq], mask).unwrap(),
    ]
}

#[test]
fn distilbert_sst2_at_seq_8_matches_the_reference() {
    let model = DistilBert::synthetic(DistilBertConfig::sst2(), 1).unwrap();
    let inputs = token_inputs(&mut ChaCha8Rng::seed_from_u64(3), 30522, 1, 8);
    let p = check(&model.graph, &inputs, 1e-4, 1e-4);
    eprintln!("candle vs reference, DistilBERT seq 8 batch 1: {p:?}");
    assert!(p.max_abs_err < 1e-4, "{p:?}");
}

fn small_distilbert() -> DistilBertConfig {
    DistilBertConfig {
        vocab_size: 97,
        max_position_embeddings: 16,
        dim: 32,
        n_layers: 2,
        n_heads: 4,
        hidden_dim: 64,
        ..DistilBertConfig::sst2()
    }
}

#[test]
fn small_distilbert_with_symbolic_batch_and_seq() {
    let model = DistilBert::synthetic(small_distilbert(), 2).unwrap();
    let mut session = candle().load(&model.graph, 1).unwrap();
    let rng = &mut ChaCha8Rng::seed_from_u64(4);
    // One session, several bindings of `batch` and `seq`.
    for (batch, seq) in [(1, 5), (3, 9), (2, 16)] {
        let inputs = token_inputs(rng, 97, batch, seq);
        let expected = engine::reference::run(&model.graph, &inputs).unwrap();
        let out = session.run(&inputs).unwrap();
        let p = Parity::of(&out, &expected, 1e-5, 1e-4).unwrap();
        assert!(p.ok(), "batch {batch} seq {seq}: {p:?}");
    }
}

/// The compiler's outputs (fused element-wise programs, matmul epilogues, add+layer_norm,
/// folded constants) are graphs too; the lowering runs them.
#[test]
fn compiled_graphs_with_fused_ops() {
    let rng = &mut ChaCha8Rng::seed_from_u64(5);
    let distilbert = DistilBert::synthetic(small_distilbert(), 2).unwrap().graph;
    let cases = vec![
        (distilbert, token_inputs(rng, 97, 2, 7)),
        (
            Mlp::synthetic(1).unwrap(),
            vec![random(rng, &[4, Mlp::WIDTHS[0]], -1.0, 1.0)],
        ),
        (
            Cnn::synthetic(1).unwrap(),
            vec![random(rng, &[2, 1, 28, 28], 0.0, 1.0)],
        ),
    ];
    for (graph, inputs) in cases {
        let exe = engine::compile(&graph, &CompileOptions::default()).unwrap();
        let fused = exe.graph();
        assert!(
            fused.nodes().iter().any(|n| matches!(
                n.op,
                engine::ops::Op::Elementwise(_)
                    | engine::ops::Op::MatMulEpilogue(_)
                    | engine::ops::Op::AddLayerNorm { .. }
            )),
            "{}: nothing was fused",
            graph.name()
        );
        check(fused, &inputs, 1e-5, 1e-4);
        check(&graph, &inputs, 1e-5, 1e-4);
    }
}

/// Batch dims that broadcast between q, k and v, rank-3 and rank-2 attention, a mask of
/// lower rank than the scores, and no mask.
#[test]
fn attention_broadcasting() {
    let rng = &mut ChaCha8Rng::seed_from_u64(6);
    type Shapes<'a> = (&'a [usize], &'a [usize], &'a [usize], Option<&'a [usize]>);
    let shapes: [Shapes; 5] = [
        (&[2, 3, 4, 8], &[1, 3, 6, 8], &[2, 1, 6, 5], Some(&[6])),
        (&[3, 4, 8], &[3, 6, 8], &[3, 6, 8], Some(&[3, 1, 6])),
        (&[4, 8], &[6, 8], &[6, 2], Some(&[4, 6])),
        (&[2, 2, 5, 4], &[2, 2, 5, 4], &[2, 2, 5, 4], None),
        (
            &[2, 2, 2, 3, 4],
            &[2, 1, 2, 5, 4],
            &[2, 2, 1, 5, 3],
            Some(&[2, 1, 1, 1, 5]),
        ),
    ];
    for (q, k, v, m) in shapes {
        let mut inputs = vec![
            ("q", random(rng, q, -1.0, 1.0)),
            ("k", random(rng, k, -1.0, 1.0)),
            ("v", random(rng, v, -1.0, 1.0)),
        ];
        if let Some(m) = m {
            inputs.push(("mask", random(rng, m, -3.0, 0.0)));
        }
        let named: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (*n, t)).collect();
        let g = graph("attention", &named, |g, v| {
            g.attention(v[0], v[1], v[2], v.get(3).copied(), 0.3)
        });
        let inputs: Vec<Tensor> = inputs.into_iter().map(|(_, t)| t).collect();
        check(&g, &inputs, 1e-5, 1e-4);
    }
}

/// Matmuls on every path of the lowering: 2-D, a weight shared by a batch (folded rows),
/// equal batch dims on views (transposed operands), broadcast batch dims on either side,
/// more than two batch dims, and a right-hand matrix with size-1 batch dims.
#[test]
fn matmul_paths() {
    let rng = &mut ChaCha8Rng::seed_from_u64(8);
    type Build = fn(&mut Graph, &[Value]) -> engine::Result<Value>;
    let cases: [(&[usize], &[usize], Build); 8] = [
        (&[5, 7], &[7, 3], |g, v| g.matmul(v[0], v[1])),
        (&[2, 4, 5, 7], &[7, 3], |g, v| g.matmul(v[0], v[1])),
        (&[2, 4, 5, 7], &[1, 1, 7, 3], |g, v| g.matmul(v[0], v[1])),
        (&[3, 5, 7], &[3, 3, 7], |g, v| {
            let b = g.transpose(v[1], &[0, 2, 1])?;
            g.matmul(v[0], b)
        }),
        (&[2, 5, 3, 7], &[2, 3, 7, 4], |g, v| {
            // A permuted left operand (as attention's heads are).
            let a = g.transpose(v[0], &[0, 2, 1, 3])?;
            g.matmul(a, v[1])
        }),
        (&[5, 7], &[2, 3, 7, 4], |g, v| g.matmul(v[0], v[1])),
        (&[2, 1, 3, 5, 7], &[4, 1, 7, 2], |g, v| g.matmul(v[0], v[1])),
        (&[7, 5], &[3, 7], |g, v| {
            let a = g.t(v[0])?;
            let b = g.t(v[1])?;
            g.matmul(a, b)
        }),
    ];
    for (a, b, build) in cases {
        let (a, b) = (random(rng, a, -1.0, 1.0), random(rng, b, -1.0, 1.0));
        let g = graph("matmul", &[("a", &a), ("b", &b)], build);
        check(&g, &[a, b], 1e-5, 1e-4);
    }
}

/// Convolutions with unequal strides and padding, without bias, and pooling with
/// overlapping windows.
#[test]
fn conv_and_pool_variants() {
    let rng = &mut ChaCha8Rng::seed_from_u64(9);
    let x = random(rng, &[2, 3, 11, 9], -1.0, 1.0);
    let w = random(rng, &[4, 3, 3, 2], -0.5, 0.5);
    let b = random(rng, &[4], -0.5, 0.5);
    for (stride, padding, bias) in [
        ([1, 1], [0, 0], false),
        ([2, 1], [1, 1], true),
        ([1, 3], [2, 0], true),
        ([3, 2], [0, 1], false),
    ] {
        let (w, b) = (w.clone(), b.clone());
        let g = graph("conv", &[("x", &x)], |g, v| {
            let w = g.constant(w);
            let b = bias.then(|| g.constant(b));
            g.conv2d(v[0], w, b, stride, padding)
        });
        check(&g, std::slice::from_ref(&x), 1e-5, 1e-4);
    }
    let g = graph("pool", &[("x", &x)], |g, v| {
        g.max_pool2d(v[0], [3, 2], [2, 1])
    });
    check(&g, std::slice::from_ref(&x), 1e-5, 1e-4);
}

/// Gathers from tables of rank 1 and 3, a reduction over no axes, a transposed weight that
/// feeds two matmuls, a bias add whose matmul is an output too, scalar operands on either
/// side of sub, outputs that are an input (twice) and a constant.
#[test]
fn lowering_corners() {
    let rng = &mut ChaCha8Rng::seed_from_u64(7);
    let mut g = Graph::new("corners");
    let ids = g.input("ids", DType::I64, dims!["n", 2]).unwrap();
    let x = g.input("x", DType::F32, dims!["n", 6]).unwrap();
    let t1 = g.constant(random(rng, &[9], -1.0, 1.0));
    let t3 = g.constant(random(rng, &[9, 2, 3], -1.0, 1.0));
    let a = g.gather(t1, ids).unwrap();
    let b = g.gather(t3, ids).unwrap();
    let r = g.reduce_sum(b, &[], false).unwrap();
    let w = g.constant(random(rng, &[4, 6], -1.0, 1.0));
    let wt = g.t(w).unwrap();
    let y1 = g.matmul(x, wt).unwrap();
    let bias = g.constant(random(rng, &[4], -1.0, 1.0));
    let y2 = g.add(y1, bias).unwrap();
    let x2 = g.mul(x, x).unwrap();
    let y3 = g.matmul(x2, wt).unwrap();
    let y3 = g.add(bias, y3).unwrap();
    let c = g.scalar(0.75);
    let s1 = g.sub(c, x).unwrap();
    let s2 = g.sub(x, c).unwrap();
    let s3 = g.mul(c, s2).unwrap();
    let s4 = g.div(s1, c).unwrap();
    let folded = g.add(bias, bias).unwrap();
    for v in [a, r, y1, y2, y3, s3, s4, x, x, folded] {
        g.output(v);
    }
    let n = 5;
    let inputs = vec![
        Tensor::from_i64(&[n, 2], (0..2 * n as i64).map(|i| (i * 7) % 9).collect()).unwrap(),
        random(rng, &[n, 6], -1.0, 1.0),
    ];
    check(&g, &inputs, 1e-5, 1e-4);
}

/// Softmax over a middle axis, reductions over several axes, and casts that truncate.
#[test]
fn axes_and_casts() {
    let rng = &mut ChaCha8Rng::seed_from_u64(10);
    let x = random(rng, &[3, 4, 5], -4.0, 4.0);
    type Build = fn(&mut Graph, &[Value]) -> engine::Result<Value>;
    let cases: [Build; 5] = [
        |g, v| g.softmax(v[0], 1),
        |g, v| g.softmax(v[0], 0),
        |g, v| g.reduce_max(v[0], &[0, 2], true),
        |g, v| g.reduce_mean(v[0], &[0, 1, 2], false),
        |g, v| {
            let i = g.cast(v[0], DType::I64)?;
            let t = g.transpose(i, &[2, 0, 1])?;
            let s = g.slice(t, 0, 1, 4)?;
            let c = g.concat(&[s, t], 0)?;
            g.cast(c, DType::F32)
        },
    ];
    for build in cases {
        let g = graph("axes", &[("x", &x)], build);
        check(&g, std::slice::from_ref(&x), 1e-5, 1e-4);
    }
}

#[test]
fn bad_inputs_are_errors_not_crashes() {
    let mut g = Graph::new("gather");
    let ids = g.input("ids", DType::I64, dims!["n"]).unwrap();
    let table = g.constant(Tensor::from_f32(&[3, 2], vec![0.0; 6]).unwrap());
    let y = g.gather(table, ids).unwrap();
    g.output(y);
    let mut s = candle().load(&g, 1).unwrap();
    for bad in [3, -1, i64::MAX] {
        let e = s
            .run(&[Tensor::from_i64(&[1], vec![bad]).unwrap()])
            .unwrap_err();
        assert!(format!("{e:#}").contains("gather"), "{e:#}");
    }
    let e = s
        .run(&[Tensor::from_f32(&[1], vec![0.0]).unwrap()])
        .unwrap_err();
    assert!(format!("{e:#}").contains("ids"), "{e:#}");
}

/// candle fixes its thread pools at first use in a process: a load for another count is
/// refused rather than silently run with the wrong number of threads.
#[test]
fn a_second_thread_count_in_one_process_is_refused() {
    let x = Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap();
    let g = graph("relu", &[("x", &x)], |g, v| g.relu(v[0]));
    candle().load(&g, 1).unwrap();
    // What gemm and candle's pools read.
    assert_eq!(candle_core::utils::get_num_threads(), 1);
    let e = candle().load(&g, 3).err().expect("a second thread count");
    assert!(format!("{e:#}").contains("thread"), "{e:#}");
}
