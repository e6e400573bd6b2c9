//! Graph-to-graph passes, one per file, backend-neutral; [`standard`] lists their order.

mod dead_nodes;
mod fold_constants;
mod fuse_add_layer_norm;
mod fuse_elementwise;
mod fuse_matmul_epilogue;

use super::{Backend, CompileReport};
use crate::ops::Op;
use crate::{Graph, Node, Result, Value};

/// What a pass may use besides the graph: the report it adds its counts to, and the backend
/// (whose kernels fold constants).
pub struct PassContext<'a> {
    pub report: &'a mut CompileReport,
    pub backend: &'a dyn Backend,
}

/// A graph-to-graph rewrite that records what it did. Each pass file defines its `PASS`.
#[derive(Clone, Copy)]
pub struct Pass {
    pub name: &'static str,
    pub run: fn(&Graph, &mut PassContext) -> Result<Graph>,
}

/// The pipeline a backend runs unless it has a reason not to; without `fuse`, every node
/// stays one kernel.
pub fn standard(fuse: bool) -> Vec<Pass> {
    let mut passes = vec![dead_nodes::PASS, fold_constants::PASS];
    if fuse {
        // Before element-wise fusion, which would take the residual add into a chain.
        passes.extend([
            fuse_add_layer_norm::PASS,
            fuse_elementwise::PASS,
            fuse_matmul_epilogue::PASS,
        ]);
    }
    // Folding and fusion leave constants and producers nobody reads.
    passes.push(dead_nodes::PASS);
    passes
}

/// The distinct nodes that read each node, in graph order.
pub fn consumers(g: &Graph) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = vec![Vec::new(); g.nodes().len()];
    for (i, node) in g.nodes().iter().enumerate() {
        for v in &node.inputs {
            if out[v.0].last() != Some(&Value(i)) {
                out[v.0].push(Value(i));
            }
        }
    }
    out
}

/// Whether each node is a graph output.
pub fn is_output(g: &Graph) -> Vec<bool> {
    let mut out = vec![false; g.nodes().len()];
    for v in g.outputs() {
        out[v.0] = true;
    }
    out
}

/// Copies `node` into `new`, renaming its inputs through `map` (old index -> new value).
pub fn copy_node(new: &mut Graph, node: &Node, map: &[Option<Value>]) -> Result<Value> {
    if matches!(node.op, Op::Input { .. } | Op::Constant(_)) {
        return Ok(new.push_source(node.clone()));
    }
    let inputs: Vec<Value> = node
        .inputs
        .iter()
        .map(|v| map[v.0].expect("passes emit a node's inputs before it"))
        .collect();
    new.push(node.op.clone(), &inputs)
}

/// Marks `old`'s outputs as outputs of `new`.
pub fn copy_outputs(old: &Graph, new: &mut Graph, map: &[Option<Value>]) {
    for v in old.outputs() {
        new.output(map[v.0].expect("outputs are always emitted"));
    }
}
