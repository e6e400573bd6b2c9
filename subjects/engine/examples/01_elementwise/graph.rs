//! Step 1's graph, shared by `main.rs` and the test that keeps README.md's diagrams current.

use engine::{DType, Graph, dims};

/// `relu(x * 2 + 1)` over `x` f32 `[n]`.
pub fn graph() -> engine::Result<Graph> {
    let mut g = Graph::new("relu_affine");
    // `n` is a symbolic dim: the graph runs for any length, bound when it runs.
    let x = g.input("x", DType::F32, dims!["n"])?;
    let two = g.scalar(2.0);
    let one = g.scalar(1.0);
    let y = g.mul(x, two)?;
    let y = g.add(y, one)?;
    let y = g.relu(y)?;
    g.output(y);
    Ok(g)
}
