//! The compiled CPU path against the reference interpreter: every op on random odd shapes,
//! fused against unfused, one thread against two, plus checks that fusion and memory
//! planning really happened.

mod common;

use common::{ATOL, RTOL, check, random, static_dims};
use engine::nn::Linear;
use engine::ops::{BinaryOp, Op, ReduceOp, UnaryOp};
use engine::{CompileOptions, DType, Graph, Parity, Tensor, compile, cpu_isa, dims, reference};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Sizes that catch remainder loops, tiles and register blocks that do not divide evenly.
const SIZES: [usize; 6] = [1, 2, 3, 7, 50, 257];

/// A shape of rank 0..=3 from `SIZES`, at most 70k elements.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop::sample::select(SIZES.to_vec()), 0..=3)
        .prop_filter("small enough", |d| d.iter().product::<usize>() <= 70_000)
}

/// `out` with `drop` leading dims removed and dims whose `mask` bit is set turned to 1.
fn broadcast_of(out: &[usize], drop: usize, mask: u8) -> Vec<usize> {
    out[drop.min(out.len())..]
        .iter()
        .enumerate()
        .map(|(i, &d)| if mask >> i & 1 == 1 { 1 } else { d })
        .collect()
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn unary_ops(op in prop::sample::select(UnaryOp::ALL.to_vec()), d in shape(), seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = Graph::new("unary");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let y = g.unary(op, x).unwrap();
        g.output(y);
        check(&g, &[random(&mut rng, &d, op.domain())])?;
    }

    #[test]
    fn binary_ops_broadcast(
        op in prop::sample::select(BinaryOp::ALL.to_vec()),
        d in shape(), drop in 0usize..3, mask: u8, swap: bool, seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let bd = broadcast_of(&d, drop, mask);
        let (ad, bd) = if swap { (bd, d) } else { (d, bd) };
        let mut g = Graph::new("binary");
        let a = g.input("a", DType::F32, static_dims(&ad)).unwrap();
        let b = g.input("b", DType::F32, static_dims(&bd)).unwrap();
        let y = g.binary(op, a, b).unwrap();
        g.output(y);
        let b_range = if op == BinaryOp::Div { (0.5, 4.0) } else { (-10.0, 10.0) };
        check(&g, &[random(&mut rng, &ad, (-10.0, 10.0)), random(&mut rng, &bd, b_range)])?;
    }

    /// A random chain of element-wise ops with scalar constants and a broadcast bias.
    #[test]
    fn elementwise_chains(
        ops in prop::collection::vec((0usize..15, -3.0f32..3.0), 1..8),
        d in shape(), seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = Graph::new("chain");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let last = d.last().copied().map_or(vec![], |n| vec![n]);
        let bias = g.constant(random(&mut rng, &last, (-1.0, 1.0)));
        let mut y = x;
        for (k, c) in ops {
            let s = g.scalar(c);
            // Bounded ops only, so long chains stay in range.
            y = match k {
                0 => g.relu(y),
                1 => g.tanh(y),
                2 => g.gelu(y),
                3 => g.gelu_tanh(y),
                4 => g.neg(y),
                5 => g.add(y, s),
                6 => g.mul(y, s),
                7 => g.sub(s, y),
                8 => g.maximum(y, s),
                9 => g.minimum(y, s),
                10 => g.add(y, bias),
                11 => g.mul(y, x),
                12 => { let t = g.tanh(y).unwrap(); g.exp(t) }
                13 => { let e = g.mul(y, y).unwrap(); let one = g.scalar(1.0); let e = g.add(e, one).unwrap(); g.sqrt(e) }
                _ => { let e = g.mul(y, y).unwrap(); let one = g.scalar(1.0); let e = g.add(e, one).unwrap(); g.div(y, e) }
            }.unwrap();
        }
        g.output(y);
        check(&g, &[random(&mut rng, &d, (-3.0, 3.0))])?;
    }

    #[test]
    fn matmul_batched_broadcast_and_transposed(
        m in prop::sample::select(SIZES.to_vec()), k in prop::sample::select(SIZES.to_vec()),
        n in prop::sample::select(SIZES.to_vec()), batch in prop::sample::select(vec![vec![], vec![3], vec![2, 3]]),
        b_batched: bool, b_transposed: bool, seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut ad = batch.clone();
        ad.extend([m, k]);
        let mut bd = if b_batched { batch.clone() } else { vec![] };
        bd.extend(if b_transposed { [n, k] } else { [k, n] });
        let mut g = Graph::new("matmul");
        let a = g.input("a", DType::F32, static_dims(&ad)).unwrap();
        let b = g.input("b", DType::F32, static_dims(&bd)).unwrap();
        let b2 = if b_transposed { g.t(b).unwrap() } else { b };
        let y = g.matmul(a, b2).unwrap();
        g.output(y);
        check(&g, &[random(&mut rng, &ad, (-1.0, 1.0)), random(&mut rng, &bd, (-1.0, 1.0))])?;
    }

    /// Linear layers with every kind of epilogue: bias, activation, residual, scaling.
    #[test]
    fn linear_epilogues(
        m in prop::sample::select(SIZES.to_vec()), k in prop::sample::select(SIZES.to_vec()),
        n in prop::sample::select(SIZES.to_vec()), bias: bool, act in 0usize..4, residual: bool,
        seq: bool, seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let xd = if seq { vec![2, m, k] } else { vec![m, k] };
        let mut g = Graph::new("linear");
        let x = g.input("x", DType::F32, static_dims(&xd)).unwrap();
        let w = random(&mut rng, &[n, k], (-1.0, 1.0));
        let b = bias.then(|| random(&mut rng, &[n], (-1.0, 1.0)));
        let mut y = Linear::new(&mut g, w, b).forward(&mut g, x).unwrap();
        y = match act { 0 => y, 1 => g.relu(y).unwrap(), 2 => g.gelu(y).unwrap(), _ => { let h = g.scalar(0.5); g.mul(y, h).unwrap() } };
        if residual && k == n {
            y = g.add(y, x).unwrap();
        }
        g.output(y);
        check(&g, &[random(&mut rng, &xd, (-1.0, 1.0))])?;
    }

    #[test]
    fn transposes(d in prop::collection::vec(prop::sample::select(SIZES[..5].to_vec()), 1..=4), seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut perm: Vec<usize> = (0..d.len()).collect();
        perm.rotate_left((seed % d.len() as u64) as usize);
        if seed % 2 == 0 { perm.reverse(); }
        let mut g = Graph::new("transpose");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let y = g.transpose(x, &perm).unwrap();
        g.output(y);
        check(&g, &[random(&mut rng, &d, (-1.0, 1.0))])?;
    }

    #[test]
    fn broadcasts_and_reshapes(d in shape(), drop in 0usize..3, mask: u8, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let src = broadcast_of(&d, drop, mask);
        let mut g = Graph::new("movement");
        let x = g.input("x", DType::F32, static_dims(&src)).unwrap();
        let b = g.broadcast_to(x, static_dims(&d)).unwrap();
        let flat = g.reshape(b, dims![d.iter().product::<usize>()]).unwrap();
        let back = g.reshape(flat, static_dims(&d)).unwrap();
        let y = g.neg(back).unwrap();
        g.output(b);
        g.output(y);
        check(&g, &[random(&mut rng, &src, (-1.0, 1.0))])?;
    }

    #[test]
    fn reductions(
        op in prop::sample::select(vec![ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max]),
        d in shape().prop_filter("rank >= 1", |d| !d.is_empty()), axes_mask: u8, keep: bool, seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut axes: Vec<i64> = (0..d.len() as i64).filter(|i| axes_mask >> i & 1 == 1).collect();
        if axes.is_empty() { axes.push(-1); }
        let mut g = Graph::new("reduce");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let y = g.reduce(op, x, &axes, keep).unwrap();
        g.output(y);
        check(&g, &[random(&mut rng, &d, (-10.0, 10.0))])?;
    }

    #[test]
    fn casts_round_trip(d in shape(), seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = Graph::new("cast");
        let x = g.input("x", DType::F32, static_dims(&d)).unwrap();
        let i = g.cast(x, DType::I64).unwrap();
        let f = g.cast(i, DType::F32).unwrap();
        g.output(i);
        g.output(f);
        check(&g, &[random(&mut rng, &d, (-1000.0, 1000.0))])?;
    }
}

/// The `fused_*` op names in a compiled graph, in order.
fn compiled_ops(g: &Graph) -> Vec<&'static str> {
    g.nodes()
        .iter()
        .filter(|n| !matches!(n.op, Op::Input { .. } | Op::Constant(_)))
        .map(|n| n.op.name())
        .collect()
}

fn relu_affine() -> Graph {
    let mut g = Graph::new("relu_affine");
    let x = g.input("x", DType::F32, dims!["n"]).unwrap();
    let (two, one) = (g.scalar(2.0), g.scalar(1.0));
    let y = g.mul(x, two).unwrap();
    let y = g.add(y, one).unwrap();
    let y = g.relu(y).unwrap();
    g.output(y);
    g
}

#[test]
fn relu_affine_fuses_into_one_node_with_immediates() {
    let exe = compile(&relu_affine(), &CompileOptions::default()).unwrap();
    assert_eq!(compiled_ops(exe.graph()), ["fused_elementwise"]);
    assert_eq!(
        exe.graph().nodes().len(),
        2,
        "only the input and the fused node remain"
    );
    let r = exe.report();
    assert_eq!((r.fused_chains, r.fused_ops, r.immediates), (1, 2, 2));
    assert_eq!((r.nodes_before, r.nodes_after), (6, 2));
}

/// `silu(x @ W + b) = z * sigmoid(z)` reads `z` twice, both times inside one chain: the bias
/// add joins that chain (computed once, in a register) and the whole chain joins the
/// matmul, so one kernel remains; and the result is still the reference's.
#[test]
fn a_value_read_twice_within_one_chain_is_fused_into_it() {
    let mut r = common::rng(11);
    let mut g = Graph::new("linear_silu");
    let x = g.input("x", DType::F32, dims!["n", 16]).unwrap();
    let w = g.constant(random(&mut r, &[16, 8], (-1.0, 1.0)));
    let b = g.constant(random(&mut r, &[8], (-1.0, 1.0)));
    let z = g.matmul(x, w).unwrap();
    let z = g.add(z, b).unwrap();
    let one = g.scalar(1.0);
    let e = g.neg(z).unwrap();
    let e = g.exp(e).unwrap();
    let d = g.add(one, e).unwrap();
    let s = g.div(one, d).unwrap();
    let y = g.mul(z, s).unwrap();
    g.output(y);
    let exe = compile(&g, &CompileOptions::cpu(1)).unwrap();
    assert_eq!(
        compiled_ops(exe.graph()),
        ["fused_matmul"],
        "{}",
        exe.graph()
    );
    check(&g, &[random(&mut r, &[5, 16], (-2.0, 2.0))]).unwrap();
}

#[test]
fn unfused_compile_keeps_one_node_per_op() {
    let exe = compile(
        &relu_affine(),
        &CompileOptions {
            fuse: false,
            ..CompileOptions::cpu(1)
        },
    )
    .unwrap();
    assert_eq!(compiled_ops(exe.graph()), ["mul", "add", "relu"]);
}

fn mlp(d_in: usize, d_hidden: usize, seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut g = Graph::new("mlp");
    let x = g
        .input("x", DType::F32, dims!["batch", "seq", d_in])
        .unwrap();
    let l1 = Linear::new(
        &mut g,
        random(&mut rng, &[d_hidden, d_in], (-0.1, 0.1)),
        Some(random(&mut rng, &[d_hidden], (-0.1, 0.1))),
    );
    let l2 = Linear::new(
        &mut g,
        random(&mut rng, &[d_in, d_hidden], (-0.1, 0.1)),
        Some(random(&mut rng, &[d_in], (-0.1, 0.1))),
    );
    let h = l1.forward(&mut g, x).unwrap();
    let h = g.gelu(h).unwrap();
    let y = l2.forward(&mut g, h).unwrap();
    let y = g.add(y, x).unwrap();
    // LayerNorm without affine: (y - mean) / sqrt(var + eps).
    let mean = g.reduce_mean(y, &[-1], true).unwrap();
    let c = g.sub(y, mean).unwrap();
    let sq = g.mul(c, c).unwrap();
    let var = g.reduce_mean(sq, &[-1], true).unwrap();
    let eps = g.scalar(1e-5);
    let var = g.add(var, eps).unwrap();
    let inv = g.rsqrt(var).unwrap();
    let y = g.mul(c, inv).unwrap();
    // Softmax over the last axis.
    let m = g.reduce_max(y, &[-1], true).unwrap();
    let e = g.sub(y, m).unwrap();
    let e = g.exp(e).unwrap();
    let s = g.reduce_sum(e, &[-1], true).unwrap();
    let p = g.div(e, s).unwrap();
    g.output(p);
    g
}

#[test]
fn linear_relu_fuses_into_one_matmul_with_a_prepacked_weight() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = Graph::new("linear_relu");
    let x = g.input("x", DType::F32, dims!["batch", 8]).unwrap();
    let layer = Linear::new(
        &mut g,
        random(&mut rng, &[4, 8], (-1.0, 1.0)),
        Some(random(&mut rng, &[4], (-1.0, 1.0))),
    );
    let y = layer.forward(&mut g, x).unwrap();
    let y = g.relu(y).unwrap();
    g.output(y);
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    assert_eq!(compiled_ops(exe.graph()), ["fused_matmul"]);
    let r = exe.report();
    assert_eq!(
        (r.folded, r.prepacked_weights, r.fused_epilogues),
        (1, 1, 1)
    );
    // The weight is now a contiguous [in, out] constant.
    let mm = exe.graph().nodes().last().unwrap();
    assert_eq!(
        exe.graph().shape(mm.inputs[1]).to_static(),
        Some(vec![8, 4])
    );
    let xs = random(&mut rng, &[5, 8], (-1.0, 1.0));
    let want = reference::run(&g, std::slice::from_ref(&xs)).unwrap();
    let got = exe.run(&[xs]).unwrap();
    assert!(Parity::of(&got, &want, ATOL, RTOL).unwrap().ok());
}

#[test]
fn mlp_block_fuses_and_matches_the_reference() {
    let g = mlp(16, 64, 7);
    let exe = compile(&g, &CompileOptions::default()).unwrap();
    let ops = compiled_ops(exe.graph());
    assert_eq!(
        ops.iter().filter(|&&o| o == "fused_matmul").count(),
        2,
        "{ops:?}"
    );
    assert!(
        !ops.contains(&"matmul") && !ops.contains(&"transpose"),
        "{ops:?}"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (b, s) in [(1, 1), (2, 7), (3, 50)] {
        check(&g, &[random(&mut rng, &[b, s, 16], (-2.0, 2.0))]).unwrap();
    }
}

#[test]
fn one_and_two_threads_give_identical_bits() {
    let g = mlp(64, 256, 11);
    let x = random(
        &mut ChaCha8Rng::seed_from_u64(5),
        &[4, 300, 64],
        (-2.0, 2.0),
    );
    let run = |threads| {
        let mut exe = common::compiled(&g, threads, true);
        exe.run(std::slice::from_ref(&x)).unwrap()
    };
    assert_eq!(run(1), run(2));
    let mut exe = common::compiled(&g, 0, true);
    assert!(exe.report().target.cpu().unwrap().threads >= 1);
    assert_eq!(exe.run(std::slice::from_ref(&x)).unwrap(), run(1));
}

/// Attention-sized batched products (a transposed view of `k`, a softmax between):
/// large enough that the pool is used, so the parallel paths of every kernel run.
#[test]
fn parallel_paths_match_the_reference_and_one_thread() {
    let (h, s, d) = (16, 128, 64);
    let mut g = Graph::new("attention");
    let q = g.input("q", DType::F32, dims![h, "s", d]).unwrap();
    let k = g.input("k", DType::F32, dims![h, "s", d]).unwrap();
    let v = g.input("v", DType::F32, dims![h, "s", d]).unwrap();
    let kt = g.t(k).unwrap();
    let scores = g.matmul(q, kt).unwrap();
    let scale = g.scalar(0.125);
    let scores = g.mul(scores, scale).unwrap();
    let m = g.reduce_max(scores, &[-1], true).unwrap();
    let e = g.sub(scores, m).unwrap();
    let e = g.exp(e).unwrap();
    let sum = g.reduce_sum(e, &[-1], true).unwrap();
    let p = g.div(e, sum).unwrap();
    let y = g.matmul(p, v).unwrap();
    let y = g.gelu(y).unwrap();
    g.output(y);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let xs: Vec<Tensor> = (0..3)
        .map(|_| random(&mut rng, &[h, s, d], (-1.0, 1.0)))
        .collect();
    let want = reference::run(&g, &xs).unwrap();
    let mut one = common::compiled(&g, 1, true);
    let mut two = common::compiled(&g, 2, true);
    let got = two.run(&xs).unwrap();
    assert!(Parity::of(&got, &want, ATOL, RTOL).unwrap().ok());
    assert_eq!(got, one.run(&xs).unwrap());
}

/// A chain of unfused ops needs only two live intermediates at a time.
#[test]
fn memory_plan_reuses_space_and_replans_per_binding() {
    let mut g = Graph::new("chain");
    let x = g.input("x", DType::F32, dims!["n", 64]).unwrap();
    let mut y = x;
    for _ in 0..10 {
        y = g.tanh(y).unwrap();
    }
    g.output(y);
    let mut exe = common::compiled(&g, 1, false);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for n in [100, 3, 100, 1000] {
        let xs = random(&mut rng, &[n, 64], (-2.0, 2.0));
        let want = reference::run(&g, std::slice::from_ref(&xs)).unwrap();
        let got = exe.run(&[xs]).unwrap();
        assert_eq!(got[0].dims(), &[n, 64]);
        assert!(Parity::of(&got, &want, ATOL, RTOL).unwrap().ok(), "n = {n}");
        let r = exe.report();
        let bytes = n * 64 * 4;
        // Nine intermediates (the last tanh writes the output), two live at a time.
        assert_eq!(r.intermediate_bytes, 9 * bytes.next_multiple_of(64));
        assert_eq!(r.arena_bytes, 2 * bytes.next_multiple_of(64));
    }
    assert_eq!(exe.report().plans, 3);
}

#[test]
fn outputs_that_are_inputs_constants_or_repeated_are_copied() {
    let mut g = Graph::new("passthrough");
    let x = g.input("x", DType::F32, dims![3]).unwrap();
    let c = g.constant(Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap());
    let y = g.relu(x).unwrap();
    let r = g.reshape(y, dims![3, 1]).unwrap();
    for v in [x, c, y, y, r] {
        g.output(v);
    }
    let xs = Tensor::from_f32(&[3], vec![-1.0, 0.5, 2.0]).unwrap();
    let want = reference::run(&g, std::slice::from_ref(&xs)).unwrap();
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    assert_eq!(exe.run(&[xs]).unwrap(), want);
}

#[test]
fn integer_movement_and_bad_inputs() {
    let mut g = Graph::new("ids");
    let x = g.input("ids", DType::I64, dims!["b", 3]).unwrap();
    let t = g.t(x).unwrap();
    let f = g.cast(t, DType::F32).unwrap();
    g.output(t);
    g.output(f);
    let xs = Tensor::from_i64(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
    let want = reference::run(&g, std::slice::from_ref(&xs)).unwrap();
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    assert_eq!(exe.run(&[xs]).unwrap(), want);
    let wrong = Tensor::from_f32(&[2, 3], vec![0.0; 6]).unwrap();
    let err = exe.run(&[wrong]).unwrap_err().to_string();
    assert!(err.contains("ids"), "{err}");
}

/// Broadcast operands reach gemm as stride-0 views (rows and batches), not copies.
#[test]
fn matmul_reads_broadcast_views() {
    let mut g = Graph::new("broadcast_matmul");
    let row = g.input("row", DType::F32, dims![1, 7]).unwrap();
    let w = g.input("w", DType::F32, dims![7, 5]).unwrap();
    let a = g.broadcast_to(row, dims![3, 4, 7]).unwrap();
    let wb = g.broadcast_to(w, dims![3, 7, 5]).unwrap();
    let y = g.matmul(a, wb).unwrap();
    g.output(y);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let xs = [
        random(&mut rng, &[1, 7], (-1.0, 1.0)),
        random(&mut rng, &[7, 5], (-1.0, 1.0)),
    ];
    check(&g, &xs).unwrap();
    let mut exe = compile(&g, &CompileOptions::default()).unwrap();
    exe.run(&xs).unwrap();
    assert_eq!(exe.report().arena_bytes, 0, "both broadcasts are views");
}

#[test]
fn executables_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<engine::Executable>();
}

#[test]
fn report_names_the_passes_and_the_isa() {
    let exe = compile(&mlp(8, 16, 1), &CompileOptions::default()).unwrap();
    let r = exe.report();
    let names: Vec<&str> = r.passes.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "remove_dead_nodes",
            "fold_constants",
            "fuse_add_layer_norm",
            "fuse_elementwise",
            "fuse_matmul_epilogue",
            "remove_dead_nodes"
        ]
    );
    assert_eq!(r.target.cpu().unwrap().isa, cpu_isa());
    assert!(["avx512f", "avx2+fma", "neon", "scalar"].contains(&cpu_isa()));
    assert!(r.to_string().contains("prepacked"));
}

/// `engine::optimize` is the graph after the passes with row-major constants, so the
/// reference runs it right even where the CPU executable packs weights into panels (the
/// MLP's 128- and 64-wide layers), and its outputs match the source graph's.
#[test]
fn the_optimised_graph_runs_on_the_reference_like_the_source_graph() {
    let g = engine::models::Mlp::synthetic(3).unwrap();
    let x = Tensor::from_f32(&[4, 8], (0..32).map(|i| (i as f32 - 16.0) / 8.0).collect()).unwrap();
    let options = engine::CompileOptions::cpu(1);
    let exe = engine::compile(&g, &options).unwrap();
    let packed = exe.report().target.cpu().unwrap().panel_weights;
    assert!(packed > 0, "the CPU packed no weights: nothing is tested");
    let (optimised, report) = engine::optimize(&g, &options).unwrap();
    assert!(report.nodes_after < g.nodes().len(), "{report}");
    let expected = engine::reference::run(&g, std::slice::from_ref(&x)).unwrap();
    let actual = engine::reference::run(&optimised, std::slice::from_ref(&x)).unwrap();
    let parity = engine::Parity::of(&actual, &expected, 1e-5, 1e-5).unwrap();
    assert!(parity.ok(), "max abs err {}", parity.max_abs_err);
}
