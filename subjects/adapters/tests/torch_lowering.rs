//! The `torch` subject beyond the shared op suite: a DistilBERT-sized model, the compiler's
//! fused ops, and the broadcasting corners of the lowering. Built only with `--features torch`
//! (the op suite covers the unavailable case).
#![cfg(feature = "torch")]

use engine::models::{Cnn, DistilBert, DistilBertConfig, Mlp};
use engine::{CompileOptions, DType, Graph, Parity, Tensor, dims};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn torch() -> Box<dyn subjects::Subject> {
    let s = subjects::find("torch").unwrap();
    assert_eq!(s.availability(), subjects::Availability::Available);
    s
}

fn random(rng: &mut ChaCha8Rng, dims: &[usize], lo: f32, hi: f32) -> Tensor {
    let n = dims.iter().product();
    Tensor::from_f32(dims, (0..n).map(|_| rng.random_range(lo..hi)).collect()).unwrap()
}

/// Runs `graph` on torch (twice, to see that a session is reusable) and on the reference.
fn check(graph: &Graph, inputs: &[Tensor], atol: f64, rtol: f64) -> Parity {
    let expected = engine::reference::run(graph, inputs).unwrap();
    let mut session = torch().load(graph, 1).unwrap();
    let first = session.run(inputs).unwrap();
    let again = session.run(inputs).unwrap();
    assert_eq!(first, again, "{}: a second run differs", graph.name());
    let parity = Parity::of(&first, &expected, atol, rtol).unwrap();
    assert!(parity.ok(), "{}: {parity:?}", graph.name());
    parity
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
    let mut session = torch().load(&model.graph, 1).unwrap();
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
    // q, k, v and the mask.
    type Dims<'a> = (&'a [usize], &'a [usize], &'a [usize], Option<&'a [usize]>);
    let shapes: [Dims; 4] = [
        (&[2, 3, 4, 8], &[1, 3, 6, 8], &[2, 1, 6, 5], Some(&[6])),
        (&[3, 4, 8], &[3, 6, 8], &[3, 6, 8], Some(&[3, 1, 6])),
        (&[4, 8], &[6, 8], &[6, 2], Some(&[4, 6])),
        (&[2, 2, 5, 4], &[2, 2, 5, 4], &[2, 2, 5, 4], None),
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
        let mut g = Graph::new("attention");
        let vals: Vec<_> = inputs
            .iter()
            .map(|(n, t)| {
                let d = t.dims().iter().map(|&d| d.into()).collect();
                g.input(n, DType::F32, d).unwrap()
            })
            .collect();
        let y = g
            .attention(vals[0], vals[1], vals[2], vals.get(3).copied(), 0.3)
            .unwrap();
        g.output(y);
        let inputs: Vec<Tensor> = inputs.into_iter().map(|(_, t)| t).collect();
        check(&g, &inputs, 1e-5, 1e-4);
    }
}

/// Gathers from tables of rank 1 and 3, a reduction over no axes, a matmul whose transposed
/// weight feeds two consumers, a bias add that cannot fold (the matmul is an output too),
/// and a graph whose output is an input.
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
    for v in [a, r, y1, y2, y3, x, x] {
        g.output(v);
    }
    let n = 5;
    let inputs = vec![
        Tensor::from_i64(&[n, 2], (0..2 * n as i64).map(|i| (i * 7) % 9).collect()).unwrap(),
        random(rng, &[n, 6], -1.0, 1.0),
    ];
    check(&g, &inputs, 1e-5, 1e-4);
}

#[test]
fn bad_inputs_are_errors_not_crashes() {
    let mut g = Graph::new("gather");
    let ids = g.input("ids", DType::I64, dims!["n"]).unwrap();
    let table = g.constant(Tensor::from_f32(&[3, 2], vec![0.0; 6]).unwrap());
    let y = g.gather(table, ids).unwrap();
    g.output(y);
    let mut s = torch().load(&g, 1).unwrap();
    for bad in [3, -1] {
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
