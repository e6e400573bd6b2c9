//! Copies along one axis: slices out of a value, and values joined into one.
//!
//! Both see their data as `[outer, axis, inner]`, so every copy is a contiguous run of
//! `len * inner` elements.

use super::{Arg, ArgData, OutData, dtype_error};
use crate::{Error, Result};

/// `out = arg[.., start..start + out_dims[axis], ..]`.
pub fn slice(arg: &Arg, axis: usize, start: usize, out: OutData, out_dims: &[usize]) -> Result<()> {
    arg.require_contiguous("slice")?;
    let (len, take) = (arg.dims[axis], out_dims[axis]);
    if start + take > len {
        // `Graph::concrete_shapes` rejects this first; never read past the axis.
        return Err(Error::BadArgument {
            op: "slice".into(),
            why: format!("end {} is past dim {len} of axis {axis}", start + take),
        });
    }
    let inner: usize = arg.dims[axis + 1..].iter().product();
    let (stride, skip, run) = (len * inner, start * inner, take * inner);
    match (&arg.data, out) {
        (ArgData::F32(s), OutData::F32(d)) => runs(s, d, stride, skip, run),
        (ArgData::I64(s), OutData::I64(d)) => runs(s, d, stride, skip, run),
        _ => return Err(dtype_error("slice")),
    }
    Ok(())
}

/// `dst`'s runs of `run` elements, the `o`-th read from `src[o * stride + skip..]`.
fn runs<T: Copy>(src: &[T], dst: &mut [T], stride: usize, skip: usize, run: usize) {
    if run == 0 {
        return;
    }
    for (o, d) in dst.chunks_exact_mut(run).enumerate() {
        d.copy_from_slice(&src[o * stride + skip..][..run]);
    }
}

/// `out = [args[0] | args[1] | ...]` along `axis`.
pub fn concat(args: &[Arg], axis: usize, out: OutData) -> Result<()> {
    // Each input contributes `run` elements (its `[axis, inner]` block) per outer index.
    let run = |a: &Arg| -> Result<usize> {
        a.require_contiguous("concat")?;
        Ok(a.dims[axis..].iter().product())
    };
    match out {
        OutData::F32(dst) => {
            let srcs = args
                .iter()
                .map(|a| match a.data {
                    ArgData::F32(d) => Ok((d, run(a)?)),
                    ArgData::I64(_) => Err(dtype_error("concat")),
                })
                .collect::<Result<Vec<_>>>()?;
            join(&srcs, dst);
        }
        OutData::I64(dst) => {
            let srcs = args
                .iter()
                .map(|a| match a.data {
                    ArgData::I64(d) => Ok((d, run(a)?)),
                    ArgData::F32(_) => Err(dtype_error("concat")),
                })
                .collect::<Result<Vec<_>>>()?;
            join(&srcs, dst);
        }
    }
    Ok(())
}

fn join<T: Copy>(srcs: &[(&[T], usize)], dst: &mut [T]) {
    let total: usize = srcs.iter().map(|s| s.1).sum();
    if total == 0 {
        return;
    }
    for (o, d) in dst.chunks_exact_mut(total).enumerate() {
        let mut at = 0;
        for &(s, run) in srcs {
            d[at..at + run].copy_from_slice(&s[o * run..][..run]);
            at += run;
        }
    }
}
