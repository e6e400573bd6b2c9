//! What is particular to the `onnxruntime` subject, the ONNX export's harder paths:
//! symbolic dims bound per run (Shape/Concat/Range), graph outputs that are inputs, constants
//! or repeated, and the compiler's fused ops, against the reference interpreter.
//!
//! Skipped with a message when ONNX Runtime is not installed (`scripts/setup-baselines`),
//! except under CI (`CI` set), where that fails.

mod common;

use common::{check_runs, ids, random};
use engine::{DType, Graph, Tensor, Value, dims};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use subjects::Subject;

fn onnxruntime() -> Option<Box<dyn Subject>> {
    common::subject("onnxruntime")
}

/// A graph with the given (possibly symbolic) inputs and every output `build` returns.
fn graph(
    name: &str,
    inputs: &[(&str, DType, Vec<engine::Dim>)],
    build: impl FnOnce(&mut Graph, &[Value]) -> engine::Result<Vec<Value>>,
) -> Graph {
    let mut g = Graph::new(name);
    let vs: Vec<Value> = inputs
        .iter()
        .map(|(n, d, dims)| g.input(n, *d, dims.clone()).unwrap())
        .collect();
    for y in build(&mut g, &vs).unwrap() {
        g.output(y);
    }
    g
}

#[test]
fn symbolic_dims_are_bound_on_every_run() {
    let Some(ort) = onnxruntime() else { return };
    let rng = &mut ChaCha8Rng::seed_from_u64(11);
    let f = DType::F32;
    let tol = (1e-5, 1e-4);

    // [b, s] i64 mask -> additive f32 mask [b, 1, 1, s] (Reshape with 0 and -1).
    let g = graph("mask", &[("m", DType::I64, dims!["b", "s"])], |g, v| {
        let m = g.cast(v[0], f)?;
        let one = g.scalar(1.0);
        let inv = g.sub(one, m)?;
        Ok(vec![g.reshape(inv, dims!["b", 1, 1, "s"])?])
    });
    let runs = [vec![ids(rng, &[2, 3], 2)], vec![ids(rng, &[1, 5], 2)]];
    check_runs(&*ort, &g, &runs, tol);

    // Two symbolic dims that move: the shape is read with Shape and joined with Concat.
    let g = graph("swap", &[("x", f, dims!["b", "s", 6])], |g, v| {
        Ok(vec![g.reshape(v[0], dims!["s", "b", 2, 3])?])
    });
    let runs = [
        vec![random(rng, &[2, 3, 6], -1.0, 1.0)],
        vec![random(rng, &[3, 1, 6], -1.0, 1.0)],
    ];
    check_runs(&*ort, &g, &runs, tol);

    // broadcast_to with a dim the input has (written as 1) and one from another input.
    let g = graph(
        "expand",
        &[("x", f, dims!["b", 1]), ("y", f, dims!["n"])],
        |g, v| {
            let a = g.broadcast_to(v[0], dims!["n", "b", 4])?;
            let b = g.broadcast_to(v[1], dims!["b", "n"])?;
            Ok(vec![a, b])
        },
    );
    let runs = [
        vec![
            random(rng, &[2, 1], -1.0, 1.0),
            random(rng, &[3], -1.0, 1.0),
        ],
        vec![
            random(rng, &[4, 1], -1.0, 1.0),
            random(rng, &[1], -1.0, 1.0),
        ],
    ];
    check_runs(&*ort, &g, &runs, tol);

    // arange of a symbolic length: f32 (Range + Cast), i64 as gather indices into a table
    // that is an input (so not the position-table slice), and i64 as an output.
    let g = graph(
        "arange",
        &[("x", f, dims!["n"]), ("table", f, dims![9, 2])],
        |g, v| {
            let r = g.arange("n".into(), f)?;
            let a = g.add(v[0], r)?;
            let idx = g.arange("n".into(), DType::I64)?;
            let rows = g.gather(v[1], idx)?;
            Ok(vec![a, rows, idx])
        },
    );
    let runs = [
        vec![
            random(rng, &[4], -1.0, 1.0),
            random(rng, &[9, 2], -1.0, 1.0),
        ],
        vec![
            random(rng, &[7], -1.0, 1.0),
            random(rng, &[9, 2], -1.0, 1.0),
        ],
    ];
    check_runs(&*ort, &g, &runs, tol);

    // Position embeddings: rows 0..seq of a constant table (a Slice).
    let table = random(rng, &[16, 3], -1.0, 1.0);
    let g = graph(
        "positions",
        &[("ids", DType::I64, dims!["b", "seq"])],
        |g, v| {
            let t = g.constant(table);
            let pos = g.arange("seq".into(), DType::I64)?;
            let pe = g.gather(t, pos)?;
            let we = g.gather(t, v[0])?;
            Ok(vec![g.add(we, pe)?])
        },
    );
    let runs = [vec![ids(rng, &[2, 5], 16)], vec![ids(rng, &[1, 16], 16)]];
    check_runs(&*ort, &g, &runs, tol);
}

#[test]
fn outputs_may_be_inputs_constants_repeats_and_i64() {
    let Some(ort) = onnxruntime() else { return };
    let rng = &mut ChaCha8Rng::seed_from_u64(12);
    let g = graph("outputs", &[("x", DType::F32, dims!["n"])], |g, v| {
        let c = g.constant(Tensor::from_f32(&[2], vec![1.5, -2.0]).unwrap());
        let y = g.exp(v[0])?;
        let i = g.cast(v[0], DType::I64)?;
        let r = g.arange(3.into(), DType::I64)?;
        Ok(vec![y, v[0], c, y, i, r])
    });
    let runs = [vec![random(rng, &[5], -3.0, 3.0)]];
    check_runs(&*ort, &g, &runs, (1e-5, 1e-4));
}

/// A graph of the compiler's fused ops, built by hand: `Executable::graph` may hold weights in
/// a packed layout, so the fused ops are exercised here on a graph with ordinary constants.
fn fused_graph(rng: &mut ChaCha8Rng) -> Graph {
    use engine::ops::{BinaryOp as B, ElementwiseProgram, FusedOp, Instr, Op, UnaryOp as U};
    use std::sync::Arc;
    let mut g = Graph::new("fused");
    let x = g.input("x", DType::F32, dims!["n", 4]).unwrap();
    let r = g.input("r", DType::F32, dims!["n", 5]).unwrap();
    let w = g.constant(random(rng, &[4, 5], -0.5, 0.5));
    let b = g.constant(random(rng, &[5], -0.5, 0.5));
    // relu(x @ w + b) + r
    let epilogue = ElementwiseProgram {
        n_inputs: 3,
        instrs: vec![
            Instr::Binary(B::Add, 0, 1),
            Instr::Unary(U::Relu, 3),
            Instr::Binary(B::Add, 4, 2),
        ],
    };
    let h = g
        .push(
            Op::Fused(FusedOp::MatMulEpilogue(Arc::new(epilogue))),
            &[x, w, b, r],
        )
        .unwrap();
    // gelu(2 h + b), with a constant register
    let chain = ElementwiseProgram {
        n_inputs: 2,
        instrs: vec![
            Instr::Const(2.0),
            Instr::Binary(B::Mul, 0, 2),
            Instr::Binary(B::Add, 3, 1),
            Instr::Unary(U::Gelu, 4),
        ],
    };
    let e = g
        .push(Op::Fused(FusedOp::Elementwise(Arc::new(chain))), &[h, b])
        .unwrap();
    // exp(b) broadcast to h's shape: the result needs an Expand.
    let only_b = ElementwiseProgram {
        n_inputs: 2,
        instrs: vec![Instr::Unary(U::Exp, 0)],
    };
    let eb = g
        .push(Op::Fused(FusedOp::Elementwise(Arc::new(only_b))), &[b, h])
        .unwrap();
    let gamma = g.constant(random(rng, &[5], 0.5, 1.5));
    let beta = g.constant(random(rng, &[5], -0.5, 0.5));
    let ln = (g.push(
        Op::Fused(FusedOp::AddLayerNorm { eps: 1e-5 }),
        &[e, eb, gamma, beta],
    ))
    .unwrap();
    g.output(ln);
    g.output(eb);
    g
}

#[test]
fn fused_ops_run_like_the_reference() {
    let Some(ort) = onnxruntime() else { return };
    let rng = &mut ChaCha8Rng::seed_from_u64(13);
    let g = fused_graph(rng);
    let runs = [
        vec![
            random(rng, &[3, 4], -1.0, 1.0),
            random(rng, &[3, 5], -1.0, 1.0),
        ],
        vec![
            random(rng, &[1, 4], -1.0, 1.0),
            random(rng, &[1, 5], -1.0, 1.0),
        ],
    ];
    check_runs(&*ort, &g, &runs, (1e-5, 1e-4));
}
