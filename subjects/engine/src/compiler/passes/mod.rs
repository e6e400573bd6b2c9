//! Compiler passes, one per file; `compiler::compile` lists their order.

pub mod dead_nodes;
pub mod fold_constants;
pub mod fuse_add_layer_norm;
pub mod fuse_elementwise;
pub mod fuse_matmul_epilogue;
pub mod memory_plan;
pub mod pack_weights;

use crate::ops::Op;
use crate::{Graph, Node, Result, Value};

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
