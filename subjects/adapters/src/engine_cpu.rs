//! `engine-cpu`: our compiler (fusion, prepacked weights, memory plan) and CPU kernels.

use anyhow::Result;
use engine::{CompileOptions, Executable, Graph, Tensor};

use crate::{Availability, Session, Subject};

pub struct EngineCpu;

impl Subject for EngineCpu {
    fn name(&self) -> &str {
        "engine-cpu"
    }
    fn description(&self) -> &str {
        "graphbench engine, compiled for the CPU"
    }
    fn threading(&self) -> &str {
        "a rayon pool of N threads per compiled executable (`Target::Cpu { threads }`)"
    }
    fn version(&self) -> String {
        format!(
            "engine {} ({})",
            env!("CARGO_PKG_VERSION"),
            engine::cpu_isa()
        )
    }
    fn availability(&self) -> Availability {
        Availability::Available
    }
    fn load(&self, graph: &Graph, threads: usize) -> Result<Box<dyn Session>> {
        let options = CompileOptions::cpu(crate::resolve_threads(threads));
        Ok(Box::new(engine::compile(graph, &options)?))
    }
}

impl Session for Executable {
    fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(Executable::run(self, inputs)?)
    }
    fn device_time(&self) -> Option<std::time::Duration> {
        Executable::device_time(self)
    }
    fn device_memory_bytes(&self) -> Option<u64> {
        Executable::device_memory_bytes(self)
    }
}
