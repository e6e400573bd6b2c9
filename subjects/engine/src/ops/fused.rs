//! Ops that only the compiler produces: each one is defined here with its shape rule, its
//! FLOP count and its decomposition into public ops.
//!
//! Nobody outside the engine has to know them: [`decompose`] turns a graph holding fused ops
//! back into one of public ops, which is what the reference interpreter, the ONNX exporter
//! and every lowering onto another runtime start from.

use std::sync::Arc;

use super::infer::{broadcast, matmul, require_f32};
use super::{BinaryOp, Op, UnaryOp, infer_model};
use crate::{DType, Error, Graph, Result, Shape, Value};

/// A register of an [`ElementwiseProgram`]: registers `0..n_inputs` hold the inputs, each
/// instruction defines the next one.
pub type Reg = usize;

/// One step of a fused element-wise program.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    Const(f32),
    Unary(UnaryOp, Reg),
    Binary(BinaryOp, Reg, Reg),
}

/// A chain of element-wise ops evaluated in one pass over the output, produced by fusion.
/// Every input is broadcast to the output shape; the value of the last register is the
/// result (or the first input, when there are no instructions).
#[derive(Clone, Debug, PartialEq)]
pub struct ElementwiseProgram {
    pub n_inputs: usize,
    pub instrs: Vec<Instr>,
}

impl ElementwiseProgram {
    pub fn output(&self) -> Reg {
        self.n_inputs + self.instrs.len() - 1
    }

    pub fn flops_per_element(&self) -> u64 {
        self.instrs
            .iter()
            .map(|i| match i {
                Instr::Const(_) => 0,
                Instr::Unary(op, _) => op.flops_per_element(),
                Instr::Binary(..) => 1,
            })
            .sum()
    }

    /// The program's instructions as nodes of `g` over `regs` (its inputs), broadcast to
    /// `out` (a program's result has the shape of all its inputs broadcast together).
    fn emit(&self, g: &mut Graph, mut regs: Vec<Value>, out: &Shape) -> Result<Value> {
        regs.truncate(self.n_inputs);
        for instr in &self.instrs {
            let v = match *instr {
                Instr::Const(c) => g.scalar(c),
                Instr::Unary(op, a) => g.unary(op, regs[a])?,
                Instr::Binary(op, a, b) => g.binary(op, regs[a], regs[b])?,
            };
            regs.push(v);
        }
        let last = *regs.last().ok_or_else(|| Error::BadArgument {
            op: "fused_elementwise".into(),
            why: "an empty program has no result".into(),
        })?;
        if g.shape(last) == out {
            Ok(last)
        } else {
            g.broadcast_to(last, out.0.clone())
        }
    }
}

/// What a compiler-produced node computes.
#[derive(Clone, Debug)]
pub enum FusedOp {
    /// An element-wise chain in one pass.
    Elementwise(Arc<ElementwiseProgram>),
    /// `epilogue(a @ b, extra inputs...)`: a matmul whose output is finished in the same pass
    /// (bias, activation, residual). Register 0 of the program is the matmul result, the
    /// node's inputs after `a` and `b` are its other inputs.
    MatMulEpilogue(Arc<ElementwiseProgram>),
    /// `layer_norm(a + b)`: a residual add finished inside the normalisation; inputs
    /// `a, b, gamma, beta`.
    AddLayerNorm { eps: f32 },
}

impl FusedOp {
    pub fn name(&self) -> &'static str {
        match self {
            FusedOp::Elementwise(_) => "fused_elementwise",
            FusedOp::MatMulEpilogue(_) => "fused_matmul",
            FusedOp::AddLayerNorm { .. } => "fused_add_layer_norm",
        }
    }

    pub fn arity(&self) -> usize {
        match self {
            FusedOp::Elementwise(p) => p.n_inputs,
            FusedOp::MatMulEpilogue(p) => p.n_inputs + 1,
            FusedOp::AddLayerNorm { .. } => 4,
        }
    }

    pub fn infer(&self, inputs: &[(&Shape, DType)]) -> Result<(Shape, DType)> {
        let name = self.name();
        match self {
            FusedOp::Elementwise(p) => Ok((elementwise_shape(name, p, inputs)?, DType::F32)),
            FusedOp::MatMulEpilogue(p) => {
                let (mm, _) = matmul(name, inputs[0], inputs[1])?;
                let mut rest: Vec<(&Shape, DType)> = vec![(&mm, DType::F32)];
                rest.extend_from_slice(&inputs[2..]);
                let out = elementwise_shape(name, p, &rest)?;
                if out != mm {
                    return Err(Error::ShapeMismatch {
                        op: name.into(),
                        lhs: mm,
                        rhs: out,
                        why: "an epilogue may not change the matmul's output shape".into(),
                    });
                }
                Ok((out, DType::F32))
            }
            FusedOp::AddLayerNorm { .. } => {
                let (a, da) = inputs[0];
                let (b, db) = inputs[1];
                require_f32(name, db)?;
                if a != b {
                    return Err(Error::ShapeMismatch {
                        op: name.into(),
                        lhs: a.clone(),
                        rhs: b.clone(),
                        why: "the residual add must not broadcast".into(),
                    });
                }
                infer_model::layer_norm(name, (a, da), &inputs[2..])
            }
        }
    }

    /// FLOPs for concrete input and output shapes.
    pub fn flops(&self, inputs: &[Vec<usize>], output: &[usize]) -> u64 {
        let out: u64 = output.iter().product::<usize>() as u64;
        match self {
            FusedOp::Elementwise(p) => out * p.flops_per_element(),
            FusedOp::MatMulEpilogue(p) => {
                super::matmul_flops(&inputs[0], output) + out * p.flops_per_element()
            }
            // The add, then LayerNorm's eight.
            FusedOp::AddLayerNorm { .. } => 9 * out,
        }
    }

    /// The public ops this op fuses, appended to `g` over `inputs`; returns the result.
    pub fn decompose(&self, g: &mut Graph, inputs: &[Value], out: &Shape) -> Result<Value> {
        match self {
            FusedOp::Elementwise(p) => p.emit(g, inputs.to_vec(), out),
            FusedOp::MatMulEpilogue(p) => {
                let mut regs = vec![g.matmul(inputs[0], inputs[1])?];
                regs.extend_from_slice(&inputs[2..]);
                p.emit(g, regs, out)
            }
            &FusedOp::AddLayerNorm { eps } => {
                let sum = g.add(inputs[0], inputs[1])?;
                g.layer_norm(sum, inputs[2], inputs[3], eps)
            }
        }
    }
}

/// `graph` with every fused node replaced by the public ops it fuses (the graph itself,
/// cloned, when it has none). Inputs, outputs and every other node keep their order.
pub fn decompose(graph: &Graph) -> Result<Graph> {
    if !graph.nodes().iter().any(|n| matches!(n.op, Op::Fused(_))) {
        return Ok(graph.clone());
    }
    let mut new = Graph::new(graph.name());
    let mut map: Vec<Value> = Vec::with_capacity(graph.nodes().len());
    for node in graph.nodes() {
        let inputs: Vec<Value> = node.inputs.iter().map(|v| map[v.0]).collect();
        map.push(match &node.op {
            Op::Input { .. } | Op::Constant(_) => new.push_source(node.clone()),
            Op::Fused(f) => f.decompose(&mut new, &inputs, &node.shape)?,
            op => new.push(op.clone(), &inputs)?,
        });
    }
    for v in graph.outputs() {
        new.output(map[v.0]);
    }
    Ok(new)
}

fn elementwise_shape(
    op: &str,
    p: &ElementwiseProgram,
    inputs: &[(&Shape, DType)],
) -> Result<Shape> {
    let mut out = Shape::scalar();
    for &(shape, dtype) in &inputs[..p.n_inputs] {
        require_f32(op, dtype)?;
        out = broadcast(op, &out, shape)?;
    }
    Ok(out)
}
