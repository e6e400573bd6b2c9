//! Weights in panels, the compile-time half of the small-M matmul kernel (`cpu::gemv`).
//!
//! Runs on the lowered graph, after the passes: every f32 constant `[1.., K, N]` that only
//! matmuls read, and only as their right operand, is re-stored in the panel layout in place
//! of its row-major elements (same dims, same size: the executable keeps one copy), and the
//! kernels of those matmuls are told so. It stays a constant of the compiled graph; only the
//! order of its elements changes, so `Executable::graph` shows such a constant in panel
//! order.

use std::sync::Arc;

use super::{CpuReport, Kernel, Panels, pack_panels};
use crate::compiler::passes::{consumers, copy_node, copy_outputs, is_output};
use crate::ops::Op;
use crate::{Data, Graph, Node, Result, Tensor, Value};

pub fn run(g: Graph, kernels: &mut [Kernel], report: &mut CpuReport) -> Result<Graph> {
    let readers = consumers(&g);
    let outputs = is_output(&g);
    let packable = |i: usize| -> Option<(usize, usize)> {
        let node = &g.nodes()[i];
        let Op::Constant(t) = &node.op else {
            return None;
        };
        let (Data::F32(_), [lead @ .., k, n]) = (t.data(), t.dims()) else {
            return None;
        };
        let weight_only = !readers[i].is_empty()
            && readers[i].iter().all(|&c| {
                let inputs = &g.node(c).inputs;
                matches!(kernels[c.0], Kernel::MatMul(..))
                    && inputs[1] == Value(i)
                    && inputs[0] != Value(i)
                    && !inputs[2..].contains(&Value(i))
            });
        (weight_only && !outputs[i] && lead.iter().all(|&d| d == 1) && k * n > 0)
            .then_some((*k, *n))
    };
    let packs: Vec<Option<(usize, usize)>> = (0..g.nodes().len()).map(packable).collect();
    if packs.iter().all(Option::is_none) {
        return Ok(g);
    }

    let mut new = Graph::new(g.name());
    let mut map = vec![None; g.nodes().len()];
    for (i, node) in g.nodes().iter().enumerate() {
        map[i] = Some(match (packs[i], &node.op) {
            (Some((k, n)), Op::Constant(t)) => {
                let panels = pack_panels(t.as_f32()?, k, n);
                let packed = Tensor::from_f32(t.dims(), panels)?;
                report.panel_weights += 1;
                let shared = Arc::new(Panels::default());
                for c in &readers[i] {
                    if let Kernel::MatMul(_, p) = &mut kernels[c.0] {
                        *p = Some(shared.clone());
                    }
                }
                new.push_source(Node {
                    op: Op::Constant(Arc::new(packed)),
                    ..node.clone()
                })
            }
            _ => copy_node(&mut new, node, &map)?,
        });
    }
    copy_outputs(&g, &mut new, &map);
    Ok(new)
}
