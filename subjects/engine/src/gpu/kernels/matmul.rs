//! Batched, broadcasting matmul with operands read through strides (transposed views cost
//! nothing) and a fused epilogue (bias, activation, residual) applied at the store.
//!
//! Two shaders: a tiled one (64×64 outputs per workgroup of 16×16 threads, each thread a
//! 4×4 register block, 16-deep K tiles in workgroup memory) and, for at most 8 rows, a
//! skinny one (each thread one output column, all rows), where tiles would sit idle.
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
const SKINNY_WG: usize = 64;
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
        [nn.div_ceil(SKINNY_WG) as u32, 1, batches as u32]
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
var<workgroup> As: array<f32, 1024>; // [16 k][64 rows]
var<workgroup> Bs: array<f32, 1024>; // [16 k][64 cols]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let M = p[0]; let N = p[1]; let K = p[2];
    let bi = wg.z;
    let ao = boff(bi, 10u); let sam = p[8]; let sak = p[9];
    let bo = boff(bi, 16u); let sbk = p[14]; let sbn = p[15];
    let row0 = wg.y * 64u; let col0 = wg.x * 64u;
    let tid = lid.y * 16u + lid.x;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < K; k0 += 16u) {
        for (var t = 0u; t < 4u; t++) {
            let e = tid + t * 256u;
            let r = e / 16u; let kk = e % 16u;
            let gr = row0 + r; let gk = k0 + kk;
            var x = 0.0;
            if (gr < M && gk < K) { x = a[ao + gr * sam + gk * sak]; }
            As[kk * 64u + r] = x;
            let kr = e / 64u; let c = e % 64u;
            let gk2 = k0 + kr; let gc = col0 + c;
            var y = 0.0;
            if (gk2 < K && gc < N) { y = b[bo + gk2 * sbk + gc * sbn]; }
            Bs[kr * 64u + c] = y;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk++) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = As[kk * 64u + lid.y + 16u * i];
                bv[i] = Bs[kk * 64u + lid.x + 16u * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(av[i], bv[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let c = col0 + lid.x + 16u * j;
            if (r < M && c < N) {
                out[(bi * M + r) * N + c] = epilogue(acc[i * 4u + j], bi, r, c);
            }
        }
    }
}
"#;

const SKINNY: &str = r#"
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let M = p[0]; let N = p[1]; let K = p[2];
    let bi = wg.z;
    let c = wg.x * 64u + lid.x;
    if (c >= N) { return; }
    let ao = boff(bi, 10u); let sam = p[8]; let sak = p[9];
    let bo = boff(bi, 16u) + c * p[15]; let sbk = p[14];
    var acc: array<f32, 8>;
    for (var k = 0u; k < K; k++) {
        let y = b[bo + k * sbk];
        for (var r = 0u; r < M; r++) {
            acc[r] = fma(a[ao + r * sam + k * sak], y, acc[r]);
        }
    }
    for (var r = 0u; r < M; r++) {
        out[(bi * M + r) * N + c] = epilogue(acc[r], bi, r, c);
    }
}
"#;
