//! The optimising CPU compiler: graph passes, then an executable with a memory plan.
//!
//! [`compile`] runs the passes in the order listed there, each in its own file under
//! `passes/`, and re-validates the graph after every one. The result is an [`Executable`]
//! that plans memory per binding of the symbolic dims and runs the CPU kernels.

mod executable;
mod passes;
mod report;

pub use executable::Executable;
pub use report::{CompileReport, PassRecord};

use crate::{Graph, Result};

/// How to compile.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Threads of the executable's pool (0 = every core the OS gives this process).
    pub threads: usize,
    /// Fuse element-wise chains, matmul epilogues and residual adds into LayerNorm (off: one
    /// kernel per node).
    pub fuse: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            threads: 1,
            fuse: true,
        }
    }
}

/// A graph-to-graph rewrite that records what it did.
type Pass = fn(&Graph, &mut CompileReport) -> Result<Graph>;

/// Compiles `graph` for this CPU.
pub fn compile(graph: &Graph, options: &CompileOptions) -> Result<Executable> {
    graph.validate()?;
    let mut passes: Vec<(&'static str, Pass)> = vec![
        ("remove_dead_nodes", passes::dead_nodes::run),
        ("fold_constants", passes::fold_constants::run),
    ];
    if options.fuse {
        // Before element-wise fusion, which would take the residual add into a chain.
        passes.push(("fuse_add_layer_norm", passes::fuse_add_layer_norm::run));
        passes.push(("fuse_elementwise", passes::fuse_elementwise::run));
        passes.push(("fuse_matmul_epilogue", passes::fuse_matmul_epilogue::run));
    }
    // Folding and fusion leave constants and producers nobody reads.
    passes.push(("remove_dead_nodes", passes::dead_nodes::run));

    let mut report = CompileReport::new(graph.nodes().len());
    let mut g = graph.clone();
    for (name, pass) in passes {
        let before = g.nodes().len();
        g = pass(&g, &mut report)?;
        // Cheap (one inference per node), so on in every build, not only debug ones: a
        // pass bug must fail here, naming the pass, not as wrong numbers later.
        g.validate().map_err(|e| crate::Error::Graph {
            graph: g.name().into(),
            why: format!("invalid after pass `{name}`: {e}"),
        })?;
        report.passes.push(PassRecord {
            name,
            nodes_before: before,
            nodes_after: g.nodes().len(),
        });
    }
    report.nodes_after = g.nodes().len();
    Executable::new(g, report, options)
}
