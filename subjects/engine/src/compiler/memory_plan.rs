//! The memory plan, shared by the backends: where every value lives for one binding of the
//! symbolic dims.
//!
//! Binding-independent decisions ([`homes`]) are made once: inputs and constants stay where
//! they are, outputs are written straight into the returned tensors, a reshape aliases its
//! input, and a transpose or broadcast is a strided view when every reader can read strides
//! (the backend says which operands of which nodes can). Every other value is an
//! intermediate in one arena (a host buffer, or a device buffer). [`plan`] then gives each
//! intermediate a live range (its node to its last reader, through aliases and views) and
//! an offset, greedily by size, reusing space whose previous tenant is dead.

use super::passes::{consumers, is_output};
use crate::layout::view_strides;
use crate::ops::Op;
use crate::{Bindings, Graph, Result, Value, strides};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Home {
    /// The caller's input tensor at this position.
    Input(usize),
    Const,
    /// The returned tensor of this output slot.
    Output(usize),
    Arena,
    /// The same elements as another value, row-major (a reshape).
    Alias(Value),
    /// Another value's elements read with other strides (a transpose or broadcast).
    View(Value),
}

impl Home {
    /// Whether the value's node runs a kernel (aliases and views are free).
    pub fn computes(self) -> bool {
        matches!(self, Home::Output(_) | Home::Arena)
    }
}

/// Where each value lives. `reads_strided(node, k)`: whether the backend's kernel of
/// `node` reads its input `k` through strides (so a view may feed it uncopied).
pub fn homes(g: &Graph, reads_strided: impl Fn(Value, usize) -> bool) -> Vec<Home> {
    let readers = consumers(g);
    let outputs = is_output(g);
    let mut homes: Vec<Home> = Vec::with_capacity(g.nodes().len());
    for (i, node) in g.nodes().iter().enumerate() {
        let v = Value(i);
        let strided_readers_only = !readers[i].is_empty()
            && readers[i].iter().all(|&c| {
                let inputs = &g.node(c).inputs;
                (0..inputs.len()).all(|k| inputs[k] != v || reads_strided(c, k))
            });
        let home = match &node.op {
            Op::Input { .. } => Home::Input(g.inputs().iter().position(|&u| u == v).unwrap()),
            Op::Constant(_) => Home::Const,
            _ if outputs[i] => Home::Output(g.outputs().iter().position(|&u| u == v).unwrap()),
            Op::Reshape { .. } if !matches!(homes[node.inputs[0].0], Home::View(_)) => {
                Home::Alias(node.inputs[0])
            }
            Op::Transpose { .. } | Op::BroadcastTo { .. } if strided_readers_only => {
                Home::View(node.inputs[0])
            }
            _ => Home::Arena,
        };
        homes.push(home);
    }
    homes
}

/// Concrete layout of every value for one binding.
#[derive(Clone, Debug)]
pub struct Plan {
    pub dims: Vec<Vec<usize>>,
    /// Element strides of each value within its root's buffer.
    pub strides: Vec<Vec<usize>>,
    /// The value whose buffer holds each value (itself unless an alias or view).
    pub root: Vec<usize>,
    /// Byte offset in the arena of each arena value.
    pub offset: Vec<usize>,
    pub arena_bytes: usize,
    /// What the arena values would take without reuse.
    pub intermediate_bytes: usize,
}

/// The layout of every value for `bindings`; arena offsets are multiples of `align` bytes.
pub fn plan(g: &Graph, homes: &[Home], bindings: &Bindings, align: usize) -> Result<Plan> {
    let n = g.nodes().len();
    let dims = g.concrete_shapes(bindings)?;
    let mut st: Vec<Vec<usize>> = Vec::with_capacity(n);
    let mut root = Vec::with_capacity(n);
    for i in 0..n {
        let (s, r) = match homes[i] {
            Home::Alias(u) => (strides(&dims[i]), root[u.0]),
            Home::View(u) => {
                let s = view_strides(&g.nodes()[i].op, &dims[u.0], &st[u.0], &dims[i])
                    .expect("views are transposes and broadcasts");
                (s, root[u.0])
            }
            _ => (strides(&dims[i]), i),
        };
        st.push(s);
        root.push(r);
    }

    // Live ranges by node index: each buffer lives until the last reader of any value
    // that reads it (readers of aliases and views included).
    let mut last: Vec<usize> = (0..n).collect();
    for (c, node) in g.nodes().iter().enumerate() {
        for v in &node.inputs {
            last[v.0] = last[v.0].max(c);
        }
    }
    for i in (0..n).rev() {
        if root[i] != i {
            last[root[i]] = last[root[i]].max(last[i]);
        }
    }

    let bytes = |i: usize| {
        let b = dims[i].iter().product::<usize>() * g.nodes()[i].dtype.size_bytes();
        b.next_multiple_of(align)
    };
    let mut items: Vec<usize> = (0..n).filter(|&i| homes[i] == Home::Arena).collect();
    items.sort_by_key(|&i| (std::cmp::Reverse(bytes(i)), i));
    let mut offset = vec![0; n];
    let mut placed: Vec<usize> = Vec::new();
    let mut arena_bytes = 0;
    for &i in &items {
        let size = bytes(i);
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&p| p <= last[i] && i <= last[p])
            .map(|&p| (offset[p], bytes(p)))
            .collect();
        busy.sort_unstable();
        let mut at = 0;
        for (o, s) in busy {
            if at + size <= o {
                break;
            }
            at = at.max(o + s);
        }
        offset[i] = at;
        arena_bytes = arena_bytes.max(at + size);
        placed.push(i);
    }
    Ok(Plan {
        intermediate_bytes: items.iter().map(|&i| bytes(i)).sum(),
        dims,
        strides: st,
        root,
        offset,
        arena_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, dims};

    #[test]
    fn views_aliases_outputs_and_arena() {
        let mut g = Graph::new("homes");
        let a = g.input("a", DType::F32, dims!["m", 3]).unwrap();
        let b = g.input("b", DType::F32, dims![5, 3]).unwrap();
        let bt = g.t(b).unwrap(); // read only by a matmul: a view
        let mm = g.matmul(a, bt).unwrap();
        let mt = g.t(mm).unwrap(); // read by relu: copied
        let r = g.relu(mt).unwrap();
        let flat = g.reshape(mm, dims!["m", 5, 1]).unwrap(); // an alias of mm
        let n = g.neg(flat).unwrap();
        g.output(r);
        g.output(n);
        // As the CPU: matmul operands are read through strides.
        let h = homes(&g, |c, k| matches!(g.node(c).op, Op::MatMul) && k < 2);
        assert_eq!(h[bt.0], Home::View(b));
        assert_eq!(h[mm.0], Home::Arena);
        assert_eq!(h[mt.0], Home::Arena);
        assert_eq!(h[flat.0], Home::Alias(mm));
        assert_eq!((h[r.0], h[n.0]), (Home::Output(0), Home::Output(1)));

        let p = plan(&g, &h, &[("m".to_string(), 4)].into(), 64).unwrap();
        assert_eq!(p.root[bt.0], b.0);
        assert_eq!(p.strides[bt.0], vec![1, 3]);
        // mm stays live until `neg` reads its alias, so it never shares space with `mt`.
        assert_ne!(p.offset[mm.0], p.offset[mt.0]);
        assert_eq!(p.arena_bytes, 2 * 128);
        assert_eq!(p.intermediate_bytes, 2 * 128);
    }
}
