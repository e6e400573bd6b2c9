//! Deterministic synthetic data: the same seed gives the same tensors in every process.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

pub fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Token ids of `batch` synthetic sentences of exactly `seq_len` tokens, `[CLS] ... [SEP]`,
/// drawn from the vocabulary's word pieces, with an all-ones attention mask.
pub fn token_batch(
    seed: u64,
    batch: usize,
    seq_len: usize,
    vocab: usize,
) -> anyhow::Result<[engine::Tensor; 2]> {
    const CLS: i64 = 101;
    const SEP: i64 = 102;
    // bert-base-uncased: ids below 1996 are special, unused and single characters.
    const FIRST_WORD: i64 = 1996;
    anyhow::ensure!(
        seq_len >= 2,
        "seq_len must be at least 2 ([CLS] and [SEP]), got {seq_len}"
    );
    let mut rng = rng(seed, 2);
    let mut ids = Vec::with_capacity(batch * seq_len);
    for _ in 0..batch {
        ids.push(CLS);
        for _ in 0..seq_len - 2 {
            ids.push(rng.random_range(FIRST_WORD..vocab as i64));
        }
        ids.push(SEP);
    }
    Ok([
        engine::Tensor::from_i64(&[batch, seq_len], ids)?,
        engine::Tensor::from_i64(&[batch, seq_len], vec![1; batch * seq_len])?,
    ])
}
