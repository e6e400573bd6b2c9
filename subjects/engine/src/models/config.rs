//! Model configurations read from HuggingFace `config.json` files.
//!
//! Fields are read one by one so that an error names the file and the field: a missing
//! required field, a value of the wrong type, or a value the model cannot use.

use std::path::Path;

use serde_json::{Map, Value as Json};

use super::{ModelError, Result};
use crate::nn::Activation;

/// DistilBERT (`DistilBertForSequenceClassification`) hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct DistilBertConfig {
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    /// Model width (`dim`).
    pub dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    /// Feed-forward width (`hidden_dim`).
    pub hidden_dim: usize,
    /// `activation`: `"gelu"` is the exact erf GELU; `"gelu_new"`/`"gelu_pytorch_tanh"` tanh.
    pub activation: Activation,
    /// HuggingFace's DistilBERT hard-codes 1e-12; a `layer_norm_eps` field overrides it.
    pub layer_norm_eps: f32,
    /// Class names in id order (`id2label`; `LABEL_0`, `LABEL_1` when absent, as HF does).
    pub labels: Vec<String>,
}

impl DistilBertConfig {
    /// distilbert-base-uncased-finetuned-sst-2-english: vocab 30522, dim 768, 6 layers,
    /// 12 heads, FFN 3072, 512 positions, exact GELU, labels NEGATIVE / POSITIVE.
    pub fn sst2() -> Self {
        DistilBertConfig {
            vocab_size: 30522,
            max_position_embeddings: 512,
            dim: 768,
            n_layers: 6,
            n_heads: 12,
            hidden_dim: 3072,
            activation: Activation::Gelu,
            layer_norm_eps: 1e-12,
            labels: vec!["NEGATIVE".into(), "POSITIVE".into()],
        }
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = read(path)?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses config.json text; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Self> {
        let f = Fields::parse(text, file)?;
        f.expect_model_type(&["distilbert"])?;
        let config = DistilBertConfig {
            vocab_size: f.usize("vocab_size")?,
            max_position_embeddings: f.usize("max_position_embeddings")?,
            dim: f.usize("dim")?,
            n_layers: f.usize("n_layers")?,
            n_heads: f.usize("n_heads")?,
            hidden_dim: f.usize("hidden_dim")?,
            activation: f.activation("activation", "gelu")?,
            layer_norm_eps: f.opt_f32("layer_norm_eps")?.unwrap_or(1e-12),
            labels: f.labels()?,
        };
        config.validate(file)?;
        Ok(config)
    }

    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    pub fn n_labels(&self) -> usize {
        self.labels.len()
    }

    /// Checks what the model needs: heads divide the width, at least one label.
    pub fn validate(&self, file: &str) -> Result<()> {
        check_heads(file, "dim", self.dim, "n_heads", self.n_heads)?;
        if self.labels.is_empty() {
            return Err(config_error(file, "`id2label` is empty".into()));
        }
        Ok(())
    }

    /// Parameter count of the checkpoint these shapes describe.
    pub fn parameter_count(&self) -> usize {
        let (d, f, l) = (self.dim, self.hidden_dim, self.n_layers);
        let embeddings = (self.vocab_size + self.max_position_embeddings) * d + 2 * d;
        let layer = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 4 * d;
        let head = (d * d + d) + (d * self.n_labels() + self.n_labels());
        embeddings + l * layer + head
    }
}

/// BERT encoder (`BertModel`) hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub type_vocab_size: usize,
    /// `hidden_act` (default `"gelu"`, the exact erf GELU).
    pub hidden_act: Activation,
    /// `layer_norm_eps` (default 1e-12).
    pub layer_norm_eps: f32,
}

impl BertConfig {
    /// sentence-transformers/all-MiniLM-L6-v2: vocab 30522, hidden 384, 6 layers, 12 heads,
    /// FFN 1536, 512 positions, 2 token types.
    pub fn all_minilm_l6_v2() -> Self {
        BertConfig {
            vocab_size: 30522,
            max_position_embeddings: 512,
            hidden_size: 384,
            num_hidden_layers: 6,
            num_attention_heads: 12,
            intermediate_size: 1536,
            type_vocab_size: 2,
            hidden_act: Activation::Gelu,
            layer_norm_eps: 1e-12,
        }
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = read(path)?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses config.json text; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Self> {
        let f = Fields::parse(text, file)?;
        f.expect_model_type(&["bert"])?;
        if let Some(kind) = f.opt_str("position_embedding_type")?
            && kind != "absolute"
        {
            return Err(config_error(
                file,
                format!(
                    "field `position_embedding_type` is `{kind}`; only `absolute` is supported"
                ),
            ));
        }
        let config = BertConfig {
            vocab_size: f.usize("vocab_size")?,
            max_position_embeddings: f.usize("max_position_embeddings")?,
            hidden_size: f.usize("hidden_size")?,
            num_hidden_layers: f.usize("num_hidden_layers")?,
            num_attention_heads: f.usize("num_attention_heads")?,
            intermediate_size: f.usize("intermediate_size")?,
            type_vocab_size: f.opt_usize("type_vocab_size")?.unwrap_or(2),
            hidden_act: f.activation("hidden_act", "gelu")?,
            layer_norm_eps: f.opt_f32("layer_norm_eps")?.unwrap_or(1e-12),
        };
        config.validate(file)?;
        Ok(config)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    pub fn validate(&self, file: &str) -> Result<()> {
        check_heads(
            file,
            "hidden_size",
            self.hidden_size,
            "num_attention_heads",
            self.num_attention_heads,
        )?;
        if self.type_vocab_size == 0 {
            return Err(config_error(file, "field `type_vocab_size` is 0".into()));
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn config_error(file: &str, why: String) -> ModelError {
    ModelError::Config {
        file: file.into(),
        why,
    }
}

fn check_heads(file: &str, width: &str, w: usize, heads: &str, h: usize) -> Result<()> {
    if h == 0 || !w.is_multiple_of(h) {
        return Err(config_error(
            file,
            format!("field `{width}` ({w}) is not a multiple of field `{heads}` ({h})"),
        ));
    }
    Ok(())
}

/// The top-level object of a config file, read field by field.
struct Fields<'a> {
    obj: Map<String, Json>,
    file: &'a str,
}

impl<'a> Fields<'a> {
    fn parse(text: &str, file: &'a str) -> Result<Self> {
        let value: Json = serde_json::from_str(text)
            .map_err(|e| config_error(file, format!("not valid JSON: {e}")))?;
        match value {
            Json::Object(obj) => Ok(Fields { obj, file }),
            _ => Err(config_error(file, "expected a JSON object".into())),
        }
    }

    fn error(&self, field: &str, why: String) -> ModelError {
        config_error(self.file, format!("field `{field}` {why}"))
    }

    fn get(&self, field: &str) -> Option<&Json> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    fn opt_usize(&self, field: &str) -> Result<Option<usize>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                self.error(field, format!("is {v}, expected a non-negative integer"))
            }),
        }
    }

    fn usize(&self, field: &str) -> Result<usize> {
        self.opt_usize(field)?
            .ok_or_else(|| self.error(field, "is missing".into()))
    }

    fn opt_f32(&self, field: &str) -> Result<Option<f32>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(|x| Some(x as f32))
                .ok_or_else(|| self.error(field, format!("is {v}, expected a number"))),
        }
    }

    fn opt_str(&self, field: &str) -> Result<Option<&str>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.error(field, format!("is {v}, expected a string"))),
        }
    }

    fn activation(&self, field: &str, default: &str) -> Result<Activation> {
        let name = self.opt_str(field)?.unwrap_or(default);
        Activation::from_hf_name(name).map_err(|_| {
            self.error(
                field,
                format!(
                    "is `{name}`; supported: gelu (exact erf), gelu_new / gelu_pytorch_tanh / gelu_fast (tanh), relu"
                ),
            )
        })
    }

    fn expect_model_type(&self, allowed: &[&str]) -> Result<()> {
        match self.opt_str("model_type")? {
            Some(t) if !allowed.contains(&t) => Err(self.error(
                "model_type",
                format!("is `{t}`, expected {}", allowed.join(" or ")),
            )),
            _ => Ok(()),
        }
    }

    /// `id2label` (`{"0": "NEGATIVE", "1": "POSITIVE"}`) as names in id order.
    fn labels(&self) -> Result<Vec<String>> {
        let Some(v) = self.get("id2label") else {
            let n = self.opt_usize("num_labels")?.unwrap_or(2);
            return Ok((0..n).map(|i| format!("LABEL_{i}")).collect());
        };
        let Json::Object(map) = v else {
            return Err(self.error("id2label", format!("is {v}, expected an object")));
        };
        let mut labels = vec![None; map.len()];
        for (id, name) in map {
            let slot = id
                .parse::<usize>()
                .ok()
                .and_then(|i| labels.get_mut(i))
                .ok_or_else(|| {
                    self.error(
                        "id2label",
                        format!("has key `{id}`; keys must be the ids 0..{}", map.len()),
                    )
                })?;
            let name = name.as_str().ok_or_else(|| {
                self.error(
                    "id2label",
                    format!("maps `{id}` to {name}, expected a string"),
                )
            })?;
            *slot = Some(name.to_string());
        }
        // Keys are distinct and all below the count, so every slot is filled.
        Ok(labels.into_iter().map(Option::unwrap_or_default).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distilbert_sst2_config() {
        let text = r#"{"activation": "gelu", "architectures": ["DistilBertForSequenceClassification"],
            "dim": 768, "dropout": 0.1, "finetuning_task": "sst-2", "hidden_dim": 3072,
            "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "initializer_range": 0.02,
            "label2id": {"NEGATIVE": 0, "POSITIVE": 1}, "max_position_embeddings": 512,
            "model_type": "distilbert", "n_heads": 12, "n_layers": 6, "output_past": true,
            "pad_token_id": 0, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
            "sinusoidal_pos_embds": false, "tie_weights_": true, "vocab_size": 30522}"#;
        let c = DistilBertConfig::from_json(text, "config.json").unwrap();
        assert_eq!(c, DistilBertConfig::sst2());
        assert_eq!(c.head_dim(), 64);
        // 66,955,010 parameters, as HuggingFace counts them.
        assert_eq!(c.parameter_count(), 66_955_010);
    }

    #[test]
    fn errors_name_file_and_field() {
        let e = DistilBertConfig::from_json(r#"{"dim": 768}"#, "x/config.json").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x/config.json: field `vocab_size` is missing"
        );
        let e = DistilBertConfig::from_json(
            r#"{"vocab_size": 10, "max_position_embeddings": 8, "dim": "big", "n_layers": 1, "n_heads": 2, "hidden_dim": 4}"#,
            "c.json",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.json: field `dim` is \"big\", expected a non-negative integer"
        );
        let e = DistilBertConfig::from_json(
            r#"{"vocab_size": 10, "max_position_embeddings": 8, "dim": 6, "n_layers": 1, "n_heads": 4, "hidden_dim": 4, "activation": "swish"}"#,
            "c.json",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("field `activation` is `swish`"),
            "{e}"
        );
        let e = BertConfig::from_json(r#"{"model_type": "distilbert"}"#, "c.json").unwrap_err();
        assert!(
            e.to_string().contains("field `model_type` is `distilbert`"),
            "{e}"
        );
        let e = DistilBertConfig::from_json("{", "c.json").unwrap_err();
        assert!(e.to_string().starts_with("c.json: not valid JSON"), "{e}");
    }

    #[test]
    fn defaults_and_variants() {
        let text = r#"{"vocab_size": 10, "max_position_embeddings": 8, "dim": 8, "n_layers": 1,
            "n_heads": 2, "hidden_dim": 4, "activation": "gelu_pytorch_tanh", "num_labels": 3}"#;
        let c = DistilBertConfig::from_json(text, "c.json").unwrap();
        assert_eq!(c.activation, Activation::GeluTanh);
        assert_eq!(c.layer_norm_eps, 1e-12);
        assert_eq!(c.labels, ["LABEL_0", "LABEL_1", "LABEL_2"]);
        let e = DistilBertConfig::from_json(
            &text.replace("\"n_heads\": 2", "\"n_heads\": 3"),
            "c.json",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a multiple"), "{e}");
        let bad = text.replace(
            "\"num_labels\": 3",
            "\"id2label\": {\"0\": \"a\", \"2\": \"b\"}",
        );
        let e = DistilBertConfig::from_json(&bad, "c.json").unwrap_err();
        assert!(e.to_string().contains("has key `2`"), "{e}");
    }

    #[test]
    fn minilm_config() {
        let text = r#"{"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": 384,
            "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
            "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 6,
            "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": 30522}"#;
        assert_eq!(
            BertConfig::from_json(text, "c.json").unwrap(),
            BertConfig::all_minilm_l6_v2()
        );
    }
}
