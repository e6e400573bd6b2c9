//! Matrix products through the `gemm` crate, with strides (no copies for transposed or
//! batch-broadcast operands) and the fused epilogue.
//!
//! `gemm` 0.19 with its `x86-v4` feature runs AVX-512 micro-kernels (~100 GFLOP/s on one
//! Zen 4 core) and computes `dst = alpha dst + beta a b`, so a bias or residual is added
//! for free by pre-filling `dst` and accumulating.

use gemm::Parallelism;
use rayon::prelude::*;

use super::elementwise::{self, Access, Operand, Program};
use super::gemv::{self, Panels};
use super::{Arg, Ctx, Epilogue};
use crate::Result;

/// `out = epilogue(a @ b, extra inputs)`; `args` are the node's inputs `[a, b, extra...]`.
/// With `panels`, `b` is a constant stored in panels (see `gemv`).
pub fn matmul_epilogue(
    ctx: Ctx,
    args: &[Arg],
    epilogue: Option<&Epilogue>,
    panels: Option<&Panels>,
    out: &mut [f32],
    out_dims: &[usize],
) -> Result<()> {
    // Program input `i` (register 0 is the product) is node input `i + 1`.
    let operand = |i: usize| -> Result<Operand> {
        let arg = &args[i + 1];
        Ok(Operand::new(arg.f32("fused_matmul")?, arg, out_dims))
    };
    let prefill = epilogue.and_then(|e| e.prefill);
    if let Some(i) = prefill {
        let copy = Program {
            n_inputs: 1,
            instrs: vec![],
            out: 0,
        };
        elementwise::eval(ctx, &copy, &[operand(i)?], out);
    }
    match panels {
        Some(p) => gemv::matmul_node(ctx, &args[0], &args[1], p, out, out_dims, prefill.is_some())?,
        None => gemm_batched(
            ctx,
            &args[0],
            &args[1],
            args[0].f32("matmul")?,
            args[1].f32("matmul")?,
            out,
            out_dims,
            prefill.is_some(),
        ),
    }
    if let Some(rest) = epilogue.and_then(|e| e.rest.as_ref()) {
        let mut ops = vec![Operand {
            data: &[],
            access: Access::Output,
        }];
        for i in 1..rest.n_inputs {
            ops.push(operand(i)?);
        }
        elementwise::eval(ctx, rest, &ops, out);
    }
    Ok(())
}

/// Strides of `arg`'s batch axes aligned to `batch` (0 where absent or broadcast).
pub(super) fn batch_strides(arg: &Arg, batch: &[usize]) -> Vec<usize> {
    let own = arg.dims.len() - 2;
    let lead = batch.len() - own;
    (0..batch.len())
        .map(|i| match i.checked_sub(lead) {
            Some(j) if arg.dims[j] != 1 => arg.strides[j],
            _ => 0,
        })
        .collect()
}

/// Every batch of `out[..., m, n] (+)= a[..., m, k] @ b[..., k, n]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn gemm_batched(
    ctx: Ctx,
    a: &Arg,
    b: &Arg,
    a_data: &[f32],
    b_data: &[f32],
    out: &mut [f32],
    out_dims: &[usize],
    accumulate: bool,
) {
    let r = out_dims.len();
    let (m, n) = (out_dims[r - 2], out_dims[r - 1]);
    let k = a.dims[a.dims.len() - 1];
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let batch = &out_dims[..r - 2];
    let (a_bs, b_bs) = (batch_strides(a, batch), batch_strides(b, batch));
    let ra = a.dims.len();
    let rb = b.dims.len();
    let a_mat = (a.strides[ra - 2], a.strides[ra - 1]);
    let b_mat = (b.strides[rb - 2], b.strides[rb - 1]);
    let par = if ctx.threads > 1 {
        Parallelism::Rayon(ctx.threads)
    } else {
        Parallelism::None
    };

    // One weight for every batch and evenly spaced rows of `a` (a Linear layer on
    // [batch, seq, k]): one GEMM with m = batch * seq.
    let mut row_step = a_mat.0 * m;
    let rows_even = batch.iter().zip(&a_bs).rev().all(|(&d, &s)| {
        let ok = d == 1 || s == row_step;
        row_step *= d;
        ok
    });
    if b_bs.iter().all(|&s| s == 0) && rows_even {
        let rows = out.len() / n;
        // SAFETY: see `gemm_one`.
        unsafe {
            gemm_one(
                rows, n, k, out, a_data, a_mat, b_data, b_mat, accumulate, 1.0, par,
            )
        };
        return;
    }

    let offsets = |bi: usize| {
        let (mut rem, mut oa, mut ob) = (bi, 0, 0);
        for i in (0..batch.len()).rev() {
            let idx = rem % batch[i];
            rem /= batch[i];
            oa += idx * a_bs[i];
            ob += idx * b_bs[i];
        }
        (oa, ob)
    };
    let one = |bi: usize, dst: &mut [f32], par: Parallelism| {
        let (oa, ob) = offsets(bi);
        // SAFETY: see `gemm_one`.
        unsafe {
            gemm_one(
                m,
                n,
                k,
                dst,
                &a_data[oa..],
                a_mat,
                &b_data[ob..],
                b_mat,
                accumulate,
                1.0,
                par,
            )
        };
    };
    let n_batches = out.len() / (m * n);
    if ctx.threads > 1 && n_batches >= ctx.threads {
        // Many small products (attention heads): one per task, each single-threaded.
        out.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(bi, dst)| one(bi, dst, Parallelism::None));
    } else {
        for (bi, dst) in out.chunks_mut(m * n).enumerate() {
            one(bi, dst, par);
        }
    }
}

/// `dst[m, n] (+)= scale * a[m, k] @ b[k, n]` with `a`, `b` given as (row, column) element
/// strides from the start of their slices; `dst` is contiguous.
///
/// # Safety
/// Every element `a[i * rs + j * cs]` for `i < m`, `j < k` (and likewise `b` over `k`, `n`)
/// must lie inside its slice. The executor guarantees it: strides come from the memory
/// plan's view of buffers that hold the whole operand.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm_one(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
    accumulate: bool,
    scale: f32,
    par: Parallelism,
) {
    debug_assert!(dst.len() >= m * n);
    debug_assert!(a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    debug_assert!(b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    let threads = match par {
        Parallelism::Rayon(t) => t,
        _ => 1,
    };
    let chunks = threads.min(n / SPLIT_MIN_COLS);
    if chunks < 2 {
        // SAFETY: as for this function.
        unsafe {
            gemm_raw(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                n,
                a,
                (a_rs, a_cs),
                b.as_ptr(),
                (b_rs, b_cs),
                accumulate,
                scale,
                par,
            )
        };
        return;
    }
    // Column blocks, one per thread, each a single-threaded product writing its own columns
    // of `dst`. `gemm`'s own threading splits work by its cache blocks, which at a few dozen
    // rows (a Linear layer at batch x seq = 64) is one block: it ran on one thread.
    let width = n.div_ceil(chunks).next_multiple_of(16);
    let dst_at = SendPtr(dst.as_mut_ptr());
    let b_at = SendPtr(b.as_ptr().cast_mut());
    (0..n.div_ceil(width)).into_par_iter().for_each(|c| {
        let j0 = c * width;
        let w = width.min(n - j0);
        // SAFETY: blocks write disjoint columns of `dst`; `b`'s columns `j0..j0 + w` lie in
        // its slice by the caller's guarantee.
        unsafe {
            gemm_raw(
                m,
                w,
                k,
                dst_at.get().add(j0),
                n,
                a,
                (a_rs, a_cs),
                b_at.get().add(j0 * b_cs),
                (b_rs, b_cs),
                accumulate,
                scale,
                Parallelism::None,
            )
        };
    });
}

/// Columns per thread below which a product is not split by columns.
const SPLIT_MIN_COLS: usize = 64;

/// A raw pointer that may cross to the threads of a parallel loop whose iterations touch
/// disjoint elements.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only used to hand disjoint parts of one buffer to parallel iterations.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// A method, not field access, so closures capture the whole `Send` wrapper.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// `gemm::gemm` on `dst[m, n]` (row stride `ldd`) `(+)= scale * a @ b`.
///
/// # Safety
/// As [`gemm_one`], with `dst` and `b` valid for the elements the strides reach.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_raw(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    ldd: usize,
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: *const f32,
    (b_rs, b_cs): (usize, usize),
    accumulate: bool,
    scale: f32,
    par: Parallelism,
) {
    // SAFETY: the caller guarantees the bounds; `dst` does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            ldd as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b,
            b_cs as isize,
            b_rs as isize,
            1.0,
            scale,
            false,
            false,
            false,
            par,
        )
    }
}
