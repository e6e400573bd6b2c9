//! The element-wise op table: one list that every backend reads.
//!
//! Each op is declared once here with its name and its f64 definition (the reference
//! semantics). Backends implement each variant with an exhaustive `match`, so adding an op
//! here makes every backend that lacks it fail to compile instead of failing at run time.

/// Element-wise functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Relu,
    Exp,
    Log,
    Tanh,
    Sqrt,
    Rsqrt,
    /// GELU with the exact erf: x/2 * (1 + erf(x/sqrt 2)).
    Gelu,
    /// GELU with the tanh approximation: x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    GeluTanh,
}

/// Element-wise functions of two (broadcast) arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
}

pub const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
pub const GELU_TANH_COEF: f64 = 0.044_715;

impl UnaryOp {
    pub const ALL: [UnaryOp; 9] = [
        UnaryOp::Neg,
        UnaryOp::Relu,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Tanh,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Gelu,
        UnaryOp::GeluTanh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Relu => "relu",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Gelu => "gelu",
            UnaryOp::GeluTanh => "gelu_tanh",
        }
    }

    /// The reference definition, in f64.
    pub fn eval_f64(self, x: f64) -> f64 {
        match self {
            UnaryOp::Neg => -x,
            UnaryOp::Relu => x.max(0.0),
            UnaryOp::Exp => x.exp(),
            UnaryOp::Log => x.ln(),
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Rsqrt => 1.0 / x.sqrt(),
            UnaryOp::Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            UnaryOp::GeluTanh => {
                0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + GELU_TANH_COEF * x * x * x)).tanh())
            }
        }
    }

    /// Floating-point operations per element, as commonly counted (transcendentals count 1).
    pub fn flops_per_element(self) -> u64 {
        match self {
            UnaryOp::Neg | UnaryOp::Relu | UnaryOp::Exp | UnaryOp::Log => 1,
            UnaryOp::Tanh | UnaryOp::Sqrt => 1,
            UnaryOp::Rsqrt => 2,
            UnaryOp::Gelu => 5,
            UnaryOp::GeluTanh => 8,
        }
    }

    /// The part of the real line where the op is defined; property tests draw inputs from it.
    pub fn domain(self) -> (f64, f64) {
        match self {
            UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Rsqrt => (1e-3, 100.0),
            UnaryOp::Exp => (-30.0, 30.0),
            _ => (-10.0, 10.0),
        }
    }
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 6] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
        }
    }

    /// The reference definition, in f64.
    pub fn eval_f64(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Maximum => a.max(b),
            BinaryOp::Minimum => a.min(b),
        }
    }
}
