//! BERT encoder (HuggingFace `BertModel`) and sentence embeddings by masked mean pooling.

use std::path::Path;

use super::encoder::{LayerDims, LayerNames, additive_mask, load_layer};
use super::{BertConfig, Result, Weights};
use crate::{DType, Graph, Tensor, Value, dims};

/// HuggingFace `BertModel` (without the pooler):
///
/// ```text
/// h = LayerNorm(word[input_ids] + position[0..seq] + token_type[token_type_ids])
/// for each layer:  h = LN(attention(h, mask) + h);  h = LN(ffn(h) + h)     (post-norm)
/// ```
///
/// Tensor names are HuggingFace's: `embeddings.{word,position,token_type}_embeddings.weight`,
/// `embeddings.LayerNorm.*`, `encoder.layer.{i}.attention.self.{query,key,value}.*`,
/// `...attention.output.dense.*`, `...attention.output.LayerNorm.*`,
/// `...intermediate.dense.*`, `...output.dense.*`, `...output.LayerNorm.*`, read with a
/// `bert.` prefix when the file has one (checkpoints of task models) and without it
/// otherwise (all-MiniLM-L6-v2).
pub struct BertModel;

impl BertModel {
    /// Inputs without token types: i64 `[batch, seq]` each. Token type 0 is used throughout.
    pub const INPUTS: [&'static str; 2] = ["input_ids", "attention_mask"];
    /// Inputs with token types (`token_type_ids` i64 `[batch, seq]`, last).
    pub const INPUTS_WITH_TOKEN_TYPES: [&'static str; 3] =
        ["input_ids", "attention_mask", "token_type_ids"];

    /// The encoder; output `last_hidden_state` `[batch, seq, hidden]`.
    pub fn build_encoder(
        config: &BertConfig,
        weights: &Weights,
        token_type_ids: bool,
    ) -> Result<Graph> {
        let mut g = Graph::new("bert_encoder");
        let (h, _) = encoder(&mut g, config, weights, token_type_ids)?;
        g.output(h);
        Ok(g)
    }

    /// Sentence embeddings as sentence-transformers computes them for all-MiniLM-L6-v2: the
    /// encoder, the mean of the hidden states over unmasked tokens (token counts clamped to
    /// at least 1e-9), then L2 normalisation (norms clamped to at least 1e-12). Output
    /// `[batch, hidden]`.
    pub fn build_sentence_embedding(
        config: &BertConfig,
        weights: &Weights,
        token_type_ids: bool,
    ) -> Result<Graph> {
        let mut g = Graph::new("bert_sentence_embedding");
        let (h, mask) = encoder(&mut g, config, weights, token_type_ids)?;
        let dims = g.shape(mask).0.clone();
        let m = g.cast(mask, DType::F32)?;
        let m = g.reshape(m, vec![dims[0].clone(), dims[1].clone(), 1.into()])?;
        let masked = g.mul(h, m)?;
        let sum = g.reduce_sum(masked, &[1], false)?; // [b, d]
        let count = g.reduce_sum(m, &[1], false)?; // [b, 1]
        let tiny = g.scalar(1e-9);
        let count = g.maximum(count, tiny)?;
        let mean = g.div(sum, count)?;
        let sq = g.mul(mean, mean)?;
        let norm = g.reduce_sum(sq, &[-1], true)?;
        let norm = g.sqrt(norm)?;
        let eps = g.scalar(1e-12);
        let norm = g.maximum(norm, eps)?;
        let out = g.div(mean, norm)?;
        g.output(out);
        Ok(g)
    }
}

/// Declares the inputs and builds the encoder; returns the hidden states and the mask input.
fn encoder(
    g: &mut Graph,
    c: &BertConfig,
    weights: &Weights,
    with_token_types: bool,
) -> Result<(Value, Value)> {
    c.validate(&weights.describe())?;
    let (d, eps) = (c.hidden_size, c.layer_norm_eps);
    let prefix = if !weights.contains("embeddings.word_embeddings.weight")
        && weights.contains("bert.embeddings.word_embeddings.weight")
    {
        "bert."
    } else {
        ""
    };
    let input_ids = g.input("input_ids", DType::I64, dims!["batch", "seq"])?;
    let mask = g.input("attention_mask", DType::I64, dims!["batch", "seq"])?;
    let token_types = if with_token_types {
        Some(g.input("token_type_ids", DType::I64, dims!["batch", "seq"])?)
    } else {
        None
    };

    let p = format!("{prefix}embeddings");
    let word = weights.embedding(g, &format!("{p}.word_embeddings.weight"), c.vocab_size, d)?;
    let pos = weights.embedding(
        g,
        &format!("{p}.position_embeddings.weight"),
        c.max_position_embeddings,
        d,
    )?;
    let w = word.forward(g, input_ids)?;
    let positions = g.arange("seq".into(), DType::I64)?;
    let pe = pos.forward(g, positions)?;
    let h = g.add(w, pe)?;
    let type_name = format!("{p}.token_type_embeddings.weight");
    let h = match token_types {
        Some(tt) => {
            let types = weights.embedding(g, &type_name, c.type_vocab_size, d)?;
            let te = types.forward(g, tt)?;
            g.add(h, te)?
        }
        None => {
            // Every token has type 0: add row 0 of the table, broadcast over batch and seq.
            let table = weights.tensor(&type_name, &[c.type_vocab_size, d], super::Init::HF)?;
            let row0 = table.as_f32()?[..d].to_vec();
            let row0 = g.constant(Tensor::from_f32(&[d], row0)?);
            g.add(h, row0)?
        }
    };
    let ln = weights.layer_norm(g, &format!("{p}.LayerNorm"), d, eps)?;
    let mut h = ln.forward(g, h)?;

    let additive = additive_mask(g, mask)?;
    let layer_dims = LayerDims {
        dim: d,
        hidden: c.intermediate_size,
        heads: c.num_attention_heads,
        activation: c.hidden_act,
        eps,
    };
    for i in 0..c.num_hidden_layers {
        let prefix = format!("{prefix}encoder.layer.{i}");
        let layer = load_layer(g, weights, &prefix, &LAYER_NAMES, &layer_dims)?;
        h = layer.forward(g, h, additive)?;
    }
    Ok((h, mask))
}

/// BERT's names for the parts of `encoder.layer.{i}`.
const LAYER_NAMES: LayerNames = LayerNames {
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    attention_out: "attention.output.dense",
    attention_norm: "attention.output.LayerNorm",
    ffn_in: "intermediate.dense",
    ffn_out: "output.dense",
    output_norm: "output.LayerNorm",
};

/// A sentence-embedding model ready to run (all-MiniLM-L6-v2 when loaded from its folder).
pub struct SentenceEmbedder {
    pub config: BertConfig,
    /// Inputs `input_ids`, `attention_mask` (i64 `[batch, seq]`); output `[batch, hidden]`,
    /// L2-normalised.
    pub graph: Graph,
    pub weights_source: String,
    pub synthetic: bool,
}

impl SentenceEmbedder {
    /// Loads `config.json` and `model.safetensors` from a model folder (see
    /// [`minilm_dir`](super::minilm_dir)).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let config = BertConfig::from_file(&dir.join("config.json"))?;
        let weights = Weights::load(&dir.join("model.safetensors"))?;
        Self::new(config, &weights)
    }

    pub fn synthetic(config: BertConfig, seed: u64) -> Result<Self> {
        Self::new(config, &Weights::synthetic(seed))
    }

    pub fn new(config: BertConfig, weights: &Weights) -> Result<Self> {
        let graph = BertModel::build_sentence_embedding(&config, weights, false)?;
        Ok(SentenceEmbedder {
            config,
            graph,
            weights_source: weights.describe(),
            synthetic: weights.is_synthetic(),
        })
    }

    /// Cosine similarity of two embeddings (1 - distance; the embeddings are unit vectors,
    /// but this does not assume it).
    pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
        let na: f64 = a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        (dot / (na * nb)) as f32
    }
}
