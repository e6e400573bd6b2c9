//! The learning-path examples' shared steps: compile a graph, run it on the reference
//! interpreter and on the compiled executable, and check both against values worked out by
//! hand.

#![allow(dead_code)] // each example uses its own subset

use std::path::PathBuf;
use std::process::ExitCode;

use engine::{CompileOptions, Graph, Parity, Tensor, reference};

/// `outputs` (an executable's, on `inputs`) against the reference interpreter running `g`,
/// within `atol` and `rtol`: the check every model example makes.
pub fn against_reference(
    g: &Graph,
    inputs: &[Tensor],
    outputs: &[Tensor],
    atol: f64,
    rtol: f64,
) -> engine::Result<Parity> {
    Parity::of(outputs, &reference::run(g, inputs)?, atol, rtol)
}

/// `ok` or `MISMATCH`, with the largest error: how the examples report a parity.
pub fn verdict(parity: &Parity) -> String {
    let v = if parity.ok() { "ok" } else { "MISMATCH" };
    format!("{v} (max abs err {:.1e})", parity.max_abs_err)
}

/// The target `--device cpu|gpu` names (default `cpu`), with `threads` CPU threads.
pub fn options_for(device: &str, threads: usize) -> Result<CompileOptions, String> {
    match device {
        "cpu" => Ok(CompileOptions::cpu(threads)),
        "gpu" => Ok(CompileOptions::gpu()),
        other => Err(format!("--device {other}: expected `cpu` or `gpu`")),
    }
}

/// The value of `--device` on the command line (`cpu` when absent).
pub fn device_arg() -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--device")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "cpu".into())
}

/// The options every model example (03, 04) takes; each example adds its own.
pub struct ModelArgs {
    pub model_dir: Option<PathBuf>,
    pub json: bool,
    pub threads: usize,
    pub device: String,
    pub texts: Vec<String>,
}

/// Parses the command line into [`ModelArgs`]; `own(flag, value)` handles the example's own
/// flags (`value()` takes the flag's value) and returns `Ok(false)` for one it does not know.
/// On `--help` or an error, prints it with `usage` and returns the exit code (0 or 2).
pub fn model_args(
    usage: &str,
    mut own: impl FnMut(&str, &mut dyn FnMut() -> Result<String, String>) -> Result<bool, String>,
) -> Result<ModelArgs, ExitCode> {
    let mut args = ModelArgs {
        model_dir: None,
        json: false,
        threads: 1,
        device: "cpu".into(),
        texts: Vec::new(),
    };
    let mut parse = || -> Result<(), String> {
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
            match a.as_str() {
                "--model-dir" => args.model_dir = Some(PathBuf::from(value()?)),
                "--json" => args.json = true,
                "--device" => args.device = value()?,
                "--threads" => {
                    args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
                }
                "-h" | "--help" => return Err(String::new()),
                "--" => args.texts.extend(it.by_ref()),
                flag if flag.starts_with("--") => {
                    if !own(flag, &mut value)? {
                        return Err(format!("unknown option {flag}"));
                    }
                }
                _ => args.texts.push(a),
            }
        }
        Ok(())
    };
    match parse() {
        Ok(()) => Ok(args),
        Err(why) => {
            if !why.is_empty() {
                eprintln!("error: {why}");
            }
            eprintln!("{usage}");
            Err(ExitCode::from(if why.is_empty() { 0 } else { 2 }))
        }
    }
}

/// `value` as JSON, f32s in their shortest f32 form (`json!` would widen them to f64 and
/// print digits an f32 does not have).
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Runs an example's `run`, exiting non-zero when verification fails or an error occurs.
pub fn exit_code<E: std::fmt::Display>(outcome: Result<bool, E>) -> ExitCode {
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("verification FAILED");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `text` indented under a step heading.
pub fn print_indented(text: &str) {
    for line in text.lines() {
        println!("   {line}");
    }
}

/// Steps 2-4 of every example: compile `g` for `--device` (one CPU thread, or the GPU),
/// run it on `inputs` three ways (reference, compiled, reference on the optimised graph),
/// and compare each with `expected` within `tol` (absolute and relative). Returns whether
/// all three agree.
pub fn compile_run_verify(
    g: &Graph,
    inputs: &[Tensor],
    expected: Tensor,
    tol: f64,
) -> engine::Result<bool> {
    let device = device_arg();
    let options = options_for(&device, 1).map_err(|why| engine::Error::BadArgument {
        op: "example".into(),
        why,
    })?;
    match device.as_str() {
        "gpu" => println!("2. compile for the GPU"),
        _ => println!("2. compile for the CPU (1 thread)"),
    }
    let mut exe = engine::compile(g, &options)?;
    print_indented(&exe.report().to_string());
    println!("   compiled graph:");
    print_indented(&exe.graph().to_string());

    println!("3. execute");
    println!("   {:<32} = {:?}", "x", inputs[0].as_f32()?);
    let by_reference = reference::run(g, inputs)?;
    let by_compiled = exe.run(inputs)?;
    // The reference also runs the optimised graph, fused nodes and all: if it is right and
    // the executable is not, the kernel is wrong; if both are wrong, a pass is. (Not
    // `exe.graph()`: a backend may keep constants there in its own layout.)
    let (optimised, _) = engine::optimize(g, &options)?;
    let by_reference_optimised = reference::run(&optimised, inputs)?;
    let results = [
        ("reference", by_reference),
        ("compiled", by_compiled),
        ("reference on the optimised graph", by_reference_optimised),
    ];
    for (who, out) in &results {
        println!("   {who:<32} = {:?}", out[0].as_f32()?);
    }

    println!("4. verify against values worked out by hand");
    println!("   {:<32} = {:?}", "expected", expected.as_f32()?);
    let expected = [expected];
    let mut ok = true;
    for (who, actual) in &results {
        let parity = Parity::of(actual, &expected, tol, tol)?;
        let verdict = if parity.ok() { "ok" } else { "MISMATCH" };
        println!(
            "   {who:<32} : {verdict} (max abs err {:e})",
            parity.max_abs_err
        );
        ok &= parity.ok();
    }
    Ok(ok)
}
