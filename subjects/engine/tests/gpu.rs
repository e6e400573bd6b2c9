//! The GPU backend's own behaviour (every op's numbers are checked in the shared op tests):
//! limits, bindings of symbolic dims, profiling and what the report says. Skipped without
//! an adapter, except under `CI=true`.

mod common;

use common::{has_gpu, random, rng};
use engine::{CompileOptions, DType, Graph, Parity, compile, dims, reference};

#[test]
fn a_buffer_beyond_the_adapters_limits_is_a_clear_error() {
    if !has_gpu() {
        return;
    }
    // A 4 GiB intermediate (no host memory needed): more than any adapter binds at once.
    let mut g = Graph::new("too_large");
    let x = g.input("x", DType::F32, dims![1, 1]).unwrap();
    let wide = g.broadcast_to(x, dims![1, 1usize << 30]).unwrap();
    let r = g.relu(wide).unwrap();
    let s = g.reduce_sum(r, &[1], false).unwrap();
    g.output(s);
    let unfused = CompileOptions {
        fuse: false,
        ..CompileOptions::gpu()
    };
    let e = compile(&g, &unfused)
        .err()
        .expect("the graph cannot fit")
        .to_string();
    assert!(e.starts_with("gpu: "), "{e}");
    assert!(e.contains("relu") && e.contains("4294967296 bytes"), "{e}");
    assert!(
        e.contains("more than this adapter binds in one buffer"),
        "{e}"
    );
}

#[test]
fn each_binding_of_a_symbolic_dim_gets_its_own_plan() {
    if !has_gpu() {
        return;
    }
    let mut r = rng(3);
    let mut g = Graph::new("softmax_rows");
    let x = g.input("x", DType::F32, dims!["n", 5]).unwrap();
    let y = g.softmax(x, -1).unwrap();
    g.output(y);
    let mut exe = compile(&g, &CompileOptions::gpu()).unwrap();
    for n in [3, 70, 3] {
        let input = [random(&mut r, &[n, 5], (-4.0, 4.0))];
        let got = exe.run(&input).unwrap();
        let want = reference::run(&g, &input).unwrap();
        assert!(Parity::of(&got, &want, 1e-6, 1e-5).unwrap().ok(), "n = {n}");
    }
    assert_eq!(
        exe.report().plans,
        2,
        "3 and 70; the second 3 reuses its plan"
    );
}

/// Device memory counts the constants at compile time and each binding's buffers once it
/// is prepared: a 64x64 weight (16 KiB) first, then at least the arena and the 64 x n
/// input and output on top, growing with each new binding and not with a repeated one.
#[test]
fn device_memory_counts_weights_then_each_bindings_buffers() {
    if !has_gpu() {
        return;
    }
    let mut r = rng(5);
    let mut g = Graph::new("matmul_softmax");
    let x = g.input("x", DType::F32, dims!["n", 64]).unwrap();
    let w = g.constant(random(&mut r, &[64, 64], (-1.0, 1.0)));
    let y = g.matmul(x, w).unwrap();
    let y = g.softmax(y, -1).unwrap();
    g.output(y);
    let mut exe = compile(&g, &CompileOptions::gpu()).unwrap();
    let weights = 64 * 64 * 4;
    assert_eq!(exe.device_memory_bytes(), Some(weights));
    let mut seen = Vec::new();
    for n in [8, 8, 32] {
        exe.run(&[random(&mut r, &[n, 64], (-1.0, 1.0))]).unwrap();
        seen.push(exe.device_memory_bytes().unwrap());
    }
    // n = 8: the input and output (2 KiB each) and the matmul's result in the arena.
    assert!(seen[0] >= weights + 3 * 8 * 64 * 4, "{seen:?}");
    assert_eq!(seen[1], seen[0], "a repeated binding allocates nothing");
    assert!(seen[2] >= seen[1] + 3 * 32 * 64 * 4, "{seen:?}");
    assert_eq!(
        engine::compile(&g, &CompileOptions::cpu(1))
            .unwrap()
            .device_memory_bytes(),
        None
    );
}

#[test]
fn profiled_runs_time_every_computing_node() {
    if !has_gpu() {
        return;
    }
    let mut r = rng(4);
    let mut g = Graph::new("two_nodes");
    let x = g.input("x", DType::F32, dims![64, 64]).unwrap();
    let w = g.constant(random(&mut r, &[64, 64], (-1.0, 1.0)));
    let y = g.matmul(x, w).unwrap();
    let y = g.softmax(y, -1).unwrap();
    g.output(y);
    let mut exe = compile(&g, &CompileOptions::gpu()).unwrap();
    let input = [random(&mut r, &[64, 64], (-1.0, 1.0))];
    let (out, times) = exe.run_profiled(&input).unwrap();
    assert_eq!(out, exe.run(&input).unwrap());
    let timed = times.iter().filter(|t| !t.is_zero()).count();
    assert_eq!(timed, 2, "matmul and softmax: {times:?}");
}

#[test]
fn the_report_names_the_adapter() {
    if !has_gpu() {
        return;
    }
    let mut g = Graph::new("neg");
    let x = g.input("x", DType::F32, dims![4]).unwrap();
    let y = g.neg(x).unwrap();
    g.output(y);
    let exe = compile(&g, &CompileOptions::gpu()).unwrap();
    let r = exe.report().target.gpu().expect("compiled for the GPU");
    assert!(!r.adapter.name.is_empty());
    assert!(r.bounds_checks);
    assert_eq!(r.pipelines, 1);
    let text = exe.report().to_string();
    assert!(text.contains(&format!("gpu: {}", r.adapter.name)), "{text}");
    assert!(engine::gpu::adapters().contains(&r.adapter));
}

#[test]
fn device_time_comes_from_timestamps_and_never_exceeds_the_host_time() {
    let mut r = rng(5);
    let mut g = Graph::new("matmul");
    let x = g.input("x", DType::F32, dims![128, 128]).unwrap();
    let w = g.constant(random(&mut r, &[128, 128], (-1.0, 1.0)));
    let y = g.matmul(x, w).unwrap();
    g.output(y);
    let input = [random(&mut r, &[128, 128], (-1.0, 1.0))];
    let mut cpu = compile(&g, &CompileOptions::cpu(1)).unwrap();
    cpu.run(&input).unwrap();
    assert_eq!(cpu.device_time(), None, "the CPU has no device clock");
    if !has_gpu() {
        return;
    }
    let mut exe = compile(&g, &CompileOptions::gpu()).unwrap();
    assert_eq!(exe.device_time(), None, "nothing ran yet");
    let start = std::time::Instant::now();
    exe.run(&input).unwrap();
    let host = start.elapsed();
    match exe.device_time() {
        Some(t) => assert!(!t.is_zero() && t <= host, "{t:?} vs host {host:?}"),
        // Adapters without timestamp queries say so instead of reporting zero.
        None => eprintln!("no timestamps on this adapter"),
    }
    // lavapipe writes timestamps: there the value must be present.
    if exe
        .report()
        .target
        .gpu()
        .unwrap()
        .adapter
        .name
        .contains("llvmpipe")
    {
        assert!(exe.device_time().is_some());
    }
}

/// A reduction over more elements than one GPU invocation may loop over (lavapipe stopped a
/// single thread's loop at 65 535 iterations: a sum of 66 049 ones gave 65 535).
#[test]
fn reductions_over_more_than_65535_elements() {
    let mut g = Graph::new("sum_all");
    let x = g.input("x", DType::F32, dims![300, 300]).unwrap();
    let y = g.reduce_sum(x, &[0, 1], false).unwrap();
    g.output(y);
    let ones = engine::Tensor::from_f32(&[300, 300], vec![1.0; 90_000]).unwrap();
    common::check(&g, &[ones]).unwrap();
}

/// f32 -> i64 beyond the i32 range and at the i64 limits, as the CPU's `as i64` does.
#[test]
fn casts_to_i64_beyond_32_bits_saturate_like_the_cpu() {
    let mut g = Graph::new("cast_wide");
    let x = g.input("x", DType::F32, dims![8]).unwrap();
    let y = g.cast(x, DType::I64).unwrap();
    g.output(y);
    let values = vec![
        3.0e9,
        -3.0e9,
        1.0e19,
        -1.0e19,
        2.5,
        -2.5,
        6.0e15,
        -2147483648.0,
    ];
    let input = [engine::Tensor::from_f32(&[8], values.clone()).unwrap()];
    common::check(&g, &input).unwrap();
    let want: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    if has_gpu() {
        let got = compile(&g, &CompileOptions::gpu())
            .unwrap()
            .run(&input)
            .unwrap();
        assert_eq!(got[0].as_i64().unwrap(), want.as_slice());
    }
}
