//! Element-wise programs: a fused chain compiles to one shader, generated from the op
//! table's `wgsl` column.
//!
//! Parameters: `n`, the output's dims (padded to `MAX_RANK`), then each input's strides
//! over them (0 where broadcast). Inputs that are dense in the output's order or scalars
//! are read without index arithmetic.

use super::{
    ELEMENTS_WG, Job, MAX_RANK, Node, PRELUDE, dense_strides, f32_literal, grid, header,
    one_per_element, padded,
};
use crate::ops::{BinaryOp, ElementwiseProgram, Instr, UnaryOp};
use crate::{Error, Result};

pub(super) fn unary(n: &Node, op: UnaryOp) -> Job {
    let p = ElementwiseProgram {
        n_inputs: 1,
        instrs: vec![Instr::Unary(op, 0)],
    };
    generate(n, &p)
}

pub(super) fn binary(n: &Node, op: BinaryOp) -> Job {
    let p = ElementwiseProgram {
        n_inputs: 2,
        instrs: vec![Instr::Binary(op, 0, 1)],
    };
    generate(n, &p)
}

pub(super) fn program(n: &Node, p: &ElementwiseProgram) -> Result<Job> {
    if p.n_inputs == 0 && p.instrs.is_empty() {
        return Err(Error::Gpu(
            "fused_elementwise: an empty program has no result".into(),
        ));
    }
    Ok(generate(n, p))
}

/// How a shader reads one operand at output index `i`.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Access {
    Dense,
    Scalar,
    Strided,
}

impl Access {
    pub fn of(strides: &[u32], dense: &[u32]) -> Access {
        if strides.iter().all(|&s| s == 0) {
            Access::Scalar
        } else if strides == dense {
            Access::Dense
        } else {
            Access::Strided
        }
    }
}

fn generate(n: &Node, p: &ElementwiseProgram) -> Job {
    let out = n.out_dims();
    let dense = dense_strides(out, MAX_RANK);
    let mut params = vec![n.elements() as u32];
    params.extend(padded(out, MAX_RANK));
    let mut access = Vec::new();
    for &v in n.inputs() {
        let s = n.broadcast_strides(v, out, MAX_RANK);
        access.push(Access::of(&s, &dense));
        params.extend(s);
    }

    let names: Vec<String> = (0..p.n_inputs).map(|k| format!("in{k}")).collect();
    let mut data = vec![("out", "f32")];
    data.extend(names.iter().map(|s| (s.as_str(), "f32")));
    let strided = access.contains(&Access::Strided);
    let mut body = String::new();
    if strided {
        body += &format!(
            "    var rem = i;\n    var o: array<u32, {}>;\n    for (var d = 0u; d < {MAX_RANK}u; d++) {{\n        let ax = {}u - d;\n        let c = rem % p[1u + ax];\n        rem = rem / p[1u + ax];\n",
            p.n_inputs.max(1),
            MAX_RANK - 1
        );
        for (k, a) in access.iter().enumerate() {
            if *a == Access::Strided {
                body += &format!(
                    "        o[{k}] += c * p[{}u + ax];\n",
                    1 + MAX_RANK * (k + 1)
                );
            }
        }
        body += "    }\n";
    }
    for (k, a) in access.iter().enumerate() {
        let index = match a {
            Access::Dense => "i".to_string(),
            Access::Scalar => "0u".to_string(),
            Access::Strided => format!("o[{k}]"),
        };
        body += &format!("    let r{k} = in{k}[{index}];\n");
    }
    body += &instructions(p, 0);
    let result = if p.instrs.is_empty() { 0 } else { p.output() };
    body += &format!("    out[i] = r{result};\n");

    let source = format!(
        "{}{PRELUDE}{}{}",
        header(&data),
        helpers(p),
        one_per_element(&body)
    );
    Job {
        source,
        params,
        values: n.output_and_inputs(),
        groups: grid(n.elements().div_ceil(ELEMENTS_WG)),
        status: false,
    }
}

/// `let rN = ...;` for every instruction (registers below `n_inputs` already defined);
/// register names are offset by `shift` so a caller can embed the program.
pub(super) fn instructions(p: &ElementwiseProgram, shift: usize) -> String {
    let r = |x: usize| format!("r{}", x + shift);
    let mut s = String::new();
    for (j, instr) in p.instrs.iter().enumerate() {
        let dst = r(p.n_inputs + j);
        let value = match *instr {
            Instr::Const(c) => f32_literal(c),
            Instr::Unary(op, a) => format!("u_{}({})", op.name(), r(a)),
            Instr::Binary(op, a, b) => format!("b_{}({}, {})", op.name(), r(a), r(b)),
        };
        s += &format!("    let {dst} = {value};\n");
    }
    s
}

/// One WGSL function per op the program uses, wrapping the op table's snippet.
pub(super) fn helpers(p: &ElementwiseProgram) -> String {
    let mut unary: Vec<UnaryOp> = Vec::new();
    let mut binary: Vec<BinaryOp> = Vec::new();
    for instr in &p.instrs {
        match *instr {
            Instr::Unary(op, _) if !unary.contains(&op) => unary.push(op),
            Instr::Binary(op, ..) if !binary.contains(&op) => binary.push(op),
            _ => {}
        }
    }
    let mut s = String::new();
    for op in unary {
        s += &format!(
            "fn u_{}(x: f32) -> f32 {{ return {}; }}\n",
            op.name(),
            op.wgsl()
        );
    }
    for op in binary {
        s += &format!(
            "fn b_{}(a: f32, b: f32) -> f32 {{ return {}; }}\n",
            op.name(),
            op.wgsl()
        );
    }
    s
}
