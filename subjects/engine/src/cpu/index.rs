//! Index-driven ops: embedding lookups (gather) and position ids (arange).

use super::{Arg, ArgData, OutData, dtype_error};
use crate::{Error, Result};

/// `out[p] = table[indices[p]]`, one row copy per index; an index outside the table is an
/// error (the check costs one compare per row).
pub fn gather(table: &Arg, indices: &Arg, out: OutData) -> Result<()> {
    table.require_contiguous("gather")?;
    indices.require_contiguous("gather")?;
    let ArgData::I64(idx) = indices.data else {
        return Err(dtype_error("gather"));
    };
    let idx = &idx[..indices.dims.iter().product()];
    let rows = table.dims[0];
    let row: usize = table.dims[1..].iter().product();
    match (&table.data, out) {
        (ArgData::F32(t), OutData::F32(o)) => copy_rows(t, idx, rows, row, o),
        (ArgData::I64(t), OutData::I64(o)) => copy_rows(t, idx, rows, row, o),
        _ => Err(dtype_error("gather")),
    }
}

fn copy_rows<T: Copy>(
    table: &[T],
    idx: &[i64],
    rows: usize,
    row: usize,
    out: &mut [T],
) -> Result<()> {
    for (p, &i) in idx.iter().enumerate() {
        if i < 0 || i as u64 >= rows as u64 {
            return Err(Error::BadArgument {
                op: "gather".into(),
                why: format!(
                    "index {i} at position {p} is out of range for a table of {rows} rows"
                ),
            });
        }
        let r = i as usize;
        out[p * row..(p + 1) * row].copy_from_slice(&table[r * row..(r + 1) * row]);
    }
    Ok(())
}

/// `out[i] = i`.
pub fn arange(out: OutData) -> Result<()> {
    match out {
        OutData::F32(o) => o.iter_mut().enumerate().for_each(|(i, v)| *v = i as f32),
        OutData::I64(o) => o.iter_mut().enumerate().for_each(|(i, v)| *v = i as i64),
    }
    Ok(())
}
