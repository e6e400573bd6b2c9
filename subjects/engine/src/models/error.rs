//! Errors of loading and building models: each names the file, field or tensor at fault.

use std::path::PathBuf;

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A configuration file that does not parse or lacks or mistypes a field.
    #[error("{file}: {why}")]
    Config { file: String, why: String },
    #[error("{}: not a valid safetensors file: {why}", path.display())]
    Safetensors { path: PathBuf, why: String },
    #[error("{file}: tensor `{name}` is missing")]
    MissingTensor { name: String, file: String },
    #[error("{file}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    TensorShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
        file: String,
    },
    #[error("{file}: tensor `{name}` has dtype {dtype}, which cannot be read as f32")]
    TensorDType {
        name: String,
        dtype: String,
        file: String,
    },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error(transparent)]
    Engine(#[from] crate::Error),
}
