//! The original project's CNN on 28x28 single-channel images, batched as one graph call.

use anyhow::Result;
use engine::Tensor;
use engine::models::Cnn;
use serde::Deserialize;

use super::{Workload, data};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub batch: usize,
}

impl super::Params for Params {
    fn elements(&self) -> Result<u64> {
        let b = super::positive("cnn", "batch", self.batch)?;
        // About 422 k weights; per image the input and every activation (conv1 32x28x28
        // and its pool, conv2 64x14x14 and its pool, fc1, fc2): about 60 k.
        Ok(422_000u64.saturating_add(b.saturating_mul(60_000)))
    }
}

pub fn build(p: &Params, seed: u64) -> Result<Workload> {
    let graph = Cnn::synthetic(seed)?;
    let dims = [p.batch, 1, 28, 28];
    let x = data::uniform(&mut data::rng(seed, 0), dims.iter().product(), 0.0, 1.0);
    Ok(Workload::fixed(
        graph,
        vec![Tensor::from_f32(&dims, x)?],
        p.batch as u64,
    ))
}
