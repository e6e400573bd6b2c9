//! The corners of lowering an engine graph onto another runtime, on every runtime (the
//! engine's own compiler included): broadcasting matmuls and attention, unequal conv strides
//! and padding, folded constants, outputs that are inputs, axes and casts, and bad inputs,
//! each against the reference interpreter.

mod common;

use common::{graph, random, runtimes};
use engine::{DType, Graph, Tensor, Value, dims};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Runs `graph` on every runtime and on the reference.
fn check(graph: &Graph, inputs: &[Tensor], atol: f64, rtol: f64) {
    for s in runtimes() {
        common::check(&*s, graph, inputs, (atol, rtol));
    }
}

/// Batch dims that broadcast between q, k and v, rank-3 and rank-2 attention, a mask of
/// lower rank than the scores, and no mask.
#[test]
fn attention_broadcasting() {
    let rng = &mut ChaCha8Rng::seed_from_u64(6);
    type Shapes<'a> = (&'a [usize], &'a [usize], &'a [usize], Option<&'a [usize]>);
    let shapes: [Shapes; 5] = [
        (&[2, 3, 4, 8], &[1, 3, 6, 8], &[2, 1, 6, 5], Some(&[6])),
        (&[3, 4, 8], &[3, 6, 8], &[3, 6, 8], Some(&[3, 1, 6])),
        (&[4, 8], &[6, 8], &[6, 2], Some(&[4, 6])),
        (&[2, 2, 5, 4], &[2, 2, 5, 4], &[2, 2, 5, 4], None),
        (
            &[2, 2, 2, 3, 4],
            &[2, 1, 2, 5, 4],
            &[2, 2, 1, 5, 3],
            Some(&[2, 1, 1, 1, 5]),
        ),
    ];
    for (q, k, v, m) in shapes {
        let mut inputs = vec![
            ("q", random(rng, q, -1.0, 1.0)),
            ("k", random(rng, k, -1.0, 1.0)),
            ("v", random(rng, v, -1.0, 1.0)),
        ];
        if let Some(m) = m {
            inputs.push(("mask", random(rng, m, -3.0, 0.0)));
        }
        let named: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (*n, t)).collect();
        let g = graph("attention", &named, |g, v| {
            g.attention(v[0], v[1], v[2], v.get(3).copied(), 0.3)
        });
        let inputs: Vec<Tensor> = inputs.into_iter().map(|(_, t)| t).collect();
        check(&g, &inputs, 1e-5, 1e-4);
    }
}

/// Matmuls on every path of the lowering: 2-D, a weight shared by a batch (folded rows),
/// equal batch dims on views (transposed operands), broadcast batch dims on either side,
/// more than two batch dims, and a right-hand matrix with size-1 batch dims.
#[test]
fn matmul_paths() {
    let rng = &mut ChaCha8Rng::seed_from_u64(8);
    type Build = fn(&mut Graph, &[Value]) -> engine::Result<Value>;
    let cases: [(&[usize], &[usize], Build); 8] = [
        (&[5, 7], &[7, 3], |g, v| g.matmul(v[0], v[1])),
        (&[2, 4, 5, 7], &[7, 3], |g, v| g.matmul(v[0], v[1])),
        (&[2, 4, 5, 7], &[1, 1, 7, 3], |g, v| g.matmul(v[0], v[1])),
        (&[3, 5, 7], &[3, 3, 7], |g, v| {
            let b = g.transpose(v[1], &[0, 2, 1])?;
            g.matmul(v[0], b)
        }),
        (&[2, 5, 3, 7], &[2, 3, 7, 4], |g, v| {
            // A permuted left operand (as attention's heads are).
            let a = g.transpose(v[0], &[0, 2, 1, 3])?;
            g.matmul(a, v[1])
        }),
        (&[5, 7], &[2, 3, 7, 4], |g, v| g.matmul(v[0], v[1])),
        (&[2, 1, 3, 5, 7], &[4, 1, 7, 2], |g, v| g.matmul(v[0], v[1])),
        (&[7, 5], &[3, 7], |g, v| {
            let a = g.t(v[0])?;
            let b = g.t(v[1])?;
            g.matmul(a, b)
        }),
    ];
    for (a, b, build) in cases {
        let (a, b) = (random(rng, a, -1.0, 1.0), random(rng, b, -1.0, 1.0));
        let g = graph("matmul", &[("a", &a), ("b", &b)], build);
        check(&g, &[a, b], 1e-5, 1e-4);
    }
}

/// Convolutions with unequal strides and padding, without bias, and pooling with
/// overlapping windows.
#[test]
fn conv_and_pool_variants() {
    let rng = &mut ChaCha8Rng::seed_from_u64(9);
    let x = random(rng, &[2, 3, 11, 9], -1.0, 1.0);
    let w = random(rng, &[4, 3, 3, 2], -0.5, 0.5);
    let b = random(rng, &[4], -0.5, 0.5);
    for (stride, padding, bias) in [
        ([1, 1], [0, 0], false),
        ([2, 1], [1, 1], true),
        ([1, 3], [2, 0], true),
        ([3, 2], [0, 1], false),
    ] {
        let (w, b) = (w.clone(), b.clone());
        let g = graph("conv", &[("x", &x)], |g, v| {
            let w = g.constant(w);
            let b = bias.then(|| g.constant(b));
            g.conv2d(v[0], w, b, stride, padding)
        });
        check(&g, std::slice::from_ref(&x), 1e-5, 1e-4);
    }
    let g = graph("pool", &[("x", &x)], |g, v| {
        g.max_pool2d(v[0], [3, 2], [2, 1])
    });
    check(&g, std::slice::from_ref(&x), 1e-5, 1e-4);
}

/// Gathers from tables of rank 1 and 3, a reduction over no axes, a transposed weight that
/// feeds two matmuls, a bias add whose matmul is an output too, scalar operands on either
/// side of sub, outputs that are an input (twice) and a constant.
#[test]
fn lowering_corners() {
    let rng = &mut ChaCha8Rng::seed_from_u64(7);
    let mut g = Graph::new("corners");
    let ids = g.input("ids", DType::I64, dims!["n", 2]).unwrap();
    let x = g.input("x", DType::F32, dims!["n", 6]).unwrap();
    let t1 = g.constant(random(rng, &[9], -1.0, 1.0));
    let t3 = g.constant(random(rng, &[9, 2, 3], -1.0, 1.0));
    let a = g.gather(t1, ids).unwrap();
    let b = g.gather(t3, ids).unwrap();
    let r = g.reduce_sum(b, &[], false).unwrap();
    let w = g.constant(random(rng, &[4, 6], -1.0, 1.0));
    let wt = g.t(w).unwrap();
    let y1 = g.matmul(x, wt).unwrap();
    let bias = g.constant(random(rng, &[4], -1.0, 1.0));
    let y2 = g.add(y1, bias).unwrap();
    let x2 = g.mul(x, x).unwrap();
    let y3 = g.matmul(x2, wt).unwrap();
    let y3 = g.add(bias, y3).unwrap();
    let c = g.scalar(0.75);
    let s1 = g.sub(c, x).unwrap();
    let s2 = g.sub(x, c).unwrap();
    let s3 = g.mul(c, s2).unwrap();
    let s4 = g.div(s1, c).unwrap();
    let folded = g.add(bias, bias).unwrap();
    for v in [a, r, y1, y2, y3, s3, s4, x, x, folded] {
        g.output(v);
    }
    let n = 5;
    let inputs = vec![
        Tensor::from_i64(&[n, 2], (0..2 * n as i64).map(|i| (i * 7) % 9).collect()).unwrap(),
        random(rng, &[n, 6], -1.0, 1.0),
    ];
    check(&g, &inputs, 1e-5, 1e-4);
}

/// Softmax over a middle axis, reductions over several axes, and casts that truncate.
#[test]
fn axes_and_casts() {
    let rng = &mut ChaCha8Rng::seed_from_u64(10);
    let x = random(rng, &[3, 4, 5], -4.0, 4.0);
    type Build = fn(&mut Graph, &[Value]) -> engine::Result<Value>;
    let cases: [Build; 5] = [
        |g, v| g.softmax(v[0], 1),
        |g, v| g.softmax(v[0], 0),
        |g, v| g.reduce_max(v[0], &[0, 2], true),
        |g, v| g.reduce_mean(v[0], &[0, 1, 2], false),
        |g, v| {
            let i = g.cast(v[0], DType::I64)?;
            let t = g.transpose(i, &[2, 0, 1])?;
            let s = g.slice(t, 0, 1, 4)?;
            let c = g.concat(&[s, t], 0)?;
            g.cast(c, DType::F32)
        },
    ];
    for build in cases {
        let g = graph("axes", &[("x", &x)], build);
        check(&g, std::slice::from_ref(&x), 1e-5, 1e-4);
    }
}

/// Indices outside the table and inputs of the wrong type are errors that name the op or the
/// input. (ONNX's Gather counts negative indices from the end, so ONNX Runtime takes -1.)
#[test]
fn bad_inputs_are_errors_not_crashes() {
    let mut g = Graph::new("gather");
    let ids = g.input("ids", DType::I64, dims!["n"]).unwrap();
    let table = g.constant(Tensor::from_f32(&[3, 2], vec![0.0; 6]).unwrap());
    let y = g.gather(table, ids).unwrap();
    g.output(y);
    for subject in runtimes() {
        let name = subject.name();
        let mut s = subject.load(&g, 1).unwrap();
        let negative_ok = name == "onnxruntime";
        for bad in [3, -1, i64::MAX]
            .into_iter()
            .filter(|&i| !(negative_ok && i < 0))
        {
            let e = s
                .run(&[Tensor::from_i64(&[1], vec![bad]).unwrap()])
                .expect_err(name);
            let message = format!("{e:#}");
            assert!(
                message.to_lowercase().contains("gather"),
                "{name}: {message}"
            );
        }
        let e = s
            .run(&[Tensor::from_f32(&[1], vec![0.0]).unwrap()])
            .expect_err(name);
        assert!(format!("{e:#}").contains("ids"), "{name}: {e:#}");
    }
}
