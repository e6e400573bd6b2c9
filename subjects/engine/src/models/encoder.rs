//! What BERT and DistilBERT share: the padding mask and loading a post-norm encoder layer
//! from a checkpoint whose tensor names differ between the two.

use super::{Result, Weights};
use crate::nn::{Activation, FeedForward, MultiHeadAttention, PostNormEncoderLayer};
use crate::{DType, Graph, Value};

/// Additive attention mask value for padding: `(1 - mask) * -10000`. HuggingFace fills masked
/// scores with the dtype's minimum instead; both make the padded keys' softmax weights exactly
/// 0 in f32, since real scores never come within ~100 of -10000.
pub const MASK_NEGATIVE: f32 = -10000.0;

/// `[batch, seq]` i64 mask (1 = attend) -> additive f32 mask `[batch, 1, 1, seq]`.
pub(super) fn additive_mask(g: &mut Graph, mask: Value) -> Result<Value> {
    let dims = g.shape(mask).0.clone();
    let m = g.cast(mask, DType::F32)?;
    let one = g.scalar(1.0);
    let inv = g.sub(one, m)?;
    let big = g.scalar(MASK_NEGATIVE);
    let add = g.mul(inv, big)?;
    Ok(g.reshape(
        add,
        vec![dims[0].clone(), 1.into(), 1.into(), dims[1].clone()],
    )?)
}

/// A layer's tensor names, after its `{prefix}.`: Linear layers (`.weight`, `.bias`) and
/// LayerNorms (`.weight`, `.bias`).
pub(super) struct LayerNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub attention_out: &'static str,
    pub attention_norm: &'static str,
    pub ffn_in: &'static str,
    pub ffn_out: &'static str,
    pub output_norm: &'static str,
}

/// A layer's sizes.
pub(super) struct LayerDims {
    pub dim: usize,
    pub hidden: usize,
    pub heads: usize,
    pub activation: Activation,
    pub eps: f32,
}

/// Loads the layer under `prefix`.
pub(super) fn load_layer(
    g: &mut Graph,
    w: &Weights,
    prefix: &str,
    names: &LayerNames,
    dims: &LayerDims,
) -> Result<PostNormEncoderLayer> {
    let (d, f, eps) = (dims.dim, dims.hidden, dims.eps);
    let name = |part: &str| format!("{prefix}.{part}");
    Ok(PostNormEncoderLayer {
        attention: MultiHeadAttention::new(
            w.linear(g, &name(names.query), d, d)?,
            w.linear(g, &name(names.key), d, d)?,
            w.linear(g, &name(names.value), d, d)?,
            w.linear(g, &name(names.attention_out), d, d)?,
            d,
            dims.heads,
        )?,
        attention_norm: w.layer_norm(g, &name(names.attention_norm), d, eps)?,
        ffn: FeedForward::new(
            w.linear(g, &name(names.ffn_in), d, f)?,
            dims.activation,
            w.linear(g, &name(names.ffn_out), f, d)?,
        ),
        output_norm: w.layer_norm(g, &name(names.output_norm), d, eps)?,
    })
}
