//! The latency distribution of one case group: per subject a jittered strip of its samples,
//! a box from the first to the third quartile with whiskers to the furthest samples inside
//! the Tukey fences (1.5 IQR), and the median as a black bar with its value written beside
//! it. Invalid cases (wrong outputs) are drawn in grey and labelled so.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::format;
use crate::report::groups::CaseGroup;
use crate::results::{CaseResult, Status};

use super::axis::Axis;
use super::{FONT_FAMILY, Palette, impl_chart};

/// At most this many points per strip: beyond it a strip is a solid band anyway, and SVGs
/// would grow by ~100 bytes per point.
const MAX_POINTS: usize = 1500;

/// Whether a case has a distribution to draw.
pub(super) fn is_plotted(case: &CaseResult) -> bool {
    matches!(case.status, Status::Ok | Status::Invalid) && !case.samples_s.is_empty()
}

struct Strip {
    label: String,
    color: RGBColor,
    /// Sorted.
    sorted: Vec<f64>,
    /// In measurement order, thinned to at most MAX_POINTS.
    points: Vec<f64>,
    q1: f64,
    median: f64,
    q3: f64,
    whisker_lo: f64,
    whisker_hi: f64,
}

pub(super) struct LatencyChart {
    title: String,
    strips: Vec<Strip>,
}

impl LatencyChart {
    /// 1000 × 600, wider with more than four subjects so their labels keep apart.
    pub fn size_px(&self) -> (u32, u32) {
        let n = self.strips.len() as u32;
        ((160 + 210 * n).clamp(1000, 3000), 600)
    }

    pub fn new(title: &str, group: &CaseGroup<'_>, palette: &Palette) -> LatencyChart {
        let strips = group
            .cases
            .iter()
            .filter(|c| is_plotted(c))
            .map(|c| {
                let mut sorted = c.samples_s.clone();
                sorted.sort_by(f64::total_cmp);
                let q = |p| stats::quantile(&sorted, p);
                let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
                let iqr = q3 - q1;
                let whisker_lo = sorted
                    .iter()
                    .copied()
                    .find(|x| *x >= q1 - 1.5 * iqr)
                    .unwrap_or(q1);
                let whisker_hi = sorted
                    .iter()
                    .rev()
                    .copied()
                    .find(|x| *x <= q3 + 1.5 * iqr)
                    .unwrap_or(q3);
                let stride = c.samples_s.len().div_ceil(MAX_POINTS);
                let invalid = c.status == Status::Invalid;
                Strip {
                    label: format!(
                        "{}{} (n={})",
                        c.subject,
                        if invalid { ", invalid" } else { "" },
                        c.samples_s.len()
                    ),
                    color: if invalid {
                        RGBColor(150, 150, 150)
                    } else {
                        palette.color(&c.subject)
                    },
                    points: c.samples_s.iter().step_by(stride.max(1)).copied().collect(),
                    sorted,
                    q1,
                    median,
                    q3,
                    whisker_lo,
                    whisker_hi,
                }
            })
            .collect();
        LatencyChart {
            title: title.to_string(),
            strips,
        }
    }

    /// Log scale when the samples span more than a factor of 4 (subjects far apart, or a long
    /// tail): each subject's spread then takes the same room whatever its level. Linear
    /// otherwise.
    fn y_axis(&self) -> Axis {
        let min = self
            .strips
            .iter()
            .filter_map(|s| s.sorted.first())
            .copied()
            .fold(f64::INFINITY, f64::min);
        let max = self
            .strips
            .iter()
            .filter_map(|s| s.sorted.last())
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        if min > 0.0 && max / min > 4.0 {
            Axis::log(min, max)
        } else {
            Axis::linear(min, max)
        }
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let n = self.strips.len();
        let y_axis = self.y_axis();
        let y_desc = if y_axis.is_log() {
            "time per iteration (log scale)"
        } else {
            "time per iteration"
        };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT_FAMILY, 22))
            .margin(18)
            .x_label_area_size(56)
            .y_label_area_size(96)
            .build_cartesian_2d(Axis::categories(n), y_axis)?;
        let labels: Vec<String> = self.strips.iter().map(|s| s.label.clone()).collect();
        let x_label = move |x: &f64| Axis::category_label(&labels, *x);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&x_label)
            .y_labels(12)
            .y_label_formatter(&|y| format::duration(*y))
            .y_desc(y_desc)
            .x_desc(
                "box: quartiles · black bar: median · whiskers: furthest samples within 1.5 IQR",
            )
            .label_style((FONT_FAMILY, 15))
            .axis_desc_style((FONT_FAMILY, 14))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;

        for (i, strip) in self.strips.iter().enumerate() {
            let x = i as f64;
            let color = strip.color;
            // Samples, jittered across the slot by a low-discrepancy sequence (deterministic).
            chart.draw_series(strip.points.iter().enumerate().map(|(k, &y)| {
                let jitter = ((k as f64 * 0.618_033_988_75).fract() - 0.5) * 0.4;
                Circle::new((x + jitter, y), 2, color.mix(0.45).filled())
            }))?;
            // Box and whiskers.
            let half = 0.22;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - half, strip.q1), (x + half, strip.q3)],
                color.mix(0.12).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - half, strip.q1), (x + half, strip.q3)],
                color.stroke_width(2),
            )))?;
            let whisker = |from: f64, to: f64| {
                vec![
                    PathElement::new(vec![(x, from), (x, to)], color.stroke_width(2)),
                    PathElement::new(vec![(x - 0.1, to), (x + 0.1, to)], color.stroke_width(2)),
                ]
            };
            chart.draw_series(whisker(strip.q3, strip.whisker_hi))?;
            chart.draw_series(whisker(strip.q1, strip.whisker_lo))?;
            // Median.
            chart.draw_series(std::iter::once(PathElement::new(
                vec![
                    (x - half - 0.04, strip.median),
                    (x + half + 0.04, strip.median),
                ],
                BLACK.stroke_width(3),
            )))?;
            // Its value beside it, inside the slot (slots are 1.0 wide).
            let label_style = TextStyle::from((FONT_FAMILY, 15).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(
                format::duration(strip.median),
                (x + half + 0.06, strip.median),
                label_style,
            )))?;
        }
        Ok(())
    }
}

impl_chart!(LatencyChart);
