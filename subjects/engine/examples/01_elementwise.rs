//! Learning path, step 1: an element-wise graph, `relu(x * 2 + 1)`.
//!
//! Builds the graph, compiles it for the CPU, runs it on the reference interpreter and on the
//! compiled executable, and checks both against values worked out by hand. Exits non-zero if
//! either disagrees.
//!
//!     cargo run -p engine --example 01_elementwise

use std::process::ExitCode;

use engine::ops::Op;
use engine::{CompileOptions, DType, Data, Graph, Parity, Tensor, dims, reference};

fn main() -> ExitCode {
    match run() {
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

fn run() -> engine::Result<bool> {
    println!("1. build the graph");
    let mut g = Graph::new("relu_affine");
    // `n` is a symbolic dim: the graph runs for any length, bound when it runs.
    let x = g.input("x", DType::F32, dims!["n"])?;
    let two = g.scalar(2.0);
    let one = g.scalar(1.0);
    let y = g.mul(x, two)?;
    let y = g.add(y, one)?;
    let y = g.relu(y)?;
    g.output(y);
    print_nodes(&g);

    println!("2. compile for the CPU (1 thread)");
    let mut exe = engine::compile(
        &g,
        &CompileOptions {
            threads: 1,
            ..Default::default()
        },
    )?;
    print!("{}", indent(&exe.report().to_string()));
    println!("   compiled graph:");
    print_nodes(exe.graph());

    println!("3. execute");
    let inputs = [Tensor::from_f32(&[4], vec![1., -2., 3., -4.])?];
    println!("   {:<31} = {:?}", "x", inputs[0].as_f32()?);
    let by_reference = reference::run(&g, &inputs)?;
    let by_compiled = exe.run(&inputs)?;
    // The reference also runs the compiled graph, fused nodes and all.
    let by_reference_compiled = reference::run(exe.graph(), &inputs)?;
    let results = [
        ("reference", by_reference),
        ("compiled", by_compiled),
        ("reference on the compiled graph", by_reference_compiled),
    ];
    for (who, out) in &results {
        println!("   {who:<31} = {:?}", out[0].as_f32()?);
    }

    println!("4. verify against relu(x * 2 + 1) worked out by hand");
    let expected = [Tensor::from_f32(&[4], vec![3., 0., 7., 0.])?];
    println!("   {:<31} = {:?}", "expected", expected[0].as_f32()?);
    let mut ok = true;
    for (who, actual) in &results {
        let parity = Parity::of(actual, &expected, 1e-6, 1e-6)?;
        let verdict = if parity.ok() { "ok" } else { "MISMATCH" };
        println!(
            "   {who:<31} : {verdict} (max abs err {:e})",
            parity.max_abs_err
        );
        ok &= parity.ok();
    }
    Ok(ok)
}

fn print_nodes(g: &Graph) {
    for (i, node) in g.nodes().iter().enumerate() {
        let args: Vec<String> = node.inputs.iter().map(|v| format!("%{}", v.0)).collect();
        let op = match &node.op {
            Op::Input { name } => format!("input `{name}`"),
            Op::Constant(t) => match t.data() {
                Data::F32(v) if v.len() <= 8 => format!("constant {v:?}"),
                Data::I64(v) if v.len() <= 8 => format!("constant {v:?}"),
                _ => "constant".to_string(),
            },
            op => format!("{}({})", op.name(), args.join(", ")),
        };
        let ty = format!("{} {}", node.dtype, node.shape);
        println!("   %{i:<2} {ty:<18} = {op}");
    }
    let outs: Vec<String> = g.outputs().iter().map(|v| format!("%{}", v.0)).collect();
    println!("   outputs: {}", outs.join(", "));
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}
