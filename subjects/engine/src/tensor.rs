//! Host tensors: what executables take and return.

use crate::{DType, Error, Result, Shape};

/// Element storage of a host tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A dense, row-major host tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    dims: Vec<usize>,
    data: Data,
}

impl Tensor {
    pub fn new(dims: &[usize], data: Data) -> Result<Self> {
        let numel: usize = dims.iter().product();
        let len = match &data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        };
        if numel != len {
            return Err(Error::Tensor(format!(
                "shape {dims:?} holds {numel} elements but {len} were given"
            )));
        }
        Ok(Tensor {
            dims: dims.to_vec(),
            data,
        })
    }

    pub fn from_f32(dims: &[usize], values: Vec<f32>) -> Result<Self> {
        Tensor::new(dims, Data::F32(values))
    }

    pub fn from_i64(dims: &[usize], values: Vec<i64>) -> Result<Self> {
        Tensor::new(dims, Data::I64(values))
    }

    pub fn scalar_f32(value: f32) -> Self {
        Tensor {
            dims: Vec::new(),
            data: Data::F32(vec![value]),
        }
    }

    pub fn zeros(dtype: DType, dims: &[usize]) -> Self {
        let n = dims.iter().product();
        let data = match dtype {
            DType::F32 => Data::F32(vec![0.0; n]),
            DType::I64 => Data::I64(vec![0; n]),
        };
        Tensor {
            dims: dims.to_vec(),
            data,
        }
    }

    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    pub fn shape(&self) -> Shape {
        Shape::from_static(&self.dims)
    }

    pub fn numel(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn dtype(&self) -> DType {
        match self.data {
            Data::F32(_) => DType::F32,
            Data::I64(_) => DType::I64,
        }
    }

    pub fn data(&self) -> &Data {
        &self.data
    }

    pub fn into_data(self) -> Data {
        self.data
    }

    pub fn as_f32(&self) -> Result<&[f32]> {
        match &self.data {
            Data::F32(v) => Ok(v),
            Data::I64(_) => Err(Error::Tensor("expected an f32 tensor, got i64".into())),
        }
    }

    pub fn as_i64(&self) -> Result<&[i64]> {
        match &self.data {
            Data::I64(v) => Ok(v),
            Data::F32(_) => Err(Error::Tensor("expected an i64 tensor, got f32".into())),
        }
    }

    /// The elements as f64, whatever the dtype (for comparisons and the reference interpreter).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            Data::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Data::I64(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// Same elements, new dims of equal element count.
    pub fn reshaped(mut self, dims: &[usize]) -> Result<Self> {
        if dims.iter().product::<usize>() != self.numel() {
            return Err(Error::Tensor(format!(
                "cannot reshape {:?} to {dims:?}",
                self.dims
            )));
        }
        self.dims = dims.to_vec();
        Ok(self)
    }
}

/// Element-wise closeness of `actual` to `expected`, the way numpy's `allclose` defines it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Parity {
    /// Largest |actual - expected|.
    pub max_abs_err: f64,
    /// Largest |actual - expected| / |expected| over elements with expected != 0.
    pub max_rel_err: f64,
    /// Elements with |actual - expected| > atol + rtol * |expected| (NaN counts as a mismatch).
    pub mismatches: usize,
}

impl Parity {
    pub fn ok(&self) -> bool {
        self.mismatches == 0
    }

    /// Compares two tensor lists; shape or dtype differences are errors, not parity values.
    pub fn of(actual: &[Tensor], expected: &[Tensor], atol: f64, rtol: f64) -> Result<Parity> {
        if actual.len() != expected.len() {
            return Err(Error::Tensor(format!(
                "expected {} outputs, got {}",
                expected.len(),
                actual.len()
            )));
        }
        let mut parity = Parity::default();
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            if a.dims() != e.dims() {
                return Err(Error::Tensor(format!(
                    "output {i}: expected shape {:?}, got {:?}",
                    e.dims(),
                    a.dims()
                )));
            }
            for (x, y) in a.to_f64_vec().into_iter().zip(e.to_f64_vec()) {
                let abs = (x - y).abs();
                // Written so that a NaN is never within tolerance.
                let within = abs <= atol + rtol * y.abs();
                if !within {
                    parity.mismatches += 1;
                }
                if abs.is_nan() {
                    parity.max_abs_err = f64::NAN;
                    parity.max_rel_err = f64::NAN;
                    continue;
                }
                parity.max_abs_err = parity.max_abs_err.max(abs);
                if y != 0.0 {
                    parity.max_rel_err = parity.max_rel_err.max(abs / y.abs());
                }
            }
        }
        Ok(parity)
    }
}
