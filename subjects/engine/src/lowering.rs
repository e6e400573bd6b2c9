//! The skeleton of every op-by-op lowering: the reference interpreter, the ONNX exporter and
//! the adapters that replay a graph on another runtime (libtorch, candle).
//!
//! [`Lowering::new`] takes any valid graph and prepares what they all need: fused ops
//! decomposed into public ops, the patterns a runtime asked for recognised
//! ([`Form::Linear`], [`Form::Rows`]), what each node reads, which nodes are needed at all,
//! which depend on constants only, and after which node each value is dead.
//! [`Lowering::run`] then replays it with a runtime's own tensor type: a runtime only maps
//! ops.

use crate::ops::Op;
use crate::{DType, Dim, Graph, Result, Tensor, Value};

/// The patterns a runtime has a better primitive for than the ops they are made of.
#[derive(Clone, Copy, Debug, Default)]
pub struct Patterns {
    /// `matmul(x, transpose(W)) (+ b)` with `W [out, in]` and `b [out]` f32 constants: a
    /// Linear layer (libtorch's `linear`, i.e. addmm).
    pub linear: bool,
    /// `gather(table, arange(len))` of a constant table: its first `len` rows (a slice).
    pub rows: bool,
}

/// How one node is computed.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// Not computed: nothing needed reads it (dead, or absorbed into another node's form).
    Skip,
    /// The k-th graph input.
    Input(usize),
    /// A constant, or a value the runtime computed at load ([`Lowering::freeze`]).
    Constant,
    /// The node's op on the node's inputs.
    Op,
    /// `x @ weight^T (+ bias)`.
    Linear {
        x: Value,
        weight: Value,
        bias: Option<Value>,
    },
    /// The first `len` rows of a constant `table`.
    Rows { table: Value, len: Dim },
}

impl Form {
    /// Whether the node runs a step (sources and skipped nodes do not).
    pub fn computes(&self) -> bool {
        !matches!(self, Form::Skip | Form::Input(_) | Form::Constant)
    }
}

/// A graph prepared for op-by-op execution.
pub struct Lowering {
    /// The graph in public ops only.
    pub graph: Graph,
    pub forms: Vec<Form>,
    /// The values each node's form reads.
    pub reads: Vec<Vec<Value>>,
    /// Whether each node depends on constants alone and has a static shape: a runtime may
    /// compute it once, at load.
    pub fixed: Vec<bool>,
    /// The values dead after each node (read by it last, and not an output).
    pub release: Vec<Vec<Value>>,
}

impl Lowering {
    pub fn new(graph: &Graph, patterns: Patterns) -> Result<Lowering> {
        graph.validate()?;
        let graph = crate::ops::decompose(graph)?;
        let g = &graph;
        let n = g.nodes().len();
        let mut uses = vec![0usize; n];
        for node in g.nodes() {
            for v in &node.inputs {
                uses[v.0] += 1;
            }
        }
        for v in g.outputs() {
            uses[v.0] += 1;
        }

        let mut forms: Vec<Form> = Vec::with_capacity(n);
        for (i, node) in g.nodes().iter().enumerate() {
            let form = match &node.op {
                Op::Input { .. } => Form::Input(
                    g.inputs()
                        .iter()
                        .position(|v| v.0 == i)
                        .expect("`validate` checks that every input node is declared"),
                ),
                Op::Constant(_) => Form::Constant,
                Op::MatMul if patterns.linear => match transposed_weight(g, node.inputs[1]) {
                    Some(weight) => Form::Linear {
                        x: node.inputs[0],
                        weight,
                        bias: None,
                    },
                    None => Form::Op,
                },
                Op::Binary(crate::ops::BinaryOp::Add) if patterns.linear => {
                    let [a, b] = [node.inputs[0], node.inputs[1]];
                    with_bias(g, &forms, &uses, a, b)
                        .or_else(|| with_bias(g, &forms, &uses, b, a))
                        .unwrap_or(Form::Op)
                }
                Op::Gather if patterns.rows => match arange_rows(g, node.inputs[0], node.inputs[1])
                {
                    Some(len) => Form::Rows {
                        table: node.inputs[0],
                        len,
                    },
                    None => Form::Op,
                },
                _ => Form::Op,
            };
            forms.push(form);
        }

        let mut lowering = Lowering {
            graph,
            forms,
            reads: Vec::new(),
            fixed: Vec::new(),
            release: Vec::new(),
        };
        lowering.plan();
        Ok(lowering)
    }

    /// Marks the nodes a runtime computed at load (a subset of [`Self::fixed`]) as set by
    /// the runtime, like constants: they are not steps, and what only they read is dead.
    pub fn freeze(&mut self, frozen: &[bool]) {
        for (form, &f) in self.forms.iter_mut().zip(frozen) {
            if f && *form != Form::Skip {
                *form = Form::Constant;
            }
        }
        self.plan();
    }

    /// Reads, fixed values and release points from the forms.
    fn plan(&mut self) {
        let (g, forms) = (&self.graph, &mut self.forms);
        let n = g.nodes().len();
        // Keep only what the outputs need, through what each form actually reads.
        let mut needed = vec![false; n];
        for v in g.outputs() {
            needed[v.0] = true;
        }
        for i in (0..n).rev() {
            if !needed[i] {
                forms[i] = Form::Skip;
                continue;
            }
            for v in form_reads(g, &forms[i], i) {
                needed[v.0] = true;
            }
        }
        let reads: Vec<Vec<Value>> = (0..n).map(|i| form_reads(g, &forms[i], i)).collect();

        let mut fixed = vec![false; n];
        for (i, node) in g.nodes().iter().enumerate() {
            fixed[i] = match forms[i] {
                Form::Constant => true,
                Form::Skip | Form::Input(_) => false,
                _ => node.shape.is_static() && reads[i].iter().all(|v| fixed[v.0]),
            };
        }

        let mut last = vec![None; n];
        for (i, r) in reads.iter().enumerate() {
            for v in r {
                last[v.0] = Some(i);
            }
        }
        for v in g.outputs() {
            last[v.0] = None;
        }
        let mut release = vec![Vec::new(); n];
        for (v, at) in last.iter().enumerate() {
            if let Some(at) = at {
                release[*at].push(Value(v));
            }
        }
        (self.reads, self.fixed, self.release) = (reads, fixed, release);
    }

    /// Replays the graph. `values` holds what the runtime set up itself (at least every
    /// input and every constant that is read, and any node it computed at load);
    /// `step(i, args)` computes node `i` from the values its form reads, and `output(t, v)`
    /// copies output value `v` into a host tensor. Each value is dropped after its last reader.
    pub fn run<T, E>(
        &self,
        mut values: Vec<Option<T>>,
        mut step: impl FnMut(usize, &[&T]) -> std::result::Result<T, E>,
        mut output: impl FnMut(&T, Value) -> std::result::Result<Tensor, E>,
    ) -> std::result::Result<Vec<Tensor>, E> {
        for (i, form) in self.forms.iter().enumerate() {
            if form.computes() && values[i].is_none() {
                let args: Vec<&T> = self.reads[i]
                    .iter()
                    .map(|v| {
                        values[v.0]
                            .as_ref()
                            .expect("a value is set before its readers and kept until the last")
                    })
                    .collect();
                let y = step(i, &args)?;
                values[i] = Some(y);
            }
            for v in &self.release[i] {
                values[v.0] = None;
            }
        }
        self.graph
            .outputs()
            .iter()
            .map(|&v| {
                let t = values[v.0].as_ref().expect("outputs are kept");
                output(t, v)
            })
            .collect()
    }
}

/// The nodes a form reads.
fn form_reads(g: &Graph, form: &Form, i: usize) -> Vec<Value> {
    match form {
        Form::Skip | Form::Input(_) | Form::Constant => Vec::new(),
        Form::Op => g.nodes()[i].inputs.clone(),
        Form::Linear { x, weight, bias } => [Some(*x), Some(*weight), *bias]
            .into_iter()
            .flatten()
            .collect(),
        Form::Rows { table, .. } => vec![*table],
    }
}

/// `W` when `b` is `transpose(W)` over the two axes of a 2-D f32 constant `W`.
fn transposed_weight(g: &Graph, b: Value) -> Option<Value> {
    let n = g.node(b);
    let Op::Transpose { perm } = &n.op else {
        return None;
    };
    let w = n.inputs[0];
    let wn = g.node(w);
    (perm[..] == [1, 0] && matches!(wn.op, Op::Constant(_)) && wn.dtype == DType::F32).then_some(w)
}

/// `linear(x, W, bias)` for `mm + bias` when `mm` is a bias-less linear read by this add
/// alone and `bias` is an f32 constant `[out]`.
fn with_bias(g: &Graph, forms: &[Form], uses: &[usize], mm: Value, bias: Value) -> Option<Form> {
    let Form::Linear {
        x,
        weight,
        bias: None,
    } = forms[mm.0]
    else {
        return None;
    };
    let b = g.node(bias);
    let out = g.shape(weight).0[0].clone();
    let fits = matches!(b.op, Op::Constant(_))
        && b.dtype == DType::F32
        && b.shape.0 == [out]
        && uses[mm.0] == 1;
    fits.then_some(Form::Linear {
        x,
        weight,
        bias: Some(bias),
    })
}

/// `len` when `table` is a constant and `idx` is `arange(len)` of i64.
fn arange_rows(g: &Graph, table: Value, idx: Value) -> Option<Dim> {
    match (&g.node(table).op, &g.node(idx).op) {
        (
            Op::Constant(_),
            Op::Arange {
                len,
                dtype: DType::I64,
            },
        ) => Some(len.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dims;

    #[test]
    fn linear_layers_are_recognised_and_their_parts_skipped() {
        let mut g = Graph::new("linear");
        let x = g.input("x", DType::F32, dims!["n", 3]).unwrap();
        let w = g.constant(Tensor::from_f32(&[2, 3], vec![0.0; 6]).unwrap());
        let b = g.constant(Tensor::from_f32(&[2], vec![0.0; 2]).unwrap());
        let wt = g.t(w).unwrap();
        let mm = g.matmul(x, wt).unwrap();
        let y = g.add(mm, b).unwrap();
        let r = g.relu(y).unwrap();
        g.output(r);
        let l = Lowering::new(
            &g,
            Patterns {
                linear: true,
                rows: false,
            },
        )
        .unwrap();
        assert_eq!(
            l.forms[y.0],
            Form::Linear {
                x,
                weight: w,
                bias: Some(b)
            }
        );
        assert_eq!((&l.forms[wt.0], &l.forms[mm.0]), (&Form::Skip, &Form::Skip));
        assert_eq!(l.reads[r.0], vec![y]);
        // x, w and b die at the linear, y at the relu; the output never.
        assert_eq!(l.release[y.0], vec![x, w, b]);
        assert_eq!(l.release[r.0], vec![y]);
        assert!(l.fixed[w.0] && !l.fixed[y.0]);

        let plain = Lowering::new(&g, Patterns::default()).unwrap();
        assert_eq!(plain.forms[mm.0], Form::Op);
        assert!(
            plain.fixed[wt.0],
            "a transposed constant is computable at load"
        );
    }

    #[test]
    fn run_replays_in_order_and_frees_dead_values() {
        let mut g = Graph::new("chain");
        let x = g.input("x", DType::F32, dims![2]).unwrap();
        let a = g.neg(x).unwrap();
        let b = g.exp(a).unwrap();
        g.output(b);
        g.output(a);
        let l = Lowering::new(&g, Patterns::default()).unwrap();
        let mut seen = Vec::new();
        let out = l
            .run(
                vec![Some(1.0f64), None, None],
                |i, args: &[&f64]| {
                    seen.push(i);
                    Ok::<_, crate::Error>(match i {
                        1 => -*args[0],
                        _ => args[0].exp(),
                    })
                },
                |v, _| Tensor::from_f32(&[], vec![*v as f32]),
            )
            .unwrap();
        assert_eq!(seen, [1, 2]);
        assert_eq!(out[1].as_f32().unwrap(), &[-1.0]);
    }
}
