//! WGSL kernels, one family per file, and the jobs (dispatches) each node becomes for one
//! memory plan.
//!
//! Shaders read their shapes from a small `u32` parameter buffer (binding 0), so one
//! pipeline serves every binding of the symbolic dims and every node of the same kind; a
//! source that depends on more than the op (a fused program, whether an operand is dense)
//! is generated, and the executable caches pipelines by source text. Every data binding is
//! `read_write`: intermediates share one arena buffer, and wgpu refuses one buffer bound
//! both read-only and writable in a dispatch.

mod attention;
mod conv;
mod elementwise;
mod matmul;
mod movement;
mod norm;

use crate::compiler::memory_plan::Plan;
use crate::ops::{FusedOp, Op};
use crate::{DType, Error, Graph, Result, Value};

/// Ranks the strided kernels index (padded with leading size-1 axes).
pub const MAX_RANK: usize = 6;
/// Batch axes of matmul and attention (their rank minus the two matrix axes).
pub const MAX_BATCH: usize = MAX_RANK - 2;
/// Most workgroups along one dispatch axis on every backend.
const MAX_GROUPS: u32 = 65_535;

/// One dispatch: a shader, its parameters, the values whose buffers it binds (after the
/// parameters, in the shader's binding order: the output first) and its grid.
pub struct Job {
    pub source: String,
    pub params: Vec<u32>,
    pub values: Vec<Value>,
    pub groups: [u32; 3],
    /// Whether the run's status word is bound after the values: a kernel that meets bad
    /// data (an index outside a table) records its node there, and the run fails naming it.
    pub status: bool,
}

/// Which operands of `node` the kernels read through strides (so views may feed them).
pub fn reads_strided(op: &Op, _k: usize) -> bool {
    matches!(
        op,
        Op::Unary(_)
            | Op::Binary(_)
            | Op::Fused(FusedOp::Elementwise(_) | FusedOp::MatMulEpilogue(_))
            | Op::MatMul
            | Op::Attention { .. }
            | Op::Transpose { .. }
            | Op::Reshape { .. }
            | Op::BroadcastTo { .. }
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::Reduce { .. }
    )
}

/// The jobs of node `v` (which computes: its home is the arena or an output).
pub fn jobs(g: &Graph, plan: &Plan, v: Value) -> Result<Vec<Job>> {
    let node = g.node(v);
    let ctx = Node { g, plan, v };
    if plan.dims[v.0].iter().product::<usize>() == 0 {
        return Ok(vec![]);
    }
    if plan.dims[v.0].len() > MAX_RANK {
        return Err(ctx.error(format!(
            "rank {} (the GPU kernels index up to rank {MAX_RANK})",
            plan.dims[v.0].len()
        )));
    }
    match &node.op {
        Op::Input { .. } | Op::Constant(_) => Ok(vec![]),
        Op::Unary(u) => Ok(vec![elementwise::unary(&ctx, *u)]),
        Op::Binary(b) => Ok(vec![elementwise::binary(&ctx, *b)]),
        Op::Fused(FusedOp::Elementwise(p)) => Ok(vec![elementwise::program(&ctx, p)?]),
        Op::MatMul => Ok(vec![matmul::job(&ctx, None)?]),
        Op::Fused(FusedOp::MatMulEpilogue(p)) => Ok(vec![matmul::job(&ctx, Some(p))?]),
        Op::Transpose { .. } | Op::BroadcastTo { .. } | Op::Reshape { .. } => {
            Ok(vec![movement::view_copy(&ctx)?])
        }
        Op::Slice { axis, start, .. } => Ok(vec![movement::slice(&ctx, *axis, *start)]),
        Op::Concat { axis } => Ok(movement::concat(&ctx, *axis)),
        Op::Cast { .. } => Ok(vec![movement::cast(&ctx)]),
        Op::Arange { .. } => Ok(vec![movement::arange(&ctx)]),
        Op::Gather => Ok(vec![movement::gather(&ctx)]),
        Op::Reduce { op, axes, .. } => Ok(vec![norm::reduce(&ctx, *op, axes)]),
        Op::Softmax { axis } => Ok(vec![norm::softmax(&ctx, *axis)]),
        Op::LayerNorm { eps } | Op::Fused(FusedOp::AddLayerNorm { eps }) => {
            Ok(vec![norm::layer_norm(&ctx, *eps)])
        }
        Op::Conv2d {
            stride,
            padding,
            bias,
        } => Ok(vec![conv::conv2d(&ctx, *stride, *padding, *bias)]),
        Op::MaxPool2d { kernel, stride } => Ok(vec![conv::max_pool2d(&ctx, *kernel, *stride)]),
        Op::Attention { scale, masked } => Ok(vec![attention::job(&ctx, *scale, *masked)?]),
    }
}

/// A node as its kernel sees it under one plan.
struct Node<'a> {
    g: &'a Graph,
    plan: &'a Plan,
    v: Value,
}

impl Node<'_> {
    fn input(&self, k: usize) -> Value {
        self.g.node(self.v).inputs[k]
    }

    fn inputs(&self) -> &[Value] {
        &self.g.node(self.v).inputs
    }

    /// The values most kernels bind, in binding order: the output, then every input.
    fn output_and_inputs(&self) -> Vec<Value> {
        std::iter::once(self.v)
            .chain(self.inputs().iter().copied())
            .collect()
    }

    fn dims(&self, v: Value) -> &[usize] {
        &self.plan.dims[v.0]
    }

    fn out_dims(&self) -> &[usize] {
        self.dims(self.v)
    }

    fn strides(&self, v: Value) -> &[usize] {
        &self.plan.strides[v.0]
    }

    fn elements(&self) -> usize {
        self.out_dims().iter().product()
    }

    /// Element strides of `v` read at every index of `dims` (right-aligned, 0 where `v`
    /// is broadcast), padded to `rank`.
    fn broadcast_strides(&self, v: Value, dims: &[usize], rank: usize) -> Vec<u32> {
        let (vd, vs) = (self.dims(v), self.strides(v));
        let mut s = vec![0u32; rank];
        for j in 0..vd.len() {
            let at = rank - vd.len() + j;
            let out = dims[dims.len() - vd.len() + j];
            s[at] = if vd[j] == 1 && out != 1 {
                0
            } else {
                vs[j] as u32
            };
        }
        s
    }

    /// Words (u32) per element of `v`'s dtype.
    fn words(&self, v: Value) -> u32 {
        match self.g.dtype(v) {
            DType::F32 => 1,
            DType::I64 => 2,
        }
    }

    fn error(&self, why: String) -> Error {
        let node = self.g.node(self.v);
        Error::Gpu(format!("{} (node {}): {why}", node.op.name(), self.v.0))
    }
}

/// `dims` padded with leading 1s to `rank`.
fn padded(dims: &[usize], rank: usize) -> Vec<u32> {
    let mut d = vec![1u32; rank - dims.len()];
    d.extend(dims.iter().map(|&x| x as u32));
    d
}

/// `strides` padded with leading 0s to `rank` (the axes a lower-rank operand lacks).
/// (Strides past `u32` cannot occur: such a buffer exceeds every binding limit.)
fn padded_strides<T: Copy + TryInto<u32>>(strides: &[T], rank: usize) -> Vec<u32> {
    let mut s = vec![0u32; rank - strides.len()];
    s.extend(strides.iter().map(|&x| x.try_into().unwrap_or(u32::MAX)));
    s
}

/// Row-major strides of `dims` padded with leading 0s to `rank`.
fn dense_strides(dims: &[usize], rank: usize) -> Vec<u32> {
    let mut s = vec![0u32; rank - dims.len()];
    s.extend(crate::strides(dims).iter().map(|&x| x as u32));
    s
}

/// A grid of `n` workgroups, folded into two axes past the per-axis limit. Shaders
/// recover the linear index as `id.x + id.y * num_workgroups.x`.
fn grid(n: usize) -> [u32; 3] {
    let n = n.max(1) as u64;
    let x = n.min(u64::from(MAX_GROUPS));
    [x as u32, n.div_ceil(x) as u32, 1]
}

/// The bindings every shader starts with, then `data` read-write arrays named as given.
fn header(data: &[(&str, &str)]) -> String {
    let mut s = String::from("@group(0) @binding(0) var<storage, read> p: array<u32>;\n");
    for (i, (name, ty)) in data.iter().enumerate() {
        s += &format!(
            "@group(0) @binding({}) var<storage, read_write> {name}: array<{ty}>;\n",
            i + 1
        );
    }
    s
}

/// WGSL functions the op table's snippets call (WGSL has no erf).
const PRELUDE: &str = r#"
fn erf_approx(x: f32) -> f32 {
    // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
    let s = sign(x);
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return s * y;
}
fn gelu_erf(x: f32) -> f32 {
    return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
}
fn gelu_tanh(x: f32) -> f32 {
    // tanh of a clamped argument: some drivers return NaN for tanh of large values.
    let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
    return 0.5 * x * (1.0 + tanh(u));
}
"#;

pub(super) const ELEMENTS_WG: usize = 256;

/// A shader running `body` for every element index `i < p[0]` (the grid from
/// `grid(n.div_ceil(ELEMENTS_WG))`).
pub(super) fn one_per_element(body: &str) -> String {
    format!(
        "@compute @workgroup_size({ELEMENTS_WG})\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {{\n    let i = gid.x + gid.y * nw.x * {ELEMENTS_WG}u;\n    if (i >= p[0]) {{ return; }}\n    {body}\n}}\n"
    )
}

/// `f32` bits as a WGSL expression (exact, unlike a decimal literal).
fn f32_literal(x: f32) -> String {
    format!("bitcast<f32>({}u)", x.to_bits())
}
