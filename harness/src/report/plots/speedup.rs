//! The speed-up of the run's focus subject (`engine-cpu`) over every other subject, one row
//! per case group: a marker at the ratio of medians (other ÷ focus) and a whisker over its
//! bootstrap CI, one colour per subject, on a log axis with a dashed line at 1× (right of
//! it the focus subject is faster). The same numbers as the report's summary table.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::groups::{self, CaseGroup, SpeedUps};
use crate::results::RunResults;

use super::axis::Axis;
use super::{FONT_FAMILY, Palette, impl_chart};

/// Whether a group gives the chart a row: the focus subject and another are both ranked.
pub(super) fn has_row(group: &CaseGroup<'_>, focus: &str) -> bool {
    let ranked = |c: &&&crate::results::CaseResult| c.is_measured();
    group
        .cases
        .iter()
        .filter(ranked)
        .any(|c| c.subject == focus)
        && group
            .cases
            .iter()
            .filter(ranked)
            .any(|c| c.subject != focus)
}

/// Height of the strip under the chart where the legend goes, so no data row gives way to it.
const LEGEND_PX: u32 = 40;

struct Mark {
    /// Index into `SpeedUpChart::subjects`.
    subject: usize,
    point: f64,
    lo: f64,
    hi: f64,
}

struct Row {
    label: String,
    marks: Vec<Mark>,
}

pub(super) struct SpeedUpChart {
    title: String,
    focus: String,
    /// The other subjects, in palette order, with their colours.
    subjects: Vec<(String, RGBColor)>,
    rows: Vec<Row>,
}

impl SpeedUpChart {
    /// 1200 wide; 34 px per row, and room for the caption, the axis and the legend.
    pub fn size_px(&self) -> (u32, u32) {
        (1200, 160 + LEGEND_PX + 34 * self.rows.len().max(1) as u32)
    }

    pub fn new(
        title: &str,
        results: &RunResults,
        speed_ups: &SpeedUps<'_>,
        focus: &str,
        palette: &Palette,
    ) -> SpeedUpChart {
        let varying = groups::varying_params(results);
        let mut subjects: Vec<(String, RGBColor)> = Vec::new();
        let mut rows = Vec::new();
        let with_rows = speed_ups
            .groups
            .iter()
            .zip(&speed_ups.per_group)
            .filter(|(g, _)| has_row(g, focus));
        for (group, ups) in with_rows {
            let mut marks = Vec::new();
            for up in ups {
                let name = &up.baseline.subject;
                let subject = match subjects.iter().position(|(s, _)| s == name) {
                    Some(i) => i,
                    None => {
                        subjects.push((name.clone(), palette.color(name)));
                        subjects.len() - 1
                    }
                };
                let e = &up.estimate;
                marks.push(Mark {
                    subject,
                    point: e.point,
                    lo: e.ci.lo,
                    hi: e.ci.hi,
                });
            }
            rows.push(Row {
                label: group.label(&varying),
                marks,
            });
        }
        // Palette order, and marks renumbered to match.
        let mut order: Vec<usize> = (0..subjects.len()).collect();
        order.sort_by_key(|&i| palette.index(&subjects[i].0));
        let rank: Vec<usize> = (0..subjects.len())
            .map(|i| order.iter().position(|&o| o == i).unwrap_or(i))
            .collect();
        for m in rows.iter_mut().flat_map(|r| &mut r.marks) {
            m.subject = rank[m.subject];
        }
        let subjects = order.into_iter().map(|i| subjects[i].clone()).collect();
        SpeedUpChart {
            title: title.to_string(),
            focus: focus.to_string(),
            subjects,
            rows,
        }
    }

    /// Log scale over every point and interval, always including 1×.
    fn x_axis(&self) -> Axis {
        let values = self
            .rows
            .iter()
            .flat_map(|r| &r.marks)
            .flat_map(|m| [m.point, m.lo, m.hi])
            .filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = values.fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        Axis::log(lo, hi)
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (_, height) = root.dim_in_pixel();
        let (root, legend) = root.split_vertically(height.saturating_sub(LEGEND_PX));
        self.draw_legend_strip(&legend)?;
        let n = self.rows.len();
        let x_axis = self.x_axis();
        let (x_lo, x_hi) = (x_axis.lo(), x_axis.hi());
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FONT_FAMILY, 22))
            .margin(18)
            .x_label_area_size(56)
            .y_label_area_size(330)
            .build_cartesian_2d(x_axis, Axis::categories(n))?;
        // Row 0 at the top.
        let labels: Vec<String> = self.rows.iter().rev().map(|r| r.label.clone()).collect();
        let y_label = move |y: &f64| Axis::category_label(&labels, *y);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n.max(1))
            .y_label_formatter(&y_label)
            .x_labels(10)
            .x_label_formatter(&|x| format!("{}×", crate::report::format::sig3(*x)))
            .x_desc(format!(
                "median of each other subject ÷ median of {} (log scale; right of 1×: {} is faster); whiskers: CI",
                self.focus, self.focus
            ))
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 14))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;

        chart.draw_series(DashedLineSeries::new(
            vec![(1.0, -0.5), (1.0, n as f64 - 0.5)],
            8,
            6,
            BLACK.stroke_width(2),
        ))?;

        let m = self.subjects.len().max(1) as f64;
        for (j, (_, color)) in self.subjects.iter().enumerate() {
            let color = *color;
            // Subjects side by side within a row, spread over 60% of it.
            let dy = if m > 1.0 {
                0.3 - 0.6 * j as f64 / (m - 1.0)
            } else {
                0.0
            };
            let marks: Vec<(f64, f64, f64, f64)> = self
                .rows
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    let y = (n - 1 - i) as f64 + dy;
                    r.marks
                        .iter()
                        .filter(move |mk| mk.subject == j && mk.point.is_finite())
                        .map(move |mk| (y, mk.point, mk.lo, mk.hi))
                })
                .collect();
            let style = color.stroke_width(2);
            let clamp = |x: f64| x.clamp(x_lo, x_hi);
            chart.draw_series(
                marks
                    .iter()
                    .filter(|(_, _, lo, hi)| lo.is_finite() && hi.is_finite())
                    .map(|&(y, _, lo, hi)| {
                        PathElement::new(vec![(clamp(lo), y), (clamp(hi), y)], style)
                    }),
            )?;
            chart.draw_series(
                marks
                    .iter()
                    .map(|&(y, p, _, _)| Circle::new((p, y), 5, color.filled())),
            )?;
        }
        Ok(())
    }

    /// One entry per other subject, left to right, centred in `area`.
    fn draw_legend_strip<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let style = TextStyle::from((FONT_FAMILY, 14).into_font()).color(&BLACK);
        let labels: Vec<String> = self
            .subjects
            .iter()
            .map(|(subject, _)| format!("{} vs {subject}", self.focus))
            .collect();
        // Marker (12 px), a gap, the text, and space before the next entry.
        let widths: Vec<i32> = labels
            .iter()
            .map(|l| {
                12 + 8
                    + area
                        .estimate_text_size(l, &style)
                        .map_or(100, |(w, _)| w as i32)
                    + 32
            })
            .collect();
        let (width, height) = area.dim_in_pixel();
        let mut x = (width as i32 - widths.iter().sum::<i32>()).max(0) / 2;
        let y = height as i32 / 2;
        for ((label, (_, color)), w) in labels.iter().zip(&self.subjects).zip(&widths) {
            area.draw(&Circle::new((x + 6, y), 5, color.filled()))?;
            area.draw(&Text::new(label.clone(), (x + 20, y - 8), style.clone()))?;
            x += w;
        }
        Ok(())
    }
}

impl_chart!(SpeedUpChart);
