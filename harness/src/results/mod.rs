//! Results: the model (`results.json`), its statistics, and where runs are stored.

pub mod model;
pub mod store;
mod summarize;
pub mod timestamp;

pub use model::*;
pub use summarize::summarize_case;
