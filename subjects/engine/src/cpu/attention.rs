//! Fused attention: `softmax(q k^T * scale + mask) v` without materialising the scores of
//! more than one block of query rows per task.
//!
//! A task is one batch index (a (batch, head) pair) and a block of query rows sized so its
//! `[rows, Sk]` score block stays in L2. It computes the scaled scores with one GEMM (the
//! scale rides on GEMM's `beta`), adds the mask and exponentiates in place (max-subtracted),
//! multiplies the unnormalised probabilities by `v` with a second GEMM straight into the
//! output rows, and divides each row by its sum there (Dv divisions instead of Sk).
//!
//! q, k and v are read through strides, so the head-splitting transposes before attention
//! stay views. Tasks never share output rows and each task's arithmetic does not depend on
//! the thread count, so 1 and N threads give identical bits.

use std::cell::RefCell;

use gemm::Parallelism;
use rayon::prelude::*;

use super::isa::dispatch;
use super::matmul::gemm_one;
use super::softmax::exp_shifted;
use super::{Arg, Ctx};
use crate::Result;

/// Score elements per task: 256 KiB of f32, inside Zen 4's 1 MiB L2 next to the operands.
/// Taller blocks make better GEMMs: at Sk = 512, 128 rows ran attention 1.3x faster than 32
/// (7.7 vs 9.8 ms for 12 heads on one core); a whole 512x512 block gained only 6% more.
const SCORE_BLOCK: usize = 64 * 1024;
/// Work (multiply-adds) below which attention stays on one thread.
const PAR_MIN_WORK: usize = 1 << 18;

thread_local! {
    /// A task's score block and its rows' inverse sums, reused across calls.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// An operand read as `[batch.., rows, cols]`: per-axis batch strides, row and column
/// strides, 0 along broadcast axes.
struct Strided<'a> {
    data: &'a [f32],
    batch: Vec<usize>,
    rs: usize,
    cs: usize,
}

impl<'a> Strided<'a> {
    /// `arg` right-aligned to `rank` axes (a mask may have fewer than the scores).
    fn of(arg: &'a Arg, rank: usize) -> Result<Strided<'a>> {
        let lead = rank - arg.dims.len();
        let st: Vec<usize> = (0..rank)
            .map(|i| match i.checked_sub(lead) {
                Some(j) if arg.dims[j] != 1 => arg.strides[j],
                _ => 0,
            })
            .collect();
        Ok(Strided {
            data: arg.f32("attention")?,
            batch: st[..rank - 2].to_vec(),
            rs: st[rank - 2],
            cs: st[rank - 1],
        })
    }

    /// The element offset of batch index `bi` (row-major over `batch`).
    fn offset(&self, bi: usize, batch: &[usize]) -> usize {
        let (mut rem, mut off) = (bi, 0);
        for i in (0..batch.len()).rev() {
            off += (rem % batch[i]) * self.batch[i];
            rem /= batch[i];
        }
        off
    }
}

pub fn attention(
    ctx: Ctx,
    args: &[Arg],
    scale: f32,
    out: &mut [f32],
    out_dims: &[usize],
) -> Result<()> {
    let r = out_dims.len();
    let batch = &out_dims[..r - 2];
    let (sq, dv) = (out_dims[r - 2], out_dims[r - 1]);
    let dh = args[0].dims[args[0].dims.len() - 1];
    let sk = args[1].dims[args[1].dims.len() - 2];
    if out.is_empty() {
        return Ok(());
    }
    if sk == 0 {
        // Attending to nothing: an empty weighted sum.
        out.fill(0.0);
        return Ok(());
    }
    let q = Strided::of(&args[0], r)?;
    let k = Strided::of(&args[1], r)?;
    let v = Strided::of(&args[2], r)?;
    let mask = args.get(3).map(|m| Strided::of(m, r)).transpose()?;

    let rows_per_task = (SCORE_BLOCK / sk).clamp(1, sq);
    let task = |bi: usize, block: usize, dst: &mut [f32]| {
        let r0 = block * rows_per_task;
        let rows = dst.len() / dv;
        let (oq, ok, ov) = (
            q.offset(bi, batch),
            k.offset(bi, batch),
            v.offset(bi, batch),
        );
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < rows * sk + rows {
                s.resize(rows * sk + rows, 0.0);
            }
            let (scores, inv) = s.split_at_mut(rows * sk);
            let scores = &mut scores[..rows * sk];
            let inv = &mut inv[..rows];
            if dh == 0 {
                scores.fill(0.0);
            } else {
                // SAFETY: q's rows r0..r0+rows and k's Sk rows of Dh lie in their buffers
                // (the memory plan's strides); k^T is k with its strides swapped.
                unsafe {
                    gemm_one(
                        rows,
                        sk,
                        dh,
                        scores,
                        &q.data[oq + r0 * q.rs..],
                        (q.rs, q.cs),
                        &k.data[ok..],
                        (k.cs, k.rs),
                        false,
                        scale,
                        Parallelism::None,
                    )
                };
            }
            let m = mask.as_ref().map(|m| {
                let om = m.offset(bi, batch) + r0 * m.rs;
                (&m.data[om..], m.rs, m.cs)
            });
            dispatch!(ctx.isa, softmax_rows(scores, sk, m, inv));
            // SAFETY: the scores are a dense [rows, sk] block; v's Sk rows of Dv lie in its
            // buffer.
            unsafe {
                gemm_one(
                    rows,
                    dv,
                    sk,
                    dst,
                    scores,
                    (sk, 1),
                    &v.data[ov..],
                    (v.rs, v.cs),
                    false,
                    1.0,
                    Parallelism::None,
                )
            };
            for (row, &f) in dst.chunks_exact_mut(dv).zip(inv.iter()) {
                row.iter_mut().for_each(|x| *x *= f);
            }
        });
    };

    let tasks = (out.len() / (sq * dv)) * sq.div_ceil(rows_per_task);
    let work = out.len() / dv * sk * (dh + dv);
    if ctx.threads > 1 && tasks > 1 && work >= PAR_MIN_WORK {
        out.par_chunks_mut(sq * dv).enumerate().for_each(|(bi, o)| {
            o.par_chunks_mut(rows_per_task * dv)
                .enumerate()
                .for_each(|(block, d)| task(bi, block, d))
        });
    } else {
        for (bi, o) in out.chunks_mut(sq * dv).enumerate() {
            for (block, d) in o.chunks_mut(rows_per_task * dv).enumerate() {
                task(bi, block, d);
            }
        }
    }
    Ok(())
}

/// Each score row: `+= mask row`, then `exp(row - max)`; `inv[i]` = 1 / the row's sum.
#[inline(always)]
fn softmax_rows<const FMA: bool>(
    scores: &mut [f32],
    sk: usize,
    mask: Option<(&[f32], usize, usize)>,
    inv: &mut [f32],
) {
    for (i, row) in scores.chunks_exact_mut(sk).enumerate() {
        if let Some((m, rs, cs)) = mask {
            let m = &m[i * rs..];
            match cs {
                1 => row.iter_mut().zip(&m[..sk]).for_each(|(s, &a)| *s += a),
                0 => row.iter_mut().for_each(|s| *s += m[0]),
                cs => row
                    .iter_mut()
                    .enumerate()
                    .for_each(|(j, s)| *s += m[j * cs]),
            }
        }
        inv[i] = 1.0 / exp_shifted::<FMA>(row);
    }
}
