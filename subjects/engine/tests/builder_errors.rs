//! Building a bad graph gives an error, never a panic, and its text names the op and the
//! shapes involved.

use engine::{DType, Dim, Error, Graph, Value, dims};

/// A graph with one f32 input `x` of `dims`.
fn graph_with(dims: Vec<Dim>) -> (Graph, Value) {
    let mut g = Graph::new("bad");
    let x = g.input("x", DType::F32, dims).unwrap();
    (g, x)
}

fn message<T: std::fmt::Debug>(result: engine::Result<T>) -> String {
    result.expect_err("building should fail").to_string()
}

#[test]
fn add_with_shapes_that_do_not_broadcast() {
    let (mut g, a) = graph_with(dims![2, 3]);
    let b = g.input("b", DType::F32, dims![4]).unwrap();
    assert_eq!(
        message(g.add(a, b)),
        "add: shapes [2, 3] and [4] are incompatible: dims 3 and 4 do not broadcast"
    );
}

#[test]
fn binary_with_different_symbols() {
    let (mut g, a) = graph_with(dims!["n"]);
    let b = g.input("b", DType::F32, dims!["m"]).unwrap();
    assert_eq!(
        message(g.mul(a, b)),
        "mul: shapes [n] and [m] are incompatible: dims n and m do not broadcast"
    );
}

#[test]
fn matmul_with_different_contraction_dims() {
    let (mut g, a) = graph_with(dims![2, 3]);
    let b = g.input("b", DType::F32, dims![4, 5]).unwrap();
    assert_eq!(
        message(g.matmul(a, b)),
        "matmul: shapes [2, 3] and [4, 5] are incompatible: contraction dims 3 and 4 differ"
    );
}

#[test]
fn matmul_with_bad_batch_or_rank() {
    let (mut g, a) = graph_with(dims![2, 3, 4]);
    let b = g.input("b", DType::F32, dims![3, 4, 5]).unwrap();
    let text = message(g.matmul(a, b));
    assert!(
        text.starts_with("matmul: shapes [2, 3, 4] and [3, 4, 5]"),
        "{text}"
    );
    assert!(
        text.contains("batch dims [2] and [3] do not broadcast"),
        "{text}"
    );

    let v = g.input("v", DType::F32, dims![4]).unwrap();
    let text = message(g.matmul(a, v));
    assert!(
        text.starts_with("matmul: shapes [2, 3, 4] and [4]"),
        "{text}"
    );
    assert!(text.contains("rank >= 2"), "{text}");
}

#[test]
fn reshape_that_changes_the_element_count() {
    let (mut g, x) = graph_with(dims![2, 3]);
    assert_eq!(
        message(g.reshape(x, dims![4])),
        "reshape: shapes [2, 3] and [4] are incompatible: element counts differ"
    );
    let (mut g, x) = graph_with(dims!["n", 3]);
    let text = message(g.reshape(x, dims!["m", 3]));
    assert!(
        text.starts_with("reshape: shapes [n, 3] and [m, 3]"),
        "{text}"
    );
}

#[test]
fn broadcast_to_an_incompatible_target() {
    let (mut g, x) = graph_with(dims![2, 3]);
    let text = message(g.broadcast_to(x, dims![4, 3]));
    assert!(
        text.starts_with("broadcast_to: shapes [2, 3] and [4, 3]"),
        "{text}"
    );
    // Broadcasting may not shrink a dim either.
    let text = message(g.broadcast_to(x, dims![3]));
    assert!(
        text.starts_with("broadcast_to: shapes [2, 3] and [3]"),
        "{text}"
    );
}

#[test]
fn transpose_with_a_bad_permutation() {
    let (mut g, x) = graph_with(dims![2, 3]);
    assert_eq!(
        message(g.transpose(x, &[0, 0])),
        "transpose: invalid shape [2, 3]: [0, 0] is not a permutation of its 2 axes"
    );
    assert_eq!(
        message(g.transpose(x, &[1, 0, 2])),
        "transpose: invalid shape [2, 3]: [1, 0, 2] is not a permutation of its 2 axes"
    );
    assert_eq!(
        message(g.transpose(x, &[0, 2])),
        "transpose: invalid shape [2, 3]: [0, 2] is not a permutation of its 2 axes"
    );
    let (mut g, v) = graph_with(dims![5]);
    let text = message(g.t(v));
    assert!(text.starts_with("transpose: invalid shape [5]"), "{text}");
}

#[test]
fn reduce_with_an_axis_out_of_range() {
    let (mut g, x) = graph_with(dims![2, 3]);
    assert_eq!(
        message(g.reduce_sum(x, &[2], false)),
        "reduce_sum: invalid shape [2, 3]: axis 2 is out of range for rank 2"
    );
    assert_eq!(
        message(g.reduce_max(x, &[-3], true)),
        "reduce_max: invalid shape [2, 3]: axis -3 is out of range for rank 2"
    );
}

#[test]
fn arithmetic_on_i64_is_rejected() {
    let mut g = Graph::new("bad");
    let ids = g.input("ids", DType::I64, dims![4]).unwrap();
    let err = g.exp(ids).unwrap_err();
    assert!(matches!(err, Error::DType { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "exp: dtype i64 is not supported here (expected f32)"
    );
    let x = g.input("x", DType::F32, dims![4]).unwrap();
    assert_eq!(
        message(g.add(x, ids)),
        "add: dtype i64 is not supported here (expected f32)"
    );
    assert_eq!(
        message(g.reduce_mean(ids, &[0], false)),
        "reduce_mean: dtype i64 is not supported here (expected f32)"
    );
    // Casting is how i64 becomes arithmetic.
    let f = g.cast(ids, DType::F32).unwrap();
    assert!(g.exp(f).is_ok());
}

#[test]
fn duplicate_input_names_the_graph_and_input() {
    let (mut g, _) = graph_with(dims![2]);
    assert_eq!(
        message(g.input("x", DType::F32, dims![3])),
        "graph `bad`: input `x` is declared twice"
    );
}

#[test]
fn values_from_elsewhere_are_rejected() {
    let (mut g, x) = graph_with(dims![2]);
    let text = message(g.add(x, Value(99)));
    assert!(
        text.contains("add: input Value(99) is not a node"),
        "{text}"
    );
}
