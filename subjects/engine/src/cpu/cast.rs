//! Dtype conversion, element by element.

use super::{Arg, ArgData, OutData};
use crate::{Error, Result};

/// `out = arg as dtype`: f32 -> i64 truncates toward zero (numpy's `astype`), saturating,
/// NaN -> 0; i64 -> f32 rounds to nearest.
pub fn cast(arg: &Arg, out: OutData) -> Result<()> {
    if !arg.is_contiguous() {
        return Err(Error::BadArgument {
            op: "cast".into(),
            why: "expects a contiguous input".into(),
        });
    }
    match (&arg.data, out) {
        (ArgData::F32(a), OutData::I64(o)) => {
            o.iter_mut().zip(*a).for_each(|(o, &x)| *o = x as i64)
        }
        (ArgData::I64(a), OutData::F32(o)) => {
            o.iter_mut().zip(*a).for_each(|(o, &x)| *o = x as f32)
        }
        (ArgData::F32(a), OutData::F32(o)) => o.copy_from_slice(&a[..o.len()]),
        (ArgData::I64(a), OutData::I64(o)) => o.copy_from_slice(&a[..o.len()]),
    }
    Ok(())
}
