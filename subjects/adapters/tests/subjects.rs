//! What is particular to each subject: the version it reports, and how it takes a thread
//! count. (The op suite, models.rs and lowering.rs cover what every runtime shares.)

mod common;

use common::graph;
use engine::Tensor;

#[test]
fn versions_name_the_runtime_release() {
    for (name, prefix) in [
        ("engine-cpu", "engine 0.1."),
        ("candle", "candle-core 0.11."),
        ("onnxruntime", "onnxruntime 1."),
        ("torch", "libtorch 2.11."),
    ] {
        let Some(s) = common::subject(name) else {
            continue;
        };
        assert!(s.version().starts_with(prefix), "{name}: {}", s.version());
        assert!(!s.threading().is_empty(), "{name}");
    }
}

/// candle fixes its thread pools at first use in a process: a load for another count is
/// refused rather than silently run with the wrong number of threads.
#[test]
fn candle_refuses_a_second_thread_count_in_one_process() {
    let candle = common::subject("candle").expect("candle is always built in");
    let x = Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap();
    let g = graph("relu", &[("x", &x)], |g, v| g.relu(v[0]));
    candle.load(&g, 1).unwrap();
    // What gemm and candle's pools read.
    assert_eq!(candle_core::utils::get_num_threads(), 1);
    let e = candle.load(&g, 3).err().expect("a second thread count");
    assert!(format!("{e:#}").contains("thread"), "{e:#}");
}

/// All cores (0) and explicit counts load and run on the runtimes that take a count per
/// session.
#[test]
fn thread_counts_per_session() {
    let x = Tensor::from_f32(&[3], vec![-1., 0., 2.]).unwrap();
    let g = graph("relu", &[("x", &x)], |g, v| g.relu(v[0]));
    for name in ["engine-cpu", "onnxruntime"] {
        let Some(subject) = common::subject(name) else {
            continue;
        };
        for threads in [0, 1, 2] {
            let out = subject
                .load(&g, threads)
                .unwrap()
                .run(std::slice::from_ref(&x))
                .unwrap();
            assert_eq!(
                out[0].as_f32().unwrap(),
                &[0., 0., 2.],
                "{name}, {threads} threads"
            );
        }
    }
}
