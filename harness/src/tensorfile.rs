//! Reference outputs handed from the parent to workers, as a safetensors file of named
//! tensors (`output.0`, `output.1`, ... and `validation.0`, ... for labelled texts).

use std::path::Path;

use anyhow::{Context, Result, bail};
use engine::{Data, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

pub fn write(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let bytes: Vec<(String, Vec<u8>, Dtype, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| {
            let (dtype, raw) = match t.data() {
                Data::F32(v) => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                Data::I64(v) => (Dtype::I64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            };
            (name.clone(), raw, dtype, t.dims().to_vec())
        })
        .collect();
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(name, raw, dtype, dims)| {
            Ok((name.clone(), TensorView::new(*dtype, dims.clone(), raw)?))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize_to_file(views, None, path)
        .with_context(|| format!("writing {}", path.display()))
}

/// The tensors `{prefix}.0`, `{prefix}.1`, ... in order.
pub fn read(path: &Path, prefix: &str) -> Result<Vec<Tensor>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file =
        SafeTensors::deserialize(&bytes).with_context(|| format!("parsing {}", path.display()))?;
    let mut out = Vec::with_capacity(file.len());
    for i in 0.. {
        let name = format!("{prefix}.{i}");
        let Ok(view) = file.tensor(&name) else { break };
        let raw = view.data();
        let tensor = match view.dtype() {
            Dtype::F32 => Tensor::from_f32(
                view.shape(),
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            )?,
            Dtype::I64 => Tensor::from_i64(
                view.shape(),
                raw.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            )?,
            other => bail!(
                "{}: tensor `{name}` has dtype {other:?}, expected F32 or I64",
                path.display()
            ),
        };
        out.push(tensor);
    }
    Ok(out)
}
