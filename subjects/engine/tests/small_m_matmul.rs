//! Matmuls with a constant weight and few rows (the compiled path's panel kernel) against
//! the reference interpreter: odd shapes, epilogues, batch dims, one and two threads, and
//! one executable switching between the panel kernel and gemm as the row count changes. The
//! GPU runs the same shapes (its skinny shader up to 8 rows, tiles above).

mod common;

use common::{ATOL, RTOL, compiled, has_gpu, static_dims};
use engine::{CompileOptions, DType, Graph, Parity, Tensor, compile, dims, reference};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Values in [-1, 1).
fn random(rng: &mut ChaCha8Rng, dims: &[usize]) -> Tensor {
    common::random(rng, dims, (-1.0, 1.0))
}

/// `epilogue(x @ W)` with `x: [batch.., m, k]` and a constant weight, stored `[n, k]` and
/// transposed (a Linear layer) or stored `[k, n]`.
fn linear(
    rng: &mut ChaCha8Rng,
    x_dims: Vec<engine::Dim>,
    k: usize,
    n: usize,
    stored_out_in: bool,
    epilogue: usize,
) -> Graph {
    let mut g = Graph::new("small_m_linear");
    let x = g.input("x", DType::F32, x_dims).unwrap();
    let w = if stored_out_in {
        let w = g.constant(random(rng, &[n, k]));
        g.t(w).unwrap()
    } else {
        g.constant(random(rng, &[k, n]))
    };
    let mut y = g.matmul(x, w).unwrap();
    if epilogue >= 1 {
        let b = g.constant(random(rng, &[n]));
        y = g.add(y, b).unwrap();
    }
    if epilogue >= 2 {
        y = g.gelu(y).unwrap();
    }
    g.output(y);
    g
}

fn check(g: &Graph, x: &Tensor) -> Result<(), TestCaseError> {
    let want = reference::run(g, std::slice::from_ref(x)).unwrap();
    for fuse in [true, false] {
        for threads in [1, 2] {
            let mut exe = compiled(g, threads, fuse);
            prop_assert_eq!(
                exe.report().target.cpu().unwrap().panel_weights,
                1,
                "{}",
                exe.report()
            );
            let got = exe.run(std::slice::from_ref(x)).unwrap();
            let p = Parity::of(&got, &want, ATOL, RTOL).unwrap();
            prop_assert!(p.ok(), "fuse {fuse}, {threads} threads: {p:?}");
            prop_assert_eq!(exe.run(std::slice::from_ref(x)).unwrap(), got);
        }
    }
    if has_gpu() {
        let mut exe = compile(g, &CompileOptions::gpu()).unwrap();
        let got = exe.run(std::slice::from_ref(x)).unwrap();
        let p = Parity::of(&got, &want, ATOL, RTOL).unwrap();
        prop_assert!(p.ok(), "gpu: {p:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn linear_with_few_rows(
        m in 1usize..=33, k in 1usize..=300, n in 1usize..=300, batch in 0usize..=2,
        stored_out_in: bool, epilogue in 0usize..3, seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // No batch dim, or [batch, m, k] (2 x 17 = 34 rows runs gemm on the same weight).
        let mut xd = if batch == 0 { vec![] } else { vec![batch] };
        xd.extend([m, k]);
        let g = linear(&mut rng, static_dims(&xd), k, n, stored_out_in, epilogue);
        check(&g, &random(&mut rng, &xd))?;
    }
}

/// One executable, symbolic rows: the panel kernel for few rows, gemm on the weight
/// unpacked on first use for many, and back.
#[test]
fn rows_switch_between_the_panel_kernel_and_gemm() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (k, n) = (70, 100);
    let g = linear(&mut rng, dims!["batch", "rows", k], k, n, true, 1);
    for threads in [1, 2] {
        let mut exe = compiled(&g, threads, true);
        assert_eq!(exe.report().target.cpu().unwrap().panel_weights, 1);
        for (batch, rows) in [
            (1, 3),
            (1, 32),
            (1, 33),
            (2, 50),
            (1, 1),
            (4, 8),
            (3, 64),
            (1, 7),
        ] {
            let x = random(&mut rng, &[batch, rows, k]);
            let want = reference::run(&g, std::slice::from_ref(&x)).unwrap();
            let got = exe.run(std::slice::from_ref(&x)).unwrap();
            let p = Parity::of(&got, &want, ATOL, RTOL).unwrap();
            assert!(p.ok(), "{threads} threads, {batch}x{rows} rows: {p:?}");
        }
    }
}

/// A weight shared by two matmuls is packed once; a constant that something else also
/// reads (here an add), or that is a left operand, keeps its row-major layout.
#[test]
fn only_weight_only_constants_are_packed() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x_dims = [4, 16];
    let run = |g: &Graph, x: &Tensor| {
        let want = reference::run(g, std::slice::from_ref(x)).unwrap();
        let mut exe = compiled(g, 1, true);
        let got = exe.run(std::slice::from_ref(x)).unwrap();
        assert!(Parity::of(&got, &want, ATOL, RTOL).unwrap().ok());
        exe.report().target.cpu().unwrap().panel_weights
    };
    let x = random(&mut rng, &x_dims);

    let mut g = Graph::new("shared");
    let xi = g.input("x", DType::F32, static_dims(&x_dims)).unwrap();
    let w = g.constant(random(&mut rng, &[16, 16]));
    let h = g.matmul(xi, w).unwrap();
    let y = g.matmul(h, w).unwrap();
    g.output(y);
    assert_eq!(run(&g, &x), 1);

    let mut g = Graph::new("also_added");
    let xi = g.input("x", DType::F32, static_dims(&x_dims)).unwrap();
    let w = g.constant(random(&mut rng, &[16, 16]));
    let h = g.matmul(xi, w).unwrap();
    let w4 = g.constant(random(&mut rng, &[4, 16]));
    let s = g.matmul(w4, w).unwrap(); // a constant product: folded at compile time
    let y = g.add(h, s).unwrap();
    let y = g.add(y, xi).unwrap();
    let wide = g.constant(random(&mut rng, &[16, 4]));
    let z = g.matmul(wide, xi).unwrap(); // a constant left operand
    g.output(y);
    g.output(z);
    assert_eq!(run(&g, &x), 1, "only `w` (whose other reader folds away)");

    let mut g = Graph::new("weight_and_addend");
    let xi = g.input("x", DType::F32, static_dims(&[16, 16])).unwrap();
    let w = g.constant(random(&mut rng, &[16, 16]));
    let h = g.matmul(xi, w).unwrap();
    let y = g.add(h, w).unwrap();
    g.output(y);
    assert_eq!(run(&g, &random(&mut rng, &[16, 16])), 0);
}

/// Left operands that are stride-0 views (broadcast rows, batches and columns) reach the
/// panel kernel as such.
#[test]
fn broadcast_left_operands() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (k, n) = (40, 37);
    for (x_dims, a_dims) in [
        (vec![1, k], vec![3, 4, k]),
        (vec![5, 1], vec![5, k]),
        (vec![2, 1, 1], vec![2, 3, k]),
    ] {
        let mut g = Graph::new("broadcast_left");
        let x = g.input("x", DType::F32, static_dims(&x_dims)).unwrap();
        let a = g.broadcast_to(x, static_dims(&a_dims)).unwrap();
        let w = g.constant(random(&mut rng, &[k, n]));
        let y = g.matmul(a, w).unwrap();
        g.output(y);
        let x = random(&mut rng, &x_dims);
        let want = reference::run(&g, std::slice::from_ref(&x)).unwrap();
        for threads in [1, 2] {
            let mut exe = compiled(&g, threads, true);
            assert_eq!(exe.report().target.cpu().unwrap().panel_weights, 1);
            let got = exe.run(std::slice::from_ref(&x)).unwrap();
            let p = Parity::of(&got, &want, ATOL, RTOL).unwrap();
            assert!(p.ok(), "{x_dims:?} -> {a_dims:?}, {threads} threads: {p:?}");
        }
    }
}
