//! Shape and dtype inference for every op, on symbolic or concrete shapes alike.

use super::Op;
use super::infer_model;
use crate::{DType, Dim, Error, Result, Shape};

pub(super) fn infer(op: &Op, inputs: &[(&Shape, DType)]) -> Result<(Shape, DType)> {
    let name = op.name();
    let arity = match op {
        Op::Input { .. } | Op::Constant(_) | Op::Arange { .. } => 0,
        Op::Binary(_) | Op::MatMul | Op::Gather => 2,
        Op::Fused(f) => f.arity(),
        Op::LayerNorm { .. } => 3,
        Op::Conv2d { bias, .. } => 2 + usize::from(*bias),
        Op::Attention { masked, .. } => 3 + usize::from(*masked),
        // Any number but none.
        Op::Concat { .. } => inputs.len().max(1),
        _ => 1,
    };
    if inputs.len() != arity {
        return Err(Error::BadArgument {
            op: name.into(),
            why: format!("takes {arity} inputs, got {}", inputs.len()),
        });
    }
    match op {
        Op::Input { .. } | Op::Constant(_) => Err(Error::BadArgument {
            op: name.into(),
            why: "inputs and constants carry their own shape".into(),
        }),
        Op::Unary(_) => {
            let (shape, dtype) = inputs[0];
            require_f32(name, dtype)?;
            Ok((shape.clone(), dtype))
        }
        Op::Binary(_) => {
            let (a, da) = inputs[0];
            let (b, db) = inputs[1];
            require_f32(name, da)?;
            require_f32(name, db)?;
            Ok((broadcast(name, a, b)?, DType::F32))
        }
        Op::MatMul => matmul(name, inputs[0], inputs[1]),
        Op::Transpose { perm } => {
            let (shape, dtype) = inputs[0];
            let mut seen = vec![false; perm.len()];
            let valid = perm.len() == shape.rank()
                && perm
                    .iter()
                    .all(|&p| p < perm.len() && !std::mem::replace(&mut seen[p], true));
            if !valid {
                return Err(Error::BadShape {
                    op: name.into(),
                    shape: shape.clone(),
                    why: format!("{perm:?} is not a permutation of its {} axes", shape.rank()),
                });
            }
            Ok((
                Shape(perm.iter().map(|&p| shape.0[p].clone()).collect()),
                dtype,
            ))
        }
        Op::Reshape { shape: target } => {
            let (shape, dtype) = inputs[0];
            if shape.numel_signature() != target.numel_signature() {
                return Err(Error::ShapeMismatch {
                    op: name.into(),
                    lhs: shape.clone(),
                    rhs: target.clone(),
                    why: "element counts differ".into(),
                });
            }
            Ok((target.clone(), dtype))
        }
        Op::BroadcastTo { shape: target } => {
            let (shape, dtype) = inputs[0];
            let out = broadcast(name, shape, target)?;
            if &out != target {
                return Err(Error::ShapeMismatch {
                    op: name.into(),
                    lhs: shape.clone(),
                    rhs: target.clone(),
                    why: "the input does not broadcast to the target".into(),
                });
            }
            Ok((out, dtype))
        }
        Op::Reduce {
            axes, keep_dims, ..
        } => {
            let (shape, dtype) = inputs[0];
            require_f32(name, dtype)?;
            if let Some(&bad) = axes.iter().find(|&&a| a >= shape.rank()) {
                return Err(Error::BadShape {
                    op: name.into(),
                    shape: shape.clone(),
                    why: format!("axis {bad} is out of range"),
                });
            }
            let dims = shape
                .0
                .iter()
                .enumerate()
                .filter_map(|(i, d)| match (axes.contains(&i), keep_dims) {
                    (false, _) => Some(d.clone()),
                    (true, true) => Some(Dim::Static(1)),
                    (true, false) => None,
                })
                .collect();
            Ok((Shape(dims), dtype))
        }
        Op::Cast { to } => Ok((inputs[0].0.clone(), *to)),
        Op::Gather => infer_model::gather(name, inputs[0], inputs[1]),
        Op::LayerNorm { .. } => infer_model::layer_norm(name, inputs[0], &inputs[1..]),
        Op::Softmax { axis } => {
            let (shape, dtype) = inputs[0];
            require_f32(name, dtype)?;
            infer_model::check_axis(name, shape, *axis)?;
            Ok((shape.clone(), dtype))
        }
        Op::Slice { axis, start, end } => infer_model::slice(name, inputs[0], *axis, *start, *end),
        Op::Concat { axis } => infer_model::concat(name, inputs, *axis),
        Op::Arange { len, dtype } => Ok((Shape(vec![len.clone()]), *dtype)),
        Op::Conv2d {
            stride, padding, ..
        } => infer_model::conv2d(name, inputs, *stride, *padding),
        Op::MaxPool2d { kernel, stride } => {
            infer_model::max_pool2d(name, inputs[0], *kernel, *stride)
        }
        Op::Attention { .. } => infer_model::attention(name, inputs),
        Op::Fused(f) => f.infer(inputs),
    }
}

pub(super) fn require_f32(op: &str, dtype: DType) -> Result<()> {
    if dtype == DType::F32 {
        Ok(())
    } else {
        Err(Error::DType {
            op: op.into(),
            got: dtype,
            expected: "f32".into(),
        })
    }
}

/// Numpy broadcasting; a symbolic dim matches itself or a static 1.
pub fn broadcast(op: &str, a: &Shape, b: &Shape) -> Result<Shape> {
    let rank = a.rank().max(b.rank());
    let mut dims = Vec::with_capacity(rank);
    for i in 0..rank {
        let da = dim_from_right(a, rank - 1 - i);
        let db = dim_from_right(b, rank - 1 - i);
        let d = match (&da, &db) {
            (x, y) if x == y => x.clone(),
            (Dim::Static(1), y) => y.clone(),
            (x, Dim::Static(1)) => x.clone(),
            _ => {
                return Err(Error::ShapeMismatch {
                    op: op.into(),
                    lhs: a.clone(),
                    rhs: b.clone(),
                    why: format!("dims {da} and {db} do not broadcast"),
                });
            }
        };
        dims.push(d);
    }
    Ok(Shape(dims))
}

/// Dim `i` counted from the left of a shape right-aligned to `rank` dims (1 when absent).
fn dim_from_right(s: &Shape, from_right: usize) -> Dim {
    if from_right < s.rank() {
        s.0[s.rank() - 1 - from_right].clone()
    } else {
        Dim::Static(1)
    }
}

pub(super) fn matmul(
    op: &str,
    (a, da): (&Shape, DType),
    (b, db): (&Shape, DType),
) -> Result<(Shape, DType)> {
    require_f32(op, da)?;
    require_f32(op, db)?;
    let mismatch = |why: String| Error::ShapeMismatch {
        op: op.into(),
        lhs: a.clone(),
        rhs: b.clone(),
        why,
    };
    if a.rank() < 2 || b.rank() < 2 {
        return Err(mismatch("both operands need rank >= 2".into()));
    }
    let (m, k) = (&a.0[a.rank() - 2], &a.0[a.rank() - 1]);
    let (k2, n) = (&b.0[b.rank() - 2], &b.0[b.rank() - 1]);
    if k != k2 {
        return Err(mismatch(format!("contraction dims {k} and {k2} differ")));
    }
    let batch_a = Shape(a.0[..a.rank() - 2].to_vec());
    let batch_b = Shape(b.0[..b.rank() - 2].to_vec());
    let mut out = broadcast(op, &batch_a, &batch_b).map_err(|_| {
        mismatch(format!(
            "batch dims {batch_a} and {batch_b} do not broadcast"
        ))
    })?;
    out.0.push(m.clone());
    out.0.push(n.clone());
    Ok((out, DType::F32))
}
