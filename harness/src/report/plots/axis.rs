//! A numeric plotters axis whose ticks we choose: linear or logarithmic, with major ticks
//! (labelled, bold grid) and minor ticks (light grid). Used for every axis of every plot, so
//! sweep axes can tick exactly at the swept values and log axes at 1-2-5 steps.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

#[derive(Clone, Debug)]
pub(super) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl Axis {
    /// A linear axis over `[min, max]`, padded by 6% of the span each side (never below 0
    /// when the data is not), with 1-2-5 ticks.
    pub fn linear(min: f64, max: f64) -> Axis {
        let (min, max) = finite_span(min, max, false);
        let pad = ((max - min) * 0.06)
            .max(max.abs() * 1e-3)
            .max(f64::MIN_POSITIVE);
        let lo = if min >= 0.0 {
            (min - pad).max(0.0)
        } else {
            min - pad
        };
        let hi = max + pad;
        let major = nice_ticks(lo, hi, 7);
        Axis {
            lo,
            hi,
            log: false,
            major,
            minor: Vec::new(),
        }
    }

    /// A logarithmic axis over `[min, max]` (both > 0), padded by a factor of 1.25, ticked at
    /// 1-2-5 per decade (or only powers of ten when that would be too many).
    pub fn log(min: f64, max: f64) -> Axis {
        let (min, max) = finite_span(min, max, true);
        let (lo, hi) = (min / 1.25, max * 1.25);
        let decades = decade_range(lo, hi);
        let in_range = |v: &f64| *v >= lo && *v <= hi;
        let multiples = |ms: &[f64]| -> Vec<f64> {
            decades
                .clone()
                .flat_map(|d| ms.iter().map(move |m| m * 10f64.powi(d)))
                .filter(in_range)
                .collect()
        };
        let mut major = multiples(&[1.0, 2.0, 5.0]);
        if major.len() > 9 {
            major = multiples(&[1.0]);
        }
        if major.len() < 3 {
            major = multiples(&[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]);
        }
        if major.len() < 2 {
            major = vec![min, max];
        }
        let minor = multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
            .into_iter()
            .filter(|m| !major.iter().any(|x| (x / m - 1.0).abs() < 1e-9))
            .collect();
        Axis {
            lo,
            hi,
            log: true,
            major,
            minor,
        }
    }

    /// An axis ticked exactly at `values` (a sweep's parameter values): logarithmic when all
    /// are positive and they span more than a factor of 4, otherwise linear.
    pub fn at_values(values: &[f64]) -> Axis {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut axis = if min > 0.0 && max / min > 4.0 {
            let (min, max) = finite_span(min, max, true);
            let f = (max / min).powf(0.06).max(1.1);
            Axis {
                lo: min / f,
                hi: max * f,
                log: true,
                major: Vec::new(),
                minor: Vec::new(),
            }
        } else {
            Axis::linear(min, max)
        };
        axis.major = values.to_vec();
        axis.minor.clear();
        axis
    }

    /// Categories `0..n` at integer positions, with half a slot of room either side.
    pub fn categories(n: usize) -> Axis {
        let n = n.max(1);
        Axis {
            lo: -0.5,
            hi: n as f64 - 0.5,
            log: false,
            major: (0..n).map(|i| i as f64).collect(),
            minor: Vec::new(),
        }
    }

    /// The label of the category at `at` on a [`Axis::categories`] axis: `labels[i]` at
    /// integer `i`, empty between categories and past the last.
    pub fn category_label(labels: &[String], at: f64) -> String {
        let i = at.round();
        if (at - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }

    pub fn is_log(&self) -> bool {
        self.log
    }

    pub fn lo(&self) -> f64 {
        self.lo
    }

    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// The point `t` of the way from `a` to `b` as this axis draws it (0.5: halfway).
    pub fn between(&self, a: f64, b: f64, t: f64) -> f64 {
        if self.log {
            a * (b / a).powf(t)
        } else {
            a + (b - a) * t
        }
    }

    /// Where `v` lies along the axis, 0 at `lo` and 1 at `hi`.
    pub fn fraction(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        // Keep far-off values (never expected) from overflowing pixel coordinates.
        if t.is_finite() {
            t.clamp(-1.0, 2.0)
        } else {
            0.0
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = self.fraction(*value);
        (limit.0 as f64 + t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let mut points = self.major.clone();
        if hint.weight().allow_light_points() {
            points.extend(self.minor.iter().copied());
        }
        points
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// `[min, max]` made usable: finite, ordered, non-empty, and positive for a log axis.
fn finite_span(min: f64, max: f64, log: bool) -> (f64, f64) {
    let (mut min, mut max) = if min.is_finite() && max.is_finite() && min <= max {
        (min, max)
    } else {
        (1.0, 1.0)
    };
    if log && min <= 0.0 {
        min = if max > 0.0 { max / 10.0 } else { 1.0 };
        max = max.max(min);
    }
    if max - min <= max.abs() * 1e-9 {
        if log {
            (min / 1.5, max * 1.5)
        } else if max == 0.0 {
            (-1.0, 1.0)
        } else {
            (min - min.abs() * 0.1, max + max.abs() * 0.1)
        }
    } else {
        (min, max)
    }
}

fn decade_range(lo: f64, hi: f64) -> std::ops::RangeInclusive<i32> {
    (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32)
}

/// Round-numbered ticks (steps of 1, 2 or 5 × 10^k) in `[lo, hi]`, about `target` of them.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let raw = (hi - lo) / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo, hi];
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).take(100).map(|k| k as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round() {
        let a = Axis::linear(0.00102, 0.00131);
        assert!(a.lo < 0.00102 && a.hi > 0.00131);
        assert!(a.major.len() >= 3 && a.major.len() <= 12, "{:?}", a.major);
        assert!(a.major.iter().all(|t| *t >= a.lo && *t <= a.hi));
        let z = Axis::linear(0.0, 10.0);
        assert_eq!(z.lo, 0.0);
        assert!(z.major.contains(&0.0) && z.major.contains(&10.0));
    }

    #[test]
    fn log_ticks_cover_the_range() {
        let a = Axis::log(0.006, 0.13);
        assert!(a.is_log());
        assert!(a.major.len() >= 3 && a.major.len() <= 9, "{:?}", a.major);
        assert!(a.major.iter().any(|t| (t - 0.01).abs() < 1e-12));
        let wide = Axis::log(1e-9, 10.0);
        assert!(wide.major.len() <= 12, "{:?}", wide.major);
        let narrow = Axis::log(1.02e-3, 1.05e-3);
        assert!(narrow.major.len() >= 2);
        // Degenerate input still gives a usable axis.
        for a in [
            Axis::log(0.0, 0.0),
            Axis::log(f64::NAN, 1.0),
            Axis::linear(5.0, 5.0),
            Axis::linear(0.0, 0.0),
        ] {
            assert!(a.lo < a.hi && a.lo.is_finite() && a.hi.is_finite(), "{a:?}");
        }
    }

    #[test]
    fn sweep_axes_tick_at_the_values() {
        let a = Axis::at_values(&[8.0, 32.0, 128.0, 512.0]);
        assert!(a.is_log());
        assert_eq!(a.key_points(10usize), vec![8.0, 32.0, 128.0, 512.0]);
        assert_eq!(a.between(8.0, 32.0, 0.5), 16.0);
        let lin = Axis::at_values(&[1.0, 2.0, 3.0]);
        assert!(!lin.is_log());
        assert!(a.map(&8.0, (0, 100)) < a.map(&32.0, (0, 100)));
        let c = Axis::categories(3);
        assert_eq!(c.key_points(3usize), vec![0.0, 1.0, 2.0]);
        assert_eq!(c.map(&1.0, (0, 300)), 150);
    }
}
