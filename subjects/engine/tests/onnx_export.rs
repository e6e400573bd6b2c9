//! ONNX export round trip: exported models are decoded again by a small protobuf reader written
//! here (independently of the exporter's writer) and checked structurally — IR and opset,
//! inputs with their symbolic dims, initializers whose raw bytes are the weights, nodes in
//! topological order using only standard opset-17 ops, outputs with their shapes. Running the
//! models is the `onnxruntime` subject's job (subjects/adapters/tests/onnxruntime.rs and the
//! shared op suite).

use std::collections::{HashMap, HashSet};

use engine::models::{Cnn, DistilBert, DistilBertConfig, Mlp};
use engine::ops::{BinaryOp, UnaryOp};
use engine::{CompileOptions, DType, Graph, Tensor, Value, dims};

// ---------------------------------------------------------------------------------------
// A protobuf reader
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Field<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
    }
    panic!("varint longer than 10 bytes");
}

/// Every (field number, value) of one message, in order; panics on malformed input.
fn fields(buf: &[u8]) -> Vec<(u32, Field<'_>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos);
        let (field, wire) = ((key >> 3) as u32, key & 7);
        assert!(field > 0, "field number 0 at byte {pos}");
        let value = match wire {
            0 => Field::Varint(varint(buf, &mut pos)),
            2 => {
                let len = varint(buf, &mut pos) as usize;
                assert!(pos + len <= buf.len(), "length {len} runs past the message");
                let b = &buf[pos..pos + len];
                pos += len;
                Field::Bytes(b)
            }
            5 => {
                let v = u32::from_le_bytes(buf[pos..pos + 4].try_into().unwrap());
                pos += 4;
                Field::Fixed32(v)
            }
            w => panic!("unexpected wire type {w} for field {field}"),
        };
        out.push((field, value));
    }
    out
}

fn int(f: Field) -> i64 {
    match f {
        Field::Varint(v) => v as i64,
        other => panic!("expected a varint, got {other:?}"),
    }
}

fn bytes<'a>(f: Field<'a>) -> &'a [u8] {
    match f {
        Field::Bytes(b) => b,
        other => panic!("expected bytes, got {other:?}"),
    }
}

fn string(f: Field) -> String {
    String::from_utf8(bytes(f).to_vec()).expect("utf-8")
}

// ---------------------------------------------------------------------------------------
// The ONNX messages, decoded (field numbers from onnx.proto3)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct ModelD {
    ir_version: i64,
    opsets: Vec<(String, i64)>,
    producer: String,
    graph: GraphD,
}

#[derive(Debug, Default)]
struct GraphD {
    name: String,
    nodes: Vec<NodeD>,
    initializers: Vec<TensorD>,
    inputs: Vec<ValueInfoD>,
    outputs: Vec<ValueInfoD>,
}

#[derive(Debug, Default)]
struct NodeD {
    op_type: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    attrs: HashMap<String, AttrD>,
}

#[derive(Debug, PartialEq)]
enum AttrD {
    Float(f32),
    Int(i64),
    Ints(Vec<i64>),
}

#[derive(Debug, Default)]
struct TensorD {
    name: String,
    dims: Vec<i64>,
    data_type: i64,
    raw: Vec<u8>,
}

#[derive(Debug, Default, PartialEq)]
struct ValueInfoD {
    name: String,
    elem_type: i64,
    /// dim_value as `Ok`, dim_param as `Err`.
    dims: Vec<Result<i64, String>>,
}

fn decode_model(buf: &[u8]) -> ModelD {
    let mut m = ModelD::default();
    for (f, v) in fields(buf) {
        match f {
            1 => m.ir_version = int(v),
            2 => m.producer = string(v),
            7 => m.graph = decode_graph(bytes(v)),
            8 => {
                let mut domain = String::new();
                let mut version = 0;
                for (f, v) in fields(bytes(v)) {
                    match f {
                        1 => domain = string(v),
                        2 => version = int(v),
                        _ => {}
                    }
                }
                m.opsets.push((domain, version));
            }
            _ => {}
        }
    }
    m
}

fn decode_graph(buf: &[u8]) -> GraphD {
    let mut g = GraphD::default();
    for (f, v) in fields(buf) {
        match f {
            1 => g.nodes.push(decode_node(bytes(v))),
            2 => g.name = string(v),
            5 => g.initializers.push(decode_tensor(bytes(v))),
            11 => g.inputs.push(decode_value_info(bytes(v))),
            12 => g.outputs.push(decode_value_info(bytes(v))),
            _ => {}
        }
    }
    g
}

fn decode_node(buf: &[u8]) -> NodeD {
    let mut n = NodeD::default();
    for (f, v) in fields(buf) {
        match f {
            1 => n.inputs.push(string(v)),
            2 => n.outputs.push(string(v)),
            4 => n.op_type = string(v),
            5 => {
                let (mut name, mut ty, mut fv, mut iv, mut ints) =
                    (String::new(), 0, 0.0, 0, vec![]);
                for (f, v) in fields(bytes(v)) {
                    match (f, v) {
                        (1, v) => name = string(v),
                        (20, v) => ty = int(v),
                        (2, Field::Fixed32(b)) => fv = f32::from_bits(b),
                        (3, v) => iv = int(v),
                        (8, v) => ints.push(int(v)),
                        (f, _) => panic!("unexpected attribute field {f}"),
                    }
                }
                let value = match ty {
                    1 => AttrD::Float(fv),
                    2 => AttrD::Int(iv),
                    7 => AttrD::Ints(ints),
                    t => panic!("attribute `{name}` has type {t}"),
                };
                assert!(n.attrs.insert(name, value).is_none(), "repeated attribute");
            }
            _ => {}
        }
    }
    n
}

fn decode_tensor(buf: &[u8]) -> TensorD {
    let mut t = TensorD::default();
    for (f, v) in fields(buf) {
        match f {
            1 => t.dims.push(int(v)),
            2 => t.data_type = int(v),
            8 => t.name = string(v),
            9 => t.raw = bytes(v).to_vec(),
            f => panic!("unexpected tensor field {f}"),
        }
    }
    t
}

fn decode_value_info(buf: &[u8]) -> ValueInfoD {
    let mut vi = ValueInfoD::default();
    for (f, v) in fields(buf) {
        match f {
            1 => vi.name = string(v),
            2 => {
                let [(1, tensor_type)] = fields(bytes(v))[..] else {
                    panic!("expected a tensor type")
                };
                for (f, v) in fields(bytes(tensor_type)) {
                    match f {
                        1 => vi.elem_type = int(v),
                        2 => {
                            for (f, dim) in fields(bytes(v)) {
                                assert_eq!(f, 1);
                                let [(k, d)] = fields(bytes(dim))[..] else {
                                    panic!("a dim has one value")
                                };
                                vi.dims.push(match k {
                                    1 => Ok(int(d)),
                                    2 => Err(string(d)),
                                    k => panic!("dim field {k}"),
                                });
                            }
                        }
                        f => panic!("unexpected tensor type field {f}"),
                    }
                }
            }
            _ => {}
        }
    }
    vi
}

// ---------------------------------------------------------------------------------------
// Structural checks
// ---------------------------------------------------------------------------------------

/// The ops of the default domain at opset 17 the exporter may use.
const STANDARD_OPS: &[&str] = &[
    "Neg",
    "Relu",
    "Exp",
    "Log",
    "Tanh",
    "Sqrt",
    "Reciprocal",
    "Erf",
    "Softplus",
    "Pow",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
    "MatMul",
    "Transpose",
    "Reshape",
    "Expand",
    "ReduceSum",
    "ReduceMean",
    "ReduceMax",
    "Cast",
    "Gather",
    "LayerNormalization",
    "Softmax",
    "Slice",
    "Concat",
    "Range",
    "Shape",
    "Squeeze",
    "Conv",
    "MaxPool",
    "Identity",
];

fn onnx_dtype(d: DType) -> i64 {
    match d {
        DType::F32 => 1,
        DType::I64 => 7,
    }
}

fn dims_of(g: &Graph, v: Value) -> Vec<Result<i64, String>> {
    g.shape(v)
        .0
        .iter()
        .map(|d| match d {
            engine::Dim::Static(n) => Ok(*n as i64),
            engine::Dim::Sym(s) => Err(s.clone()),
        })
        .collect()
}

/// Decodes `graph`'s export and checks everything that does not need a runtime.
fn export_and_check(graph: &Graph) -> ModelD {
    let bytes = engine::onnx::export(graph).unwrap_or_else(|e| panic!("{}: {e}", graph.name()));
    // `GRAPHBENCH_ONNX_DUMP=<dir>` keeps the models, e.g. for `onnx.checker.check_model`.
    if let Some(dir) = std::env::var_os("GRAPHBENCH_ONNX_DUMP") {
        let path = std::path::Path::new(&dir).join(format!("{}.onnx", graph.name()));
        std::fs::write(&path, &bytes).unwrap();
    }
    let m = decode_model(&bytes);
    assert_eq!(m.ir_version, engine::onnx::IR_VERSION);
    assert_eq!(m.opsets, [(String::new(), engine::onnx::OPSET)]);
    assert_eq!(m.producer, "graphbench-engine");
    assert_eq!(m.graph.name, graph.name());

    // Inputs: names, dtypes and dims as declared.
    let expected_inputs: Vec<ValueInfoD> = graph
        .inputs()
        .iter()
        .map(|&v| ValueInfoD {
            name: graph.input_name(v).into(),
            elem_type: onnx_dtype(graph.dtype(v)),
            dims: dims_of(graph, v),
        })
        .collect();
    assert_eq!(m.graph.inputs, expected_inputs);
    let expected_outputs: Vec<ValueInfoD> = (graph.outputs().iter())
        .zip(engine::onnx::output_names(graph))
        .map(|(&v, name)| ValueInfoD {
            name,
            elem_type: onnx_dtype(graph.dtype(v)),
            dims: dims_of(graph, v),
        })
        .collect();
    assert_eq!(m.graph.outputs, expected_outputs);

    // Initializers: raw little-endian data of the right length, unique names.
    let mut defined: HashSet<&str> = HashSet::new();
    for t in &m.graph.initializers {
        let numel: i64 = t.dims.iter().product();
        let size = match t.data_type {
            1 => 4,
            7 => 8,
            d => panic!("initializer `{}` has data type {d}", t.name),
        };
        assert_eq!(t.raw.len() as i64, numel * size, "initializer `{}`", t.name);
        assert!(defined.insert(&t.name), "initializer `{}` twice", t.name);
    }
    for i in &m.graph.inputs {
        assert!(
            defined.insert(&i.name),
            "input `{}` is also defined elsewhere",
            i.name
        );
    }
    // Nodes: standard ops, every input defined before it is read, every output new.
    for n in &m.graph.nodes {
        assert!(
            STANDARD_OPS.contains(&n.op_type.as_str()),
            "{}: non-standard op {}",
            graph.name(),
            n.op_type
        );
        for i in &n.inputs {
            assert!(
                defined.contains(i.as_str()),
                "{} reads `{i}` before it is defined",
                n.op_type
            );
        }
        for o in &n.outputs {
            assert!(defined.insert(o), "`{o}` is written twice");
        }
    }
    for o in &m.graph.outputs {
        assert!(
            defined.contains(o.name.as_str()),
            "output `{}` is never written",
            o.name
        );
    }
    m
}

fn initializer_f32(t: &TensorD) -> Vec<f32> {
    assert_eq!(t.data_type, 1);
    t.raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn node<'m>(m: &'m ModelD, op_type: &str) -> &'m NodeD {
    m.graph
        .nodes
        .iter()
        .find(|n| n.op_type == op_type)
        .unwrap_or_else(|| panic!("no {op_type} node"))
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

fn one_op(
    name: &str,
    inputs: &[(&str, DType, Vec<engine::Dim>)],
    build: impl FnOnce(&mut Graph, &[Value]) -> engine::Result<Value>,
) -> Graph {
    let mut g = Graph::new(name);
    let vs: Vec<Value> = inputs
        .iter()
        .map(|(n, d, dims)| g.input(n, *d, dims.clone()).unwrap())
        .collect();
    let y = build(&mut g, &vs).unwrap();
    g.output(y);
    g
}

const _: () = assert!(
    engine::onnx::OPSET >= 17,
    "LayerNormalization needs opset 17"
);

#[test]
fn every_op_exports_to_standard_onnx() {
    let f = DType::F32;
    let mut graphs = Vec::new();
    for op in UnaryOp::ALL {
        graphs.push(one_op(op.name(), &[("x", f, dims!["n", 3])], |g, v| {
            g.unary(op, v[0])
        }));
    }
    for op in BinaryOp::ALL {
        graphs.push(one_op(
            op.name(),
            &[("a", f, dims![2, "n"]), ("b", f, dims!["n"])],
            |g, v| g.binary(op, v[0], v[1]),
        ));
    }
    graphs.push(one_op(
        "matmul",
        &[("a", f, dims!["b", 4, 5]), ("w", f, dims![5, 6])],
        |g, v| g.matmul(v[0], v[1]),
    ));
    graphs.push(one_op(
        "transpose",
        &[("x", f, dims![2, "n", 4])],
        |g, v| g.transpose(v[0], &[2, 0, 1]),
    ));
    graphs.push(one_op(
        "reshape",
        &[("x", f, dims!["b", "s", 6])],
        |g, v| g.reshape(v[0], dims!["b", "s", 2, 3]),
    ));
    graphs.push(one_op(
        "broadcast_to",
        &[("x", f, dims!["b", 1])],
        |g, v| g.broadcast_to(v[0], dims![2, "b", 5]),
    ));
    graphs.push(one_op(
        "reduce_sum",
        &[("x", f, dims!["b", 3, 4])],
        |g, v| g.reduce_sum(v[0], &[1, 2], false),
    ));
    graphs.push(one_op(
        "reduce_mean",
        &[("x", f, dims!["b", 3, 4])],
        |g, v| g.reduce_mean(v[0], &[-1], true),
    ));
    graphs.push(one_op(
        "reduce_max",
        &[("x", f, dims!["b", 3, 4])],
        |g, v| g.reduce_max(v[0], &[0], false),
    ));
    graphs.push(one_op("cast", &[("x", f, dims!["b"])], |g, v| {
        g.cast(v[0], DType::I64)
    }));
    graphs.push(one_op(
        "gather",
        &[("ids", DType::I64, dims!["b", "s"])],
        |g, v| {
            let t =
                g.constant(Tensor::from_f32(&[5, 2], (0..10).map(|i| i as f32).collect()).unwrap());
            g.gather(t, v[0])
        },
    ));
    graphs.push(one_op("layer_norm", &[("x", f, dims!["b", 4])], |g, v| {
        let gm = g.constant(Tensor::from_f32(&[4], vec![1.0; 4]).unwrap());
        let bt = g.constant(Tensor::from_f32(&[4], vec![0.0; 4]).unwrap());
        g.layer_norm(v[0], gm, bt, 1e-5)
    }));
    graphs.push(one_op("softmax", &[("x", f, dims!["b", 4])], |g, v| {
        g.softmax(v[0], -1)
    }));
    graphs.push(one_op("slice", &[("x", f, dims!["b", 4])], |g, v| {
        g.slice(v[0], 1, 1, 3)
    }));
    graphs.push(one_op(
        "concat",
        &[("a", f, dims!["b", 2]), ("c", f, dims!["b", 3])],
        |g, v| g.concat(&[v[0], v[1]], 1),
    ));
    graphs.push(one_op("arange", &[("x", f, dims!["n"])], |g, v| {
        let r = g.arange("n".into(), DType::F32)?;
        g.add(v[0], r)
    }));
    graphs.push(one_op(
        "conv2d",
        &[("x", f, dims!["b", 2, 6, 6])],
        |g, v| {
            let w = g.constant(Tensor::from_f32(&[3, 2, 3, 3], vec![0.1; 54]).unwrap());
            g.conv2d(v[0], w, None, [2, 1], [1, 0])
        },
    ));
    graphs.push(one_op(
        "max_pool2d",
        &[("x", f, dims!["b", 2, 6, 6])],
        |g, v| g.max_pool2d(v[0], [2, 3], [2, 3]),
    ));
    graphs.push(one_op(
        "attention",
        &[
            ("q", f, dims!["b", 2, "s", 4]),
            ("k", f, dims!["b", 2, "s", 4]),
            ("v", f, dims!["b", 2, "s", 4]),
            ("m", f, dims!["b", 1, 1, "s"]),
        ],
        |g, v| g.attention(v[0], v[1], v[2], Some(v[3]), 0.5),
    ));
    for g in &graphs {
        let m = export_and_check(g);
        assert!(!m.graph.nodes.is_empty(), "{}", g.name());
    }
}

#[test]
fn attributes_and_initializers_carry_the_ops_parameters() {
    let mut g = Graph::new("params");
    let x = g.input("x", DType::F32, dims!["batch", 2, 7, 7]).unwrap();
    let w = Tensor::from_f32(&[3, 2, 3, 3], (0..54).map(|i| i as f32 * 0.5).collect()).unwrap();
    let w = g.constant(w);
    let y = g.conv2d(x, w, None, [2, 1], [1, 0]).unwrap();
    let y = g.max_pool2d(y, [2, 2], [1, 2]).unwrap();
    let y = g.softmax(y, 1).unwrap();
    let gm = g.constant(Tensor::from_f32(&[3], vec![1.0, 2.0, 3.0]).unwrap());
    let bt = g.constant(Tensor::from_f32(&[3], vec![0.0; 3]).unwrap());
    let t = g.transpose(y, &[0, 2, 3, 1]).unwrap();
    let y = g.layer_norm(t, gm, bt, 1e-12).unwrap();
    let y = g.reduce_mean(y, &[1, 2], false).unwrap();
    g.output(y);
    let m = export_and_check(&g);

    let conv = node(&m, "Conv");
    assert_eq!(conv.attrs["kernel_shape"], AttrD::Ints(vec![3, 3]));
    assert_eq!(conv.attrs["pads"], AttrD::Ints(vec![1, 0, 1, 0]));
    assert_eq!(conv.attrs["strides"], AttrD::Ints(vec![2, 1]));
    let weight = m
        .graph
        .initializers
        .iter()
        .find(|t| t.name == conv.inputs[1])
        .unwrap();
    assert_eq!(weight.dims, [3, 2, 3, 3]);
    assert_eq!(
        initializer_f32(weight),
        (0..54).map(|i| i as f32 * 0.5).collect::<Vec<_>>()
    );
    let pool = node(&m, "MaxPool");
    assert_eq!(pool.attrs["kernel_shape"], AttrD::Ints(vec![2, 2]));
    assert_eq!(pool.attrs["strides"], AttrD::Ints(vec![1, 2]));
    assert_eq!(node(&m, "Softmax").attrs["axis"], AttrD::Int(1));
    assert_eq!(
        node(&m, "Transpose").attrs["perm"],
        AttrD::Ints(vec![0, 2, 3, 1])
    );
    let ln = node(&m, "LayerNormalization");
    assert_eq!(ln.attrs["axis"], AttrD::Int(-1));
    assert_eq!(ln.attrs["epsilon"], AttrD::Float(1e-12));
    let mean = node(&m, "ReduceMean");
    assert_eq!(mean.attrs["axes"], AttrD::Ints(vec![1, 2]));
    assert_eq!(mean.attrs["keepdims"], AttrD::Int(0));
    assert_eq!(m.graph.inputs[0].dims[0], Err("batch".to_string()));
}

#[test]
fn a_transposed_weight_is_stored_transposed() {
    let mut g = Graph::new("linear");
    let x = g.input("x", DType::F32, dims!["b", 3]).unwrap();
    // [out 2, in 3], as nn::Linear stores it.
    let w = Tensor::from_f32(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    let layer = engine::nn::Linear::new(&mut g, w, None);
    let y = layer.forward(&mut g, x).unwrap();
    g.output(y);
    let m = export_and_check(&g);
    assert!(m.graph.nodes.iter().all(|n| n.op_type != "Transpose"));
    let mm = node(&m, "MatMul");
    let w = m
        .graph
        .initializers
        .iter()
        .find(|t| t.name == mm.inputs[1])
        .unwrap();
    assert_eq!(w.dims, [3, 2]);
    assert_eq!(initializer_f32(w), [1., 4., 2., 5., 3., 6.]);
    // The untransposed weight is not exported as well.
    assert_eq!(m.graph.initializers.len(), 1);
}

#[test]
fn symbolic_reshapes_copy_infer_or_read_their_dims() {
    // [b, s] -> [b, 1, 1, s]: 0 copies b, -1 infers s.
    let mut g = Graph::new("mask");
    let x = g.input("x", DType::F32, dims!["b", "s"]).unwrap();
    let y = g.reshape(x, dims!["b", 1, 1, "s"]).unwrap();
    g.output(y);
    let m = export_and_check(&g);
    let r = node(&m, "Reshape");
    let shape = m
        .graph
        .initializers
        .iter()
        .find(|t| t.name == r.inputs[1])
        .unwrap();
    let spec: Vec<i64> = shape
        .raw
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(spec, [0, 1, 1, -1]);

    // [b, s, 6] -> [s, b, 6]-sized reshape: two dims move, so the shape is read at run time.
    let mut g = Graph::new("swap");
    let x = g.input("x", DType::F32, dims!["b", "s", 6]).unwrap();
    let y = g.reshape(x, dims!["s", "b", 2, 3]).unwrap();
    g.output(y);
    let m = export_and_check(&g);
    let shapes: Vec<&NodeD> = m
        .graph
        .nodes
        .iter()
        .filter(|n| n.op_type == "Shape")
        .collect();
    assert_eq!(shapes.len(), 2);
    assert_eq!(shapes[0].attrs["start"], AttrD::Int(1));
    assert_eq!(shapes[0].attrs["end"], AttrD::Int(2));
    assert_eq!(node(&m, "Concat").inputs.len(), 3);
}

#[test]
fn position_embeddings_slice_the_table_and_arange_avoids_gather() {
    let mut g = Graph::new("positions");
    let ids = g.input("ids", DType::I64, dims!["b", "seq"]).unwrap();
    let table = g.constant(Tensor::from_f32(&[16, 2], vec![0.5; 32]).unwrap());
    let pos = g.arange("seq".into(), DType::I64).unwrap();
    let pe = g.gather(table, pos).unwrap();
    let we = g.gather(table, ids).unwrap();
    let y = g.add(we, pe).unwrap();
    g.output(y);
    let m = export_and_check(&g);
    let ops: Vec<&str> = m.graph.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Shape", "Slice", "Gather", "Add"]);

    let mut g = Graph::new("arange");
    let x = g.input("x", DType::F32, dims!["n"]).unwrap();
    let r = g.arange("n".into(), DType::F32).unwrap();
    let y = g.add(x, r).unwrap();
    g.output(y);
    let m = export_and_check(&g);
    let ops: Vec<&str> = m.graph.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Shape", "Squeeze", "Range", "Cast", "Add"]);
}

#[test]
fn sources_and_repeated_outputs_get_identities_and_dead_nodes_are_dropped() {
    let mut g = Graph::new("outputs");
    let x = g.input("x", DType::F32, dims![3]).unwrap();
    let c = g.constant(Tensor::from_f32(&[3], vec![1., 2., 3.]).unwrap());
    let y = g.add(x, c).unwrap();
    let _dead = g.exp(y).unwrap();
    g.output(y);
    g.output(y);
    g.output(x);
    g.output(c);
    let m = export_and_check(&g);
    let ops: Vec<&str> = m.graph.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Add", "Identity", "Identity", "Identity"]);
    assert_eq!(
        engine::onnx::output_names(&g),
        ["output_0", "output_1", "output_2", "output_3"]
    );
}

#[test]
fn fused_ops_export_as_standard_ones() {
    use engine::ops::{BinaryOp as B, ElementwiseProgram, FusedOp, Instr, Op, UnaryOp as U};
    use std::sync::Arc;
    let mut g = Graph::new("fused");
    let x = g.input("x", DType::F32, dims!["n", 4]).unwrap();
    let w = g.constant(Tensor::from_f32(&[4, 5], vec![0.1; 20]).unwrap());
    let b = g.constant(Tensor::from_f32(&[5], vec![0.2; 5]).unwrap());
    let epilogue = ElementwiseProgram {
        n_inputs: 2,
        instrs: vec![Instr::Binary(B::Add, 0, 1), Instr::Unary(U::Rsqrt, 2)],
    };
    let h = g
        .push(
            Op::Fused(FusedOp::MatMulEpilogue(Arc::new(epilogue))),
            &[x, w, b],
        )
        .unwrap();
    let only_b = ElementwiseProgram {
        n_inputs: 2,
        instrs: vec![Instr::Const(3.0), Instr::Binary(B::Mul, 0, 2)],
    };
    let e = g
        .push(Op::Fused(FusedOp::Elementwise(Arc::new(only_b))), &[b, h])
        .unwrap();
    let ln = g
        .push(
            Op::Fused(FusedOp::AddLayerNorm { eps: 1e-6 }),
            &[h, e, b, b],
        )
        .unwrap();
    g.output(ln);
    let m = export_and_check(&g);
    let ops: Vec<&str> = m.graph.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(
        ops,
        [
            "MatMul",
            "Add",
            "Sqrt",
            "Reciprocal", // the epilogue
            "Mul",
            "Shape",
            "Concat",
            "Expand", // 3 b, broadcast to [n, 5]
            "Add",
            "LayerNormalization",
        ]
    );
}

#[test]
fn compiled_graphs_export() {
    // `Executable::graph` may store matmul weights in a packed order, so only the structure
    // is checked here; the source graph is what other runtimes should run.
    let config = small_distilbert();
    let graphs = [
        Mlp::synthetic(3).unwrap(),
        Cnn::synthetic(3).unwrap(),
        DistilBert::synthetic(config, 5).unwrap().graph,
    ];
    for graph in &graphs {
        let exe = engine::compile(graph, &CompileOptions::default()).unwrap();
        assert!(
            exe.graph()
                .nodes()
                .iter()
                .any(|n| n.op.name().starts_with("fused_"))
        );
        export_and_check(graph);
        export_and_check(exe.graph());
    }
}

fn small_distilbert() -> DistilBertConfig {
    DistilBertConfig {
        vocab_size: 50,
        max_position_embeddings: 16,
        dim: 8,
        n_layers: 2,
        n_heads: 2,
        hidden_dim: 16,
        ..DistilBertConfig::sst2()
    }
}

#[test]
fn distilbert_sized_graphs_export_quickly() {
    let model = DistilBert::synthetic(DistilBertConfig::sst2(), 1).unwrap();
    let t = std::time::Instant::now();
    let bytes = engine::onnx::export(&model.graph).unwrap();
    let took = t.elapsed();
    eprintln!(
        "DistilBERT export: {} MB in {took:?}",
        bytes.len() / 1_000_000
    );
    let params = model.config.parameter_count();
    assert!(
        bytes.len() >= params * 4,
        "{} bytes for {params} parameters",
        bytes.len()
    );
    let m = export_and_check(&model.graph);
    let count = |op: &str| m.graph.nodes.iter().filter(|n| n.op_type == op).count();
    assert_eq!(count("LayerNormalization"), 1 + 2 * 6);
    assert_eq!(count("Softmax"), 6);
    assert_eq!(count("Erf"), 6);
    assert_eq!(count("Transpose"), 6 * 5); // q, k, v, k^T and the merge of heads per layer
    let inputs: Vec<&str> = m.graph.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(inputs, ["input_ids", "attention_mask"]);
    assert_eq!(
        m.graph.inputs[0].dims,
        [Err("batch".into()), Err("seq".into())]
    );
    let weights: i64 = (m.graph.initializers.iter())
        .filter(|t| t.data_type == 1)
        .map(|t| t.dims.iter().product::<i64>())
        .sum();
    // Every parameter once, plus a few scalars.
    assert!(
        (weights as usize) >= params && (weights as usize) < params + 100,
        "{weights} vs {params}"
    );
}
