//! The GPU backend on wgpu (Metal on macOS, Vulkan on Linux, DX12 on Windows): the shared
//! graph passes, then WGSL kernels over device buffers laid out by the shared memory plan.
//!
//! `device.rs` finds the adapter, `kernels/` turns each node into dispatches, and
//! `executable.rs` owns the buffers and runs them. Constant folding evaluates on the host
//! with the CPU's kernels (folded values are uploaded once, like every constant).

mod device;
mod executable;
mod kernels;

use std::fmt;

pub use device::{ADAPTER_ENV, AdapterSummary, adapters, no_adapter_fix, selected};

use crate::compiler::{Backend, CompileReport, Compiled};
use crate::ops::Op;
use crate::{DType, Result, Tensor};

pub(crate) struct GpuBackend {
    adapter: String,
    checked: bool,
}

impl GpuBackend {
    pub fn new(adapter: &str, checked: bool) -> GpuBackend {
        GpuBackend {
            adapter: adapter.to_string(),
            checked,
        }
    }
}

impl Backend for GpuBackend {
    fn eval_constant(
        &self,
        op: &Op,
        inputs: &[&Tensor],
        out_dims: &[usize],
        dtype: DType,
    ) -> Result<Tensor> {
        crate::cpu::eval(op, inputs, out_dims, dtype)
    }

    fn lower(&self, graph: crate::Graph, report: CompileReport) -> Result<Box<dyn Compiled>> {
        let gpu = device::open(&self.adapter)?;
        Ok(Box::new(executable::GpuExecutable::new(
            gpu,
            graph,
            report,
            self.checked,
        )?))
    }
}

/// What the GPU backend used and made.
#[derive(Clone, Debug, PartialEq)]
pub struct GpuReport {
    pub adapter: AdapterSummary,
    /// Bytes of constants uploaded at compile time.
    pub weight_bytes: usize,
    /// Whether the shaders carry bounds checks (tests) or are trusted (benchmarks).
    pub bounds_checks: bool,
    /// Distinct compute pipelines created so far.
    pub pipelines: usize,
    /// Bytes of the device buffers the executable holds: its constants, and for every
    /// binding of the symbolic dims prepared so far the arena, the inputs-and-outputs,
    /// read-back and parameter buffers. What wgpu was asked for; drivers may round up.
    pub device_bytes: u64,
}

impl fmt::Display for GpuReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gpu: {} | {} B of weights | {} B of buffers | {} pipelines{}",
            self.adapter.describe(),
            self.weight_bytes,
            self.device_bytes,
            self.pipelines,
            if self.bounds_checks {
                " | bounds-checked"
            } else {
                ""
            }
        )
    }
}
