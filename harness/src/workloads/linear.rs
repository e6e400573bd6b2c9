//! A linear layer with an activation: `act(x @ W^T + b)`, weights initialised like PyTorch's
//! `nn.Linear` (uniform in ±1/sqrt(in_features)).

use anyhow::Result;
use engine::nn::Linear;
use engine::{DType, Graph, Tensor, dims};
use serde::Deserialize;

use super::{Activation, Workload, data};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub batch: usize,
    pub in_features: usize,
    pub out_features: usize,
    #[serde(default)]
    pub activation: Activation,
}

impl super::Params for Params {
    fn elements(&self) -> Result<u64> {
        let b = super::positive("linear", "batch", self.batch)?;
        let i = super::positive("linear", "in_features", self.in_features)?;
        let o = super::positive("linear", "out_features", self.out_features)?;
        // x, W, b and y.
        Ok(b.saturating_mul(i)
            .saturating_add(i.saturating_mul(o))
            .saturating_add(o)
            .saturating_add(b.saturating_mul(o)))
    }
}

pub fn build(p: &Params, seed: u64) -> Result<Workload> {
    let bound = 1.0 / (p.in_features as f32).sqrt();
    let mut rng = data::rng(seed, 1);
    let w = data::uniform(&mut rng, p.out_features * p.in_features, -bound, bound);
    let b = data::uniform(&mut rng, p.out_features, -bound, bound);

    let mut g = Graph::new("linear");
    let x = g.input("x", DType::F32, dims!["batch", p.in_features])?;
    let layer = Linear::new(
        &mut g,
        Tensor::from_f32(&[p.out_features, p.in_features], w)?,
        Some(Tensor::from_f32(&[p.out_features], b)?),
    );
    let y = layer.forward(&mut g, x)?;
    let y = match p.activation {
        Activation::Relu => g.relu(y)?,
        Activation::Gelu => g.gelu(y)?,
        Activation::None => y,
    };
    g.output(y);
    let x = data::uniform(&mut data::rng(seed, 0), p.batch * p.in_features, -1.0, 1.0);
    Ok(Workload::fixed(
        g,
        vec![Tensor::from_f32(&[p.batch, p.in_features], x)?],
        p.batch as u64,
    ))
}
