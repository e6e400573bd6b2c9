//! The original project's CNN for 28x28 single-channel images (MNIST-shaped), run batched.

use super::{Init, Result, Weights};
use crate::{DType, Graph, Value, dims};

/// ```text
/// x [batch, 1, 28, 28]
/// conv1 1->32, 3x3, stride 1, pad 1 -> ReLU -> max_pool 2x2   [batch, 32, 14, 14]
/// conv2 32->64, 3x3, stride 1, pad 1 -> ReLU -> max_pool 2x2  [batch, 64, 7, 7]
/// flatten                                                     [batch, 3136]
/// fc1 3136->128 -> ReLU -> fc2 128->10                        [batch, 10]
/// ```
///
/// The original lists the layers (conv, pool, conv, pool, flatten, fc 128, fc 10) without
/// activations; like the usual MNIST CNN (and PyTorch's example) this adds ReLU after each
/// convolution and after fc1 — without them the network would collapse to one linear map.
/// conv2 uses padding 1 as conv1 does, which keeps 28 -> 14 -> 7. Tensor names `conv1.weight`
/// `[32, 1, 3, 3]`, `conv1.bias`, `conv2.*`, `fc1.*`, `fc2.*`; synthetic weights follow
/// PyTorch's default initialisation (uniform, bound `1/sqrt(fan_in)`).
pub struct Cnn;

impl Cnn {
    pub const INPUTS: [&'static str; 1] = ["x"];
    pub const IMAGE: [usize; 3] = [1, 28, 28];
    pub const CLASSES: usize = 10;

    pub fn build(weights: &Weights) -> Result<Graph> {
        let mut g = Graph::new("cnn");
        let [c, hgt, wid] = Self::IMAGE;
        let x = g.input("x", DType::F32, dims!["batch", c, hgt, wid])?;
        let h = conv_relu_pool(&mut g, weights, "conv1", x, c, 32)?;
        let h = conv_relu_pool(&mut g, weights, "conv2", h, 32, 64)?;
        let h = g.flatten(h, 1)?;
        let flat = 64 * (hgt / 4) * (wid / 4);
        let fc1 = weights.linear_pytorch_init(&mut g, "fc1", flat, 128)?;
        let fc2 = weights.linear_pytorch_init(&mut g, "fc2", 128, Self::CLASSES)?;
        let h = fc1.forward(&mut g, h)?;
        let h = g.relu(h)?;
        let logits = fc2.forward(&mut g, h)?;
        g.output(logits);
        Ok(g)
    }

    /// The CNN with synthetic, deterministic weights from `seed`.
    pub fn synthetic(seed: u64) -> Result<Graph> {
        Self::build(&Weights::synthetic(seed))
    }
}

fn conv_relu_pool(
    g: &mut Graph,
    weights: &Weights,
    name: &str,
    x: Value,
    in_channels: usize,
    out_channels: usize,
) -> Result<Value> {
    let init = Init::Uniform {
        bound: 1.0 / ((in_channels * 9) as f32).sqrt(),
    };
    let w = weights.tensor(
        &format!("{name}.weight"),
        &[out_channels, in_channels, 3, 3],
        init,
    )?;
    let b = weights.tensor(&format!("{name}.bias"), &[out_channels], init)?;
    let w = g.constant(w);
    let b = g.constant(b);
    let h = g.conv2d(x, w, Some(b), [1, 1], [1, 1])?;
    let h = g.relu(h)?;
    Ok(g.max_pool2d(h, [2, 2], [2, 2])?)
}
