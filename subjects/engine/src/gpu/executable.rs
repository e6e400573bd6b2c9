//! A graph compiled for a GPU: constants uploaded once, then per binding of the symbolic
//! dims a memory plan, its buffers, pipelines and bind groups (made at compile time for a
//! graph without symbolic dims, else on the first run of each binding). A run is one
//! upload per input, one command encoder with one compute pass, one submission, and one
//! read-back of the outputs.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::GpuReport;
use super::device::Gpu;
use super::kernels::{self, Job};
use crate::compiler::memory_plan::{self, Home, Plan};
use crate::compiler::{CompileReport, Compiled};
use crate::ops::Op;
use crate::{DType, Data, Dim, Error, Graph, Result, TargetReport, Tensor, Value};

pub struct GpuExecutable {
    gpu: Arc<Gpu>,
    graph: Graph,
    report: CompileReport,
    homes: Vec<Home>,
    symbols: Vec<String>,
    /// Device buffers of the constants, by node.
    constants: HashMap<usize, wgpu::Buffer>,
    /// Pipelines by shader source (many nodes share one).
    pipelines: HashMap<String, wgpu::ComputePipeline>,
    prepared: HashMap<Vec<usize>, Prepared>,
    checked: bool,
    /// GPU time of the last run's compute pass, from timestamps (None where unsupported or
    /// implausible).
    device_time: Option<Duration>,
    /// The run's status word (0, or 1 + the node whose kernel met bad data).
    status: wgpu::Buffer,
    /// Two timestamps around the pass and the buffer they resolve into.
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    /// Offsets and bindings must be multiples of this (the adapter's storage alignment).
    align: usize,
}

/// One recorded dispatch: its pipeline (by source), bind group and grid.
struct Dispatch {
    source: String,
    group: wgpu::BindGroup,
    grid: [u32; 3],
}

/// Everything one binding of the symbolic dims runs with.
struct Prepared {
    plan: Plan,
    /// Bytes of the buffers below (arena, io, staging) and of the parameters.
    device_bytes: u64,
    _arena: wgpu::Buffer,
    io: wgpu::Buffer,
    staging: wgpu::Buffer,
    /// Byte offsets in `io` of each input, then each output slot.
    input_at: Vec<usize>,
    output_at: Vec<usize>,
    /// Bytes of the output region of `io` (read back in one copy).
    output_bytes: usize,
    outputs_from: usize,
    /// Per computing node, its dispatches.
    steps: Vec<(Value, Vec<Dispatch>)>,
    _params: wgpu::Buffer,
}

impl GpuExecutable {
    pub(crate) fn new(
        gpu: Arc<Gpu>,
        graph: Graph,
        mut report: CompileReport,
        checked: bool,
    ) -> Result<GpuExecutable> {
        let homes = memory_plan::homes(&graph, |c, k| kernels::reads_strided(&graph.node(c).op, k));
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
        let align = (gpu.limits.min_storage_buffer_offset_alignment as usize).max(16);
        let mut constants = HashMap::new();
        let mut weight_bytes = 0;
        let mut device_bytes = 0;
        for (i, node) in graph.nodes().iter().enumerate() {
            if let Op::Constant(t) = &node.op {
                let bytes = bytes_of(t.data());
                check_size(
                    &gpu,
                    &format!("constant {i} {:?}", t.dims()),
                    bytes.len(),
                    Limit::Binding,
                )?;
                let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size: padded_size(bytes.len()),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                gpu.queue.write_buffer(&buffer, 0, bytes);
                weight_bytes += bytes.len();
                device_bytes += buffer.size();
                constants.insert(i, buffer);
            }
        }
        report.target = TargetReport::Gpu(GpuReport {
            adapter: gpu.adapter.clone(),
            weight_bytes,
            bounds_checks: checked,
            pipelines: 0,
            device_bytes,
        });
        let timestamps = gpu.timestamp_period.map(|_| {
            let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: None,
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            });
            let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
        let status = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 4,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut exe = GpuExecutable {
            status,
            device_time: None,
            timestamps,
            gpu,
            graph,
            report,
            homes,
            symbols,
            constants,
            pipelines: HashMap::new(),
            prepared: HashMap::new(),
            checked,
            align,
        };
        if exe.symbols.is_empty() {
            exe.prepare(&Default::default())?;
        }
        Ok(exe)
    }

    /// The plan, buffers and bind groups for `bindings` (cached by the symbols' sizes).
    fn prepare(&mut self, bindings: &crate::Bindings) -> Result<Vec<usize>> {
        let key: Vec<usize> = self.symbols.iter().map(|s| bindings[s]).collect();
        if self.prepared.contains_key(&key) {
            return Ok(key);
        }
        let scope = self
            .gpu
            .device
            .push_error_scope(wgpu::ErrorFilter::Validation);
        let prepared = self.build(bindings);
        let error = pollster::block_on(scope.pop());
        let prepared = prepared?;
        if let Some(e) = error {
            return Err(Error::Gpu(format!(
                "preparing `{}`: {e}",
                self.graph.name()
            )));
        }
        self.report.plans += 1;
        self.report.arena_bytes = prepared.plan.arena_bytes;
        self.report.intermediate_bytes = prepared.plan.intermediate_bytes;
        if let TargetReport::Gpu(r) = &mut self.report.target {
            r.pipelines = self.pipelines.len();
            r.device_bytes += prepared.device_bytes;
        }
        self.prepared.insert(key.clone(), prepared);
        Ok(key)
    }

    fn build(&mut self, bindings: &crate::Bindings) -> Result<Prepared> {
        let g = &self.graph;
        let plan = memory_plan::plan(g, &self.homes, bindings, self.align)?;
        let bytes =
            |v: usize| plan.dims[v].iter().product::<usize>() * g.dtype(Value(v)).size_bytes();
        let device = &self.gpu.device;

        let mut at = 0;
        let mut place = |values: &[Value]| -> Vec<usize> {
            values
                .iter()
                .map(|v| {
                    let o = at;
                    at = (at + bytes(v.0)).next_multiple_of(self.align);
                    o
                })
                .collect()
        };
        let input_at = place(g.inputs());
        let output_at = place(g.outputs());
        let outputs_from = output_at.first().copied().unwrap_or(at);
        let output_bytes = at - outputs_from;
        check_size(&self.gpu, "the inputs and outputs", at, Limit::Buffer)?;
        for (i, node) in g.nodes().iter().enumerate() {
            if self.homes[i].computes() || matches!(self.homes[i], Home::Input(_)) {
                let what = format!(
                    "the output of node {i} ({}, dims {:?})",
                    node.op.name(),
                    plan.dims[i]
                );
                check_size(&self.gpu, &what, bytes(i), Limit::Binding)?;
            }
        }
        check_size(
            &self.gpu,
            "the intermediates' arena",
            plan.arena_bytes,
            Limit::Buffer,
        )?;
        let storage = wgpu::BufferUsages::STORAGE;
        let buffer = |size: usize, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size: padded_size(size),
                usage,
                mapped_at_creation: false,
            })
        };
        // 4 spare bytes: an empty value placed last is still bound as 4 bytes.
        let arena = buffer(plan.arena_bytes + 4, storage);
        let io = buffer(
            at + 4,
            storage | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        );
        // The outputs, then the pass's two timestamps, then the status word.
        let staging = buffer(
            output_bytes.next_multiple_of(8) + 24,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );

        // Jobs of every computing node, then one parameter buffer for all of them.
        let mut node_jobs: Vec<(Value, Vec<Job>)> = Vec::new();
        for i in 0..g.nodes().len() {
            if self.homes[i].computes() {
                node_jobs.push((Value(i), kernels::jobs(g, &plan, Value(i))?));
            }
        }
        let mut words: Vec<u32> = Vec::new();
        let mut param_at = Vec::new();
        let word_align = self.align / 4;
        for (_, jobs) in &node_jobs {
            for job in jobs {
                param_at.push(words.len());
                words.extend(&job.params);
                words.resize(words.len().next_multiple_of(word_align), 0);
            }
        }
        let params = buffer(words.len() * 4, storage | wgpu::BufferUsages::COPY_DST);
        self.gpu
            .queue
            .write_buffer(&params, 0, bytemuck::cast_slice(&words));

        // Where each value's root lives: (buffer, byte offset, bytes).
        let location = |v: Value| -> (&wgpu::Buffer, usize, usize) {
            let r = plan.root[v.0];
            let size = bytes(r);
            match self.homes[r] {
                Home::Input(k) => (&io, input_at[k], size),
                Home::Output(j) => (&io, output_at[j], size),
                Home::Const => (&self.constants[&r], 0, size),
                _ => (&arena, plan.offset[r], size),
            }
        };
        let mut steps = Vec::new();
        let mut n = 0;
        for (v, jobs) in node_jobs {
            let mut dispatches = Vec::new();
            for job in jobs {
                let pipeline = pipeline(&self.gpu, &mut self.pipelines, self.checked, &job.source);
                let layout = pipeline.get_bind_group_layout(0);
                let mut entries = vec![wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &params,
                        offset: (param_at[n] * 4) as u64,
                        size: NonZeroU64::new((job.params.len().max(1) * 4) as u64),
                    }),
                }];
                for (b, &val) in job.values.iter().enumerate() {
                    let (buf, offset, size) = location(val);
                    entries.push(wgpu::BindGroupEntry {
                        binding: b as u32 + 1,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: buf,
                            offset: offset as u64,
                            size: NonZeroU64::new(padded_size(size)),
                        }),
                    });
                }
                if job.status {
                    entries.push(wgpu::BindGroupEntry {
                        binding: job.values.len() as u32 + 1,
                        resource: self.status.as_entire_binding(),
                    });
                }
                let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &layout,
                    entries: &entries,
                });
                dispatches.push(Dispatch {
                    source: job.source,
                    group,
                    grid: job.groups,
                });
                n += 1;
            }
            steps.push((v, dispatches));
        }
        Ok(Prepared {
            plan,
            device_bytes: arena.size() + io.size() + staging.size() + params.size(),
            _arena: arena,
            io,
            staging,
            input_at,
            output_at,
            output_bytes,
            outputs_from,
            steps,
            _params: params,
        })
    }

    fn read_outputs(&self, p: &Prepared, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let mapped = match p.output_bytes {
            0 => None,
            _ => Some(
                p.staging
                    .slice(..p.output_bytes as u64)
                    .get_mapped_range()
                    .map_err(|e| Error::Gpu(format!("reading the outputs back: {e}")))?,
            ),
        };
        let outputs = self.graph.outputs();
        let mut result: Vec<Tensor> = Vec::with_capacity(outputs.len());
        for (j, &v) in outputs.iter().enumerate() {
            let dims = &p.plan.dims[v.0];
            let t = match self.homes[v.0] {
                Home::Input(k) => inputs[k].clone(),
                Home::Const => match &self.graph.node(v).op {
                    Op::Constant(t) => (**t).clone(),
                    _ => unreachable!("constant homes hold constants"),
                },
                Home::Output(slot) if slot != j => result[slot].clone(),
                _ => {
                    let n: usize = dims.iter().product();
                    let at = p.output_at[j] - p.outputs_from;
                    let bytes = &mapped.as_ref().map_or(&[][..], |m| &m[..])
                        [at..at + n * self.graph.dtype(v).size_bytes()];
                    let data = match self.graph.dtype(v) {
                        DType::F32 => Data::F32(bytemuck::pod_collect_to_vec(bytes)),
                        DType::I64 => Data::I64(bytemuck::pod_collect_to_vec(bytes)),
                    };
                    Tensor::new(dims, data)?
                }
            };
            result.push(t);
        }
        Ok(result)
    }
}

/// The pipeline of `source`, created once per executable.
fn pipeline(
    gpu: &Gpu,
    cache: &mut HashMap<String, wgpu::ComputePipeline>,
    checked: bool,
    source: &str,
) -> wgpu::ComputePipeline {
    if let Some(p) = cache.get(source) {
        return p.clone();
    }
    let device = &gpu.device;
    let desc = wgpu::ShaderModuleDescriptor {
        label: None,
        source: wgpu::ShaderSource::Wgsl(source.into()),
    };
    let module = if checked {
        device.create_shader_module(desc)
    } else {
        // SAFETY: every index the kernels compute is guarded by the sizes in their
        // parameters (tested with bounds checks on, as the tests compile them).
        unsafe { device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) }
    };
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: None,
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    cache.insert(source.to_string(), pipeline.clone());
    pipeline
}

/// The pass's GPU time from its two timestamps, if believable: later than it started, and
/// within the host's wall time of the whole run (some drivers write zeros).
fn plausible(begin: u64, end: u64, period_ns: f32, host: Duration) -> Option<Duration> {
    let ticks = end.checked_sub(begin).filter(|&t| t > 0 && begin > 0)?;
    let t = Duration::from_secs_f64(ticks as f64 * f64::from(period_ns) * 1e-9);
    (t <= host).then_some(t)
}

fn wait(device: &wgpu::Device) -> Result<()> {
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map(|_| ())
        .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))
}

fn bytes_of(d: &Data) -> &[u8] {
    match d {
        Data::F32(v) => bytemuck::cast_slice(v),
        Data::I64(v) => bytemuck::cast_slice(v),
    }
}

/// Buffer sizes are multiples of 4 and never 0 (wgpu refuses empty bindings).
fn padded_size(bytes: usize) -> u64 {
    bytes.next_multiple_of(4).max(4) as u64
}

/// Which of the adapter's limits a size must respect: one binding (a value a shader
/// reads or writes), or one buffer (the arena and the inputs-and-outputs buffer, bound in
/// ranges).
enum Limit {
    Binding,
    Buffer,
}

/// A clear error for a value or buffer the adapter cannot bind or hold.
fn check_size(gpu: &Gpu, what: &str, bytes: usize, limit: Limit) -> Result<()> {
    let (max, how) = match limit {
        Limit::Binding => (
            gpu.limits
                .max_storage_buffer_binding_size
                .min(gpu.limits.max_buffer_size),
            "binds in one buffer",
        ),
        Limit::Buffer => (gpu.limits.max_buffer_size, "allocates in one buffer"),
    };
    if bytes as u64 > max {
        return Err(Error::Gpu(format!(
            "{what} take {bytes} bytes, more than this adapter {how} ({max} bytes, {})",
            gpu.adapter.name
        )));
    }
    Ok(())
}

impl Compiled for GpuExecutable {
    fn graph(&self) -> &Graph {
        &self.graph
    }

    fn report(&self) -> &CompileReport {
        &self.report
    }

    fn run_timed(
        &mut self,
        inputs: &[Tensor],
        mut times: Option<&mut Vec<Duration>>,
    ) -> Result<Vec<Tensor>> {
        // A run that fails reports no device time (not the previous run's).
        self.device_time = None;
        let bindings = self.graph.bind_inputs(inputs)?;
        let key = self.prepare(&bindings)?;
        let p = &self.prepared[&key];
        let (device, queue) = (&self.gpu.device, &self.gpu.queue);
        for (t, &at) in inputs.iter().zip(&p.input_at) {
            let b = bytes_of(t.data());
            if !b.is_empty() {
                queue.write_buffer(&p.io, at as u64, b);
            }
        }
        let start = Instant::now();
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.clear_buffer(&self.status, 0, None);
        // Timestamps around the one pass (not when profiling, which splits it).
        let timed = self.timestamps.as_ref().filter(|_| times.is_none());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: timed.map(|(set, _)| wgpu::ComputePassTimestampWrites {
                    query_set: set,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                }),
            });
            for (v, dispatches) in &p.steps {
                for d in dispatches {
                    let [x, y, z] = d.grid;
                    pass.set_pipeline(&self.pipelines[&d.source]);
                    pass.set_bind_group(0, &d.group, &[]);
                    pass.dispatch_workgroups(x, y, z);
                }
                if let Some(times) = times.as_deref_mut() {
                    // Profiling: finish this node alone and time it.
                    drop(pass);
                    let start = Instant::now();
                    queue.submit([std::mem::replace(
                        &mut encoder,
                        device.create_command_encoder(&Default::default()),
                    )
                    .finish()]);
                    wait(device)?;
                    times[v.0] = start.elapsed();
                    pass = encoder.begin_compute_pass(&Default::default());
                }
            }
        }
        if p.output_bytes > 0 {
            encoder.copy_buffer_to_buffer(
                &p.io,
                p.outputs_from as u64,
                &p.staging,
                0,
                p.output_bytes as u64,
            );
        }
        let stamps_at = p.output_bytes.next_multiple_of(8) as u64;
        if let Some((set, resolve)) = timed {
            encoder.resolve_query_set(set, 0..2, resolve, 0);
            encoder.copy_buffer_to_buffer(resolve, 0, &p.staging, stamps_at, 16);
        }
        encoder.copy_buffer_to_buffer(&self.status, 0, &p.staging, stamps_at + 16, 4);
        queue.submit([encoder.finish()]);
        p.staging.slice(..).map_async(wgpu::MapMode::Read, |_| {});
        let waited = wait(device);
        let host = start.elapsed();
        let error = self.gpu.take_error();
        if waited.is_err() || error.is_some() {
            // Unmapped on every path, or the next run's copy into it fails too.
            p.staging.unmap();
            waited?;
            return Err(Error::Gpu(format!(
                "running `{}`: {}",
                self.graph.name(),
                error.unwrap_or_default()
            )));
        }
        let status = match p
            .staging
            .slice(stamps_at + 16..stamps_at + 20)
            .get_mapped_range()
        {
            Ok(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Err(e) => {
                p.staging.unmap();
                return Err(Error::Gpu(format!("reading the run's status: {e}")));
            }
        };
        if status > 0 {
            p.staging.unmap();
            let node = (status - 1) as usize;
            let table = self.graph.node(Value(node)).inputs[0];
            return Err(Error::BadArgument {
                op: format!("gather (node {node})"),
                why: format!(
                    "an index is outside the table's {} rows",
                    p.plan.dims[table.0][0]
                ),
            });
        }
        let outputs = self.read_outputs(p, inputs);
        let mut device_time = None;
        if let (Some(_), Some(period)) = (timed, self.gpu.timestamp_period)
            && let Ok(bytes) = p
                .staging
                .slice(stamps_at..stamps_at + 16)
                .get_mapped_range()
        {
            let t: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
            device_time = plausible(t[0], t[1], period, host);
        }
        p.staging.unmap();
        self.device_time = device_time;
        outputs
    }

    fn device_time(&self) -> Option<Duration> {
        self.device_time
    }
}
