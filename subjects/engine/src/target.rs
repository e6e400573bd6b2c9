//! Where a graph is compiled for: the one place that names every backend.
//!
//! Adding a backend is a folder of its own (like `cpu/`) implementing the compiler's
//! `Backend` and `Compiled`, plus one variant in each enum here.

use std::fmt;

use crate::compiler::{self, CompileReport, Executable};
use crate::cpu::{CpuBackend, CpuReport};
use crate::gpu::{GpuBackend, GpuReport};
use crate::{Graph, Result};

/// The device a graph is compiled for.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// This machine's CPU, with a pool of `threads` (0 = every core the OS gives this
    /// process).
    Cpu { threads: usize },
    /// A GPU through wgpu. `adapter`: `high-performance`, `low-power` or part of an
    /// adapter's name; empty = the `GRAPHBENCH_GPU_ADAPTER` variable, else
    /// `high-performance`. `checked`: compile shaders with bounds checks (tests) instead of
    /// trusting them (benchmarks).
    Gpu { adapter: String, checked: bool },
}

/// How to compile.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    pub target: Target,
    /// Fuse element-wise chains, matmul epilogues and residual adds into LayerNorm (off: one
    /// kernel per node).
    pub fuse: bool,
}

impl CompileOptions {
    /// The CPU with `threads` threads, fused.
    pub fn cpu(threads: usize) -> CompileOptions {
        CompileOptions {
            target: Target::Cpu { threads },
            fuse: true,
        }
    }
}

impl CompileOptions {
    /// The default GPU adapter, fused, with bounds-checked shaders.
    pub fn gpu() -> CompileOptions {
        CompileOptions {
            target: Target::Gpu {
                adapter: String::new(),
                checked: true,
            },
            fuse: true,
        }
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions::cpu(1)
    }
}

/// What the backend of a compilation did and chose.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum TargetReport {
    /// Before a backend has lowered the graph.
    #[default]
    Unlowered,
    Cpu(CpuReport),
    Gpu(GpuReport),
}

impl TargetReport {
    /// The CPU backend's report, if the graph was compiled for the CPU.
    pub fn cpu(&self) -> Option<&CpuReport> {
        match self {
            TargetReport::Cpu(r) => Some(r),
            _ => None,
        }
    }

    /// The GPU backend's report, if the graph was compiled for a GPU.
    pub fn gpu(&self) -> Option<&GpuReport> {
        match self {
            TargetReport::Gpu(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for TargetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetReport::Unlowered => f.write_str("not lowered"),
            TargetReport::Cpu(r) => write!(f, "{r}"),
            TargetReport::Gpu(r) => write!(f, "{r}"),
        }
    }
}

/// Compiles `graph` for `options.target`.
pub fn compile(graph: &Graph, options: &CompileOptions) -> Result<Executable> {
    compiler::compile_with(graph, backend(&options.target).as_ref(), options.fuse)
}

/// The graph after the passes `options`' backend runs (fusion, constant folding), with its
/// report, but not lowered: constants stay row-major, whereas [`Executable::graph`] may hold
/// them in a backend's own layout (the CPU's matmul weights in panels). Running it on the
/// reference interpreter tells a wrong rewrite from a wrong kernel. Needs no GPU adapter:
/// the passes fold constants on the host.
pub fn optimize(graph: &Graph, options: &CompileOptions) -> Result<(Graph, CompileReport)> {
    compiler::optimize_with(graph, backend(&options.target).as_ref(), options.fuse)
}

/// The backend that serves `target`: the one place that names every backend.
fn backend(target: &Target) -> Box<dyn compiler::Backend> {
    match target {
        Target::Cpu { threads } => Box::new(CpuBackend::new(*threads)),
        Target::Gpu { adapter, checked } => Box::new(GpuBackend::new(adapter, *checked)),
    }
}
