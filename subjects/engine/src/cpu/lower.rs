//! Lowering of graph ops to CPU kernels, done once at compile time.

use std::sync::Arc;

use super::Panels;
use super::elementwise::Program;
use crate::ops::{BinaryOp, ElementwiseProgram, FusedOp, Instr, Op, ReduceOp};
use crate::{Error, Result};

/// What the CPU runs for one node.
#[derive(Clone, Debug)]
pub enum Kernel {
    /// Inputs and constants: nothing to run.
    Source,
    Elementwise(Program),
    /// Matmul, optionally finished by an epilogue in place; with `Panels`, its right operand
    /// is a constant stored in panels for the small-M kernel (set by the `pack_weights` step
    /// of compilation, never by `lower`).
    MatMul(Option<Epilogue>, Option<Arc<Panels>>),
    /// Transpose, broadcast and reshape (the op): a strided copy into a contiguous output.
    Copy(Op),
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
    },
    Cast,
    Gather,
    Arange,
    Slice {
        axis: usize,
        start: usize,
    },
    Concat {
        axis: usize,
    },
    /// LayerNorm; with four inputs the first two are summed first (the fused residual).
    LayerNorm {
        eps: f32,
    },
    Softmax {
        axis: usize,
    },
    /// im2col + GEMM; a third input is the bias.
    Conv2d {
        stride: [usize; 2],
        padding: [usize; 2],
    },
    MaxPool2d {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    /// Fused scale, mask, softmax and both products; a fourth input is the mask.
    Attention {
        scale: f32,
    },
}

/// The element-wise tail of a fused matmul, split for the GEMM.
#[derive(Clone, Debug, PartialEq)]
pub struct Epilogue {
    /// Program input (≥ 1) whose broadcast values pre-fill the output so the GEMM
    /// accumulates onto them (`dst = dst + a @ b`): the bias or residual of an `Add`.
    pub prefill: Option<usize>,
    /// The rest, run in place: register 0 is the output buffer, other inputs as in the op.
    /// `None` when nothing is left to do.
    pub rest: Option<Program>,
}

impl Kernel {
    pub fn lower(op: &Op) -> Result<Kernel> {
        Ok(match op {
            Op::Input { .. } | Op::Constant(_) => Kernel::Source,
            Op::Unary(u) => Kernel::Elementwise(Program::unary(*u)),
            Op::Binary(b) => Kernel::Elementwise(Program::binary(*b)),
            Op::Fused(FusedOp::Elementwise(p)) => {
                if p.n_inputs == 0 && p.instrs.is_empty() {
                    return Err(Error::BadArgument {
                        op: op.name().into(),
                        why: "an empty program has no result".into(),
                    });
                }
                Kernel::Elementwise(Program::new(p))
            }
            Op::MatMul => Kernel::MatMul(None, None),
            Op::Fused(FusedOp::MatMulEpilogue(p)) => Kernel::MatMul(Some(Epilogue::split(p)), None),
            Op::Transpose { .. } | Op::Reshape { .. } | Op::BroadcastTo { .. } => {
                Kernel::Copy(op.clone())
            }
            Op::Reduce { op, axes, .. } => Kernel::Reduce {
                op: *op,
                axes: axes.clone(),
            },
            Op::Cast { .. } => Kernel::Cast,
            Op::Gather => Kernel::Gather,
            Op::Arange { .. } => Kernel::Arange,
            &Op::Slice { axis, start, .. } => Kernel::Slice { axis, start },
            &Op::Concat { axis } => Kernel::Concat { axis },
            &Op::LayerNorm { eps } | &Op::Fused(FusedOp::AddLayerNorm { eps }) => {
                Kernel::LayerNorm { eps }
            }
            &Op::Softmax { axis } => Kernel::Softmax { axis },
            &Op::Conv2d {
                stride, padding, ..
            } => Kernel::Conv2d { stride, padding },
            &Op::MaxPool2d { kernel, stride } => Kernel::MaxPool2d { kernel, stride },
            &Op::Attention { scale, .. } => Kernel::Attention { scale },
        })
    }
}

impl Epilogue {
    /// Finds `r0 + input` (r0 = the matmul result, used nowhere else) to pre-fill; the
    /// other instructions become the in-place rest, with that sum renamed to register 0.
    pub fn split(p: &ElementwiseProgram) -> Epilogue {
        let full = Program::new(p);
        let uses_of_0 = p.instrs.iter().filter(|i| reads(i).contains(&0)).count();
        let add = p.instrs.iter().position(|i| match *i {
            Instr::Binary(BinaryOp::Add, a, b) => {
                (a == 0 && b != 0 && b < p.n_inputs) || (b == 0 && a != 0 && a < p.n_inputs)
            }
            _ => false,
        });
        let (Some(t), 1) = (add, uses_of_0) else {
            return Epilogue::rest_only(full);
        };
        let Instr::Binary(_, a, b) = p.instrs[t] else {
            unreachable!()
        };
        let removed = p.n_inputs + t;
        let map = |r: usize| match r {
            r if r == removed => 0,
            r if r > removed => r - 1,
            r => r,
        };
        let instrs: Vec<Instr> = p
            .instrs
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != t)
            .map(|(_, i)| match *i {
                Instr::Const(c) => Instr::Const(c),
                Instr::Unary(op, x) => Instr::Unary(op, map(x)),
                Instr::Binary(op, x, y) => Instr::Binary(op, map(x), map(y)),
            })
            .collect();
        let rest = Program {
            n_inputs: p.n_inputs,
            out: map(full.out),
            instrs,
        };
        Epilogue {
            prefill: Some(a.max(b)),
            rest: (!rest.instrs.is_empty() || rest.out != 0).then_some(rest),
        }
    }

    fn rest_only(full: Program) -> Epilogue {
        let identity = full.instrs.is_empty() && full.out == 0;
        Epilogue {
            prefill: None,
            rest: (!identity).then_some(full),
        }
    }
}

fn reads(i: &Instr) -> Vec<usize> {
    match *i {
        Instr::Const(_) => vec![],
        Instr::Unary(_, a) => vec![a],
        Instr::Binary(_, a, b) => vec![a, b],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::UnaryOp;

    #[test]
    fn bias_add_is_prefilled_and_the_rest_renamed() {
        // r0 = mm, r1 = bias, r2 = residual: relu(mm + bias) + residual
        let p = ElementwiseProgram {
            n_inputs: 3,
            instrs: vec![
                Instr::Binary(BinaryOp::Add, 0, 1),
                Instr::Unary(UnaryOp::Relu, 3),
                Instr::Binary(BinaryOp::Add, 4, 2),
            ],
        };
        let e = Epilogue::split(&p);
        assert_eq!(e.prefill, Some(1));
        let rest = e.rest.unwrap();
        assert_eq!(
            rest.instrs,
            vec![
                Instr::Unary(UnaryOp::Relu, 0),
                Instr::Binary(BinaryOp::Add, 3, 2)
            ]
        );
        assert_eq!(rest.out, 4);
    }

    #[test]
    fn a_lone_bias_add_leaves_no_rest() {
        let p = ElementwiseProgram {
            n_inputs: 2,
            instrs: vec![Instr::Binary(BinaryOp::Add, 1, 0)],
        };
        assert_eq!(
            Epilogue::split(&p),
            Epilogue {
                prefill: Some(1),
                rest: None
            }
        );
    }

    #[test]
    fn a_matmul_result_used_twice_is_not_prefilled() {
        let p = ElementwiseProgram {
            n_inputs: 2,
            instrs: vec![
                Instr::Binary(BinaryOp::Add, 0, 1),
                Instr::Binary(BinaryOp::Mul, 2, 0),
            ],
        };
        let e = Epilogue::split(&p);
        assert_eq!(e.prefill, None);
        assert_eq!(e.rest.unwrap().instrs.len(), 2);
    }
}
