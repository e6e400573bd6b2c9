//! Step 4's diagram graph, for the test that keeps README.md's diagrams current.

use engine::Graph;
use engine::models::{BertConfig, SentenceEmbedder};

/// all-MiniLM-L6-v2's sentence-embedding graph with one encoder layer instead of six (the
/// others are the same nodes again): the graph README.md draws.
#[allow(dead_code)] // main.rs runs all six layers
pub fn one_layer() -> Result<Graph, Box<dyn std::error::Error>> {
    let config = BertConfig {
        num_hidden_layers: 1,
        ..BertConfig::all_minilm_l6_v2()
    };
    Ok(SentenceEmbedder::synthetic(config, 0)?.graph)
}
