//! Step 6's graph, shared by `main.rs` and the test that keeps README.md's diagrams current.

use engine::nn::Linear;
use engine::{DType, Graph, Tensor, Value, dims};

/// `sigmoid(x) = 1 / (1 + e^-x)`: an op of our own, written as a function that adds
/// primitive nodes. The engine has no sigmoid node; it does not need one.
pub fn sigmoid(g: &mut Graph, x: Value) -> engine::Result<Value> {
    let one = g.scalar(1.0);
    let e = g.neg(x)?;
    let e = g.exp(e)?;
    let d = g.add(one, e)?;
    g.div(one, d)
}

/// `silu(x) = x * sigmoid(x)` (also called swish), built on [`sigmoid`].
pub fn silu(g: &mut Graph, x: Value) -> engine::Result<Value> {
    let s = sigmoid(g, x)?;
    g.mul(x, s)
}

/// The weight and bias of the layer, `[out, in]` as PyTorch stores them.
pub const WEIGHT: [f32; 6] = [0.5, -1.0, 2.0, 1.5, 0.25, -0.5];
pub const BIAS: [f32; 2] = [0.1, -0.2];

/// `silu(x @ W^T + b)` over `x` f32 `[batch, 3]`, W `[2, 3]`.
pub fn graph() -> engine::Result<Graph> {
    let mut g = Graph::new("linear_silu");
    let x = g.input("x", DType::F32, dims!["batch", 3])?;
    let weight = Tensor::from_f32(&[2, 3], WEIGHT.to_vec())?;
    let bias = Tensor::from_f32(&[2], BIAS.to_vec())?;
    let y = Linear::new(&mut g, weight, Some(bias)).forward(&mut g, x)?;
    let y = silu(&mut g, y)?;
    g.output(y);
    Ok(g)
}
