//! The model ops in the reference interpreter: literal definitions in f64, no shortcuts.

use super::{Operand, numel};
use crate::{Error, Result};

/// `[outer, len, inner]` around `axis`.
fn split(dims: &[usize], axis: usize) -> (usize, usize, usize) {
    (numel(&dims[..axis]), dims[axis], numel(&dims[axis + 1..]))
}

pub fn gather(table: &Operand, indices: &Operand) -> Result<Vec<f64>> {
    let rows = table.dims[0];
    let row = numel(&table.dims[1..]);
    let mut out = Vec::with_capacity(indices.data.len() * row);
    for (p, &x) in indices.data.iter().enumerate() {
        if x < 0.0 || x >= rows as f64 {
            return Err(Error::BadArgument {
                op: "gather".into(),
                why: format!(
                    "index {x} at position {p} is out of range for a table of {rows} rows"
                ),
            });
        }
        let r = x as usize;
        out.extend_from_slice(&table.data[r * row..(r + 1) * row]);
    }
    Ok(out)
}

/// LayerNorm of `x` over the last axis, with the two-pass variance.
pub fn layer_norm(x: &Operand, gamma: &Operand, beta: &Operand, eps: f32) -> Vec<f64> {
    let d = *x.dims.last().unwrap();
    let mut out = x.data.to_vec();
    for row in out.chunks_exact_mut(d.max(1)) {
        let mean = row.iter().sum::<f64>() / d as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / d as f64;
        let inv = 1.0 / (var + eps as f64).sqrt();
        for (j, v) in row.iter_mut().enumerate() {
            *v = (*v - mean) * inv * gamma.data[j] + beta.data[j];
        }
    }
    out
}

pub fn softmax(x: &Operand, axis: usize) -> Vec<f64> {
    let (outer, len, inner) = split(x.dims, axis);
    let mut out = x.data.to_vec();
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * len + k) * inner + i;
            let max = (0..len)
                .map(|k| x.data[at(k)])
                .fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..len).map(|k| (x.data[at(k)] - max).exp()).sum();
            for k in 0..len {
                out[at(k)] = (x.data[at(k)] - max).exp() / sum;
            }
        }
    }
    out
}

pub fn slice(x: &Operand, axis: usize, start: usize, end: usize) -> Vec<f64> {
    let (outer, len, inner) = split(x.dims, axis);
    (0..outer)
        .flat_map(|o| x.data[(o * len + start) * inner..(o * len + end) * inner].iter())
        .copied()
        .collect()
}

pub fn concat(ins: &[Operand], axis: usize) -> Vec<f64> {
    let outer = numel(&ins[0].dims[..axis]);
    let mut out = Vec::new();
    for o in 0..outer {
        for x in ins {
            let run = numel(&x.dims[axis..]);
            out.extend_from_slice(&x.data[o * run..(o + 1) * run]);
        }
    }
    out
}

/// `out[n, o, i, j] = bias[o] + Σ_{c, a, b} x[n, c, i*s + a - p, j*s + b - p] w[o, c, a, b]`,
/// reads outside `x` being zero.
pub fn conv2d(ins: &[Operand], out: &[usize], stride: [usize; 2], pad: [usize; 2]) -> Vec<f64> {
    let (x, w) = (&ins[0], &ins[1]);
    let [_, c_in, h, wd] = x.dims[..] else {
        unreachable!()
    };
    let [_, _, kh, kw] = w.dims[..] else {
        unreachable!()
    };
    let [n_img, c_out, ho, wo] = out[..] else {
        unreachable!()
    };
    let mut y = Vec::with_capacity(numel(out));
    for n in 0..n_img {
        for o in 0..c_out {
            for i in 0..ho {
                for j in 0..wo {
                    let mut s = ins.get(2).map_or(0.0, |b| b.data[o]);
                    for c in 0..c_in {
                        for a in 0..kh {
                            for b in 0..kw {
                                let ii = (i * stride[0] + a) as isize - pad[0] as isize;
                                let jj = (j * stride[1] + b) as isize - pad[1] as isize;
                                if ii < 0 || jj < 0 || ii >= h as isize || jj >= wd as isize {
                                    continue;
                                }
                                let xv =
                                    x.data[((n * c_in + c) * h + ii as usize) * wd + jj as usize];
                                s += xv * w.data[((o * c_in + c) * kh + a) * kw + b];
                            }
                        }
                    }
                    y.push(s);
                }
            }
        }
    }
    y
}

pub fn max_pool2d(x: &Operand, out: &[usize], kernel: [usize; 2], stride: [usize; 2]) -> Vec<f64> {
    let [_, _, h, w] = x.dims[..] else {
        unreachable!()
    };
    let [n, c, ho, wo] = out[..] else {
        unreachable!()
    };
    let mut y = Vec::with_capacity(numel(out));
    for plane in 0..n * c {
        for i in 0..ho {
            for j in 0..wo {
                let mut m = f64::NEG_INFINITY;
                for a in 0..kernel[0] {
                    for b in 0..kernel[1] {
                        let v = x.data[(plane * h + i * stride[0] + a) * w + j * stride[1] + b];
                        // NaN wins, as in numpy's `max`.
                        if v > m || v.is_nan() {
                            m = v;
                        }
                    }
                }
                y.push(m);
            }
        }
    }
    y
}

/// The literal `softmax(q k^T * scale + mask) v`, every operand broadcast to the output's
/// batch dims first.
pub fn attention(ins: &[Operand], out: &[usize], scale: f32) -> Vec<f64> {
    let r = out.len();
    let batch = &out[..r - 2];
    let (sq, dv) = (out[r - 2], out[r - 1]);
    let last2 = |x: &Operand| (x.dims[x.dims.len() - 2], x.dims[x.dims.len() - 1]);
    let ((_, dh), (sk, _)) = (last2(&ins[0]), last2(&ins[2]));
    let full = |x: &Operand, a: usize, b: usize| x.broadcast_to(&[batch, &[a, b]].concat());
    let (q, k, v) = (
        full(&ins[0], sq, dh),
        full(&ins[1], sk, dh),
        full(&ins[2], sk, dv),
    );
    let mask = ins.get(3).map(|m| full(m, sq, sk));
    let mut y = vec![0.0; numel(out)];
    for bi in 0..numel(batch) {
        let (q, k, v) = (&q[bi * sq * dh..], &k[bi * sk * dh..], &v[bi * sk * dv..]);
        for i in 0..sq {
            let scores: Vec<f64> = (0..sk)
                .map(|j| {
                    let dot: f64 = (0..dh).map(|d| q[i * dh + d] * k[j * dh + d]).sum();
                    let m = mask.as_ref().map_or(0.0, |m| m[(bi * sq + i) * sk + j]);
                    dot * scale as f64 + m
                })
                .collect();
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let sum: f64 = e.iter().sum();
            for d in 0..dv {
                let acc: f64 = (0..sk).map(|j| e[j] / sum * v[j * dv + d]).sum();
                y[(bi * sq + i) * dv + d] = acc;
            }
        }
    }
    y
}
