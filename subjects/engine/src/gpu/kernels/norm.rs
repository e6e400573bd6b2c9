//! Row-wise kernels: softmax and layer norm (one workgroup per row, tree reductions in
//! workgroup memory; no subgroup operations, so any subgroup size works), and reductions
//! over any axes (one thread per output).

use super::{Job, MAX_RANK, Node, grid, header, padded, padded_strides};
use crate::ops::ReduceOp;

/// Softmax along `axis`: rows are `outer × inner`, a row's elements `inner` apart.
pub(super) fn softmax(n: &Node, axis: usize) -> Job {
    let d = n.out_dims();
    let len = d[axis];
    let inner: usize = d[axis + 1..].iter().product();
    let rows = n.elements() / len;
    Job {
        source: format!(
            "{}{REDUCE_ROW}{SOFTMAX}",
            header(&[("y", "f32"), ("x", "f32")])
        ),
        params: vec![rows as u32, len as u32, inner as u32],
        values: vec![n.v, n.input(0)],
        groups: grid(rows),
        status: false,
    }
}

/// Layer norm over the last axis; with four inputs the first two are summed first.
pub(super) fn layer_norm(n: &Node, eps: f32) -> Job {
    let d = n.out_dims();
    let len = *d.last().unwrap();
    let rows = n.elements() / len;
    let residual = n.inputs().len() == 4;
    let (data, load): (Vec<(&str, &str)>, &str) = if residual {
        (
            vec![
                ("y", "f32"),
                ("x", "f32"),
                ("res", "f32"),
                ("gamma", "f32"),
                ("beta", "f32"),
            ],
            "x[base + j] + res[base + j]",
        )
    } else {
        (
            vec![
                ("y", "f32"),
                ("x", "f32"),
                ("gamma", "f32"),
                ("beta", "f32"),
            ],
            "x[base + j]",
        )
    };
    Job {
        source: format!(
            "{}{REDUCE_ROW}fn load(base: u32, j: u32) -> f32 {{ return {load}; }}\n{LAYER_NORM}",
            header(&data),
        ),
        params: vec![rows as u32, len as u32, eps.to_bits()],
        values: n.output_and_inputs(),
        groups: grid(rows),
        status: false,
    }
}

/// Parameters: outputs, reduced count, then kept dims and strides and reduced dims and
/// strides of the input (each padded to `MAX_RANK`).
pub(super) fn reduce(n: &Node, op: ReduceOp, axes: &[usize]) -> Job {
    let src = n.input(0);
    let (d, s) = (n.dims(src), n.strides(src));
    let (mut kd, mut ks, mut rd, mut rs) = (vec![], vec![], vec![], vec![]);
    for ax in 0..d.len() {
        if axes.contains(&ax) {
            rd.push(d[ax]);
            rs.push(s[ax]);
        } else {
            kd.push(d[ax]);
            ks.push(s[ax]);
        }
    }
    let count: usize = rd.iter().product();
    let mut params = vec![n.elements() as u32, count as u32];
    for (dims, strides) in [(&kd, &ks), (&rd, &rs)] {
        params.extend(padded(dims, MAX_RANK));
        params.extend(padded_strides(strides, MAX_RANK));
    }
    // One workgroup per output: each thread adds every 256th element of the reduced box
    // (Kahan-compensated), then the workgroup combines the 256 partials as a tree, so
    // rounding grows with log(n), not n, and no thread loops over a whole large box.
    let (init, step, combine) = match op {
        ReduceOp::Sum | ReduceOp::Mean => (
            "0.0",
            "let yk = v - comp;\n        let t = acc + yk;\n        comp = (t - acc) - yk;\n        acc = t;",
            "row_sum(lid.x, acc)",
        ),
        ReduceOp::Max => (
            "bitcast<f32>(0xff800000u)",
            "acc = max(acc, v);",
            "row_max(lid.x, acc)",
        ),
    };
    let finish = if op == ReduceOp::Mean {
        "total / f32(p[1])"
    } else {
        "total"
    };
    let source = format!(
        "{}{REDUCE_ROW}\n@compute @workgroup_size(256)\nfn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {{\n    let i = wg.x + wg.y * nw.x;\n    if (i >= p[0]) {{ return; }}\n    let base = offset(i, 2u);\n    var acc = {init};\n    var comp = 0.0;\n    for (var r = lid.x; r < p[1]; r += 256u) {{\n        let v = x[base + offset(r, 14u)];\n        {step}\n    }}\n    let total = {combine};\n    if (lid.x == 0u) {{ y[i] = {finish}; }}\n}}\n{OFFSET}",
        header(&[("y", "f32"), ("x", "f32")])
    );
    Job {
        source,
        params,
        values: vec![n.v, src],
        groups: grid(n.elements()),
        status: false,
    }
}

/// Offset of linear index `i` over the dims at `p[at..at+6]` with strides after them.
const OFFSET: &str = r#"
fn offset(i: u32, at: u32) -> u32 {
    var rem = i;
    var o = 0u;
    for (var k = 0u; k < 6u; k++) {
        let ax = 5u - k;
        o += (rem % p[at + ax]) * p[at + 6u + ax];
        rem = rem / p[at + ax];
    }
    return o;
}
"#;

/// Workgroup sum and max of one value per thread (`ROW_WG` threads).
const REDUCE_ROW: &str = r#"
var<workgroup> red: array<f32, 256>;
fn row_sum(t: u32, v: f32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (t < s) { red[t] += red[t + s]; }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}
fn row_max(t: u32, v: f32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (t < s) { red[t] = max(red[t], red[t + s]); }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}
"#;

const SOFTMAX: &str = r#"
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.x + wg.y * nw.x;
    if (row >= p[0]) { return; }
    let len = p[1]; let inner = p[2];
    let base = (row / inner) * len * inner + row % inner;
    let t = lid.x;
    var m = bitcast<f32>(0xff800000u);
    for (var j = t; j < len; j += 256u) { m = max(m, x[base + j * inner]); }
    m = row_max(t, m);
    var s = 0.0;
    for (var j = t; j < len; j += 256u) { s += exp(x[base + j * inner] - m); }
    s = row_sum(t, s);
    let inv = 1.0 / s;
    for (var j = t; j < len; j += 256u) {
        y[base + j * inner] = exp(x[base + j * inner] - m) * inv;
    }
}
"#;

const LAYER_NORM: &str = r#"
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.x + wg.y * nw.x;
    if (row >= p[0]) { return; }
    let len = p[1];
    let base = row * len;
    let t = lid.x;
    // Deviations are taken from the first element, then from the mean of those: `x - shift`
    // is exact for values near each other, so a large common offset costs no precision.
    let shift = load(base, 0u);
    var s = 0.0;
    for (var j = t; j < len; j += 256u) { s += load(base, j) - shift; }
    let mo = row_sum(t, s) / f32(len);
    var q = 0.0;
    for (var j = t; j < len; j += 256u) { let d = (load(base, j) - shift) - mo; q += d * d; }
    let inv = inverseSqrt(row_sum(t, q) / f32(len) + bitcast<f32>(p[2]));
    for (var j = t; j < len; j += 256u) {
        y[base + j] = ((load(base, j) - shift) - mo) * inv * gamma[j] + beta[j];
    }
}
"#;
