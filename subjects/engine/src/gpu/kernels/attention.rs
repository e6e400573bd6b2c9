//! Fused attention, `softmax(q kᵀ · scale + mask) v`: one workgroup per query row keeps
//! that row's scores in workgroup memory (no score matrix in device memory), takes their
//! softmax with workgroup reductions and multiplies by `v`. Operands are read through
//! strides, so head-split transposes feeding it are never copied.
//!
//! Parameters: `Sq, Sk, Dh, Dv, scale bits, rows`, the output's batch dims (padded to
//! `MAX_BATCH`), then per operand (q, k, v, mask) its row and column strides and batch
//! strides.

use super::{Job, MAX_BATCH, Node, grid, header, padded, padded_strides};
use crate::Result;

/// Keys a row's scores may hold (workgroup memory: 8 KiB) and the widest head.
pub const MAX_KEYS: usize = 2048;
pub const MAX_HEAD: usize = 256;

pub(super) fn job(n: &Node, scale: f32, masked: bool) -> Result<Job> {
    let out = n.out_dims();
    let r = out.len();
    let (q, k, v) = (n.dims(n.input(0)), n.dims(n.input(1)), n.dims(n.input(2)));
    let (sq, dh) = (q[q.len() - 2], q[q.len() - 1]);
    let (sk, dv) = (k[k.len() - 2], v[v.len() - 1]);
    if sk > MAX_KEYS || dh > MAX_HEAD {
        return Err(n.error(format!(
            "{sk} keys of width {dh}: the GPU kernel holds at most {MAX_KEYS} keys of width {MAX_HEAD}"
        )));
    }
    let batch = &out[..r - 2];
    let rows = batch.iter().product::<usize>() * sq;
    let mut params = vec![
        sq as u32,
        sk as u32,
        dh as u32,
        dv as u32,
        scale.to_bits(),
        rows as u32,
    ];
    params.extend(padded(batch, MAX_BATCH));
    let operand = |params: &mut Vec<u32>, val, last: [usize; 2]| {
        let mut over = batch.to_vec();
        over.extend(last);
        let s = n.broadcast_strides(val, &over, over.len());
        params.extend([s[r - 2], s[r - 1]]);
        params.extend(padded_strides(&s[..r - 2], MAX_BATCH));
    };
    operand(&mut params, n.input(0), [sq, dh]);
    operand(&mut params, n.input(1), [sk, dh]);
    operand(&mut params, n.input(2), [sk, dv]);
    let mut data = vec![("o", "f32"), ("q", "f32"), ("k", "f32"), ("v", "f32")];
    let mask_term = if masked {
        operand(&mut params, n.input(3), [sq, sk]);
        data.push(("mask", "f32"));
        "+ mask[boff(bi, 30u) + qi * p[28] + j * p[29]]"
    } else {
        ""
    };
    Ok(Job {
        source: format!("{}{}", header(&data), ATTENTION.replace("MASK", mask_term)),
        params,
        values: n.output_and_inputs(),
        groups: grid(rows),
        status: false,
    })
}

const ATTENTION: &str = r#"
var<workgroup> s: array<f32, 2048>;
var<workgroup> qrow: array<f32, 256>;
var<workgroup> red: array<f32, 64>;

fn boff(bi: u32, base: u32) -> u32 {
    var rem = bi;
    var off = 0u;
    for (var d = 0u; d < 4u; d++) {
        let ax = 3u - d;
        off += (rem % p[6u + ax]) * p[base + ax];
        rem = rem / p[6u + ax];
    }
    return off;
}

fn reduce(t: u32, x: f32, is_max: bool) -> f32 {
    red[t] = x;
    workgroupBarrier();
    for (var w = 32u; w > 0u; w >>= 1u) {
        if (t < w) {
            if (is_max) { red[t] = max(red[t], red[t + w]); } else { red[t] += red[t + w]; }
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.x + wg.y * nw.x;
    if (row >= p[5]) { return; }
    let Sq = p[0]; let Sk = p[1]; let Dh = p[2]; let Dv = p[3];
    let scale = bitcast<f32>(p[4]);
    let bi = row / Sq; let qi = row % Sq;
    let t = lid.x;
    let qo = boff(bi, 12u) + qi * p[10];
    for (var d = t; d < Dh; d += 64u) { qrow[d] = q[qo + d * p[11]]; }
    workgroupBarrier();
    let ko = boff(bi, 18u);
    var m = bitcast<f32>(0xff800000u);
    for (var j = t; j < Sk; j += 64u) {
        let kr = ko + j * p[16];
        var acc = 0.0;
        for (var d = 0u; d < Dh; d++) { acc = fma(qrow[d], k[kr + d * p[17]], acc); }
        let x = acc * scale MASK;
        s[j] = x;
        m = max(m, x);
    }
    m = reduce(t, m, true);
    var sum = 0.0;
    for (var j = t; j < Sk; j += 64u) {
        let e = exp(s[j] - m);
        s[j] = e;
        sum += e;
    }
    let inv = 1.0 / reduce(t, sum, false);
    let vo = boff(bi, 24u);
    for (var d = t; d < Dv; d += 64u) {
        var acc = 0.0;
        for (var j = 0u; j < Sk; j++) { acc = fma(s[j], v[vo + j * p[22] + d * p[23]], acc); }
        o[row * Dv + d] = acc * inv;
    }
}
"#;
