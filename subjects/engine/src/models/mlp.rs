//! The original project's MLP: 8 -> 128 -> 64 -> 1 with ReLU, run batched.

use super::{Result, Weights};
use crate::{DType, Graph, dims};

/// `fc3(relu(fc2(relu(fc1(x)))))` over `x` f32 `[batch, 8]`, output `[batch, 1]`. Tensor names
/// `fc1.weight`, `fc1.bias`, ... (`[out, in]`); synthetic weights follow PyTorch's `nn.Linear`
/// initialisation.
pub struct Mlp;

impl Mlp {
    pub const INPUTS: [&'static str; 1] = ["x"];
    /// Layer widths, input first.
    pub const WIDTHS: [usize; 4] = [8, 128, 64, 1];

    pub fn build(weights: &Weights) -> Result<Graph> {
        let mut g = Graph::new("mlp");
        let mut h = g.input("x", DType::F32, dims!["batch", Self::WIDTHS[0]])?;
        let n = Self::WIDTHS.len() - 1;
        for i in 0..n {
            let (fan_in, fan_out) = (Self::WIDTHS[i], Self::WIDTHS[i + 1]);
            let layer =
                weights.linear_pytorch_init(&mut g, &format!("fc{}", i + 1), fan_in, fan_out)?;
            h = layer.forward(&mut g, h)?;
            if i + 1 < n {
                h = g.relu(h)?;
            }
        }
        g.output(h);
        Ok(g)
    }

    /// The MLP with synthetic, deterministic weights from `seed`.
    pub fn synthetic(seed: u64) -> Result<Graph> {
        Self::build(&Weights::synthetic(seed))
    }
}
