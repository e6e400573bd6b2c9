//! What every adapter test needs: a subject that must be available under CI, deterministic
//! inputs, one-output graphs from named tensors, and runs checked against the reference.

#![allow(dead_code)]

use engine::models::DistilBertConfig;
use engine::{Graph, Parity, Tensor, Value};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use subjects::{Availability, Subject};

/// The subject `name`, or `None` (with the reason printed) when it cannot run here; under CI
/// (`CI` set) an unavailable subject fails instead, so a missing library is never hidden,
/// unless it needs GPU hardware (CUDA, Metal) that CI machines do not have.
pub fn subject(name: &str) -> Option<Box<dyn Subject>> {
    let s = subjects::find(name).expect("registered");
    match s.availability() {
        Availability::Available => Some(s),
        Availability::Unavailable { reason, fix } => {
            let msg = format!("{name} unavailable: {reason} (fix: {fix})");
            assert!(
                std::env::var_os("CI").is_none() || s.needs_gpu_hardware(),
                "{msg}"
            );
            eprintln!("skipped: {msg}");
            None
        }
    }
}

/// Every runtime but the reference; those that cannot run here are skipped (failed under
/// CI).
pub fn runtimes() -> Vec<Box<dyn Subject>> {
    subjects::registry()
        .into_iter()
        .filter(|s| s.name() != "reference")
        .filter_map(|s| subject(s.name()))
        .collect()
}

/// Uniform f32 values in `[lo, hi)`.
pub fn random(rng: &mut ChaCha8Rng, dims: &[usize], lo: f32, hi: f32) -> Tensor {
    let n = dims.iter().product();
    Tensor::from_f32(dims, (0..n).map(|_| rng.random_range(lo..hi)).collect()).unwrap()
}

/// Uniform i64 values in `[0, below)`.
pub fn ids(rng: &mut ChaCha8Rng, dims: &[usize], below: i64) -> Tensor {
    let n = dims.iter().product();
    Tensor::from_i64(dims, (0..n).map(|_| rng.random_range(0..below)).collect()).unwrap()
}

/// Token ids and an attention mask whose last row pads its final two tokens, so the mask
/// matters.
pub fn token_inputs(rng: &mut ChaCha8Rng, vocab: usize, batch: usize, seq: usize) -> Vec<Tensor> {
    let mask = (0..batch * seq)
        .map(|i| i64::from(!(i / seq == batch - 1 && i % seq >= seq - 2)))
        .collect();
    vec![
        ids(rng, &[batch, seq], vocab as i64),
        Tensor::from_i64(&[batch, seq], mask).unwrap(),
    ]
}

/// A two-layer DistilBERT small enough for many runs.
pub fn small_distilbert() -> DistilBertConfig {
    DistilBertConfig {
        vocab_size: 97,
        max_position_embeddings: 16,
        dim: 32,
        n_layers: 2,
        n_heads: 4,
        hidden_dim: 64,
        ..DistilBertConfig::sst2()
    }
}

/// A graph with one input per named tensor (its exact shape) and the one output `build`
/// returns.
pub fn graph(
    name: &str,
    inputs: &[(&str, &Tensor)],
    build: impl FnOnce(&mut Graph, &[Value]) -> engine::Result<Value>,
) -> Graph {
    let mut g = Graph::new(name);
    let vals: Vec<Value> = inputs
        .iter()
        .map(|(n, t)| {
            let d = t.dims().iter().map(|&d| d.into()).collect();
            g.input(n, t.dtype(), d).unwrap()
        })
        .collect();
    let y = build(&mut g, &vals).unwrap_or_else(|e| panic!("{name}: {e}"));
    g.output(y);
    g
}

/// Loads `graph` on `subject` once and runs it on every input set (each twice: a session is
/// reusable and deterministic), each checked against the reference; returns the parities.
pub fn check_runs(
    subject: &dyn Subject,
    graph: &Graph,
    runs: &[Vec<Tensor>],
    (atol, rtol): (f64, f64),
) -> Vec<Parity> {
    let at = |inputs: &[Tensor]| {
        let shapes: Vec<&[usize]> = inputs.iter().map(Tensor::dims).collect();
        format!("{} on {} {shapes:?}", graph.name(), subject.name())
    };
    let mut session = subject
        .load(graph, 1)
        .unwrap_or_else(|e| panic!("{} on {}: {e:#}", graph.name(), subject.name()));
    runs.iter()
        .map(|inputs| {
            let expected = engine::reference::run(graph, inputs).unwrap();
            let first = session
                .run(inputs)
                .unwrap_or_else(|e| panic!("{}: {e:#}", at(inputs)));
            let again = session.run(inputs).unwrap();
            assert_eq!(first, again, "{}: a second run differs", at(inputs));
            for (a, e) in first.iter().zip(&expected) {
                assert_eq!(a.dtype(), e.dtype(), "{}", at(inputs));
            }
            let p = Parity::of(&first, &expected, atol, rtol).unwrap();
            assert!(p.ok(), "{}: {p:?}", at(inputs));
            p
        })
        .collect()
}

/// [`check_runs`] with one input set.
pub fn check(subject: &dyn Subject, graph: &Graph, inputs: &[Tensor], tol: (f64, f64)) -> Parity {
    check_runs(subject, graph, &[inputs.to_vec()], tol).remove(0)
}
