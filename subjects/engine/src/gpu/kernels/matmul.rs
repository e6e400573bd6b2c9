//! Batched, broadcasting matmul with operands read through strides (transposed views cost
//! nothing) and a fused epilogue (bias, activation, residual) applied at the store.
//!
//! Two shaders: a tiled one (64×64 outputs per workgroup of 16×16 threads, each thread a
//! 4×4 register block, 16-deep K tiles in workgroup memory as vec4s) and, for at most 8
//! rows, a skinny one (each thread 4 output columns, all rows), where tiles would sit idle.
//! Both keep loads per FMA low: on lavapipe every load is a per-lane loop, and the vec4
//! tiles made a 512×768×3072 product 3× faster there (1.9 to 5.6 GFLOP/s).
//!
//! Parameters: `M, N, K, batches`, the output's batch dims (padded to `MAX_BATCH`), then
//! per operand its row and column strides and batch strides: `a`, `b`, then each epilogue
//! input over the output's `[batch.., M, N]`.

use super::elementwise::{helpers, instructions};
use super::{Job, MAX_BATCH, Node, PRELUDE, header, padded, padded_strides};
use crate::ops::ElementwiseProgram;
use crate::{Result, Value};

/// Rows at or below which the skinny shader runs.
const SKINNY_ROWS: usize = 8;
/// Columns one workgroup of the skinny shader covers: 64 threads of 4 columns.
const SKINNY_COLUMNS: usize = 256;
const TILE: usize = 64;

pub(super) fn job(n: &Node, epilogue: Option<&ElementwiseProgram>) -> Result<Job> {
    let out = n.out_dims();
    let r = out.len();
    let (m, nn) = (out[r - 2], out[r - 1]);
    let k = *n.dims(n.input(0)).last().unwrap();
    let batch_dims = &out[..r - 2];
    let batches: usize = batch_dims.iter().product();
    if batches > super::MAX_GROUPS as usize {
        return Err(n.error(format!(
            "{batches} batches (one workgroup row each; at most {})",
            super::MAX_GROUPS
        )));
    }
    let mut params = vec![m as u32, nn as u32, k as u32, batches as u32];
    params.extend(padded(batch_dims, MAX_BATCH));
    let mut operand = |v: Value, over: &[usize]| {
        let s = n.broadcast_strides(v, over, over.len());
        let rr = over.len();
        params.extend([s[rr - 2], s[rr - 1]]);
        params.extend(padded_strides(&s[..rr - 2], MAX_BATCH));
    };
    // a: [.., M, K] and b: [.., K, N] broadcast over the output's batch dims.
    let mut over_a = batch_dims.to_vec();
    over_a.extend([m, k]);
    let mut over_b = batch_dims.to_vec();
    over_b.extend([k, nn]);
    operand(n.input(0), &over_a);
    operand(n.input(1), &over_b);
    let extra = &n.inputs()[2..];
    for &v in extra {
        operand(v, out);
    }

    let mut data = vec![("out", "f32"), ("a", "f32"), ("b", "f32")];
    let names: Vec<String> = (1..=extra.len()).map(|e| format!("e{e}")).collect();
    data.extend(names.iter().map(|s| (s.as_str(), "f32")));
    let skinny = m <= SKINNY_ROWS;
    let main = if skinny { SKINNY } else { TILED };
    let source = format!(
        "{}{PRELUDE}{BATCH_OFFSET}{}{main}",
        header(&data),
        epilogue_fn(epilogue, extra.len())
    );
    let groups = if skinny {
        [nn.div_ceil(SKINNY_COLUMNS) as u32, 1, batches as u32]
    } else {
        [
            nn.div_ceil(TILE) as u32,
            m.div_ceil(TILE) as u32,
            batches as u32,
        ]
    };
    Ok(Job {
        source,
        params,
        values: n.output_and_inputs(),
        groups,
        status: false,
    })
}

/// Parameter index of operand `k`'s row stride (0 = a, 1 = b, 2.. = epilogue inputs).
fn operand_base(k: usize) -> usize {
    4 + MAX_BATCH + k * (2 + MAX_BATCH)
}

/// `fn epilogue(r0, batch, row, col) -> f32`: the fused program with register 0 = the
/// accumulated product.
fn epilogue_fn(p: Option<&ElementwiseProgram>, extra: usize) -> String {
    let Some(p) = p else {
        return "fn epilogue(r0: f32, bi: u32, m: u32, n: u32) -> f32 { return r0; }\n".into();
    };
    let mut s = helpers(p);
    s += "fn epilogue(r0: f32, bi: u32, m: u32, n: u32) -> f32 {\n";
    for e in 1..=extra {
        let base = operand_base(e + 1);
        s += &format!(
            "    let r{e} = e{e}[boff(bi, {}u) + m * p[{base}u] + n * p[{}u]];\n",
            base + 2,
            base + 1
        );
    }
    s += &instructions(p, 0);
    let result = if p.instrs.is_empty() { 0 } else { p.output() };
    s += &format!("    return r{result};\n}}\n");
    s
}

/// Element offset of batch `bi` for the operand whose batch strides start at `base`.
const BATCH_OFFSET: &str = r#"
fn boff(bi: u32, base: u32) -> u32 {
    var rem = bi;
    var o = 0u;
    for (var d = 0u; d < 4u; d++) {
        let ax = 3u - d;
        let size = p[4u + ax];
        o += (rem % size) * p[base + ax];
        rem = rem / size;
    }
    return o;
}
"#;

const TILED: &str = r#"
// Tiles as vec4s: a thread's 4 rows of A and 4 columns of B at one k are one load each, so
// an inner step is 2 workgroup-memory loads for 16 FMAs.
var<workgroup> As: array<vec4<f32>, 256>; // [16 k][16 groups of 4 rows]
var<workgroup> Bs: array<vec4<f32>, 256>; // [16 k][16 groups of 4 columns]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let M = p[0]; let N = p[1]; let K = p[2];
    let bi = wg.z;
    let ao = boff(bi, 10u); let sam = p[8]; let sak = p[9];
    let bo = boff(bi, 16u); let sbk = p[14]; let sbn = p[15];
    let row0 = wg.y * 64u; let col0 = wg.x * 64u;
    let tid = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < K; k0 += 16u) {
        // Each thread fills one vec4 of each tile: A at (k, 4 rows), B at (k, 4 columns).
        let ka = k0 + tid % 16u; let rg = tid / 16u;
        var x = vec4<f32>(0.0);
        let kb = k0 + tid / 16u; let cg = tid % 16u;
        var y = vec4<f32>(0.0);
        for (var i = 0u; i < 4u; i++) {
            let r = row0 + rg * 4u + i;
            if (r < M && ka < K) { x[i] = a[ao + r * sam + ka * sak]; }
            let c = col0 + cg * 4u + i;
            if (c < N && kb < K) { y[i] = b[bo + kb * sbk + c * sbn]; }
        }
        As[(tid % 16u) * 16u + rg] = x;
        Bs[(tid / 16u) * 16u + cg] = y;
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk++) {
            let av = As[kk * 16u + lid.y];
            let bv = Bs[kk * 16u + lid.x];
            for (var i = 0u; i < 4u; i++) {
                acc[i] = fma(vec4<f32>(av[i]), bv, acc[i]);
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let c = col0 + lid.x * 4u + j;
            if (r < M && c < N) {
                out[(bi * M + r) * N + c] = epilogue(acc[i][j], bi, r, c);
            }
        }
    }
}
"#;

const SKINNY: &str = r#"
// Each thread 4 columns, 64 apart (a workgroup covers 256), for all rows: one load of A
// serves 4 FMAs.
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let M = p[0]; let N = p[1]; let K = p[2];
    let bi = wg.z;
    let c0 = wg.x * 256u + lid.x;
    if (c0 >= N) { return; }
    let ao = boff(bi, 10u); let sam = p[8]; let sak = p[9];
    let bo = boff(bi, 16u); let sbk = p[14];
    // Columns past N read column c0 again, and are not stored.
    var cols: array<u32, 4>;
    for (var j = 0u; j < 4u; j++) {
        let c = c0 + 64u * j;
        cols[j] = bo + select(c0, c, c < N) * p[15];
    }
    var acc: array<vec4<f32>, 8>;
    for (var k = 0u; k < K; k++) {
        let kb = k * sbk;
        let y = vec4<f32>(b[cols[0] + kb], b[cols[1] + kb], b[cols[2] + kb], b[cols[3] + kb]);
        for (var r = 0u; r < 8u; r++) {
            if (r < M) { acc[r] = fma(vec4<f32>(a[ao + r * sam + k * sak]), y, acc[r]); }
        }
    }
    for (var r = 0u; r < M; r++) {
        for (var j = 0u; j < 4u; j++) {
            let c = c0 + 64u * j;
            if (c < N) { out[(bi * M + r) * N + c] = epilogue(acc[r][j], bi, r, c); }
        }
    }
}
"#;
