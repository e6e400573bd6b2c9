//! Step 5's graphs, shared by `main.rs` and the test that keeps README.md's diagrams current.

use engine::Graph;
use engine::models::{Cnn, Mlp};

/// The original project's MLP, 8 -> 128 -> 64 -> 1 with ReLU, weights from seed 0.
pub fn mlp() -> Result<Graph, Box<dyn std::error::Error>> {
    Ok(Mlp::synthetic(0)?)
}

/// The original project's CNN for 28x28 images (two conv-ReLU-pool blocks, two linear
/// layers), weights from seed 0.
pub fn cnn() -> Result<Graph, Box<dyn std::error::Error>> {
    Ok(Cnn::synthetic(0)?)
}
