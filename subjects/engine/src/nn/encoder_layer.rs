//! The post-norm transformer encoder layer of BERT and DistilBERT.

use super::{FeedForward, LayerNorm, MultiHeadAttention};
use crate::{Graph, Result, Value};

/// `h = LN(attention(h, mask) + h); h = LN(ffn(h) + h)`.
pub struct PostNormEncoderLayer {
    pub attention: MultiHeadAttention,
    pub attention_norm: LayerNorm,
    pub ffn: FeedForward,
    pub output_norm: LayerNorm,
}

impl PostNormEncoderLayer {
    /// `mask` is additive, broadcastable to the attention scores `[batch, heads, seq, seq]`.
    pub fn forward(&self, g: &mut Graph, h: Value, mask: Value) -> Result<Value> {
        let a = self.attention.forward(g, h, Some(mask))?;
        let h = g.add(a, h)?;
        let h = self.attention_norm.forward(g, h)?;
        let f = self.ffn.forward(g, h)?;
        let h = g.add(f, h)?;
        self.output_norm.forward(g, h)
    }
}
