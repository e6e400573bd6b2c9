//! A graph compiled for the CPU: lowered kernels, memory plans per binding, a thread pool.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Arg, ArgData, CpuReport, Ctx, Isa, Kernel, OutData, pack_weights, run_node};
use crate::compiler::memory_plan::{self, Home, Plan};
use crate::compiler::{CompileReport, Compiled};
use crate::ops::{FusedOp, Op};
use crate::{DType, Data, Dim, Error, Graph, Result, TargetReport, Tensor, Value};

/// Arena offsets are multiples of this (a cache line; full-width aligned vectors).
const ALIGN: usize = 64;

/// One cache line of arena, so every offset the plan hands out is 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// A graph compiled for this CPU. Runs reuse one arena for the intermediates, so a
/// steady-state run allocates only the tensors it returns (and small bookkeeping).
pub struct CpuExecutable {
    graph: Graph,
    report: CompileReport,
    kernels: Vec<Kernel>,
    homes: Vec<Home>,
    /// The graph's symbolic dims, sorted: the order of a plan key's sizes.
    symbols: Vec<String>,
    /// Memory plan per binding, and whether a run at that size is worth the pool.
    plans: HashMap<Vec<usize>, (Plan, bool)>,
    arena: Vec<Line>,
    /// Buffer address of every node for the current run (reused across runs).
    base: Vec<usize>,
    /// `None` with one thread: work stays on the caller's thread, no hand-off.
    pool: Option<rayon::ThreadPool>,
    ctx: Ctx,
}

impl CpuExecutable {
    pub(crate) fn new(
        graph: Graph,
        mut report: CompileReport,
        threads: usize,
    ) -> Result<CpuExecutable> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("engine-{i}"))
                .build()
                .map_err(|e| Error::BadArgument {
                    op: "compile".into(),
                    why: format!("cannot start {threads} threads: {e}"),
                })?;
            Some(pool)
        } else {
            None
        };
        let mut kernels = graph
            .nodes()
            .iter()
            .map(|n| Kernel::lower(&n.op))
            .collect::<Result<Vec<_>>>()?;
        let mut cpu = CpuReport::default();
        let graph = pack_weights::run(graph, &mut kernels, &mut cpu)?;
        // gemm reads matmul operands (not the epilogue's inputs) and attention's through
        // strides, so transposes and broadcasts feeding them stay views.
        let homes = memory_plan::homes(&graph, |c, k| match kernels[c.0] {
            Kernel::MatMul(..) => k < 2,
            Kernel::Attention { .. } => true,
            _ => false,
        });
        let mut symbols: Vec<String> = graph
            .inputs()
            .iter()
            .flat_map(|&v| graph.shape(v).dims().iter())
            .filter_map(|d| match d {
                Dim::Sym(s) => Some(s.clone()),
                Dim::Static(_) => None,
            })
            .collect();
        symbols.sort();
        symbols.dedup();
        let isa = Isa::detect();
        cpu.isa = isa.name();
        cpu.threads = threads;
        report.target = TargetReport::Cpu(cpu);
        Ok(CpuExecutable {
            base: vec![0; graph.nodes().len()],
            graph,
            report,
            kernels,
            homes,
            symbols,
            plans: HashMap::new(),
            arena: Vec::new(),
            pool,
            ctx: Ctx { isa, threads },
        })
    }
}

impl Compiled for CpuExecutable {
    fn graph(&self) -> &Graph {
        &self.graph
    }

    fn report(&self) -> &CompileReport {
        &self.report
    }

    fn run_timed(
        &mut self,
        inputs: &[Tensor],
        times: Option<&mut Vec<Duration>>,
    ) -> Result<Vec<Tensor>> {
        let bindings = self.graph.bind_inputs(inputs)?;
        let key: Vec<usize> = self.symbols.iter().map(|s| bindings[s]).collect();
        if !self.plans.contains_key(&key) {
            let plan = memory_plan::plan(&self.graph, &self.homes, &bindings, ALIGN)?;
            let parallel = worth_threads(&self.graph, &plan.dims);
            self.plans.insert(key.clone(), (plan, parallel));
            self.report.plans = self.plans.len();
        }
        let (plan, parallel) = &self.plans[&key];
        self.report.arena_bytes = plan.arena_bytes;
        self.report.intermediate_bytes = plan.intermediate_bytes;
        let lines = plan.arena_bytes.div_ceil(64);
        if self.arena.len() < lines {
            self.arena = vec![Line([0; 64]); lines];
        }

        let outputs = self.graph.outputs();
        let mut owned: Vec<Option<Data>> = outputs
            .iter()
            .enumerate()
            .map(|(j, &v)| {
                (self.homes[v.0] == Home::Output(j))
                    .then(|| Tensor::zeros(self.graph.dtype(v), &plan.dims[v.0]).into_data())
            })
            .collect();

        let arena = self.arena.as_mut_ptr() as usize;
        for (i, node) in self.graph.nodes().iter().enumerate() {
            self.base[i] = match (self.homes[i], &node.op) {
                (Home::Input(k), _) => data_addr(inputs[k].data()),
                (Home::Const, Op::Constant(t)) => data_addr(t.data()),
                (Home::Output(j), _) => data_addr(owned[j].as_ref().unwrap()),
                (Home::Arena, _) => arena + plan.offset[i],
                _ => 0, // aliases and views use their root's address
            };
        }

        let mut step = Steps {
            graph: &self.graph,
            kernels: &self.kernels,
            homes: &self.homes,
            plan,
            base: &self.base,
            ctx: self.ctx,
        };
        match &self.pool {
            Some(pool) if *parallel => pool.install(|| step.run(times))?,
            _ => {
                step.ctx.threads = 1;
                step.run(times)?
            }
        }

        // Slots whose value lives elsewhere (an input, a constant, an earlier slot) copy it.
        let copies: Vec<Option<Data>> = outputs
            .iter()
            .zip(&owned)
            .map(|(&v, own)| own.is_none().then(|| step.read(v.0)))
            .collect();
        outputs
            .iter()
            .zip(owned.iter_mut().zip(copies))
            .map(|(&v, (own, copy))| Tensor::new(&plan.dims[v.0], own.take().or(copy).unwrap()))
            .collect()
    }
}

/// Estimated single-thread time below which a run stays on the caller's thread: handing
/// a run to the pool and waking its workers costs tens of microseconds on this machine.
const PARALLEL_MIN_NS: f64 = 200_000.0;

/// Whether a run with these shapes is long enough to pay for the pool.
fn worth_threads(graph: &Graph, dims: &[Vec<usize>]) -> bool {
    let ns: f64 = graph
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let ins: Vec<Vec<usize>> = node.inputs.iter().map(|v| dims[v.0].clone()).collect();
            match node.op {
                // ~50 GFLOP/s for small and medium GEMMs (convolutions and attention are
                // GEMMs too), ~0.5 ns per element otherwise.
                Op::MatMul
                | Op::Fused(FusedOp::MatMulEpilogue(_))
                | Op::Conv2d { .. }
                | Op::Attention { .. } => node.op.flops(&ins, &dims[i]) as f64 / 50.0,
                Op::Input { .. } | Op::Constant(_) => 0.0,
                _ => dims[i].iter().product::<usize>() as f64 * 0.5,
            }
        })
        .sum();
    ns >= PARALLEL_MIN_NS
}

fn data_addr(d: &Data) -> usize {
    match d {
        Data::F32(v) => v.as_ptr() as usize,
        Data::I64(v) => v.as_ptr() as usize,
    }
}

/// One run's view of the executable: everything the kernels need, shareable with the pool.
struct Steps<'a> {
    graph: &'a Graph,
    kernels: &'a [Kernel],
    homes: &'a [Home],
    plan: &'a Plan,
    base: &'a [usize],
    ctx: Ctx,
}

impl Steps<'_> {
    fn run(&self, mut times: Option<&mut Vec<Duration>>) -> Result<()> {
        for (i, node) in self.graph.nodes().iter().enumerate() {
            if !self.homes[i].computes() {
                continue;
            }
            let start = times.is_some().then(Instant::now);
            let args: Vec<Arg> = node.inputs.iter().map(|v| self.arg(v.0)).collect();
            run_node(
                self.ctx,
                &self.kernels[i],
                &args,
                self.out(i),
                &self.plan.dims[i],
            )?;
            if let (Some(t), Some(start)) = (times.as_deref_mut(), start) {
                t[i] = start.elapsed();
            }
        }
        Ok(())
    }

    /// Elements of the buffer holding `v`, with `v`'s dims and strides.
    fn arg(&self, v: usize) -> Arg<'_> {
        let root = self.plan.root[v];
        let len: usize = self.plan.dims[root].iter().product();
        let addr = self.base[root];
        // SAFETY: `addr` is the start of a live buffer of `len` elements of this dtype (an
        // input, a constant, an output or an arena range sized by the plan). The plan keeps
        // it disjoint from every buffer written while it is live, and kernels only read it.
        let data = unsafe {
            match self.graph.dtype(Value(root)) {
                DType::F32 => ArgData::F32(std::slice::from_raw_parts(addr as *const f32, len)),
                DType::I64 => ArgData::I64(std::slice::from_raw_parts(addr as *const i64, len)),
            }
        };
        Arg {
            data,
            dims: &self.plan.dims[v],
            strides: &self.plan.strides[v],
        }
    }

    /// The output buffer of node `i` (an arena range or a returned tensor).
    #[allow(clippy::mut_from_ref)]
    fn out(&self, i: usize) -> OutData<'_> {
        let len: usize = self.plan.dims[i].iter().product();
        let addr = self.base[i];
        // SAFETY: as in `arg`; this range is written by node `i` only, and no argument of
        // node `i` overlaps it (the plan gives overlapping live ranges disjoint space).
        unsafe {
            match self.graph.dtype(Value(i)) {
                DType::F32 => OutData::F32(std::slice::from_raw_parts_mut(addr as *mut f32, len)),
                DType::I64 => OutData::I64(std::slice::from_raw_parts_mut(addr as *mut i64, len)),
            }
        }
    }

    /// A copy of the (contiguous) value `v`, once the run is over.
    fn read(&self, v: usize) -> Data {
        match self.arg(v).data {
            ArgData::F32(d) => Data::F32(d.to_vec()),
            ArgData::I64(d) => Data::I64(d.to_vec()),
        }
    }
}
