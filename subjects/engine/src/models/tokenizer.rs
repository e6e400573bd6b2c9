//! BERT WordPiece tokenization with HuggingFace's `tokenizers` library.
//!
//! Built from a `vocab.txt` (the bert-base-uncased vocabulary ships with this crate) the
//! pipeline is BERT's: `BertNormalizer` (clean text, split CJK characters, lowercase and strip
//! accents), `BertPreTokenizer` (whitespace and punctuation), WordPiece with `##`
//! continuations and `[UNK]`, then `[CLS] ... [SEP]`. A model folder's `tokenizer.json`, when
//! present, is used as written, except that its padding and truncation settings are replaced:
//! a batch is padded to its longest member (never to a fixed length) and sequences are
//! truncated at `max_len` tokens, special tokens included.

use std::path::Path;

use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, TruncationDirection, TruncationParams, TruncationStrategy};

use super::{ModelError, Result};
use crate::Tensor;

/// The bert-base-uncased WordPiece vocabulary (30,522 tokens), as all-MiniLM-L6-v2 and
/// distilbert-base-uncased use it. See `assets/README.md` for its origin and licence.
pub const BERT_BASE_UNCASED_VOCAB: &str = include_str!("../../assets/bert-base-uncased-vocab.txt");

/// Positions of BERT-family models; the default truncation length.
pub const DEFAULT_MAX_LEN: usize = 512;

const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// A tokenizer for BERT-family models.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    max_len: usize,
    pad_id: u32,
    source: String,
}

/// A tokenized batch, padded to its longest member.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Token ids per text, unpadded (`[CLS] ... [SEP]`).
    pub ids: Vec<Vec<i64>>,
    /// i64 `[batch, seq]`, padded with the pad id (0 for BERT vocabularies).
    pub input_ids: Tensor,
    /// i64 `[batch, seq]`: 1 for tokens, 0 for padding.
    pub attention_mask: Tensor,
    /// i64 `[batch, seq]`: segment ids (all 0 for single sentences).
    pub token_type_ids: Tensor,
}

impl Batch {
    pub fn batch_size(&self) -> usize {
        self.ids.len()
    }

    /// The padded length.
    pub fn seq_len(&self) -> usize {
        self.input_ids.dims()[1]
    }

    /// `[input_ids, attention_mask]`: the inputs of DistilBERT and of `BertModel::INPUTS`.
    pub fn inputs(&self) -> Vec<Tensor> {
        vec![self.input_ids.clone(), self.attention_mask.clone()]
    }

    /// `[input_ids, attention_mask, token_type_ids]` (`BertModel::INPUTS_WITH_TOKEN_TYPES`).
    pub fn inputs_with_token_types(&self) -> Vec<Tensor> {
        vec![
            self.input_ids.clone(),
            self.attention_mask.clone(),
            self.token_type_ids.clone(),
        ]
    }
}

impl Tokenizer {
    /// The bert-base-uncased tokenizer from the vocabulary shipped with this crate.
    pub fn bert_base_uncased() -> Result<Self> {
        Self::from_vocab_bytes(
            BERT_BASE_UNCASED_VOCAB.as_bytes(),
            true,
            "bert-base-uncased vocabulary (built in)",
        )
    }

    /// A BERT WordPiece tokenizer from a `vocab.txt` (one token per line, id = line number).
    pub fn from_vocab(path: &Path, lowercase: bool) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_vocab_bytes(&bytes, lowercase, &path.display().to_string())
    }

    fn from_vocab_bytes(bytes: &[u8], lowercase: bool, source: &str) -> Result<Self> {
        let err = |e: tokenizers::Error| ModelError::Tokenizer(format!("{source}: {e}"));
        let vocab = WordPiece::read_bytes(bytes).map_err(err)?;
        let id = |token: &str| {
            vocab.get(token).copied().ok_or_else(|| {
                ModelError::Tokenizer(format!("{source}: the vocabulary has no `{token}`"))
            })
        };
        let (cls, sep, pad) = (id("[CLS]")?, id("[SEP]")?, id("[PAD]")?);
        id("[UNK]")?;
        let special: Vec<AddedToken> = SPECIAL_TOKENS
            .iter()
            .filter(|t| vocab.contains_key(**t))
            .map(|t| AddedToken::from(*t, true))
            .collect();
        let model = WordPiece::builder()
            .vocab(vocab)
            .unk_token("[UNK]".into())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .map_err(err)?;
        let mut inner = tokenizers::Tokenizer::new(model);
        // strip_accents None follows `lowercase`, as BERT's tokenizer does.
        inner
            .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
            .map_err(err)?;
        inner.with_pre_tokenizer(Some(BertPreTokenizer));
        inner.with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )));
        inner.with_decoder(Some(WordPieceDecoder::new("##".into(), true)));
        inner.add_special_tokens(special).map_err(err)?;
        Self::finish(inner, pad, source)
    }

    /// A tokenizer from a HuggingFace `tokenizer.json`.
    pub fn from_tokenizer_json(path: &Path) -> Result<Self> {
        let source = path.display().to_string();
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| ModelError::Tokenizer(format!("{source}: {e}")))?;
        let pad = inner
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| inner.token_to_id("[PAD]"))
            .unwrap_or(0);
        Self::finish(inner, pad, &source)
    }

    /// The tokenizer of a model folder: its `tokenizer.json` if present, else its `vocab.txt`
    /// (lowercasing unless `tokenizer_config.json` says `"do_lower_case": false`). A
    /// sentence-transformers folder's `sentence_bert_config.json` sets the truncation length
    /// (`max_seq_length`, 256 for all-MiniLM-L6-v2), as sentence-transformers applies it;
    /// otherwise it is [`DEFAULT_MAX_LEN`].
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let read_json = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        };
        let json = dir.join("tokenizer.json");
        let vocab = dir.join("vocab.txt");
        let t = if json.is_file() {
            Self::from_tokenizer_json(&json)?
        } else if vocab.is_file() {
            let lowercase = read_json("tokenizer_config.json")
                .and_then(|v| v.get("do_lower_case").and_then(|b| b.as_bool()))
                .unwrap_or(true);
            Self::from_vocab(&vocab, lowercase)?
        } else {
            return Err(ModelError::Tokenizer(format!(
                "{}: neither tokenizer.json nor vocab.txt is there",
                dir.display()
            )));
        };
        match read_json("sentence_bert_config.json")
            .and_then(|v| v.get("max_seq_length").and_then(|n| n.as_u64()))
        {
            Some(n) => t.with_max_len(n as usize),
            None => Ok(t),
        }
    }

    fn finish(mut inner: tokenizers::Tokenizer, pad_id: u32, source: &str) -> Result<Self> {
        inner.with_padding(None);
        let mut t = Tokenizer {
            inner,
            max_len: DEFAULT_MAX_LEN,
            pad_id,
            source: source.to_string(),
        };
        t.set_max_len(DEFAULT_MAX_LEN)?;
        Ok(t)
    }

    /// Truncates sequences to `max_len` tokens, `[CLS]` and `[SEP]` included (normally the
    /// model's `max_position_embeddings`).
    pub fn with_max_len(mut self, max_len: usize) -> Result<Self> {
        self.set_max_len(max_len)?;
        Ok(self)
    }

    fn set_max_len(&mut self, max_len: usize) -> Result<()> {
        self.inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| ModelError::Tokenizer(format!("{}: {e}", self.source)))?;
        self.max_len = max_len;
        Ok(())
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Where the vocabulary came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The ids of one text, `[CLS]` and `[SEP]` included, truncated to `max_len`.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(format!("{}: {e}", self.source)))?;
        Ok(enc.get_ids().iter().map(|&i| i as i64).collect())
    }

    /// The word pieces of one text (for display), special tokens included.
    pub fn tokens(&self, text: &str) -> Result<Vec<String>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(format!("{}: {e}", self.source)))?;
        Ok(enc.get_tokens().to_vec())
    }

    /// Tokenizes texts one by one (on this thread) and pads them to the longest.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Batch> {
        let ids: Vec<Vec<i64>> = texts
            .iter()
            .map(|t| self.encode(t.as_ref()))
            .collect::<Result<_>>()?;
        Ok(self.pad(ids))
    }

    /// Pads id sequences to the longest one.
    pub fn pad(&self, ids: Vec<Vec<i64>>) -> Batch {
        let batch = ids.len();
        let seq = ids.iter().map(Vec::len).max().unwrap_or(0);
        let mut input_ids = vec![self.pad_id as i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        for (row, seq_ids) in ids.iter().enumerate() {
            input_ids[row * seq..row * seq + seq_ids.len()].copy_from_slice(seq_ids);
            mask[row * seq..row * seq + seq_ids.len()].fill(1);
        }
        let tensor = |v| Tensor::from_i64(&[batch, seq], v).expect("batch * seq elements");
        Batch {
            ids,
            input_ids: tensor(input_ids),
            attention_mask: tensor(mask),
            token_type_ids: tensor(vec![0; batch * seq]),
        }
    }
}
