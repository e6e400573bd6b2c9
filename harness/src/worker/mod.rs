//! Isolated worker processes: one per (case, round). See `protocol` for the wire format.

pub mod child;
pub mod parent;
pub mod protocol;

pub use parent::{WorkerOutcome, run_worker};
pub use protocol::{Job, Message};
