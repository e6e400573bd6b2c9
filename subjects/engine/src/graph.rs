//! Graphs and the builder API.
//!
//! A `Graph` is a list of nodes in topological order (every node's inputs come before it),
//! a list of inputs and a list of outputs. Building infers each node's shape and dtype, so a
//! bad graph fails where it is built, with an error that names the op and the shapes.

mod mermaid;
mod model_ops;

use std::collections::HashSet;
use std::sync::Arc;

use crate::ops::{BinaryOp, Op, ReduceOp, UnaryOp};
use crate::{Bindings, DType, Dim, Error, Result, Shape, Tensor};

/// A handle to a node of a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub usize);

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<Value>,
    pub shape: Shape,
    pub dtype: DType,
}

#[derive(Clone, Debug)]
pub struct Graph {
    name: String,
    nodes: Vec<Node>,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
}

/// The textual form of a graph: one line per node, `%3 f32 [batch, 2] = matmul(%1, %2)`,
/// small constants with their values, then the outputs.
impl std::fmt::Display for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, node) in self.nodes.iter().enumerate() {
            let args: Vec<String> = node.inputs.iter().map(|v| format!("%{}", v.0)).collect();
            let op = match &node.op {
                Op::Input { name } => format!("input `{name}`"),
                Op::Constant(t) => match t.data() {
                    crate::Data::F32(v) if v.len() <= 8 => format!("constant {v:?}"),
                    crate::Data::I64(v) if v.len() <= 8 => format!("constant {v:?}"),
                    _ => "constant".to_string(),
                },
                op => format!("{}({})", op.name(), args.join(", ")),
            };
            let ty = format!("{} {}", node.dtype, node.shape);
            writeln!(f, "%{i:<2} {ty:<18} = {op}")?;
        }
        let outs: Vec<String> = self.outputs.iter().map(|v| format!("%{}", v.0)).collect();
        write!(f, "outputs: {}", outs.join(", "))
    }
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Self {
        Graph {
            name: name.into(),
            nodes: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn node(&self, v: Value) -> &Node {
        &self.nodes[v.0]
    }

    pub fn inputs(&self) -> &[Value] {
        &self.inputs
    }

    pub fn outputs(&self) -> &[Value] {
        &self.outputs
    }

    pub fn shape(&self, v: Value) -> &Shape {
        &self.nodes[v.0].shape
    }

    pub fn dtype(&self, v: Value) -> DType {
        self.nodes[v.0].dtype
    }

    /// The name an input was declared with.
    pub fn input_name(&self, v: Value) -> &str {
        match &self.nodes[v.0].op {
            Op::Input { name } => name,
            _ => "?",
        }
    }

    /// Declares a graph input. Symbolic dims (`"batch"`) are bound when the graph runs.
    pub fn input(&mut self, name: &str, dtype: DType, dims: Vec<Dim>) -> Result<Value> {
        if self.inputs.iter().any(|&v| self.input_name(v) == name) {
            return Err(self.error(format!("input `{name}` is declared twice")));
        }
        let v = self.push_node(Node {
            op: Op::Input { name: name.into() },
            inputs: Vec::new(),
            shape: Shape(dims),
            dtype,
        });
        self.inputs.push(v);
        Ok(v)
    }

    pub fn constant(&mut self, tensor: Tensor) -> Value {
        self.constant_arc(Arc::new(tensor))
    }

    pub fn constant_arc(&mut self, tensor: Arc<Tensor>) -> Value {
        self.push_node(Node {
            shape: tensor.shape(),
            dtype: tensor.dtype(),
            op: Op::Constant(tensor),
            inputs: Vec::new(),
        })
    }

    pub fn scalar(&mut self, value: f32) -> Value {
        self.constant(Tensor::scalar_f32(value))
    }

    /// Marks a value as a graph output (in call order).
    pub fn output(&mut self, v: Value) {
        self.outputs.push(v);
    }

    /// Adds a node for `op`, inferring its shape and dtype. Every builder method ends here;
    /// compiler passes use it to build rewritten graphs.
    pub fn push(&mut self, op: Op, inputs: &[Value]) -> Result<Value> {
        if let Some(bad) = inputs.iter().find(|v| v.0 >= self.nodes.len()) {
            return Err(self.error(format!(
                "{}: input {bad:?} is not a node of this graph",
                op.name()
            )));
        }
        let facts: Vec<(&Shape, DType)> = inputs
            .iter()
            .map(|v| (&self.nodes[v.0].shape, self.nodes[v.0].dtype))
            .collect();
        let (shape, dtype) = op.infer(&facts)?;
        Ok(self.push_node(Node {
            op,
            inputs: inputs.to_vec(),
            shape,
            dtype,
        }))
    }

    /// Adds an input or constant node as is (for passes that copy them between graphs).
    pub fn push_source(&mut self, node: Node) -> Value {
        let is_input = matches!(node.op, Op::Input { .. });
        let v = self.push_node(node);
        if is_input {
            self.inputs.push(v);
        }
        v
    }

    fn push_node(&mut self, node: Node) -> Value {
        self.nodes.push(node);
        Value(self.nodes.len() - 1)
    }

    fn error(&self, why: String) -> Error {
        Error::Graph {
            graph: self.name.clone(),
            why,
        }
    }

    // ---- element-wise ----

    pub fn unary(&mut self, op: UnaryOp, x: Value) -> Result<Value> {
        self.push(Op::Unary(op), &[x])
    }

    pub fn binary(&mut self, op: BinaryOp, a: Value, b: Value) -> Result<Value> {
        self.push(Op::Binary(op), &[a, b])
    }

    // ---- linear algebra and data movement ----

    /// Batched, broadcasting matrix product `[..., m, k] @ [..., k, n]`.
    pub fn matmul(&mut self, a: Value, b: Value) -> Result<Value> {
        self.push(Op::MatMul, &[a, b])
    }

    /// Reorders axes: output axis `i` is input axis `perm[i]`.
    pub fn transpose(&mut self, x: Value, perm: &[usize]) -> Result<Value> {
        self.push(
            Op::Transpose {
                perm: perm.to_vec(),
            },
            &[x],
        )
    }

    /// Swaps the last two axes.
    pub fn t(&mut self, x: Value) -> Result<Value> {
        let rank = self.shape(x).rank();
        if rank < 2 {
            return Err(Error::BadShape {
                op: "transpose".into(),
                shape: self.shape(x).clone(),
                why: "needs rank >= 2 to swap the last two axes".into(),
            });
        }
        let mut perm: Vec<usize> = (0..rank).collect();
        perm.swap(rank - 2, rank - 1);
        self.transpose(x, &perm)
    }

    pub fn reshape(&mut self, x: Value, dims: Vec<Dim>) -> Result<Value> {
        self.push(Op::Reshape { shape: Shape(dims) }, &[x])
    }

    pub fn broadcast_to(&mut self, x: Value, dims: Vec<Dim>) -> Result<Value> {
        self.push(Op::BroadcastTo { shape: Shape(dims) }, &[x])
    }

    /// Reduces over `axes` (negative axes count from the end).
    pub fn reduce(
        &mut self,
        op: ReduceOp,
        x: Value,
        axes: &[i64],
        keep_dims: bool,
    ) -> Result<Value> {
        let rank = self.shape(x).rank() as i64;
        let mut norm = Vec::with_capacity(axes.len());
        for &a in axes {
            let axis = if a < 0 { a + rank } else { a };
            if axis < 0 || axis >= rank {
                return Err(Error::BadShape {
                    op: op.name().into(),
                    shape: self.shape(x).clone(),
                    why: format!("axis {a} is out of range for rank {rank}"),
                });
            }
            norm.push(axis as usize);
        }
        norm.sort_unstable();
        norm.dedup();
        self.push(
            Op::Reduce {
                op,
                axes: norm,
                keep_dims,
            },
            &[x],
        )
    }

    pub fn reduce_sum(&mut self, x: Value, axes: &[i64], keep_dims: bool) -> Result<Value> {
        self.reduce(ReduceOp::Sum, x, axes, keep_dims)
    }
    pub fn reduce_mean(&mut self, x: Value, axes: &[i64], keep_dims: bool) -> Result<Value> {
        self.reduce(ReduceOp::Mean, x, axes, keep_dims)
    }
    pub fn reduce_max(&mut self, x: Value, axes: &[i64], keep_dims: bool) -> Result<Value> {
        self.reduce(ReduceOp::Max, x, axes, keep_dims)
    }

    pub fn cast(&mut self, x: Value, to: DType) -> Result<Value> {
        self.push(Op::Cast { to }, &[x])
    }

    // ---- whole-graph queries ----

    /// Re-infers every node and checks the structure: topological order, outputs present,
    /// inputs declared. Compiler passes call it after each rewrite (in debug builds and tests).
    pub fn validate(&self) -> Result<()> {
        if self.outputs.is_empty() {
            return Err(self.error("has no outputs".into()));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if let Some(bad) = node.inputs.iter().find(|v| v.0 >= i) {
                return Err(self.error(format!(
                    "node {i} ({}) reads {bad:?}, which does not come before it",
                    node.op.name()
                )));
            }
            if matches!(node.op, Op::Input { .. } | Op::Constant(_)) {
                continue;
            }
            let facts: Vec<(&Shape, DType)> = node
                .inputs
                .iter()
                .map(|v| (&self.nodes[v.0].shape, self.nodes[v.0].dtype))
                .collect();
            let (shape, dtype) = node.op.infer(&facts)?;
            if shape != node.shape || dtype != node.dtype {
                return Err(self.error(format!(
                    "node {i} ({}) records {} {} but infers {} {}",
                    node.op.name(),
                    node.shape,
                    node.dtype,
                    shape,
                    dtype
                )));
            }
        }
        let declared: HashSet<usize> = self.inputs.iter().map(|v| v.0).collect();
        for (i, node) in self.nodes.iter().enumerate() {
            if matches!(node.op, Op::Input { .. }) && !declared.contains(&i) {
                return Err(self.error(format!("node {i} is an input that is not declared")));
            }
        }
        if let Some(bad) = self.outputs.iter().find(|v| v.0 >= self.nodes.len()) {
            return Err(self.error(format!("output {bad:?} is not a node")));
        }
        Ok(())
    }

    /// Checks run-time inputs against the declared inputs and binds the symbolic dims.
    pub fn bind_inputs(&self, inputs: &[Tensor]) -> Result<Bindings> {
        if inputs.len() != self.inputs.len() {
            return Err(self.error(format!(
                "expects {} inputs, got {}",
                self.inputs.len(),
                inputs.len()
            )));
        }
        let mut bindings = Bindings::new();
        for (&v, tensor) in self.inputs.iter().zip(inputs) {
            let node = &self.nodes[v.0];
            let name = self.input_name(v);
            let bad = || Error::BadInput {
                name: name.into(),
                expected: format!("{} {}", node.dtype, node.shape),
                got: format!("{} {:?}", tensor.dtype(), tensor.dims()),
            };
            if tensor.dtype() != node.dtype || tensor.dims().len() != node.shape.rank() {
                return Err(bad());
            }
            for (dim, &size) in node.shape.0.iter().zip(tensor.dims()) {
                match dim {
                    Dim::Static(n) if *n != size => return Err(bad()),
                    Dim::Static(_) => {}
                    Dim::Sym(s) => {
                        if *bindings.entry(s.clone()).or_insert(size) != size {
                            return Err(Error::BadInput {
                                name: name.into(),
                                expected: format!(
                                    "`{s}` = {} as bound by an earlier input",
                                    bindings[s]
                                ),
                                got: format!("{size}"),
                            });
                        }
                    }
                }
            }
        }
        Ok(bindings)
    }

    /// Concrete shapes of every node for one binding of the symbolic dims.
    ///
    /// A node that reads a symbolic shape is inferred again on the concrete ones, so checks
    /// that need numbers (a slice's end against a symbolic dim) run once the dims are known.
    pub fn concrete_shapes(&self, bindings: &Bindings) -> Result<Vec<Vec<usize>>> {
        let mut shapes: Vec<Vec<usize>> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let dims = n
                .shape
                .bind(bindings)
                .to_static()
                .ok_or_else(|| Error::BadShape {
                    op: n.op.name().into(),
                    shape: n.shape.clone(),
                    why: "a symbolic dim is not bound by any input".into(),
                })?;
            if n.inputs.iter().any(|v| !self.nodes[v.0].shape.is_static()) {
                let concrete: Vec<Shape> = n
                    .inputs
                    .iter()
                    .map(|v| Shape::from_static(&shapes[v.0]))
                    .collect();
                let facts: Vec<(&Shape, DType)> = concrete
                    .iter()
                    .zip(&n.inputs)
                    .map(|(s, v)| (s, self.nodes[v.0].dtype))
                    .collect();
                let (inferred, _) = n.op.bind(bindings).infer(&facts)?;
                if inferred.to_static().as_deref() != Some(dims.as_slice()) {
                    return Err(self.error(format!(
                        "{}: infers {inferred} for this binding, not {dims:?}",
                        n.op.name()
                    )));
                }
            }
            shapes.push(dims);
        }
        Ok(shapes)
    }

    /// Total floating-point operations of one run for concrete shapes.
    pub fn flops(&self, shapes: &[Vec<usize>]) -> u64 {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let ins: Vec<Vec<usize>> = n.inputs.iter().map(|v| shapes[v.0].clone()).collect();
                n.op.flops(&ins, &shapes[i])
            })
            .sum()
    }
}

/// One builder method per element-wise op of the table (`g.relu(x)`, `g.add(a, b)`, ...).
macro_rules! unary_builders {
    ($( $(#[$doc:meta])* $v:ident($fn:ident) { $($rest:tt)* } )*) => {
        impl Graph {
            $( $(#[$doc])* pub fn $fn(&mut self, x: Value) -> Result<Value> {
                self.unary(UnaryOp::$v, x)
            } )*
        }
    };
}
crate::unary_ops!(unary_builders);

macro_rules! binary_builders {
    ($( $v:ident($fn:ident) { $($rest:tt)* } )*) => {
        impl Graph {
            $( pub fn $fn(&mut self, a: Value, b: Value) -> Result<Value> {
                self.binary(BinaryOp::$v, a, b)
            } )*
        }
    };
}
crate::binary_ops!(binary_builders);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_nodes_constants_and_outputs() {
        let mut g = Graph::new("relu_affine");
        let x = g.input("x", DType::F32, crate::dims!["n"]).unwrap();
        let two = g.scalar(2.0);
        let y = g.mul(x, two).unwrap();
        let y = g.relu(y).unwrap();
        g.output(y);
        let text = g.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[0].starts_with("%0 ") && lines[0].ends_with("= input `x`"),
            "{text}"
        );
        assert!(lines[0].contains("f32"), "{text}");
        assert!(lines[1].ends_with("= constant [2.0]"), "{text}");
        assert!(lines[2].ends_with("= mul(%0, %1)"), "{text}");
        assert!(lines[3].ends_with("= relu(%2)"), "{text}");
        assert_eq!(lines[4], "outputs: %3");
    }
}
