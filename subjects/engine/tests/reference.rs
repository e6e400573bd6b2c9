//! The reference interpreter against values computed by hand, independently of the engine.

use std::sync::Arc;

use engine::nn::Linear;
use engine::ops::{BinaryOp, ElementwiseProgram, FusedOp, Instr, Op, UnaryOp};
use engine::{DType, Error, Graph, Tensor, Value, dims, reference};

fn f32s(dims: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_f32(dims, values.to_vec()).unwrap()
}

/// Element counts from 0: `arange(n)` reshaped to `dims`.
fn arange(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    f32s(dims, &(0..n).map(|i| i as f32).collect::<Vec<_>>())
}

/// Runs a one-input, one-output graph built by `build`.
fn run1(x: Tensor, build: impl FnOnce(&mut Graph, Value) -> engine::Result<Value>) -> Tensor {
    let mut g = Graph::new("case");
    let dims = x.dims().iter().map(|&d| d.into()).collect();
    let xv = g.input("x", x.dtype(), dims).unwrap();
    let y = build(&mut g, xv).unwrap();
    g.output(y);
    reference::run(&g, &[x]).unwrap().remove(0)
}

fn assert_close(actual: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a as f64 - e).abs() <= tol,
            "element {i}: got {a}, expected {e} (all: {actual:?})"
        );
    }
}

#[test]
fn relu_affine() {
    let y = run1(f32s(&[4], &[1., -2., 3., -4.]), |g, x| {
        let (two, one) = (g.scalar(2.0), g.scalar(1.0));
        let y = g.mul(x, two)?;
        let y = g.add(y, one)?;
        g.relu(y)
    });
    assert_eq!(y.dims(), &[4]);
    assert_eq!(y.as_f32().unwrap(), &[3., 0., 7., 0.]);
}

fn linear_graph() -> Graph {
    let mut g = Graph::new("linear");
    let x = g.input("x", DType::F32, dims!["batch", 4]).unwrap();
    let w = f32s(&[2, 4], &[1., 0.5, -0.5, 2., -1., 0.5, 1.5, -2.]);
    let layer = Linear::new(&mut g, w, Some(f32s(&[2], &[0.1, -0.1])));
    let y = layer.forward(&mut g, x).unwrap();
    let y = g.relu(y).unwrap();
    g.output(y);
    g
}

#[test]
fn linear_relu() {
    // Row 0: 1 + 1 - 1.5 + 8 + 0.1 = 8.6; row 1: -1 + 1 + 4.5 - 8 - 0.1 = -3.6 -> 0.
    let out = reference::run(&linear_graph(), &[f32s(&[1, 4], &[1., 2., 3., 4.])]).unwrap();
    assert_eq!(out[0].dims(), &[1, 2]);
    assert_close(out[0].as_f32().unwrap(), &[8.6, 0.0], 1e-6);
}

#[test]
fn batched_broadcasting_matmul() {
    // Small integers, so every product and sum is exact.
    let value = |i: usize| ((i * 7) % 11) as f32 - 5.0;
    let a: Vec<f32> = (0..2 * 3 * 4).map(value).collect(); // [2, 1, 3, 4]
    let b: Vec<f32> = (0..3 * 4 * 5).map(|i| value(i + 3)).collect(); // [3, 4, 5]
    let mut expected = Vec::new(); // [2, 3, 3, 5]
    for p in 0..2 {
        for q in 0..3 {
            for i in 0..3 {
                for j in 0..5 {
                    let dot: f32 = (0..4)
                        .map(|k| a[p * 12 + i * 4 + k] * b[q * 20 + k * 5 + j])
                        .sum();
                    expected.push(dot);
                }
            }
        }
    }
    let mut g = Graph::new("bmm");
    let av = g.input("a", DType::F32, dims![2, 1, 3, 4]).unwrap();
    let bv = g.input("b", DType::F32, dims![3, 4, 5]).unwrap();
    let c = g.matmul(av, bv).unwrap();
    g.output(c);
    let out = reference::run(&g, &[f32s(&[2, 1, 3, 4], &a), f32s(&[3, 4, 5], &b)]).unwrap();
    assert_eq!(out[0].dims(), &[2, 3, 3, 5]);
    assert_eq!(out[0].as_f32().unwrap(), &expected[..]);
}

#[test]
fn matmul_rank2_times_batch() {
    // [2, 2] @ [2, 2, 1]: the left matrix is shared by both batches.
    let y = {
        let mut g = Graph::new("mm");
        let a = g.constant(f32s(&[2, 2], &[1., 2., 3., 4.]));
        let b = g.input("b", DType::F32, dims![2, 2, 1]).unwrap();
        let c = g.matmul(a, b).unwrap();
        g.output(c);
        reference::run(&g, &[f32s(&[2, 2, 1], &[1., 1., 2., -1.])]).unwrap()
    };
    assert_eq!(y[0].dims(), &[2, 2, 1]);
    assert_eq!(y[0].as_f32().unwrap(), &[3., 7., 0., 2.]);
}

#[test]
fn transpose_2d_and_3d() {
    let y = run1(f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]), |g, x| g.t(x));
    assert_eq!(y.dims(), &[3, 2]);
    assert_eq!(y.as_f32().unwrap(), &[1., 4., 2., 5., 3., 6.]);

    // in[a, b, c] = 12a + 4b + c; out[i, j, k] = in[j, k, i] = 12j + 4k + i.
    let y = run1(arange(&[2, 3, 4]), |g, x| g.transpose(x, &[2, 0, 1]));
    assert_eq!(y.dims(), &[4, 2, 3]);
    #[rustfmt::skip]
    let expected = [
        0., 4., 8., 12., 16., 20.,
        1., 5., 9., 13., 17., 21.,
        2., 6., 10., 14., 18., 22.,
        3., 7., 11., 15., 19., 23.,
    ];
    assert_eq!(y.as_f32().unwrap(), &expected);
}

#[test]
fn reshape_keeps_row_major_order() {
    let y = run1(arange(&[2, 3]), |g, x| g.reshape(x, dims![3, 2]));
    assert_eq!(y.dims(), &[3, 2]);
    assert_eq!(y.as_f32().unwrap(), &[0., 1., 2., 3., 4., 5.]);

    // A symbolic target takes its size from the bound input.
    let mut g = Graph::new("reshape_sym");
    let x = g.input("x", DType::F32, dims!["n", 4]).unwrap();
    let y = g.reshape(x, dims!["n", 2, 2]).unwrap();
    g.output(y);
    let out = reference::run(&g, &[arange(&[3, 4])]).unwrap();
    assert_eq!(out[0].dims(), &[3, 2, 2]);
}

#[test]
fn broadcasting() {
    let y = run1(f32s(&[3], &[1., 2., 3.]), |g, x| {
        g.broadcast_to(x, dims![2, 3])
    });
    assert_eq!(y.dims(), &[2, 3]);
    assert_eq!(y.as_f32().unwrap(), &[1., 2., 3., 1., 2., 3.]);

    let y = run1(f32s(&[2, 1], &[1., 2.]), |g, x| {
        g.broadcast_to(x, dims![2, 3])
    });
    assert_eq!(y.as_f32().unwrap(), &[1., 1., 1., 2., 2., 2.]);

    // [2, 1] + [3] -> [2, 3]
    let y = run1(f32s(&[2, 1], &[10., 20.]), |g, x| {
        let b = g.constant(f32s(&[3], &[1., 2., 3.]));
        g.add(x, b)
    });
    assert_eq!(y.dims(), &[2, 3]);
    assert_eq!(y.as_f32().unwrap(), &[11., 12., 13., 21., 22., 23.]);

    // A symbolic broadcast target, bound by another input.
    let mut g = Graph::new("broadcast_sym");
    let x = g.input("x", DType::F32, dims![1, 2]).unwrap();
    let z = g.input("z", DType::F32, dims!["n", 2]).unwrap();
    let xb = g.broadcast_to(x, dims!["n", 2]).unwrap();
    let y = g.sub(xb, z).unwrap();
    g.output(y);
    let out = reference::run(&g, &[f32s(&[1, 2], &[5., 6.]), arange(&[3, 2])]).unwrap();
    assert_eq!(out[0].dims(), &[3, 2]);
    assert_eq!(out[0].as_f32().unwrap(), &[5., 5., 3., 3., 1., 1.]);
}

#[test]
fn reductions() {
    let x = || f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let y = run1(x(), |g, x| g.reduce_sum(x, &[0], false));
    assert_eq!(
        (y.dims(), y.as_f32().unwrap()),
        (&[3][..], &[5., 7., 9.][..])
    );
    let y = run1(x(), |g, x| g.reduce_sum(x, &[1], true));
    assert_eq!(
        (y.dims(), y.as_f32().unwrap()),
        (&[2, 1][..], &[6., 15.][..])
    );
    let y = run1(x(), |g, x| g.reduce_mean(x, &[-1], false));
    assert_eq!((y.dims(), y.as_f32().unwrap()), (&[2][..], &[2., 5.][..]));
    let y = run1(x(), |g, x| g.reduce_max(x, &[0, 1], false));
    assert_eq!((y.dims(), y.as_f32().unwrap()), (&[][..], &[6.][..]));
    let y = run1(x(), |g, x| g.reduce_max(x, &[1, 0], true));
    assert_eq!((y.dims(), y.as_f32().unwrap()), (&[1, 1][..], &[6.][..]));

    // Non-adjacent axes: sum over a and c of 12a + 4b + c is 32b + 60.
    let y = run1(arange(&[2, 3, 4]), |g, x| g.reduce_sum(x, &[0, 2], false));
    assert_eq!(
        (y.dims(), y.as_f32().unwrap()),
        (&[3][..], &[60., 92., 124.][..])
    );
    let y = run1(arange(&[2, 3, 4]), |g, x| g.reduce_mean(x, &[0, 2], true));
    assert_eq!(
        (y.dims(), y.as_f32().unwrap()),
        (&[1, 3, 1][..], &[7.5, 11.5, 15.5][..])
    );
}

#[test]
fn casts() {
    // f32 -> i64 truncates toward zero, like numpy's astype.
    let y = run1(f32s(&[5], &[1.7, -1.7, 2.0, -0.5, 0.0]), |g, x| {
        g.cast(x, DType::I64)
    });
    assert_eq!(y.as_i64().unwrap(), &[1, -1, 2, 0, 0]);

    let ids = Tensor::from_i64(&[2, 2], vec![3, -4, 5, 6]).unwrap();
    let y = run1(ids.clone(), |g, x| g.cast(x, DType::F32));
    assert_eq!(y.as_f32().unwrap(), &[3., -4., 5., 6.]);

    // i64 moves through data-movement ops unchanged.
    let y = run1(ids, |g, x| g.t(x));
    assert_eq!(y.as_i64().unwrap(), &[3, 5, -4, 6]);
}

#[test]
fn gelu_values() {
    let y = run1(f32s(&[1], &[1.0]), |g, x| g.gelu(x));
    assert_close(y.as_f32().unwrap(), &[0.8413447460685429], 1e-7);
    let y = run1(f32s(&[1], &[1.0]), |g, x| g.gelu_tanh(x));
    assert_close(y.as_f32().unwrap(), &[0.8411919906082768], 1e-7);
}

#[test]
fn fused_ops_match_their_definition() {
    use Instr::{Binary, Const, Unary};
    // relu(x * 2 + 1) as one fused program.
    let program = ElementwiseProgram {
        n_inputs: 1,
        instrs: vec![
            Const(2.0),
            Binary(BinaryOp::Mul, 0, 1),
            Const(1.0),
            Binary(BinaryOp::Add, 2, 3),
            Unary(UnaryOp::Relu, 4),
        ],
    };
    let y = run1(f32s(&[4], &[1., -2., 3., -4.]), |g, x| {
        g.push(Op::Fused(FusedOp::Elementwise(Arc::new(program))), &[x])
    });
    assert_eq!(y.as_f32().unwrap(), &[3., 0., 7., 0.]);

    // relu(x @ W^T + b) with the bias and relu in the matmul's epilogue.
    let epilogue = ElementwiseProgram {
        n_inputs: 2,
        instrs: vec![Binary(BinaryOp::Add, 0, 1), Unary(UnaryOp::Relu, 2)],
    };
    let y = run1(f32s(&[1, 4], &[1., 2., 3., 4.]), |g, x| {
        let wt = g.constant(f32s(&[4, 2], &[1., -1., 0.5, 0.5, -0.5, 1.5, 2., -2.]));
        let b = g.constant(f32s(&[2], &[0.1, -0.1]));
        g.push(
            Op::Fused(FusedOp::MatMulEpilogue(Arc::new(epilogue))),
            &[x, wt, b],
        )
    });
    assert_close(y.as_f32().unwrap(), &[8.6, 0.0], 1e-6);
}

#[test]
fn symbolic_batch_runs_at_any_size() {
    let g = linear_graph();
    let x = f32s(
        &[3, 4],
        &[1., 2., 3., 4., 0., 0., 0., 0., -1., -2., -3., -4.],
    );
    let out = reference::run(&g, &[x]).unwrap();
    assert_eq!(out[0].dims(), &[3, 2]);
    // Row 2 is -row 0: before the bias, [-8.5, 3.5].
    assert_close(out[0].as_f32().unwrap(), &[8.6, 0., 0.1, 0., 0., 3.4], 1e-6);
}

#[test]
fn wrong_dtype_names_the_input() {
    let err = reference::run(
        &linear_graph(),
        &[Tensor::from_i64(&[1, 4], vec![1; 4]).unwrap()],
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::BadInput { name, .. } if name == "x"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "input `x`: expected f32 [batch, 4], got i64 [1, 4]"
    );
}

#[test]
fn wrong_shape_names_the_input() {
    let err = reference::run(&linear_graph(), &[arange(&[1, 5])]).unwrap_err();
    assert!(
        matches!(&err, Error::BadInput { name, .. } if name == "x"),
        "{err:?}"
    );
    assert!(err.to_string().contains("[1, 5]"), "{err}");
    let err = reference::run(&linear_graph(), &[arange(&[4])]).unwrap_err();
    assert!(
        matches!(&err, Error::BadInput { name, .. } if name == "x"),
        "{err:?}"
    );
}

#[test]
fn inconsistent_symbol_names_the_input() {
    let mut g = Graph::new("two_inputs");
    let a = g.input("a", DType::F32, dims!["n"]).unwrap();
    let b = g.input("b", DType::F32, dims!["n"]).unwrap();
    let y = g.add(a, b).unwrap();
    g.output(y);
    let err = reference::run(&g, &[arange(&[3]), arange(&[4])]).unwrap_err();
    assert!(
        matches!(&err, Error::BadInput { name, .. } if name == "b"),
        "{err:?}"
    );
    assert!(err.to_string().contains("`n` = 3"), "{err}");
}

#[test]
fn wrong_input_count_is_a_graph_error() {
    let err = reference::run(&linear_graph(), &[]).unwrap_err();
    assert!(
        matches!(&err, Error::Graph { graph, .. } if graph == "linear"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "graph `linear`: expects 1 inputs, got 0");
}

#[test]
fn outputs_may_repeat_and_be_read_again() {
    let mut g = Graph::new("reuse");
    let x = g.input("x", DType::F32, dims![2]).unwrap();
    let y = g.relu(x).unwrap();
    let z = g.add(y, y).unwrap();
    g.output(y);
    g.output(z);
    g.output(y);
    g.output(x);
    let out = reference::run(&g, &[f32s(&[2], &[-1., 2.])]).unwrap();
    let values: Vec<&[f32]> = out.iter().map(|t| t.as_f32().unwrap()).collect();
    assert_eq!(values, [&[0., 2.][..], &[0., 4.], &[0., 2.], &[-1., 2.]]);
}
