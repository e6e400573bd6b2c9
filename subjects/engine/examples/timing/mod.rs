//! What the timing examples share: numeric arguments with defaults, and the median.

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
