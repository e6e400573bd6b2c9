//! Max pooling over the spatial axes of `[N, C, H, W]`, one plane at a time.

use rayon::prelude::*;

use super::{Arg, Ctx};
use crate::Result;

/// Output elements below which pooling stays on one thread.
const PAR_MIN_ELEMENTS: usize = 1 << 15;

pub fn max_pool2d(
    ctx: Ctx,
    arg: &Arg,
    [kh, kw]: [usize; 2],
    [sh, sw]: [usize; 2],
    out: &mut [f32],
    out_dims: &[usize],
) -> Result<()> {
    let x = arg.dense_f32("max_pool2d")?;
    let (h, w) = (arg.dims[2], arg.dims[3]);
    let (ho, wo) = (out_dims[2], out_dims[3]);
    if out.is_empty() {
        return Ok(());
    }
    let plane = |p: usize, dst: &mut [f32]| {
        let src = &x[p * h * w..(p + 1) * h * w];
        for (i, o) in dst.chunks_exact_mut(wo).enumerate() {
            o.fill(f32::NEG_INFINITY);
            for a in 0..kh {
                let row = &src[(i * sh + a) * w..][..w];
                for b in 0..kw {
                    for (j, m) in o.iter_mut().enumerate() {
                        let v = row[j * sw + b];
                        // NaN wins, as in the reference (and numpy's `max`).
                        *m = if v > *m || v.is_nan() { v } else { *m };
                    }
                }
            }
        }
    };
    if ctx.threads > 1 && out.len() >= PAR_MIN_ELEMENTS {
        out.par_chunks_mut(ho * wo)
            .enumerate()
            .for_each(|(p, d)| plane(p, d));
    } else {
        out.chunks_mut(ho * wo)
            .enumerate()
            .for_each(|(p, d)| plane(p, d));
    }
    Ok(())
}
