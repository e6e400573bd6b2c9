//! Layers built from graph ops.

use crate::{Graph, Result, Tensor, Value};

/// `y = x @ W^T + b`, with `W` stored `[out, in]` as PyTorch and HuggingFace store it.
pub struct Linear {
    weight: Value,
    bias: Option<Value>,
}

impl Linear {
    pub fn new(g: &mut Graph, weight: Tensor, bias: Option<Tensor>) -> Self {
        let weight = g.constant(weight);
        let bias = bias.map(|b| g.constant(b));
        Linear { weight, bias }
    }

    pub fn forward(&self, g: &mut Graph, x: Value) -> Result<Value> {
        let wt = g.t(self.weight)?;
        let y = g.matmul(x, wt)?;
        match self.bias {
            Some(b) => g.add(y, b),
            None => Ok(y),
        }
    }
}
