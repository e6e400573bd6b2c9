//! LayerNorm over the last axis, optionally of a residual sum (`fused_add_layer_norm`).
//!
//! One task per block of rows. A row (768 floats in DistilBERT) stays in L1, so the
//! statistics take cheap passes over it. The mean is summed in f64: rounded to f32 it could
//! be off by half an ulp of the values, which is all of a small deviation when the values
//! sit far from zero. Deviations are then taken from the f32 mean, which is exact for values
//! near it (Sterbenz), and corrected by the mean's small rounding error, so the variance
//! (the sum of squared deviations, no E[x²] - E[x]² cancellation) and the output keep f32
//! precision with full-width f32 vectors.

use rayon::prelude::*;

use super::isa::dispatch;
use super::reduce::lanes_map;
use super::{Arg, Ctx, math};
use crate::Result;

/// Elements below which a LayerNorm stays on one thread.
const PAR_MIN_ELEMENTS: usize = 1 << 15;

/// `out = layer_norm(x [+ residual]) * gamma + beta`; `args` are `x, gamma, beta` or
/// `x, residual, gamma, beta`.
pub fn layer_norm(ctx: Ctx, args: &[Arg], eps: f32, out: &mut [f32]) -> Result<()> {
    let x = args[0].dense_f32("layer_norm")?;
    let residual = match args.len() {
        4 => Some(args[1].dense_f32("layer_norm")?),
        _ => None,
    };
    let gamma = args[args.len() - 2].dense_f32("layer_norm")?;
    let beta = args[args.len() - 1].dense_f32("layer_norm")?;
    let d = gamma.len();
    if d == 0 || out.is_empty() {
        return Ok(());
    }
    let block = |first_row: usize, out: &mut [f32]| {
        let span = first_row * d..first_row * d + out.len();
        let x = &x[span.clone()];
        let r = residual.map(|r| &r[span]);
        dispatch!(ctx.isa, rows(x, r, gamma, beta, eps, out))
    };
    let n_rows = out.len() / d;
    if ctx.threads > 1 && out.len() >= PAR_MIN_ELEMENTS && n_rows > 1 {
        let per_task = n_rows.div_ceil(4 * ctx.threads);
        out.par_chunks_mut(per_task * d)
            .enumerate()
            .for_each(|(t, o)| block(t * per_task, o));
    } else {
        block(0, out);
    }
    Ok(())
}

#[inline(always)]
fn rows<const FMA: bool>(
    x: &[f32],
    residual: Option<&[f32]>,
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    out: &mut [f32],
) {
    let d = gamma.len();
    let add = |a: f32, b: f32| a + b;
    for (i, o) in out.chunks_exact_mut(d).enumerate() {
        let xr = &x[i * d..(i + 1) * d];
        match residual {
            Some(r) => {
                let rr = &r[i * d..(i + 1) * d];
                o.iter_mut()
                    .zip(xr.iter().zip(rr))
                    .for_each(|(o, (&a, &b))| *o = a + b);
            }
            None => o.copy_from_slice(xr),
        }
        let mean = sum_f64(o) / d as f64;
        let (m, delta) = (mean as f32, (mean - (mean as f32) as f64) as f32);
        let dev = |v: f32| (v - m) - delta;
        let var = lanes_map(o, 0.0, |v| dev(v) * dev(v), add) / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, &g), &b) in o.iter_mut().zip(gamma).zip(beta) {
            *v = math::fma::<FMA>(dev(*v) * inv, g, b);
        }
    }
}

/// The sum of a row in f64, with 16 accumulators so it vectorises.
#[inline(always)]
fn sum_f64(row: &[f32]) -> f64 {
    const L: usize = 16;
    let mut acc = [0.0f64; L];
    let chunks = row.chunks_exact(L);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..L {
            acc[i] += c[i] as f64;
        }
    }
    for (a, &x) in acc.iter_mut().zip(tail) {
        *a += x as f64;
    }
    acc.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Isa;

    /// Each ISA's build matches the scalar build, with and without the residual.
    #[test]
    fn every_isa_matches_scalar() {
        let d = 77;
        let x: Vec<f32> = (0..4 * d)
            .map(|i| (i as f32 * 0.37).sin() * 3.0 + 50.0)
            .collect();
        let r: Vec<f32> = (0..4 * d).map(|i| (i as f32 * 0.11).cos()).collect();
        let gamma: Vec<f32> = (0..d).map(|i| 1.0 + i as f32 / d as f32).collect();
        let beta: Vec<f32> = (0..d).map(|i| i as f32 / d as f32 - 0.5).collect();
        for residual in [None, Some(&r[..])] {
            let run = |isa: Isa| {
                let mut out = vec![0.0; x.len()];
                dispatch!(isa, rows(&x, residual, &gamma, &beta, 1e-5, &mut out));
                out
            };
            let want = run(Isa::Scalar);
            for isa in Isa::available() {
                for (g, w) in run(isa).iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-5, "{isa:?}: {g} vs {w}");
                }
            }
        }
    }
}
