//! What the timing examples share: numeric arguments with defaults, the median, and
//! DistilBERT's inputs.

#![allow(dead_code)] // each example uses its own subset

use std::time::Duration;

/// Command-line argument `i` as a number, or `default` when absent.
pub fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .map_or(default, |s| s.parse().expect("arguments are numbers"))
}

/// The median of `v` (the upper one of an even count); `v` must not be empty.
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Token ids and an all-ones mask for `batch` sequences of `seq` tokens: the inputs every
/// DistilBERT timing runs on.
pub fn distilbert_inputs(batch: usize, seq: usize) -> [engine::Tensor; 2] {
    let ids: Vec<i64> = (0..(batch * seq) as i64)
        .map(|i| 100 + i * 37 % 20000)
        .collect();
    [
        engine::Tensor::from_i64(&[batch, seq], ids).expect("ids"),
        engine::Tensor::from_i64(&[batch, seq], vec![1; batch * seq]).expect("mask"),
    ]
}
