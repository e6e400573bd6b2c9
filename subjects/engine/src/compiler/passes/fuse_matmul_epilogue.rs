//! Fuses a matmul with the element-wise program that finishes it (bias, activation,
//! residual) into one `fused_matmul` node, so the product is finished while it is still in
//! cache. Runs after `fuse_elementwise`, whose chains it takes whole.

use std::sync::Arc;

use super::PassContext;
use super::{consumers, copy_node, copy_outputs, is_output};
use crate::ops::{ElementwiseProgram, FusedOp, Instr, Op};
use crate::{Graph, Result, Value};

pub(super) const PASS: super::Pass = super::Pass {
    name: "fuse_matmul_epilogue",
    run,
};

fn run(g: &Graph, ctx: &mut PassContext) -> Result<Graph> {
    let nodes = g.nodes();
    let readers = consumers(g);
    let outputs = is_output(g);
    // For each element-wise node, which of its inputs is a matmul only it reads.
    let mut take: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut fused = vec![false; nodes.len()];
    for (c, node) in nodes.iter().enumerate() {
        if !matches!(node.op, Op::Fused(FusedOp::Elementwise(_))) {
            continue;
        }
        take[c] = node.inputs.iter().position(|&v| {
            let m = g.node(v);
            matches!(m.op, Op::MatMul)
                && readers[v.0].len() == 1
                && !outputs[v.0]
                && m.shape == node.shape
        });
        if let Some(j) = take[c] {
            fused[node.inputs[j].0] = true;
        }
    }

    let mut new = Graph::new(g.name());
    let mut map: Vec<Option<Value>> = vec![None; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if fused[i] {
            continue;
        }
        let (Some(j), Op::Fused(FusedOp::Elementwise(p))) = (take[i], &node.op) else {
            map[i] = Some(copy_node(&mut new, node, &map)?);
            continue;
        };
        let mm = g.node(node.inputs[j]);
        let mut inputs: Vec<Value> = mm.inputs.iter().map(|v| map[v.0].unwrap()).collect();
        inputs.extend(
            node.inputs
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != j)
                .map(|(_, v)| map[v.0].unwrap()),
        );
        let program = move_input_first(p, j);
        map[i] = Some(new.push(
            Op::Fused(FusedOp::MatMulEpilogue(Arc::new(program))),
            &inputs,
        )?);
        ctx.report.fused_epilogues += 1;
    }
    copy_outputs(g, &mut new, &map);
    Ok(new)
}

/// The same program with input `j` renumbered to register 0 (the matmul's product).
fn move_input_first(p: &ElementwiseProgram, j: usize) -> ElementwiseProgram {
    let map = |r: usize| match r {
        r if r == j => 0,
        r if r < j => r + 1,
        r => r,
    };
    ElementwiseProgram {
        n_inputs: p.n_inputs,
        instrs: p
            .instrs
            .iter()
            .map(|i| match *i {
                Instr::Const(c) => Instr::Const(c),
                Instr::Unary(op, a) => Instr::Unary(op, map(a)),
                Instr::Binary(op, a, b) => Instr::Binary(op, map(a), map(b)),
            })
            .collect(),
    }
}
