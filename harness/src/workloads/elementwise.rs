//! The original project's first example: `relu(x * 2 + 1)`.

use anyhow::Result;
use engine::{DType, Graph, Tensor, dims};
use serde::Deserialize;

use super::{Workload, data};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub size: usize,
}

impl super::Params for Params {
    fn elements(&self) -> Result<u64> {
        // The input and the output.
        Ok(super::positive("elementwise", "size", self.size)?.saturating_mul(2))
    }
}

pub fn build(p: &Params, seed: u64) -> Result<Workload> {
    let mut g = Graph::new("elementwise");
    let x = g.input("x", DType::F32, dims!["n"])?;
    let two = g.scalar(2.0);
    let one = g.scalar(1.0);
    let y = g.mul(x, two)?;
    let y = g.add(y, one)?;
    let y = g.relu(y)?;
    g.output(y);
    let x = data::uniform(&mut data::rng(seed, 0), p.size, -2.0, 2.0);
    Ok(Workload::fixed(
        g,
        vec![Tensor::from_f32(&[p.size], x)?],
        p.size as u64,
    ))
}
