//! One op suite, many runtimes: a small graph for every op the engine has, run on every
//! subject this build knows and compared with the reference interpreter.
//!
//! A subject that is unavailable here is skipped with its reason — except under CI (`CI`
//! set), where a missing baseline library fails the test instead of hiding it.

mod common;

use common::random;
use engine::{DType, Graph, Parity, Tensor, Value, dims};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

struct Case {
    name: &'static str,
    graph: Graph,
    inputs: Vec<Tensor>,
}

/// Builds a one-output case; `build` gets the graph and its declared inputs.
fn case(
    name: &'static str,
    inputs: Vec<(&str, Tensor)>,
    build: impl FnOnce(&mut Graph, &[Value]) -> engine::Result<Value>,
) -> Case {
    let mut g = Graph::new(name);
    let values: Vec<Value> = inputs
        .iter()
        .map(|(n, t)| {
            let d: Vec<engine::Dim> = t.dims().iter().map(|&d| d.into()).collect();
            g.input(n, t.dtype(), d).unwrap()
        })
        .collect();
    let y = build(&mut g, &values).unwrap_or_else(|e| panic!("{name}: {e}"));
    g.output(y);
    Case {
        name,
        graph: g,
        inputs: inputs.into_iter().map(|(_, t)| t).collect(),
    }
}

fn cases() -> Vec<Case> {
    use engine::ops::{BinaryOp, UnaryOp};
    let rng = &mut ChaCha8Rng::seed_from_u64(7);
    let mut out = Vec::new();
    for op in UnaryOp::ALL {
        let (lo, hi) = op.domain();
        let x = random(rng, &[3, 50], lo as f32, hi as f32);
        out.push(case(op.name(), vec![("x", x)], |g, v| g.unary(op, v[0])));
    }
    for op in BinaryOp::ALL {
        let a = random(rng, &[2, 3, 7], 0.5, 2.0);
        let b = random(rng, &[3, 1], 0.5, 2.0);
        out.push(case(op.name(), vec![("a", a), ("b", b)], |g, v| {
            g.binary(op, v[0], v[1])
        }));
    }
    let a = random(rng, &[2, 1, 5, 7], -1.0, 1.0);
    let b = random(rng, &[3, 7, 4], -1.0, 1.0);
    out.push(case(
        "matmul_batched_broadcast",
        vec![("a", a), ("b", b)],
        |g, v| g.matmul(v[0], v[1]),
    ));
    let x = random(rng, &[5, 16], -1.0, 1.0);
    let w = random(rng, &[8, 16], -0.3, 0.3);
    let bias = random(rng, &[8], -0.3, 0.3);
    out.push(case("linear_relu", vec![("x", x)], |g, v| {
        let layer = engine::nn::Linear::new(g, w, Some(bias));
        let y = layer.forward(g, v[0])?;
        g.relu(y)
    }));
    let x = random(rng, &[2, 3, 4], -1.0, 1.0);
    out.push(case("transpose", vec![("x", x.clone())], |g, v| {
        g.transpose(v[0], &[2, 0, 1])
    }));
    out.push(case("reshape", vec![("x", x.clone())], |g, v| {
        g.reshape(v[0], dims![6, 4])
    }));
    out.push(case(
        "broadcast_to",
        vec![("x", random(rng, &[3, 1], -1.0, 1.0))],
        |g, v| g.broadcast_to(v[0], dims![2, 3, 5]),
    ));
    out.push(case("reduce_sum", vec![("x", x.clone())], |g, v| {
        g.reduce_sum(v[0], &[0, 2], false)
    }));
    out.push(case("reduce_mean", vec![("x", x.clone())], |g, v| {
        g.reduce_mean(v[0], &[-1], true)
    }));
    out.push(case("reduce_max", vec![("x", x.clone())], |g, v| {
        g.reduce_max(v[0], &[1], false)
    }));
    out.push(case(
        "cast_f32_i64_f32",
        vec![("x", random(rng, &[4, 5], -9.0, 9.0))],
        |g, v| {
            let i = g.cast(v[0], DType::I64)?;
            g.cast(i, DType::F32)
        },
    ));
    let table = random(rng, &[11, 6], -1.0, 1.0);
    let ids = Tensor::from_i64(&[2, 3], vec![0, 10, 3, 3, 7, 1]).unwrap();
    out.push(case("gather", vec![("ids", ids)], |g, v| {
        let t = g.constant(table);
        g.gather(t, v[0])
    }));
    let gamma = random(rng, &[6], 0.5, 1.5);
    let beta = random(rng, &[6], -0.5, 0.5);
    out.push(case(
        "layer_norm",
        vec![("x", random(rng, &[2, 3, 6], -2.0, 2.0))],
        |g, v| {
            let (ga, be) = (g.constant(gamma), g.constant(beta));
            g.layer_norm(v[0], ga, be, 1e-5)
        },
    ));
    out.push(case("softmax", vec![("x", x.clone())], |g, v| {
        g.softmax(v[0], -1)
    }));
    out.push(case("slice", vec![("x", x.clone())], |g, v| {
        g.slice(v[0], 1, 1, 3)
    }));
    out.push(case("select", vec![("x", x.clone())], |g, v| {
        g.select(v[0], 1, 0)
    }));
    out.push(case(
        "concat",
        vec![("a", x.clone()), ("b", random(rng, &[2, 1, 4], -1.0, 1.0))],
        |g, v| g.concat(&[v[0], v[1]], 1),
    ));
    out.push(case(
        "arange_add",
        vec![("x", random(rng, &[2, 5], -1.0, 1.0))],
        |g, v| {
            let r = g.arange(5.into(), DType::I64)?;
            let r = g.cast(r, DType::F32)?;
            g.add(v[0], r)
        },
    ));
    let image = random(rng, &[2, 3, 9, 8], -1.0, 1.0);
    let kernel = random(rng, &[4, 3, 3, 3], -0.3, 0.3);
    let kbias = random(rng, &[4], -0.3, 0.3);
    out.push(case(
        "conv2d_stride2_pad1",
        vec![("x", image.clone())],
        |g, v| {
            let (k, b) = (g.constant(kernel), g.constant(kbias));
            g.conv2d(v[0], k, Some(b), [2, 2], [1, 1])
        },
    ));
    out.push(case("max_pool2d", vec![("x", image.clone())], |g, v| {
        g.max_pool2d(v[0], [2, 2], [2, 2])
    }));
    out.push(case("flatten", vec![("x", image)], |g, v| {
        g.flatten(v[0], 1)
    }));
    let q = random(rng, &[2, 3, 5, 8], -1.0, 1.0);
    let k = random(rng, &[2, 3, 6, 8], -1.0, 1.0);
    let val = random(rng, &[2, 3, 6, 4], -1.0, 1.0);
    let mask = Tensor::from_f32(
        &[2, 1, 1, 6],
        [[0.0; 6], [0.0, 0.0, 0.0, 0.0, -10000.0, -10000.0]].concat(),
    )
    .unwrap();
    out.push(case(
        "attention_masked",
        vec![("q", q), ("k", k), ("v", val), ("mask", mask)],
        |g, v| g.attention(v[0], v[1], v[2], Some(v[3]), 0.35),
    ));
    out
}

#[test]
fn every_subject_matches_the_reference_on_every_op() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for subject in common::runtimes() {
        for c in cases() {
            let expected = engine::reference::run(&c.graph, &c.inputs).unwrap();
            let outcome = subject
                .load(&c.graph, 1)
                .and_then(|mut s| s.run(&c.inputs))
                .map_err(|e| format!("{e:#}"))
                .and_then(|out| Parity::of(&out, &expected, 1e-5, 1e-4).map_err(|e| e.to_string()));
            ran += 1;
            match outcome {
                Ok(p) if p.ok() => {}
                Ok(p) => failures.push(format!("{} / {}: {p:?}", subject.name(), c.name)),
                Err(e) => failures.push(format!("{} / {}: {e}", subject.name(), c.name)),
            }
        }
    }
    assert!(ran > 0, "no subject ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
