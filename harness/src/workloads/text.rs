//! Text workloads: labelled sentences from JSONL files, and the tokenize-run-predict pipeline
//! that one timed iteration of a `pipeline` scenario performs.

use std::path::Path;

use anyhow::{Context, Result, bail};
use engine::Tensor;
use engine::models::Tokenizer;
use serde::Deserialize;

/// The f32 elements an encoder workload holds: its weights, plus per sequence of `seq` tokens
/// the hidden states of the widest layer (about 8 × `hidden` per token: QKV, attention
/// output, the 4 × FFN) and the `heads` attention score matrices.
pub fn encoder_elements(weights: u64, hidden: u64, heads: u64, batch: u64, seq: u64) -> u64 {
    let per_token = hidden
        .saturating_mul(8)
        .saturating_add(heads.saturating_mul(seq));
    weights.saturating_add(batch.saturating_mul(seq).saturating_mul(per_token))
}

/// One line of a sentiment data file: `{"text", "expected_label", "category"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledText {
    pub text: String,
    pub expected_label: String,
    #[serde(default)]
    pub category: String,
}

/// Reads a JSONL file of labelled texts; errors name the file and line.
pub fn read_jsonl(path: &Path) -> Result<Vec<LabelledText>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item: LabelledText = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: expected {{\"text\", \"expected_label\", \"category\"}}",
                path.display(),
                i + 1
            )
        })?;
        out.push(item);
    }
    if out.is_empty() {
        bail!("{}: no texts", path.display());
    }
    Ok(out)
}

/// Text in, label out: tokenization, the model and the arg-max, as an application runs them.
pub struct TextPipeline {
    pub tokenizer: Tokenizer,
    /// The texts iterations cycle through, in file order.
    pub texts: Vec<LabelledText>,
    /// Output labels by logit index.
    pub labels: Vec<String>,
}

impl TextPipeline {
    /// Model inputs for one text: `[input_ids, attention_mask]`, batch 1, no padding.
    pub fn inputs(&self, text: &str) -> Result<Vec<Tensor>> {
        Ok(self.tokenizer.encode_batch(&[text])?.inputs())
    }

    /// The index of the largest logit of the first row.
    pub fn predict(outputs: &[Tensor]) -> Result<usize> {
        let logits = outputs
            .first()
            .context("the model returned no outputs")?
            .as_f32()?;
        let n = outputs[0].dims().last().copied().unwrap_or(0);
        if n == 0 {
            bail!("the model returned empty logits");
        }
        Ok(engine::models::softmax_argmax(&logits[..n]).0)
    }
}
