//! Fused element-wise programs, evaluated block by block.
//!
//! The output is walked in blocks of [`BLOCK`] elements; each instruction runs over a whole
//! block before the next one starts, so every instruction is a simple loop over 256 lanes
//! that LLVM vectorises, and the registers (one block each) stay in L1. The loop is compiled
//! once per ISA (see [`super::isa::dispatch`]). Large outputs are split across the pool.

use std::cell::RefCell;

use rayon::prelude::*;

use super::isa::dispatch;
use super::{Arg, Ctx, math};
use crate::ops::{BinaryOp, ElementwiseProgram, Instr, Reg, UnaryOp};

/// Elements per register block.
pub const BLOCK: usize = 256;
type Block = [f32; BLOCK];

/// Work (elements × per-element cost) below which a program stays on one thread.
const PAR_MIN_WORK: usize = 1 << 16;

/// A program ready to run: an [`ElementwiseProgram`] with its result register explicit.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub n_inputs: usize,
    pub instrs: Vec<Instr>,
    pub out: Reg,
}

impl Program {
    pub fn new(p: &ElementwiseProgram) -> Program {
        Program {
            n_inputs: p.n_inputs,
            instrs: p.instrs.clone(),
            out: if p.instrs.is_empty() { 0 } else { p.output() },
        }
    }

    pub fn unary(op: UnaryOp) -> Program {
        Program::new(&ElementwiseProgram {
            n_inputs: 1,
            instrs: vec![Instr::Unary(op, 0)],
        })
    }

    pub fn binary(op: BinaryOp) -> Program {
        Program::new(&ElementwiseProgram {
            n_inputs: 2,
            instrs: vec![Instr::Binary(op, 0, 1)],
        })
    }

    /// Rough cost per element, in simple-op units (a transcendental is ~10).
    fn cost(&self) -> usize {
        1 + self
            .instrs
            .iter()
            .map(|i| match i {
                Instr::Const(_) => 0,
                Instr::Unary(op, _) => op.cost(),
                Instr::Binary(..) => 1,
            })
            .sum::<usize>()
    }
}

/// How output element `i` finds its value in an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// `data[i]`: same element count as the output, row-major.
    Contiguous,
    /// `data[0]` for every element.
    Scalar,
    /// `data[(i / div) % modulo]`: the input's dims are a contiguous run of the output's
    /// (a bias `[n]` over `[m, n]` is `div 1, modulo n`; a `[m, 1]` column is `div n, modulo m`).
    Repeat { div: usize, modulo: usize },
    /// General case: the output's dims walked with the input's strides (0 where broadcast).
    Strided {
        dims: Vec<usize>,
        strides: Vec<usize>,
    },
    /// The output buffer itself, read before it is overwritten (in-place epilogues).
    Output,
}

impl Access {
    /// How an input of `dims`/`strides` is read when broadcast to `out` (numpy rules).
    pub fn of(dims: &[usize], in_strides: &[usize], contiguous: bool, out: &[usize]) -> Access {
        let n_in: usize = dims.iter().product();
        let n_out: usize = out.iter().product();
        if n_in == 1 {
            return Access::Scalar;
        }
        if contiguous && n_in == n_out {
            return Access::Contiguous;
        }
        let lead = out.len() - dims.len();
        let (mut aligned, mut strides) = (vec![1; out.len()], vec![0; out.len()]);
        for (j, (&d, &s)) in dims.iter().zip(in_strides).enumerate() {
            aligned[lead + j] = d;
            strides[lead + j] = if d == 1 { 0 } else { s };
        }
        if contiguous {
            let first = aligned.iter().position(|&d| d != 1);
            let last = aligned.iter().rposition(|&d| d != 1);
            if let (Some(a), Some(b)) = (first, last)
                && (a..=b).all(|i| aligned[i] == out[i])
            {
                return Access::Repeat {
                    div: out[b + 1..].iter().product(),
                    modulo: out[a..=b].iter().product(),
                };
            }
        }
        Access::Strided {
            dims: out.to_vec(),
            strides,
        }
    }
}

/// One program input: the elements and how they are read.
pub struct Operand<'a> {
    pub data: &'a [f32],
    pub access: Access,
}

impl<'a> Operand<'a> {
    pub fn new(data: &'a [f32], arg: &Arg, out_dims: &[usize]) -> Operand<'a> {
        Operand {
            data,
            access: Access::of(arg.dims, arg.strides, arg.is_contiguous(), out_dims),
        }
    }

    /// Fills `dst` with the values of output elements `start..start + dst.len()`.
    #[inline(always)]
    fn load(&self, start: usize, dst: &mut [f32]) {
        let data = self.data;
        match &self.access {
            Access::Contiguous => dst.copy_from_slice(&data[start..start + dst.len()]),
            Access::Scalar => dst.fill(data[0]),
            &Access::Repeat { div: 1, modulo } => {
                let (mut i, mut done) = (start % modulo, 0);
                while done < dst.len() {
                    let run = (modulo - i).min(dst.len() - done);
                    dst[done..done + run].copy_from_slice(&data[i..i + run]);
                    (i, done) = (0, done + run);
                }
            }
            &Access::Repeat { div, modulo } => {
                let (mut q, mut r, mut done) = (start / div, start % div, 0);
                while done < dst.len() {
                    let run = (div - r).min(dst.len() - done);
                    dst[done..done + run].fill(data[q % modulo]);
                    (q, r, done) = (q + 1, 0, done + run);
                }
            }
            Access::Strided { dims, strides } => {
                let last = dims.len() - 1;
                let (mut i, mut done) = (start, 0);
                while done < dst.len() {
                    // One run along the last axis per step; unravel the run's start.
                    let (mut rem, mut base) = (i, 0);
                    for (d, s) in dims.iter().zip(strides).rev() {
                        base += (rem % d) * s;
                        rem /= d;
                    }
                    let run = (dims[last] - i % dims[last]).min(dst.len() - done);
                    for (t, v) in dst[done..done + run].iter_mut().enumerate() {
                        *v = data[base + t * strides[last]];
                    }
                    (i, done) = (i + run, done + run);
                }
            }
            Access::Output => unreachable!("the output is read by the block loop"),
        }
    }
}

thread_local! {
    /// Register blocks, reused across calls so steady-state runs do not allocate.
    static SCRATCH: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `out[i] = prog(operands at i)` for every element, on `ctx.threads` threads if worth it.
pub fn eval(ctx: Ctx, prog: &Program, operands: &[Operand], out: &mut [f32]) {
    let n = out.len();
    if ctx.threads > 1 && n >= 4 * BLOCK && n * prog.cost() >= PAR_MIN_WORK {
        let per_task = n.div_ceil(4 * ctx.threads).next_multiple_of(BLOCK);
        out.par_chunks_mut(per_task)
            .enumerate()
            .for_each(|(i, chunk)| eval_serial(ctx.isa, prog, operands, chunk, i * per_task));
    } else {
        eval_serial(ctx.isa, prog, operands, out, 0);
    }
}

/// Evaluates output elements `start..start + out.len()` on this thread with `isa`.
pub fn eval_serial(
    isa: super::Isa,
    prog: &Program,
    operands: &[Operand],
    out: &mut [f32],
    start: usize,
) {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let need = prog.n_inputs + prog.instrs.len();
        if s.len() < need {
            s.resize(need, [0.0; BLOCK]);
        }
        let regs = &mut s[..need];
        dispatch!(isa, eval_blocks(prog, operands, out, start, regs))
    })
}

#[inline(always)]
fn eval_blocks<const FMA: bool>(
    prog: &Program,
    operands: &[Operand],
    out: &mut [f32],
    start: usize,
    regs: &mut [Block],
) {
    let n_in = prog.n_inputs;
    // Scalars and constants are the same in every block: fill their registers once.
    for (r, op) in operands.iter().enumerate() {
        if op.access == Access::Scalar {
            regs[r].fill(op.data[0]);
        }
    }
    for (t, instr) in prog.instrs.iter().enumerate() {
        if let Instr::Const(c) = *instr {
            regs[n_in + t].fill(c);
        }
    }
    let last = (n_in + prog.instrs.len()).saturating_sub(1);
    let direct_last = prog.out == last && prog.out >= n_in;
    let mut off = 0;
    while off < out.len() {
        let n = BLOCK.min(out.len() - off);
        let g = start + off;
        let chunk = &mut out[off..off + n];
        for (r, op) in operands.iter().enumerate() {
            match op.access {
                Access::Contiguous | Access::Scalar => {}
                Access::Output => regs[r][..n].copy_from_slice(chunk),
                _ => op.load(g, &mut regs[r][..n]),
            }
        }
        for (t, instr) in prog.instrs.iter().enumerate() {
            let (lo, hi) = regs.split_at_mut(n_in + t);
            // The result register goes straight to the output.
            let dst = if direct_last && n_in + t == last {
                &mut *chunk
            } else {
                &mut hi[0][..n]
            };
            match *instr {
                // Already filled, unless it goes straight to the output.
                Instr::Const(c) if direct_last && n_in + t == last => dst.fill(c),
                Instr::Const(_) => {}
                Instr::Unary(op, a) => unary::<FMA>(op, reg(a, lo, operands, g, n), dst),
                Instr::Binary(op, a, b) => binary(
                    op,
                    reg(a, lo, operands, g, n),
                    reg(b, lo, operands, g, n),
                    dst,
                ),
            }
        }
        if !direct_last {
            chunk.copy_from_slice(reg(prog.out, regs, operands, g, n));
        }
        off += n;
    }
}

/// Register `r` for the block at `g`: contiguous inputs are read in place, not copied.
#[inline(always)]
fn reg<'a>(r: Reg, regs: &'a [Block], operands: &'a [Operand], g: usize, n: usize) -> &'a [f32] {
    match operands.get(r) {
        Some(op) if op.access == Access::Contiguous => &op.data[g..g + n],
        _ => &regs[r][..n],
    }
}

#[inline(always)]
fn map(a: &[f32], o: &mut [f32], f: impl Fn(f32) -> f32) {
    for (o, &x) in o.iter_mut().zip(a) {
        *o = f(x);
    }
}

#[inline(always)]
fn zip(a: &[f32], b: &[f32], o: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    for ((o, &x), &y) in o.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

// The kernels of the op table's rows, each inlined into its own loop.
macro_rules! unary_kernels {
    ($( $(#[$doc:meta])* $v:ident($fn:ident) { flops: $fl:expr, cost: $c:expr,
        domain: $d:tt, f64: $f64:expr, f32: $f32:ident, $($rest:tt)* } )*) => {
        #[inline(always)]
        fn unary<const FMA: bool>(op: UnaryOp, a: &[f32], o: &mut [f32]) {
            match op {
                $( UnaryOp::$v => map(a, o, math::$f32::<FMA>), )*
            }
        }
    };
}
crate::unary_ops!(unary_kernels);

macro_rules! binary_kernels {
    ($( $v:ident($fn:ident) { f64: $f64:expr, f32: $f32:expr, $($rest:tt)* } )*) => {
        #[inline(always)]
        fn binary(op: BinaryOp, a: &[f32], b: &[f32], o: &mut [f32]) {
            match op {
                $( BinaryOp::$v => zip(a, b, o, $f32), )*
            }
        }
    };
}
crate::binary_ops!(binary_kernels);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Isa;
    use crate::strides;

    fn operand<'a>(data: &'a [f32], dims: &[usize], out: &[usize]) -> Operand<'a> {
        Operand {
            data,
            access: Access::of(dims, &strides(dims), true, out),
        }
    }

    #[test]
    fn access_picks_the_fast_cases() {
        let s = |d: &[usize]| strides(d);
        assert_eq!(
            Access::of(&[3, 4], &s(&[3, 4]), true, &[3, 4]),
            Access::Contiguous
        );
        assert_eq!(Access::of(&[], &[], true, &[3, 4]), Access::Scalar);
        assert_eq!(
            Access::of(&[4], &s(&[4]), true, &[2, 3, 4]),
            Access::Repeat { div: 1, modulo: 4 }
        );
        assert_eq!(
            Access::of(&[3, 1], &s(&[3, 1]), true, &[3, 4]),
            Access::Repeat { div: 4, modulo: 3 }
        );
        assert!(matches!(
            Access::of(&[2, 1, 4], &s(&[2, 1, 4]), true, &[2, 3, 4]),
            Access::Strided { .. }
        ));
    }

    /// Every access mode gives what the general strided walk gives.
    #[test]
    fn loads_agree_with_the_strided_walk() {
        let out = [3, 5, 7];
        for dims in [
            vec![7],
            vec![5, 7],
            vec![3, 1, 1],
            vec![5, 1],
            vec![3, 1, 7],
            vec![1],
        ] {
            let n: usize = dims.iter().product();
            let data: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let fast = operand(&data, &dims, &out);
            let mut aligned = vec![1; 3 - dims.len()];
            aligned.extend(&dims);
            let st = strides(&aligned);
            let slow = Operand {
                data: &data,
                access: Access::Strided {
                    dims: out.to_vec(),
                    strides: (0..3)
                        .map(|i| if aligned[i] == 1 { 0 } else { st[i] })
                        .collect(),
                },
            };
            for start in [0, 1, 6, 33, 100] {
                let len = 105 - start;
                let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
                fast.load(start, &mut a);
                slow.load(start, &mut b);
                assert_eq!(a, b, "dims {dims:?} from {start}");
            }
        }
    }

    /// Each ISA's build of the block loop matches the scalar build on every op.
    #[test]
    fn every_isa_matches_scalar() {
        let n = 3 * BLOCK + 17;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 6.0).collect();
        let y: Vec<f32> = (0..n)
            .map(|i| 0.5 + (i as f32 * 0.11).cos().abs() * 3.0)
            .collect();
        let mut progs: Vec<Program> = UnaryOp::ALL.iter().map(|&op| Program::unary(op)).collect();
        progs.extend(BinaryOp::ALL.iter().map(|&op| Program::binary(op)));
        // A chain with a constant and register reuse.
        progs.push(Program::new(&ElementwiseProgram {
            n_inputs: 2,
            instrs: vec![
                Instr::Const(2.0),
                Instr::Binary(BinaryOp::Mul, 0, 2),
                Instr::Binary(BinaryOp::Add, 3, 1),
                Instr::Unary(UnaryOp::Tanh, 4),
                Instr::Binary(BinaryOp::Mul, 5, 3),
            ],
        }));
        for prog in &progs {
            // Ops defined on positive numbers only get `y`.
            let positive = match prog.instrs[0] {
                Instr::Unary(op, _) => op.domain().0 > 0.0,
                _ => false,
            };
            let first = if positive { &y } else { &x };
            let ops = [operand(first, &[n], &[n]), operand(&y, &[n], &[n])];
            let ops = &ops[..prog.n_inputs];
            let mut want = vec![0.0; n];
            eval_serial(Isa::Scalar, prog, ops, &mut want, 0);
            for isa in Isa::available() {
                let mut got = vec![0.0; n];
                eval_serial(isa, prog, ops, &mut got, 0);
                for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    // FMA and non-FMA roundings differ by a few ulp in the transcendentals;
                    // both GELUs far out in the negative tail (see `math`) by up to 1e-5.
                    let gelu = matches!(
                        prog.instrs[0],
                        Instr::Unary(UnaryOp::Gelu | UnaryOp::GeluTanh, _)
                    );
                    let tol = if gelu { 1e-5 } else { 16.0 * f32::EPSILON } * w.abs();
                    assert!((g - w).abs() <= tol, "{isa:?} {prog:?} at {i}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn in_place_output_access() {
        let prog = Program::new(&ElementwiseProgram {
            n_inputs: 2,
            instrs: vec![
                Instr::Binary(BinaryOp::Add, 0, 1),
                Instr::Unary(UnaryOp::Relu, 2),
            ],
        });
        let bias = [1.0, -10.0, 0.5];
        let ops = [
            Operand {
                data: &[],
                access: Access::Output,
            },
            operand(&bias, &[3], &[2, 3]),
        ];
        let mut out = vec![1.0, 2.0, 3.0, -4.0, 5.0, -6.0];
        eval_serial(Isa::detect(), &prog, &ops, &mut out, 0);
        assert_eq!(out, [2.0, 0.0, 3.5, 0.0, 0.0, 0.0]);
    }
}
