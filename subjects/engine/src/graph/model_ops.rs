//! Builder methods for the ops models need: embeddings, normalisation, slicing and joining,
//! convolution, pooling, attention, and the reshapes that go with them.

use crate::ops::Op;
use crate::{DType, Dim, Error, Graph, Result, Shape, Value};

impl Graph {
    /// Axis `axis` of a rank-`rank` value, negative counting from the end.
    fn axis(&self, op: &str, x: Value, axis: i64, rank: usize) -> Result<usize> {
        let a = if axis < 0 { axis + rank as i64 } else { axis };
        if a < 0 || a >= rank as i64 {
            return Err(Error::BadShape {
                op: op.into(),
                shape: self.shape(x).clone(),
                why: format!("axis {axis} is out of range for rank {rank}"),
            });
        }
        Ok(a as usize)
    }

    /// Rows of `table [V, D..]` picked by i64 `indices [I..]`: `[I.., D..]`. An index outside
    /// `0..V` is an error when the graph runs.
    pub fn gather(&mut self, table: Value, indices: Value) -> Result<Value> {
        self.push(Op::Gather, &[table, indices])
    }

    /// LayerNorm over the last axis with `gamma [D]` and `beta [D]`.
    pub fn layer_norm(&mut self, x: Value, gamma: Value, beta: Value, eps: f32) -> Result<Value> {
        self.push(Op::LayerNorm { eps }, &[x, gamma, beta])
    }

    /// Softmax along `axis` (negative counts from the end).
    pub fn softmax(&mut self, x: Value, axis: i64) -> Result<Value> {
        let axis = self.axis("softmax", x, axis, self.shape(x).rank())?;
        self.push(Op::Softmax { axis }, &[x])
    }

    /// Elements `start..end` of `axis`. On a symbolic dim, `end` is checked when it is bound.
    pub fn slice(&mut self, x: Value, axis: i64, start: usize, end: usize) -> Result<Value> {
        let axis = self.axis("slice", x, axis, self.shape(x).rank())?;
        self.push(Op::Slice { axis, start, end }, &[x])
    }

    /// Element `index` of `axis`, with that axis dropped (a slice, then a free reshape).
    pub fn select(&mut self, x: Value, axis: i64, index: usize) -> Result<Value> {
        let axis = self.axis("select", x, axis, self.shape(x).rank())?;
        let s = self.slice(x, axis as i64, index, index + 1)?;
        let mut dims = self.shape(s).0.clone();
        dims.remove(axis);
        self.reshape(s, dims)
    }

    /// `[len] = 0, 1, 2, ...`; a symbolic `len` ("seq") is bound by the inputs of each run.
    pub fn arange(&mut self, len: Dim, dtype: DType) -> Result<Value> {
        self.push(Op::Arange { len, dtype }, &[])
    }

    /// `values` joined along `axis`; every other dim must agree, the joined dims be static.
    pub fn concat(&mut self, values: &[Value], axis: i64) -> Result<Value> {
        let Some(&first) = values.first() else {
            return Err(Error::BadArgument {
                op: "concat".into(),
                why: "needs at least one input".into(),
            });
        };
        let axis = self.axis("concat", first, axis, self.shape(first).rank())?;
        self.push(Op::Concat { axis }, values)
    }

    /// NCHW convolution of `x [N, C, H, W]` by `weight [O, C, kh, kw]`, plus `bias [O]`.
    pub fn conv2d(
        &mut self,
        x: Value,
        weight: Value,
        bias: Option<Value>,
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Result<Value> {
        let op = Op::Conv2d {
            stride,
            padding,
            bias: bias.is_some(),
        };
        match bias {
            Some(b) => self.push(op, &[x, weight, b]),
            None => self.push(op, &[x, weight]),
        }
    }

    /// Max over `kernel` windows of the spatial axes of `x [N, C, H, W]` (no padding).
    pub fn max_pool2d(
        &mut self,
        x: Value,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> Result<Value> {
        self.push(Op::MaxPool2d { kernel, stride }, &[x])
    }

    /// Merges the axes from `start_axis` on into one (a free reshape). Leading dims stay as
    /// they are, symbolic ones included; the merged dims must be static (or a single dim).
    pub fn flatten(&mut self, x: Value, start_axis: i64) -> Result<Value> {
        let shape = self.shape(x).clone();
        let start = self.axis("flatten", x, start_axis, shape.rank())?;
        let tail = Shape(shape.0[start..].to_vec());
        let merged = match tail.to_static() {
            Some(d) => Dim::Static(d.iter().product()),
            None if tail.rank() == 1 => tail.0[0].clone(),
            None => {
                return Err(Error::BadShape {
                    op: "flatten".into(),
                    shape,
                    why: format!("cannot merge the symbolic dims of {tail} into one"),
                });
            }
        };
        let mut dims = shape.0[..start].to_vec();
        dims.push(merged);
        self.reshape(x, dims)
    }

    /// Inserts a size-1 axis at `axis` (0..=rank; negative counts from rank + 1).
    pub fn unsqueeze(&mut self, x: Value, axis: i64) -> Result<Value> {
        let rank = self.shape(x).rank();
        let axis = self.axis("unsqueeze", x, axis, rank + 1)?;
        let mut dims = self.shape(x).0.clone();
        dims.insert(axis, Dim::Static(1));
        self.reshape(x, dims)
    }

    /// `softmax(q k^T * scale + mask) v` for `q [.., Sq, Dh]`, `k [.., Sk, Dh]`,
    /// `v [.., Sk, Dv]` and an additive f32 `mask` broadcastable to `[.., Sq, Sk]`.
    pub fn attention(
        &mut self,
        q: Value,
        k: Value,
        v: Value,
        mask: Option<Value>,
        scale: f32,
    ) -> Result<Value> {
        let op = Op::Attention {
            scale,
            masked: mask.is_some(),
        };
        match mask {
            Some(m) => self.push(op, &[q, k, v, m]),
            None => self.push(op, &[q, k, v]),
        }
    }
}
