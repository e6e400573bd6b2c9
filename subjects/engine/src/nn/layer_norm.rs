//! Layer normalisation over the last axis.

use crate::{Graph, Result, Tensor, Value};

/// `y = (x - mean) / sqrt(var + eps) * gamma + beta` over the last axis (biased variance, as
/// PyTorch's `nn.LayerNorm`).
pub struct LayerNorm {
    gamma: Value,
    beta: Value,
    eps: f32,
}

impl LayerNorm {
    /// `gamma` and `beta` are `[dim]` (HuggingFace's `LayerNorm.weight` and `LayerNorm.bias`).
    pub fn new(g: &mut Graph, gamma: Tensor, beta: Tensor, eps: f32) -> Self {
        let gamma = g.constant(gamma);
        let beta = g.constant(beta);
        LayerNorm { gamma, beta, eps }
    }

    pub fn eps(&self) -> f32 {
        self.eps
    }

    pub fn forward(&self, g: &mut Graph, x: Value) -> Result<Value> {
        g.layer_norm(x, self.gamma, self.beta, self.eps)
    }
}
