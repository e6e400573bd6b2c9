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
