//! Transpose, broadcast and reshape: strided views, and copies that make them contiguous.
//!
//! A movement op never computes anything: its output is its input read with other strides.
//! The executor keeps such views uncopied where every consumer can read strides (matmul
//! operands); otherwise [`copy`] materialises them.

use super::{Arg, ArgData, OutData};
use crate::Result;
use crate::layout::{copy_strided, view_strides};
use crate::ops::Op;

/// `out = op(arg)` for a movement op, as a contiguous row-major copy.
pub fn copy(op: &Op, arg: &Arg, out: OutData, out_dims: &[usize]) -> Result<()> {
    // A reshape keeps row-major order: copy the input in its own dims.
    let (dims, st) = match view_strides(op, arg.dims, arg.strides, out_dims) {
        Some(s) => (out_dims, s),
        None => (arg.dims, arg.strides.to_vec()),
    };
    match (&arg.data, out) {
        (ArgData::F32(src), OutData::F32(dst)) => copy_strided(src, dims, &st, dst),
        (ArgData::I64(src), OutData::I64(dst)) => copy_strided(src, dims, &st, dst),
        _ => return Err(super::dtype_error(op.name())),
    }
    Ok(())
}
