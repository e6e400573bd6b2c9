//! Named f32 weight tensors: from a safetensors file, or synthetic from a seed.
//!
//! A model asks for each tensor by its HuggingFace name and expected shape; a file answers
//! with the stored tensor (f16, bf16 and f64 converted to f32) or an error naming the tensor,
//! the shapes and the file; a synthetic source answers with deterministic values drawn from
//! the seed and the tensor's name, initialised the way HuggingFace initialises fresh models
//! (normal with std 0.02 for matrices and embeddings, zero biases, LayerNorm gamma 1 beta 0).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Metadata, TensorInfo};
use safetensors::{Dtype, SafeTensors};

use super::{ModelError, Result};
use crate::nn::{Embedding, LayerNorm, Linear};
use crate::{Graph, Tensor};

/// How a synthetic tensor is initialised (ignored for tensors read from a file).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Normal with mean 0 (HuggingFace's `initializer_range`, 0.02 for BERT-family models).
    Normal {
        std: f32,
    },
    /// Uniform in `[-bound, bound]` (PyTorch's default for `nn.Linear`: `1/sqrt(fan_in)`).
    Uniform {
        bound: f32,
    },
    Zeros,
    Ones,
}

impl Init {
    /// HuggingFace's initialisation of BERT-family weight matrices and embeddings.
    pub const HF: Init = Init::Normal { std: 0.02 };
}

/// A source of named weight tensors.
pub struct Weights {
    source: Source,
    /// Names handed out so far (to list what a checkpoint holds that the model never read).
    used: Mutex<BTreeSet<String>>,
}

enum Source {
    File {
        path: PathBuf,
        bytes: Vec<u8>,
        /// Offset of the data section (after the 8-byte length and the JSON header).
        data_start: usize,
        metadata: Metadata,
    },
    Synthetic {
        seed: u64,
    },
}

impl Weights {
    /// Reads a `.safetensors` file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (header_len, metadata) =
            SafeTensors::read_metadata(&bytes).map_err(|e| ModelError::Safetensors {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
        Ok(Weights {
            source: Source::File {
                path: path.to_path_buf(),
                bytes,
                data_start: 8 + header_len,
                metadata,
            },
            used: Mutex::new(BTreeSet::new()),
        })
    }

    /// Deterministic synthetic weights: the same seed, name and shape give the same tensor.
    pub fn synthetic(seed: u64) -> Self {
        Weights {
            source: Source::Synthetic { seed },
            used: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn is_synthetic(&self) -> bool {
        matches!(self.source, Source::Synthetic { .. })
    }

    /// The file path, or `synthetic (seed N)`.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::File { path, .. } => path.display().to_string(),
            Source::Synthetic { seed } => format!("synthetic (seed {seed})"),
        }
    }

    /// Whether the source holds `name` (a synthetic source holds every name).
    pub fn contains(&self, name: &str) -> bool {
        match &self.source {
            Source::File { metadata, .. } => metadata.info(name).is_some(),
            Source::Synthetic { .. } => true,
        }
    }

    /// The names of the tensors in the file, sorted (empty for a synthetic source).
    pub fn names(&self) -> Vec<String> {
        match &self.source {
            Source::File { metadata, .. } => {
                let mut names: Vec<String> = metadata.tensors().into_keys().collect();
                names.sort();
                names
            }
            Source::Synthetic { .. } => Vec::new(),
        }
    }

    /// The file's tensors that no call has asked for yet (sorted).
    pub fn unused(&self) -> Vec<String> {
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        self.names()
            .into_iter()
            .filter(|n| !used.contains(n))
            .collect()
    }

    /// The tensor `name`, which must have shape `shape`, as f32.
    pub fn tensor(&self, name: &str, shape: &[usize], init: Init) -> Result<Tensor> {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string());
        match &self.source {
            Source::File {
                path,
                bytes,
                data_start,
                metadata,
            } => {
                let file = || path.display().to_string();
                let info = metadata
                    .info(name)
                    .ok_or_else(|| ModelError::MissingTensor {
                        name: name.into(),
                        file: file(),
                    })?;
                if info.shape != shape {
                    return Err(ModelError::TensorShape {
                        name: name.into(),
                        expected: shape.to_vec(),
                        found: info.shape.clone(),
                        file: file(),
                    });
                }
                let values =
                    to_f32(info, &bytes[*data_start..]).ok_or_else(|| ModelError::TensorDType {
                        name: name.into(),
                        dtype: info.dtype.to_string(),
                        file: file(),
                    })?;
                Ok(Tensor::from_f32(shape, values)?)
            }
            Source::Synthetic { seed } => Ok(Tensor::from_f32(
                shape,
                synthesize(*seed, name, shape.iter().product(), init),
            )?),
        }
    }

    /// A `Linear` from `{prefix}.weight` `[out, in]` and `{prefix}.bias` `[out]`.
    pub fn linear(
        &self,
        g: &mut Graph,
        prefix: &str,
        in_features: usize,
        out_features: usize,
    ) -> Result<Linear> {
        self.linear_with(
            g,
            prefix,
            [in_features, out_features],
            Init::HF,
            Init::Zeros,
        )
    }

    /// A `Linear` initialised, when synthetic, the way PyTorch initialises `nn.Linear`:
    /// weight and bias uniform in `[-1/sqrt(in), 1/sqrt(in)]`.
    pub fn linear_pytorch_init(
        &self,
        g: &mut Graph,
        prefix: &str,
        in_features: usize,
        out_features: usize,
    ) -> Result<Linear> {
        let init = Init::Uniform {
            bound: 1.0 / (in_features as f32).sqrt(),
        };
        self.linear_with(g, prefix, [in_features, out_features], init, init)
    }

    fn linear_with(
        &self,
        g: &mut Graph,
        prefix: &str,
        [in_features, out_features]: [usize; 2],
        weight_init: Init,
        bias_init: Init,
    ) -> Result<Linear> {
        let w = self.tensor(
            &format!("{prefix}.weight"),
            &[out_features, in_features],
            weight_init,
        )?;
        let b = self.tensor(&format!("{prefix}.bias"), &[out_features], bias_init)?;
        Ok(Linear::new(g, w, Some(b)))
    }

    /// A `LayerNorm` from `{prefix}.weight` and `{prefix}.bias` (`[dim]` each), or the
    /// `{prefix}.gamma` / `{prefix}.beta` names of older BERT checkpoints.
    pub fn layer_norm(
        &self,
        g: &mut Graph,
        prefix: &str,
        dim: usize,
        eps: f32,
    ) -> Result<LayerNorm> {
        let (w, b) = if !self.contains(&format!("{prefix}.weight"))
            && self.contains(&format!("{prefix}.gamma"))
        {
            ("gamma", "beta")
        } else {
            ("weight", "bias")
        };
        let gamma = self.tensor(&format!("{prefix}.{w}"), &[dim], Init::Ones)?;
        let beta = self.tensor(&format!("{prefix}.{b}"), &[dim], Init::Zeros)?;
        Ok(LayerNorm::new(g, gamma, beta, eps))
    }

    /// An `Embedding` from the table `name` `[rows, dim]`.
    pub fn embedding(
        &self,
        g: &mut Graph,
        name: &str,
        rows: usize,
        dim: usize,
    ) -> Result<Embedding> {
        Ok(Embedding::new(
            g,
            self.tensor(name, &[rows, dim], Init::HF)?,
        ))
    }
}

/// The elements of one stored tensor as f32, or `None` for a dtype that is not a float.
fn to_f32(info: &TensorInfo, data: &[u8]) -> Option<Vec<f32>> {
    let bytes = &data[info.data_offsets.0..info.data_offsets.1];
    let values = match info.dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|c| bf16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")) as f32)
            .collect(),
        _ => return None,
    };
    Some(values)
}

/// IEEE 754 half precision to f32 (exact: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if man == 0 => sign,
        0 => {
            // Subnormal: man * 2^-24. Shift the leading 1 up to the implicit-bit position,
            // lowering the exponent by one per shift.
            let shift = man.leading_zeros() - 21; // leading 1 to bit 10
            let man = (man << shift) & 0x3ff;
            let exp = 127 - 15 + 1 - shift;
            sign | (exp << 23) | (man << 13)
        }
        0x1f => sign | 0x7f80_0000 | (man << 13), // inf, NaN (payload kept)
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 to f32: bfloat16 is the upper half of an f32.
pub fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

fn synthesize(seed: u64, name: &str, n: usize, init: Init) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ crate::hash::fnv1a(name.as_bytes()));
    match init {
        Init::Zeros => vec![0.0; n],
        Init::Ones => vec![1.0; n],
        Init::Uniform { bound } => (0..n)
            .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * bound)
            .collect(),
        Init::Normal { std } => {
            // Box-Muller: two independent standard normals from two uniforms.
            let mut out = Vec::with_capacity(n + 1);
            while out.len() < n {
                let u1 = 1.0 - rng.random::<f64>(); // (0, 1], so ln is finite
                let u2 = rng.random::<f64>();
                let r = (-2.0 * u1.ln()).sqrt();
                let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
                out.push((r * c) as f32 * std);
                out.push((r * s) as f32 * std);
            }
            out.truncate(n);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert!(f16_to_f32(0x8000).is_sign_negative());
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0400), 6.103_515_6e-5); // smallest normal, 2^-14
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal, 2^-24
        assert_eq!(f16_to_f32(0x03ff), 6.097_555e-5); // largest subnormal
        assert_eq!(f16_to_f32(0x8200), -3.051_757_8e-5); // -2^-15
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn bf16_values() {
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc049), -3.140625);
        assert_eq!(bf16_to_f32(0x7f80), f32::INFINITY);
    }

    #[test]
    fn synthetic_is_deterministic_and_hf_like() {
        let w = Weights::synthetic(7);
        let a = w.tensor("x.weight", &[100, 100], Init::HF).unwrap();
        let b = Weights::synthetic(7)
            .tensor("x.weight", &[100, 100], Init::HF)
            .unwrap();
        assert_eq!(a, b);
        let c = w.tensor("y.weight", &[100, 100], Init::HF).unwrap();
        assert_ne!(a, c);
        let v = a.as_f32().unwrap();
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let std =
            (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        assert!(
            mean.abs() < 0.001 && (std - 0.02).abs() < 0.001,
            "{mean} {std}"
        );
        let ones = w.tensor("ln.weight", &[3], Init::Ones).unwrap();
        assert_eq!(ones.as_f32().unwrap(), &[1.0; 3]);
        assert!(w.is_synthetic());
        assert_eq!(w.describe(), "synthetic (seed 7)");
    }
}
