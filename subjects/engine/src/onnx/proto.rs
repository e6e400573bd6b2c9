//! The few ONNX protobuf messages the exporter writes, encoded by hand.
//!
//! Protobuf's wire format is small: every field is a varint key `(field << 3) | wire_type`
//! followed by a varint (type 0), 4 little-endian bytes (type 5) or a varint length and that
//! many bytes (type 2: strings, bytes and nested messages). Field numbers are those of
//! `onnx/onnx.proto3` in the ONNX repository. Repeated integers are written unpacked, one
//! key per element, which is what the proto2 `onnx.proto` that ONNX Runtime compiles expects
//! (parsers accept both forms).

use std::sync::Arc;

use crate::{DType, Data, Dim, Tensor};

const VARINT: u32 = 0;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// `TensorProto.DataType` of an engine dtype.
pub fn data_type(dtype: DType) -> i64 {
    match dtype {
        DType::F32 => 1, // FLOAT
        DType::I64 => 7, // INT64
    }
}

/// A protobuf message under construction.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.raw_varint(u64::from((field << 3) | wire));
    }

    /// An `int32`/`int64`/enum field (negative values take ten bytes, as protobuf's do).
    pub fn int(&mut self, field: u32, v: i64) {
        self.key(field, VARINT);
        self.raw_varint(v as u64);
    }

    pub fn float(&mut self, field: u32, v: f32) {
        self.key(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, field: u32, data: &[u8]) {
        self.key(field, LEN);
        self.raw_varint(data.len() as u64);
        self.buf.extend_from_slice(data);
    }

    /// A string field; empty strings are left out (proto3's default).
    pub fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    /// A nested message, built by `body` into its own buffer first (its length comes first).
    pub fn message(&mut self, field: u32, body: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        body(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

/// `AttributeProto` values the exporter uses.
#[derive(Clone, Debug)]
pub enum AttrValue {
    Float(f32),
    Int(i64),
    Ints(Vec<i64>),
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub value: AttrValue,
}

impl Attribute {
    pub fn int(name: &'static str, v: i64) -> Self {
        Attribute {
            name,
            value: AttrValue::Int(v),
        }
    }
    pub fn float(name: &'static str, v: f32) -> Self {
        Attribute {
            name,
            value: AttrValue::Float(v),
        }
    }
    pub fn ints(name: &'static str, v: Vec<i64>) -> Self {
        Attribute {
            name,
            value: AttrValue::Ints(v),
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.string(1, self.name); // name
        match &self.value {
            AttrValue::Float(f) => {
                w.float(2, *f); // f
                w.int(20, 1); // type = FLOAT
            }
            AttrValue::Int(i) => {
                w.int(3, *i); // i
                w.int(20, 2); // type = INT
            }
            AttrValue::Ints(v) => {
                for &i in v {
                    w.int(8, i); // ints
                }
                w.int(20, 7); // type = INTS
            }
        }
    }
}

/// `NodeProto`.
#[derive(Clone, Debug)]
pub struct Node {
    pub op_type: &'static str,
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<Attribute>,
}

impl Node {
    fn encode(&self, w: &mut Writer) {
        for i in &self.inputs {
            w.bytes(1, i.as_bytes()); // input (an empty name = an absent optional input)
        }
        for o in &self.outputs {
            w.bytes(2, o.as_bytes()); // output
        }
        w.string(3, &self.name); // name
        w.string(4, self.op_type); // op_type
        for a in &self.attributes {
            w.message(5, |w| a.encode(w)); // attribute
        }
    }
}

/// `TensorProto` of an initializer: dims, data type, name and little-endian `raw_data`.
#[derive(Clone, Debug)]
pub struct Initializer {
    pub name: String,
    pub tensor: Arc<Tensor>,
}

impl Initializer {
    /// Writes this tensor as field `field` of `w`. The data goes straight from the engine
    /// tensor into `w` (weights are most of a model's bytes), so the message length is
    /// computed rather than measured from a copy.
    fn encode_into(&self, w: &mut Writer, field: u32) {
        let mut head = Writer::default();
        for &d in self.tensor.dims() {
            head.int(1, d as i64); // dims
        }
        head.int(2, data_type(self.tensor.dtype())); // data_type
        head.string(8, &self.name); // name
        let data_len = self.tensor.numel() * self.tensor.dtype().size_bytes();
        let mut raw_key = Writer::default();
        raw_key.key(9, LEN); // raw_data
        raw_key.raw_varint(data_len as u64);
        w.key(field, LEN);
        w.raw_varint((head.buf.len() + raw_key.buf.len() + data_len) as u64);
        w.buf.extend_from_slice(&head.buf);
        w.buf.extend_from_slice(&raw_key.buf);
        let start = w.buf.len();
        w.buf.resize(start + data_len, 0);
        let raw = &mut w.buf[start..];
        match self.tensor.data() {
            Data::F32(v) => (raw.chunks_exact_mut(4).zip(v))
                .for_each(|(b, x)| b.copy_from_slice(&x.to_le_bytes())),
            Data::I64(v) => (raw.chunks_exact_mut(8).zip(v))
                .for_each(|(b, x)| b.copy_from_slice(&x.to_le_bytes())),
        }
    }

    /// Bytes of raw data.
    fn data_len(&self) -> usize {
        self.tensor.numel() * self.tensor.dtype().size_bytes()
    }
}

/// `ValueInfoProto` of a tensor: name, element type and shape (symbolic dims as `dim_param`).
#[derive(Clone, Debug)]
pub struct ValueInfo {
    pub name: String,
    pub dtype: DType,
    pub dims: Vec<Dim>,
}

impl ValueInfo {
    fn encode(&self, w: &mut Writer) {
        w.string(1, &self.name); // name
        w.message(2, |w| {
            // TypeProto
            w.message(1, |w| {
                // TypeProto.Tensor (tensor_type)
                w.int(1, data_type(self.dtype)); // elem_type
                w.message(2, |w| {
                    // TensorShapeProto
                    for d in &self.dims {
                        w.message(1, |w| match d {
                            // Dimension
                            Dim::Static(n) => w.int(1, *n as i64), // dim_value
                            Dim::Sym(s) => w.bytes(2, s.as_bytes()), // dim_param
                        });
                    }
                });
            });
        });
    }
}

/// `GraphProto`.
#[derive(Clone, Debug, Default)]
pub struct GraphDef {
    pub name: String,
    pub nodes: Vec<Node>,
    pub initializers: Vec<Initializer>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

impl GraphDef {
    fn encode(&self, w: &mut Writer) {
        for n in &self.nodes {
            w.message(1, |w| n.encode(w)); // node
        }
        w.string(2, &self.name); // name
        for t in &self.initializers {
            t.encode_into(w, 5); // initializer
        }
        for i in &self.inputs {
            w.message(11, |w| i.encode(w)); // input
        }
        for o in &self.outputs {
            w.message(12, |w| o.encode(w)); // output
        }
    }
}

/// `ModelProto` with one opset import (the default ONNX domain).
pub struct Model {
    pub ir_version: i64,
    pub opset: i64,
    pub producer_name: String,
    pub producer_version: String,
    pub doc: String,
    pub graph: GraphDef,
}

impl Model {
    pub fn encode(&self) -> Vec<u8> {
        // The weights are nearly all of the bytes: size the buffers for them up front.
        let weights: usize = self
            .graph
            .initializers
            .iter()
            .map(Initializer::data_len)
            .sum();
        let estimate = weights + 256 * (self.graph.initializers.len() + self.graph.nodes.len());
        let mut graph = Writer {
            buf: Vec::with_capacity(estimate),
        };
        self.graph.encode(&mut graph);
        let mut w = Writer {
            buf: Vec::with_capacity(graph.buf.len() + 256 + self.doc.len()),
        };
        w.int(1, self.ir_version); // ir_version
        w.string(2, &self.producer_name); // producer_name
        w.string(3, &self.producer_version); // producer_version
        w.string(6, &self.doc); // doc_string
        w.message(8, |w| {
            // OperatorSetIdProto; domain "" (field 1) is the default ONNX domain
            w.int(2, self.opset); // version
        });
        w.bytes(7, &graph.buf); // graph
        w.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_keys_follow_the_wire_format() {
        let mut w = Writer::default();
        w.int(1, 150);
        assert_eq!(w.buf, [0x08, 0x96, 0x01]);
        let mut w = Writer::default();
        w.int(2, -1);
        assert_eq!(w.buf.len(), 1 + 10);
        assert_eq!(w.buf[10], 0x01);
        let mut w = Writer::default();
        w.string(2, "testing");
        assert_eq!(
            w.buf,
            [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        let mut w = Writer::default();
        w.float(2, 1.0);
        assert_eq!(w.buf, [0x15, 0x00, 0x00, 0x80, 0x3f]);
        let mut w = Writer::default();
        w.int(20, 7);
        assert_eq!(w.buf, [0xa0, 0x01, 0x07]);
    }

    #[test]
    fn an_initializer_is_the_message_its_length_prefix_says() {
        let t = Arc::new(Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap());
        let init = Initializer {
            name: "w".into(),
            tensor: t,
        };
        let mut w = Writer::default();
        init.encode_into(&mut w, 5);
        let expected_body: Vec<u8> = [
            &[0x08, 0x02][..],   // dims: 2
            &[0x10, 0x01],       // data_type: FLOAT
            &[0x42, 0x01, b'w'], // name
            &[0x4a, 0x08],       // raw_data, 8 bytes
            &1.0f32.to_le_bytes(),
            &2.0f32.to_le_bytes(),
        ]
        .concat();
        assert_eq!(w.buf[0], 0x2a);
        assert_eq!(w.buf[1] as usize, expected_body.len());
        assert_eq!(&w.buf[2..], &expected_body[..]);
    }
}
