//! `engine-gpu`: our compiler and its GPU backend (wgpu: Metal, Vulkan or DX12).

use anyhow::Result;
use engine::gpu::{self, ADAPTER_ENV};
use engine::{CompileOptions, Graph, Target};

use crate::{Availability, Session, Subject};

pub struct EngineGpu;

impl Subject for EngineGpu {
    fn name(&self) -> &str {
        "engine-gpu"
    }
    fn description(&self) -> &str {
        "graphbench engine, compiled for the GPU (wgpu: Metal, Vulkan, DX12)"
    }
    fn threading(&self) -> &str {
        "the GPU; the host side is one thread, so N is not used (one case per scenario)"
    }
    fn uses_threads(&self) -> bool {
        false
    }
    fn version(&self) -> String {
        let on = match gpu::selected() {
            Ok(a) if a.is_software() => {
                format!(
                    "{} — software adapter: these are not GPU numbers",
                    a.describe()
                )
            }
            Ok(a) => a.describe(),
            Err(e) => e.to_string(),
        };
        format!("engine {} on {on}", env!("CARGO_PKG_VERSION"))
    }
    fn availability(&self) -> Availability {
        // The adapter the backend itself selects (the same request `load` makes).
        match gpu::selected() {
            Ok(_) => Availability::Available,
            Err(e) => Availability::Unavailable {
                reason: e.to_string(),
                fix: format!(
                    "{}; or pick one with {ADAPTER_ENV}=high-performance|low-power|<name part>",
                    gpu::no_adapter_fix()
                ),
            },
        }
    }
    fn load(&self, graph: &Graph, _threads: usize) -> Result<Box<dyn Session>> {
        let options = CompileOptions {
            // Benchmarks run trusted shaders: no injected bounds checks.
            target: Target::Gpu {
                adapter: String::new(),
                checked: false,
            },
            fuse: true,
        };
        Ok(Box::new(engine::compile(graph, &options)?))
    }
}
