//! Fused attention, `softmax(q kᵀ · scale + mask) v`, with no score matrix in device
//! memory: one workgroup takes a block of 4 query rows of one batch through the keys 64 at
//! a time, one key per thread, with the online softmax (a running max and sum per row, the
//! output rescaled when the max grows), so any number of keys fits. The 4 rows travel as
//! the lanes of a vec4: each load of k or v serves 4 FMAs, and the block shares the
//! reductions' barriers. Operands are read through strides, so head-split transposes
//! feeding it are never copied.
//!
//! Parameters: `Sq, Sk, Dh, Dv, scale bits, workgroups`, the output's batch dims (padded to
//! `MAX_BATCH`), then per operand (q, k, v, mask) its row and column strides and batch
//! strides.

use super::{Job, MAX_BATCH, Node, grid, header, padded, padded_strides};
use crate::Result;

/// The widest head (q rows and output columns per thread: 4 × 64 threads).
pub const MAX_HEAD: usize = 256;
/// Query rows one workgroup takes: the lanes of a vec4.
const ROWS: usize = 4;

pub(super) fn job(n: &Node, scale: f32, masked: bool) -> Result<Job> {
    let out = n.out_dims();
    let r = out.len();
    let (q, k, v) = (n.dims(n.input(0)), n.dims(n.input(1)), n.dims(n.input(2)));
    let (sq, dh) = (q[q.len() - 2], q[q.len() - 1]);
    let (sk, dv) = (k[k.len() - 2], v[v.len() - 1]);
    if dh.max(dv) > MAX_HEAD {
        return Err(n.error(format!(
            "heads of width {dh} (values {dv}): the GPU kernel takes at most {MAX_HEAD}"
        )));
    }
    let batch = &out[..r - 2];
    let groups = batch.iter().product::<usize>() * sq.div_ceil(ROWS);
    let mut params = vec![
        sq as u32,
        sk as u32,
        dh as u32,
        dv as u32,
        scale.to_bits(),
        groups as u32,
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
        "let mo = boff(bi, 30u) + j * p[29];
            for (var r = 0u; r < 4u; r++) { s[r] += mask[mo + row(q0, r, Sq) * p[28]]; }"
    } else {
        ""
    };
    Ok(Job {
        source: format!("{}{}", header(&data), ATTENTION.replace("MASK", mask_term)),
        params,
        values: n.output_and_inputs(),
        groups: grid(groups),
        status: false,
    })
}

const ATTENTION: &str = r#"
var<workgroup> qs: array<vec4<f32>, 256>; // [d]: the block's 4 query rows
var<workgroup> ps: array<vec4<f32>, 64>;  // [key of the chunk]: the 4 rows' weights
var<workgroup> red: array<vec4<f32>, 64>;

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

// Query row r of the block at q0; rows past the last repeat it (and are not stored).
fn row(q0: u32, r: u32, Sq: u32) -> u32 {
    return min(q0 + r, Sq - 1u);
}

fn reduce(t: u32, x: vec4<f32>, is_max: bool) -> vec4<f32> {
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
    let g = wg.x + wg.y * nw.x;
    if (g >= p[5]) { return; }
    let Sq = p[0]; let Sk = p[1]; let Dh = p[2]; let Dv = p[3];
    let scale = bitcast<f32>(p[4]);
    let blocks = (Sq + 3u) / 4u;
    let bi = g / blocks; let q0 = (g % blocks) * 4u;
    let t = lid.x;
    let qo = boff(bi, 12u);
    for (var d = t; d < Dh; d += 64u) {
        var x: vec4<f32>;
        for (var r = 0u; r < 4u; r++) { x[r] = q[qo + row(q0, r, Sq) * p[10] + d * p[11]]; }
        qs[d] = x;
    }
    workgroupBarrier();
    let ko = boff(bi, 18u); let vo = boff(bi, 24u);
    let neg_inf = vec4<f32>(bitcast<f32>(0xff800000u));
    var m = neg_inf;
    var l = vec4<f32>(0.0);
    var acc: array<vec4<f32>, 4>; // output columns t, t + 64, t + 128, t + 192
    for (var j0 = 0u; j0 < Sk; j0 += 64u) {
        let j = j0 + t;
        var s = neg_inf;
        if (j < Sk) {
            let kr = ko + j * p[16];
            var dot = vec4<f32>(0.0);
            for (var d = 0u; d < Dh; d++) { dot = fma(qs[d], vec4<f32>(k[kr + d * p[17]]), dot); }
            s = dot * scale;
            MASK
        }
        let mx = max(m, reduce(t, s, true));
        // A row whose keys so far are all -inf keeps weight 0, not exp(-inf + inf).
        let base = select(mx, vec4<f32>(0.0), mx == neg_inf);
        let e = exp(s - base);
        let carry = exp(m - base);
        // The sum's first barrier also publishes ps; the max's first barrier of the next
        // chunk keeps it until every thread has used it.
        ps[t] = e;
        l = l * carry + reduce(t, e, false);
        m = mx;
        let n = min(64u, Sk - j0);
        for (var c = 0u; c < 4u; c++) {
            let d = t + 64u * c;
            if (d < Dv) {
                var sum = acc[c] * carry;
                let vc = vo + d * p[23];
                for (var jj = 0u; jj < n; jj++) {
                    sum = fma(ps[jj], vec4<f32>(v[vc + (j0 + jj) * p[22]]), sum);
                }
                acc[c] = sum;
            }
        }
    }
    let inv = 1.0 / l;
    for (var c = 0u; c < 4u; c++) {
        let d = t + 64u * c;
        if (d >= Dv) { break; }
        for (var r = 0u; r < 4u; r++) {
            if (q0 + r < Sq) { o[(bi * Sq + q0 + r) * Dv + d] = acc[c][r] * inv[r]; }
        }
    }
}
"#;
