//! The reference interpreter: the correctness oracle for every subject.
//!
//! Plain loops that share nothing with an optimised path. Every value is held in f64: inputs
//! and constants are converted on the way in, sums accumulate in f64, and a value is converted
//! to its node's dtype (f32 or i64) only when it leaves as a graph output. It runs any graph
//! that validates, the compiler's fused nodes included (as the public ops they decompose
//! into), so a compiled graph can be checked against the graph it was compiled from.
//!
//! i64 values are held in f64 too, so they are exact up to 2^53 in magnitude.

mod model_ops;

use crate::layout::{broadcast_strides, strided_offsets};
use crate::lowering::{Form, Lowering, Patterns};
use crate::ops::{Op, ReduceOp};
use crate::{DType, Data, Error, Graph, Result, Tensor, Value, strides};

/// Runs `graph` on `inputs` (in the order the inputs were declared) and returns its outputs.
///
/// Fails with [`Error::Graph`] for a wrong number of inputs or an invalid graph, and with
/// [`Error::BadInput`] naming the input whose dtype or shape does not match its declaration.
pub fn run(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    // Fused ops mean exactly the public ops they fuse.
    let lowering = Lowering::new(graph, Patterns::default())?;
    let graph = &lowering.graph;
    let bindings = graph.bind_inputs(inputs)?;
    let shapes = graph.concrete_shapes(&bindings)?;
    let nodes = graph.nodes();

    let mut values: Vec<Option<Vec<f64>>> = vec![None; nodes.len()];
    for (v, t) in graph.inputs().iter().zip(inputs) {
        values[v.0] = Some(t.to_f64_vec());
    }
    for (i, node) in nodes.iter().enumerate() {
        if let (Op::Constant(t), Form::Constant) = (&node.op, &lowering.forms[i]) {
            values[i] = Some(t.to_f64_vec());
        }
    }
    let step = |i: usize, args: &[&Vec<f64>]| -> Result<Vec<f64>> {
        let ins: Vec<Operand> = args
            .iter()
            .zip(&nodes[i].inputs)
            .map(|(data, v)| Operand {
                data,
                dims: &shapes[v.0],
            })
            .collect();
        let out = eval(&nodes[i].op, &ins, &shapes[i])?;
        let expected = numel(&shapes[i]);
        if out.len() != expected {
            return Err(Error::Graph {
                graph: graph.name().into(),
                why: format!(
                    "node {i} ({}) produced {} elements for shape {:?} ({expected} elements)",
                    nodes[i].op.name(),
                    out.len(),
                    shapes[i]
                ),
            });
        }
        Ok(out)
    };
    let output = |data: &Vec<f64>, v: Value| -> Result<Tensor> {
        let data = match graph.dtype(v) {
            DType::F32 => Data::F32(data.iter().map(|&x| x as f32).collect()),
            DType::I64 => Data::I64(data.iter().map(|&x| x as i64).collect()),
        };
        Tensor::new(&shapes[v.0], data)
    };
    lowering.run(values, step, output)
}

/// An evaluated node input: row-major f64 elements and concrete dims.
struct Operand<'a> {
    data: &'a [f64],
    dims: &'a [usize],
}

impl Operand<'_> {
    /// This operand broadcast to `dims` (numpy rules), materialised row-major.
    fn broadcast_to(&self, dims: &[usize]) -> Vec<f64> {
        gather(
            self.data,
            dims,
            &broadcast_strides(self.dims, &strides(self.dims), dims),
        )
    }
}

/// Computes one node that is not a source, given its evaluated inputs and its output dims.
/// Fails only on data the shapes cannot rule out (an index out of range).
fn eval(op: &Op, ins: &[Operand], out: &[usize]) -> Result<Vec<f64>> {
    Ok(match op {
        Op::Input { .. } | Op::Constant(_) => unreachable!("`run` reads sources itself"),
        Op::Unary(u) => ins[0].data.iter().map(|&x| u.eval_f64(x)).collect(),
        Op::Binary(b) => {
            let (x, y) = (ins[0].broadcast_to(out), ins[1].broadcast_to(out));
            x.iter().zip(&y).map(|(&x, &y)| b.eval_f64(x, y)).collect()
        }
        Op::MatMul => matmul(&ins[0], &ins[1], out),
        Op::Transpose { perm } => {
            // Output axis `i` walks input axis `perm[i]`.
            let in_strides = strides(ins[0].dims);
            let walk: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
            gather(ins[0].data, out, &walk)
        }
        // Row-major data is unchanged by a reshape.
        Op::Reshape { .. } => ins[0].data.to_vec(),
        Op::BroadcastTo { .. } => ins[0].broadcast_to(out),
        Op::Reduce { op, axes, .. } => reduce(*op, &ins[0], axes),
        Op::Cast { to } => match to {
            // numpy's `astype(int64)`: truncate toward zero.
            DType::I64 => ins[0].data.iter().map(|x| x.trunc()).collect(),
            DType::F32 => ins[0].data.to_vec(),
        },
        Op::Gather => model_ops::gather(&ins[0], &ins[1])?,
        Op::LayerNorm { eps } => model_ops::layer_norm(&ins[0], &ins[1], &ins[2], *eps),
        Op::Softmax { axis } => model_ops::softmax(&ins[0], *axis),
        Op::Slice { axis, start, end } => model_ops::slice(&ins[0], *axis, *start, *end),
        Op::Concat { axis } => model_ops::concat(ins, *axis),
        Op::Arange { .. } => (0..out[0]).map(|i| i as f64).collect(),
        Op::Conv2d {
            stride, padding, ..
        } => model_ops::conv2d(ins, out, *stride, *padding),
        Op::MaxPool2d { kernel, stride } => model_ops::max_pool2d(&ins[0], out, *kernel, *stride),
        Op::Attention { scale, .. } => model_ops::attention(ins, out, *scale),
        Op::Fused(_) => unreachable!("`run` decomposes fused ops first"),
    })
}

/// `[..., m, k] @ [..., k, n]`: both operands broadcast to the output's batch dims, then one
/// dot product per output element, accumulated in f64.
fn matmul(a: &Operand, b: &Operand, out: &[usize]) -> Vec<f64> {
    let rank = out.len();
    let (m, n) = (out[rank - 2], out[rank - 1]);
    let k = a.dims[a.dims.len() - 1];
    let batch = &out[..rank - 2];
    let a = a.broadcast_to(&[batch, &[m, k]].concat());
    let b = b.broadcast_to(&[batch, &[k, n]].concat());
    let mut c = vec![0.0; numel(out)];
    for i in 0..numel(batch) {
        let a = &a[i * m * k..][..m * k];
        let b = &b[i * k * n..][..k * n];
        let c = &mut c[i * m * n..][..m * n];
        // Row-by-row accumulation (i, p, j order): still the textbook sum in f64, but it
        // walks `b` contiguously, which keeps model-sized references to seconds, not minutes.
        for row in 0..m {
            let c_row = &mut c[row * n..][..n];
            for p in 0..k {
                let a_rp = a[row * k + p];
                for (c, &b) in c_row.iter_mut().zip(&b[p * n..][..n]) {
                    *c += a_rp * b;
                }
            }
        }
    }
    c
}

/// Reduces over `axes`. The output holds the kept axes in order, which is the same row-major
/// data whether or not the reduced axes are kept as size 1.
fn reduce(op: ReduceOp, x: &Operand, axes: &[usize]) -> Vec<f64> {
    let kept: Vec<usize> = (0..x.dims.len())
        .map(|k| if axes.contains(&k) { 1 } else { x.dims[k] })
        .collect();
    // Walking the input with these strides gives each element's output slot.
    let mut slot_strides = strides(&kept);
    for &a in axes {
        slot_strides[a] = 0;
    }
    let init = match op {
        ReduceOp::Max => f64::NEG_INFINITY,
        ReduceOp::Sum | ReduceOp::Mean => 0.0,
    };
    let mut acc = vec![init; numel(&kept)];
    for (&v, slot) in x.data.iter().zip(strided_offsets(x.dims, &slot_strides)) {
        acc[slot] = match op {
            // NaN wins, as in numpy's `max`.
            ReduceOp::Max if v > acc[slot] || v.is_nan() => v,
            ReduceOp::Max => acc[slot],
            ReduceOp::Sum | ReduceOp::Mean => acc[slot] + v,
        };
    }
    if op == ReduceOp::Mean {
        // An empty reduction gives 0/0 = NaN, as numpy does.
        let count = axes.iter().map(|&a| x.dims[a]).product::<usize>() as f64;
        acc.iter_mut().for_each(|s| *s /= count);
    }
    acc
}

fn numel(dims: &[usize]) -> usize {
    dims.iter().product()
}

/// The elements of `src` at every multi-index of `dims` (row-major), read with `strides`.
fn gather(src: &[f64], dims: &[usize], strides: &[usize]) -> Vec<f64> {
    strided_offsets(dims, strides).map(|o| src[o]).collect()
}
