//! The backend-neutral compiler: graph passes, the memory planner and the driver that hands
//! the optimised graph to a backend.
//!
//! [`compile_with`] runs the passes the backend asks for (each in its own file under
//! `passes/`), re-validates the graph after every one, and lets the backend lower the result
//! into something that runs. Backends (`cpu/`, ...) implement [`Backend`] and [`Compiled`];
//! `target.rs` maps a [`crate::Target`] to its backend. Nothing here knows any backend.

pub(crate) mod memory_plan;
pub(crate) mod passes;
mod report;

use std::time::Duration;

pub use passes::Pass;
pub use report::{CompileReport, PassRecord};

use crate::ops::Op;
use crate::{DType, Graph, Result, Tensor};

/// A compilation target: which passes it wants, how it evaluates constants, and how it
/// lowers the optimised graph.
pub(crate) trait Backend {
    /// The passes to run, in order.
    fn passes(&self, fuse: bool) -> Vec<Pass> {
        passes::standard(fuse)
    }

    /// `op` on constant inputs, as this backend computes it at run time (constant folding).
    fn eval_constant(
        &self,
        op: &Op,
        inputs: &[&Tensor],
        out_dims: &[usize],
        dtype: DType,
    ) -> Result<Tensor>;

    /// The optimised graph, ready to run.
    fn lower(&self, graph: Graph, report: CompileReport) -> Result<Box<dyn Compiled>>;
}

/// A graph compiled by a backend.
pub(crate) trait Compiled: Send {
    fn graph(&self) -> &Graph;
    fn report(&self) -> &CompileReport;
    /// Runs the graph; with `times` (one slot per node of `graph()`), also records the wall
    /// time of every node.
    fn run_timed(
        &mut self,
        inputs: &[Tensor],
        times: Option<&mut Vec<Duration>>,
    ) -> Result<Vec<Tensor>>;
    /// Device time of the last run's work, where the backend can measure it (GPU
    /// timestamps); `None` elsewhere.
    fn device_time(&self) -> Option<Duration> {
        None
    }
}

/// A compiled graph: run it on host tensors, as often as needed.
pub struct Executable(Box<dyn Compiled>);

impl Executable {
    /// The compiled (rewritten) graph. A backend may store constants in its own layout
    /// (the CPU keeps matmul weights in panel order: same dims and elements, another order).
    pub fn graph(&self) -> &Graph {
        self.0.graph()
    }

    pub fn report(&self) -> &CompileReport {
        self.0.report()
    }

    /// Runs the graph; inputs are checked against the declared ones (dtype, rank, sizes).
    pub fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.0.run_timed(inputs, None)
    }

    /// Runs the graph and also returns the wall time of every node of [`Self::graph`]
    /// (zero for nodes that run no kernel), to see where a run's time goes.
    pub fn run_profiled(&mut self, inputs: &[Tensor]) -> Result<(Vec<Tensor>, Vec<Duration>)> {
        let mut times = vec![Duration::ZERO; self.0.graph().nodes().len()];
        let out = self.0.run_timed(inputs, Some(&mut times))?;
        Ok((out, times))
    }

    /// Bytes of device memory the executable's buffers hold (a GPU backend's constants and
    /// per-binding buffers, as prepared so far); `None` on the CPU.
    pub fn device_memory_bytes(&self) -> Option<u64> {
        self.report().target.gpu().map(|g| g.device_bytes)
    }

    /// GPU time of the last run's compute work from timestamp queries, where the adapter
    /// writes plausible ones (never a zero); `None` on the CPU and where unsupported.
    pub fn device_time(&self) -> Option<Duration> {
        self.0.device_time()
    }
}

/// Compiles `graph` for `backend`: [`optimize_with`], then the backend's lowering.
pub(crate) fn compile_with(graph: &Graph, backend: &dyn Backend, fuse: bool) -> Result<Executable> {
    let (g, report) = optimize_with(graph, backend, fuse)?;
    Ok(Executable(backend.lower(g, report)?))
}

/// Runs `backend`'s passes over `graph`: the optimised graph, before the backend re-lays any
/// constant out for its kernels (so the reference interpreter runs it as it is).
pub(crate) fn optimize_with(
    graph: &Graph,
    backend: &dyn Backend,
    fuse: bool,
) -> Result<(Graph, CompileReport)> {
    graph.validate()?;
    let mut report = CompileReport::new(graph.nodes().len());
    let mut g = graph.clone();
    for pass in backend.passes(fuse) {
        let before = g.nodes().len();
        let mut ctx = passes::PassContext {
            report: &mut report,
            backend,
        };
        g = (pass.run)(&g, &mut ctx)?;
        // Cheap (one inference per node), so on in every build, not only debug ones: a
        // pass bug must fail here, naming the pass, not as wrong numbers later.
        g.validate().map_err(|e| crate::Error::Graph {
            graph: g.name().into(),
            why: format!("invalid after pass `{}`: {e}", pass.name),
        })?;
        report.passes.push(PassRecord {
            name: pass.name,
            nodes_before: before,
            nodes_after: g.nodes().len(),
        });
    }
    report.nodes_after = g.nodes().len();
    Ok((g, report))
}
