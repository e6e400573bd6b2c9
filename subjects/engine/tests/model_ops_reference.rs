//! The reference interpreter's model ops against values worked out by hand.

use engine::{DType, Dim, Graph, Tensor, Value, dims, reference};

fn f32s(dims: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_f32(dims, values.to_vec()).unwrap()
}

fn count(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    f32s(dims, &(0..n).map(|i| i as f32).collect::<Vec<_>>())
}

/// Runs a graph whose inputs are `xs` (declared with their own shapes) and one output.
fn run(xs: &[Tensor], build: impl FnOnce(&mut Graph, &[Value]) -> engine::Result<Value>) -> Tensor {
    let mut g = Graph::new("case");
    let vs: Vec<Value> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let d = x.dims().iter().map(|&d| d.into()).collect();
            g.input(&format!("x{i}"), x.dtype(), d).unwrap()
        })
        .collect();
    let y = build(&mut g, &vs).unwrap();
    g.output(y);
    reference::run(&g, xs).unwrap().remove(0)
}

fn assert_close(actual: &Tensor, dims: &[usize], expected: &[f64]) {
    assert_eq!(actual.dims(), dims);
    let a = actual.as_f32().unwrap();
    for (i, (&a, &e)) in a.iter().zip(expected).enumerate() {
        assert!(
            (a as f64 - e).abs() <= 1e-6,
            "element {i}: {a} vs {e} (all {a:?})"
        );
    }
    assert_eq!(a.len(), expected.len());
}

#[test]
fn softmax_of_1_2_3() {
    // e^(x - 3) / sum: [e^-2, e^-1, 1] / (1 + e^-1 + e^-2).
    let y = run(&[f32s(&[3], &[1., 2., 3.])], |g, x| g.softmax(x[0], -1));
    assert_close(&y, &[3], &[0.090_030_57, 0.244_728_47, 0.665_240_96]);
    // Along axis 0 of a column, the same numbers.
    let y = run(&[f32s(&[3, 1], &[1., 2., 3.])], |g, x| g.softmax(x[0], 0));
    assert_close(&y, &[3, 1], &[0.090_030_57, 0.244_728_47, 0.665_240_96]);
}

#[test]
fn layer_norm_of_1_2_3_4() {
    // mean 2.5, variance 1.25: (x - 2.5) / sqrt(1.25).
    let y = run(&[f32s(&[1, 4], &[1., 2., 3., 4.])], |g, x| {
        let gamma = g.constant(f32s(&[4], &[1.; 4]));
        let beta = g.constant(f32s(&[4], &[0.; 4]));
        g.layer_norm(x[0], gamma, beta, 1e-12)
    });
    let s = 1.25f64.sqrt();
    assert_close(&y, &[1, 4], &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    // gamma scales and beta shifts each column.
    let y = run(&[f32s(&[4], &[1., 2., 3., 4.])], |g, x| {
        let gamma = g.constant(f32s(&[4], &[2., 2., 1., 1.]));
        let beta = g.constant(f32s(&[4], &[0., 1., 0., -1.]));
        g.layer_norm(x[0], gamma, beta, 1e-12)
    });
    assert_close(
        &y,
        &[4],
        &[-3.0 / s, -1.0 / s + 1.0, 0.5 / s, 1.5 / s - 1.0],
    );
}

#[test]
fn conv2d_of_a_3x3_image_with_a_2x2_kernel() {
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]].
    let x = count(&[1, 1, 3, 3]);
    let x = f32s(
        &[1, 1, 3, 3],
        &x.as_f32()
            .unwrap()
            .iter()
            .map(|v| v + 1.)
            .collect::<Vec<_>>(),
    );
    let w = f32s(&[1, 1, 2, 2], &[1., 2., 3., 4.]);
    // 1*1+2*2+4*3+5*4 = 37, then 47, 67, 77 (+ bias 0.5).
    let y = run(&[x.clone(), w.clone()], |g, v| {
        let b = g.constant(f32s(&[1], &[0.5]));
        g.conv2d(v[0], v[1], Some(b), [1, 1], [0, 0])
    });
    assert_close(&y, &[1, 1, 2, 2], &[37.5, 47.5, 67.5, 77.5]);
    // Padding 1, stride 2: windows at rows/cols {-1, 0} and {1, 2}.
    // [0,0] = 1*4; [0,1] = 2*3 + 3*4; [1,0] = 4*2 + 7*4; [1,1] = 5*1 + 6*2 + 8*3 + 9*4.
    let y = run(&[x, w], |g, v| g.conv2d(v[0], v[1], None, [2, 2], [1, 1]));
    assert_close(&y, &[1, 1, 2, 2], &[4., 18., 36., 77.]);
}

#[test]
fn conv2d_sums_over_input_channels_per_output_channel() {
    // Two input channels of ones and twos; 1x1 kernels [[1, 1], [1, -1]]: 3 and -1.
    let mut x = vec![1.0; 4];
    x.extend([2.0; 4]);
    let x = f32s(&[1, 2, 2, 2], &x);
    let w = f32s(&[2, 2, 1, 1], &[1., 1., 1., -1.]);
    let y = run(&[x, w], |g, v| g.conv2d(v[0], v[1], None, [1, 1], [0, 0]));
    assert_close(&y, &[1, 2, 2, 2], &[3., 3., 3., 3., -1., -1., -1., -1.]);
}

#[test]
fn max_pool2d_windows() {
    // 0..16 as a 4x4 image: each 2x2 block's maximum is its bottom-right element.
    let y = run(&[count(&[1, 1, 4, 4])], |g, x| {
        g.max_pool2d(x[0], [2, 2], [2, 2])
    });
    assert_close(&y, &[1, 1, 2, 2], &[5., 7., 13., 15.]);
    // Overlapping 3x3 windows, stride 1.
    let y = run(&[count(&[1, 1, 4, 4])], |g, x| {
        g.max_pool2d(x[0], [3, 3], [1, 1])
    });
    assert_close(&y, &[1, 1, 2, 2], &[10., 11., 14., 15.]);
    // A trailing row and column that no window covers are dropped (floor).
    let y = run(&[count(&[1, 2, 3, 3])], |g, x| {
        g.max_pool2d(x[0], [2, 2], [2, 2])
    });
    assert_close(&y, &[1, 2, 1, 1], &[4., 13.]);
}

#[test]
fn gather_rows_and_index_errors() {
    let table = f32s(&[3, 2], &[0., 1., 10., 11., 20., 21.]);
    let ids = Tensor::from_i64(&[2, 2], vec![2, 0, 1, 1]).unwrap();
    let y = run(&[table.clone(), ids], |g, v| g.gather(v[0], v[1]));
    assert_close(&y, &[2, 2, 2], &[20., 21., 0., 1., 10., 11., 10., 11.]);

    let mut g = Graph::new("oob");
    let t = g.constant(table);
    let i = g.input("ids", DType::I64, dims!["n"]).unwrap();
    let y = g.gather(t, i).unwrap();
    g.output(y);
    for bad in [3, -1] {
        let ids = Tensor::from_i64(&[2], vec![0, bad]).unwrap();
        let err = reference::run(&g, &[ids]).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("gather: index {bad} at position 1 is out of range for a table of 3 rows")
        );
    }
}

#[test]
fn slice_select_concat_flatten_unsqueeze() {
    let x = count(&[2, 3, 2]);
    let y = run(std::slice::from_ref(&x), |g, v| g.slice(v[0], 1, 1, 3));
    assert_close(&y, &[2, 2, 2], &[2., 3., 4., 5., 8., 9., 10., 11.]);
    let y = run(std::slice::from_ref(&x), |g, v| g.select(v[0], 1, 0));
    assert_close(&y, &[2, 2], &[0., 1., 6., 7.]);
    let y = run(std::slice::from_ref(&x), |g, v| g.select(v[0], -1, 1));
    assert_close(&y, &[2, 3], &[1., 3., 5., 7., 9., 11.]);
    let y = run(&[x.clone(), count(&[2, 1, 2])], |g, v| {
        g.concat(&[v[0], v[1]], 1)
    });
    assert_close(
        &y,
        &[2, 4, 2],
        &[
            0., 1., 2., 3., 4., 5., 0., 1., 6., 7., 8., 9., 10., 11., 2., 3.,
        ],
    );
    let y = run(std::slice::from_ref(&x), |g, v| g.flatten(v[0], 1));
    assert_eq!(y.dims(), &[2, 6]);
    assert_eq!(y.as_f32().unwrap(), x.as_f32().unwrap());
    let y = run(&[x], |g, v| g.unsqueeze(v[0], -1));
    assert_eq!(y.dims(), &[2, 3, 2, 1]);
}

#[test]
fn arange_binds_a_symbolic_length() {
    let mut g = Graph::new("positions");
    let ids = g.input("ids", DType::I64, dims!["batch", "seq"]).unwrap();
    let pos = g.arange(Dim::from("seq"), DType::I64).unwrap();
    let posf = g.arange(4.into(), DType::F32).unwrap();
    g.output(pos);
    g.output(posf);
    g.output(ids);
    let out = reference::run(&g, &[Tensor::from_i64(&[1, 5], vec![7; 5]).unwrap()]).unwrap();
    assert_eq!(out[0].as_i64().unwrap(), &[0, 1, 2, 3, 4]);
    assert_eq!(out[1].as_f32().unwrap(), &[0., 1., 2., 3.]);
}

#[test]
fn attention_by_hand() {
    // One query [1, 0] against keys [1, 0] and [0, 1]: scores [1, 0], weights
    // [e, 1] / (e + 1), so the output mixes v's rows [1, 2] and [3, 4].
    let q = f32s(&[1, 2], &[1., 0.]);
    let k = f32s(&[2, 2], &[1., 0., 0., 1.]);
    let v = f32s(&[2, 2], &[1., 2., 3., 4.]);
    let e = std::f64::consts::E;
    let (a, b) = (e / (e + 1.), 1. / (e + 1.));
    let y = run(&[q.clone(), k.clone(), v.clone()], |g, x| {
        g.attention(x[0], x[1], x[2], None, 1.0)
    });
    assert_close(&y, &[1, 2], &[a + 3. * b, 2. * a + 4. * b]);
    // Scale 2 doubles the scores: weights [e^2, 1] / (e^2 + 1).
    let (a2, b2) = (e * e / (e * e + 1.), 1. / (e * e + 1.));
    let y = run(&[q.clone(), k.clone(), v.clone()], |g, x| {
        g.attention(x[0], x[1], x[2], None, 2.0)
    });
    assert_close(&y, &[1, 2], &[a2 + 3. * b2, 2. * a2 + 4. * b2]);
    // Masking the first key out leaves the second's values.
    let mask = f32s(&[2], &[-10000., 0.]);
    let y = run(&[q, k, v, mask], |g, x| {
        g.attention(x[0], x[1], x[2], Some(x[3]), 1.0)
    });
    assert_close(&y, &[1, 2], &[3., 4.]);
}

#[test]
fn slice_of_a_symbolic_dim_is_checked_when_bound() {
    let mut g = Graph::new("late");
    let x = g.input("x", DType::F32, dims!["seq", 2]).unwrap();
    let y = g.slice(x, 0, 1, 4).unwrap();
    g.output(y);
    assert_eq!(
        reference::run(&g, &[count(&[5, 2])]).unwrap()[0].dims(),
        &[3, 2]
    );
    let err = reference::run(&g, &[count(&[3, 2])])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "slice: invalid shape [3, 2]: end 4 is past dim 3 of axis 0"
    );
}
