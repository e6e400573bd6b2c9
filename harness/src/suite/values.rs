//! Value types suites and profiles share: durations and warm-up policies, parsed with
//! messages that say what was expected.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::results::Warmup;

/// A duration in seconds, written as a number of seconds or a string with a unit
/// (`"500us"`, `"3s"`, `"2min"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seconds(pub f64);

/// Parses `"1.5ms"`-style durations.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let value: f64 = num.trim().parse().ok()?;
    let scale = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        _ => return None,
    };
    (value.is_finite() && value >= 0.0).then_some(value * scale)
}

const DURATION: &str =
    "a duration: seconds as a number, or a string like \"500us\", \"3s\", \"2min\"";

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(DURATION)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                if v.is_finite() && v >= 0.0 {
                    Ok(Seconds(v))
                } else {
                    Err(E::custom(format!("expected {DURATION}, got {v}")))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                parse_duration(v)
                    .map(Seconds)
                    .ok_or_else(|| E::custom(format!("expected {DURATION}, got \"{v}\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A relative precision: `"1%"` or `0.01`, above 0 and below 1.
#[derive(Clone, Copy)]
pub struct Fraction(pub f64);

const FRACTION: &str = "a fraction above 0 and below 1: a number like 0.01 or a string like \"1%\"";

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(FRACTION)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fraction, E> {
                if v > 0.0 && v < 1.0 {
                    Ok(Fraction(v))
                } else {
                    Err(E::custom(format!("expected {FRACTION}, got {v}")))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fraction, E> {
                let percent = v
                    .trim()
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<f64>().ok());
                match percent {
                    Some(p) if p > 0.0 && p < 100.0 => Ok(Fraction(p / 100.0)),
                    _ => Err(E::custom(format!("expected {FRACTION}, got \"{v}\""))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `warmup = "auto" | <iterations> | "<duration>"`.
#[derive(Clone)]
pub struct WarmupSpec(pub Warmup);

const WARMUP: &str = "\"auto\", a number of iterations, or a duration string like \"1s\"";

impl<'de> Deserialize<'de> for WarmupSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WarmupSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(WARMUP)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WarmupSpec, E> {
                u64::try_from(v)
                    .map(|n| WarmupSpec(Warmup::Iterations(n)))
                    .map_err(|_| E::custom(format!("expected {WARMUP}, got {v}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WarmupSpec, E> {
                Ok(WarmupSpec(Warmup::Iterations(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WarmupSpec, E> {
                if v == "auto" {
                    return Ok(WarmupSpec(Warmup::Auto));
                }
                parse_duration(v)
                    .map(|s| WarmupSpec(Warmup::Seconds(s)))
                    .ok_or_else(|| E::custom(format!("expected {WARMUP}, got \"{v}\"")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("3s"), Some(3.0));
        assert_eq!(parse_duration("500us"), Some(500e-6));
        assert_eq!(parse_duration("2min"), Some(120.0));
        assert_eq!(parse_duration("1.5 ms"), Some(1.5e-3));
        assert_eq!(parse_duration("3"), None);
        assert_eq!(parse_duration("3h"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}
