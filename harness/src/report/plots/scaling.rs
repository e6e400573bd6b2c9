//! Scaling over a sweep: two panels side by side, median time per iteration and throughput
//! (items per second at the median), against the swept parameter. One line per subject, its
//! confidence interval as error bars; a dashed vertical line wherever the fastest subject
//! changes, labelled with who takes over.
//!
//! Throughput here is `items_per_iteration / median` with the interval mapped from the
//! median's, so both panels show the same statistic; the wall-time throughput is in the
//! results table.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::format;
use crate::report::groups::{self, Sweep};

use super::axis::Axis;
use super::{FONT_FAMILY, Palette, draw_legend, impl_chart};

/// One point of a line: x, value, and its interval.
#[derive(Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
    lo: f64,
    hi: f64,
}

struct Line {
    subject: String,
    color: RGBColor,
    marker: usize,
    time: Vec<Point>,
    throughput: Vec<Point>,
}

struct Crossover {
    /// Where the two subjects' lines cross (interpolated on the drawn axes).
    x: f64,
    label: String,
}

pub(super) struct ScalingChart {
    title: String,
    param: String,
    xs: Vec<f64>,
    lines: Vec<Line>,
    crossovers: Vec<Crossover>,
}

impl ScalingChart {
    pub fn size_px(&self) -> (u32, u32) {
        (1400, 620)
    }

    pub fn new(title: &str, sweep: &Sweep<'_>, palette: &Palette) -> ScalingChart {
        let xs = sweep.xs();
        let x_axis = Axis::at_values(&xs);
        let lines = sweep
            .series
            .iter()
            .map(|s| {
                let mut time = Vec::new();
                let mut throughput = Vec::new();
                for (x, case) in &s.points {
                    let Some(sum) = &case.summary else { continue };
                    time.push(Point {
                        x: *x,
                        y: sum.median_s,
                        lo: sum.ci_low_s,
                        hi: sum.ci_high_s,
                    });
                    if let Some((y, lo, hi)) = case.items_per_s_at_median() {
                        throughput.push(Point { x: *x, y, lo, hi });
                    }
                }
                Line {
                    subject: s.subject.to_string(),
                    color: palette.color(s.subject),
                    marker: palette.index(s.subject),
                    time,
                    throughput,
                }
            })
            .collect();
        let crossovers = sweep
            .crossovers
            .iter()
            .map(|c| Crossover {
                x: crossing(sweep, c, &x_axis),
                label: format!("{} → {}", c.from, c.to),
            })
            .collect();
        ScalingChart {
            title: title.to_string(),
            param: sweep.param.to_string(),
            xs,
            lines,
            crossovers,
        }
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let body = root.titled(&self.title, (FONT_FAMILY, 22))?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w / 2);
        self.panel(
            &left,
            "median time per iteration",
            |l| &l.time,
            &|v| format::duration(*v),
            true,
        )?;
        self.panel(
            &right,
            "throughput, items/s at the median",
            |l| &l.throughput,
            &|v| format!("{}/s", format::si(*v)),
            false,
        )?;
        Ok(())
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        y_desc: &str,
        values: impl Fn(&Line) -> &Vec<Point>,
        y_fmt: &dyn Fn(&f64) -> String,
        legend: bool,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let all: Vec<Point> = self
            .lines
            .iter()
            .flat_map(|l| values(l).iter().copied())
            .collect();
        let lo = all
            .iter()
            .map(|p| p.lo.min(p.y))
            .filter(|v| *v > 0.0 && v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let hi = all
            .iter()
            .map(|p| p.hi.max(p.y))
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let x_axis = Axis::at_values(&self.xs);
        let y_axis = if lo > 0.0 && hi / lo > 3.0 {
            Axis::log(lo, hi)
        } else {
            Axis::linear(lo, hi)
        };
        let (y_lo, y_hi) = (y_axis.lo(), y_axis.hi());
        let x_desc = if x_axis.is_log() {
            format!("{} (log scale)", self.param)
        } else {
            self.param.clone()
        };
        let y_desc = if y_axis.is_log() {
            format!("{y_desc} (log scale)")
        } else {
            y_desc.to_string()
        };

        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(92)
            .build_cartesian_2d(x_axis, y_axis)?;
        chart
            .configure_mesh()
            .x_labels(self.xs.len())
            .x_label_formatter(&|x| format::param_compact(*x))
            .y_labels(12)
            .y_label_formatter(y_fmt)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 15))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;

        // Each label beside its line, on a side where it fits (~0.55 em per character), in
        // the lowest lane (18 px rows up from the bottom) where it overlaps no other label.
        let plot_w = area.dim_in_pixel().0 as f64 - 92.0 - 32.0;
        let placed: Vec<(String, HPos, i32, (f64, f64))> = self
            .crossovers
            .iter()
            .map(|c| {
                let label = format!("crossover: {}", c.label);
                let label_w = label.chars().count() as f64 * 14.0 * 0.55 + 8.0;
                let f = x_axis_fraction(&self.xs, c.x);
                let px = f * plot_w;
                let (h, dx, span) = if (1.0 - f) * plot_w >= label_w {
                    (HPos::Left, 6, (px + 6.0, px + 6.0 + label_w))
                } else if f * plot_w >= label_w {
                    (HPos::Right, -6, (px - 6.0 - label_w, px - 6.0))
                } else {
                    (HPos::Center, 0, (px - label_w / 2.0, px + label_w / 2.0))
                };
                (label, h, dx, span)
            })
            .collect();
        let spans: Vec<(f64, f64)> = placed.iter().map(|p| p.3).collect();
        let lanes = label_lanes(&spans);
        for ((c, (label, h, dx, _)), lane) in self.crossovers.iter().zip(placed).zip(lanes) {
            let style = RGBColor(90, 90, 90).stroke_width(2);
            chart.draw_series(DashedLineSeries::new(
                vec![(c.x, y_lo), (c.x, y_hi)],
                8,
                6,
                style,
            ))?;
            let text = TextStyle::from((FONT_FAMILY, 14).into_font())
                .color(&RGBColor(60, 60, 60))
                .pos(Pos::new(h, VPos::Bottom));
            // At the bottom: the legend holds the top left, and at the crossing the lines
            // are mid-height.
            let dy = -6 - 18 * lane as i32;
            chart.draw_series(std::iter::once(
                EmptyElement::at((c.x, y_lo)) + Text::new(label, (dx, dy), text),
            ))?;
        }

        for line in &self.lines {
            let pts = values(line);
            let color = line.color;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.x, p.y)),
                    color.stroke_width(2),
                ))?
                .label(line.subject.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
                });
            // Error bars: the interval, with caps 10 px wide.
            let style = color.stroke_width(2);
            let bars: Vec<&Point> = pts
                .iter()
                .filter(|p| p.lo.is_finite() && p.hi.is_finite())
                .collect();
            chart.draw_series(
                bars.iter()
                    .map(|p| PathElement::new(vec![(p.x, p.lo), (p.x, p.hi)], style)),
            )?;
            chart.draw_series(
                bars.iter()
                    .flat_map(|p| [(p.x, p.lo), (p.x, p.hi)])
                    .map(|at| {
                        EmptyElement::at(at) + PathElement::new(vec![(-5, 0), (5, 0)], style)
                    }),
            )?;
            // A distinct marker per subject, so lines stay apart in grey print too.
            let at = pts.iter().map(|p| (p.x, p.y));
            match line.marker % 4 {
                0 => chart.draw_series(at.map(|p| Circle::new(p, 5, color.filled())))?,
                1 => chart.draw_series(at.map(|p| TriangleMarker::new(p, 7, color.filled())))?,
                2 => chart.draw_series(at.map(|p| {
                    EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], color.filled())
                }))?,
                _ => chart.draw_series(at.map(|p| Cross::new(p, 6, color.stroke_width(3))))?,
            };
        }

        if legend && !self.lines.is_empty() {
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}

/// For labels spanning `spans` (pixels, left to right edges), the lane of each: the lowest
/// whose labels placed so far it does not overlap (4 px apart at least).
fn label_lanes(spans: &[(f64, f64)]) -> Vec<usize> {
    let mut lanes: Vec<Vec<(f64, f64)>> = Vec::new();
    spans
        .iter()
        .map(|&(lo, hi)| {
            let free = lanes
                .iter()
                .position(|lane| lane.iter().all(|&(a, b)| hi + 4.0 <= a || lo >= b + 4.0));
            let lane = free.unwrap_or_else(|| {
                lanes.push(Vec::new());
                lanes.len() - 1
            });
            lanes[lane].push((lo, hi));
            lane
        })
        .collect()
}

fn x_axis_fraction(xs: &[f64], x: f64) -> f64 {
    Axis::at_values(xs).fraction(x)
}

/// Where the lines of the subject that stops being fastest and the one that takes over
/// cross between two adjacent sweep values, interpolating log time over the drawn x axis;
/// halfway when either line lacks one of the two points.
fn crossing(sweep: &Sweep<'_>, c: &groups::Crossover<'_>, x_axis: &Axis) -> f64 {
    let log_time = |subject: &str, x: f64| {
        let series = sweep.series.iter().find(|s| s.subject == subject)?;
        let (_, case) = series.points.iter().find(|p| p.0 == x)?;
        Some(case.summary.as_ref()?.median_s.ln())
    };
    let gap = |x| Some(log_time(c.from, x)? - log_time(c.to, x)?);
    let t = match (gap(c.from_x), gap(c.to_x)) {
        (Some(d0), Some(d1)) if d0 < 0.0 && d1 > 0.0 => d0 / (d0 - d1),
        _ => 0.5,
    };
    x_axis.between(c.from_x, c.to_x, t)
}

impl_chart!(ScalingChart);

#[cfg(test)]
mod tests {
    use super::label_lanes;

    #[test]
    fn overlapping_crossover_labels_go_to_separate_lanes_and_apart_ones_share() {
        // Two close crossovers overlap; a third far right fits beside the first again.
        let lanes = label_lanes(&[
            (100.0, 300.0),
            (150.0, 350.0),
            (400.0, 600.0),
            (200.0, 250.0),
        ]);
        assert_eq!(lanes, vec![0, 1, 0, 2]);
    }
}
