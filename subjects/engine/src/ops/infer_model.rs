//! Shape and dtype inference for the model ops: gather, normalisation, slicing, joining,
//! convolution, pooling and attention. Errors name the op and every shape involved.

use super::infer::{broadcast, require_f32};
use crate::{DType, Dim, Error, Result, Shape};

type Fact<'a> = (&'a Shape, DType);

fn mismatch(op: &str, lhs: &Shape, rhs: &Shape, why: String) -> Error {
    Error::ShapeMismatch {
        op: op.into(),
        lhs: lhs.clone(),
        rhs: rhs.clone(),
        why,
    }
}

fn bad_shape(op: &str, shape: &Shape, why: String) -> Error {
    Error::BadShape {
        op: op.into(),
        shape: shape.clone(),
        why,
    }
}

pub(super) fn check_axis(op: &str, shape: &Shape, axis: usize) -> Result<()> {
    if axis >= shape.rank() {
        return Err(bad_shape(
            op,
            shape,
            format!("axis {axis} is out of range for rank {}", shape.rank()),
        ));
    }
    Ok(())
}

/// A dim that must be known when the graph is built (window arithmetic needs numbers).
fn static_dim(op: &str, shape: &Shape, axis: usize, what: &str) -> Result<usize> {
    shape.0[axis]
        .as_static()
        .ok_or_else(|| bad_shape(op, shape, format!("the {what} must be static")))
}

pub(super) fn gather(op: &str, (table, dt): Fact, (idx, di): Fact) -> Result<(Shape, DType)> {
    if di != DType::I64 {
        return Err(Error::BadArgument {
            op: op.into(),
            why: format!("indices {idx} have dtype {di}; expected i64 (table {table})"),
        });
    }
    if table.rank() == 0 {
        return Err(bad_shape(op, table, "a table needs rank >= 1".into()));
    }
    let mut dims = idx.0.clone();
    dims.extend_from_slice(&table.0[1..]);
    Ok((Shape(dims), dt))
}

/// `x` normalised over its last axis by `gamma [D]` and `beta [D]`.
pub(super) fn layer_norm(op: &str, (x, dx): Fact, params: &[Fact]) -> Result<(Shape, DType)> {
    require_f32(op, dx)?;
    let Some(d) = x.0.last() else {
        return Err(bad_shape(op, x, "needs rank >= 1".into()));
    };
    for (name, &(p, dp)) in ["gamma", "beta"].iter().zip(params) {
        require_f32(op, dp)?;
        if p.0 != [d.clone()] {
            return Err(mismatch(
                op,
                x,
                p,
                format!("{name} must be [{d}], the last dim of the input"),
            ));
        }
    }
    Ok((x.clone(), DType::F32))
}

pub(super) fn slice(
    op: &str,
    (x, dtype): Fact,
    axis: usize,
    start: usize,
    end: usize,
) -> Result<(Shape, DType)> {
    check_axis(op, x, axis)?;
    if start > end {
        return Err(bad_shape(
            op,
            x,
            format!("start {start} is after end {end}"),
        ));
    }
    // A symbolic dim is checked when it is bound (`Graph::concrete_shapes` re-infers).
    if let Dim::Static(n) = x.0[axis]
        && end > n
    {
        return Err(bad_shape(
            op,
            x,
            format!("end {end} is past dim {n} of axis {axis}"),
        ));
    }
    let mut dims = x.0.clone();
    dims[axis] = Dim::Static(end - start);
    Ok((Shape(dims), dtype))
}

pub(super) fn concat(op: &str, inputs: &[Fact], axis: usize) -> Result<(Shape, DType)> {
    let (first, dtype) = inputs[0];
    check_axis(op, first, axis)?;
    let mut total = 0;
    for &(s, d) in inputs {
        if d != dtype {
            return Err(Error::DType {
                op: op.into(),
                got: d,
                expected: format!("{dtype}, the dtype of the first input"),
            });
        }
        let same_elsewhere =
            s.rank() == first.rank() && (0..s.rank()).all(|i| i == axis || s.0[i] == first.0[i]);
        if !same_elsewhere {
            return Err(mismatch(
                op,
                first,
                s,
                format!("dims must agree except along axis {axis}"),
            ));
        }
        total += static_dim(op, s, axis, "concatenated axis")?;
    }
    let mut dims = first.0.clone();
    dims[axis] = Dim::Static(total);
    Ok((Shape(dims), dtype))
}

/// Output size of a window sweep, or an error when the window does not fit.
fn windows(op: &str, x: &Shape, axis: usize, k: usize, s: usize, p: usize) -> Result<usize> {
    let n = static_dim(op, x, axis, "spatial dims")? + 2 * p;
    if k == 0 || s == 0 {
        return Err(bad_shape(op, x, "kernel and stride must be >= 1".into()));
    }
    if n < k {
        return Err(bad_shape(
            op,
            x,
            format!("window {k} is larger than the padded dim {n} of axis {axis}"),
        ));
    }
    Ok((n - k) / s + 1)
}

pub(super) fn conv2d(
    op: &str,
    inputs: &[Fact],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<(Shape, DType)> {
    let ((x, dx), (w, dw)) = (inputs[0], inputs[1]);
    require_f32(op, dx)?;
    require_f32(op, dw)?;
    if x.rank() != 4 || w.rank() != 4 {
        return Err(mismatch(
            op,
            x,
            w,
            "expects x [N, C, H, W] and weight [O, C, kh, kw]".into(),
        ));
    }
    if x.0[1] != w.0[1] {
        return Err(mismatch(
            op,
            x,
            w,
            format!("input channels {} and {} differ", x.0[1], w.0[1]),
        ));
    }
    let kh = static_dim(op, w, 2, "kernel size")?;
    let kw = static_dim(op, w, 3, "kernel size")?;
    let ho = windows(op, x, 2, kh, stride[0], padding[0])?;
    let wo = windows(op, x, 3, kw, stride[1], padding[1])?;
    if let Some(&(b, db)) = inputs.get(2) {
        require_f32(op, db)?;
        if b.0 != [w.0[0].clone()] {
            return Err(mismatch(
                op,
                w,
                b,
                format!("bias must be [{}], one per output channel", w.0[0]),
            ));
        }
    }
    let dims = vec![x.0[0].clone(), w.0[0].clone(), ho.into(), wo.into()];
    Ok((Shape(dims), DType::F32))
}

pub(super) fn max_pool2d(
    op: &str,
    (x, dx): Fact,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Result<(Shape, DType)> {
    require_f32(op, dx)?;
    if x.rank() != 4 {
        return Err(bad_shape(op, x, "expects [N, C, H, W]".into()));
    }
    let ho = windows(op, x, 2, kernel[0], stride[0], 0)?;
    let wo = windows(op, x, 3, kernel[1], stride[1], 0)?;
    let dims = vec![x.0[0].clone(), x.0[1].clone(), ho.into(), wo.into()];
    Ok((Shape(dims), DType::F32))
}

/// `q [.., Sq, Dh]`, `k [.., Sk, Dh]`, `v [.., Sk, Dv]` (batch dims broadcast), optional mask
/// broadcastable to `[.., Sq, Sk]` -> `[.., Sq, Dv]`.
pub(super) fn attention(op: &str, inputs: &[Fact]) -> Result<(Shape, DType)> {
    for (i, &(s, d)) in inputs.iter().enumerate() {
        require_f32(op, d)?;
        if i < 3 && s.rank() < 2 {
            return Err(bad_shape(op, s, "q, k and v need rank >= 2".into()));
        }
    }
    let ((q, _), (k, _), (v, _)) = (inputs[0], inputs[1], inputs[2]);
    let last2 = |s: &Shape| (s.0[s.rank() - 2].clone(), s.0[s.rank() - 1].clone());
    let batch = |s: &Shape| Shape(s.0[..s.rank() - 2].to_vec());
    let ((sq, dh), (sk, dhk), (skv, dv)) = (last2(q), last2(k), last2(v));
    if dh != dhk {
        return Err(mismatch(
            op,
            q,
            k,
            format!("head dims {dh} (q) and {dhk} (k) differ"),
        ));
    }
    if sk != skv {
        return Err(mismatch(
            op,
            k,
            v,
            format!("key lengths {sk} (k) and {skv} (v) differ"),
        ));
    }
    let b = broadcast(op, &batch(q), &batch(k))
        .and_then(|b| broadcast(op, &b, &batch(v)))
        .map_err(|_| mismatch(op, q, v, "batch dims of q, k and v do not broadcast".into()))?;
    if let Some(&(m, _)) = inputs.get(3) {
        let mut scores = b.clone();
        scores.0.extend([sq.clone(), sk]);
        if broadcast(op, m, &scores).ok().as_ref() != Some(&scores) {
            return Err(mismatch(
                op,
                m,
                &scores,
                "the mask does not broadcast to the scores".into(),
            ));
        }
    }
    let mut out = b;
    out.0.extend([sq, dv]);
    Ok((out, DType::F32))
}
