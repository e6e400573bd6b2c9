//! `torch`: PyTorch's libtorch through the `tch` crate, in eager mode.
//!
//! The engine graph is lowered op by op onto libtorch tensors, each op on the primitive a
//! PyTorch user would call: `x @ W^T + b` on `linear` (addmm), LayerNorm on `layer_norm`,
//! GELU on `gelu`, softmax on `softmax`, attention on `scaled_dot_product_attention` (the
//! additive mask as `attn_mask`), convolution and pooling on `conv2d` / `max_pool2d`,
//! embeddings on `embedding`. No graph capture, no fusion beyond what those primitives do:
//! this is what eager PyTorch costs. Runs happen under `no_grad`.
//!
//! Constants become libtorch tensors once, at load; inputs are wrapped (not copied) as
//! libtorch tensors on every run and outputs copied back into host tensors.
//!
//! Built only with the cargo feature `torch`, because libtorch must be present at build time
//! (`scripts/setup-baselines`); without it the subject reports itself unavailable.

use anyhow::Result;
use engine::Graph;

use crate::{Availability, Session, Subject};

/// Where libtorch runs: `cpu` (the subject `torch`), `cuda` (`torch:cuda`, GPU 0) or `mps`
/// (`torch:mps`, Apple GPUs); the GPU ones need a libtorch built for them.
pub struct Torch {
    pub device: &'static str,
}

/// The pinned `tch` release (its `Cargo.toml` entry is `=0.24.0`), made for libtorch 2.11.0.
#[cfg(feature = "torch")]
const TCH_VERSION: &str = "0.24.0";

impl Subject for Torch {
    fn name(&self) -> &str {
        match self.device {
            "cuda" => "torch:cuda",
            "mps" => "torch:mps",
            _ => "torch",
        }
    }
    fn description(&self) -> &str {
        match self.device {
            "cuda" => "PyTorch (libtorch via tch) on CUDA GPU 0, eager, op by op under no_grad",
            "mps" => {
                "PyTorch (libtorch via tch) on the Apple GPU (MPS), eager, op by op under no_grad"
            }
            _ => "PyTorch (libtorch via tch), eager, the graph lowered op by op under no_grad",
        }
    }
    fn threading(&self) -> &str {
        match self.device {
            "cpu" => "`torch.set_num_threads(N)`, 1 inter-op thread",
            _ => "the GPU; N is not used (one case per scenario)",
        }
    }
    fn uses_threads(&self) -> bool {
        self.device == "cpu"
    }
    fn needs_gpu_hardware(&self) -> bool {
        self.device != "cpu"
    }
    fn version(&self) -> String {
        #[cfg(feature = "torch")]
        {
            let mut extras = vec![format!("tch {TCH_VERSION}")];
            if tch::utils::has_mkl() {
                extras.push("mkl".into());
            }
            if tch::utils::has_mkldnn() {
                extras.push("mkldnn".into());
            }
            if tch::utils::has_openmp() {
                extras.push("openmp".into());
            }
            format!(
                "libtorch {} ({})",
                env!("GRAPHBENCH_LIBTORCH_VERSION"),
                extras.join(", ")
            )
        }
        #[cfg(not(feature = "torch"))]
        {
            "libtorch (not built)".into()
        }
    }
    fn availability(&self) -> Availability {
        if cfg!(feature = "torch") {
            #[cfg(feature = "torch")]
            {
                let present = match self.device {
                    "cuda" => tch::Cuda::is_available(),
                    "mps" => tch::utils::has_mps(),
                    _ => true,
                };
                if !present {
                    return Availability::Unavailable {
                        reason: format!("libtorch finds no `{}` device", self.device),
                        fix: match self.device {
                            "cuda" => {
                                "an NVIDIA GPU and a CUDA build of libtorch 2.11.0 (LIBTORCH)"
                            }
                            _ => {
                                "a Mac with Apple silicon and libtorch 2.11.0 for macOS (LIBTORCH)"
                            }
                        }
                        .into(),
                    };
                }
            }
            Availability::Available
        } else {
            Availability::Unavailable {
                reason: "built without the `torch` feature".into(),
                fix: "scripts/setup-baselines && cargo run -p harness --features torch -- ..."
                    .into(),
            }
        }
    }
    fn load(&self, graph: &Graph, threads: usize) -> Result<Box<dyn Session>> {
        #[cfg(feature = "torch")]
        {
            let device = match self.device {
                "cuda" => tch::Device::Cuda(0),
                "mps" => tch::Device::Mps,
                _ => tch::Device::Cpu,
            };
            Ok(Box::new(lower::TorchSession::load(graph, threads, device)?))
        }
        #[cfg(not(feature = "torch"))]
        {
            let _ = (graph, threads);
            anyhow::bail!("the `torch` subject is not built: build with `--features torch`")
        }
    }
}

#[cfg(feature = "torch")]
mod lower {
    use std::sync::Once;

    use anyhow::{Context, Result, anyhow, bail};
    use engine::lowering::{Form, Lowering, Patterns};
    use engine::ops::{BinaryOp, Op, ReduceOp, UnaryOp};
    use engine::{Bindings, DType, Data, Dim, Graph, Shape, Tensor, broadcast_dims};
    use tch::{Device, Kind, TchError, Tensor as TTensor};

    use crate::Session;

    pub struct TorchSession {
        lowering: Lowering,
        /// libtorch copies of the constants the steps read, made once at load.
        consts: Vec<Option<TTensor>>,
        /// Where constants live and inputs are copied to (outputs come back to the host).
        device: Device,
    }

    static INTEROP: Once = Once::new();

    impl TorchSession {
        pub fn load(graph: &Graph, threads: usize, device: Device) -> Result<Self> {
            // libtorch allows setting the inter-op pool only once per process, before any
            // parallel work; each benchmark worker is a fresh process.
            INTEROP.call_once(|| tch::set_num_interop_threads(1));
            tch::set_num_threads(crate::resolve_threads(threads) as i32);
            let lowering = Lowering::new(
                graph,
                Patterns {
                    linear: true,
                    rows: false,
                },
            )?;
            let needed = lowering.reads.iter().flatten();
            let mut consts: Vec<Option<TTensor>> = Vec::new();
            consts.resize_with(lowering.forms.len(), || None);
            for v in needed.chain(lowering.graph.outputs()) {
                if let (Op::Constant(t), None) = (&lowering.graph.node(*v).op, &consts[v.0]) {
                    consts[v.0] = Some(
                        to_torch_owned(t)
                            .and_then(|c| c.f_to_device(device))
                            .with_context(|| format!("constant node {} {:?}", v.0, t.dims()))?,
                    );
                }
            }
            Ok(TorchSession {
                lowering,
                consts,
                device,
            })
        }

        /// Computes node `i` from the values its form reads.
        fn step(&self, i: usize, args: &[&TTensor], bindings: &Bindings) -> Result<TTensor> {
            let node = self.lowering.graph.node(engine::Value(i));
            Ok(match &self.lowering.forms[i] {
                Form::Linear { bias, .. } => {
                    let bias = bias.map(|_| args[2]);
                    args[0].f_linear(args[1], bias)?
                }
                Form::Op => match &node.op {
                    Op::Input { .. } | Op::Constant(_) | Op::Fused(_) => {
                        bail!("internal: {} is not a step", node.op.name())
                    }
                    Op::Unary(op) => unary(*op, args[0])?,
                    Op::Binary(op) => binary(*op, args[0], args[1])?,
                    Op::MatMul => args[0].f_matmul(args[1])?,
                    Op::Transpose { perm } => {
                        let perm: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
                        args[0].f_permute(&perm)?
                    }
                    Op::Reshape { shape } => args[0].f_reshape(&bind(shape, bindings)?)?,
                    Op::BroadcastTo { shape } => {
                        args[0].f_expand(&bind(shape, bindings)?, false)?
                    }
                    Op::Reduce {
                        op,
                        axes,
                        keep_dims,
                    } => {
                        let x = args[0];
                        // libtorch reduces every axis for an empty list; the engine none.
                        if axes.is_empty() {
                            x.shallow_clone()
                        } else {
                            let axes: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
                            match op {
                                ReduceOp::Sum => {
                                    x.f_sum_dim_intlist(&axes, *keep_dims, None::<Kind>)?
                                }
                                ReduceOp::Mean => x.f_mean_dim(&axes, *keep_dims, None::<Kind>)?,
                                ReduceOp::Max => x.f_amax(&axes, *keep_dims)?,
                            }
                        }
                    }
                    Op::Cast { to } => {
                        let x = args[0];
                        if x.kind() == kind(*to) {
                            x.shallow_clone()
                        } else {
                            // f32 -> i64 truncates toward zero, as the engine defines it.
                            x.f_to_kind(kind(*to))?
                        }
                    }
                    Op::Gather => {
                        let (table, idx) = (args[0], args[1]);
                        if table.dim() == 2 {
                            TTensor::f_embedding(table, idx, -1, false, false)?
                        } else {
                            let mut out = idx.size();
                            out.extend_from_slice(&table.size()[1..]);
                            table
                                .f_index_select(0, &idx.f_reshape([-1])?)?
                                .f_reshape(&out)?
                        }
                    }
                    Op::LayerNorm { eps } => {
                        let x = args[0];
                        let d = *x.size().last().context("layer_norm of a scalar")?;
                        x.f_layer_norm([d], Some(args[1]), Some(args[2]), f64::from(*eps), false)?
                    }
                    Op::Softmax { axis } => args[0].f_softmax(*axis as i64, None::<Kind>)?,
                    Op::Slice { axis, start, end } => {
                        args[0].f_narrow(*axis as i64, *start as i64, (*end - *start) as i64)?
                    }
                    Op::Concat { axis } => TTensor::f_cat(args, *axis as i64)?,
                    Op::Arange { len, dtype } => {
                        let len = bind(&Shape(vec![len.clone()]), bindings)?[0];
                        TTensor::f_arange(len, (kind(*dtype), self.device))?
                    }
                    Op::Conv2d {
                        stride,
                        padding,
                        bias,
                    } => {
                        let b = if *bias { Some(args[2]) } else { None };
                        args[0].f_conv2d(
                            args[1],
                            b,
                            [stride[0] as i64, stride[1] as i64],
                            [padding[0] as i64, padding[1] as i64],
                            [1, 1],
                            1,
                        )?
                    }
                    Op::MaxPool2d { kernel, stride } => args[0].f_max_pool2d(
                        [kernel[0] as i64, kernel[1] as i64],
                        [stride[0] as i64, stride[1] as i64],
                        [0, 0],
                        [1, 1],
                        false,
                    )?,
                    Op::Attention { scale, masked } => {
                        let mask = if *masked { Some(args[3]) } else { None };
                        attention(args[0], args[1], args[2], mask, *scale)?
                    }
                },
                form => bail!("internal: the torch lowering asked for no {form:?}"),
            })
        }
    }

    fn kind(dtype: DType) -> Kind {
        match dtype {
            DType::F32 => Kind::Float,
            DType::I64 => Kind::Int64,
        }
    }

    fn size(dims: &[usize]) -> Vec<i64> {
        dims.iter().map(|&d| d as i64).collect()
    }

    /// A host tensor copied into memory libtorch owns (for constants: once, at load).
    fn to_torch_owned(t: &Tensor) -> Result<TTensor, TchError> {
        let bytes: &[u8] = match t.data() {
            Data::F32(v) => bytemuck_f32(v),
            Data::I64(v) => bytemuck_i64(v),
        };
        TTensor::f_from_data_size(bytes, &size(t.dims()), kind(t.dtype()))
    }

    fn bytemuck_f32(v: &[f32]) -> &[u8] {
        // SAFETY: any f32 bit pattern is valid bytes; the length covers exactly the slice.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), std::mem::size_of_val(v)) }
    }

    fn bytemuck_i64(v: &[i64]) -> &[u8] {
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), std::mem::size_of_val(v)) }
    }

    /// A libtorch view of a host tensor's memory, without a copy (as `torch.from_numpy`).
    ///
    /// # Safety
    /// The returned tensor, and every view of it, must be dropped before `t`, and nothing may
    /// write through them.
    unsafe fn borrow_as_torch(t: &Tensor) -> Result<TTensor, TchError> {
        let ptr: *const u8 = match t.data() {
            Data::F32(v) => v.as_ptr().cast(),
            Data::I64(v) => v.as_ptr().cast(),
        };
        // SAFETY: `ptr` points at `numel` elements of the given kind (the caller keeps them
        // alive and unwritten).
        unsafe { TTensor::f_from_blob(ptr, &size(t.dims()), &[], kind(t.dtype()), Device::Cpu) }
    }

    /// Concrete dims of a shape under this run's bindings.
    fn bind(shape: &Shape, bindings: &Bindings) -> Result<Vec<i64>> {
        shape
            .0
            .iter()
            .map(|d| match d {
                Dim::Static(n) => Ok(*n as i64),
                Dim::Sym(s) => bindings
                    .get(s)
                    .map(|&n| n as i64)
                    .ok_or_else(|| anyhow!("symbolic dim `{s}` is not bound by the inputs")),
            })
            .collect()
    }

    // The torch column of the engine's op table.
    macro_rules! torch_unary {
        ($( $(#[$doc:meta])* $v:ident($fn:ident) { flops: $fl:expr, cost: $c0:expr, domain: $d:tt,
            f64: $f64:expr, f32: $f32:ident, wgsl: $w:literal, onnx: $o:expr, torch: $torch:expr,
            candle: $candle:expr $(,)? } )*) => {
            fn unary(op: UnaryOp, x: &TTensor) -> Result<TTensor, TchError> {
                match op {
                    $( UnaryOp::$v => { let f: fn(&TTensor) -> Result<TTensor, TchError> = $torch; f(x) } )*
                }
            }
        };
    }
    engine::unary_ops!(torch_unary);

    macro_rules! torch_binary {
        ($( $v:ident($fn:ident) { f64: $f64:expr, f32: $f32:expr, wgsl: $w:literal, onnx: $o:literal,
            torch: $torch:expr, candle: $candle:expr $(,)? } )*) => {
            fn binary(op: BinaryOp, a: &TTensor, b: &TTensor) -> Result<TTensor, TchError> {
                match op {
                    $( BinaryOp::$v => { let f: fn(&TTensor, &TTensor) -> Result<TTensor, TchError> = $torch; f(a, b) } )*
                }
            }
        };
    }
    engine::binary_ops!(torch_binary);

    /// `softmax(q k^T * scale + mask) v` on `scaled_dot_product_attention`, after the
    /// engine's broadcasting of the batch dims (q, k, v expanded, views only, where they
    /// differ; the mask given the scores' rank).
    fn attention(
        q: &TTensor,
        k: &TTensor,
        v: &TTensor,
        mask: Option<&TTensor>,
        scale: f32,
    ) -> Result<TTensor, TchError> {
        let sizes = [q.size(), k.size(), v.size()];
        let batch_of = |s: &Vec<i64>| s[..s.len() - 2].to_vec();
        let batch: Vec<i64> = sizes
            .iter()
            .map(|s| batch_of(s).iter().map(|&d| d as usize).collect::<Vec<_>>())
            .try_fold(Vec::new(), |a, b| broadcast_dims(&a, &b))
            .expect("the graph checked that the batch dims broadcast")
            .into_iter()
            .map(|d| d as i64)
            .collect();
        let full = |t: &TTensor, s: &Vec<i64>| -> Result<TTensor, TchError> {
            if batch_of(s) == batch {
                Ok(t.shallow_clone())
            } else {
                let mut to = batch.clone();
                to.extend_from_slice(&s[s.len() - 2..]);
                t.f_expand(&to, false)
            }
        };
        let (q, k, v) = (
            full(q, &sizes[0])?,
            full(k, &sizes[1])?,
            full(v, &sizes[2])?,
        );
        let mask = match mask {
            Some(m) => {
                let mut ms = m.size();
                let rank = batch.len() + 2;
                if ms.len() < rank {
                    let mut padded = vec![1; rank - ms.len()];
                    padded.append(&mut ms);
                    Some(m.f_reshape(&padded)?)
                } else {
                    Some(m.shallow_clone())
                }
            }
            None => None,
        };
        TTensor::f_scaled_dot_product_attention(
            &q,
            &k,
            &v,
            mask.as_ref(),
            0.0,
            false,
            Some(f64::from(scale)),
            false,
        )
    }

    /// A libtorch result copied into a host tensor.
    fn to_host(t: &TTensor) -> Result<Tensor> {
        let t = &t.f_to_device(Device::Cpu)?;
        let dims: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let n = t.numel();
        Ok(match t.kind() {
            Kind::Float => {
                let mut v = vec![0f32; n];
                t.f_copy_data(&mut v, n)?;
                Tensor::from_f32(&dims, v)?
            }
            Kind::Int64 => {
                let mut v = vec![0i64; n];
                t.f_copy_data(&mut v, n)?;
                Tensor::from_i64(&dims, v)?
            }
            other => bail!("libtorch produced a {other:?} tensor"),
        })
    }

    impl Session for TorchSession {
        fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
            // Checks dtypes and shapes against the declared inputs (libtorch would otherwise
            // fail deep inside an op, or compute on a wrong shape) and binds symbolic dims.
            let graph = &self.lowering.graph;
            let bindings = graph.bind_inputs(inputs)?;
            let _no_grad = tch::no_grad_guard();
            let mut values: Vec<Option<TTensor>> = Vec::new();
            values.resize_with(self.consts.len(), || None);
            for (i, c) in self.consts.iter().enumerate() {
                values[i] = c.as_ref().map(TTensor::shallow_clone);
            }
            for (v, t) in graph.inputs().iter().zip(inputs) {
                // SAFETY: `values`, and with it every view of an input, is dropped by
                // `Lowering::run` before this function returns, while `inputs` is borrowed;
                // no op writes in place.
                let host = unsafe { borrow_as_torch(t) }?;
                values[v.0] = Some(match self.device {
                    Device::Cpu => host,
                    // The upload is part of the timed run, as for engine-gpu.
                    d => host.f_to_device(d)?,
                });
            }
            self.lowering.run(
                values,
                |i, args| {
                    self.step(i, args, &bindings).with_context(|| {
                        format!("torch: node {i} ({})", graph.nodes()[i].op.name())
                    })
                },
                |t, _| to_host(t),
            )
        }
    }
}
