//! NCHW convolution as im2col + GEMM, the bias fused by pre-filling the output.
//!
//! Per image: `out[O, Ho*Wo] = weight[O, C*kh*kw] @ col[C*kh*kw, Ho*Wo]`, where `col` holds
//! the input windows (zeros in the padding). A 1x1, stride-1, unpadded convolution reads
//! the image itself as `col`. Images run in parallel when there are several; one image
//! hands the pool to the GEMM instead.

use std::cell::RefCell;

use gemm::Parallelism;
use rayon::prelude::*;

use super::matmul::gemm_one;
use super::{Arg, Ctx};
use crate::Result;

thread_local! {
    /// The im2col buffer, reused across calls.
    static COL: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Window geometry of one convolution.
struct Geometry {
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    ho: usize,
    wo: usize,
    stride: [usize; 2],
    pad: [usize; 2],
}

pub fn conv2d(
    ctx: Ctx,
    args: &[Arg],
    stride: [usize; 2],
    pad: [usize; 2],
    out: &mut [f32],
    out_dims: &[usize],
) -> Result<()> {
    let x = args[0].dense_f32("conv2d")?;
    let weight = args[1].dense_f32("conv2d")?;
    let bias = args.get(2).map(|b| b.dense_f32("conv2d")).transpose()?;
    let ([_, c, h, w], [o, _, kh, kw], [_, _, ho, wo]) = (
        args[0].dims.try_into().unwrap(),
        args[1].dims.try_into().unwrap(),
        out_dims.try_into().unwrap(),
    );
    if out.is_empty() {
        return Ok(());
    }
    let geo = Geometry {
        c,
        h,
        w,
        kh,
        kw,
        ho,
        wo,
        stride,
        pad,
    };
    let (ckk, hw) = (c * kh * kw, ho * wo);
    let direct = kh == 1 && kw == 1 && stride == [1, 1] && pad == [0, 0];
    let image = |i: usize, dst: &mut [f32], par: Parallelism| {
        match bias {
            Some(b) => dst
                .chunks_exact_mut(hw)
                .zip(b)
                .for_each(|(row, &v)| row.fill(v)),
            None if ckk == 0 => dst.fill(0.0),
            None => {}
        }
        if ckk == 0 {
            return;
        }
        let xi = &x[i * c * h * w..(i + 1) * c * h * w];
        COL.with(|col| {
            let mut col = col.borrow_mut();
            let cols: &[f32] = if direct {
                xi
            } else {
                col.resize(ckk * hw, 0.0);
                im2col(xi, &geo, &mut col);
                &col
            };
            // SAFETY: `weight` is a dense [o, ckk] and `cols` a dense [ckk, hw] block.
            unsafe {
                gemm_one(
                    o,
                    hw,
                    ckk,
                    dst,
                    weight,
                    (ckk, 1),
                    cols,
                    (hw, 1),
                    bias.is_some(),
                    1.0,
                    par,
                )
            }
        });
    };
    let n_images = out.len() / (o * hw);
    if ctx.threads > 1 && n_images > 1 {
        out.par_chunks_mut(o * hw)
            .enumerate()
            .for_each(|(i, d)| image(i, d, Parallelism::None));
    } else {
        let par = match ctx.threads {
            1 => Parallelism::None,
            t => Parallelism::Rayon(t),
        };
        for (i, d) in out.chunks_mut(o * hw).enumerate() {
            image(i, d, par);
        }
    }
    Ok(())
}

/// `col[(ci, a, b), (i, j)] = x[ci, i*sh + a - ph, j*sw + b - pw]`, zero outside `x`.
fn im2col(x: &[f32], g: &Geometry, col: &mut [f32]) {
    let hw = g.ho * g.wo;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.pad;
    for ci in 0..g.c {
        let plane = &x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for a in 0..g.kh {
            for b in 0..g.kw {
                let row = &mut col[((ci * g.kh + a) * g.kw + b) * hw..][..hw];
                // Output columns j whose input column j*sw + b - pw lies in 0..w.
                let lo = pw.saturating_sub(b).div_ceil(sw).min(g.wo);
                let hi = (g.w + pw).saturating_sub(b).div_ceil(sw).clamp(lo, g.wo);
                for i in 0..g.ho {
                    let dst = &mut row[i * g.wo..(i + 1) * g.wo];
                    let ii = (i * sh + a).wrapping_sub(ph);
                    if ii >= g.h {
                        dst.fill(0.0);
                        continue;
                    }
                    let src = &plane[ii * g.w..(ii + 1) * g.w];
                    dst[..lo].fill(0.0);
                    dst[hi..].fill(0.0);
                    if lo == hi {
                        continue;
                    }
                    let first = lo * sw + b - pw;
                    if sw == 1 {
                        dst[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
                    } else {
                        for (t, v) in dst[lo..hi].iter_mut().enumerate() {
                            *v = src[first + t * sw];
                        }
                    }
                }
            }
        }
    }
}
