//! Fuses a residual add into the LayerNorm that reads it — `h = LN(x + h)` in post-norm
//! transformer blocks — as one `fused_add_layer_norm` node, so the sum is formed row by row
//! inside the normalisation instead of being written out and read back. Runs before
//! `fuse_elementwise`, which would otherwise take the add into a chain of its own.

use super::PassContext;
use super::{consumers, copy_node, copy_outputs, is_output};
use crate::ops::{BinaryOp, FusedOp, Op};
use crate::{Graph, Result, Value};

pub(super) const PASS: super::Pass = super::Pass {
    name: "fuse_add_layer_norm",
    run,
};

fn run(g: &Graph, ctx: &mut PassContext) -> Result<Graph> {
    let nodes = g.nodes();
    let readers = consumers(g);
    let outputs = is_output(g);
    // The add each LayerNorm takes in, when only that LayerNorm reads it and neither operand
    // broadcasts (the kernel adds two rows of the same length).
    let take: Vec<Option<Value>> = nodes
        .iter()
        .map(|node| {
            let Op::LayerNorm { .. } = node.op else {
                return None;
            };
            let sum = node.inputs[0];
            let add = g.node(sum);
            let fusable = matches!(add.op, Op::Binary(BinaryOp::Add))
                && readers[sum.0].len() == 1
                && !outputs[sum.0]
                && add.inputs.iter().all(|&u| g.shape(u) == &node.shape);
            fusable.then_some(sum)
        })
        .collect();
    let mut absorbed = vec![false; nodes.len()];
    for sum in take.iter().flatten() {
        absorbed[sum.0] = true;
    }

    let mut new = Graph::new(g.name());
    let mut map: Vec<Option<Value>> = vec![None; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if absorbed[i] {
            continue;
        }
        let (Some(sum), &Op::LayerNorm { eps }) = (take[i], &node.op) else {
            map[i] = Some(copy_node(&mut new, node, &map)?);
            continue;
        };
        let inputs: Vec<Value> = g
            .node(sum)
            .inputs
            .iter()
            .chain(&node.inputs[1..])
            .map(|v| map[v.0].expect("passes emit a node's inputs before it"))
            .collect();
        map[i] = Some(new.push(Op::Fused(FusedOp::AddLayerNorm { eps }), &inputs)?);
        ctx.report.fused_add_layer_norms += 1;
    }
    copy_outputs(g, &mut new, &map);
    Ok(new)
}
