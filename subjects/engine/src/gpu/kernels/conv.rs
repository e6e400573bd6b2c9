//! NCHW convolution (direct, one thread per output) and max pooling.

use super::{ELEMENTS_WG, Job, Node, grid, header, one_per_element};

/// Parameters: `n, C, H, W, O, OH, OW, KH, KW, SH, SW, PH, PW` (n = outputs).
pub(super) fn conv2d(n: &Node, stride: [usize; 2], padding: [usize; 2], bias: bool) -> Job {
    let (x, w) = (n.dims(n.input(0)), n.dims(n.input(1)));
    let o = n.out_dims();
    let params = [
        n.elements(),
        x[1],
        x[2],
        x[3],
        o[1],
        o[2],
        o[3],
        w[2],
        w[3],
        stride[0],
        stride[1],
        padding[0],
        padding[1],
    ]
    .map(|v| v as u32)
    .to_vec();
    let mut data = vec![("y", "f32"), ("x", "f32"), ("w", "f32")];
    if bias {
        data.push(("bias", "f32"));
    }
    let init = if bias { "bias[oc]" } else { "0.0" };
    Job {
        source: format!(
            "{}{}",
            header(&data),
            one_per_element(&CONV.replace("INIT", init))
        ),
        params,
        values: n.output_and_inputs(),
        groups: grid(n.elements().div_ceil(ELEMENTS_WG)),
        status: false,
    }
}

/// Parameters: `n, H, W, OH, OW, KH, KW, SH, SW` (planes are `N × C`).
pub(super) fn max_pool2d(n: &Node, kernel: [usize; 2], stride: [usize; 2]) -> Job {
    let x = n.dims(n.input(0));
    let o = n.out_dims();
    let params = [
        n.elements(),
        x[2],
        x[3],
        o[2],
        o[3],
        kernel[0],
        kernel[1],
        stride[0],
        stride[1],
    ]
    .map(|v| v as u32)
    .to_vec();
    Job {
        source: format!(
            "{}{}",
            header(&[("y", "f32"), ("x", "f32")]),
            one_per_element(POOL)
        ),
        params,
        values: vec![n.v, n.input(0)],
        groups: grid(n.elements().div_ceil(ELEMENTS_WG)),
        status: false,
    }
}

const CONV: &str = r#"
    let C = p[1]; let H = p[2]; let W = p[3]; let O = p[4]; let OH = p[5]; let OW = p[6];
    let KH = p[7]; let KW = p[8];
    let ox = i % OW; let oy = (i / OW) % OH; let oc = (i / (OW * OH)) % O; let b = i / (OW * OH * O);
    var acc = INIT;
    for (var c = 0u; c < C; c++) {
        for (var ky = 0u; ky < KH; ky++) {
            let iy = i32(oy * p[9] + ky) - i32(p[11]);
            if (iy < 0 || iy >= i32(H)) { continue; }
            for (var kx = 0u; kx < KW; kx++) {
                let ix = i32(ox * p[10] + kx) - i32(p[12]);
                if (ix < 0 || ix >= i32(W)) { continue; }
                acc = fma(x[((b * C + c) * H + u32(iy)) * W + u32(ix)], w[((oc * C + c) * KH + ky) * KW + kx], acc);
            }
        }
    }
    y[i] = acc;
"#;

const POOL: &str = r#"
    let H = p[1]; let W = p[2]; let OH = p[3]; let OW = p[4];
    let ox = i % OW; let oy = (i / OW) % OH; let plane = i / (OW * OH);
    var m = bitcast<f32>(0xff800000u);
    for (var ky = 0u; ky < p[5]; ky++) {
        for (var kx = 0u; kx < p[6]; kx++) {
            m = max(m, x[(plane * H + oy * p[7] + ky) * W + ox * p[8] + kx]);
        }
    }
    y[i] = m;
"#;
