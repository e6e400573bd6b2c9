//! How numbers read in reports and plots: one place, so the table, the plots and the
//! terminal print `1.23 ms` the same way. Times have adaptive units and 3 significant digits.
//! Non-finite values print as `n/a`, never as `NaN`.

/// A time in seconds with an adaptive unit (ns, µs, ms, s) and 3 significant digits:
/// `0.001234` → `1.23 ms`, `0.0009996` → `1.00 ms`, `42.0` → `42.0 s`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "n/a".to_string();
    }
    if seconds == 0.0 {
        return "0 s".to_string();
    }
    if seconds < 0.0 {
        return format!("-{}", duration(-seconds));
    }
    let (scale, unit) = time_unit(seconds);
    format!("{} {unit}", sig3(seconds / scale))
}

/// A point and its interval, all in the point's unit: `1.23 ms (1.20–1.26)`.
pub fn duration_ci(point: f64, lo: f64, hi: f64) -> String {
    if !point.is_finite() {
        return "n/a".to_string();
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return duration(point);
    }
    let (scale, unit) = time_unit(point.abs());
    format!(
        "{} {unit} ({}–{})",
        sig3(point / scale),
        sig3(lo / scale),
        sig3(hi / scale)
    )
}

/// The unit a time is printed in: the largest whose value, rounded to 3 significant digits,
/// is at least 1.
fn time_unit(seconds: f64) -> (f64, &'static str) {
    const UNITS: [(f64, &str); 4] = [(1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")];
    UNITS
        .iter()
        .copied()
        .find(|(scale, _)| round_sig(seconds / scale, 3) >= 1.0)
        .unwrap_or(UNITS[3])
}

/// `x` rounded to `digits` significant digits.
fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let magnitude = x.abs().log10().floor() as i32;
    let factor = 10f64.powi(digits - 1 - magnitude);
    (x * factor).round() / factor
}

/// A number with 3 significant digits and no exponent (`1.23`, `12.3`, `123`, `1230`).
pub fn sig3(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let r = round_sig(x, 3);
    if r == 0.0 {
        return "0".to_string();
    }
    let magnitude = r.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    format!("{r:.decimals$}")
}

/// A ratio such as a speed-up: `1.85×`.
pub fn ratio(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    format!("{}×", sig3(x))
}

/// A ratio with its interval: `1.85× (1.80–1.90)`.
pub fn ratio_ci(point: f64, lo: f64, hi: f64) -> String {
    if !(lo.is_finite() && hi.is_finite()) {
        return ratio(point);
    }
    format!("{} ({}–{})", ratio(point), sig3(lo), sig3(hi))
}

/// A fraction as a percentage with 3 significant digits: `0.0234` → `2.34%`.
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".to_string();
    }
    format!("{}%", sig3(fraction * 100.0))
}

/// A rate or count with an SI prefix and 3 significant digits: `812`, `12.3k`, `1.23M`.
pub fn si(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    const PREFIXES: [(f64, &str); 5] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")];
    let a = x.abs();
    let (scale, prefix) = PREFIXES
        .iter()
        .copied()
        .find(|(scale, _)| round_sig(a / scale, 3) >= 1.0)
        .unwrap_or((1.0, ""));
    format!("{}{prefix}", sig3(x / scale))
}

/// Bytes in binary units: `512 B`, `48.0 KiB`, `23.5 GiB`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = b as f64;
    let mut unit = 0;
    while value >= 1000.0 && b >= 1024 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{} {}", sig3(value), UNITS[unit])
    }
}

/// A small error value in scientific notation with 2 significant digits: `1.2e-6`; exact
/// zero is `0`.
pub fn sci(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    format!("{x:.1e}")
}

/// A sweep value on an axis or in a label: integers in full (`8`, `1048576`), other numbers
/// with 3 significant digits.
pub fn param_value(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        sig3(x)
    }
}

/// A sweep value as an axis tick, short enough for a crowded log axis: small integers in
/// full (`8`, `4096`), powers of two from 2^14 in binary units (`16Ki`, `1Mi`, `8Mi`),
/// anything else with an SI prefix (`12.3k`, `0.250`).
pub fn param_compact(x: f64) -> String {
    let is_int = x.fract() == 0.0 && x.abs() < 1e15;
    if is_int && x.abs() < 10_000.0 {
        return format!("{}", x as i64);
    }
    if is_int && x > 0.0 && (x as u64).is_power_of_two() {
        let exp = (x as u64).trailing_zeros();
        let (unit, shift) = match exp {
            0..20 => ("Ki", 10),
            20..30 => ("Mi", 20),
            30..40 => ("Gi", 30),
            _ => ("Ti", 40),
        };
        return format!("{}{unit}", 1u64 << (exp - shift));
    }
    si(x)
}

/// A server scenario's bound: `p99 ≤ 100 ms`.
pub fn server_bound(spec: &crate::server::ServerSpec) -> String {
    let p = sig3(spec.percentile * 100.0);
    format!("p{} ≤ {}", p.trim_end_matches(".0"), duration(spec.slo_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_units_and_three_digits() {
        let cases = [
            (1.234e-9, "1.23 ns"),
            (0.5e-9, "0.500 ns"),
            (12.34e-9, "12.3 ns"),
            (999.4e-9, "999 ns"),
            (999.6e-9, "1.00 µs"),
            (1.234e-6, "1.23 µs"),
            (123.4e-6, "123 µs"),
            (0.0009996, "1.00 ms"),
            (0.001234, "1.23 ms"),
            (0.01, "10.0 ms"),
            (0.9996, "1.00 s"),
            (1.0, "1.00 s"),
            (42.0, "42.0 s"),
            (1234.5, "1230 s"),
            (0.0, "0 s"),
            (-0.002, "-2.00 ms"),
            (f64::NAN, "n/a"),
            (f64::INFINITY, "n/a"),
        ];
        for (s, want) in cases {
            assert_eq!(duration(s), want, "{s}");
        }
    }

    #[test]
    fn intervals_share_the_point_unit() {
        assert_eq!(
            duration_ci(0.001234, 0.000998, 0.00131),
            "1.23 ms (0.998–1.31)"
        );
        assert_eq!(duration_ci(0.001, f64::NAN, 0.002), "1.00 ms");
        assert_eq!(ratio_ci(1.8512, 1.8, 1.9), "1.85× (1.80–1.90)");
        assert_eq!(ratio(f64::NAN), "n/a");
    }

    #[test]
    fn other_numbers() {
        assert_eq!(sig3(9.996), "10.0");
        assert_eq!(sig3(0.0), "0");
        assert_eq!(percent(0.02346), "2.35%");
        assert_eq!(percent(0.5), "50.0%");
        assert_eq!(si(812.0), "812");
        assert_eq!(si(12_345.0), "12.3k");
        assert_eq!(si(999_999.0), "1.00M");
        assert_eq!(si(0.5), "0.500");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(49152), "48.0 KiB");
        assert_eq!(bytes(25_276_502_016), "23.5 GiB");
        assert_eq!(bytes(1023 * 1024 + 1000), "1.00 MiB");
        assert_eq!(sci(1.234e-6), "1.2e-6");
        assert_eq!(sci(0.0), "0");
        assert_eq!(param_value(8.0), "8");
        assert_eq!(param_value(1048576.0), "1048576");
        assert_eq!(param_value(0.25), "0.250");
        assert_eq!(param_compact(4096.0), "4096");
        assert_eq!(param_compact(16384.0), "16Ki");
        assert_eq!(param_compact(1048576.0), "1Mi");
        assert_eq!(param_compact(8388608.0), "8Mi");
        assert_eq!(param_compact(12_345.0), "12.3k");
        assert_eq!(param_compact(0.25), "0.250");
    }
}
