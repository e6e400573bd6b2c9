//! Layout arithmetic shared by every backend and exporter: row-major strides, numpy
//! broadcasting of concrete shapes, the strides of movement-op views, and the strided walk
//! and copy that materialise a view.

use crate::ops::Op;

/// Row-major strides of a static shape.
pub fn strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    strides
}

/// Numpy broadcasting of two concrete shapes (the rule `ops` checks on symbolic ones), or
/// `None` when a pair of dims is neither equal nor 1.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |d: &[usize], i: usize| (i + d.len()).checked_sub(rank).map_or(1, |j| d[j]);
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// Strides that read a buffer of `from` dims (with `from_strides`) as `to` dims under numpy
/// broadcasting: 0 along broadcast axes.
pub fn broadcast_strides(from: &[usize], from_strides: &[usize], to: &[usize]) -> Vec<usize> {
    let lead = to.len() - from.len();
    (0..to.len())
        .map(|i| match i.checked_sub(lead) {
            Some(j) if from[j] != 1 => from_strides[j],
            _ => 0,
        })
        .collect()
}

/// Strides that read an input of `in_dims`/`in_strides` as the output (`out_dims`) of the
/// movement op `op`; `None` if `op` is not a movement op or cannot be a view (a reshape of a
/// non-contiguous input).
pub fn view_strides(
    op: &Op,
    in_dims: &[usize],
    in_strides: &[usize],
    out_dims: &[usize],
) -> Option<Vec<usize>> {
    match op {
        Op::Transpose { perm } => Some(perm.iter().map(|&p| in_strides[p]).collect()),
        Op::BroadcastTo { .. } => Some(broadcast_strides(in_dims, in_strides, out_dims)),
        Op::Reshape { .. } => {
            let n: usize = in_dims.iter().product();
            (n <= 1 || in_strides == strides(in_dims)).then(|| strides(out_dims))
        }
        _ => None,
    }
}

/// The offsets `sum(index[k] * strides[k])` of every multi-index of `dims`, in row-major
/// order: an odometer over the index that keeps the offset up to date.
pub fn strided_offsets<'a>(
    dims: &'a [usize],
    strides: &'a [usize],
) -> impl Iterator<Item = usize> + 'a {
    let mut index = vec![0; dims.len()];
    let mut offset = 0;
    let mut left: usize = dims.iter().product();
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        left -= 1;
        let current = offset;
        for k in (0..dims.len()).rev() {
            index[k] += 1;
            offset += strides[k];
            if index[k] < dims[k] {
                break;
            }
            offset -= strides[k] * dims[k];
            index[k] = 0;
        }
        Some(current)
    })
}

/// Side of the square tiles of a transposing copy (both tiles stay in L1).
const TILE: usize = 32;

/// Writes the elements `src[Σ idx_i·strides_i]` over `dims` into `dst` in row-major order.
pub fn copy_strided<T: Copy>(src: &[T], dims: &[usize], strides: &[usize], dst: &mut [T]) {
    if dst.is_empty() {
        return;
    }
    let (dims, strides) = collapse(dims, strides);
    let r = dims.len();
    if r == 0 {
        dst[0] = src[0];
        return;
    }
    let (inner, s_in) = (dims[r - 1], strides[r - 1]);
    if r >= 2 && s_in != 1 && strides[r - 2] == 1 {
        // A transpose of the last two axes: copy square tiles so reads and writes both hit
        // cache lines already loaded.
        let rows = dims[r - 2];
        for (o, base) in strided_offsets(&dims[..r - 2], &strides[..r - 2]).enumerate() {
            let out = &mut dst[o * rows * inner..(o + 1) * rows * inner];
            for i0 in (0..rows).step_by(TILE) {
                for j0 in (0..inner).step_by(TILE) {
                    for i in i0..(i0 + TILE).min(rows) {
                        for j in j0..(j0 + TILE).min(inner) {
                            out[i * inner + j] = src[base + i + j * s_in];
                        }
                    }
                }
            }
        }
        return;
    }
    for (o, base) in strided_offsets(&dims[..r - 1], &strides[..r - 1]).enumerate() {
        let row = &mut dst[o * inner..(o + 1) * inner];
        match s_in {
            1 => row.copy_from_slice(&src[base..base + inner]),
            0 => row.fill(src[base]),
            s => row
                .iter_mut()
                .enumerate()
                .for_each(|(j, v)| *v = src[base + j * s]),
        }
    }
}

/// Drops size-1 axes and merges neighbours that are contiguous with each other.
fn collapse(dims: &[usize], strides: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (mut d, mut s): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for (&n, &st) in dims.iter().zip(strides) {
        if n == 1 {
            continue;
        }
        match (d.last_mut(), s.last_mut()) {
            (Some(pd), Some(ps)) if *ps == st * n => {
                *pd *= n;
                *ps = st;
            }
            _ => {
                d.push(n);
                s.push(st);
            }
        }
    }
    (d, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious per-element walk, to check the fast paths against.
    fn naive(src: &[f32], dims: &[usize], strides: &[usize]) -> Vec<f32> {
        let n: usize = dims.iter().product();
        (0..n)
            .map(|mut i| {
                let mut off = 0;
                for (d, s) in dims.iter().zip(strides).rev() {
                    off += (i % d) * s;
                    i /= d;
                }
                src[off]
            })
            .collect()
    }

    #[test]
    fn transposes_and_broadcasts_match_the_naive_walk() {
        let src: Vec<f32> = (0..10_000).map(|i| i as f32).collect();
        let cases: &[(&[usize], &[usize])] = &[
            (&[33, 70], &[1, 33]),                   // 2-D transpose, ragged tiles
            (&[2, 3, 40, 37], &[4440, 1480, 1, 40]), // batched last-two swap
            (&[4, 5, 6], &[1, 24, 4]),               // general permutation
            (&[3, 7, 5], &[0, 5, 1]),                // broadcast over the first axis
            (&[3, 7, 5], &[5, 0, 1]),                // broadcast in the middle
            (&[6, 1, 4], &[4, 4, 1]),                // size-1 axis
            (&[], &[]),                              // scalar
        ];
        for &(dims, strides) in cases {
            let want = naive(&src, dims, strides);
            let mut got = vec![0.0; want.len()];
            copy_strided(&src, dims, strides, &mut got);
            assert_eq!(got, want, "dims {dims:?} strides {strides:?}");
        }
    }

    #[test]
    fn collapse_merges_contiguous_axes() {
        assert_eq!(collapse(&[2, 3, 4], &[12, 4, 1]), (vec![24], vec![1]));
        assert_eq!(collapse(&[2, 1, 4], &[4, 4, 1]), (vec![8], vec![1]));
        assert_eq!(collapse(&[2, 3], &[1, 2]), (vec![2, 3], vec![1, 2]));
    }
}
