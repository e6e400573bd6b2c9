//! The element-wise op table: every element-wise op declared once, read by every consumer.
//!
//! [`unary_ops!`](crate::unary_ops) and [`binary_ops!`](crate::binary_ops) hold one row per
//! op: its variant and builder name, the f64 reference definition, the f32 CPU kernel (a
//! function of `cpu/math.rs`), FLOPs and cost per element, the domain property tests draw
//! from, a WGSL snippet, and its form in ONNX, libtorch and candle. Each consumer (this
//! file's enums, the graph builder, the CPU kernels, the ONNX exporter, the torch and candle
//! lowerings) expands the table with a macro of its own that picks the columns it needs, so
//! adding an op is one row here, plus whatever a column cannot say (a new `math` function).
//!
//! A macro table rather than a `const` array of function pointers: the CPU's block loop
//! needs every kernel inlined into its own vectorised loop, and the runtime columns are code
//! in crates this one does not know (tch, candle) that only their adapters compile.

/// Calls `$m! { rows }` with every unary op's row (see the module docs for the columns).
///
/// Column tokens are expanded where the consumer's macro puts them: `f32` names a generic
/// `fn<const FMA: bool>(f32) -> f32` of `cpu::math`; `onnx` is a closure over the exporter,
/// the input's and the output's names; `torch` and `candle` are closures over a tensor.
#[macro_export]
macro_rules! unary_ops {
    ($m:ident) => {
        $m! {
            Neg(neg) {
                flops: 1, cost: 1, domain: (-10.0, 10.0),
                f64: |x| -x,
                f32: neg,
                wgsl: "-x",
                onnx: |e, x, dst| e.native("Neg", x, dst),
                torch: |x| x.f_neg(),
                candle: |x| x.neg(),
            }
            Relu(relu) {
                flops: 1, cost: 1, domain: (-10.0, 10.0),
                f64: |x| x.max(0.0),
                f32: relu,
                wgsl: "max(x, 0.0)",
                onnx: |e, x, dst| e.native("Relu", x, dst),
                torch: |x| x.f_relu(),
                candle: |x| x.relu(),
            }
            Exp(exp) {
                flops: 1, cost: 10, domain: (-30.0, 30.0),
                f64: |x| x.exp(),
                f32: exp,
                wgsl: "exp(x)",
                onnx: |e, x, dst| e.native("Exp", x, dst),
                torch: |x| x.f_exp(),
                candle: |x| x.exp(),
            }
            Log(log) {
                flops: 1, cost: 10, domain: (1e-3, 100.0),
                f64: |x| x.ln(),
                f32: log,
                wgsl: "log(x)",
                onnx: |e, x, dst| e.native("Log", x, dst),
                torch: |x| x.f_log(),
                candle: |x| x.log(),
            }
            Tanh(tanh) {
                flops: 1, cost: 10, domain: (-10.0, 10.0),
                f64: |x| x.tanh(),
                f32: tanh,
                wgsl: "tanh(x)",
                onnx: |e, x, dst| e.native("Tanh", x, dst),
                torch: |x| x.f_tanh(),
                candle: |x| x.tanh(),
            }
            Sqrt(sqrt) {
                flops: 1, cost: 1, domain: (1e-3, 100.0),
                f64: |x| x.sqrt(),
                f32: sqrt,
                wgsl: "sqrt(x)",
                onnx: |e, x, dst| e.native("Sqrt", x, dst),
                torch: |x| x.f_sqrt(),
                candle: |x| x.sqrt(),
            }
            Rsqrt(rsqrt) {
                flops: 2, cost: 10, domain: (1e-3, 100.0),
                f64: |x| 1.0 / x.sqrt(),
                f32: rsqrt,
                wgsl: "inverseSqrt(x)",
                onnx: |e, x, dst| e.rsqrt(x, dst),
                torch: |x| x.f_rsqrt(),
                candle: |x| x.sqrt()?.recip(),
            }
            /// GELU with the exact erf: x/2 * (1 + erf(x/sqrt 2)).
            Gelu(gelu) {
                flops: 5, cost: 10, domain: (-10.0, 10.0),
                f64: |x| 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
                f32: gelu,
                wgsl: "gelu_erf(x)",
                onnx: |e, x, dst| e.gelu_erf(x, dst),
                torch: |x| x.f_gelu("none"),
                candle: |x| x.gelu_erf(),
            }
            /// GELU with the tanh approximation: x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
            GeluTanh(gelu_tanh) {
                flops: 8, cost: 10, domain: (-10.0, 10.0),
                f64: |x| {
                    let inner = $crate::ops::elementwise::SQRT_2_OVER_PI
                        * (x + $crate::ops::elementwise::GELU_TANH_COEF * x * x * x);
                    0.5 * x * (1.0 + inner.tanh())
                },
                f32: gelu_tanh,
                wgsl: "gelu_tanh(x)",
                onnx: |e, x, dst| e.gelu_tanh(x, dst),
                torch: |x| x.f_gelu("tanh"),
                candle: |x| x.gelu(),
            }
            /// ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|) so it neither overflows
            /// nor loses the small tail.
            Softplus(softplus) {
                flops: 4, cost: 10, domain: (-20.0, 20.0),
                f64: |x| x.max(0.0) + (-x.abs()).exp().ln_1p(),
                f32: softplus,
                wgsl: "max(x, 0.0) + log(1.0 + exp(-abs(x)))",
                onnx: |e, x, dst| e.native("Softplus", x, dst),
                torch: |x| x.f_softplus(),
                candle: |x| x.relu()? + ((x.abs()?.neg()?.exp()? + 1.0)?.log()?),
            }
        }
    };
}

/// Calls `$m! { rows }` with every binary op's row; `f32` is a closure over two `f32`s,
/// `onnx` the ONNX op type, `torch` and `candle` closures over two (broadcasting) tensors.
#[macro_export]
macro_rules! binary_ops {
    ($m:ident) => {
        $m! {
            Add(add) {
                f64: |a, b| a + b, f32: |a, b| a + b, wgsl: "a + b", onnx: "Add",
                torch: |a, b| a.f_add(b), candle: |a, b| a.broadcast_add(b),
            }
            Sub(sub) {
                f64: |a, b| a - b, f32: |a, b| a - b, wgsl: "a - b", onnx: "Sub",
                torch: |a, b| a.f_sub(b), candle: |a, b| a.broadcast_sub(b),
            }
            Mul(mul) {
                f64: |a, b| a * b, f32: |a, b| a * b, wgsl: "a * b", onnx: "Mul",
                torch: |a, b| a.f_mul(b), candle: |a, b| a.broadcast_mul(b),
            }
            Div(div) {
                f64: |a, b| a / b, f32: |a, b| a / b, wgsl: "a / b", onnx: "Div",
                torch: |a, b| a.f_div(b), candle: |a, b| a.broadcast_div(b),
            }
            Maximum(maximum) {
                f64: |a, b| a.max(b), f32: |a, b| a.max(b), wgsl: "max(a, b)", onnx: "Max",
                torch: |a, b| a.f_maximum(b), candle: |a, b| a.broadcast_maximum(b),
            }
            Minimum(minimum) {
                f64: |a, b| a.min(b), f32: |a, b| a.min(b), wgsl: "min(a, b)", onnx: "Min",
                torch: |a, b| a.f_minimum(b), candle: |a, b| a.broadcast_minimum(b),
            }
        }
    };
}

pub const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
pub const GELU_TANH_COEF: f64 = 0.044_715;

macro_rules! define_unary {
    ($( $(#[$doc:meta])* $v:ident($fn:ident) {
        flops: $flops:expr, cost: $cost:expr, domain: ($lo:expr, $hi:expr),
        f64: $f64:expr, f32: $f32:ident, wgsl: $wgsl:literal,
        onnx: $onnx:expr, torch: $torch:expr, candle: $candle:expr $(,)?
    } )*) => {
        /// Element-wise functions of one argument.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum UnaryOp {
            $( $(#[$doc])* $v, )*
        }

        impl UnaryOp {
            pub const ALL: [UnaryOp; [$(stringify!($v)),*].len()] = [$( UnaryOp::$v ),*];

            pub fn name(self) -> &'static str {
                match self { $( UnaryOp::$v => stringify!($fn), )* }
            }

            /// The reference definition, in f64.
            pub fn eval_f64(self, x: f64) -> f64 {
                match self {
                    $( UnaryOp::$v => { let f: fn(f64) -> f64 = $f64; f(x) } )*
                }
            }

            /// Floating-point operations per element, as commonly counted (transcendentals
            /// count 1).
            pub fn flops_per_element(self) -> u64 {
                match self { $( UnaryOp::$v => $flops, )* }
            }

            /// Rough CPU cost per element in simple-op units (a transcendental is ~10): how
            /// much work makes threads worth it.
            pub fn cost(self) -> usize {
                match self { $( UnaryOp::$v => $cost, )* }
            }

            /// The part of the real line where the op is defined; property tests draw
            /// inputs from it.
            pub fn domain(self) -> (f64, f64) {
                match self { $( UnaryOp::$v => ($lo, $hi), )* }
            }

            /// The op as a WGSL expression of `x` (f32).
            pub fn wgsl(self) -> &'static str {
                match self { $( UnaryOp::$v => $wgsl, )* }
            }
        }
    };
}
unary_ops!(define_unary);

macro_rules! define_binary {
    ($( $v:ident($fn:ident) {
        f64: $f64:expr, f32: $f32:expr, wgsl: $wgsl:literal, onnx: $onnx:literal,
        torch: $torch:expr, candle: $candle:expr $(,)?
    } )*) => {
        /// Element-wise functions of two (broadcast) arguments.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum BinaryOp {
            $( $v, )*
        }

        impl BinaryOp {
            pub const ALL: [BinaryOp; [$(stringify!($v)),*].len()] = [$( BinaryOp::$v ),*];

            pub fn name(self) -> &'static str {
                match self { $( BinaryOp::$v => stringify!($fn), )* }
            }

            /// The reference definition, in f64.
            pub fn eval_f64(self, a: f64, b: f64) -> f64 {
                match self {
                    $( BinaryOp::$v => { let f: fn(f64, f64) -> f64 = $f64; f(a, b) } )*
                }
            }

            /// The op as a WGSL expression of `a` and `b` (f32).
            pub fn wgsl(self) -> &'static str {
                match self { $( BinaryOp::$v => $wgsl, )* }
            }

            /// The ONNX op type.
            pub fn onnx(self) -> &'static str {
                match self { $( BinaryOp::$v => $onnx, )* }
            }
        }
    };
}
binary_ops!(define_binary);
