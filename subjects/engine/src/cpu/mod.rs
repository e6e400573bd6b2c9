//! CPU kernels of the compiled path, one job per file.
//!
//! Kernels work on slices (no allocation of their own beyond small index vectors) so the
//! executor can point them into its arena; constant folding calls the same kernels through
//! [`eval`] on owned tensors, so folded values match run-time ones bit for bit.

mod cast;
mod elementwise;
mod isa;
mod lower;
pub(crate) mod math;
mod matmul;
pub(crate) mod movement;
mod reduce;

pub(crate) use elementwise::Operand;
pub use isa::{Isa, cpu_isa};
pub(crate) use lower::{Epilogue, Kernel};

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
        Kernel::MatMul(epilogue) => {
            let mut out = out;
            matmul::matmul_epilogue(ctx, args, epilogue.as_ref(), out.f32("matmul")?, out_dims)
        }
        Kernel::Copy(op) => movement::copy(op, &args[0], out, out_dims),
        Kernel::Reduce { op, axes } => {
            let mut out = out;
            reduce::reduce(ctx, *op, axes, &args[0], out.f32("reduce")?)
        }
        Kernel::Cast => cast::cast(&args[0], out),
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
