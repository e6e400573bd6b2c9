//! Finding an adapter and opening a device on it, once per process and adapter choice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::{Error, Result};

/// The environment variable that picks an adapter when a target names none:
/// `high-performance` (the default), `low-power`, or part of an adapter's name.
pub const ADAPTER_ENV: &str = "GRAPHBENCH_GPU_ADAPTER";

/// What the system tells about one adapter (recorded in results and reports).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdapterSummary {
    pub name: String,
    pub vendor_id: u32,
    pub device_id: u32,
    /// `Metal`, `Vulkan`, `Dx12` or `Gl`.
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` or `Other`.
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
}

impl AdapterSummary {
    fn of(info: &wgpu::AdapterInfo) -> AdapterSummary {
        AdapterSummary {
            name: info.name.clone(),
            vendor_id: info.vendor,
            device_id: info.device,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
        }
    }

    /// A software rasteriser (lavapipe/llvmpipe, WARP, SwiftShader): CPU numbers, not GPU ones.
    pub fn is_software(&self) -> bool {
        self.device_type == "Cpu"
    }

    /// `NVIDIA H100 (Vulkan, DiscreteGpu, NVIDIA 580.1)`.
    pub fn describe(&self) -> String {
        let driver = [self.driver.as_str(), self.driver_info.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "{} ({}, {}{})",
            self.name,
            self.backend,
            self.device_type,
            if driver.is_empty() {
                String::new()
            } else {
                format!(", {driver}")
            }
        )
    }
}

/// An opened device: what every executable compiled for it shares.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: AdapterSummary,
    pub limits: wgpu::Limits,
    /// Nanoseconds per timestamp tick, where the device writes timestamps in compute passes.
    pub timestamp_period: Option<f32>,
    /// The first error the device reported outside an error scope (a run's submission).
    errors: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// The error the device reported since the last call, if any.
    pub fn take_error(&self) -> Option<String> {
        self.errors.lock().map(|mut e| e.take()).unwrap_or(None)
    }
}

/// Every adapter wgpu finds on this machine.
pub fn adapters() -> Vec<AdapterSummary> {
    let instance = instance();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .iter()
        .map(|a| AdapterSummary::of(&a.get_info()))
        .collect()
}

/// The adapter a target with no adapter named compiles for (opening its device, once).
pub fn selected() -> Result<AdapterSummary> {
    open("").map(|gpu| gpu.adapter.clone())
}

/// The device for `choice` (see [`ADAPTER_ENV`]; empty = the variable, else
/// `high-performance`), opened once per process.
pub fn open(choice: &str) -> Result<Arc<Gpu>> {
    static OPEN: OnceLock<Mutex<HashMap<String, Arc<Gpu>>>> = OnceLock::new();
    let choice = match choice {
        "" => std::env::var(ADAPTER_ENV).unwrap_or_default(),
        c => c.to_string(),
    };
    let mut open = OPEN
        .get_or_init(Default::default)
        .lock()
        .map_err(|_| Error::Gpu("the device cache was poisoned by a panic".into()))?;
    if let Some(gpu) = open.get(&choice) {
        return Ok(gpu.clone());
    }
    let gpu = Arc::new(pollster::block_on(request(&choice))?);
    open.insert(choice, gpu.clone());
    Ok(gpu)
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    // No validation layers or debug labels in what we measure; WGPU_VALIDATION=1 turns
    // them back on when debugging a kernel.
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

async fn request(choice: &str) -> Result<Gpu> {
    let instance = instance();
    let adapter = match choice {
        "" | "high-performance" | "low-power" => {
            let power_preference = if choice == "low-power" {
                wgpu::PowerPreference::LowPower
            } else {
                wgpu::PowerPreference::HighPerformance
            };
            instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference,
                    ..Default::default()
                })
                .await
                .map_err(|e| Error::Gpu(format!("no GPU adapter: {e}")))?
        }
        name => {
            let all = instance.enumerate_adapters(wgpu::Backends::all()).await;
            let names: Vec<String> = all.iter().map(|a| a.get_info().name).collect();
            let wanted = name.to_lowercase();
            all.into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
                .ok_or_else(|| {
                    Error::Gpu(format!(
                        "no GPU adapter's name contains `{name}` ({ADAPTER_ENV}); adapters: [{}]",
                        names.join(", ")
                    ))
                })?
        }
    };
    let summary = AdapterSummary::of(&adapter.get_info());
    // The defaults cap a storage binding at 128 MiB; DistilBERT's embedding alone is 94 MB
    // and larger models exceed it, so ask for everything the adapter has.
    let limits = adapter.limits();
    let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("graphbench"),
            required_features: if timestamps {
                wgpu::Features::TIMESTAMP_QUERY
            } else {
                wgpu::Features::empty()
            },
            required_limits: limits.clone(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", summary.describe())))?;
    let errors: Arc<Mutex<Option<String>>> = Arc::default();
    let sink = errors.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        if let Ok(mut first) = sink.lock() {
            first.get_or_insert_with(|| e.to_string());
        }
    }));
    let timestamp_period = timestamps.then(|| queue.get_timestamp_period());
    Ok(Gpu {
        device,
        queue,
        adapter: summary,
        limits,
        timestamp_period,
        errors,
    })
}

/// How to get an adapter on this platform.
pub fn no_adapter_fix() -> &'static str {
    if cfg!(target_os = "linux") {
        "Install a Vulkan driver; for a software one: `apt-get install mesa-vulkan-drivers libvulkan1`"
    } else if cfg!(target_os = "macos") {
        "Metal needs macOS 10.13+ on a Mac with a Metal-capable GPU"
    } else {
        "Install a Vulkan or DX12 driver for this GPU"
    }
}
