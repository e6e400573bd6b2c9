//! Step 2's graph, shared by `main.rs` and the test that keeps README.md's diagrams current.

use engine::nn::Linear;
use engine::{DType, Graph, Tensor, dims};

/// `relu(x @ W^T + b)` over `x` f32 `[batch, 4]`, with `W` `[2, 4]` stored as PyTorch stores
/// it (`[out, in]`).
pub fn graph() -> engine::Result<Graph> {
    let mut g = Graph::new("linear_relu");
    let x = g.input("x", DType::F32, dims!["batch", 4])?;
    let weight = Tensor::from_f32(&[2, 4], vec![1., 0.5, -0.5, 2., -1., 0.5, 1.5, -2.])?;
    let bias = Tensor::from_f32(&[2], vec![0.1, -0.1])?;
    let layer = Linear::new(&mut g, weight, Some(bias));
    let y = layer.forward(&mut g, x)?;
    let y = g.relu(y)?;
    g.output(y);
    Ok(g)
}
