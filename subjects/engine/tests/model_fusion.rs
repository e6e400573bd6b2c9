//! The fusions transformer blocks rely on really fire: residual add + LayerNorm, bias + GELU
//! in the matmul epilogue, and attention reading the head-split transposes as views.

mod common;

use common::{check, compiled_ops, random, rng};
use engine::ops::{FusedOp, Instr, Op, UnaryOp};
use engine::{CompileOptions, DType, Graph, Value, compile, dims};

/// `y = x @ W^T + b` with a random `[n, k]` weight.
fn linear(g: &mut Graph, x: Value, k: usize, n: usize, seed: u64) -> Value {
    let mut r = rng(seed);
    let w = g.constant(random(&mut r, &[n, k], (-0.2, 0.2)));
    let b = g.constant(random(&mut r, &[n], (-0.2, 0.2)));
    let wt = g.t(w).unwrap();
    let y = g.matmul(x, wt).unwrap();
    g.add(y, b).unwrap()
}

fn layer_norm(g: &mut Graph, x: Value, d: usize, seed: u64) -> Value {
    let mut r = rng(seed);
    let gamma = g.constant(random(&mut r, &[d], (0.5, 1.5)));
    let beta = g.constant(random(&mut r, &[d], (-0.5, 0.5)));
    g.layer_norm(x, gamma, beta, 1e-12).unwrap()
}

/// A post-norm feed-forward block: `LN(lin2(gelu(lin1(x))) + x)`.
fn ffn_block(d: usize, hidden: usize) -> Graph {
    let mut g = Graph::new("ffn");
    let x = g.input("x", DType::F32, dims!["batch", "seq", d]).unwrap();
    let h = linear(&mut g, x, d, hidden, 1);
    let h = g.gelu(h).unwrap();
    let y = linear(&mut g, h, hidden, d, 2);
    let s = g.add(y, x).unwrap();
    let out = layer_norm(&mut g, s, d, 3);
    g.output(out);
    g
}

#[test]
fn post_norm_ffn_fuses_into_two_matmuls_and_one_add_layer_norm() {
    let g = ffn_block(16, 40);
    let exe = compile(&g, &CompileOptions::default()).unwrap();
    assert_eq!(
        compiled_ops(exe.graph()),
        ["fused_matmul", "fused_matmul", "fused_add_layer_norm"]
    );
    let r = exe.report();
    assert_eq!((r.fused_add_layer_norms, r.fused_epilogues), (1, 2));
    assert!(r.to_string().contains("1 add+layer_norm"), "{r}");
    let mut rr = rng(4);
    for (b, s) in [(1, 1), (2, 7), (3, 50)] {
        check(&g, &[random(&mut rr, &[b, s, 16], (-2.0, 2.0))]).unwrap();
    }
}

/// Bias + exact GELU finish the first matmul in its epilogue: the bias is pre-filled and
/// GELU runs on the product in place, so no separate element-wise node remains.
#[test]
fn bias_and_gelu_fuse_into_the_matmul_epilogue() {
    let g = ffn_block(16, 40);
    let exe = compile(&g, &CompileOptions::default()).unwrap();
    let first = exe
        .graph()
        .nodes()
        .iter()
        .find(|n| matches!(n.op, Op::Fused(FusedOp::MatMulEpilogue(_))))
        .unwrap();
    let Op::Fused(FusedOp::MatMulEpilogue(p)) = &first.op else {
        unreachable!()
    };
    assert!(
        p.instrs.contains(&Instr::Unary(UnaryOp::Gelu, p.n_inputs)),
        "gelu of the biased product: {p:?}"
    );
    assert_eq!(first.inputs.len(), 3, "x, the prepacked weight, the bias");
    assert!(!compiled_ops(exe.graph()).contains(&"gelu"));
}

#[test]
fn a_sum_read_elsewhere_is_not_fused_into_layer_norm() {
    // Pre-norm style: the residual sum is also the block's output.
    let mut g = Graph::new("pre_norm");
    let x = g.input("x", DType::F32, dims!["n", 8]).unwrap();
    let h = g.input("h", DType::F32, dims!["n", 8]).unwrap();
    let s = g.add(x, h).unwrap();
    let y = layer_norm(&mut g, s, 8, 1);
    g.output(y);
    g.output(s);
    let exe = compile(&g, &CompileOptions::default()).unwrap();
    assert_eq!(exe.report().fused_add_layer_norms, 0);
    assert!(compiled_ops(exe.graph()).contains(&"layer_norm"));
    // A broadcast operand is not fused either (the kernel adds equal rows).
    let mut g = Graph::new("broadcast");
    let x = g.input("x", DType::F32, dims!["n", 8]).unwrap();
    let b = g.input("b", DType::F32, dims![8]).unwrap();
    let s = g.add(x, b).unwrap();
    let y = layer_norm(&mut g, s, 8, 1);
    g.output(y);
    assert_eq!(
        compile(&g, &CompileOptions::default())
            .unwrap()
            .report()
            .fused_add_layer_norms,
        0
    );
    let mut r = rng(2);
    check(
        &g,
        &[
            random(&mut r, &[3, 8], (-1.0, 1.0)),
            random(&mut r, &[8], (-1.0, 1.0)),
        ],
    )
    .unwrap();
}

/// The head-split transposes of q, k and v are read by attention as strided views: with
/// only inputs, no intermediate needs the arena.
#[test]
fn attention_reads_head_split_transposes_as_views() {
    let (s, h, dh) = (7, 3, 5);
    let mut g = Graph::new("views");
    let split = |g: &mut Graph, name: &str| {
        let t = g.input(name, DType::F32, dims![2, "s", h * dh]).unwrap();
        let t = g.reshape(t, dims![2, "s", h, dh]).unwrap();
        g.transpose(t, &[0, 2, 1, 3]).unwrap()
    };
    let q = split(&mut g, "q");
    let k = split(&mut g, "k");
    let v = split(&mut g, "v");
    let y = g.attention(q, k, v, None, 0.5).unwrap();
    g.output(y);
    let mut r = rng(3);
    let xs: Vec<_> = (0..3)
        .map(|_| random(&mut r, &[2, s, h * dh], (-1.0, 1.0)))
        .collect();
    check(&g, &xs).unwrap();
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    exe.run(&xs).unwrap();
    assert_eq!(exe.report().arena_bytes, 0, "{}", exe.report());
}
