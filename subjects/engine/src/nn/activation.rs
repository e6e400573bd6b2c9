//! Activation functions named the way HuggingFace configs name them.

use crate::{Error, Graph, Result, Value};

/// An element-wise activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// GELU with the exact erf (`"gelu"` in HuggingFace configs).
    Gelu,
    /// GELU with the tanh approximation (`"gelu_new"`, `"gelu_pytorch_tanh"`, `"gelu_fast"`).
    GeluTanh,
    Relu,
}

impl Activation {
    /// Parses a HuggingFace activation name (`hidden_act` of BERT, `activation` of DistilBERT).
    pub fn from_hf_name(name: &str) -> Result<Self> {
        match name {
            "gelu" => Ok(Activation::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Activation::GeluTanh),
            "relu" => Ok(Activation::Relu),
            other => Err(Error::BadArgument {
                op: "activation".into(),
                why: format!(
                    "`{other}` is not supported (expected gelu, gelu_new, gelu_pytorch_tanh, gelu_fast or relu)"
                ),
            }),
        }
    }

    /// The name HuggingFace configs use for it.
    pub fn hf_name(self) -> &'static str {
        match self {
            Activation::Gelu => "gelu",
            Activation::GeluTanh => "gelu_new",
            Activation::Relu => "relu",
        }
    }

    pub fn forward(self, g: &mut Graph, x: Value) -> Result<Value> {
        match self {
            Activation::Gelu => g.gelu(x),
            Activation::GeluTanh => g.gelu_tanh(x),
            Activation::Relu => g.relu(x),
        }
    }
}
