//! Data movement: strided copies (transpose, broadcast, reshape of a view, slice, concat),
//! cast, arange and gather. They move `u32` words, so one shader serves f32 and i64
//! (stored as two little-endian words, as on the host).

use super::{
    ELEMENTS_WG, Job, MAX_RANK, Node, dense_strides, grid, header, one_per_element, padded,
    padded_strides,
};
use crate::layout::view_strides;
use crate::{DType, Error, Result, Value};

/// A box of `dims` read at `src_offset + Σ i·src_strides` and written at `dst_offset +
/// Σ i·dst_strides` (elements), `words` words per element.
fn copy(
    n: &Node,
    src: Value,
    dims: &[usize],
    src_strides: &[u32],
    (src_offset, dst_offset): (usize, usize),
    dst_strides: &[u32],
) -> Job {
    let count: usize = dims.iter().product();
    let mut params = vec![
        count as u32,
        n.words(src),
        src_offset as u32,
        dst_offset as u32,
    ];
    params.extend(padded(dims, MAX_RANK));
    params.extend(src_strides);
    params.extend(dst_strides);
    Job {
        source: format!(
            "{}{}",
            header(&[("dst", "u32"), ("src", "u32")]),
            one_per_element(COPY)
        ),
        params,
        values: vec![n.v, src],
        groups: grid(count.div_ceil(ELEMENTS_WG)),
        status: false,
    }
}

/// Transpose and broadcast (read through their view strides) and a reshape of a view (the
/// input's elements in its own row-major order).
pub(super) fn view_copy(n: &Node) -> Result<Job> {
    let src = n.input(0);
    let op = &n.g.node(n.v).op;
    let (dims, strides) = if matches!(op, crate::ops::Op::Reshape { .. }) {
        (n.dims(src).to_vec(), n.strides(src).to_vec())
    } else {
        let s = view_strides(op, n.dims(src), n.strides(src), n.out_dims())
            .ok_or_else(|| Error::Gpu(format!("{}: not a view", op.name())))?;
        (n.out_dims().to_vec(), s)
    };
    if dims.len() > MAX_RANK {
        return Err(n.error(format!("rank {} (at most {MAX_RANK})", dims.len())));
    }
    let dst = dense_strides(&dims, MAX_RANK);
    Ok(copy(
        n,
        src,
        &dims,
        &padded_strides(&strides, MAX_RANK),
        (0, 0),
        &dst,
    ))
}

pub(super) fn slice(n: &Node, axis: usize, start: usize) -> Job {
    let src = n.input(0);
    let s = n.strides(src);
    let out = n.out_dims();
    copy(
        n,
        src,
        out,
        &padded_strides(s, MAX_RANK),
        (start * s[axis], 0),
        &dense_strides(out, MAX_RANK),
    )
}

/// One copy per input into its place along `axis`.
pub(super) fn concat(n: &Node, axis: usize) -> Vec<Job> {
    let out = n.out_dims();
    let dst = dense_strides(out, MAX_RANK);
    let axis_stride = crate::strides(out)[axis];
    let mut at = 0;
    let mut jobs = Vec::new();
    for &src in n.inputs() {
        let dims = n.dims(src);
        if dims.iter().product::<usize>() > 0 {
            jobs.push(copy(
                n,
                src,
                dims,
                &padded_strides(n.strides(src), MAX_RANK),
                (0, at * axis_stride),
                &dst,
            ));
        }
        at += dims[axis];
    }
    jobs
}

pub(super) fn cast(n: &Node) -> Job {
    let src = n.input(0);
    let count = n.elements();
    let (from, to) = (n.g.dtype(src), n.g.dtype(n.v));
    if from == to {
        let d = n.out_dims();
        return copy(
            n,
            src,
            d,
            &padded_strides(n.strides(src), MAX_RANK),
            (0, 0),
            &dense_strides(d, MAX_RANK),
        );
    }
    let body = match to {
        // As the CPU's `as i64`: truncation toward zero, saturating at the i64 range, NaN
        // to 0; beyond 2^31 the two words are split exactly (such floats are integers).
        DType::I64 => I64_FROM_F32,
        // Exact for values that fit in 32 bits (the sign-extended ones); else rounded.
        DType::F32 => {
            "let lo = src[2u * i];\n    let hi = src[2u * i + 1u];\n    let small = select(hi == 0u, hi == 0xffffffffu, lo >= 0x80000000u);\n    dst[i] = select(f32(lo) + f32(bitcast<i32>(hi)) * 4294967296.0, f32(bitcast<i32>(lo)), small);"
        }
    };
    let (dst_ty, src_ty) = match to {
        DType::I64 => ("u32", "f32"),
        DType::F32 => ("f32", "u32"),
    };
    Job {
        source: format!(
            "{}{}",
            header(&[("dst", dst_ty), ("src", src_ty)]),
            one_per_element(body)
        ),
        params: vec![count as u32],
        values: vec![n.v, src],
        groups: grid(count.div_ceil(ELEMENTS_WG)),
        status: false,
    }
}

pub(super) fn arange(n: &Node) -> Job {
    let count = n.elements();
    let (ty, body) = match n.g.dtype(n.v) {
        DType::F32 => ("f32", "dst[i] = f32(i);"),
        DType::I64 => ("u32", "dst[2u * i] = i;\n    dst[2u * i + 1u] = 0u;"),
    };
    Job {
        source: format!("{}{}", header(&[("dst", ty)]), one_per_element(body)),
        params: vec![count as u32],
        values: vec![n.v],
        groups: grid(count.div_ceil(ELEMENTS_WG)),
        status: false,
    }
}

/// Rows of a dense `table [V, D..]` picked by dense i64 `indices`; an index outside `0..V`
/// records this node in the status word (the run then fails naming it) and writes nothing.
pub(super) fn gather(n: &Node) -> Job {
    let (table, indices) = (n.input(0), n.input(1));
    let td = n.dims(table);
    let row: usize = td[1..].iter().product();
    let count = n.elements();
    let body = "let r = i / p[1];\n    let j = i % p[1];\n    let lo = bitcast<i32>(idx[2u * r]);\n    if (lo < 0 || lo >= i32(p[3]) || idx[2u * r + 1u] != 0u) {\n        atomicMax(&status[0], p[4]);\n        return;\n    }\n    let t = u32(lo);\n    for (var w = 0u; w < p[2]; w++) {\n        dst[i * p[2] + w] = src[(t * p[1] + j) * p[2] + w];\n    }";
    Job {
        source: format!(
            "{}{}",
            header(&[
                ("dst", "u32"),
                ("src", "u32"),
                ("idx", "u32"),
                ("status", "atomic<u32>")
            ]),
            one_per_element(body)
        ),
        params: vec![
            count as u32,
            row as u32,
            n.words(table),
            td[0] as u32,
            n.v.0 as u32 + 1,
        ],
        values: vec![n.v, table, indices],
        groups: grid(count.div_ceil(ELEMENTS_WG)),
        status: true,
    }
}

const I64_FROM_F32: &str = r#"let t = trunc(src[i]);
    var lo = 0u;
    var hi = 0u;
    if (t != t) {
        // NaN: 0.
    } else if (abs(t) < 2147483648.0) {
        let v = i32(t);
        lo = bitcast<u32>(v);
        hi = select(0u, 0xffffffffu, v < 0);
    } else if (t >= 9223372036854775808.0) {
        lo = 0xffffffffu;
        hi = 0x7fffffffu;
    } else if (t <= -9223372036854775808.0) {
        hi = 0x80000000u;
    } else {
        let h = floor(t / 4294967296.0);
        hi = bitcast<u32>(i32(h));
        lo = u32(t - h * 4294967296.0);
    }
    dst[2u * i] = lo;
    dst[2u * i + 1u] = hi;"#;

const COPY: &str = r#"
    var rem = i;
    var s = p[2];
    var d = p[3];
    for (var k = 0u; k < 6u; k++) {
        let ax = 5u - k;
        let c = rem % p[4u + ax];
        rem = rem / p[4u + ax];
        s += c * p[10u + ax];
        d += c * p[16u + ax];
    }
    let w = p[1];
    for (var j = 0u; j < w; j++) {
        dst[d * w + j] = src[s * w + j];
    }
"#;
