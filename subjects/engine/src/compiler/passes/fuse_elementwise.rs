//! Fuses chains of element-wise ops into one `fused_elementwise` node per chain.
//!
//! A node is computed inside its readers' program when every reader is element-wise with
//! the same shape (so nothing is recomputed per broadcast element), all of them end up in
//! one chain, and it is not a graph output. A value read twice within a chain, as `x` in
//! `x * sigmoid(x)`, is computed once, into a register. Scalar f32 constants become
//! `Instr::Const` immediates. Every remaining element-wise node becomes an
//! `FusedOp::Elementwise`, so the executor has one element-wise path.

use std::collections::HashMap;
use std::sync::Arc;

use super::PassContext;
use super::{consumers, copy_node, copy_outputs, is_output};
use crate::ops::{ElementwiseProgram, FusedOp, Instr, Op};
use crate::{DType, Graph, Node, Result, Value};

pub(super) const PASS: super::Pass = super::Pass {
    name: "fuse_elementwise",
    run,
};

fn run(g: &Graph, ctx: &mut PassContext) -> Result<Graph> {
    let nodes = g.nodes();
    let readers = consumers(g);
    let outputs = is_output(g);
    // The chain each node is computed in, named by its last node (its root); readers come
    // after what they read, so walking backwards settles every reader's chain first.
    let mut chain_of: Vec<usize> = (0..nodes.len()).collect();
    let mut absorbed = vec![false; nodes.len()];
    for i in (0..nodes.len()).rev() {
        let Some(&first) = readers[i].first() else {
            continue;
        };
        let joins = program_of(&nodes[i]).is_some()
            && !outputs[i]
            && readers[i].iter().all(|r| {
                let reader = g.node(*r);
                program_of(reader).is_some()
                    && reader.shape == nodes[i].shape
                    && chain_of[r.0] == chain_of[first.0]
            });
        if joins {
            absorbed[i] = true;
            chain_of[i] = chain_of[first.0];
        }
    }

    let mut new = Graph::new(g.name());
    let mut map: Vec<Option<Value>> = vec![None; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if absorbed[i] {
            continue;
        }
        if program_of(node).is_none() {
            map[i] = Some(copy_node(&mut new, node, &map)?);
            continue;
        }
        // Immediates can drop a constant's extra leading dims from the inferred shape;
        // then fall back to keeping constants as inputs.
        let mut fused = None;
        for immediates in [true, false] {
            let Some(chain) = Chain::build(g, &absorbed, Value(i), immediates) else {
                continue;
            };
            let inputs: Vec<Value> = chain.leaves.iter().map(|v| map[v.0].unwrap()).collect();
            let op = Op::Fused(FusedOp::Elementwise(Arc::new(chain.program.clone())));
            if let Ok((shape, _)) = op.infer(&leaf_facts(&new, &inputs))
                && shape == node.shape
            {
                fused = Some((new.push(op, &inputs)?, chain));
                break;
            }
        }
        match fused {
            Some((v, chain)) => {
                map[i] = Some(v);
                if chain.absorbed > 0 {
                    ctx.report.fused_chains += 1;
                    ctx.report.fused_ops += chain.absorbed;
                }
                ctx.report.immediates += chain.immediates;
            }
            None => {
                return Err(crate::Error::Graph {
                    graph: g.name().into(),
                    why: format!("fuse_elementwise: could not fuse the chain ending at node {i}"),
                });
            }
        }
    }
    copy_outputs(g, &mut new, &map);
    Ok(new)
}

fn leaf_facts<'g>(g: &'g Graph, inputs: &[Value]) -> Vec<(&'g crate::Shape, DType)> {
    inputs.iter().map(|&v| (g.shape(v), g.dtype(v))).collect()
}

/// The program an element-wise node runs, with its inputs as registers `0..n` (none for
/// an empty identity program, which is left as it is).
fn program_of(node: &Node) -> Option<ElementwiseProgram> {
    match &node.op {
        Op::Fused(FusedOp::Elementwise(p)) if p.instrs.is_empty() => None,
        Op::Unary(op) => Some(ElementwiseProgram {
            n_inputs: 1,
            instrs: vec![Instr::Unary(*op, 0)],
        }),
        Op::Binary(op) => Some(ElementwiseProgram {
            n_inputs: 2,
            instrs: vec![Instr::Binary(*op, 0, 1)],
        }),
        Op::Fused(FusedOp::Elementwise(p)) => Some((**p).clone()),
        _ => None,
    }
}

/// A register while the chain is being built: leaf count is unknown until the end.
#[derive(Clone, Copy)]
enum Sym {
    Leaf(usize),
    Tmp(usize),
}

/// One fused chain: its program, the values feeding it, and what was absorbed.
struct Chain {
    program: ElementwiseProgram,
    leaves: Vec<Value>,
    absorbed: usize,
    immediates: usize,
}

struct Builder<'g> {
    g: &'g Graph,
    absorbed: &'g [bool],
    immediates: bool,
    leaves: Vec<Value>,
    instrs: Vec<(Instr, [Sym; 2])>,
    memo: HashMap<Value, Sym>,
    n_absorbed: usize,
    n_immediates: usize,
}

impl Chain {
    fn build(g: &Graph, absorbed: &[bool], root: Value, immediates: bool) -> Option<Chain> {
        let mut b = Builder {
            g,
            absorbed,
            immediates,
            leaves: Vec::new(),
            instrs: Vec::new(),
            memo: HashMap::new(),
            n_absorbed: 0,
            n_immediates: 0,
        };
        let result = b.value(root, true);
        let n_in = b.leaves.len();
        let resolve = |s: Sym| match s {
            Sym::Leaf(i) => i,
            Sym::Tmp(j) => n_in + j,
        };
        // The program's result is its last register; anything else is a degenerate chain
        // (an identity program) that is not worth fusing.
        let last_ok = match result {
            Sym::Tmp(j) => j + 1 == b.instrs.len(),
            Sym::Leaf(0) => b.instrs.is_empty(),
            Sym::Leaf(_) => false,
        };
        if !last_ok {
            return None;
        }
        let instrs = b
            .instrs
            .iter()
            .map(|(instr, [x, y])| match *instr {
                Instr::Const(c) => Instr::Const(c),
                Instr::Unary(op, _) => Instr::Unary(op, resolve(*x)),
                Instr::Binary(op, _, _) => Instr::Binary(op, resolve(*x), resolve(*y)),
            })
            .collect();
        Some(Chain {
            program: ElementwiseProgram {
                n_inputs: n_in,
                instrs,
            },
            leaves: b.leaves,
            absorbed: b.n_absorbed,
            immediates: b.n_immediates,
        })
    }
}

impl Builder<'_> {
    /// The register holding `v` inside the chain, emitting what computes it.
    fn value(&mut self, v: Value, root: bool) -> Sym {
        if let Some(&s) = self.memo.get(&v) {
            return s;
        }
        let node = self.g.node(v);
        let s = if root || self.absorbed[v.0] {
            self.n_absorbed += usize::from(!root);
            let p = program_of(node).expect("only element-wise nodes are absorbed");
            let mut regs: Vec<Sym> = node.inputs.iter().map(|&u| self.value(u, false)).collect();
            for instr in &p.instrs {
                let ops = match *instr {
                    Instr::Const(_) => [Sym::Tmp(0); 2],
                    Instr::Unary(_, a) => [regs[a], regs[a]],
                    Instr::Binary(_, a, b) => [regs[a], regs[b]],
                };
                self.instrs.push((instr.clone(), ops));
                regs.push(Sym::Tmp(self.instrs.len() - 1));
            }
            if p.instrs.is_empty() {
                regs[0]
            } else {
                *regs.last().unwrap()
            }
        } else if let Some(c) = self.scalar(node) {
            self.n_immediates += 1;
            self.instrs.push((Instr::Const(c), [Sym::Tmp(0); 2]));
            Sym::Tmp(self.instrs.len() - 1)
        } else {
            self.leaves.push(v);
            Sym::Leaf(self.leaves.len() - 1)
        };
        self.memo.insert(v, s);
        s
    }

    fn scalar(&self, node: &Node) -> Option<f32> {
        match &node.op {
            Op::Constant(t) if self.immediates && t.numel() == 1 && t.dtype() == DType::F32 => {
                Some(t.as_f32().ok()?[0])
            }
            _ => None,
        }
    }
}
