//! The position-wise feed-forward block of a transformer layer.

use super::{Activation, Linear};
use crate::{Graph, Result, Value};

/// `lin2(activation(lin1(x)))`: `[.., dim] -> [.., hidden] -> [.., dim]`.
///
/// DistilBERT names the two layers `ffn.lin1` / `ffn.lin2`; BERT `intermediate.dense` /
/// `output.dense`.
pub struct FeedForward {
    pub lin1: Linear,
    pub activation: Activation,
    pub lin2: Linear,
}

impl FeedForward {
    pub fn new(lin1: Linear, activation: Activation, lin2: Linear) -> Self {
        FeedForward {
            lin1,
            activation,
            lin2,
        }
    }

    pub fn forward(&self, g: &mut Graph, x: Value) -> Result<Value> {
        let h = self.lin1.forward(g, x)?;
        let h = self.activation.forward(g, h)?;
        self.lin2.forward(g, h)
    }
}
