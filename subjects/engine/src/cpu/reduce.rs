//! Sum, mean and max over a set of axes.
//!
//! Fast paths: the reduced axes are the last ones (rows, e.g. softmax and LayerNorm
//! statistics) or one run of axes with contiguous data after it (column accumulation).
//! Anything else walks the input once with a strided accumulator.

use rayon::prelude::*;

use super::isa::dispatch;
use super::{Arg, Ctx};
use crate::ops::ReduceOp;
use crate::{Result, strides};

/// Rows below which a reduction stays on one thread.
const PAR_MIN_ELEMENTS: usize = 1 << 16;

pub fn reduce(ctx: Ctx, op: ReduceOp, axes: &[usize], arg: &Arg, out: &mut [f32]) -> Result<()> {
    let data = arg.f32(op.name())?;
    let dims = arg.dims;
    let count: usize = axes.iter().map(|&a| dims[a]).product();
    let contiguous = arg.is_contiguous();
    let run = axes.windows(2).all(|w| w[1] == w[0] + 1);
    if contiguous && run && !axes.is_empty() {
        let inner: usize = dims[axes[axes.len() - 1] + 1..].iter().product();
        if inner == 1 {
            rows(ctx, op, &data[..out.len() * count], count, out);
        } else {
            columns(op, data, count, inner, out);
        }
    } else {
        strided(op, data, dims, arg.strides, axes, out);
    }
    if op == ReduceOp::Mean {
        let scale = 1.0 / count as f32;
        out.iter_mut().for_each(|v| *v *= scale);
    }
    Ok(())
}

fn init(op: ReduceOp) -> f32 {
    match op {
        ReduceOp::Sum | ReduceOp::Mean => 0.0,
        ReduceOp::Max => f32::NEG_INFINITY,
    }
}

/// `out[r] = op(data[r * len .. (r + 1) * len])`.
fn rows(ctx: Ctx, op: ReduceOp, data: &[f32], len: usize, out: &mut [f32]) {
    if len == 0 {
        out.fill(init(op));
        return;
    }
    let serial =
        |data: &[f32], out: &mut [f32]| dispatch!(ctx.isa, rows_serial(op, data, len, out));
    if ctx.threads > 1 && data.len() >= PAR_MIN_ELEMENTS && out.len() > 1 {
        let per_task = out.len().div_ceil(4 * ctx.threads).max(1);
        out.par_chunks_mut(per_task)
            .zip(data.par_chunks(per_task * len))
            .for_each(|(o, d)| serial(d, o));
    } else {
        serial(data, out);
    }
}

#[inline(always)]
fn rows_serial<const FMA: bool>(op: ReduceOp, data: &[f32], len: usize, out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(data.chunks_exact(len)) {
        *o = match op {
            ReduceOp::Sum | ReduceOp::Mean => lanes(row, 0.0, |a, b| a + b),
            ReduceOp::Max => lanes(row, f32::NEG_INFINITY, f32::max),
        };
    }
}

/// Folds a row with 64 independent accumulators (4 AVX-512 registers: enough to hide the
/// add latency and let LLVM vectorise), then a pairwise tree.
#[inline(always)]
pub(super) fn lanes(row: &[f32], init: f32, f: impl Fn(f32, f32) -> f32 + Copy) -> f32 {
    lanes_map(row, init, |x| x, f)
}

/// [`lanes`] of `map(x)` over the row (a sum of squares without a temporary).
#[inline(always)]
pub(super) fn lanes_map(
    row: &[f32],
    init: f32,
    map: impl Fn(f32) -> f32 + Copy,
    f: impl Fn(f32, f32) -> f32 + Copy,
) -> f32 {
    const L: usize = 64;
    let mut acc = [init; L];
    let chunks = row.chunks_exact(L);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..L {
            acc[i] = f(acc[i], map(c[i]));
        }
    }
    for (a, &x) in acc.iter_mut().zip(tail) {
        *a = f(*a, map(x));
    }
    let mut w = L;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            acc[i] = f(acc[i], acc[i + w]);
        }
    }
    acc[0]
}

/// Reduces the middle axis of `[outer, count, inner]`: whole contiguous rows at a time.
/// Sums accumulate in f64: one accumulator per output sees every term in order, and f32
/// would lose ~count * 2^-24 of relative accuracy.
fn columns(op: ReduceOp, data: &[f32], count: usize, inner: usize, out: &mut [f32]) {
    let mut acc = vec![init(op) as f64; out.len()];
    for (o, block) in acc
        .chunks_exact_mut(inner)
        .zip(data.chunks_exact(count * inner))
    {
        for row in block.chunks_exact(inner) {
            match op {
                ReduceOp::Sum | ReduceOp::Mean => {
                    o.iter_mut().zip(row).for_each(|(a, &x)| *a += x as f64)
                }
                ReduceOp::Max => o
                    .iter_mut()
                    .zip(row)
                    .for_each(|(a, &x)| *a = a.max(x as f64)),
            }
        }
    }
    out.iter_mut().zip(&acc).for_each(|(o, &a)| *o = a as f32);
}

/// The general case: one row-major walk over the input, accumulating into the output.
fn strided(
    op: ReduceOp,
    data: &[f32],
    dims: &[usize],
    in_strides: &[usize],
    axes: &[usize],
    out: &mut [f32],
) {
    // f64 accumulators, as in `columns`.
    let mut acc = vec![init(op) as f64; out.len()];
    let kept: Vec<usize> = (0..dims.len())
        .map(|i| if axes.contains(&i) { 1 } else { dims[i] })
        .collect();
    let kept_strides = strides(&kept);
    let out_strides: Vec<usize> = (0..dims.len())
        .map(|i| {
            if axes.contains(&i) {
                0
            } else {
                kept_strides[i]
            }
        })
        .collect();
    let total: usize = dims.iter().product();
    let mut idx = vec![0usize; dims.len()];
    let (mut src, mut dst) = (0usize, 0usize);
    for _ in 0..total {
        let x = data[src] as f64;
        match op {
            ReduceOp::Sum | ReduceOp::Mean => acc[dst] += x,
            ReduceOp::Max => acc[dst] = acc[dst].max(x),
        }
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            src += in_strides[d];
            dst += out_strides[d];
            if idx[d] < dims[d] {
                break;
            }
            src -= in_strides[d] * dims[d];
            dst -= out_strides[d] * dims[d];
            idx[d] = 0;
        }
    }
    out.iter_mut().zip(&acc).for_each(|(o, &a)| *o = a as f32);
}
