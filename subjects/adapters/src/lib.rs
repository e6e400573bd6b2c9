//! The subjects graphbench measures.
//!
//! A subject takes an [`engine::Graph`] and runs it: our compiled engine, the reference
//! interpreter, and (in later adapters) other runtimes the graph is lowered onto. The harness
//! only sees the [`Subject`] and [`Session`] traits and the [`registry`], so adding a subject
//! is one new file here plus one line in `registry()`: the runner does not change.

mod candle;
mod engine_cpu;
mod engine_gpu;
mod fake;
mod onnxruntime;
mod reference;
mod torch;

use anyhow::Result;
use engine::{Graph, Tensor};

pub use fake::FakeBehaviour;

/// Whether a subject can run on this machine, and if not, why and how to fix it.
#[derive(Clone, Debug, PartialEq)]
pub enum Availability {
    Available,
    Unavailable { reason: String, fix: String },
}

/// Something that can execute a graph.
pub trait Subject: Send + Sync {
    /// The name suites use (`engine-cpu`).
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// How a thread count `N` is applied, through this runtime's own knobs (for reports).
    fn threading(&self) -> &str;
    /// Whether the thread count changes what runs; a subject that ignores it (a GPU) gets
    /// one case per sweep point, at the suite's first thread setting.
    fn uses_threads(&self) -> bool {
        true
    }
    /// Whether it needs GPU hardware no software driver stands in for (CUDA, Metal, MPS):
    /// then being unavailable is expected on machines without one, CI's included.
    fn needs_gpu_hardware(&self) -> bool {
        false
    }
    /// The runtime and its version, as recorded in results (`engine 0.1.0 (avx512f)`).
    fn version(&self) -> String;
    fn availability(&self) -> Availability;
    /// Prepares the graph for repeated runs with `threads` threads (load/compile time).
    fn load(&self, graph: &Graph, threads: usize) -> Result<Box<dyn Session>>;
}

/// A loaded graph, ready to run. Outputs are host tensors, so any device work is finished
/// (synchronised) when `run` returns.
pub trait Session {
    fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>>;
    /// Device (GPU) time of the last run, where the runtime measures it; `None` elsewhere.
    fn device_time(&self) -> Option<std::time::Duration> {
        None
    }
    /// Bytes of device (GPU) memory the session's buffers hold, where the runtime says.
    fn device_memory_bytes(&self) -> Option<u64> {
        None
    }
}

/// Every subject this build knows, in the order `harness list` shows them.
pub fn registry() -> Vec<Box<dyn Subject>> {
    vec![
        Box::new(engine_cpu::EngineCpu),
        Box::new(engine_gpu::EngineGpu),
        Box::new(reference::Reference),
        Box::new(onnxruntime::OnnxRuntime),
        Box::new(candle::Candle {
            device: candle::CandleDevice::Cpu,
        }),
        Box::new(torch::Torch { device: "cpu" }),
        Box::new(torch::Torch { device: "cuda" }),
        Box::new(torch::Torch { device: "mps" }),
        Box::new(candle::Candle {
            device: candle::CandleDevice::Cuda,
        }),
        Box::new(candle::Candle {
            device: candle::CandleDevice::Metal,
        }),
    ]
}

/// Finds a subject by the name a suite uses. `fake:<behaviour>` names the test double
/// (see [`FakeBehaviour`]); it is not listed in the registry.
pub fn find(name: &str) -> Result<Box<dyn Subject>, String> {
    if let Some(spec) = name.strip_prefix("fake") {
        return fake::Fake::parse(name, spec).map(|f| Box::new(f) as Box<dyn Subject>);
    }
    registry()
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            let known: Vec<String> = registry().iter().map(|s| s.name().to_string()).collect();
            format!(
                "unknown subject `{name}` (known: {}, fake:<behaviour>)",
                known.join(", ")
            )
        })
}

/// Resolves a thread count: 0 means every core of this machine.
pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}
