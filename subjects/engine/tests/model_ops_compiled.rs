//! The model ops on the compiled CPU path against the reference interpreter: random odd
//! shapes, fused and unfused, one and two threads; run-time errors; thread determinism.

mod common;

use common::{SIZES, check, indices, on_grid, random, rng, static_dims};
use engine::{CompileOptions, DType, Dim, Graph, Tensor, compile, dims, reference};
use proptest::prelude::*;

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

fn size() -> impl Strategy<Value = usize> {
    prop::sample::select(SIZES.to_vec())
}

/// A shape of rank 1..=3 from `SIZES`.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(size(), 1..=3)
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn gather_rows(v in size(), row in prop::collection::vec(size(), 0..=2), idx in shape(), seed: u64) {
        let mut r = rng(seed);
        let mut td = vec![v];
        td.extend(&row);
        let mut g = Graph::new("gather");
        let t = g.input("table", DType::F32, static_dims(&td)).unwrap();
        let i = g.input("ids", DType::I64, static_dims(&idx)).unwrap();
        let y = g.gather(t, i).unwrap();
        g.output(y);
        check(&g, &[random(&mut r, &td, (-1.0, 1.0)), indices(&mut r, &idx, v as i64)])?;
    }

    /// LayerNorm alone, and of a residual sum (fused when compiled with fusion).
    #[test]
    fn layer_norms(d in shape(), residual: bool, seed: u64) {
        let mut r = rng(seed);
        let last = *d.last().unwrap();
        let mut g = Graph::new("layer_norm");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let h = g.input("h", DType::F32, static_dims(&d)).unwrap();
        let gamma = g.constant(random(&mut r, &[last], (0.5, 1.5)));
        let beta = g.constant(random(&mut r, &[last], (-0.5, 0.5)));
        let s = if residual { g.add(x, h).unwrap() } else { x };
        let y = g.layer_norm(s, gamma, beta, 1e-5).unwrap();
        g.output(y);
        // Alone, an offset far from zero checks that the variance does not cancel. Summed
        // with a residual, the inputs sit on a grid so the sum is exact in f32: an f32
        // engine rounds it, the f64 reference does not, and in a row whose deviations are
        // near sqrt(eps) (two close values of a short row) that rounding alone exceeds the
        // tolerance.
        let (xs, hs) = if residual {
            (on_grid(&mut r, &d, (-3.0, 3.0)), on_grid(&mut r, &d, (-1.0, 1.0)))
        } else {
            (random(&mut r, &d, (99.0, 101.0)), random(&mut r, &d, (-1.0, 1.0)))
        };
        check(&g, &[xs, hs])?;
    }

    #[test]
    fn softmaxes(d in shape(), axis in 0usize..3, seed: u64) {
        let mut r = rng(seed);
        let axis = (axis % d.len()) as i64;
        let mut g = Graph::new("softmax");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let y = g.softmax(x, axis).unwrap();
        g.output(y);
        check(&g, &[random(&mut r, &d, (-20.0, 20.0))])?;
    }

    #[test]
    fn slices_selects_and_concats(d in shape(), axis in 0usize..3, a in 0usize..60, b in 0usize..60, seed: u64) {
        let mut r = rng(seed);
        let axis = axis % d.len();
        let n = d[axis];
        let (start, end) = ((a % (n + 1)).min(b % (n + 1)), (a % (n + 1)).max(b % (n + 1)));
        let mut g = Graph::new("slicing");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let ids = g.input("ids", DType::I64, static_dims(&d)).unwrap();
        let s = g.slice(x, axis as i64, start, end).unwrap();
        let sel = g.select(x, axis as i64, a % n).unwrap();
        let c = g.concat(&[s, x, s], axis as i64).unwrap();
        let ci = g.concat(&[ids, ids], axis as i64).unwrap();
        let si = g.slice(ci, axis as i64, start, end).unwrap();
        for v in [s, sel, c, ci, si] {
            g.output(v);
        }
        check(&g, &[random(&mut r, &d, (-1.0, 1.0)), indices(&mut r, &d, 1000)])?;
    }

    #[test]
    fn conv2ds(
        n in 1usize..3, c in 1usize..4, o in prop::sample::select(vec![1usize, 2, 5]),
        h in 1usize..10, w in 1usize..10, kh in 1usize..4, kw in 1usize..4,
        stride in (1usize..3, 1usize..3), pad in (0usize..3, 0usize..3), bias: bool, seed: u64,
    ) {
        prop_assume!(kh <= h + 2 * pad.0 && kw <= w + 2 * pad.1);
        let mut r = rng(seed);
        let mut g = Graph::new("conv2d");
        let x = g.input("x", DType::F32, dims!["n", c, h, w]).unwrap();
        let wt = g.constant(random(&mut r, &[o, c, kh, kw], (-1.0, 1.0)));
        let b = bias.then(|| g.constant(random(&mut r, &[o], (-1.0, 1.0))));
        let y = g.conv2d(x, wt, b, [stride.0, stride.1], [pad.0, pad.1]).unwrap();
        let y = g.relu(y).unwrap();
        g.output(y);
        check(&g, &[random(&mut r, &[n, c, h, w], (-1.0, 1.0))])?;
    }

    #[test]
    fn max_pools(
        n in 1usize..3, c in 1usize..4, h in 1usize..10, w in 1usize..10,
        k in (1usize..4, 1usize..4), s in (1usize..4, 1usize..4), seed: u64,
    ) {
        prop_assume!(k.0 <= h && k.1 <= w);
        let mut r = rng(seed);
        let mut g = Graph::new("max_pool2d");
        let x = g.input("x", DType::F32, static_dims(&[n, c, h, w])).unwrap();
        let y = g.max_pool2d(x, [k.0, k.1], [s.0, s.1]).unwrap();
        g.output(y);
        check(&g, &[random(&mut r, &[n, c, h, w], (-5.0, 5.0))])?;
    }

    /// Attention over broadcast batch dims, strided (transposed) operands and every mask
    /// shape a model uses.
    #[test]
    fn attentions(
        batch in prop::sample::select(vec![vec![], vec![2], vec![2, 3]]),
        sq in size(), sk in size(), dh in size(), dv in size(),
        kv_shared: bool, heads_first: bool, mask_kind in 0usize..4, seed: u64,
    ) {
        let mut r = rng(seed);
        let with = |s: usize, d: usize, b: &[usize]| [b, &[s, d]].concat();
        let kv_batch = if kv_shared && !batch.is_empty() { vec![1; batch.len()] } else { batch.clone() };
        let mut g = Graph::new("attention");
        let mut inputs = Vec::new();
        let mut operand = |g: &mut Graph, name: &str, dims: Vec<usize>| {
            // `heads_first`: declared [s, b.., d] and transposed into place, so the kernel
            // reads a strided view.
            if heads_first && !batch.is_empty() {
                let r2 = dims.len();
                let mut declared = vec![dims[r2 - 2]];
                declared.extend(&dims[..r2 - 2]);
                declared.push(dims[r2 - 1]);
                let x = g.input(name, DType::F32, static_dims(&declared)).unwrap();
                let mut perm: Vec<usize> = (1..r2 - 1).collect();
                perm.extend([0, r2 - 1]);
                inputs.push(random(&mut r, &declared, (-1.0, 1.0)));
                g.transpose(x, &perm).unwrap()
            } else {
                inputs.push(random(&mut r, &dims, (-1.0, 1.0)));
                g.input(name, DType::F32, static_dims(&dims)).unwrap()
            }
        };
        let q = operand(&mut g, "q", with(sq, dh, &batch));
        let k = operand(&mut g, "k", with(sk, dh, &kv_batch));
        let v = operand(&mut g, "v", with(sk, dv, &kv_batch));
        let mask_dims = match mask_kind {
            0 => None,
            1 => Some(vec![sk]),
            2 => Some([vec![1; batch.len()], vec![1, sk]].concat()),
            _ => Some(with(sq, sk, &batch)),
        };
        let mask = mask_dims.map(|d| {
            // Large negative entries mask keys out, as `(1 - mask) * -10000` does.
            let mut m = random(&mut r, &d, (-2.0, 2.0)).as_f32().unwrap().to_vec();
            m.iter_mut().step_by(3).for_each(|x| *x = -10000.0);
            inputs.push(Tensor::from_f32(&d, m).unwrap());
            g.input("mask", DType::F32, static_dims(&d)).unwrap()
        });
        let y = g.attention(q, k, v, mask, 1.0 / (dh as f32).sqrt()).unwrap();
        g.output(y);
        check(&g, &inputs)?;
    }
}

/// Positions from a symbolic arange index a table, as position embeddings do.
#[test]
fn position_embeddings_follow_the_bound_length() {
    let mut r = rng(1);
    let mut g = Graph::new("positions");
    let ids = g.input("ids", DType::I64, dims!["batch", "seq"]).unwrap();
    let words = g.constant(random(&mut r, &[30, 8], (-1.0, 1.0)));
    let positions = g.constant(random(&mut r, &[16, 8], (-1.0, 1.0)));
    let pos = g.arange(Dim::from("seq"), DType::I64).unwrap();
    let w = g.gather(words, ids).unwrap();
    let p = g.gather(positions, pos).unwrap();
    let y = g.add(w, p).unwrap();
    g.output(y);
    for (b, s) in [(1, 1), (2, 7), (3, 16)] {
        check(&g, &[indices(&mut r, &[b, s], 30)]).unwrap();
    }
    // seq 17 reads position 16, past the table: a run-time error, on both paths.
    let ids = indices(&mut r, &[1, 17], 30);
    let want = "gather: index 16 at position 16 is out of range for a table of 16 rows";
    let err = reference::run(&g, std::slice::from_ref(&ids)).unwrap_err();
    assert_eq!(err.to_string(), want);
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    assert_eq!(exe.run(&[ids]).unwrap_err().to_string(), want);
}

#[test]
fn symbolic_slices_are_checked_when_the_executable_runs() {
    let mut g = Graph::new("late");
    let x = g.input("x", DType::F32, dims!["seq", 2]).unwrap();
    let y = g.slice(x, 0, 1, 4).unwrap();
    g.output(y);
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    let ok = exe.run(&[Tensor::zeros(DType::F32, &[6, 2])]).unwrap();
    assert_eq!(ok[0].dims(), &[3, 2]);
    let err = exe.run(&[Tensor::zeros(DType::F32, &[3, 2])]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "slice: invalid shape [3, 2]: end 4 is past dim 3 of axis 0"
    );
}

/// A multi-head attention block large enough for the pool: 1 and 2 threads agree bit for
/// bit (each output row is computed by one task, the same way whatever the thread count).
#[test]
fn attention_block_gives_identical_bits_on_1_and_2_threads() {
    let (b, s, d, h) = (2, 64, 128, 4);
    let g = encoder_attention(b, d, h, 5);
    let mut r = rng(6);
    let x = random(&mut r, &[b, s, d], (-1.0, 1.0));
    let mut mask = vec![0.0f32; b * s];
    mask[s - 5..s].fill(-10000.0); // padding at the end of the first sequence
    let mask = Tensor::from_f32(&[b, 1, 1, s], mask).unwrap();
    let inputs = [x, mask];
    let run = |threads| {
        let mut exe = common::compiled(&g, threads, true);
        exe.run(&inputs).unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    let want = reference::run(&g, &inputs).unwrap();
    let p = engine::Parity::of(&one, &want, common::ATOL, common::RTOL).unwrap();
    assert!(p.ok(), "{p:?}");
}

/// `x [b, s, d]` through q/k/v projections, head split, attention, head merge and the
/// output projection.
fn encoder_attention(b: usize, d: usize, h: usize, seed: u64) -> Graph {
    let mut r = rng(seed);
    let dh = d / h;
    let mut g = Graph::new("mha");
    let x = g.input("x", DType::F32, dims![b, "s", d]).unwrap();
    let mask = g.input("mask", DType::F32, dims![b, 1, 1, "s"]).unwrap();
    let mut proj = |g: &mut Graph, x| {
        let w = g.constant(random(&mut r, &[d, d], (-0.1, 0.1)));
        let bias = g.constant(random(&mut r, &[d], (-0.1, 0.1)));
        let wt = g.t(w).unwrap();
        let y = g.matmul(x, wt).unwrap();
        g.add(y, bias).unwrap()
    };
    let heads = |g: &mut Graph, t| {
        let t = g.reshape(t, dims![b, "s", h, dh]).unwrap();
        g.transpose(t, &[0, 2, 1, 3]).unwrap()
    };
    let q = proj(&mut g, x);
    let q = heads(&mut g, q);
    let k = proj(&mut g, x);
    let k = heads(&mut g, k);
    let v = proj(&mut g, x);
    let v = heads(&mut g, v);
    let a = g
        .attention(q, k, v, Some(mask), 1.0 / (dh as f32).sqrt())
        .unwrap();
    let a = g.transpose(a, &[0, 2, 1, 3]).unwrap();
    let a = g.reshape(a, dims![b, "s", d]).unwrap();
    let y = proj(&mut g, a);
    g.output(y);
    g
}

/// Shapes large enough that the executable uses its pool, so the parallel branches of the
/// convolution (per image, and one image with a parallel GEMM), pooling, LayerNorm and
/// softmax kernels run, and match the reference and one thread.
#[test]
fn parallel_paths_match_the_reference_and_one_thread() {
    let mut r = rng(8);
    let conv = |r: &mut _, c: usize, o: usize| {
        let mut g = Graph::new("conv_pool");
        let x = g.input("x", DType::F32, dims!["n", c, 28, 28]).unwrap();
        let w = g.constant(random(r, &[o, c, 3, 3], (-0.3, 0.3)));
        let b = g.constant(random(r, &[o], (-0.3, 0.3)));
        let y = g.conv2d(x, w, Some(b), [1, 1], [1, 1]).unwrap();
        let y = g.max_pool2d(y, [2, 2], [2, 2]).unwrap();
        g.output(y);
        g
    };
    let mut rows = Graph::new("rows");
    let x = rows.input("x", DType::F32, dims!["n", 1024]).unwrap();
    let gamma = rows.constant(random(&mut r, &[1024], (0.5, 1.5)));
    let beta = rows.constant(random(&mut r, &[1024], (-0.5, 0.5)));
    let y = rows.layer_norm(x, gamma, beta, 1e-5).unwrap();
    let y = rows.softmax(y, -1).unwrap();
    let z = rows.softmax(x, 0).unwrap();
    rows.output(y);
    rows.output(z);
    let cases = [
        (
            conv(&mut r, 3, 32),
            random(&mut r, &[16, 3, 28, 28], (-1.0, 1.0)),
        ),
        (
            conv(&mut r, 16, 32),
            random(&mut r, &[1, 16, 28, 28], (-1.0, 1.0)),
        ),
        (rows, random(&mut r, &[512, 1024], (-3.0, 3.0))),
    ];
    for (g, x) in cases {
        let inputs = [x];
        let want = reference::run(&g, &inputs).unwrap();
        let mut one = common::compiled(&g, 1, true);
        let mut two = common::compiled(&g, 2, true);
        let got = two.run(&inputs).unwrap();
        let p = engine::Parity::of(&got, &want, common::ATOL, common::RTOL).unwrap();
        assert!(p.ok(), "{}: {p:?}", g.name());
        let p1 = engine::Parity::of(&one.run(&inputs).unwrap(), &got, 1e-6, 1e-5).unwrap();
        assert!(p1.ok(), "{}: {p1:?}", g.name());
    }
}

/// Long enough that a head's query rows are split into several score blocks (218 + 82 rows
/// at Sk = 300), each with its own slice of a full `[Sq, Sk]` mask.
#[test]
fn long_attention_splits_query_rows_into_blocks() {
    let (b, s, d) = (2, 300, 8);
    let mut r = rng(12);
    let mut g = Graph::new("long");
    let q = g.input("q", DType::F32, dims![b, s, d]).unwrap();
    let k = g.input("k", DType::F32, dims![b, s, d]).unwrap();
    let v = g.input("v", DType::F32, dims![b, s, d]).unwrap();
    let m = g.input("m", DType::F32, dims![s, s]).unwrap();
    let y = g.attention(q, k, v, Some(m), 0.3).unwrap();
    g.output(y);
    let mut mask = random(&mut r, &[s, s], (-1.0, 1.0))
        .as_f32()
        .unwrap()
        .to_vec();
    // Row i sees keys i.. only, masked with -inf: a late row's first blocks of keys are all
    // masked, which must weigh nothing rather than exp(-inf + inf).
    for i in 0..s {
        mask[i * s..i * s + i].fill(f32::NEG_INFINITY);
    }
    let mut inputs: Vec<Tensor> = (0..3)
        .map(|_| random(&mut r, &[b, s, d], (-2.0, 2.0)))
        .collect();
    inputs.push(Tensor::from_f32(&[s, s], mask).unwrap());
    check(&g, &inputs).unwrap();
}
