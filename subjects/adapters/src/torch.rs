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

pub struct Torch;

/// The pinned `tch` release (its `Cargo.toml` entry is `=0.24.0`), made for libtorch 2.11.0.
#[cfg(feature = "torch")]
const TCH_VERSION: &str = "0.24.0";

impl Subject for Torch {
    fn name(&self) -> &str {
        "torch"
    }
    fn description(&self) -> &str {
        "PyTorch (libtorch via tch), eager, the graph lowered op by op under no_grad"
    }
    fn threading(&self) -> &str {
        "`torch.set_num_threads(N)`, 1 inter-op thread"
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
            Ok(Box::new(lower::TorchSession::load(graph, threads)?))
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
    use engine::ops::{BinaryOp, ElementwiseProgram, Instr, Op, ReduceOp, UnaryOp};
    use engine::{Bindings, DType, Data, Dim, Graph, Shape, Tensor, Value};
    use tch::{Device, Kind, TchError, Tensor as TTensor};

    use crate::Session;

    /// How one node of the graph is computed.
    enum Plan {
        /// Not computed: nothing that is computed reads it (a matmul folded into a `linear`,
        /// the transposed weight it read, dead code).
        Skip,
        /// The k-th graph input.
        Input(usize),
        /// Held in `TorchSession::consts`.
        Constant,
        /// The node's op on its own inputs.
        Op,
        /// `x @ weight^T (+ bias)` on `linear`, `weight` `[out, in]` and `bias` `[out]`
        /// constants: a matmul with a transposed constant weight, and the bias add after it.
        Linear {
            x: Value,
            weight: Value,
            bias: Option<Value>,
        },
        /// A fused element-wise program (compiler output) with a scalar tensor for each of
        /// its `Const` instructions.
        Program(Vec<Option<TTensor>>),
    }

    pub struct TorchSession {
        graph: Graph,
        plans: Vec<Plan>,
        consts: Vec<Option<TTensor>>,
        /// The nodes each node's plan reads.
        reads: Vec<Vec<Value>>,
        /// The last step that reads each node (usize::MAX for outputs): values are dropped
        /// after it.
        last_use: Vec<usize>,
    }

    static INTEROP: Once = Once::new();

    impl TorchSession {
        pub fn load(graph: &Graph, threads: usize) -> Result<Self> {
            graph.validate()?;
            // libtorch allows setting the inter-op pool only once per process, before any
            // parallel work; each benchmark worker is a fresh process.
            INTEROP.call_once(|| tch::set_num_interop_threads(1));
            tch::set_num_threads(crate::resolve_threads(threads) as i32);

            let nodes = graph.nodes();
            let mut uses = vec![0usize; nodes.len()];
            for n in nodes {
                for v in &n.inputs {
                    uses[v.0] += 1;
                }
            }
            for v in graph.outputs() {
                uses[v.0] += 1;
            }

            let mut plans: Vec<Plan> = Vec::with_capacity(nodes.len());
            for (i, node) in nodes.iter().enumerate() {
                let plan = match &node.op {
                    Op::Input { .. } => Plan::Input(
                        graph
                            .inputs()
                            .iter()
                            .position(|v| v.0 == i)
                            .context("an input node that is not declared")?,
                    ),
                    Op::Constant(_) => Plan::Constant,
                    Op::MatMul => match transposed_weight(graph, node.inputs[1]) {
                        Some(weight) => Plan::Linear {
                            x: node.inputs[0],
                            weight,
                            bias: None,
                        },
                        None => Plan::Op,
                    },
                    Op::Binary(BinaryOp::Add) => {
                        fold_bias(graph, &plans, &uses, node.inputs[0], node.inputs[1])
                            .or_else(|| {
                                fold_bias(graph, &plans, &uses, node.inputs[1], node.inputs[0])
                            })
                            .unwrap_or(Plan::Op)
                    }
                    Op::Elementwise(p) | Op::MatMulEpilogue(p) => Plan::Program(
                        p.instrs
                            .iter()
                            .map(|ins| match ins {
                                Instr::Const(c) => Some(TTensor::from(*c)),
                                _ => None,
                            })
                            .collect(),
                    ),
                    _ => Plan::Op,
                };
                plans.push(plan);
            }

            // Keep only what the outputs need, through what each plan actually reads.
            let mut needed = vec![false; nodes.len()];
            for v in graph.outputs() {
                needed[v.0] = true;
            }
            for i in (0..nodes.len()).rev() {
                if !needed[i] {
                    plans[i] = Plan::Skip;
                    continue;
                }
                for v in reads(graph, &plans[i], i) {
                    needed[v.0] = true;
                }
            }
            let reads: Vec<Vec<Value>> = (plans.iter().enumerate())
                .map(|(i, plan)| reads(graph, plan, i))
                .collect();
            let mut last_use = vec![0usize; nodes.len()];
            for (i, r) in reads.iter().enumerate() {
                for v in r {
                    last_use[v.0] = i;
                }
            }
            for v in graph.outputs() {
                last_use[v.0] = usize::MAX;
            }

            let mut consts: Vec<Option<TTensor>> = Vec::with_capacity(nodes.len());
            for (i, node) in nodes.iter().enumerate() {
                consts.push(match (&plans[i], &node.op) {
                    (Plan::Constant, Op::Constant(t)) => Some(
                        to_torch_owned(t)
                            .with_context(|| format!("constant node {i} {:?}", t.dims()))?,
                    ),
                    _ => None,
                });
            }

            Ok(TorchSession {
                graph: graph.clone(),
                plans,
                consts,
                reads,
                last_use,
            })
        }
    }

    /// `W` when `b` is `transpose(W)` over the two axes of a 2-D f32 constant `W`.
    fn transposed_weight(graph: &Graph, b: Value) -> Option<Value> {
        let n = graph.node(b);
        let Op::Transpose { perm } = &n.op else {
            return None;
        };
        let w = n.inputs[0];
        let wn = graph.node(w);
        (perm[..] == [1, 0] && matches!(wn.op, Op::Constant(_)) && wn.dtype == DType::F32)
            .then_some(w)
    }

    /// `linear(x, W, bias)` for `mm + bias` when `mm` is a bias-less `linear` read by this
    /// add alone and `bias` is an f32 constant `[out]`.
    fn fold_bias(
        graph: &Graph,
        plans: &[Plan],
        uses: &[usize],
        mm: Value,
        bias: Value,
    ) -> Option<Plan> {
        let Plan::Linear {
            x,
            weight,
            bias: None,
        } = plans[mm.0]
        else {
            return None;
        };
        let b = graph.node(bias);
        let out = graph.shape(weight).0[0].clone();
        let fits = matches!(b.op, Op::Constant(_))
            && b.dtype == DType::F32
            && b.shape.0 == [out]
            && uses[mm.0] == 1;
        fits.then_some(Plan::Linear {
            x,
            weight,
            bias: Some(bias),
        })
    }

    /// The nodes a plan reads.
    fn reads(graph: &Graph, plan: &Plan, i: usize) -> Vec<Value> {
        match plan {
            Plan::Skip | Plan::Input(_) | Plan::Constant => Vec::new(),
            Plan::Op | Plan::Program(_) => graph.nodes()[i].inputs.clone(),
            Plan::Linear { x, weight, bias } => {
                let mut r = vec![*x, *weight];
                r.extend(*bias);
                r
            }
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

    fn unary(op: UnaryOp, x: &TTensor) -> Result<TTensor, TchError> {
        match op {
            UnaryOp::Neg => x.f_neg(),
            UnaryOp::Relu => x.f_relu(),
            UnaryOp::Exp => x.f_exp(),
            UnaryOp::Log => x.f_log(),
            UnaryOp::Tanh => x.f_tanh(),
            UnaryOp::Sqrt => x.f_sqrt(),
            UnaryOp::Rsqrt => x.f_rsqrt(),
            UnaryOp::Gelu => x.f_gelu("none"),
            UnaryOp::GeluTanh => x.f_gelu("tanh"),
        }
    }

    fn binary(op: BinaryOp, a: &TTensor, b: &TTensor) -> Result<TTensor, TchError> {
        match op {
            BinaryOp::Add => a.f_add(b),
            BinaryOp::Sub => a.f_sub(b),
            BinaryOp::Mul => a.f_mul(b),
            BinaryOp::Div => a.f_div(b),
            BinaryOp::Maximum => a.f_maximum(b),
            BinaryOp::Minimum => a.f_minimum(b),
        }
    }

    /// Runs a fused element-wise program: register `r < n_inputs` is `args[r]`, each
    /// instruction defines the next; the result is broadcast to the inputs' common shape.
    fn program(
        p: &ElementwiseProgram,
        args: Vec<TTensor>,
        consts: &[Option<TTensor>],
    ) -> Result<TTensor, TchError> {
        let out_size = (args.iter().map(|a| a.size()))
            .reduce(|a, b| broadcast_sizes(&a, &b))
            .unwrap_or_default();
        let mut regs = args;
        for (k, instr) in p.instrs.iter().enumerate() {
            let v = match *instr {
                Instr::Const(_) => consts[k]
                    .as_ref()
                    .expect("a tensor is made for every Const at load")
                    .shallow_clone(),
                Instr::Unary(op, a) => unary(op, &regs[a])?,
                Instr::Binary(op, a, b) => binary(op, &regs[a], &regs[b])?,
            };
            regs.push(v);
        }
        let last = regs.pop().expect("a program has at least one register");
        if last.size() == out_size {
            Ok(last)
        } else {
            last.f_expand(&out_size, false)
        }
    }

    /// Numpy broadcasting of two size lists.
    fn broadcast_sizes(a: &[i64], b: &[i64]) -> Vec<i64> {
        let n = a.len().max(b.len());
        (0..n)
            .map(|k| {
                let pick = |s: &[i64]| (k + s.len()).checked_sub(n).map_or(1, |j| s[j]);
                let (x, y) = (pick(a), pick(b));
                if x == 1 { y } else { x }
            })
            .collect()
    }

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
        let batch = sizes
            .iter()
            .map(batch_of)
            .reduce(|a, b| broadcast_sizes(&a, &b))
            .expect("three operands");
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

    impl TorchSession {
        fn get<'a>(&'a self, values: &'a [Option<TTensor>], v: Value) -> Result<&'a TTensor> {
            self.consts[v.0]
                .as_ref()
                .or(values[v.0].as_ref())
                .ok_or_else(|| anyhow!("internal: node {} has no value", v.0))
        }

        /// Computes node `i` from the values computed so far.
        fn step(
            &self,
            i: usize,
            values: &[Option<TTensor>],
            inputs: &[TTensor],
            bindings: &Bindings,
        ) -> Result<Option<TTensor>> {
            let node = &self.graph.nodes()[i];
            let arg = |k: usize| self.get(values, node.inputs[k]);
            let t = match &self.plans[i] {
                Plan::Skip | Plan::Constant => return Ok(None),
                Plan::Input(k) => inputs[*k].shallow_clone(),
                Plan::Linear { x, weight, bias } => {
                    let bias = match bias {
                        Some(b) => Some(self.get(values, *b)?),
                        None => None,
                    };
                    self.get(values, *x)?
                        .f_linear(self.get(values, *weight)?, bias)?
                }
                Plan::Program(consts) => {
                    let (Op::Elementwise(p) | Op::MatMulEpilogue(p)) = &node.op else {
                        bail!("internal: a program plan on {}", node.op.name());
                    };
                    let mut args = Vec::with_capacity(node.inputs.len());
                    let rest = if matches!(node.op, Op::MatMulEpilogue(_)) {
                        args.push(arg(0)?.f_matmul(arg(1)?)?);
                        2
                    } else {
                        0
                    };
                    for k in rest..node.inputs.len() {
                        args.push(arg(k)?.shallow_clone());
                    }
                    program(p, args, consts)?
                }
                Plan::Op => match &node.op {
                    Op::Input { .. } | Op::Constant(_) => {
                        bail!("internal: a source node planned as an op")
                    }
                    Op::Elementwise(_) | Op::MatMulEpilogue(_) => {
                        bail!("internal: {} planned as a plain op", node.op.name())
                    }
                    Op::Unary(op) => unary(*op, arg(0)?)?,
                    Op::Binary(op) => binary(*op, arg(0)?, arg(1)?)?,
                    Op::MatMul => arg(0)?.f_matmul(arg(1)?)?,
                    Op::Transpose { perm } => {
                        let perm: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
                        arg(0)?.f_permute(&perm)?
                    }
                    Op::Reshape { shape } => arg(0)?.f_reshape(&bind(shape, bindings)?)?,
                    Op::BroadcastTo { shape } => {
                        arg(0)?.f_expand(&bind(shape, bindings)?, false)?
                    }
                    Op::Reduce {
                        op,
                        axes,
                        keep_dims,
                    } => {
                        let x = arg(0)?;
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
                        let x = arg(0)?;
                        if x.kind() == kind(*to) {
                            x.shallow_clone()
                        } else {
                            // f32 -> i64 truncates toward zero, as the engine defines it.
                            x.f_to_kind(kind(*to))?
                        }
                    }
                    Op::Gather => {
                        let (table, idx) = (arg(0)?, arg(1)?);
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
                        let x = arg(0)?;
                        let d = *x.size().last().context("layer_norm of a scalar")?;
                        x.f_layer_norm([d], Some(arg(1)?), Some(arg(2)?), f64::from(*eps), false)?
                    }
                    Op::AddLayerNorm { eps } => {
                        let x = arg(0)?.f_add(arg(1)?)?;
                        let d = *x.size().last().context("layer_norm of a scalar")?;
                        x.f_layer_norm([d], Some(arg(2)?), Some(arg(3)?), f64::from(*eps), false)?
                    }
                    Op::Softmax { axis } => arg(0)?.f_softmax(*axis as i64, None::<Kind>)?,
                    Op::Slice { axis, start, end } => {
                        arg(0)?.f_narrow(*axis as i64, *start as i64, (*end - *start) as i64)?
                    }
                    Op::Concat { axis } => {
                        let parts = (0..node.inputs.len())
                            .map(arg)
                            .collect::<Result<Vec<&TTensor>>>()?;
                        TTensor::f_cat(&parts, *axis as i64)?
                    }
                    Op::Arange { len, dtype } => {
                        let len = bind(&Shape(vec![len.clone()]), bindings)?[0];
                        TTensor::f_arange(len, (kind(*dtype), Device::Cpu))?
                    }
                    Op::Conv2d {
                        stride,
                        padding,
                        bias,
                    } => {
                        let b = if *bias { Some(arg(2)?) } else { None };
                        arg(0)?.f_conv2d(
                            arg(1)?,
                            b,
                            [stride[0] as i64, stride[1] as i64],
                            [padding[0] as i64, padding[1] as i64],
                            [1, 1],
                            1,
                        )?
                    }
                    Op::MaxPool2d { kernel, stride } => arg(0)?.f_max_pool2d(
                        [kernel[0] as i64, kernel[1] as i64],
                        [stride[0] as i64, stride[1] as i64],
                        [0, 0],
                        [1, 1],
                        false,
                    )?,
                    Op::Attention { scale, masked } => {
                        let mask = if *masked { Some(arg(3)?) } else { None };
                        attention(arg(0)?, arg(1)?, arg(2)?, mask, *scale)?
                    }
                },
            };
            Ok(Some(t))
        }
    }

    /// A libtorch result copied into a host tensor.
    fn to_host(t: &TTensor) -> Result<Tensor> {
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
            let bindings = self.graph.bind_inputs(inputs)?;
            let _no_grad = tch::no_grad_guard();
            let mut values: Vec<Option<TTensor>> = Vec::new();
            values.resize_with(self.plans.len(), || None);
            let result = (|| -> Result<Vec<Tensor>> {
                let wrapped = inputs
                    .iter()
                    .map(|t| {
                        // SAFETY: `wrapped`, `values` and every view of an input are dropped
                        // before this function returns, while `inputs` is borrowed; no op
                        // writes in place.
                        unsafe { borrow_as_torch(t) }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let nodes = self.graph.nodes();
                for i in 0..nodes.len() {
                    let value = self
                        .step(i, &values, &wrapped, &bindings)
                        .with_context(|| format!("torch: node {i} ({})", nodes[i].op.name()))?;
                    values[i] = value;
                    for v in &self.reads[i] {
                        if self.last_use[v.0] == i {
                            values[v.0] = None;
                        }
                    }
                }
                self.graph
                    .outputs()
                    .iter()
                    .map(|&v| to_host(self.get(&values, v)?))
                    .collect()
            })();
            // Every tensor that may view an input goes before `inputs` is released.
            drop(values);
            result
        }
    }
}
