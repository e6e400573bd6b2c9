//! Multi-head self-attention.

use super::Linear;
use crate::{Dim, Error, Graph, Result, Value};

/// Multi-head self-attention as BERT and DistilBERT compute it:
///
/// ```text
/// q, k, v = x @ Wq^T + bq, ...                  [b, s, d]
/// each -> [b, s, h, dh] -> [b, h, s, dh]          (reshape, transpose)
/// a = softmax(q k^T / sqrt(dh) + mask) v         [b, h, s, dh]   (g.attention)
/// a -> [b, s, h, dh] -> [b, s, d] -> out          (transpose, reshape, Linear)
/// ```
///
/// `mask` is additive and broadcastable to `[b, h, s, s]`, normally `[b, 1, 1, s]` with 0 for
/// tokens to attend to and a large negative number for padding.
pub struct MultiHeadAttention {
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub out: Linear,
    n_heads: usize,
    dim: usize,
}

impl MultiHeadAttention {
    /// `dim` is the model width; it must be a multiple of `n_heads`.
    pub fn new(
        q: Linear,
        k: Linear,
        v: Linear,
        out: Linear,
        dim: usize,
        n_heads: usize,
    ) -> Result<Self> {
        if n_heads == 0 || !dim.is_multiple_of(n_heads) {
            return Err(Error::BadArgument {
                op: "multi_head_attention".into(),
                why: format!("width {dim} is not a multiple of the {n_heads} heads"),
            });
        }
        Ok(MultiHeadAttention {
            q,
            k,
            v,
            out,
            n_heads,
            dim,
        })
    }

    pub fn n_heads(&self) -> usize {
        self.n_heads
    }

    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    /// Scores are scaled by `1 / sqrt(head_dim)`.
    pub fn scale(&self) -> f32 {
        1.0 / (self.head_dim() as f32).sqrt()
    }

    /// `x` is `[batch, seq, dim]` (dims may be symbolic); returns the same shape.
    pub fn forward(&self, g: &mut Graph, x: Value, mask: Option<Value>) -> Result<Value> {
        let shape = g.shape(x).clone();
        if shape.rank() != 3 || shape.0[2] != Dim::Static(self.dim) {
            return Err(Error::BadShape {
                op: "multi_head_attention".into(),
                shape,
                why: format!("expected [batch, seq, {}]", self.dim),
            });
        }
        let (b, s) = (shape.0[0].clone(), shape.0[1].clone());
        let (h, dh) = (self.n_heads, self.head_dim());
        let split = |g: &mut Graph, t: Value| -> Result<Value> {
            let t = g.reshape(t, vec![b.clone(), s.clone(), h.into(), dh.into()])?;
            g.transpose(t, &[0, 2, 1, 3])
        };
        let q = self.q.forward(g, x)?;
        let q = split(g, q)?;
        let k = self.k.forward(g, x)?;
        let k = split(g, k)?;
        let v = self.v.forward(g, x)?;
        let v = split(g, v)?;
        let a = g.attention(q, k, v, mask, self.scale())?;
        let a = g.transpose(a, &[0, 2, 1, 3])?;
        let a = g.reshape(a, vec![b, s, self.dim.into()])?;
        self.out.forward(g, a)
    }
}
