//! The op mapping: every engine op as standard ONNX (opset 17) nodes.

use super::exporter::{Exporter, unsupported};
use super::proto::{Attribute, data_type};
use crate::layout::copy_strided;
use crate::lowering::Form;
use crate::ops::elementwise::{GELU_TANH_COEF, SQRT_2_OVER_PI};
use crate::ops::{Op, ReduceOp, UnaryOp};
use crate::{DType, Data, Dim, Result, Shape, Tensor, Value, strides};

/// `t` with its axes reordered: output axis `i` is input axis `perm[i]`.
fn permuted(t: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let dims = t.dims();
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let in_strides = strides(dims);
    let walk: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let data = match t.data() {
        Data::F32(v) => {
            let mut out = vec![0.0; v.len()];
            copy_strided(v, &out_dims, &walk, &mut out);
            Data::F32(out)
        }
        Data::I64(v) => {
            let mut out = vec![0; v.len()];
            copy_strided(v, &out_dims, &walk, &mut out);
            Data::I64(out)
        }
    };
    Tensor::new(&out_dims, data)
}

macro_rules! onnx_unary {
    ($( $(#[$doc:meta])* $v:ident($fn:ident) { flops: $fl:expr, cost: $c:expr, domain: $d:tt,
        f64: $f64:expr, f32: $f32:ident, wgsl: $w:literal, onnx: $onnx:expr, $($rest:tt)* } )*) => {
        impl Exporter<'_> {
            /// `op(x)` written to `dst`, in the ONNX form of its row of the op table.
            fn unary(&mut self, op: UnaryOp, x: String, dst: &str) {
                match op {
                    $( UnaryOp::$v => {
                        let emit: fn(&mut Self, String, &str) = $onnx;
                        emit(self, x, dst)
                    } )*
                }
            }
        }
    };
}
crate::unary_ops!(onnx_unary);

impl Exporter<'_> {
    pub(super) fn emit(&mut self, i: usize, dst: &str) -> Result<()> {
        let g = self.g;
        let node = &g.nodes()[i];
        let ins = &node.inputs;
        let dst_s = dst.to_string();
        match &node.op {
            Op::Input { .. } | Op::Constant(_) => unreachable!("sources are not emitted"),
            Op::Unary(op) => {
                let x = self.value(ins[0])?;
                self.unary(*op, x, dst);
            }
            Op::Binary(op) => {
                let (a, b) = (self.value(ins[0])?, self.value(ins[1])?);
                self.push(op.onnx(), vec![a, b], vec![], dst_s);
            }
            Op::MatMul => {
                let (a, b) = (self.value(ins[0])?, self.value(ins[1])?);
                self.push("MatMul", vec![a, b], vec![], dst_s);
            }
            Op::Transpose { perm } => {
                if let Op::Constant(t) = &g.node(ins[0]).op {
                    // A transposed weight is stored transposed, as ORT would fold it anyway.
                    let t = permuted(t, perm)?;
                    self.constant_result(t, dst);
                } else {
                    let x = self.value(ins[0])?;
                    let perm = perm.iter().map(|&p| p as i64).collect();
                    self.push(
                        "Transpose",
                        vec![x],
                        vec![Attribute::ints("perm", perm)],
                        dst_s,
                    );
                }
            }
            Op::Reshape { shape } => self.reshape(ins[0], shape, dst)?,
            Op::BroadcastTo { shape } => {
                // Expand broadcasts both ways, so a symbolic dim the input already has can
                // be written as 1 and needs no Shape node.
                let input = g.shape(ins[0]);
                let pad = shape.rank() - input.rank();
                let dims: Vec<Dim> = (shape.0.iter().enumerate())
                    .map(|(i, d)| match d {
                        Dim::Sym(_) if i >= pad && input.0[i - pad] == *d => Dim::Static(1),
                        d => d.clone(),
                    })
                    .collect();
                let x = self.value(ins[0])?;
                let s = self.shape_tensor(&dims)?;
                self.push("Expand", vec![x, s], vec![], dst_s);
            }
            Op::Reduce {
                op,
                axes,
                keep_dims,
            } => {
                let x = self.value(ins[0])?;
                if axes.is_empty() {
                    self.push("Identity", vec![x], vec![], dst_s);
                    return Ok(());
                }
                let axes: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
                let keep = Attribute::int("keepdims", i64::from(*keep_dims));
                match op {
                    ReduceOp::Sum => {
                        let a = self.i64s(&axes);
                        self.push("ReduceSum", vec![x, a], vec![keep], dst_s);
                    }
                    ReduceOp::Mean | ReduceOp::Max => {
                        let op_type = if *op == ReduceOp::Mean {
                            "ReduceMean"
                        } else {
                            "ReduceMax"
                        };
                        let attrs = vec![Attribute::ints("axes", axes), keep];
                        self.push(op_type, vec![x], attrs, dst_s);
                    }
                }
            }
            Op::Cast { to } => {
                let x = self.value(ins[0])?;
                let to = Attribute::int("to", data_type(*to));
                self.push("Cast", vec![x], vec![to], dst_s);
            }
            Op::Gather => {
                if let Form::Rows { len, .. } = &self.forms[i] {
                    let table = self.value(ins[0])?;
                    let end = match len {
                        Dim::Static(n) => self.i64s(&[*n as i64]),
                        Dim::Sym(s) => self.sym_dim(s)?,
                    };
                    let zero = self.i64s(&[0]);
                    self.push("Slice", vec![table, zero.clone(), end, zero], vec![], dst_s);
                } else {
                    let (t, i) = (self.value(ins[0])?, self.value(ins[1])?);
                    let axis = Attribute::int("axis", 0);
                    self.push("Gather", vec![t, i], vec![axis], dst_s);
                }
            }
            Op::LayerNorm { eps } => {
                let x = self.value(ins[0])?;
                self.layer_norm(x, ins[1], ins[2], *eps, dst)?;
            }
            Op::Softmax { axis } => {
                let x = self.value(ins[0])?;
                let axis = Attribute::int("axis", *axis as i64);
                self.push("Softmax", vec![x], vec![axis], dst_s);
            }
            Op::Slice { axis, start, end } => {
                let x = self.value(ins[0])?;
                let starts = self.i64s(&[*start as i64]);
                let ends = self.i64s(&[*end as i64]);
                let axes = self.i64s(&[*axis as i64]);
                self.push("Slice", vec![x, starts, ends, axes], vec![], dst_s);
            }
            Op::Concat { axis } => {
                let xs = ins.iter().map(|&v| self.value(v)).collect::<Result<_>>()?;
                let axis = Attribute::int("axis", *axis as i64);
                self.push("Concat", xs, vec![axis], dst_s);
            }
            Op::Arange { len, dtype } => match len {
                Dim::Static(n) => {
                    let t = match dtype {
                        DType::F32 => Tensor::from_f32(&[*n], (0..*n).map(|i| i as f32).collect()),
                        DType::I64 => Tensor::from_i64(&[*n], (0..*n as i64).collect()),
                    }?;
                    self.constant_result(t, dst);
                }
                Dim::Sym(s) => {
                    // Shape → Squeeze gives the scalar limit Range wants (REFERENCE §4: a
                    // Shape → Gather(scalar) → Range chain trips ORT 1.31.1).
                    let n = self.sym_dim(s)?;
                    let axes = self.i64s(&[0]);
                    let limit = self.push_tmp("Squeeze", vec![n, axes], vec![], dst, "len");
                    let (zero, one) = (self.i64_scalar(0), self.i64_scalar(1));
                    let range = vec![zero, limit, one];
                    match dtype {
                        DType::I64 => self.push("Range", range, vec![], dst_s),
                        DType::F32 => {
                            let r = self.push_tmp("Range", range, vec![], dst, "i64");
                            let to = Attribute::int("to", data_type(DType::F32));
                            self.push("Cast", vec![r], vec![to], dst_s);
                        }
                    }
                }
            },
            Op::Conv2d {
                stride, padding, ..
            } => {
                let xs: Vec<String> = ins.iter().map(|&v| self.value(v)).collect::<Result<_>>()?;
                let w = g.shape(ins[1]);
                let kernel = [2, 3].map(|k| w.0[k].as_static().map(|n| n as i64));
                let [Some(kh), Some(kw)] = kernel else {
                    return Err(unsupported(
                        "conv2d",
                        format!("kernel {w} has symbolic spatial dims"),
                    ));
                };
                let (p, s) = (padding.map(|p| p as i64), stride.map(|s| s as i64));
                let attrs = vec![
                    Attribute::ints("kernel_shape", vec![kh, kw]),
                    Attribute::ints("pads", vec![p[0], p[1], p[0], p[1]]),
                    Attribute::ints("strides", s.to_vec()),
                ];
                self.push("Conv", xs, attrs, dst_s);
            }
            Op::MaxPool2d { kernel, stride } => {
                let x = self.value(ins[0])?;
                let attrs = vec![
                    Attribute::ints("kernel_shape", kernel.map(|k| k as i64).to_vec()),
                    Attribute::ints("strides", stride.map(|s| s as i64).to_vec()),
                ];
                self.push("MaxPool", vec![x], attrs, dst_s);
            }
            Op::Attention { scale, masked } => {
                let (q, k, v) = (
                    self.value(ins[0])?,
                    self.value(ins[1])?,
                    self.value(ins[2])?,
                );
                let rank = g.shape(ins[1]).rank();
                let mut perm: Vec<i64> = (0..rank as i64).collect();
                perm.swap(rank - 2, rank - 1);
                let perm = vec![Attribute::ints("perm", perm)];
                let kt = self.push_tmp("Transpose", vec![k], perm, dst, "k_t");
                let scores = self.push_tmp("MatMul", vec![q, kt], vec![], dst, "scores");
                let c = self.f32_scalar(*scale);
                let mut scores = self.push_tmp("Mul", vec![scores, c], vec![], dst, "scaled");
                if *masked {
                    let m = self.value(ins[3])?;
                    scores = self.push_tmp("Add", vec![scores, m], vec![], dst, "masked");
                }
                let axis = vec![Attribute::int("axis", -1)];
                let probs = self.push_tmp("Softmax", vec![scores], axis, dst, "probs");
                self.push("MatMul", vec![probs, v], vec![], dst_s);
            }
            Op::Fused(_) => unreachable!("`graph_def` decomposes fused ops first"),
        }
        Ok(())
    }

    /// A standard ONNX op of one input.
    fn native(&mut self, op_type: &'static str, x: String, dst: &str) {
        self.push(op_type, vec![x], vec![], dst.to_string());
    }

    fn rsqrt(&mut self, x: String, dst: &str) {
        let s = self.push_tmp("Sqrt", vec![x], vec![], dst, "sqrt");
        self.push("Reciprocal", vec![s], vec![], dst.to_string());
    }

    /// x * (1 + erf(x / sqrt 2)) * 0.5: ORT's GeluFusion pattern.
    fn gelu_erf(&mut self, x: String, dst: &str) {
        let sqrt2 = self.f32_scalar(std::f32::consts::SQRT_2);
        let d = self.push_tmp("Div", vec![x.clone(), sqrt2], vec![], dst, "div");
        let e = self.push_tmp("Erf", vec![d], vec![], dst, "erf");
        let one = self.f32_scalar(1.0);
        let a = self.push_tmp("Add", vec![e, one], vec![], dst, "add");
        let m = self.push_tmp("Mul", vec![x, a], vec![], dst, "mul");
        let half = self.f32_scalar(0.5);
        self.push("Mul", vec![m, half], vec![], dst.to_string());
    }

    /// x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))): ORT's FastGeluFusion pattern.
    fn gelu_tanh(&mut self, x: String, dst: &str) {
        let three = self.f32_scalar(3.0);
        let cube = self.push_tmp("Pow", vec![x.clone(), three], vec![], dst, "cube");
        let coef = self.f32_scalar(GELU_TANH_COEF as f32);
        let c = self.push_tmp("Mul", vec![cube, coef], vec![], dst, "coef");
        let inner = self.push_tmp("Add", vec![x.clone(), c], vec![], dst, "inner");
        let k = self.f32_scalar(SQRT_2_OVER_PI as f32);
        let scaled = self.push_tmp("Mul", vec![inner, k], vec![], dst, "scaled");
        let t = self.push_tmp("Tanh", vec![scaled], vec![], dst, "tanh");
        let one = self.f32_scalar(1.0);
        let a = self.push_tmp("Add", vec![t, one], vec![], dst, "add");
        let half = self.f32_scalar(0.5);
        let h = self.push_tmp("Mul", vec![x, half], vec![], dst, "half");
        self.push("Mul", vec![h, a], vec![], dst.to_string());
    }

    fn layer_norm(
        &mut self,
        x: String,
        gamma: Value,
        beta: Value,
        eps: f32,
        dst: &str,
    ) -> Result<()> {
        let (gm, bt) = (self.value(gamma)?, self.value(beta)?);
        let attrs = vec![Attribute::int("axis", -1), Attribute::float("epsilon", eps)];
        self.push(
            "LayerNormalization",
            vec![x, gm, bt],
            attrs,
            dst.to_string(),
        );
        Ok(())
    }

    fn reshape(&mut self, x: Value, target: &Shape, dst: &str) -> Result<()> {
        let input = self.g.shape(x).clone();
        let xs = self.value(x)?;
        let mut attrs = Vec::new();
        let shape = if target.0.contains(&Dim::Static(0)) {
            // A literal 0 means "copy" unless `allowzero`, and then no dim can be copied.
            attrs.push(Attribute::int("allowzero", 1));
            self.shape_tensor(&target.0)?
        } else {
            // Static dims as they are, a symbolic dim where the input has it as 0 (copy),
            // one other symbolic dim as -1 (inferred); more need the sizes read at run time.
            let mut spec = Vec::with_capacity(target.rank());
            let mut inferred = 0;
            for (i, d) in target.0.iter().enumerate() {
                spec.push(match d {
                    Dim::Static(n) => *n as i64,
                    Dim::Sym(_) if input.0.get(i) == Some(d) => 0,
                    Dim::Sym(_) => {
                        inferred += 1;
                        -1
                    }
                });
            }
            if inferred <= 1 {
                self.i64s(&spec)
            } else {
                self.shape_tensor(&target.0)?
            }
        };
        self.push("Reshape", vec![xs, shape], attrs, dst.to_string());
        Ok(())
    }
}
