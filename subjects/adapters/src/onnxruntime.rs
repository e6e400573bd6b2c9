//! `onnxruntime`: the graph exported to ONNX by the engine (`engine::onnx`) and run by ONNX
//! Runtime through the `ort` crate.
//!
//! ONNX Runtime is loaded at run time (`ort`'s `load-dynamic`), so the default build has no
//! link-time dependency. The library is `$ORT_DYLIB_PATH`, else `.venv/onnxruntime.so` (the
//! link `scripts/setup-baselines` makes) in the current directory or one of its ancestors, or
//! in the project this crate was built from. Without it `ort` would panic at the first
//! session, so the file is checked first and the subject reports itself unavailable.
//!
//! Sessions run at the highest graph optimisation level (ORT's BERT fusions included), with
//! weight prepacking on, `threads` intra-op threads, one inter-op thread, and intra-op
//! spinning off, so idle pool threads do not steal time from whatever runs next.

use std::borrow::Cow;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};
use engine::{DType, Data, Graph, Tensor};
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session as OrtSession, SessionInputValue};
use ort::value::TensorRef;

use crate::{Availability, Session, Subject};

const FIX: &str = "scripts/setup-baselines";

pub struct OnnxRuntime;

/// The loaded library and the one ONNX Runtime environment of this process.
struct Runtime {
    env: Environment,
    version: String,
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// Where the ONNX Runtime library is, or why it was not found.
fn library_path() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "ORT_DYLIB_PATH is `{}`, which is not a file",
                p.display()
            ))
        };
    }
    let rel = Path::new(".venv").join("onnxruntime.so");
    let cwd = std::env::current_dir().ok();
    let starts = cwd
        .iter()
        .map(PathBuf::as_path)
        .chain([Path::new(env!("CARGO_MANIFEST_DIR"))]);
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join(&rel);
            // `is_file` follows the link, so a dangling link counts as missing.
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!(
        "the ONNX Runtime library was not found (no ORT_DYLIB_PATH, and no {} in the \
         current directory, the crate's directory or their ancestors)",
        rel.display()
    ))
}

/// The version from the library file name (`libonnxruntime.so.1.31.1` behind the link).
fn version_from_path(path: &Path) -> Option<String> {
    let real = std::fs::canonicalize(path).ok()?;
    let name = real.file_name()?.to_str()?;
    let version = name.split(".so.").nth(1).or_else(|| {
        // macOS: libonnxruntime.1.31.1.dylib
        name.strip_prefix("libonnxruntime.")?.strip_suffix(".dylib")
    })?;
    version
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit())
        .then(|| version.to_string())
}

/// The version from ORT's build information (`git-branch=rel-1.31.1, ...`).
fn version_from_build_info(info: &str) -> Option<String> {
    let branch = info.split("git-branch=").nth(1)?;
    let branch = branch.split([',', ' ']).next()?;
    let version = branch.strip_prefix("rel-")?;
    Some(version.to_string())
}

fn load_runtime() -> Result<Runtime, String> {
    let path = library_path()?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let builder = ort::init_from(&path)
        .map_err(|e| format!("loading ONNX Runtime from {}: {e}", path.display()))?;
    let env = builder
        .with_name("graphbench")
        .build()
        .map_err(|e| format!("creating the ONNX Runtime environment: {e}"))?;
    let version = version_from_build_info(ort::info())
        .or_else(|| version_from_path(&path))
        .unwrap_or_else(|| "unknown version".into());
    Ok(Runtime { env, version })
}

fn runtime() -> Result<&'static Runtime, String> {
    RUNTIME
        .get_or_init(load_runtime)
        .as_ref()
        .map_err(Clone::clone)
}

fn ort_err<E: Display>(what: &'static str) -> impl FnOnce(E) -> anyhow::Error {
    move |e| anyhow!("onnxruntime: {what}: {e}")
}

impl Subject for OnnxRuntime {
    fn name(&self) -> &str {
        "onnxruntime"
    }
    fn description(&self) -> &str {
        "ONNX Runtime (CPU) on the graph exported to ONNX by the engine"
    }
    fn threading(&self) -> &str {
        "N intra-op threads, 1 inter-op thread, intra-op spinning off"
    }
    fn version(&self) -> String {
        match runtime() {
            Ok(rt) => format!("onnxruntime {} (ort {})", rt.version, ort_crate_version()),
            Err(_) => format!("onnxruntime (not loaded; ort {})", ort_crate_version()),
        }
    }
    fn availability(&self) -> Availability {
        match runtime() {
            Ok(_) => Availability::Available,
            Err(reason) => Availability::Unavailable {
                reason,
                fix: FIX.into(),
            },
        }
    }
    fn load(&self, graph: &Graph, threads: usize) -> Result<Box<dyn Session>> {
        let rt = runtime()
            .map_err(|reason| anyhow!("onnxruntime is unavailable: {reason} (fix: {FIX})"))?;
        let model = engine::onnx::export(graph).context("exporting the graph to ONNX")?;
        let threads = crate::resolve_threads(threads);
        let mut builder = OrtSession::builder(&rt.env)
            .map_err(ort_err("session options"))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(ort_err("optimisation level"))?
            .with_intra_threads(threads)
            .map_err(ort_err("intra-op threads"))?
            .with_inter_threads(1)
            .map_err(ort_err("inter-op threads"))?
            .with_intra_op_spinning(false)
            .map_err(ort_err("intra-op spinning"))?
            .with_prepacking(true)
            .map_err(ort_err("prepacking"))?;
        let session = builder
            .commit_from_memory(&model)
            .map_err(ort_err("creating the session from the exported model"))?;

        let inputs: Vec<(String, DType)> = graph
            .inputs()
            .iter()
            .map(|&v| (graph.input_name(v).to_string(), graph.dtype(v)))
            .collect();
        let outputs: Vec<(String, DType)> = engine::onnx::output_names(graph)
            .into_iter()
            .zip(graph.outputs().iter().map(|&v| graph.dtype(v)))
            .collect();
        for (name, _) in &inputs {
            if !session.inputs().iter().any(|i| i.name() == name) {
                bail!("onnxruntime: the exported model has no input `{name}`");
            }
        }
        Ok(Box::new(OrtRun {
            session,
            inputs,
            outputs,
        }))
    }
}

fn ort_crate_version() -> &'static str {
    "2.0.0-rc.15"
}

struct OrtRun {
    session: OrtSession,
    /// Graph inputs in declaration order: the ONNX input names and dtypes.
    inputs: Vec<(String, DType)>,
    outputs: Vec<(String, DType)>,
}

impl Session for OrtRun {
    fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        if inputs.len() != self.inputs.len() {
            bail!(
                "onnxruntime: expected {} inputs, got {}",
                self.inputs.len(),
                inputs.len()
            );
        }
        let mut feeds: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            Vec::with_capacity(inputs.len());
        for ((name, dtype), t) in self.inputs.iter().zip(inputs) {
            if t.dtype() != *dtype {
                bail!(
                    "onnxruntime: input `{name}` is {}, expected {dtype}",
                    t.dtype()
                );
            }
            let dims = t.dims().to_vec();
            // Borrowed: ORT reads the engine tensor's memory in place.
            let value: SessionInputValue<'_> = match t.data() {
                Data::F32(v) => TensorRef::from_array_view((dims, v.as_slice()))
                    .map_err(ort_err("input tensor"))?
                    .into(),
                Data::I64(v) => TensorRef::from_array_view((dims, v.as_slice()))
                    .map_err(ort_err("input tensor"))?
                    .into(),
            };
            feeds.push((Cow::Borrowed(name.as_str()), value));
        }
        let results = self.session.run(feeds).map_err(ort_err("run"))?;
        let mut out = Vec::with_capacity(self.outputs.len());
        for (name, dtype) in &self.outputs {
            let value = results
                .get(name)
                .ok_or_else(|| anyhow!("onnxruntime: no output `{name}`"))?;
            let tensor = match dtype {
                DType::F32 => {
                    let (shape, data) = value
                        .try_extract_tensor::<f32>()
                        .map_err(ort_err("f32 output"))?;
                    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                    Tensor::from_f32(&dims, data.to_vec())?
                }
                DType::I64 => {
                    let (shape, data) = value
                        .try_extract_tensor::<i64>()
                        .map_err(ort_err("i64 output"))?;
                    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                    Tensor::from_i64(&dims, data.to_vec())?
                }
            };
            out.push(tensor);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_build_info_and_file_names() {
        let info = "ORT Build Info: git-branch=rel-1.31.1, git-commit-id=abc, build type=Release";
        assert_eq!(version_from_build_info(info).as_deref(), Some("1.31.1"));
        assert_eq!(version_from_build_info("no branch here"), None);
        let dir = std::env::temp_dir().join(format!("gb-ort-version-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lib = dir.join("libonnxruntime.so.1.31.1");
        std::fs::write(&lib, b"").unwrap();
        assert_eq!(version_from_path(&lib).as_deref(), Some("1.31.1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
