//! Constant folding: a node whose inputs are all constants is evaluated now, by the
//! backend's own kernels (`Backend::eval_constant`), so folded values match run-time ones.
//!
//! This is also weight prepacking: a Linear stores `W` as `[out, in]` and computes
//! `x @ transpose(W)`; folding the transpose leaves a contiguous `[in, out]` constant, so
//! the GEMM reads the weight row-major and never repacks a strided operand per call.

use std::sync::Arc;

use super::PassContext;
use super::{consumers, copy_node, copy_outputs};
use crate::ops::{FusedOp, Op};
use crate::{Graph, Result, Tensor};

/// Outputs up to this many elements are always folded; bigger ones only when no larger
/// than their inputs (so `broadcast_to` of a small constant stays a cheap broadcast).
const SMALL: usize = 1024;

pub(super) const PASS: super::Pass = super::Pass {
    name: "fold_constants",
    run,
};

fn run(g: &Graph, ctx: &mut PassContext) -> Result<Graph> {
    let readers = consumers(g);
    let mut new = Graph::new(g.name());
    let mut map = vec![None; g.nodes().len()];
    for (i, node) in g.nodes().iter().enumerate() {
        let constants: Option<Vec<Arc<Tensor>>> = node
            .inputs
            .iter()
            .map(|v| match &new.node(map[v.0].unwrap()).op {
                Op::Constant(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        let fold = match (&node.op, constants, node.shape.to_static()) {
            (Op::Input { .. } | Op::Constant(_), ..) => None,
            (_, Some(ts), Some(dims)) => {
                let n_out: usize = dims.iter().product();
                let n_in: usize = ts.iter().map(|t| t.numel()).sum();
                (n_out <= SMALL.max(n_in)).then_some((ts, dims))
            }
            _ => None,
        };
        map[i] = Some(match fold {
            Some((ts, dims)) => {
                let refs: Vec<&Tensor> = ts.iter().map(|t| t.as_ref()).collect();
                let value = ctx
                    .backend
                    .eval_constant(&node.op, &refs, &dims, node.dtype)?;
                ctx.report.folded += 1;
                let feeds_matmul = readers[i].iter().any(|c| {
                    matches!(
                        g.node(*c).op,
                        Op::MatMul | Op::Fused(FusedOp::MatMulEpilogue(_))
                    )
                });
                if matches!(node.op, Op::Transpose { .. }) && feeds_matmul {
                    ctx.report.prepacked_weights += 1;
                }
                new.constant(value)
            }
            None => copy_node(&mut new, node, &map)?,
        });
    }
    copy_outputs(g, &mut new, &map);
    Ok(new)
}
