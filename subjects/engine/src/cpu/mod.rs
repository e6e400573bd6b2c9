//! The CPU backend: lowering to kernels, weight packing, the executable, one job per file.
//!
//! Kernels work on slices (no allocation of their own beyond small index vectors) so the
//! executor can point them into its arena; constant folding calls the same kernels through
//! [`eval`] on owned tensors, so folded values match run-time ones bit for bit.

mod attention;
mod cast;
mod concat;
mod conv;
mod elementwise;
mod executable;
mod gemv;
mod index;
mod isa;
mod lower;
pub(crate) mod math;
mod matmul;
mod movement;
mod norm;
mod pack_weights;
mod pool;
mod reduce;
mod softmax;

use std::fmt;

use crate::compiler::{Backend, CompileReport, Compiled};

use elementwise::Operand;
use gemv::{Panels, pack as pack_panels};
pub use isa::{Isa, cpu_isa};
use lower::{Epilogue, Kernel};

/// The CPU as a compilation target: the standard passes, then kernels on a pool of
/// `threads`.
pub(crate) struct CpuBackend {
    threads: usize,
}

impl CpuBackend {
    pub fn new(threads: usize) -> CpuBackend {
        CpuBackend { threads }
    }
}

impl Backend for CpuBackend {
    fn eval_constant(
        &self,
        op: &Op,
        inputs: &[&Tensor],
        out_dims: &[usize],
        dtype: crate::DType,
    ) -> Result<Tensor> {
        eval(op, inputs, out_dims, dtype)
    }

    fn lower(&self, graph: crate::Graph, report: CompileReport) -> Result<Box<dyn Compiled>> {
        Ok(Box::new(executable::CpuExecutable::new(
            graph,
            report,
            self.threads,
        )?))
    }
}

/// What the CPU backend chose.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuReport {
    /// ISA of the element-wise and reduction kernels (`cpu_isa()`).
    pub isa: &'static str,
    /// Threads of the executable's pool.
    pub threads: usize,
    /// Constant matmul weights re-stored in column panels for the small-M kernel.
    pub panel_weights: usize,
}

impl fmt::Display for CpuReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpu: isa {} | threads {} | {} weights in panels",
            self.isa, self.threads, self.panel_weights
        )
    }
}

use crate::ops::Op;
use crate::{Data, Error, Result, Tensor, strides};

/// A node input as the kernels see it: elements from the start of the (root) buffer,
/// concrete dims and element strides (0 along broadcast axes).
pub(crate) struct Arg<'a> {
    pub data: ArgData<'a>,
    pub dims: &'a [usize],
    pub strides: &'a [usize],
}

pub(crate) enum ArgData<'a> {
    F32(&'a [f32]),
    I64(&'a [i64]),
}

/// Where a node writes its (contiguous, row-major) output.
pub(crate) enum OutData<'a> {
    F32(&'a mut [f32]),
    I64(&'a mut [i64]),
}

impl Arg<'_> {
    /// Whether the elements are dense row-major from the start of `data`.
    pub fn is_contiguous(&self) -> bool {
        self.dims.iter().product::<usize>() <= 1 || self.strides == strides(self.dims).as_slice()
    }

    fn f32(&self, op: &str) -> Result<&[f32]> {
        match self.data {
            ArgData::F32(d) => Ok(d),
            ArgData::I64(_) => Err(dtype_error(op)),
        }
    }

    /// The elements of a dense f32 operand, for kernels that do not read strides (the memory
    /// plan hands strided views only to matmul and attention).
    fn dense_f32(&self, op: &str) -> Result<&[f32]> {
        self.require_contiguous(op)?;
        let n = self.dims.iter().product();
        Ok(&self.f32(op)?[..n])
    }

    fn require_contiguous(&self, op: &str) -> Result<()> {
        if self.is_contiguous() {
            Ok(())
        } else {
            Err(Error::BadArgument {
                op: op.into(),
                why: "the CPU kernel expects a contiguous input".into(),
            })
        }
    }
}

impl OutData<'_> {
    fn f32(&mut self, op: &str) -> Result<&mut [f32]> {
        match self {
            OutData::F32(d) => Ok(d),
            OutData::I64(_) => Err(dtype_error(op)),
        }
    }
}

fn dtype_error(op: &str) -> Error {
    Error::BadArgument {
        op: op.into(),
        why: "the CPU kernel got an operand of the wrong dtype".into(),
    }
}

/// How a kernel may spread its work.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub isa: Isa,
    /// Threads of the pool the call runs in (1 = stay on the calling thread).
    pub threads: usize,
}

/// Runs one lowered node: `out = kernel(args)`, `out_dims` being the node's concrete shape.
pub(crate) fn run_node(
    ctx: Ctx,
    kernel: &Kernel,
    args: &[Arg],
    out: OutData,
    out_dims: &[usize],
) -> Result<()> {
    match kernel {
        Kernel::Source => Ok(()),
        Kernel::Elementwise(prog) => {
            let operands = args
                .iter()
                .map(|a| Ok(Operand::new(a.f32("fused_elementwise")?, a, out_dims)))
                .collect::<Result<Vec<_>>>()?;
            let mut out = out;
            elementwise::eval(ctx, prog, &operands, out.f32("fused_elementwise")?);
            Ok(())
        }
        Kernel::MatMul(epilogue, panels) => {
            let mut out = out;
            matmul::matmul_epilogue(
                ctx,
                args,
                epilogue.as_ref(),
                panels.as_deref(),
                out.f32("matmul")?,
                out_dims,
            )
        }
        Kernel::Copy(op) => movement::copy(op, &args[0], out, out_dims),
        Kernel::Reduce { op, axes } => {
            let mut out = out;
            reduce::reduce(ctx, *op, axes, &args[0], out.f32("reduce")?)
        }
        Kernel::Cast => cast::cast(&args[0], out),
        Kernel::Gather => index::gather(&args[0], &args[1], out),
        Kernel::Arange => index::arange(out),
        Kernel::Slice { axis, start } => concat::slice(&args[0], *axis, *start, out, out_dims),
        Kernel::Concat { axis } => concat::concat(args, *axis, out),
        Kernel::LayerNorm { eps } => {
            let mut out = out;
            norm::layer_norm(ctx, args, *eps, out.f32("layer_norm")?)
        }
        Kernel::Softmax { axis } => {
            let mut out = out;
            softmax::softmax(ctx, *axis, &args[0], out.f32("softmax")?)
        }
        Kernel::Conv2d { stride, padding } => {
            let mut out = out;
            conv::conv2d(ctx, args, *stride, *padding, out.f32("conv2d")?, out_dims)
        }
        Kernel::MaxPool2d { kernel, stride } => {
            let mut out = out;
            pool::max_pool2d(
                ctx,
                &args[0],
                *kernel,
                *stride,
                out.f32("max_pool2d")?,
                out_dims,
            )
        }
        Kernel::Attention { scale } => {
            let mut out = out;
            attention::attention(ctx, args, *scale, out.f32("attention")?, out_dims)
        }
    }
}

/// Evaluates `op` on owned contiguous tensors (constant folding), single-threaded.
pub(crate) fn eval(
    op: &Op,
    inputs: &[&Tensor],
    out_dims: &[usize],
    dtype: crate::DType,
) -> Result<Tensor> {
    let kernel = Kernel::lower(op)?;
    let in_strides: Vec<Vec<usize>> = inputs.iter().map(|t| strides(t.dims())).collect();
    let args: Vec<Arg> = inputs
        .iter()
        .zip(&in_strides)
        .map(|(t, s)| Arg {
            data: match t.data() {
                Data::F32(v) => ArgData::F32(v),
                Data::I64(v) => ArgData::I64(v),
            },
            dims: t.dims(),
            strides: s,
        })
        .collect();
    let mut data = Tensor::zeros(dtype, out_dims).into_data();
    let out = match &mut data {
        Data::F32(v) => OutData::F32(v),
        Data::I64(v) => OutData::I64(v),
    };
    let ctx = Ctx {
        isa: Isa::detect(),
        threads: 1,
    };
    run_node(ctx, &kernel, &args, out, out_dims)?;
    Tensor::new(out_dims, data)
}
