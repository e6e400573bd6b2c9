//! Removes nodes that no output depends on (declared inputs always stay: callers pass them).

use super::PassContext;
use super::{copy_node, copy_outputs};
use crate::ops::Op;
use crate::{Graph, Result};

pub(super) const PASS: super::Pass = super::Pass {
    name: "remove_dead_nodes",
    run,
};

fn run(g: &Graph, ctx: &mut PassContext) -> Result<Graph> {
    let nodes = g.nodes();
    let mut live = vec![false; nodes.len()];
    for v in g.outputs() {
        live[v.0] = true;
    }
    for i in (0..nodes.len()).rev() {
        if live[i] {
            for v in &nodes[i].inputs {
                live[v.0] = true;
            }
        }
    }
    let mut new = Graph::new(g.name());
    let mut map = vec![None; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if live[i] || matches!(node.op, Op::Input { .. }) {
            map[i] = Some(copy_node(&mut new, node, &map)?);
        }
    }
    copy_outputs(g, &mut new, &map);
    ctx.report.removed += nodes.len() - new.nodes().len();
    Ok(new)
}
