//! Charts of comparisons, drawn with the report module's plotting setup (its embedded font,
//! its SVG + PNG writer):
//!
//! - `compare.{svg,png}`: one row per case (or subject pair), the ratio B/A as a dot with its
//!   CI as a whisker, the case's noise band shaded, coloured by verdict.
//! - `history_<group>.{svg,png}`: per case group, each subject's median over the runs with
//!   its CI, step changes marked.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use stats::Verdict;

use super::RunComparison;
use super::history::{History, Step};
use crate::report::format;
use crate::report::plots::{Chart, FONT_FAMILY, register_fonts, write_chart};

/// Colour of a verdict: red slower, green faster, orange inconclusive, grey unchanged.
fn verdict_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Slower => RGBColor(214, 39, 40),
        Verdict::Faster => RGBColor(44, 160, 44),
        Verdict::Inconclusive => RGBColor(255, 127, 14),
        Verdict::Unchanged => RGBColor(110, 110, 110),
    }
}

struct Row {
    label: String,
    point: f64,
    lo: f64,
    hi: f64,
    band: f64,
    verdict: Verdict,
}

/// Per-case ratios with CI whiskers and noise bands.
pub struct RatioChart {
    title: String,
    x_desc: String,
    rows: Vec<Row>,
}

impl RatioChart {
    const WIDTH: u32 = 1200;

    /// The chart of `c`, or `None` when nothing was compared.
    pub fn new(c: &RunComparison) -> Option<RatioChart> {
        let rows: Vec<Row> = if c.mode.is_ratios() {
            c.pairs
                .iter()
                .map(|p| Row {
                    label: format!("{} · {} / {}", p.group, p.numerator, p.denominator),
                    point: p.comparison.ratio.point,
                    lo: p.comparison.ratio.ci.lo,
                    hi: p.comparison.ratio.ci.hi,
                    band: p.threshold.value,
                    verdict: p.comparison.verdict,
                })
                .collect()
        } else {
            c.cases
                .iter()
                .map(|x| Row {
                    label: x.id.clone(),
                    point: x.comparison.ratio.point,
                    lo: x.comparison.ratio.ci.lo,
                    hi: x.comparison.ratio.ci.hi,
                    band: x.threshold.value,
                    verdict: x.comparison.verdict,
                })
                .collect()
        };
        let rows: Vec<Row> = rows.into_iter().filter(|r| r.point.is_finite()).collect();
        if rows.is_empty() {
            return None;
        }
        let (title, x_desc) = if c.mode.is_ratios() {
            (
                format!(
                    "{}: change of within-run subject ratios, B over A",
                    c.b.suite
                ),
                "change of the ratio, B / A (grey band: noise threshold)".to_string(),
            )
        } else {
            (
                format!("{}: median time, B over A", c.b.suite),
                "ratio of medians, B / A (above 1: B slower; grey band: noise threshold)"
                    .to_string(),
            )
        };
        Some(RatioChart {
            title,
            x_desc,
            rows,
        })
    }

    fn size(&self) -> (u32, u32) {
        (Self::WIDTH, 130 + 28 * self.rows.len() as u32)
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let n = self.rows.len() as i32;
        let finite = |x: f64| x.is_finite().then_some(x);
        let lo = self
            .rows
            .iter()
            .flat_map(|r| [finite(r.lo), Some(r.point), Some(1.0 - r.band)])
            .flatten()
            .fold(1.0f64, f64::min);
        let hi = self
            .rows
            .iter()
            .flat_map(|r| [finite(r.hi), Some(r.point), Some(1.0 + r.band)])
            .flatten()
            .fold(1.0f64, f64::max);
        let pad = (hi - lo).max(0.02) * 0.08;
        let longest = self
            .rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(10) as u32;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT_FAMILY, 20))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size((longest * 7 + 16).clamp(80, 560))
            .build_cartesian_2d((lo - pad)..(hi + pad), (0..n).into_segmented())?;
        let labels: Vec<&str> = self.rows.iter().map(|r| r.label.as_str()).collect();
        let y_fmt = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) if *i >= 0 && *i < n => {
                labels[(n - 1 - i) as usize].to_string()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(self.rows.len())
            .y_label_formatter(&y_fmt)
            .x_labels(10)
            .x_label_formatter(&|x| format::sig3(*x))
            .x_desc(self.x_desc.as_str())
            .label_style((FONT_FAMILY, 13))
            .axis_desc_style((FONT_FAMILY, 14))
            .bold_line_style(RGBColor(220, 220, 220))
            .light_line_style(RGBColor(242, 242, 242))
            .draw()?;

        let band_fill = RGBColor(225, 225, 225).filled();
        for (i, r) in self.rows.iter().enumerate() {
            let y = n - 1 - i as i32;
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (1.0 - r.band, SegmentValue::Exact(y)),
                    (1.0 + r.band, SegmentValue::Exact(y + 1)),
                ],
                band_fill,
            )))?;
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
            BLACK.stroke_width(1),
        )))?;
        for (i, r) in self.rows.iter().enumerate() {
            let y = SegmentValue::CenterOf(n - 1 - i as i32);
            let color = verdict_color(r.verdict);
            if r.lo.is_finite() && r.hi.is_finite() {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(r.lo, y.clone()), (r.hi, y.clone())],
                    color.stroke_width(3),
                )))?;
            }
            chart.draw_series(std::iter::once(Circle::new(
                (r.point, y.clone()),
                5,
                color.filled(),
            )))?;
            let text = format!("{} {}", format::ratio(r.point), r.verdict);
            chart.draw_series(std::iter::once(Text::new(
                text,
                (hi + pad * 0.05, y),
                TextStyle::from((FONT_FAMILY, 12).into_font()).color(&color),
            )))?;
        }
        Ok(())
    }
}

/// A run's point on a history line: (run index, median, CI low, CI high, step at this run).
type HistoryPoint = (usize, f64, f64, f64, Option<Verdict>);

/// One case group's medians over a suite's history.
pub struct HistoryChart {
    title: String,
    /// x labels, one per run.
    runs: Vec<String>,
    /// Per subject, its points.
    lines: Vec<(String, Vec<HistoryPoint>)>,
}

impl HistoryChart {
    pub fn new(history: &History, group: &str) -> Option<HistoryChart> {
        let series: Vec<_> = history
            .series
            .iter()
            .filter(|s| s.group_key == group)
            .collect();
        let first = series.first()?;
        let lines = series
            .iter()
            .map(|s| {
                let points = s
                    .points
                    .iter()
                    .map(|p| {
                        let step = match &p.step {
                            Some(Step::Compared { comparison: c, .. })
                                if matches!(c.verdict, Verdict::Slower | Verdict::Faster) =>
                            {
                                Some(c.verdict)
                            }
                            _ => None,
                        };
                        (p.run, p.median_s, p.ci_lo_s, p.ci_hi_s, step)
                    })
                    .collect();
                (s.subject.clone(), points)
            })
            .collect();
        Some(HistoryChart {
            title: format!("History: {}", first.group_label),
            runs: history.runs.iter().map(|r| r.short_label()).collect(),
            lines,
        })
    }

    fn size(&self) -> (u32, u32) {
        (1200, 560)
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let values = self
            .lines
            .iter()
            .flat_map(|(_, pts)| pts.iter().flat_map(|p| [p.1, p.2, p.3]));
        let finite: Vec<f64> = values.filter(|v| v.is_finite() && *v > 0.0).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(0.0, f64::max);
        if !(lo.is_finite() && hi > 0.0) {
            return Ok(());
        }
        let pad = (hi - lo).max(hi * 0.02) * 0.1;
        let m = self.runs.len() as i32;
        let runs = &self.runs;
        let x_fmt = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) if *i >= 0 && *i < m => runs[*i as usize].clone(),
            _ => String::new(),
        };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT_FAMILY, 20))
            .margin(14)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d((0..m).into_segmented(), (lo - pad).max(0.0)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_labels(self.runs.len().min(24))
            .x_label_formatter(&x_fmt)
            .y_labels(10)
            .y_label_formatter(&|v| format::duration(*v))
            .x_desc("run (oldest first)")
            .y_desc("median time per iteration")
            .label_style((FONT_FAMILY, 12))
            .axis_desc_style((FONT_FAMILY, 14))
            .bold_line_style(RGBColor(220, 220, 220))
            .light_line_style(RGBColor(242, 242, 242))
            .draw()?;
        for (k, (subject, pts)) in self.lines.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let at = |i: usize| SegmentValue::CenterOf(i as i32);
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (at(p.0), p.1)),
                    color.stroke_width(2),
                ))?
                .label(subject.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            for p in pts {
                if p.2.is_finite() && p.3.is_finite() {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(at(p.0), p.2), (at(p.0), p.3)],
                        color.stroke_width(1),
                    )))?;
                }
                chart.draw_series(std::iter::once(Circle::new(
                    (at(p.0), p.1),
                    3,
                    color.filled(),
                )))?;
                if let Some(v) = p.4 {
                    chart.draw_series(std::iter::once(TriangleMarker::new(
                        (at(p.0), p.1),
                        9,
                        verdict_color(v).filled(),
                    )))?;
                }
            }
        }
        chart
            .configure_series_labels()
            .label_font((FONT_FAMILY, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    }
}

/// Implements the report module's [`Chart`] for a chart with a `size()` of its own (these
/// grow with their rows, so the report's fixed-size `impl_chart!` does not fit).
macro_rules! sized_chart {
    ($t:ty) => {
        impl Chart for $t {
            fn size(&self) -> (u32, u32) {
                <$t>::size(self)
            }
            fn draw_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> anyhow::Result<()> {
                self.draw(root)
                    .map_err(|e| anyhow::anyhow!("drawing SVG: {e:?}"))
            }
            fn draw_png(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()> {
                self.draw(root)
                    .map_err(|e| anyhow::anyhow!("drawing PNG: {e:?}"))
            }
        }
    };
}
sized_chart!(RatioChart);
sized_chart!(HistoryChart);

/// Draws `compare.{svg,png}` into `dir`; returns the files written (none if nothing was
/// compared).
pub fn render_compare(c: &RunComparison, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    match RatioChart::new(c) {
        Some(chart) => {
            register_fonts();
            write_chart(&chart, dir, "compare")
        }
        None => Ok(Vec::new()),
    }
}

/// Draws one history chart per case group into `dir`; returns the files written.
pub fn render_history(h: &History, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    register_fonts();
    let mut written = Vec::new();
    for (group, stem) in h.groups() {
        if let Some(chart) = HistoryChart::new(h, &group) {
            std::fs::create_dir_all(dir)?;
            written.extend(write_chart(&chart, dir, &stem)?);
        }
    }
    Ok(written)
}
