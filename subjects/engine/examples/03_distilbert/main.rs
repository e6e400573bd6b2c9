//! Learning path, step 3: DistilBERT sentiment classification, text in, label out.
//!
//! Tokenizes each text with BERT's WordPiece tokenizer, runs
//! `DistilBertForSequenceClassification` compiled for the CPU (or the GPU), and prints the label, its
//! softmax confidence and the raw logits. Every batch's logits are checked against the
//! reference interpreter (f64, op by op) on the same graph; the program exits non-zero when
//! they disagree.
//!
//!     cargo run -p engine --release --example 03_distilbert -- [OPTIONS] TEXT...
//!
//! Options:
//!   --model-dir DIR   a HuggingFace DistilBERT folder: config.json, model.safetensors and
//!                     vocab.txt or tokenizer.json (e.g. a download of
//!                     distilbert-base-uncased-finetuned-sst-2-english). Without it the
//!                     weights are synthetic (deterministic, the real model's shapes) and the
//!                     labels mean nothing; the program says so.
//!   --json            one JSON object per text and line on stdout:
//!                     {"text", "input_ids", "logits", "label", "confidence"}
//!   --batched         run all texts as one batch padded to the longest (default: one by one)
//!   --seed N          seed of the synthetic weights (default 0)
//!   --threads N       CPU threads of the executable (default 1)
//!   --device cpu|gpu  where the engine runs (default cpu; gpu: wgpu's default adapter)

#[path = "../common/mod.rs"]
mod common;
mod graph;

use std::process::ExitCode;
use std::time::Instant;

use common::ModelArgs;
use engine::Tensor;
use engine::models::{DistilBert, DistilBertConfig, Tokenizer};

/// 03's options: the shared ones and its own.
struct Args {
    shared: ModelArgs,
    batched: bool,
    seed: u64,
}

const USAGE: &str = "usage: 03_distilbert [--model-dir DIR] [--json] [--batched] [--seed N] [--threads N] [--device cpu|gpu] TEXT...";

fn main() -> ExitCode {
    let (mut batched, mut seed) = (false, 0);
    let own = |flag: &str, value: &mut dyn FnMut() -> Result<String, String>| {
        match flag {
            "--batched" => batched = true,
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            _ => return Ok(false),
        }
        Ok(true)
    };
    let mut shared = match common::model_args(USAGE, own) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if shared.texts.is_empty() {
        shared.texts = vec![
            "I love this movie, it is wonderful!".into(),
            "This was a terrible waste of time.".into(),
        ];
        eprintln!("(no TEXT given: classifying two example sentences)");
    }
    let args = Args {
        shared,
        batched,
        seed,
    };
    common::exit_code(run(&args))
}

fn run(args: &Args) -> Result<bool, Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let (model, tokenizer) = match &args.shared.model_dir {
        Some(dir) => {
            let model = DistilBert::from_dir(dir)?;
            let tokenizer =
                Tokenizer::from_dir(dir)?.with_max_len(model.config.max_position_embeddings)?;
            (model, tokenizer)
        }
        None => (
            DistilBert::synthetic(DistilBertConfig::sst2(), args.seed)?,
            Tokenizer::bert_base_uncased()?,
        ),
    };
    let options = common::options_for(&args.shared.device, args.shared.threads)?;
    let mut exe = engine::compile(&model.graph, &options)?;
    if model.synthetic {
        eprintln!(
            "weights: {} -- SYNTHETIC: the shapes of distilbert-base-uncased-finetuned-sst-2-english \
             ({} parameters) with random values, so labels and confidences mean nothing; pass \
             --model-dir DIR for real weights",
            model.weights_source,
            model.config.parameter_count()
        );
    } else {
        eprintln!("weights: {}", model.weights_source);
    }
    eprintln!(
        "tokenizer: {}; loaded and compiled in {:.2} s",
        tokenizer.source(),
        t0.elapsed().as_secs_f64()
    );

    let groups: Vec<Vec<&String>> = if args.batched {
        vec![args.shared.texts.iter().collect()]
    } else {
        args.shared.texts.iter().map(|t| vec![t]).collect()
    };
    let mut verified = true;
    for texts in groups {
        let batch = tokenizer.encode_batch(&texts)?;
        let out = exe.run(&batch.inputs())?;
        let parity = common::against_reference(&model.graph, &batch.inputs(), &out, 1e-3, 1e-3)?;
        eprintln!(
            "verified against the reference interpreter: {}",
            common::verdict(&parity)
        );
        verified &= parity.ok();
        let logits: &Tensor = &out[0];
        let n_labels = logits.dims()[1];
        for (row, text) in texts.iter().enumerate() {
            let l = &logits.as_f32()?[row * n_labels..(row + 1) * n_labels];
            let (label, confidence) = model.predict(l);
            if args.shared.json {
                // Keys in the documented order: text, input_ids, logits, label, confidence.
                let line = format!(
                    "{{\"text\":{},\"input_ids\":{},\"logits\":{},\"label\":{},\"confidence\":{}}}",
                    common::json(&text),
                    common::json(&batch.ids[row]),
                    common::json(l),
                    common::json(&label),
                    common::json(&confidence),
                );
                println!("{line}");
            } else {
                let shown: Vec<String> = l.iter().map(|x| format!("{x:.4}")).collect();
                println!(
                    "{label:<10} {confidence:.4}  logits [{}]  {text:?}",
                    shown.join(", ")
                );
            }
        }
    }
    Ok(verified)
}
