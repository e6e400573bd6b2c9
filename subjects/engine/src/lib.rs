//! graphbench's in-house graph engine.
//!
//! Build a [`Graph`] with the builder API, then run it with the [`reference`] interpreter
//! (the correctness oracle) or compile it for a device with [`compile`].
//!
//! ```
//! use engine::{dims, DType, Graph, Tensor};
//! let mut g = Graph::new("relu_affine");
//! let x = g.input("x", DType::F32, dims!["n"]).unwrap();
//! let two = g.scalar(2.0);
//! let one = g.scalar(1.0);
//! let y = g.mul(x, two).unwrap();
//! let y = g.add(y, one).unwrap();
//! let y = g.relu(y).unwrap();
//! g.output(y);
//! let out = engine::reference::run(&g, &[Tensor::from_f32(&[4], vec![1., -2., 3., -4.]).unwrap()]).unwrap();
//! assert_eq!(out[0].as_f32().unwrap(), &[3., 0., 7., 0.]);
//! ```

mod compiler;
mod cpu;
mod dtype;
mod error;
pub mod gpu;
mod graph;
pub mod hash;
pub mod layout;
pub mod lowering;
pub mod models;
pub mod nn;
pub mod onnx;
pub mod ops;
pub mod reference;
mod shape;
mod target;
mod tensor;

pub use compiler::{CompileReport, Executable, PassRecord};
pub use cpu::CpuReport;
pub use cpu::cpu_isa;
pub use dtype::DType;
pub use error::{Error, Result};
pub use gpu::GpuReport;
pub use graph::{Graph, Node, Value};
pub use layout::{broadcast_dims, strides};
pub use shape::{Bindings, Dim, Shape};
pub use target::{CompileOptions, Target, TargetReport, compile, optimize};
pub use tensor::{Data, Parity, Tensor};

/// How this crate was optimised (`OPT_LEVEL` of its build), recorded in every result.
pub const BUILD_OPT_LEVEL: &str = env!("ENGINE_OPT_LEVEL");
/// Fingerprint of the sources that define the reference interpreter's results (graph, ops,
/// models, reference): equal fingerprints compute equal reference outputs.
pub const REFERENCE_FINGERPRINT: &str = env!("ENGINE_REFERENCE_FINGERPRINT");
/// Whether debug assertions were on in this crate's build.
pub const BUILD_DEBUG_ASSERTIONS: &str = env!("ENGINE_DEBUG_ASSERTIONS");
