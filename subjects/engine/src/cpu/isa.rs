//! Run-time instruction-set detection for the element-wise and reduction kernels.

/// The widest vector ISA the kernels were compiled for that this CPU supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// x86-64 with AVX-512F/VL (plus AVX2 and FMA).
    Avx512,
    /// x86-64 with AVX2 and FMA.
    Avx2Fma,
    /// aarch64 (NEON and FMA are baseline there).
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    Neon,
    /// Whatever the build target guarantees (SSE2 on x86-64), no FMA.
    Scalar,
}

impl Isa {
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Isa::Avx2Fma;
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            return Isa::Neon;
        }
        #[allow(unreachable_code)]
        Isa::Scalar
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512f",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Neon => "neon",
            Isa::Scalar => "scalar",
        }
    }

    #[cfg(test)]
    /// Every ISA this CPU can run, widest first (the tests compare each with `Scalar`).
    pub fn available() -> Vec<Isa> {
        let all = [Isa::Avx512, Isa::Avx2Fma, Isa::Neon, Isa::Scalar];
        let best = Isa::detect();
        all.into_iter()
            .filter(|&i| match best {
                Isa::Avx512 => i != Isa::Neon,
                Isa::Avx2Fma => i == Isa::Avx2Fma || i == Isa::Scalar,
                Isa::Neon => i == Isa::Neon || i == Isa::Scalar,
                Isa::Scalar => i == Isa::Scalar,
            })
            .collect()
    }
}

/// The kernels' ISA on this CPU: "avx512f", "avx2+fma", "neon" or "scalar".
pub fn cpu_isa() -> &'static str {
    Isa::detect().name()
}

/// Calls `$f::<FMA>($args)` compiled for `$isa`: the same generic body, built under the
/// ISA's `target_feature`s so LLVM vectorises it for that width. `$f` must be
/// `#[inline(always)]` (and so must everything it calls in its loops).
macro_rules! dispatch {
    ($isa:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R { f() }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R { f() }
        match $isa {
            // SAFETY: `Isa::detect` (or the caller, from `Isa::available`) checked the CPU.
            #[cfg(target_arch = "x86_64")]
            $crate::cpu::Isa::Avx512 => unsafe { avx512(|| $f::<true>($($arg),*)) },
            #[cfg(target_arch = "x86_64")]
            $crate::cpu::Isa::Avx2Fma => unsafe { avx2(|| $f::<true>($($arg),*)) },
            #[cfg(target_arch = "aarch64")]
            $crate::cpu::Isa::Neon => $f::<true>($($arg),*),
            _ => $f::<false>($($arg),*),
        }
    }};
}
pub(crate) use dispatch;
