//! `engine-gpu`: our compiler and its GPU backend (wgpu: Metal, Vulkan or DX12).

use anyhow::Result;
use engine::gpu::{self, ADAPTER_ENV, AdapterSummary};
use engine::{CompileOptions, Graph, Target};

use crate::{Availability, Session, Subject};

pub struct EngineGpu;

impl EngineGpu {
    /// The adapter `GRAPHBENCH_GPU_ADAPTER` picks (as the backend would), if any.
    fn adapter() -> Result<AdapterSummary, String> {
        let all = gpu::adapters();
        let choice = std::env::var(ADAPTER_ENV).unwrap_or_default();
        let pick = match choice.as_str() {
            "" | "high-performance" | "low-power" => {
                // The order wgpu prefers for high performance: discrete, integrated, others.
                let rank = |a: &AdapterSummary| match a.device_type.as_str() {
                    "DiscreteGpu" => 0,
                    "IntegratedGpu" => 1,
                    "VirtualGpu" => 2,
                    _ => 3,
                };
                all.iter().min_by_key(|a| rank(a)).cloned()
            }
            name => all
                .iter()
                .find(|a| a.name.to_lowercase().contains(&name.to_lowercase()))
                .cloned(),
        };
        pick.ok_or_else(|| {
            if all.is_empty() {
                "wgpu finds no GPU adapter".to_string()
            } else {
                let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
                format!(
                    "no adapter's name contains `{choice}` ({ADAPTER_ENV}); adapters: {names:?}"
                )
            }
        })
    }
}

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
        let on = match EngineGpu::adapter() {
            Ok(a) if a.is_software() => {
                format!(
                    "{} — software adapter: these are not GPU numbers",
                    a.describe()
                )
            }
            Ok(a) => a.describe(),
            Err(e) => e,
        };
        format!("engine {} on {on}", env!("CARGO_PKG_VERSION"))
    }
    fn availability(&self) -> Availability {
        match EngineGpu::adapter() {
            Ok(_) => Availability::Available,
            Err(reason) => Availability::Unavailable {
                reason,
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
