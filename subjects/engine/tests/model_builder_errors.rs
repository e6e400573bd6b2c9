//! Building a model op with bad operands fails with an error that names the op and the
//! shapes (never a panic).

use engine::{DType, Dim, Graph, Value, dims};

fn input(g: &mut Graph, name: &str, dtype: DType, d: Vec<Dim>) -> Value {
    g.input(name, dtype, d).unwrap()
}

fn message<T: std::fmt::Debug>(result: engine::Result<T>) -> String {
    result.expect_err("building should fail").to_string()
}

#[test]
fn conv2d_with_mismatched_channels_or_bias() {
    let mut g = Graph::new("bad");
    let x = input(&mut g, "x", DType::F32, dims!["n", 3, 8, 8]);
    let w = input(&mut g, "w", DType::F32, dims![4, 2, 3, 3]);
    assert_eq!(
        message(g.conv2d(x, w, None, [1, 1], [0, 0])),
        "conv2d: shapes [n, 3, 8, 8] and [4, 2, 3, 3] are incompatible: input channels 3 and 2 differ"
    );
    let w = input(&mut g, "w3", DType::F32, dims![4, 3, 3, 3]);
    let b = input(&mut g, "b", DType::F32, dims![5]);
    assert_eq!(
        message(g.conv2d(x, w, Some(b), [1, 1], [0, 0])),
        "conv2d: shapes [4, 3, 3, 3] and [5] are incompatible: bias must be [4], one per output channel"
    );
    let big = input(&mut g, "big", DType::F32, dims![4, 3, 11, 11]);
    assert_eq!(
        message(g.conv2d(x, big, None, [1, 1], [1, 1])),
        "conv2d: invalid shape [n, 3, 8, 8]: window 11 is larger than the padded dim 10 of axis 2"
    );
    let sym = input(&mut g, "sym", DType::F32, dims!["n", 3, "h", 8]);
    assert_eq!(
        message(g.conv2d(sym, w, None, [1, 1], [0, 0])),
        "conv2d: invalid shape [n, 3, h, 8]: the spatial dims must be static"
    );
}

#[test]
fn gather_with_f32_indices() {
    let mut g = Graph::new("bad");
    let table = input(&mut g, "table", DType::F32, dims![10, 4]);
    let ids = input(&mut g, "ids", DType::F32, dims!["b", 3]);
    assert_eq!(
        message(g.gather(table, ids)),
        "gather: indices [b, 3] have dtype f32; expected i64 (table [10, 4])"
    );
}

#[test]
fn attention_with_mismatched_heads_keys_or_mask() {
    let mut g = Graph::new("bad");
    let q = input(&mut g, "q", DType::F32, dims!["b", 12, "s", 64]);
    let k = input(&mut g, "k", DType::F32, dims!["b", 12, "s", 32]);
    assert_eq!(
        message(g.attention(q, k, k, None, 0.125)),
        "attention: shapes [b, 12, s, 64] and [b, 12, s, 32] are incompatible: head dims 64 (q) and 32 (k) differ"
    );
    let k = input(&mut g, "k2", DType::F32, dims!["b", 12, "s", 64]);
    let v = input(&mut g, "v", DType::F32, dims!["b", 12, 7, 64]);
    assert_eq!(
        message(g.attention(q, k, v, None, 0.125)),
        "attention: shapes [b, 12, s, 64] and [b, 12, 7, 64] are incompatible: key lengths s (k) and 7 (v) differ"
    );
    let mask = input(&mut g, "mask", DType::F32, dims!["b", 1, 1, 9]);
    assert_eq!(
        message(g.attention(q, k, k, Some(mask), 0.125)),
        "attention: shapes [b, 1, 1, 9] and [b, 12, s, s] are incompatible: the mask does not broadcast to the scores"
    );
}

#[test]
fn layer_norm_with_wrong_parameters() {
    let mut g = Graph::new("bad");
    let x = input(&mut g, "x", DType::F32, dims!["n", 8]);
    let gamma = input(&mut g, "gamma", DType::F32, dims![4]);
    let beta = input(&mut g, "beta", DType::F32, dims![8]);
    assert_eq!(
        message(g.layer_norm(x, gamma, beta, 1e-5)),
        "layer_norm: shapes [n, 8] and [4] are incompatible: gamma must be [8], the last dim of the input"
    );
    let ids = input(&mut g, "ids", DType::I64, dims!["n", 8]);
    assert_eq!(
        message(g.layer_norm(ids, beta, beta, 1e-5)),
        "layer_norm: dtype i64 is not supported here (expected f32)"
    );
}

#[test]
fn axes_slices_and_joins() {
    let mut g = Graph::new("bad");
    let x = input(&mut g, "x", DType::F32, dims!["b", 5]);
    assert_eq!(
        message(g.softmax(x, 2)),
        "softmax: invalid shape [b, 5]: axis 2 is out of range for rank 2"
    );
    assert_eq!(
        message(g.slice(x, 1, 2, 7)),
        "slice: invalid shape [b, 5]: end 7 is past dim 5 of axis 1"
    );
    assert_eq!(
        message(g.slice(x, 1, 3, 2)),
        "slice: invalid shape [b, 5]: start 3 is after end 2"
    );
    assert_eq!(
        message(g.select(x, -3, 0)),
        "select: invalid shape [b, 5]: axis -3 is out of range for rank 2"
    );
    let y = input(&mut g, "y", DType::F32, dims!["c", 5]);
    assert_eq!(
        message(g.concat(&[x, y], 1)),
        "concat: shapes [b, 5] and [c, 5] are incompatible: dims must agree except along axis 1"
    );
    assert_eq!(
        message(g.concat(&[x, y], 0)),
        "concat: invalid shape [b, 5]: the concatenated axis must be static"
    );
    assert_eq!(
        message(g.concat(&[], 0)),
        "concat: needs at least one input"
    );
    let ids = input(&mut g, "ids", DType::I64, dims!["b", 5]);
    assert_eq!(
        message(g.concat(&[x, ids], 1)),
        "concat: dtype i64 is not supported here (expected f32, the dtype of the first input)"
    );
}

#[test]
fn flatten_pool_and_unsqueeze() {
    let mut g = Graph::new("bad");
    let x = input(&mut g, "x", DType::F32, dims!["n", "c", 4, 4]);
    assert_eq!(
        message(g.flatten(x, 1)),
        "flatten: invalid shape [n, c, 4, 4]: cannot merge the symbolic dims of [c, 4, 4] into one"
    );
    let f = g.flatten(x, 2).unwrap();
    assert_eq!(g.shape(f).to_string(), "[n, c, 16]");
    let f = g.flatten(x, -1).unwrap();
    assert_eq!(g.shape(f).to_string(), "[n, c, 4, 4]");
    assert_eq!(
        message(g.max_pool2d(x, [5, 2], [1, 1])),
        "max_pool2d: invalid shape [n, c, 4, 4]: window 5 is larger than the padded dim 4 of axis 2"
    );
    assert_eq!(
        message(g.max_pool2d(x, [2, 2], [0, 1])),
        "max_pool2d: invalid shape [n, c, 4, 4]: kernel and stride must be >= 1"
    );
    let u = g.unsqueeze(x, 4).unwrap();
    assert_eq!(g.shape(u).to_string(), "[n, c, 4, 4, 1]");
    assert_eq!(
        message(g.unsqueeze(x, 5)),
        "unsqueeze: invalid shape [n, c, 4, 4]: axis 5 is out of range for rank 5"
    );
}
