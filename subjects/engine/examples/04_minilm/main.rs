//! Learning path, step 4: sentence embeddings with all-MiniLM-L6-v2 (a 6-layer BERT encoder,
//! mean pooling over the tokens, L2 normalisation), text in, unit vector out.
//!
//! Tokenizes each text with the model's own WordPiece vocabulary, runs the embedding graph
//! compiled for the CPU (or the GPU), checks every embedding against the reference
//! interpreter (f64, op by op) and prints it; with two or more texts, also their cosine
//! similarities. Exits non-zero when verification fails.
//!
//!     cargo run -p engine --release --example 04_minilm -- [OPTIONS] TEXT...
//!
//! Options:
//!   --model-dir DIR   a sentence-transformers folder with config.json, model.safetensors and
//!                     tokenizer.json or vocab.txt (default: the all-MiniLM-L6-v2 weights that
//!                     scripts/setup-baselines installs into .venv, or GRAPHBENCH_MINILM_DIR)
//!   --json            one JSON object per text and line on stdout:
//!                     {"text", "input_ids", "embedding"}
//!   --threads N       CPU threads of the executable (default 1)
//!   --device cpu|gpu  where the engine runs (default cpu)

#[path = "../common/mod.rs"]
mod common;
mod graph;

use std::process::ExitCode;

use common::ModelArgs;
use engine::models::{SentenceEmbedder, Tokenizer, minilm_dir};

const USAGE: &str =
    "usage: 04_minilm [--model-dir DIR] [--json] [--threads N] [--device cpu|gpu] TEXT...";

fn main() -> ExitCode {
    let mut args = match common::model_args(USAGE, |_, _| Ok(false)) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.texts.is_empty() {
        args.texts = vec![
            "A man is eating food.".into(),
            "A man is eating a piece of bread.".into(),
            "The girl is carrying a baby.".into(),
        ];
        eprintln!("(no TEXT given: embedding three example sentences)");
    }
    common::exit_code(run(&args))
}

fn run(args: &ModelArgs) -> Result<bool, Box<dyn std::error::Error>> {
    let dir = match args.model_dir.clone().or_else(minilm_dir) {
        Some(dir) => dir,
        None => {
            return Err(
                "no all-MiniLM-L6-v2 weights found: run scripts/setup-baselines \
                        (installs them into .venv), set GRAPHBENCH_MINILM_DIR, or pass \
                        --model-dir DIR"
                    .into(),
            );
        }
    };
    let model = SentenceEmbedder::from_dir(&dir)?;
    let tokenizer =
        Tokenizer::from_dir(&dir)?.with_max_len(model.config.max_position_embeddings)?;
    let options = common::options_for(&args.device, args.threads)?;
    let mut exe = engine::compile(&model.graph, &options)?;
    eprintln!(
        "weights: {}; tokenizer: {}",
        model.weights_source,
        tokenizer.source()
    );

    let mut verified = true;
    let mut embeddings = Vec::new();
    for text in &args.texts {
        let batch = tokenizer.encode_batch(&[text])?;
        let out = exe.run(&batch.inputs())?;
        // The reference interpreter computes the same graph in f64, op by op.
        let parity = common::against_reference(&model.graph, &batch.inputs(), &out, 1e-4, 1e-3)?;
        verified &= parity.ok();
        let embedding = out[0].as_f32()?.to_vec();
        if args.json {
            // Keys in the documented order: text, input_ids, embedding.
            println!(
                "{{\"text\":{},\"input_ids\":{},\"embedding\":{}}}",
                common::json(&text),
                common::json(&batch.ids[0]),
                common::json(&embedding),
            );
        } else {
            let norm = embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
            let head: Vec<String> = embedding[..4].iter().map(|x| format!("{x:.4}")).collect();
            println!(
                "{text:?}: {} tokens -> {} dims [{}, ...], norm {norm:.4}; reference: {}",
                batch.ids[0].len(),
                embedding.len(),
                head.join(", "),
                common::verdict(&parity)
            );
        }
        embeddings.push(embedding);
    }
    if !args.json && embeddings.len() > 1 {
        println!("cosine similarity:");
        for (i, a) in embeddings.iter().enumerate() {
            for (j, b) in embeddings.iter().enumerate().skip(i + 1) {
                let c = SentenceEmbedder::cosine(a, b);
                println!("  {c:.4}  {:?} ~ {:?}", args.texts[i], args.texts[j]);
            }
        }
    }
    Ok(verified)
}
