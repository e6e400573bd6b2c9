//! The model graphs on every runtime: DistilBERT at full size, a small DistilBERT whose batch
//! and sequence change from run to run in one session, a MiniLM-sized BERT, the MLP and the
//! CNN, and the compiler's fused graphs, each against the reference interpreter.

mod common;

use common::{check, check_runs, random, runtimes, small_distilbert, token_inputs};
use engine::models::{BertConfig, Cnn, DistilBert, DistilBertConfig, Mlp, SentenceEmbedder};
use engine::{CompileOptions, Parity, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn distilbert_sst2_at_seq_8() {
    let model = DistilBert::synthetic(DistilBertConfig::sst2(), 1).unwrap();
    let inputs = token_inputs(&mut ChaCha8Rng::seed_from_u64(3), 30522, 1, 8);
    let expected = engine::reference::run(&model.graph, &inputs).unwrap();
    for s in runtimes() {
        let out = s.load(&model.graph, 1).unwrap().run(&inputs).unwrap();
        let p = Parity::of(&out, &expected, 1e-4, 1e-3).unwrap();
        eprintln!("{} vs reference, DistilBERT seq 8 batch 1: {p:?}", s.name());
        assert!(p.ok(), "{}: {p:?}", s.name());
        assert_eq!(out[0].dims(), [1, 2]);
    }
}

/// One session, several bindings of `batch` and `seq`.
#[test]
fn small_distilbert_with_symbolic_batch_and_seq() {
    let model = DistilBert::synthetic(small_distilbert(), 2).unwrap();
    let rng = &mut ChaCha8Rng::seed_from_u64(4);
    let runs: Vec<Vec<Tensor>> = [(1, 5), (3, 9), (2, 16)]
        .into_iter()
        .map(|(batch, seq)| token_inputs(rng, 97, batch, seq))
        .collect();
    for s in runtimes() {
        check_runs(&*s, &model.graph, &runs, (1e-5, 1e-4));
    }
}

#[test]
fn minilm_mlp_and_cnn() {
    let rng = &mut ChaCha8Rng::seed_from_u64(14);
    let tol = (1e-4, 1e-3);
    let mlp = Mlp::synthetic(1).unwrap();
    let mlp_runs = [
        vec![random(rng, &[1, Mlp::WIDTHS[0]], -1.0, 1.0)],
        vec![random(rng, &[16, Mlp::WIDTHS[0]], -1.0, 1.0)],
    ];
    let cnn = Cnn::synthetic(1).unwrap();
    let [c, h, w] = Cnn::IMAGE;
    let cnn_runs = [vec![random(rng, &[2, c, h, w], 0.0, 1.0)]];
    // MiniLM-sized BERT (6 layers, hidden 384) with synthetic weights, two shapes.
    let minilm = SentenceEmbedder::synthetic(BertConfig::all_minilm_l6_v2(), 2).unwrap();
    let vocab = minilm.config.vocab_size;
    let minilm_runs = [
        token_inputs(rng, vocab, 2, 7),
        token_inputs(rng, vocab, 1, 4),
    ];
    for s in runtimes() {
        check_runs(&*s, &mlp, &mlp_runs, tol);
        check_runs(&*s, &cnn, &cnn_runs, tol);
        check_runs(&*s, &minilm.graph, &minilm_runs, tol);
    }
}

/// The compiler's outputs (fused element-wise programs, matmul epilogues, add+layer_norm,
/// folded constants) are graphs too, and every runtime runs them. (Their weights may be in
/// the small-M kernel's panel order, which the reference reads the same way: this checks the
/// fused ops, not the model.)
#[test]
fn compiled_graphs_with_fused_ops() {
    let rng = &mut ChaCha8Rng::seed_from_u64(5);
    let distilbert = DistilBert::synthetic(small_distilbert(), 2).unwrap().graph;
    let cases = vec![
        (distilbert, token_inputs(rng, 97, 2, 7)),
        (
            Mlp::synthetic(1).unwrap(),
            vec![random(rng, &[4, Mlp::WIDTHS[0]], -1.0, 1.0)],
        ),
        (
            Cnn::synthetic(1).unwrap(),
            vec![random(rng, &[2, 1, 28, 28], 0.0, 1.0)],
        ),
    ];
    let runtimes = runtimes();
    for (graph, inputs) in cases {
        let exe = engine::compile(&graph, &CompileOptions::default()).unwrap();
        let fused = exe.graph();
        assert!(
            fused
                .nodes()
                .iter()
                .any(|n| matches!(n.op, engine::ops::Op::Fused(_))),
            "{}: nothing was fused",
            graph.name()
        );
        for s in &runtimes {
            check(&**s, fused, &inputs, (1e-5, 1e-4));
        }
    }
}
