//! The original project's MLP (8 -> 128 -> 64 -> 1, ReLU), batched as one graph call.

use anyhow::Result;
use engine::Tensor;
use engine::models::Mlp;
use serde::Deserialize;

use super::{Workload, data};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub batch: usize,
}

impl super::Params for Params {
    fn elements(&self) -> Result<u64> {
        let b = super::positive("mlp", "batch", self.batch)?;
        let w = Mlp::WIDTHS;
        let weights: usize = w.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
        let per_row: usize = w.iter().sum();
        Ok((weights as u64).saturating_add(b.saturating_mul(per_row as u64)))
    }
}

pub fn build(p: &Params, seed: u64) -> Result<Workload> {
    let graph = Mlp::synthetic(seed)?;
    let width = Mlp::WIDTHS[0];
    let x = data::uniform(&mut data::rng(seed, 0), p.batch * width, -1.0, 1.0);
    Ok(Workload::fixed(
        graph,
        vec![Tensor::from_f32(&[p.batch, width], x)?],
        p.batch as u64,
    ))
}
