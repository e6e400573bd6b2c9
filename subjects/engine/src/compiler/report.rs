//! What compilation did, for logs and the harness's results.

use std::fmt;

use crate::TargetReport;

/// Counts from each pass and the memory plan of the last run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompileReport {
    pub nodes_before: usize,
    pub nodes_after: usize,
    /// Each pass in the order it ran, with the node counts around it.
    pub passes: Vec<PassRecord>,
    /// Nodes removed because no output depends on them.
    pub removed: usize,
    /// Nodes evaluated at compile time because all their inputs were constants.
    pub folded: usize,
    /// Of those, transposes feeding a matmul: weights stored `[out, in]` prepacked once into
    /// a contiguous `[in, out]` constant.
    pub prepacked_weights: usize,
    /// Element-wise chains of two or more ops fused into one `fused_elementwise` node.
    pub fused_chains: usize,
    /// Element-wise ops absorbed into a consumer by that fusion.
    pub fused_ops: usize,
    /// Scalar constants turned into program immediates.
    pub immediates: usize,
    /// Matmuls fused with their element-wise epilogue into one `fused_matmul` node.
    pub fused_epilogues: usize,
    /// Residual adds fused into the LayerNorm that reads them (`fused_add_layer_norm`).
    pub fused_add_layer_norms: usize,
    /// Memory plans made so far (one per distinct binding of the symbolic dims).
    pub plans: usize,
    /// Arena bytes of the plan used by the last run.
    pub arena_bytes: usize,
    /// Bytes the same intermediates would take without buffer reuse.
    pub intermediate_bytes: usize,
    /// What the backend did and chose (kernels, threads, weight layouts).
    pub target: TargetReport,
}

/// One pass as it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct PassRecord {
    pub name: &'static str,
    pub nodes_before: usize,
    pub nodes_after: usize,
}

impl CompileReport {
    pub(crate) fn new(nodes_before: usize) -> Self {
        CompileReport {
            nodes_before,
            ..Default::default()
        }
    }
}

impl fmt::Display for CompileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "nodes {} -> {} | {}",
            self.nodes_before, self.nodes_after, self.target
        )?;
        for p in &self.passes {
            writeln!(
                f,
                "  {:<22} {:>5} -> {}",
                p.name, p.nodes_before, p.nodes_after
            )?;
        }
        writeln!(
            f,
            "  removed {}, folded {} ({} weights prepacked), fused {} chains ({} ops, {} immediates), {} matmul epilogues, {} add+layer_norm",
            self.removed,
            self.folded,
            self.prepacked_weights,
            self.fused_chains,
            self.fused_ops,
            self.immediates,
            self.fused_epilogues,
            self.fused_add_layer_norms
        )?;
        write!(
            f,
            "  arena {} B for {} B of intermediates ({} plans)",
            self.arena_bytes, self.intermediate_bytes, self.plans
        )
    }
}
