//! Machine information recorded with every run (being written).
use serde::{Deserialize, Serialize};
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SystemInfo {}
