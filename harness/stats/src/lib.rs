//! Benchmark statistics for graphbench: summaries with confidence intervals, the percentile
//! bootstrap, distribution-free quantile intervals and the Mann–Whitney U test.
//!
//! Benchmark samples are skewed, heavy-tailed and often multi-modal, so everything here is
//! distribution-free (order statistics, ranks, resampling) and deterministic (seeded), and
//! every estimate comes with its interval. This crate is a leaf: it depends on nothing of
//! graphbench, so its numbers can be trusted and tested in isolation.
//!
//! Callers must not pass NaN samples: they are not filtered, and the results are then
//! meaningless, but nothing panics.
//!
//! - [`summary`]: [`summarize`] one case's samples into a [`Summary`].
//! - [`mod@quantile`]: type-7 quantiles and their order-statistic CIs; which percentiles a
//!   sample size supports.
//! - [`bootstrap`]: percentile-bootstrap CIs and the ratio of two medians.
//! - [`mann_whitney`]: the two-sided rank test for "did it change?".
//! - [`compare`]: the one [`verdict`] function (faster / slower / unchanged / inconclusive)
//!   that every comparison in graphbench calls.

pub mod bootstrap;
pub mod compare;
pub mod mann_whitney;
pub mod quantile;
pub mod summary;

pub use bootstrap::{Estimate, bootstrap_ci, ratio_of_medians, ratio_of_process_medians};
pub use compare::{Comparison, Verdict, process_medians, verdict};
pub use mann_whitney::{MannWhitney, mann_whitney_u};
pub use quantile::{
    median_ci, median_ci_half_width, percentile_supported, quantile, quantile_ci,
    samples_for_percentile,
};
pub use summary::{Interval, Options, Outliers, Percentile, Summary, mean, summarize};
