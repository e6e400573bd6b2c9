//! `candle`: the engine graph lowered op by op onto Hugging Face candle-core tensors (on the
//! CPU; `candle:metal` and `candle:cuda` on a GPU where candle is built for it).
//!
//! `load` walks the graph once: constants become candle tensors, and every node whose inputs
//! are all constants is evaluated there and then (so a Linear layer's `transpose(W)` becomes a
//! pre-transposed, contiguous `[in, out]` weight, as `candle_nn::Linear` would hold it). `run`
//! then executes the remaining nodes in order, each on candle's best primitive:
//!
//! | engine op                | candle                                                        |
//! |--------------------------|---------------------------------------------------------------|
//! | matmul                   | `matmul` (gemm); one right-hand matrix: batch folded into rows |
//! | unary / binary           | `exp`, `gelu_erf`, `gelu` (tanh), ...; `broadcast_add`, ...   |
//! | x op scalar constant     | `affine` (one pass, no broadcast)                             |
//! | layer_norm               | `candle_nn::ops::layer_norm` (fused, last axis, eps inside)   |
//! | softmax                  | `candle_nn::ops::softmax_last_dim` (fused) / `softmax(axis)`  |
//! | attention                | `q*scale @ k^T` + mask, `softmax_last_dim`, `@ v`             |
//! | gather                   | `index_select` on the table's rows (`embedding`)              |
//! | conv2d / max_pool2d      | `conv2d` + bias / `max_pool2d_with_stride`                    |
//! | reduce, cast, slice, ... | `sum_keepdim`/`mean_keepdim`/`max_keepdim`, `to_dtype`, `narrow`, `Tensor::cat`, `arange`, `permute` |
//!
//! Transposes are views (`permute`); an op that needs contiguous data (the fused candle-nn
//! kernels, a matmul whose batch strides gemm cannot walk) makes it so.
//!
//! Threads: candle's CPU kernels size their pools from the environment, not from an API.
//! gemm gets `RAYON_NUM_THREADS` on every matmul, element-wise ops use a barrier pool sized
//! once from `CANDLE_NUM_THREADS`, and the candle-nn kernels and conv2d run on whatever
//! rayon pool is current. So `load` sets both variables to the resolved thread count before
//! candle's first use in the process, and `run` executes inside `Device::with_context`, which
//! installs candle's own rayon pool (sized from the same variable). The first `load` in a
//! process fixes the count; a later one asking for another count is refused, not ignored.

use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};
use candle_core::{self as candle, Device, Tensor as CTensor};
use engine::lowering::{Lowering, Patterns};
use engine::ops::{BinaryOp, Op, ReduceOp, UnaryOp};
use engine::{Bindings, DType, Data, Graph, Shape, Tensor, broadcast_dims};

use crate::{Availability, Session, Subject};

/// The candle-core release this crate is built against (checked against Cargo.lock by a test).
pub const CANDLE_VERSION: &str = "0.11.1";

/// Where candle runs: `candle` (the CPU), `candle:metal` or `candle:cuda` (the first GPU;
/// these need this crate's `metal` or `cuda` feature, and the hardware).
pub struct Candle {
    pub device: CandleDevice,
}

#[derive(Clone, Copy, PartialEq)]
pub enum CandleDevice {
    Cpu,
    Metal,
    Cuda,
}

impl Candle {
    fn open(&self) -> candle::Result<Device> {
        match self.device {
            CandleDevice::Cpu => Ok(Device::Cpu),
            CandleDevice::Metal => Device::new_metal(0),
            CandleDevice::Cuda => Device::new_cuda(0),
        }
    }
}

impl Subject for Candle {
    fn name(&self) -> &str {
        match self.device {
            CandleDevice::Cpu => "candle",
            CandleDevice::Metal => "candle:metal",
            CandleDevice::Cuda => "candle:cuda",
        }
    }
    fn description(&self) -> &str {
        match self.device {
            CandleDevice::Cpu => {
                "Hugging Face candle-core tensors on the CPU, the graph lowered op by op"
            }
            CandleDevice::Metal => {
                "candle-core on the Metal GPU (device 0), the graph lowered op by op"
            }
            CandleDevice::Cuda => {
                "candle-core on the CUDA GPU (device 0), the graph lowered op by op"
            }
        }
    }
    fn threading(&self) -> &str {
        match self.device {
            CandleDevice::Cpu => {
                "`RAYON_NUM_THREADS` = `CANDLE_NUM_THREADS` = N, set before candle's first use in the worker"
            }
            _ => "the GPU; N is not used (one case per scenario)",
        }
    }
    fn uses_threads(&self) -> bool {
        self.device == CandleDevice::Cpu
    }
    fn needs_gpu_hardware(&self) -> bool {
        self.device != CandleDevice::Cpu
    }
    fn version(&self) -> String {
        format!("candle-core {CANDLE_VERSION}")
    }
    fn availability(&self) -> Availability {
        // The CPU device is always there (pure Rust, always built in); a GPU device needs
        // its feature compiled in and the hardware.
        match self.open() {
            Ok(_) => Availability::Available,
            Err(e) => Availability::Unavailable {
                reason: format!("candle cannot open its device: {e}"),
                fix: match self.device {
                    CandleDevice::Metal => "on a Mac: cargo run -p harness --features subjects/metal -- ...",
                    _ => "on a machine with an NVIDIA GPU and the CUDA toolkit: cargo run -p harness --features subjects/cuda -- ...",
                }
                .into(),
            },
        }
    }
    fn load(&self, graph: &Graph, threads: usize) -> Result<Box<dyn Session>> {
        if self.device == CandleDevice::Cpu {
            set_threads(crate::resolve_threads(threads))?;
        }
        graph.validate()?;
        Ok(Box::new(CandleSession::lower(graph, self.open()?)?))
    }
}

/// The thread count candle was configured with in this process.
static THREADS: OnceLock<usize> = OnceLock::new();

/// Points candle's thread pools at `n` threads; see the module docs.
fn set_threads(n: usize) -> Result<()> {
    let set = *THREADS.get_or_init(|| {
        let value = n.to_string();
        // SAFETY: `set_var` is unsound only while another thread may read the environment
        // through libc (`getenv`) at the same time; Rust's own accesses are serialised. This
        // runs once per process, in `load`, before candle has started any thread: in the
        // harness the worker is a fresh process that loads its one subject from the main
        // thread before it starts anything else, and in tests the other threads are Rust
        // test threads, which read the environment only through `std::env`.
        unsafe {
            std::env::set_var("RAYON_NUM_THREADS", &value);
            std::env::set_var("CANDLE_NUM_THREADS", &value);
        }
        n
    });
    if set != n {
        bail!(
            "candle sizes its thread pools once per process: this process already runs it with \
             {set} thread(s), so it cannot load a graph for {n}"
        );
    }
    Ok(())
}

/// What a step computes beyond the node's own op.
enum Kernel {
    /// `x * mul + add` for a binary op with a scalar constant operand; `x` is argument
    /// `arg` of the node.
    Affine { mul: f64, add: f64, arg: usize },
    /// The op as the graph states it.
    Op,
}

struct CandleSession {
    lowering: Lowering,
    device: Device,
    /// Values fixed at load (constants and everything computed from constants alone).
    fixed: Vec<Option<CTensor>>,
    kernels: Vec<Kernel>,
}

impl CandleSession {
    fn lower(graph: &Graph, device: Device) -> Result<Self> {
        let mut lowering = Lowering::new(graph, Patterns::default())?;
        let g = &lowering.graph;
        let no_bindings = Bindings::new();
        let mut fixed: Vec<Option<CTensor>> = vec![None; g.nodes().len()];
        device.with_context(|| -> Result<()> {
            for (i, node) in g.nodes().iter().enumerate() {
                if let Op::Constant(t) = &node.op {
                    fixed[i] = Some(to_candle(t, &device)?);
                } else if lowering.fixed[i] {
                    let ins: Vec<&CTensor> = lowering.reads[i]
                        .iter()
                        .map(|v| fixed[v.0].as_ref().expect("fixed inputs come first"))
                        .collect();
                    let y = eval(&node.op, &ins, &no_bindings, &device)
                        .with_context(|| format!("node {i} ({}) on constants", node.op.name()))?;
                    // Folded results are read on every run: store them contiguous (a
                    // transposed weight becomes a pre-transposed copy).
                    fixed[i] = Some(y.contiguous()?);
                }
            }
            Ok(())
        })?;
        let frozen = lowering.fixed.clone();
        lowering.freeze(&frozen);
        // Keep only the fixed values a run reads.
        let mut read = vec![false; fixed.len()];
        for v in lowering
            .reads
            .iter()
            .flatten()
            .chain(lowering.graph.outputs())
        {
            read[v.0] = true;
        }
        for (f, r) in fixed.iter_mut().zip(read) {
            if !r {
                *f = None;
            }
        }
        let kernels = (0..fixed.len())
            .map(|i| scalar_affine(&lowering.graph, i, &fixed).unwrap_or(Kernel::Op))
            .collect();
        Ok(CandleSession {
            lowering,
            device,
            fixed,
            kernels,
        })
    }
}

impl Session for CandleSession {
    fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let g = &self.lowering.graph;
        let bindings = g.bind_inputs(inputs)?;
        let device = &self.device;
        device.with_context(|| {
            let mut values = self.fixed.clone();
            for (v, t) in g.inputs().iter().zip(inputs) {
                values[v.0] = Some(to_candle(t, device)?);
            }
            self.lowering.run(
                values,
                |i, ins| {
                    let op = &g.nodes()[i].op;
                    match self.kernels[i] {
                        Kernel::Affine { mul, add, arg } => Ok(ins[arg].affine(mul, add)?),
                        Kernel::Op => eval(op, ins, &bindings, device),
                    }
                    .with_context(|| format!("candle: node {i} ({})", op.name()))
                },
                |t, v| from_candle(t, g.dtype(v)),
            )
        })
    }
}

/// A binary op whose other operand is a scalar f32 constant and already has the output's
/// shape, as one `affine` pass: `x + c`, `x - c`, `c - x`, `x * c`.
fn scalar_affine(graph: &Graph, i: usize, fixed: &[Option<CTensor>]) -> Option<Kernel> {
    let node = &graph.nodes()[i];
    let Op::Binary(op) = node.op else { return None };
    let scalar = |v: usize| -> Option<f64> {
        let t = fixed[v].as_ref()?;
        if t.elem_count() != 1 || t.dtype() != candle::DType::F32 {
            return None;
        }
        t.flatten_all()
            .ok()?
            .to_vec1::<f32>()
            .ok()
            .map(|c| c[0] as f64)
    };
    let (a, b) = (node.inputs[0], node.inputs[1]);
    let (arg, (mul, add)) = match (scalar(b.0), scalar(a.0), op) {
        (Some(c), _, BinaryOp::Add) => (0, (1.0, c)),
        (Some(c), _, BinaryOp::Sub) => (0, (1.0, -c)),
        (Some(c), _, BinaryOp::Mul) => (0, (c, 0.0)),
        (None, Some(c), BinaryOp::Add) => (1, (1.0, c)),
        (None, Some(c), BinaryOp::Sub) => (1, (-1.0, c)),
        (None, Some(c), BinaryOp::Mul) => (1, (c, 0.0)),
        _ => return None,
    };
    (graph.shape(node.inputs[arg]) == &node.shape).then_some(Kernel::Affine { mul, add, arg })
}

fn to_candle(t: &Tensor, device: &Device) -> Result<CTensor> {
    Ok(match t.data() {
        Data::F32(v) => CTensor::from_slice(v.as_slice(), t.dims(), device)?,
        Data::I64(v) => CTensor::from_slice(v.as_slice(), t.dims(), device)?,
    })
}

fn from_candle(t: &CTensor, dtype: DType) -> Result<Tensor> {
    let dims = t.dims().to_vec();
    let flat = t.flatten_all()?;
    let data = match dtype {
        DType::F32 => Data::F32(flat.to_dtype(candle::DType::F32)?.to_vec1()?),
        DType::I64 => Data::I64(flat.to_dtype(candle::DType::I64)?.to_vec1()?),
    };
    Ok(Tensor::new(&dims, data)?)
}

/// Concrete dims of a (possibly symbolic) shape for this run.
fn concrete(shape: &Shape, bindings: &Bindings) -> Result<Vec<usize>> {
    if let Some(d) = shape.to_static() {
        return Ok(d);
    }
    shape
        .bind(bindings)
        .to_static()
        .ok_or_else(|| anyhow!("shape {shape} has a symbolic dim no input binds"))
}

fn candle_dtype(d: DType) -> candle::DType {
    match d {
        DType::F32 => candle::DType::F32,
        DType::I64 => candle::DType::I64,
    }
}

/// One op on candle tensors.
fn eval(op: &Op, ins: &[&CTensor], bindings: &Bindings, device: &Device) -> Result<CTensor> {
    Ok(match op {
        Op::Input { .. } | Op::Constant(_) | Op::Fused(_) => {
            bail!("internal: {} is not a step", op.name())
        }
        Op::Unary(u) => unary(*u, ins[0])?,
        Op::Binary(b) => binary(*b, ins[0], ins[1])?,
        Op::MatMul => matmul(ins[0], ins[1])?,
        Op::Transpose { perm } => ins[0].permute(perm.clone())?,
        Op::Reshape { shape } => ins[0].reshape(concrete(shape, bindings)?)?,
        Op::BroadcastTo { shape } => ins[0].broadcast_as(concrete(shape, bindings)?)?,
        Op::Reduce {
            op,
            axes,
            keep_dims,
        } => reduce(*op, ins[0], axes, *keep_dims)?,
        Op::Cast { to } => ins[0].to_dtype(candle_dtype(*to))?,
        Op::Gather => gather(ins[0], ins[1])?,
        Op::LayerNorm { eps } => layer_norm(ins[0], ins[1], ins[2], *eps)?,
        Op::Softmax { axis } => softmax(ins[0], *axis)?,
        Op::Slice { axis, start, end } => ins[0].narrow(*axis, *start, end - start)?,
        Op::Concat { axis } => CTensor::cat(ins, *axis)?,
        Op::Arange { len, dtype } => {
            let n = concrete(&Shape(vec![len.clone()]), bindings)?[0];
            match dtype {
                DType::I64 => CTensor::arange(0i64, n as i64, device)?,
                DType::F32 => CTensor::arange(0f32, n as f32, device)?,
            }
        }
        Op::Conv2d {
            stride, padding, ..
        } => conv2d(ins[0], ins[1], ins.get(2).copied(), *stride, *padding)?,
        Op::MaxPool2d { kernel, stride } => ins[0]
            .contiguous()?
            .max_pool2d_with_stride((kernel[0], kernel[1]), (stride[0], stride[1]))?,
        Op::Attention { scale, .. } => {
            attention(ins[0], ins[1], ins[2], ins.get(3).copied(), *scale)?
        }
    })
}

// The candle column of the engine's op table.
macro_rules! candle_unary {
    ($( $(#[$doc:meta])* $v:ident($fn:ident) { flops: $fl:expr, cost: $c0:expr, domain: $d:tt,
        f64: $f64:expr, f32: $f32:ident, wgsl: $w:literal, onnx: $o:expr, torch: $torch:expr,
        candle: $candle:expr $(,)? } )*) => {
        fn unary(op: UnaryOp, x: &CTensor) -> candle::Result<CTensor> {
            match op {
                $( UnaryOp::$v => { let f: fn(&CTensor) -> candle::Result<CTensor> = $candle; f(x) } )*
            }
        }
    };
}
engine::unary_ops!(candle_unary);

macro_rules! candle_binary {
    ($( $v:ident($fn:ident) { f64: $f64:expr, f32: $f32:expr, wgsl: $w:literal, onnx: $o:literal,
        torch: $torch:expr, candle: $candle:expr $(,)? } )*) => {
        fn binary(op: BinaryOp, a: &CTensor, b: &CTensor) -> candle::Result<CTensor> {
            match op {
                $( BinaryOp::$v => { let f: fn(&CTensor, &CTensor) -> candle::Result<CTensor> = $candle; f(a, b) } )*
            }
        }
    };
}
engine::binary_ops!(candle_binary);

/// Whether candle's CPU matmul can walk this operand's batch dims as they are (its
/// `ab_skip`: at most two batch dims, collapsible into one stride).
fn batch_strides_ok(t: &CTensor) -> bool {
    let (d, s) = (t.dims(), t.stride());
    match d.len() {
        2 | 3 => true,
        4 => s[0] == s[1] * d[1] || d[0] == 1 || d[1] == 1,
        _ => false,
    }
}

/// `[..., m, k] @ [..., k, n]` with numpy batch broadcasting, on gemm.
fn matmul(a: &CTensor, b: &CTensor) -> candle::Result<CTensor> {
    let (ad, bd) = (a.dims(), b.dims());
    let (ar, br) = (ad.len(), bd.len());
    let (m, k, n) = (ad[ar - 2], ad[ar - 1], bd[br - 1]);
    let batch = broadcast_dims(&ad[..ar - 2], &bd[..br - 2])
        .expect("the graph checked that the batch dims broadcast");
    let nb: usize = batch.iter().product();
    let out: Vec<usize> = batch.iter().copied().chain([m, n]).collect();
    if bd[..br - 2].iter().product::<usize>() == 1 {
        // One right-hand matrix (a Linear layer's weight): the left operand's batch dims
        // fold into its rows, one GEMM.
        let b2 = if br == 2 {
            b.clone()
        } else {
            b.reshape((k, n))?
        };
        if ar == 2 {
            return a.matmul(&b2)?.reshape(out);
        }
        let a_full = if ad[..ar - 2] == batch[..] {
            a.clone()
        } else {
            a.broadcast_as([&batch[..], &[m, k]].concat())?
        };
        return a_full
            .contiguous()?
            .reshape((nb * m, k))?
            .matmul(&b2)?
            .reshape(out);
    }
    if ad[..ar - 2] == bd[..br - 2] && batch_strides_ok(a) && batch_strides_ok(b) {
        return a.matmul(b);
    }
    let a3 = a
        .broadcast_as([&batch[..], &[m, k]].concat())?
        .contiguous()?
        .reshape((nb, m, k))?;
    let b3 = b
        .broadcast_as([&batch[..], &[k, n]].concat())?
        .contiguous()?
        .reshape((nb, k, n))?;
    a3.matmul(&b3)?.reshape(out)
}

fn reduce(op: ReduceOp, x: &CTensor, axes: &[usize], keep_dims: bool) -> candle::Result<CTensor> {
    let kept = match op {
        _ if axes.is_empty() => x.clone(),
        ReduceOp::Sum => x.sum_keepdim(axes.to_vec())?,
        ReduceOp::Mean => x.mean_keepdim(axes.to_vec())?,
        ReduceOp::Max => {
            let mut y = x.clone();
            for &a in axes {
                y = y.max_keepdim(a)?;
            }
            y
        }
    };
    if keep_dims {
        return Ok(kept);
    }
    let dims: Vec<usize> = (0..x.rank())
        .filter(|a| !axes.contains(a))
        .map(|a| x.dims()[a])
        .collect();
    kept.reshape(dims)
}

/// Rows of `table [V, D..]` picked by `indices [I..]`: `index_select` on the rows.
fn gather(table: &CTensor, indices: &CTensor) -> Result<CTensor> {
    let rows = table.dims()[0];
    let ids = indices.flatten_all()?;
    // candle maps an index of i64::MAX to a zero row and no error: check as the engine does.
    let host: Vec<i64> = ids.to_vec1()?;
    if let Some((p, &x)) = host
        .iter()
        .enumerate()
        .find(|(_, x)| !(0..rows as i64).contains(x))
    {
        bail!("gather: index {x} at position {p} is out of range for a table of {rows} rows");
    }
    let row: usize = table.dims()[1..].iter().product();
    let picked = table
        .contiguous()?
        .reshape((rows, row))?
        .index_select(&ids, 0)?;
    let dims: Vec<usize> = indices
        .dims()
        .iter()
        .chain(&table.dims()[1..])
        .copied()
        .collect();
    Ok(picked.reshape(dims)?)
}

fn layer_norm(x: &CTensor, gamma: &CTensor, beta: &CTensor, eps: f32) -> candle::Result<CTensor> {
    candle_nn::ops::layer_norm(
        &x.contiguous()?,
        &gamma.contiguous()?,
        &beta.contiguous()?,
        eps,
    )
}

fn softmax(x: &CTensor, axis: usize) -> candle::Result<CTensor> {
    if axis + 1 == x.rank() {
        candle_nn::ops::softmax_last_dim(&x.contiguous()?)
    } else {
        candle_nn::ops::softmax(x, axis)
    }
}

/// NCHW convolution. candle takes one padding and one stride for both axes: unequal padding
/// is applied with `pad_with_zeros`, unequal strides by a stride-1 convolution whose rows and
/// columns are then sampled.
fn conv2d(
    x: &CTensor,
    w: &CTensor,
    bias: Option<&CTensor>,
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<CTensor> {
    let mut x = x.contiguous()?;
    let pad = if padding[0] == padding[1] {
        padding[0]
    } else {
        x = x
            .pad_with_zeros(2, padding[0], padding[0])?
            .pad_with_zeros(3, padding[1], padding[1])?;
        0
    };
    let mut y = if stride[0] == stride[1] {
        x.conv2d(w, pad, stride[0], 1, 1)?
    } else {
        let full = x.conv2d(w, pad, 1, 1, 1)?;
        let (_, _, h, wd) = full.dims4()?;
        let pick = |len: usize, s: usize| -> candle::Result<CTensor> {
            let idx: Vec<u32> = (0..len).step_by(s).map(|i| i as u32).collect();
            let n = idx.len();
            CTensor::from_vec(idx, n, x.device())
        };
        full.index_select(&pick(h, stride[0])?, 2)?
            .index_select(&pick(wd, stride[1])?, 3)?
    };
    if let Some(b) = bias {
        y = y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?)?;
    }
    Ok(y)
}

/// `softmax(q k^T * scale + mask) v`, composed as candle's own BERT models do: the scale
/// folded into q, gemm for both products, the fused last-axis softmax between them.
fn attention(
    q: &CTensor,
    k: &CTensor,
    v: &CTensor,
    mask: Option<&CTensor>,
    scale: f32,
) -> candle::Result<CTensor> {
    let q = q.affine(scale as f64, 0.0)?;
    let kt = k.transpose(k.rank() - 2, k.rank() - 1)?;
    let mut scores = matmul(&q, &kt)?;
    if let Some(m) = mask {
        scores = scores.broadcast_add(m)?;
    }
    let probs = candle_nn::ops::softmax_last_dim(&scores.contiguous()?)?;
    matmul(&probs, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_the_locked_candle_core() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .expect("the workspace's Cargo.lock");
        let locked = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"candle-core\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .and_then(|v| v.strip_suffix('"'))
            .expect("candle-core in Cargo.lock");
        assert_eq!(locked, CANDLE_VERSION, "update CANDLE_VERSION in candle.rs");
        assert_eq!(
            Candle {
                device: CandleDevice::Cpu
            }
            .version(),
            format!("candle-core {locked}")
        );
    }
}
