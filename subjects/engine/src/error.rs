//! One error type for building, compiling and running graphs. Every message names the op
//! (or input) at fault and the shapes involved, so a user can find the mistake.

use crate::{DType, Shape};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op}: shapes {lhs} and {rhs} are incompatible: {why}")]
    ShapeMismatch {
        op: String,
        lhs: Shape,
        rhs: Shape,
        why: String,
    },
    #[error("{op}: invalid shape {shape}: {why}")]
    BadShape {
        op: String,
        shape: Shape,
        why: String,
    },
    #[error("{op}: dtype {got} is not supported here (expected {expected})")]
    DType {
        op: String,
        got: DType,
        expected: String,
    },
    #[error("{op}: {why}")]
    BadArgument { op: String, why: String },
    #[error("input `{name}`: expected {expected}, got {got}")]
    BadInput {
        name: String,
        expected: String,
        got: String,
    },
    #[error("graph `{graph}`: {why}")]
    Graph { graph: String, why: String },
    /// The GPU backend: no adapter, a buffer beyond the adapter's limits, a device error.
    #[error("gpu: {0}")]
    Gpu(String),
    #[error("tensor: {0}")]
    Tensor(String),
}
