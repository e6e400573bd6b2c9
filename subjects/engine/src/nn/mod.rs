//! Layers built from graph ops, one file per layer.
//!
//! A layer holds the graph values of its weights (constants added when it is built) and adds
//! its ops to a graph on `forward`. Weight layouts follow PyTorch and HuggingFace, so a
//! checkpoint's tensors are used as stored: Linear weights are `[out, in]`.

mod activation;
mod attention;
mod embedding;
mod encoder_layer;
mod feed_forward;
mod layer_norm;
mod linear;

pub use activation::Activation;
pub use attention::MultiHeadAttention;
pub use embedding::Embedding;
pub use encoder_layer::PostNormEncoderLayer;
pub use feed_forward::FeedForward;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
