//! DistilBERT for sequence classification, exactly as HuggingFace computes it.

use std::path::Path;

use super::encoder::{LayerDims, LayerNames, additive_mask, load_layer};
use super::{DistilBertConfig, Result, Weights};
use crate::{DType, Graph, dims};

/// `DistilBertForSequenceClassification`:
///
/// ```text
/// h = LayerNorm(word_embeddings[input_ids] + position_embeddings[0..seq])
/// for each layer:  h = LN(attention(h, mask) + h);  h = LN(ffn(h) + h)     (post-norm)
/// logits = classifier(relu(pre_classifier(h[:, 0])))
/// ```
///
/// with HuggingFace's tensor names (`distilbert.embeddings.word_embeddings.weight`,
/// `distilbert.transformer.layer.{i}.attention.q_lin.weight`, ..., `pre_classifier.*`,
/// `classifier.*`) and Linear weights stored `[out, in]`.
pub struct DistilBertForSequenceClassification;

impl DistilBertForSequenceClassification {
    /// Graph inputs, in order: token ids and the attention mask (1 = token, 0 = padding),
    /// both i64 `[batch, seq]` with symbolic `batch` and `seq`.
    pub const INPUTS: [&'static str; 2] = ["input_ids", "attention_mask"];

    /// Builds the graph; its one output is the logits `[batch, n_labels]`.
    pub fn build(config: &DistilBertConfig, weights: &Weights) -> Result<Graph> {
        config.validate(&weights.describe())?;
        let c = config;
        let (d, eps) = (c.dim, c.layer_norm_eps);
        let mut g = Graph::new("distilbert_sequence_classification");
        let input_ids = g.input("input_ids", DType::I64, dims!["batch", "seq"])?;
        let mask = g.input("attention_mask", DType::I64, dims!["batch", "seq"])?;

        // Embeddings.
        let p = "distilbert.embeddings";
        let word = weights.embedding(
            &mut g,
            &format!("{p}.word_embeddings.weight"),
            c.vocab_size,
            d,
        )?;
        let pos = weights.embedding(
            &mut g,
            &format!("{p}.position_embeddings.weight"),
            c.max_position_embeddings,
            d,
        )?;
        let ln = weights.layer_norm(&mut g, &format!("{p}.LayerNorm"), d, eps)?;
        let w = word.forward(&mut g, input_ids)?;
        let positions = g.arange("seq".into(), DType::I64)?;
        let pe = pos.forward(&mut g, positions)?;
        let h = g.add(w, pe)?;
        let mut h = ln.forward(&mut g, h)?;

        let additive = additive_mask(&mut g, mask)?;
        let layer_dims = LayerDims {
            dim: d,
            hidden: c.hidden_dim,
            heads: c.n_heads,
            activation: c.activation,
            eps,
        };
        for i in 0..c.n_layers {
            let prefix = format!("distilbert.transformer.layer.{i}");
            let layer = load_layer(&mut g, weights, &prefix, &LAYER_NAMES, &layer_dims)?;
            h = layer.forward(&mut g, h, additive)?;
        }

        // Head: first token -> pre_classifier -> ReLU -> classifier.
        let cls = g.select(h, 1, 0)?;
        let pre = weights.linear(&mut g, "pre_classifier", d, d)?;
        let classifier = weights.linear(&mut g, "classifier", d, c.n_labels())?;
        let x = pre.forward(&mut g, cls)?;
        let x = g.relu(x)?;
        let logits = classifier.forward(&mut g, x)?;
        g.output(logits);
        Ok(g)
    }
}

/// DistilBERT's names for the parts of `distilbert.transformer.layer.{i}`.
const LAYER_NAMES: LayerNames = LayerNames {
    query: "attention.q_lin",
    key: "attention.k_lin",
    value: "attention.v_lin",
    attention_out: "attention.out_lin",
    attention_norm: "sa_layer_norm",
    ffn_in: "ffn.lin1",
    ffn_out: "ffn.lin2",
    output_norm: "output_layer_norm",
};

/// A DistilBERT classifier ready to run: configuration, graph and where its weights came from.
pub struct DistilBert {
    pub config: DistilBertConfig,
    /// Inputs `input_ids`, `attention_mask` (i64 `[batch, seq]`); output logits.
    pub graph: Graph,
    /// The safetensors path, or `synthetic (seed N)`.
    pub weights_source: String,
    pub synthetic: bool,
}

impl DistilBert {
    /// Loads `config.json` and `model.safetensors` from a HuggingFace model folder.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let config = DistilBertConfig::from_file(&dir.join("config.json"))?;
        let weights = Weights::load(&dir.join("model.safetensors"))?;
        Self::new(config, &weights)
    }

    /// Synthetic, deterministic weights with the shapes `config` gives.
    pub fn synthetic(config: DistilBertConfig, seed: u64) -> Result<Self> {
        Self::new(config, &Weights::synthetic(seed))
    }

    pub fn new(config: DistilBertConfig, weights: &Weights) -> Result<Self> {
        let graph = DistilBertForSequenceClassification::build(&config, weights)?;
        Ok(DistilBert {
            config,
            graph,
            weights_source: weights.describe(),
            synthetic: weights.is_synthetic(),
        })
    }

    /// The label and its softmax probability for one row of logits.
    pub fn predict(&self, logits: &[f32]) -> (String, f32) {
        let (best, probs) = softmax_argmax(logits);
        (
            self.config
                .labels
                .get(best)
                .cloned()
                .unwrap_or_else(|| format!("LABEL_{best}")),
            probs[best],
        )
    }
}

/// Softmax of one row and the index of its largest entry.
pub fn softmax_argmax(logits: &[f32]) -> (usize, Vec<f32>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&x| ((x - max) as f64).exp()).collect();
    let sum: f64 = exps.iter().sum();
    let probs: Vec<f32> = exps.iter().map(|&e| (e / sum) as f32).collect();
    let best = (0..logits.len())
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap_or(0);
    (best, probs)
}
