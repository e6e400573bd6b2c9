//! Results: the model (`results.json`), its statistics, and where runs are stored.

mod labels;
pub mod model;
pub mod store;
mod summarize;
pub mod timestamp;

pub use labels::{threads_text, value_text};
pub use model::*;
pub use summarize::{finish_case, scale_case, settle_interrupted, summarize_case};
