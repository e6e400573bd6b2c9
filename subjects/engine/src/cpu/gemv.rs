//! Matmuls with few rows against a constant weight: `C[M, N] (+)= A[M, K] @ B[K, N]` for
//! `M <= SMALL_M_MAX`, with `B` re-stored at compile time in column panels.
//!
//! At short sequences a Linear layer is a matrix-vector product in disguise: each weight
//! element is used `M` times, so the time is the time to stream the weight (DistilBERT at
//! seq 8: 170 MB per forward). `gemm` is built for large `M`: it repacks operands into cache
//! blocks on every call and moved 2-6 GB/s at M = 8 here, where this kernel moves 7-12 GB/s
//! per thread, about what a bare stream gets on one core of this machine (M = 1).
//!
//! Layout: panel `p` holds columns `[p * NR, p * NR + w)` (`w = NR` but for a narrower last
//! panel), k-major, so the kernel reads each panel front to back exactly once and, panels
//! following each other, a thread's share of the weight is one contiguous stream. The
//! panels take exactly `K * N` elements and replace the row-major weight in the executable's
//! constant (`compiler::passes::pack_weights`); a product too tall for this kernel gets a
//! row-major copy for `gemm`, made the first time one runs, so both layouts are kept only
//! once both are read.
//!
//! Kernel: the rows of `A` are copied once per call into `MR`-row, k-major blocks; a
//! register tile keeps `MR x NR` outputs in vector registers (AVX-512: 8 x 32 in 16 zmm
//! accumulators), broadcasts an element of `A` per row and loads each panel row once per row
//! block, prefetching the weight 4 KiB ahead. Threads split the panels. Other ISAs run the
//! same tiles as plain loops that LLVM vectorises.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::isa::dispatch;
use super::math::fma;
use super::matmul::{batch_strides, gemm_batched};
use super::{Arg, Ctx, Isa};
use crate::Result;

/// Columns per panel: two 16-float vectors.
pub const NR: usize = 32;
/// Rows (of `A`, batch dims flattened) up to which a product with a packed weight runs the
/// panel kernel instead of `gemm`. Measured on 768 x 768, 768 x 3072 and 3072 x 768 weights
/// streamed from memory (`tests::bench`), one and two threads: the panel kernel was faster
/// in every case up to M = 48 (1.7-2.6x at 8, 1.2-3x at 16-48), about even at 64, and
/// `gemm` faster from 96 rows on one thread.
pub const SMALL_M_MAX: usize = 48;
/// Rows per register tile of the AVX-512 kernel (`MR x NR` = 16 zmm accumulators of 32) and
/// of the generic one.
const MR_AVX512: usize = 8;
const MR_GENERIC: usize = 4;
/// Weights (elements) from which both threads stream panels: below, waking the pool costs
/// more than the second thread's bandwidth gains.
const PAR_MIN_WEIGHT: usize = 1 << 15;
/// With more than one row block, each block reads the panel from cache: in chunks of this
/// many rows (32 KiB of a full panel), which stay in L1 from one row block to the next.
const KC: usize = 256;
/// How far ahead (elements of the weight) the kernels prefetch: 4 KiB, so the
/// stream crosses page boundaries, where the hardware prefetcher stops, before it is read.
/// Measured at M = 8 on DistilBERT shapes: +40-50% over no prefetch, flat from 2 to 16 KiB.
const PREFETCH: usize = 1024;

/// What a matmul kernel knows about a right operand stored in panels.
#[derive(Default)]
pub struct Panels {
    /// The row-major weight for `gemm`, made on first use.
    row_major: OnceLock<Vec<f32>>,
}

impl std::fmt::Debug for Panels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Panels")
            .field("row_major_made", &self.row_major.get().is_some())
            .finish()
    }
}

impl Panels {
    /// The row-major `[k, n]` weight of `panels`, unpacked once.
    pub fn row_major(&self, panels: &[f32], k: usize, n: usize) -> &[f32] {
        self.row_major.get_or_init(|| unpack(panels, k, n))
    }
}

/// Width of panel `p` of an `n`-column weight.
fn width(n: usize, p: usize) -> usize {
    NR.min(n - p * NR)
}

/// Row-major `b[k, n]` in panels.
pub(crate) fn pack(b: &[f32], k: usize, n: usize) -> Vec<f32> {
    assert_eq!(b.len(), k * n);
    let mut out = Vec::with_capacity(k * n);
    for p in 0..n.div_ceil(NR) {
        let (c0, w) = (p * NR, width(n, p));
        for row in b.chunks_exact(n) {
            out.extend_from_slice(&row[c0..c0 + w]);
        }
    }
    out
}

/// The inverse of [`pack`].
fn unpack(panels: &[f32], k: usize, n: usize) -> Vec<f32> {
    assert_eq!(panels.len(), k * n);
    let mut out = vec![0.0; k * n];
    for p in 0..n.div_ceil(NR) {
        let (c0, w) = (p * NR, width(n, p));
        let panel = &panels[c0 * k..][..k * w];
        for (row, src) in out.chunks_exact_mut(n).zip(panel.chunks_exact(w)) {
            row[c0..c0 + w].copy_from_slice(src);
        }
    }
    out
}

/// `out (+)= a @ b` for a matmul node whose right operand `b` (`[1.., k, n]`) is stored in
/// panels: the panel kernel for up to `SMALL_M_MAX` rows of `a` (batch dims flattened),
/// `gemm` on the row-major weight otherwise.
pub(super) fn matmul_node(
    ctx: Ctx,
    a: &Arg,
    b: &Arg,
    panels: &Panels,
    out: &mut [f32],
    out_dims: &[usize],
    accumulate: bool,
) -> Result<()> {
    let (a_data, b_data) = (a.f32("matmul")?, b.f32("matmul")?);
    let rb = b.dims.len();
    let (k, n) = (b.dims[rb - 2], b.dims[rb - 1]);
    let r = out_dims.len();
    let m = out_dims[r - 2];
    let rows = out.len().checked_div(n).unwrap_or(0);
    if rows > SMALL_M_MAX {
        let b_rows = panels.row_major(&b_data[..k * n], k, n);
        gemm_batched(ctx, a, b, a_data, b_rows, out, out_dims, accumulate);
        return Ok(());
    }
    let batch = &out_dims[..r - 2];
    let a_bs = batch_strides(a, batch);
    let ra = a.dims.len();
    let (a_rs, a_cs) = (a.strides[ra - 2], a.strides[ra - 1]);
    let row_start = |row: usize| {
        let (mut bi, mut start) = (row / m, row % m * a_rs);
        for (&d, &s) in batch.iter().zip(&a_bs).rev() {
            start += bi % d * s;
            bi /= d;
        }
        start
    };
    matmul(
        ctx,
        rows,
        k,
        n,
        a_data,
        row_start,
        a_cs,
        &b_data[..k * n],
        out,
        accumulate,
    );
    Ok(())
}

thread_local! {
    /// The rows of `A` in tile blocks, reused across calls.
    static A_BLOCKS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `out[rows, n] (+)= a @ b` where `b` is a `[k, n]` weight in panels and `a` holds `rows`
/// rows of `k` elements, row `r` starting at `row_start(r)` with column stride `a_cs`.
#[allow(clippy::too_many_arguments)]
pub(super) fn matmul(
    ctx: Ctx,
    rows: usize,
    k: usize,
    n: usize,
    a: &[f32],
    row_start: impl Fn(usize) -> usize,
    a_cs: usize,
    b: &[f32],
    out: &mut [f32],
    accumulate: bool,
) {
    assert!(b.len() == k * n && out.len() >= rows * n);
    if rows == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out[..rows * n].fill(0.0);
        }
        return;
    }
    let mr = match ctx.isa {
        Isa::Avx512 => MR_AVX512,
        _ => MR_GENERIC,
    };
    let fill = |blocks: &mut Vec<f32>| {
        blocks.clear();
        blocks.resize(rows * k, 0.0);
        for r0 in (0..rows).step_by(mr) {
            let h = mr.min(rows - r0);
            let block = &mut blocks[r0 * k..(r0 + h) * k];
            for i in 0..h {
                let start = row_start(r0 + i);
                if a_cs == 1 {
                    for (dst, &v) in block.chunks_exact_mut(h).zip(&a[start..start + k]) {
                        dst[i] = v;
                    }
                } else {
                    // Any stride, 0 included (a broadcast view).
                    for (kk, dst) in block.chunks_exact_mut(h).enumerate() {
                        dst[i] = a[start + kk * a_cs];
                    }
                }
            }
        }
    };
    let mut run = |blocks: &[f32]| {
        let job = Job {
            rows,
            k,
            n,
            mr,
            a: blocks.as_ptr(),
            b: b.as_ptr(),
            c: out.as_mut_ptr(),
            accumulate,
        };
        let n_panels = n.div_ceil(NR);
        let tasks = if ctx.threads > 1 && k * n >= PAR_MIN_WEIGHT {
            ctx.threads.min(n_panels)
        } else {
            1
        };
        if tasks == 1 {
            job.panels(ctx.isa, 0..n_panels);
        } else {
            let per = n_panels.div_ceil(tasks);
            (0..tasks).into_par_iter().for_each(|t| {
                job.panels(ctx.isa, t * per..n_panels.min((t + 1) * per));
            });
        }
    };
    A_BLOCKS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut blocks) => {
            fill(&mut blocks);
            run(&blocks);
        }
        // Re-entered from a stolen task of the same thread: a fresh buffer.
        Err(_) => {
            let mut blocks = Vec::new();
            fill(&mut blocks);
            run(&blocks);
        }
    });
}

/// One product, shared by the threads that split its panels.
struct Job {
    rows: usize,
    k: usize,
    n: usize,
    /// Rows per tile block of `a`.
    mr: usize,
    /// `rows x k` elements of `A`, block `r0 / mr` (rows `r0..r0 + h`) at `r0 * k`, k-major.
    a: *const f32,
    /// The weight in panels.
    b: *const f32,
    /// `rows x n`, row-major; each thread writes its own panels' columns.
    c: *mut f32,
    accumulate: bool,
}

// SAFETY: `a` and `b` are only read; threads write disjoint column ranges of `c`.
unsafe impl Sync for Job {}

impl Job {
    /// Every tile of panels `range`.
    fn panels(&self, isa: Isa, range: Range<usize>) {
        match isa {
            // SAFETY: `Isa::Avx512` was detected (or checked by the caller) on this CPU; the
            // pointers cover the sizes `matmul` asserted.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { avx512::panels(self, range) },
            _ => dispatch!(isa, panels_generic(self, range)),
        }
    }

    /// Calls `tile(t)` for every tile of panels `range`: panel by panel (so the weight is
    /// read in order), and with several row blocks, `KC` rows of the panel at a time.
    #[inline(always)]
    fn for_each_tile(&self, range: Range<usize>, mut tile: impl FnMut(Tile)) {
        let kc = if self.rows > self.mr { KC } else { self.k };
        for p in range {
            let w = width(self.n, p);
            for k0 in (0..self.k).step_by(kc) {
                let len = kc.min(self.k - k0);
                for r0 in (0..self.rows).step_by(self.mr) {
                    let h = self.mr.min(self.rows - r0);
                    // In bounds: see `Job`; block `r0` of `a` is `h` rows k-major.
                    tile(Tile {
                        a: self.a.wrapping_add(r0 * self.k + k0 * h),
                        b: self.b.wrapping_add(p * NR * self.k + k0 * w),
                        c: self.c.wrapping_add(r0 * self.n + p * NR),
                        ldc: self.n,
                        h,
                        w,
                        k: len,
                        accumulate: self.accumulate || k0 > 0,
                    });
                }
            }
        }
    }
}

/// One register tile: `c[h, w] (+)= a[h, k] @ b[k, w]`, `a` k-major (`h` elements per `k`),
/// `b` rows `w` apart, `c` rows `ldc` apart.
struct Tile {
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    h: usize,
    w: usize,
    k: usize,
    accumulate: bool,
}

/// The portable kernel: the same tiles in plain loops that LLVM vectorises for the ISA it is
/// compiled under.
#[inline(always)]
fn panels_generic<const FMA: bool>(job: &Job, range: Range<usize>) {
    job.for_each_tile(range, |t| {
        // SAFETY: `for_each_tile` hands out tiles inside the buffers.
        unsafe {
            match t.h {
                1 => tile_generic::<FMA, 1>(&t),
                2 => tile_generic::<FMA, 2>(&t),
                3 => tile_generic::<FMA, 3>(&t),
                _ => tile_generic::<FMA, MR_GENERIC>(&t),
            }
        }
    });
}

/// One tile of `MR = t.h` rows.
#[inline(always)]
unsafe fn tile_generic<const FMA: bool, const MR: usize>(t: &Tile) {
    let (k, w) = (t.k, t.w);
    // SAFETY (whole body): see `Tile`.
    unsafe {
        let a = std::slice::from_raw_parts(t.a, k * MR);
        let b = std::slice::from_raw_parts(t.b, k * w);
        let mut acc = [[0.0f32; NR]; MR];
        if t.accumulate {
            for (i, row) in acc.iter_mut().enumerate() {
                row[..w].copy_from_slice(std::slice::from_raw_parts(t.c.add(i * t.ldc), w));
            }
        }
        // Loops over the row's `w` columns (a fixed 32 gets unrolled into scalar code) that
        // LLVM vectorises with the accumulators in memory, so four k steps per pass: four
        // multiply-adds per accumulator load and store.
        let (a4, a_tail) = a.split_at(k / 4 * 4 * MR);
        let (b4, b_tail) = b.split_at(k / 4 * 4 * w);
        for (av, bv) in a4.chunks_exact(4 * MR).zip(b4.chunks_exact(4 * w)) {
            // The 4 k rows ahead, at most 512 bytes: one prefetch per cache line.
            for line in (0..4 * w).step_by(16) {
                prefetch(bv.as_ptr().wrapping_add(PREFETCH + line));
            }
            let (b0, rest) = bv.split_at(w);
            let (b1, rest) = rest.split_at(w);
            let (b2, b3) = rest.split_at(w);
            for i in 0..MR {
                let (x0, x1, x2, x3) = (av[i], av[MR + i], av[2 * MR + i], av[3 * MR + i]);
                for ((((c, &y0), &y1), &y2), &y3) in
                    acc[i][..w].iter_mut().zip(b0).zip(b1).zip(b2).zip(b3)
                {
                    let t = fma::<FMA>(x0, y0, *c);
                    let t = fma::<FMA>(x1, y1, t);
                    let t = fma::<FMA>(x2, y2, t);
                    *c = fma::<FMA>(x3, y3, t);
                }
            }
        }
        for (av, bv) in a_tail.chunks_exact(MR).zip(b_tail.chunks_exact(w)) {
            for i in 0..MR {
                for (c, &y) in acc[i][..w].iter_mut().zip(bv) {
                    *c = fma::<FMA>(av[i], y, *c);
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            std::slice::from_raw_parts_mut(t.c.add(i * t.ldc), w).copy_from_slice(&row[..w]);
        }
    }
}

/// Asks for the cache line at `p` (which may lie outside any buffer: prefetches never fault).
#[inline(always)]
fn prefetch(p: *const f32) {
    // SAFETY: a prefetch is a hint; it does not access memory architecturally.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{Job, NR, PREFETCH, Tile};

    /// Every tile of panels `range`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `job`'s pointers cover its sizes.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn panels(job: &Job, range: Range<usize>) {
        job.for_each_tile(range, |t| {
            // SAFETY: `for_each_tile` hands out tiles inside the buffers; AVX-512F as above.
            unsafe {
                match (t.h, t.w == NR) {
                    (8, true) => tile::<8, true>(&t),
                    (8, false) => tile::<8, false>(&t),
                    (7, _) => tile::<7, false>(&t),
                    (6, _) => tile::<6, false>(&t),
                    (5, _) => tile::<5, false>(&t),
                    (4, true) => tile::<4, true>(&t),
                    (4, false) => tile::<4, false>(&t),
                    (3, _) => tile::<3, false>(&t),
                    (2, _) => tile::<2, false>(&t),
                    (1, true) => tile::<1, true>(&t),
                    _ => tile::<1, false>(&t),
                }
            }
        });
    }

    /// One tile of `MR = t.h` rows with its `MR x 32` outputs in 2 `MR` zmm registers.
    /// `FULL`: `t.w == NR` (plain loads); otherwise masked loads and stores (any `w <= NR`).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn tile<const MR: usize, const FULL: bool>(t: &Tile) {
        let (w, ldc, c) = (t.w, t.ldc, t.c);
        let m0: __mmask16 = ((1u32 << w.min(16)) - 1) as u16;
        let m1: __mmask16 = ((1u32 << (w.max(16) - 16)) - 1) as u16;
        let bs = if FULL { NR } else { w };
        // SAFETY (whole body): see `Tile`; masked-off lanes are not accessed.
        unsafe {
            let mut c0 = [_mm512_setzero_ps(); MR];
            let mut c1 = [_mm512_setzero_ps(); MR];
            if t.accumulate {
                for i in 0..MR {
                    c0[i] = _mm512_maskz_loadu_ps(m0, c.add(i * ldc));
                    c1[i] = _mm512_maskz_loadu_ps(m1, c.add(i * ldc + 16));
                }
            }
            let (mut ap, mut bp) = (t.a, t.b);
            for _ in 0..t.k {
                // Prefetches never fault, so running past the weight's end is harmless.
                _mm_prefetch::<_MM_HINT_T0>(bp.wrapping_add(PREFETCH) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(bp.wrapping_add(PREFETCH + 16) as *const i8);
                let (b0, b1) = if FULL {
                    (_mm512_loadu_ps(bp), _mm512_loadu_ps(bp.add(16)))
                } else {
                    (
                        _mm512_maskz_loadu_ps(m0, bp),
                        _mm512_maskz_loadu_ps(m1, bp.add(16)),
                    )
                };
                for i in 0..MR {
                    let av = _mm512_set1_ps(*ap.add(i));
                    c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
                    c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
                }
                ap = ap.add(MR);
                bp = bp.add(bs);
            }
            for i in 0..MR {
                if FULL {
                    _mm512_storeu_ps(c.add(i * ldc), c0[i]);
                    _mm512_storeu_ps(c.add(i * ldc + 16), c1[i]);
                } else {
                    _mm512_mask_storeu_ps(c.add(i * ldc), m0, c0[i]);
                    _mm512_mask_storeu_ps(c.add(i * ldc + 16), m1, c1[i]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Every ISA's panel kernel, on one thread and two, against an f64 product and the
        /// gemm path, on odd shapes (partial row blocks, narrow last panels, k chunks) with a
        /// strided `A` and with and without accumulation.
        #[test]
        fn panel_kernel_matches_f64_and_gemm(
            m in 1usize..=33, k in 1usize..=300, n in 1usize..=300,
            a_cs in 1usize..=2, accumulate: bool, seed: u64,
        ) {
            let a_rs = k * a_cs + 3;
            let a = values(m * a_rs, seed);
            let b = values(k * n, seed ^ 0x9e37_79b9);
            let c0 = values(m * n, seed ^ 0x7f4a_7c15);
            let start = if accumulate { c0.clone() } else { vec![0.0; m * n] };
            let mut want = vec![0.0f64; m * n];
            let mut scale = vec![0.0f64; m * n];
            for i in 0..m {
                for j in 0..n {
                    let (mut s, mut abs) = (start[i * n + j] as f64, start[i * n + j].abs() as f64);
                    for kk in 0..k {
                        let p = a[i * a_rs + kk * a_cs] as f64 * b[kk * n + j] as f64;
                        s += p;
                        abs += p.abs();
                    }
                    want[i * n + j] = s;
                    scale[i * n + j] = abs;
                }
            }
            let mut by_gemm = start.clone();
            // SAFETY: the strides stay inside `a` and `b`.
            unsafe {
                super::super::matmul::gemm_one(
                    m, n, k, &mut by_gemm, &a, (a_rs, a_cs), &b, (n, 1), accumulate, 1.0,
                    gemm::Parallelism::None,
                )
            };
            let panels = pack(&b, k, n);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            for isa in Isa::available() {
                for threads in [1, 2] {
                    let mut got = if accumulate { c0.clone() } else { vec![f32::NAN; m * n] };
                    pool.install(|| {
                        matmul(
                            Ctx { isa, threads }, m, k, n, &a, |r| r * a_rs, a_cs, &panels,
                            &mut got, accumulate,
                        )
                    });
                    for i in 0..m * n {
                        let tol = 1e-5 * (1.0 + scale[i]);
                        prop_assert!(
                            (got[i] as f64 - want[i]).abs() <= tol
                                && (got[i] - by_gemm[i]).abs() as f64 <= 2.0 * tol,
                            "{isa:?}, {threads} threads, {m}x{k}x{n} at ({}, {}): {} vs f64 {} \
                             and gemm {}",
                            i / n, i % n, got[i], want[i], by_gemm[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn empty_products() {
        for isa in Isa::available() {
            let ctx = Ctx { isa, threads: 1 };
            // k = 0: zeros, or the accumulator untouched.
            let mut out = vec![5.0; 6];
            matmul(ctx, 2, 0, 3, &[], |_| 0, 1, &[], &mut out, false);
            assert_eq!(out, [0.0; 6]);
            let mut out = vec![5.0; 6];
            matmul(ctx, 2, 0, 3, &[], |_| 0, 1, &[], &mut out, true);
            assert_eq!(out, [5.0; 6]);
            // No rows or columns: nothing to do.
            matmul(ctx, 0, 4, 3, &[], |_| 0, 1, &[0.0; 12], &mut [], false);
            matmul(ctx, 2, 4, 0, &[0.0; 8], |r| 4 * r, 1, &[], &mut [], false);
        }
    }

    #[test]
    fn pack_roundtrip() {
        for (k, n) in [(1, 1), (3, 31), (5, 32), (2, 33), (7, 70), (4, 96)] {
            let b: Vec<f32> = (0..k * n).map(|i| i as f32).collect();
            let p = pack(&b, k, n);
            assert_eq!(unpack(&p, k, n), b, "{k}x{n}");
        }
    }

    /// Times the panel kernel against `gemm` (on the row-major weight) on DistilBERT shapes,
    /// cycling through enough weight copies (170 MB, one model's encoder) that they come
    /// from memory, not cache; the two alternate, and each prints the median and the best of
    /// `BENCH_RUNS` sweeps (the machine is shared). `BENCH_M=8,16` picks the row counts,
    /// `BENCH_BYTES` the working set, `BENCH_KN=768x768,...` the weight shapes, `BENCH_ISA=avx2`
    /// or `scalar` the panel kernel's ISA:
    /// `cargo test -p engine --release --lib gemv::tests::bench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench() {
        use std::time::Instant;
        let env = |name: &str| std::env::var(name).ok();
        let runs: usize = env("BENCH_RUNS").map_or(7, |s| s.parse().unwrap());
        let bytes: usize = env("BENCH_BYTES").map_or(170_000_000, |s| s.parse().unwrap());
        let ms: Vec<usize> = env("BENCH_M").map_or(vec![1, 8, 16, 32, 64, 128], |s| {
            s.split(',').map(|x| x.parse().unwrap()).collect()
        });
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let shapes: Vec<(usize, usize)> =
            env("BENCH_KN").map_or(vec![(768, 768), (768, 3072), (3072, 768)], |s| {
                s.split(',')
                    .map(|kn| {
                        let (k, n) = kn.split_once('x').unwrap();
                        (k.parse().unwrap(), n.parse().unwrap())
                    })
                    .collect()
            });
        for (k, n) in shapes {
            let copies = (bytes / (4 * k * n)).max(1);
            let ws: Vec<Vec<f32>> = (0..copies).map(|c| values(k * n, c as u64)).collect();
            let ps: Vec<Vec<f32>> = ws.iter().map(|w| pack(w, k, n)).collect();
            for &m in &ms {
                let a = values(m * k, 99);
                let mut out = vec![0.0f32; m * n];
                for threads in [1, 2] {
                    let isa = match env("BENCH_ISA").as_deref() {
                        Some("avx2") => Isa::Avx2Fma,
                        Some("scalar") => Isa::Scalar,
                        _ => Isa::detect(),
                    };
                    let ctx = Ctx { isa, threads };
                    let par = if threads > 1 {
                        gemm::Parallelism::Rayon(threads)
                    } else {
                        gemm::Parallelism::None
                    };
                    let (mut t_gemm, mut t_panel) = (Vec::new(), Vec::new());
                    pool.install(|| {
                        for _ in 0..runs {
                            let t = Instant::now();
                            for w in &ws {
                                // SAFETY: contiguous operands of the right sizes.
                                unsafe {
                                    super::super::matmul::gemm_one(
                                        m,
                                        n,
                                        k,
                                        &mut out,
                                        &a,
                                        (k, 1),
                                        w,
                                        (n, 1),
                                        false,
                                        1.0,
                                        par,
                                    )
                                }
                            }
                            t_gemm.push(t.elapsed().as_secs_f64() / copies as f64);
                            let t = Instant::now();
                            for p in &ps {
                                matmul(ctx, m, k, n, &a, |r| r * k, 1, p, &mut out, false);
                            }
                            t_panel.push(t.elapsed().as_secs_f64() / copies as f64);
                        }
                    });
                    let show = |t: &mut Vec<f64>| {
                        t.sort_by(f64::total_cmp);
                        let (med, best) = (t[t.len() / 2], t[0]);
                        format!(
                            "{:>7.1} us {:>5.1} GB/s {:>5.1} GFLOP/s (best {:>5.1} GB/s)",
                            med * 1e6,
                            (4 * k * n) as f64 / med / 1e9,
                            (2 * m * k * n) as f64 / med / 1e9,
                            (4 * k * n) as f64 / best / 1e9,
                        )
                    };
                    println!(
                        "{m:>4} x {k:>4} x {n:>4} {threads}T: gemm {} | panels {}",
                        show(&mut t_gemm),
                        show(&mut t_panel)
                    );
                }
            }
        }
    }
}
