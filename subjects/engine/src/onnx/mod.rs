//! Export of engine graphs to ONNX, so other runtimes can run the very graph our engine runs.
//!
//! [`export`] turns a [`Graph`] into the bytes of an ONNX `ModelProto` (opset [`OPSET`] of
//! the default domain, IR version [`IR_VERSION`]): graph inputs keep their names, dtypes and
//! shapes (symbolic dims become `dim_param`s), constants become initializers with little-endian
//! `raw_data`, and each op maps onto the standard ONNX op that does the same thing:
//!
//! | engine                      | ONNX                                                      |
//! |-----------------------------|-----------------------------------------------------------|
//! | neg relu exp log tanh sqrt  | Neg Relu Exp Log Tanh Sqrt                                |
//! | softplus                    | Softplus                                                  |
//! | rsqrt                       | Sqrt → Reciprocal                                         |
//! | gelu (erf)                  | x · 0.5 · (1 + Erf(x / √2)), the form ORT fuses into Gelu  |
//! | gelu_tanh                   | x · 0.5 · (1 + Tanh(√(2/π) (x + 0.044715 x³)))            |
//! | add sub mul div max min     | Add Sub Mul Div Max Min                                   |
//! | matmul, transpose           | MatMul, Transpose (folded into the initializer of a constant) |
//! | reshape, broadcast_to       | Reshape, Expand (symbolic dims copied or read with Shape) |
//! | reduce_sum/mean/max         | ReduceSum (axes input), ReduceMean, ReduceMax (axes attribute) |
//! | cast, gather                | Cast, Gather (axis 0)                                     |
//! | layer_norm                  | LayerNormalization (axis -1)                              |
//! | softmax, slice, concat      | Softmax, Slice, Concat                                    |
//! | arange                      | an initializer, or Shape → Squeeze → Range when symbolic  |
//! | gather(table, arange(n))    | Slice of the table (position embeddings)                  |
//! | conv2d, max_pool2d          | Conv, MaxPool                                             |
//! | attention                   | Softmax(MatMul(q, kᵀ) · scale + mask) → MatMul            |
//!
//! The element-wise rows come from the op table's `onnx` column. The compiler's fused ops are
//! expanded back into the public ops they fuse (`ops::decompose`), so graphs holding them
//! export too. (Export the graph you compiled rather than `Executable::graph()`, whose matmul
//! weights may be stored in a packed order.) Nodes that no output depends on are left out. Graph outputs are named
//! by [`output_names`].
//!
//! ```
//! use engine::{dims, DType, Graph};
//! let mut g = Graph::new("affine");
//! let x = g.input("x", DType::F32, dims!["n", 4]).unwrap();
//! let y = g.relu(x).unwrap();
//! g.output(y);
//! let model: Vec<u8> = engine::onnx::export(&g).unwrap();
//! assert!(!model.is_empty());
//! assert_eq!(engine::onnx::output_names(&g), ["output_0"]);
//! ```

mod exporter;
mod ops;
mod proto;

use std::collections::HashSet;

use crate::{Graph, Result};

/// The opset of the default ONNX domain the exported models import. 17 is the first with
/// `LayerNormalization`; ONNX Runtime fuses the exact-GELU subgraph the exporter writes.
pub const OPSET: i64 = 17;

/// The ONNX IR version of the exported models (IR 8 goes with opset 17).
pub const IR_VERSION: i64 = 8;

/// Exports `graph` as the bytes of an ONNX model (a serialised `ModelProto`).
///
/// Fails when the graph does not validate, or when a symbolic dim a node needs at run time
/// (a reshape target, a broadcast target, an arange length) appears in none of the inputs.
pub fn export(graph: &Graph) -> Result<Vec<u8>> {
    graph.validate()?;
    let def = exporter::graph_def(graph)?;
    let model = proto::Model {
        ir_version: IR_VERSION,
        opset: OPSET,
        producer_name: "graphbench-engine".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc: format!("graph `{}` exported by graphbench's engine", graph.name()),
        graph: def,
    };
    Ok(model.encode())
}

/// The names the exported model gives the graph's outputs, in order: `output_0`,
/// `output_1`, ... (with `_` appended while a name is taken by an input).
pub fn output_names(graph: &Graph) -> Vec<String> {
    let inputs: HashSet<&str> = graph
        .inputs()
        .iter()
        .map(|&v| graph.input_name(v))
        .collect();
    (0..graph.outputs().len())
        .map(|i| {
            let mut name = format!("output_{i}");
            while inputs.contains(name.as_str()) {
                name.push('_');
            }
            name
        })
        .collect()
}
