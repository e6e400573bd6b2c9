//! The exporter's bookkeeping: ONNX names for engine values, shared small constants,
//! symbolic dims read from input shapes, and the node list. The op mapping is `ops.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::proto::{Attribute, GraphDef, Initializer, Node, ValueInfo};
use crate::lowering::{Form, Lowering, Patterns};
use crate::ops::Op;
use crate::{Dim, Error, Graph, Result, Shape, Tensor, Value};

/// The `GraphProto` of `graph` (which has been validated).
pub(super) fn graph_def(graph: &Graph) -> Result<GraphDef> {
    // Fused ops export as the public ops they fuse; position embeddings as a Slice.
    let patterns = Patterns {
        linear: false,
        rows: true,
    };
    Exporter::new(&Lowering::new(graph, patterns)?).run()
}

/// Keys of the small constants the exporter makes (scalars, axes, shapes), shared by name.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) enum ConstKey {
    F32(u32),
    I64Scalar(i64),
    I64s(Vec<i64>),
}

pub(super) struct Exporter<'g> {
    pub(super) g: &'g Graph,
    pub(super) forms: &'g [Form],
    pub(super) def: GraphDef,
    /// The ONNX name of each engine value, once exported.
    pub(super) names: Vec<Option<String>>,
    pub(super) taken: HashSet<String>,
    /// Names of graph outputs (a node writing one must not be an initializer).
    pub(super) output_names: HashSet<String>,
    pub(super) consts: HashMap<ConstKey, String>,
    /// Symbolic dim -> a 1-D int64 `[1]` tensor holding its size, read from an input's shape.
    pub(super) syms: HashMap<String, String>,
    /// Shapes with symbolic dims -> the 1-D int64 tensor that holds them.
    pub(super) shapes: HashMap<Vec<Dim>, String>,
}

pub(super) fn unsupported(op: &str, why: String) -> Error {
    Error::BadArgument {
        op: format!("onnx export of {op}"),
        why,
    }
}

impl<'g> Exporter<'g> {
    pub(super) fn new(lowering: &'g Lowering) -> Self {
        let (g, forms) = (&lowering.graph, &lowering.forms[..]);
        Exporter {
            g,
            forms,
            def: GraphDef {
                name: g.name().to_string(),
                ..GraphDef::default()
            },
            names: vec![None; g.nodes().len()],
            taken: HashSet::new(),
            output_names: HashSet::new(),
            consts: HashMap::new(),
            syms: HashMap::new(),
            shapes: HashMap::new(),
        }
    }

    pub(super) fn run(mut self) -> Result<GraphDef> {
        let g = self.g;
        for &v in g.inputs() {
            let name = g.input_name(v).to_string();
            self.taken.insert(name.clone());
            self.names[v.0] = Some(name.clone());
            self.def.inputs.push(ValueInfo {
                name,
                dtype: g.dtype(v),
                dims: g.shape(v).0.clone(),
            });
        }
        let out_names = super::output_names(g);
        for name in &out_names {
            self.taken.insert(name.clone());
            self.output_names.insert(name.clone());
        }
        // A node writes the first output it is; sources and repeated outputs get an Identity.
        let mut direct: HashMap<usize, String> = HashMap::new();
        let mut aliases = Vec::new();
        for (&v, name) in g.outputs().iter().zip(&out_names) {
            let source = matches!(g.node(v).op, Op::Input { .. } | Op::Constant(_));
            if source || direct.contains_key(&v.0) {
                aliases.push((v, name.clone()));
            } else {
                direct.insert(v.0, name.clone());
            }
        }

        for (i, node) in g.nodes().iter().enumerate() {
            if !self.forms[i].computes() {
                continue;
            }
            let dst = match direct.get(&i) {
                Some(name) => name.clone(),
                None => self.fresh(&format!("{}_{i}", node.op.name())),
            };
            self.emit(i, &dst)?;
            self.names[i] = Some(dst);
        }
        for (v, name) in aliases {
            let src = self.value(v)?;
            self.push("Identity", vec![src], vec![], name);
        }
        for (&v, name) in g.outputs().iter().zip(out_names) {
            self.def.outputs.push(ValueInfo {
                name,
                dtype: g.dtype(v),
                dims: g.shape(v).0.clone(),
            });
        }
        Ok(self.def)
    }

    // ---- names, nodes and constants ----

    pub(super) fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 1;
        while self.taken.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// A name for an intermediate of the node that writes `dst`.
    pub(super) fn tmp(&mut self, dst: &str, what: &str) -> String {
        self.fresh(&format!("{dst}/{what}"))
    }

    pub(super) fn push(
        &mut self,
        op_type: &'static str,
        inputs: Vec<String>,
        attributes: Vec<Attribute>,
        output: String,
    ) {
        self.def.nodes.push(Node {
            op_type,
            name: output.clone(),
            inputs,
            outputs: vec![output],
            attributes,
        });
    }

    /// Pushes a node writing a new intermediate of `dst` and returns the intermediate's name.
    pub(super) fn push_tmp(
        &mut self,
        op_type: &'static str,
        inputs: Vec<String>,
        attributes: Vec<Attribute>,
        dst: &str,
        what: &str,
    ) -> String {
        let out = self.tmp(dst, what);
        self.push(op_type, inputs, attributes, out.clone());
        out
    }

    /// The ONNX name of an engine value; constants become initializers on first use.
    pub(super) fn value(&mut self, v: Value) -> Result<String> {
        if let Some(name) = &self.names[v.0] {
            return Ok(name.clone());
        }
        let node = self.g.node(v);
        match &node.op {
            Op::Constant(t) => {
                let name = self.fresh(&format!("const_{}", v.0));
                self.def.initializers.push(Initializer {
                    name: name.clone(),
                    tensor: Arc::clone(t),
                });
                self.names[v.0] = Some(name.clone());
                Ok(name)
            }
            op => Err(unsupported(
                op.name(),
                format!("value {} is read before it is computed", v.0),
            )),
        }
    }

    pub(super) fn constant(&mut self, key: ConstKey, tensor: impl FnOnce() -> Tensor) -> String {
        if let Some(name) = self.consts.get(&key) {
            return name.clone();
        }
        let name = self.fresh(&format!("const_{}", self.def.initializers.len()));
        self.def.initializers.push(Initializer {
            name: name.clone(),
            tensor: Arc::new(tensor()),
        });
        self.consts.insert(key, name.clone());
        name
    }

    pub(super) fn f32_scalar(&mut self, x: f32) -> String {
        self.constant(ConstKey::F32(x.to_bits()), || Tensor::scalar_f32(x))
    }

    pub(super) fn i64_scalar(&mut self, x: i64) -> String {
        self.constant(ConstKey::I64Scalar(x), || {
            Tensor::from_i64(&[], vec![x]).expect("one element")
        })
    }

    pub(super) fn i64s(&mut self, v: &[i64]) -> String {
        self.constant(ConstKey::I64s(v.to_vec()), || {
            Tensor::from_i64(&[v.len()], v.to_vec()).expect("matching length")
        })
    }

    /// A node result that is a constant: an initializer named `dst`, or (when `dst` is a graph
    /// output) an initializer and an Identity.
    pub(super) fn constant_result(&mut self, tensor: Tensor, dst: &str) {
        let name = if self.output_names.contains(dst) {
            self.tmp(dst, "value")
        } else {
            dst.to_string()
        };
        self.def.initializers.push(Initializer {
            name: name.clone(),
            tensor: Arc::new(tensor),
        });
        if name != dst {
            self.push("Identity", vec![name], vec![], dst.to_string());
        }
    }

    /// A 1-D int64 `[1]` tensor holding the size bound to symbolic dim `s`, read from the
    /// shape of the first input that has it: `Shape(input, start=k, end=k+1)`.
    pub(super) fn sym_dim(&mut self, s: &str) -> Result<String> {
        if let Some(name) = self.syms.get(s) {
            return Ok(name.clone());
        }
        let g = self.g;
        let sym = Dim::Sym(s.to_string());
        let Some((input, axis)) = g
            .inputs()
            .iter()
            .find_map(|&v| g.shape(v).0.iter().position(|d| *d == sym).map(|k| (v, k)))
        else {
            return Err(unsupported(
                "graph",
                format!("symbolic dim `{s}` is not a dim of any input"),
            ));
        };
        let x = self.value(input)?;
        let name = self.fresh(&format!("dim_{s}"));
        let (start, end) = (axis as i64, axis as i64 + 1);
        self.push(
            "Shape",
            vec![x],
            vec![Attribute::int("start", start), Attribute::int("end", end)],
            name.clone(),
        );
        self.syms.insert(s.to_string(), name.clone());
        Ok(name)
    }

    /// A 1-D int64 tensor holding `dims`: an initializer when they are static, otherwise a
    /// Concat of static runs and the symbolic sizes.
    pub(super) fn shape_tensor(&mut self, dims: &[Dim]) -> Result<String> {
        if let Some(d) = Shape(dims.to_vec()).to_static() {
            return Ok(self.i64s(&d.iter().map(|&n| n as i64).collect::<Vec<_>>()));
        }
        if let Some(name) = self.shapes.get(dims) {
            return Ok(name.clone());
        }
        let mut pieces = Vec::new();
        let mut run: Vec<i64> = Vec::new();
        for d in dims {
            match d {
                Dim::Static(n) => run.push(*n as i64),
                Dim::Sym(s) => {
                    if !run.is_empty() {
                        pieces.push(self.i64s(&std::mem::take(&mut run)));
                    }
                    pieces.push(self.sym_dim(s)?);
                }
            }
        }
        if !run.is_empty() {
            pieces.push(self.i64s(&run));
        }
        let name = if pieces.len() == 1 {
            pieces.remove(0)
        } else {
            let name = self.fresh("shape");
            self.push(
                "Concat",
                pieces,
                vec![Attribute::int("axis", 0)],
                name.clone(),
            );
            name
        };
        self.shapes.insert(dims.to_vec(), name.clone());
        Ok(name)
    }
}
