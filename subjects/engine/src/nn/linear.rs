//! Fully connected layer.

use crate::{Graph, Result, Tensor, Value};

/// `y = x @ W^T + b`, with `W` stored `[out, in]` as PyTorch and HuggingFace store it.
///
/// `x` may have any number of leading dims: `[.., in] -> [.., out]`.
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

    /// A layer over weights already in the graph (`weight` `[out, in]`, `bias` `[out]`).
    pub fn from_values(weight: Value, bias: Option<Value>) -> Self {
        Linear { weight, bias }
    }

    pub fn weight(&self) -> Value {
        self.weight
    }

    pub fn bias(&self) -> Option<Value> {
        self.bias
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
