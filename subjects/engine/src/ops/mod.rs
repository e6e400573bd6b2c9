//! Ops describe themselves: name, output shape and dtype inference, FLOP count.
//!
//! Element-wise ops are rows of the table in `elementwise.rs`; ops only the compiler makes
//! live in `fused.rs`. The recipes in `docs/recipes/` list the files each kind of op touches;
//! the exhaustive matches point at anything missed.

pub mod elementwise;
pub mod fused;
mod infer;
mod infer_model;

use std::sync::Arc;

pub use elementwise::{BinaryOp, UnaryOp};
pub use fused::{ElementwiseProgram, FusedOp, Instr, Reg, decompose};

use crate::{Bindings, DType, Dim, Result, Shape, Tensor};

/// Reductions over a set of axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Mean,
    Max,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "reduce_sum",
            ReduceOp::Mean => "reduce_mean",
            ReduceOp::Max => "reduce_max",
        }
    }
}

/// What a node computes.
#[derive(Clone, Debug)]
pub enum Op {
    Input {
        name: String,
    },
    Constant(Arc<Tensor>),
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// `[..., m, k] @ [..., k, n]` with broadcast batch dims; both ranks >= 2.
    MatMul,
    Transpose {
        perm: Vec<usize>,
    },
    Reshape {
        shape: Shape,
    },
    BroadcastTo {
        shape: Shape,
    },
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
        keep_dims: bool,
    },
    Cast {
        to: DType,
    },
    /// Rows of `table [V, D..]` picked by i64 `indices [I..]`: `[I.., D..]` (embeddings).
    Gather,
    /// `(x - mean) / sqrt(var + eps) * gamma + beta` over the last axis; inputs `x, gamma, beta`.
    LayerNorm {
        eps: f32,
    },
    Softmax {
        axis: usize,
    },
    /// Elements `start..end` of `axis`.
    Slice {
        axis: usize,
        start: usize,
        end: usize,
    },
    /// The inputs joined along `axis` (any number of inputs, one dtype).
    Concat {
        axis: usize,
    },
    /// `[len] = 0, 1, 2, ...`; `len` may be symbolic, bound when the graph runs.
    Arange {
        len: Dim,
        dtype: DType,
    },
    /// NCHW convolution: inputs `x [N, C, H, W]`, `weight [O, C, kh, kw]` and, when
    /// `bias`, `bias [O]`.
    Conv2d {
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    },
    /// Max over `kernel` windows of the last two axes of `[N, C, H, W]`, no padding.
    MaxPool2d {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    /// `softmax(q k^T * scale + mask) v` over `q [.., Sq, Dh]`, `k [.., Sk, Dh]`,
    /// `v [.., Sk, Dv]` and, when `masked`, an additive f32 mask broadcastable to `[.., Sq, Sk]`.
    Attention {
        scale: f32,
        masked: bool,
    },
    /// An op only the compiler produces (see [`fused`]); everyone else sees it decomposed.
    Fused(FusedOp),
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Constant(_) => "constant",
            Op::Unary(op) => op.name(),
            Op::Binary(op) => op.name(),
            Op::MatMul => "matmul",
            Op::Transpose { .. } => "transpose",
            Op::Reshape { .. } => "reshape",
            Op::BroadcastTo { .. } => "broadcast_to",
            Op::Reduce { op, .. } => op.name(),
            Op::Cast { .. } => "cast",
            Op::Gather => "gather",
            Op::LayerNorm { .. } => "layer_norm",
            Op::Softmax { .. } => "softmax",
            Op::Slice { .. } => "slice",
            Op::Concat { .. } => "concat",
            Op::Arange { .. } => "arange",
            Op::Conv2d { .. } => "conv2d",
            Op::MaxPool2d { .. } => "max_pool2d",
            Op::Attention { .. } => "attention",
            Op::Fused(f) => f.name(),
        }
    }

    /// This op with the symbolic dims it carries (reshape and broadcast targets, arange
    /// lengths) bound, so it can be re-inferred on concrete shapes at run time.
    pub fn bind(&self, bindings: &Bindings) -> Op {
        match self {
            Op::Reshape { shape } => Op::Reshape {
                shape: shape.bind(bindings),
            },
            Op::BroadcastTo { shape } => Op::BroadcastTo {
                shape: shape.bind(bindings),
            },
            Op::Arange { len, dtype } => Op::Arange {
                len: Shape(vec![len.clone()]).bind(bindings).0.remove(0),
                dtype: *dtype,
            },
            op => op.clone(),
        }
    }

    /// Output shape and dtype from the inputs', or an error naming this op and the shapes.
    pub fn infer(&self, inputs: &[(&Shape, DType)]) -> Result<(Shape, DType)> {
        infer::infer(self, inputs)
    }

    /// Floating-point operations for concrete input and output shapes (multiply-add = 2).
    pub fn flops(&self, inputs: &[Vec<usize>], output: &[usize]) -> u64 {
        let out: u64 = output.iter().product::<usize>() as u64;
        match self {
            Op::Input { .. }
            | Op::Constant(_)
            | Op::Transpose { .. }
            | Op::Reshape { .. }
            | Op::BroadcastTo { .. }
            | Op::Cast { .. }
            | Op::Gather
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::Arange { .. } => 0,
            Op::Unary(op) => out * op.flops_per_element(),
            Op::Binary(_) => out,
            Op::Reduce { .. } => inputs[0].iter().product::<usize>() as u64,
            Op::MatMul => matmul_flops(&inputs[0], output),
            // Mean, centred square and sum, normalise, scale and shift.
            Op::LayerNorm { .. } => 8 * out,
            Op::Fused(f) => f.flops(inputs, output),
            // Max, subtract, exp, sum, scale.
            Op::Softmax { .. } => 5 * out,
            Op::Conv2d { bias, .. } => {
                let w = &inputs[1];
                let per_output = 2 * (w[1] * w[2] * w[3]) as u64;
                out * (per_output + u64::from(*bias))
            }
            Op::MaxPool2d { kernel, .. } => out * (kernel[0] * kernel[1]) as u64,
            Op::Attention { masked, .. } => {
                let (q, v) = (&inputs[0], &inputs[2]);
                let (sq, dh) = (q[q.len() - 2] as u64, q[q.len() - 1] as u64);
                let (sk, dv) = (v[v.len() - 2] as u64, v[v.len() - 1] as u64);
                let batch = out / (sq * dv).max(1);
                // Two products, then scale (+ mask) and the five softmax steps per score.
                let per_score = 2 * dh + 2 * dv + 6 + u64::from(*masked);
                batch * sq * sk * per_score
            }
        }
    }
}

pub(crate) fn matmul_flops(a: &[usize], out: &[usize]) -> u64 {
    let k = a[a.len() - 1] as u64;
    2 * k * out.iter().product::<usize>() as u64
}
