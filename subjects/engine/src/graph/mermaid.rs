//! [`Graph::to_mermaid`]: a graph as a Mermaid flowchart, so documentation shows the graph
//! the compiler sees, generated rather than drawn, and cannot go stale.

use std::fmt::Write;

use super::Graph;
use crate::Data;
use crate::ops::Op;
use crate::ops::fused::{ElementwiseProgram, FusedOp, Instr};

impl Graph {
    /// The graph as a Mermaid `flowchart TD`: inputs as parallelograms, constants as pills
    /// (the value of a scalar, else dtype and shape), every op with its output type, a fused
    /// element-wise chain with the expression it computes, and an edge to each output.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let ty = format!("{} {}", node.dtype, node.shape);
            let shape = match &node.op {
                Op::Input { name } => format!("[/\"{name}<br/>{ty}\"/]"),
                Op::Constant(t) => match t.data() {
                    Data::F32(v) if v.len() == 1 => format!("([\"{}\"])", v[0]),
                    Data::I64(v) if v.len() == 1 => format!("([\"{}\"])", v[0]),
                    _ => format!("([\"const {ty}\"])"),
                },
                Op::Fused(FusedOp::Elementwise(p)) => {
                    format!(
                        "[\"fused_elementwise<br/>{}<br/>{ty}\"]",
                        expression(p, false)
                    )
                }
                Op::Fused(FusedOp::MatMulEpilogue(p)) => {
                    format!("[\"fused_matmul<br/>{}<br/>{ty}\"]", expression(p, true))
                }
                op => format!("[\"{}<br/>{ty}\"]", op.name()),
            };
            let _ = writeln!(out, "    n{i}{shape}");
            for v in &node.inputs {
                let _ = writeln!(out, "    n{} --> n{i}", v.0);
            }
        }
        for (k, v) in self.outputs.iter().enumerate() {
            let _ = writeln!(out, "    out{k}((\"output {k}\"))");
            let _ = writeln!(out, "    n{} --> out{k}", v.0);
        }
        out
    }
}

/// The chain a fused program computes, as one expression of the node's inputs `x1, x2, ...`;
/// in a matmul epilogue register 0 is the product `mm` of `x1` and `x2`, and the program's
/// other inputs are the node's `x3, ...`. A result read more than once is named once
/// (`t1 = ...; `) and then used by name, as the program computes it once.
fn expression(p: &ElementwiseProgram, matmul: bool) -> String {
    let mut uses = vec![0usize; p.n_inputs + p.instrs.len()];
    for instr in &p.instrs {
        match *instr {
            Instr::Const(_) => {}
            Instr::Unary(_, a) => uses[a] += 1,
            Instr::Binary(_, a, b) => {
                uses[a] += 1;
                uses[b] += 1;
            }
        }
    }
    let mut regs: Vec<String> = (0..p.n_inputs)
        .map(|r| match (matmul, r) {
            (true, 0) => "mm".to_string(),
            (true, r) => format!("x{}", r + 2),
            (false, r) => format!("x{}", r + 1),
        })
        .collect();
    let mut named = Vec::new();
    for instr in &p.instrs {
        let e = match *instr {
            Instr::Const(c) => format!("{c}"),
            Instr::Unary(op, a) => format!("{}({})", op.name(), regs[a]),
            Instr::Binary(op, a, b) => format!("{}({}, {})", op.name(), regs[a], regs[b]),
        };
        if uses[regs.len()] > 1 && !matches!(instr, Instr::Const(_)) {
            let name = format!("t{}", named.len() + 1);
            named.push(format!("{name} = {e}; "));
            regs.push(name);
        } else {
            regs.push(e);
        }
    }
    let result = regs.swap_remove(p.output());
    format!("{}{result}", named.concat())
}

#[cfg(test)]
mod tests {
    use crate::{DType, Graph, dims};

    #[test]
    fn every_node_and_edge_of_a_small_graph_is_drawn() {
        let mut g = Graph::new("relu_affine");
        let x = g.input("x", DType::F32, dims!["n"]).unwrap();
        let two = g.scalar(2.0);
        let y = g.mul(x, two).unwrap();
        let y = g.relu(y).unwrap();
        g.output(y);
        let m = g.to_mermaid();
        let expected = "flowchart TD
    n0[/\"x<br/>f32 [n]\"/]
    n1([\"2\"])
    n2[\"mul<br/>f32 [n]\"]
    n0 --> n2
    n1 --> n2
    n3[\"relu<br/>f32 [n]\"]
    n2 --> n3
    out0((\"output 0\"))
    n3 --> out0
";
        assert_eq!(m, expected);
    }
}
