//! Step 3's diagram graph, for the test that keeps README.md's diagrams current.

use engine::Graph;
use engine::models::{DistilBert, DistilBertConfig};

/// DistilBERT for sequence classification with one encoder layer instead of six (the
/// others are the same nodes again): the graph README.md draws.
#[allow(dead_code)] // main.rs runs all six layers
pub fn one_layer() -> Result<Graph, Box<dyn std::error::Error>> {
    let config = DistilBertConfig {
        n_layers: 1,
        ..DistilBertConfig::sst2()
    };
    Ok(DistilBert::synthetic(config, 0)?.graph)
}
