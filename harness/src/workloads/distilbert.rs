//! DistilBERT sentiment classification, two ways: `forward` (token ids -> logits, swept over
//! batch and sequence length) and `pipeline` (text -> label with tokenization timed, batch 1,
//! over a file of sentences). Weights are synthetic with the real checkpoint's shapes unless
//! `weights` names a HuggingFace model folder.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use engine::models::{DistilBert, DistilBertConfig, Tokenizer};
use serde::Deserialize;

use super::text::{TextPipeline, read_jsonl};
use super::{Workload, data};

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Forward,
    Pipeline,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub mode: Mode,
    /// Forward: tokens per sequence.
    pub seq_len: Option<usize>,
    /// Forward: sequences per call.
    pub batch: Option<usize>,
    /// `"synthetic"` (default) or a model folder: config.json, model.safetensors, vocab.txt
    /// or tokenizer.json.
    #[serde(default = "synthetic")]
    pub weights: String,
    /// Pipeline: JSONL of texts to cycle through, relative to `suites/`.
    pub data: Option<String>,
    /// JSONL of labelled texts for the accuracy check, relative to `suites/`.
    pub validation: Option<String>,
}

fn synthetic() -> String {
    "synthetic".into()
}

impl Params {
    fn check(&self) -> Result<()> {
        match self.mode {
            Mode::Forward if self.seq_len.is_none() || self.batch.is_none() => {
                bail!("workload `distilbert` mode `forward` needs `seq_len` and `batch`")
            }
            Mode::Pipeline if self.data.is_none() => {
                bail!(
                    "workload `distilbert` mode `pipeline` needs `data` (a JSONL file under suites/)"
                )
            }
            Mode::Forward if self.validation.is_some() => {
                bail!("workload `distilbert`: `validation` applies to mode `pipeline` only")
            }
            _ => Ok(()),
        }
    }
}

impl super::Params for Params {
    fn elements(&self) -> Result<u64> {
        self.check()?;
        let (batch, seq) = match self.mode {
            Mode::Forward => (
                super::positive("distilbert", "batch", self.batch.unwrap_or(0))?,
                super::positive("distilbert", "seq_len", self.seq_len.unwrap_or(0))?,
            ),
            // One text at a time, at most the model's 512 positions.
            Mode::Pipeline => (1, 512),
        };
        Ok(super::text::encoder_elements(
            66_400_000, 768, 12, batch, seq,
        ))
    }
}

pub fn build(p: &Params, seed: u64) -> Result<Workload> {
    p.check()?;
    let (model, tokenizer) = if p.weights == "synthetic" {
        (
            DistilBert::synthetic(DistilBertConfig::sst2(), seed)?,
            Tokenizer::bert_base_uncased()?,
        )
    } else {
        let dir = PathBuf::from(&p.weights);
        if !dir.join("config.json").is_file() {
            bail!(
                "weights = \"{}\": expected a model folder with config.json and model.safetensors",
                p.weights
            );
        }
        (DistilBert::from_dir(&dir)?, Tokenizer::from_dir(&dir)?)
    };
    let real_weights = !model.synthetic;
    let labels = model.config.labels.clone();
    let suites = crate::project_root().join("suites");
    let validation = p
        .validation
        .as_ref()
        .map(|f| read_jsonl(&suites.join(f)))
        .transpose()?;

    let mut w = match p.mode {
        Mode::Forward => {
            let (batch, seq_len) = (p.batch.unwrap_or(1), p.seq_len.unwrap_or(8));
            let max = model.config.max_position_embeddings;
            if seq_len > max {
                bail!("seq_len {seq_len} exceeds the model's {max} positions");
            }
            let inputs = data::token_batch(seed, batch, seq_len, model.config.vocab_size)?;
            Workload::fixed(model.graph, inputs.into(), batch as u64)
        }
        Mode::Pipeline => {
            let texts = read_jsonl(&data_path(&suites, p.data.as_deref().unwrap_or_default()))?;
            let pipeline = TextPipeline {
                tokenizer,
                texts,
                labels,
            };
            let inputs = pipeline.inputs(&pipeline.texts[0].text)?;
            let mut w = Workload::fixed(model.graph, inputs, 1);
            w.pipeline = Some(pipeline);
            w
        }
    };
    w.validation = validation;
    w.real_weights = real_weights;
    Ok(w)
}

fn data_path(suites: &Path, rel: &str) -> PathBuf {
    suites.join(rel)
}
