//! Shapes with static or symbolic dimensions.
//!
//! A graph is built once with symbolic dims ("batch", "seq") and run with many concrete
//! shapes. Inference works on both: a concrete shape is a `Shape` whose dims are all static,
//! so the same `Op::infer` checks build-time graphs and run-time inputs.

use std::collections::HashMap;
use std::fmt;

/// One dimension: a known size, or a named size bound when the graph runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    Static(usize),
    Sym(String),
}

impl Dim {
    pub fn as_static(&self) -> Option<usize> {
        match self {
            Dim::Static(n) => Some(*n),
            Dim::Sym(_) => None,
        }
    }
}

impl From<usize> for Dim {
    fn from(n: usize) -> Self {
        Dim::Static(n)
    }
}

impl From<&str> for Dim {
    fn from(s: &str) -> Self {
        Dim::Sym(s.to_string())
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Static(n) => write!(f, "{n}"),
            Dim::Sym(s) => f.write_str(s),
        }
    }
}

/// Builds a `Vec<Dim>` from a mix of sizes and symbol names: `dims!["batch", 128]`.
#[macro_export]
macro_rules! dims {
    ($($d:expr),* $(,)?) => { vec![$($crate::Dim::from($d)),*] };
}

/// Values of the symbolic dims for one run.
pub type Bindings = HashMap<String, usize>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    pub fn new(dims: Vec<Dim>) -> Self {
        Shape(dims)
    }

    pub fn from_static(dims: &[usize]) -> Self {
        Shape(dims.iter().map(|&d| Dim::Static(d)).collect())
    }

    pub fn scalar() -> Self {
        Shape(Vec::new())
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    pub fn dims(&self) -> &[Dim] {
        &self.0
    }

    /// The sizes, when every dim is static.
    pub fn to_static(&self) -> Option<Vec<usize>> {
        self.0.iter().map(Dim::as_static).collect()
    }

    pub fn is_static(&self) -> bool {
        self.0.iter().all(|d| matches!(d, Dim::Static(_)))
    }

    /// Number of elements, when static.
    pub fn numel(&self) -> Option<usize> {
        self.to_static().map(|d| d.iter().product())
    }

    /// Replaces bound symbols by their sizes; unbound symbols stay symbolic.
    pub fn bind(&self, bindings: &Bindings) -> Shape {
        Shape(
            self.0
                .iter()
                .map(|d| match d {
                    Dim::Sym(s) => bindings.get(s).map_or(d.clone(), |&n| Dim::Static(n)),
                    Dim::Static(_) => d.clone(),
                })
                .collect(),
        )
    }

    /// The element count as (product of static dims, sorted symbols): two shapes with equal
    /// signatures hold the same number of elements for every binding.
    pub fn numel_signature(&self) -> (usize, Vec<String>) {
        let mut product = 1;
        let mut symbols = Vec::new();
        for d in &self.0 {
            match d {
                Dim::Static(n) => product *= n,
                Dim::Sym(s) => symbols.push(s.clone()),
            }
        }
        symbols.sort();
        (product, symbols)
    }
}

impl From<Vec<Dim>> for Shape {
    fn from(dims: Vec<Dim>) -> Self {
        Shape(dims)
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape::from_static(dims)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}
