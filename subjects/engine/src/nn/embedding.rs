//! Table look-up of token or position embeddings.

use crate::{Graph, Result, Tensor, Value};

/// Rows of a `[num_embeddings, dim]` table picked by i64 indices: `[..] -> [.., dim]`.
pub struct Embedding {
    table: Value,
}

impl Embedding {
    pub fn new(g: &mut Graph, table: Tensor) -> Self {
        Embedding {
            table: g.constant(table),
        }
    }

    pub fn table(&self) -> Value {
        self.table
    }

    /// Looks up `indices` (i64, any shape).
    pub fn forward(&self, g: &mut Graph, indices: Value) -> Result<Value> {
        g.gather(self.table, indices)
    }
}
