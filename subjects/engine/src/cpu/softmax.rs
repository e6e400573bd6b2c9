//! Softmax along any axis, max-subtracted, with the vectorised `exp` of `math`.
//!
//! The last axis (attention scores, classifier logits) runs row by row in place; another
//! axis runs over `[len, inner]` blocks with `inner` running maxima and sums, so the loads
//! stay contiguous.

use rayon::prelude::*;

use super::isa::dispatch;
use super::reduce::{lanes, lanes_map};
use super::{Arg, Ctx, math};
use crate::Result;

/// Elements below which a softmax stays on one thread.
const PAR_MIN_ELEMENTS: usize = 1 << 15;

pub fn softmax(ctx: Ctx, axis: usize, arg: &Arg, out: &mut [f32]) -> Result<()> {
    let x = arg.dense_f32("softmax")?;
    let len = arg.dims[axis];
    let inner: usize = arg.dims[axis + 1..].iter().product();
    let block = len * inner;
    if out.is_empty() {
        return Ok(());
    }
    out.copy_from_slice(x);
    let serial = |o: &mut [f32]| {
        if inner == 1 {
            dispatch!(ctx.isa, rows_in_place(o, len))
        } else {
            dispatch!(ctx.isa, columns_in_place(o, len, inner))
        }
    };
    let n_blocks = out.len() / block;
    if ctx.threads > 1 && out.len() >= PAR_MIN_ELEMENTS && n_blocks > 1 {
        let per_task = n_blocks.div_ceil(4 * ctx.threads);
        out.par_chunks_mut(per_task * block).for_each(serial);
    } else {
        serial(out);
    }
    Ok(())
}

/// `row = exp(row - max(row))`; returns the sum of the new row.
#[inline(always)]
pub(super) fn exp_shifted<const FMA: bool>(row: &mut [f32]) -> f32 {
    let max = lanes(row, f32::NEG_INFINITY, f32::max);
    for v in row.iter_mut() {
        *v = math::exp::<FMA>(*v - max);
    }
    lanes_map(row, 0.0, |v| v, |a, b| a + b)
}

#[inline(always)]
fn rows_in_place<const FMA: bool>(data: &mut [f32], len: usize) {
    for row in data.chunks_exact_mut(len) {
        let inv = 1.0 / exp_shifted::<FMA>(row);
        row.iter_mut().for_each(|v| *v *= inv);
    }
}

#[inline(always)]
fn columns_in_place<const FMA: bool>(data: &mut [f32], len: usize, inner: usize) {
    let mut max = vec![f32::NEG_INFINITY; inner];
    let mut sum = vec![0.0f32; inner];
    for block in data.chunks_exact_mut(len * inner) {
        max.fill(f32::NEG_INFINITY);
        sum.fill(0.0);
        for row in block.chunks_exact(inner) {
            max.iter_mut().zip(row).for_each(|(m, &v)| *m = m.max(v));
        }
        for row in block.chunks_exact_mut(inner) {
            for ((v, &m), s) in row.iter_mut().zip(&max).zip(sum.iter_mut()) {
                *v = math::exp::<FMA>(*v - m);
                *s += *v;
            }
        }
        sum.iter_mut().for_each(|s| *s = 1.0 / *s);
        for row in block.chunks_exact_mut(inner) {
            row.iter_mut().zip(&sum).for_each(|(v, &s)| *v *= s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Isa;

    /// Each ISA's build of both layouts matches the scalar build and sums rows to 1.
    #[test]
    fn every_isa_matches_scalar() {
        let (len, inner) = (67, 5);
        let x: Vec<f32> = (0..3 * len * inner)
            .map(|i| (i as f32 * 0.37).sin() * 30.0)
            .collect();
        let run = |isa: Isa, inner: usize| {
            let mut d = x.clone();
            if inner == 1 {
                dispatch!(isa, rows_in_place(&mut d, len));
            } else {
                dispatch!(isa, columns_in_place(&mut d, len, inner));
            }
            d
        };
        for inner in [1, inner] {
            let want = run(Isa::Scalar, inner);
            let row_sum: f32 = want[..len].iter().sum();
            assert!(inner > 1 || (row_sum - 1.0).abs() < 1e-5, "{row_sum}");
            for isa in Isa::available() {
                for (g, w) in run(isa, inner).iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-6 + 1e-5 * w.abs(),
                        "{isa:?}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
