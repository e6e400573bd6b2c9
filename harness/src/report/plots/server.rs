//! A server case's latency against offered load: every probe of every worker process as
//! its p50 and its bound's percentile (filled where the probe passed, hollow where not),
//! the SLO as a dashed horizontal line and the maximum rate found as a dashed vertical one.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::format;
use crate::results::CaseResult;
use crate::server::{CaseServer, Probe};

use super::axis::Axis;
use super::{FONT_FAMILY, draw_legend, impl_chart};

pub(super) struct ServerChart {
    title: String,
    bound: String,
    slo_s: f64,
    max_qps: Option<f64>,
    probes: Vec<Probe>,
}

/// Whether `case` gets a chart: a server case with at least one probe.
pub(super) fn is_plotted(case: &CaseResult) -> bool {
    CaseServer::of(&case.rounds).is_some_and(|s| s.probes > 0)
}

impl ServerChart {
    pub fn size_px(&self) -> (u32, u32) {
        (900, 560)
    }

    pub fn new(title: &str, case: &CaseResult) -> ServerChart {
        let s = CaseServer::of(&case.rounds);
        ServerChart {
            title: title.to_string(),
            bound: s
                .as_ref()
                .map_or_else(String::new, |s| format::server_bound(&s.spec)),
            slo_s: s.as_ref().map_or(0.0, |s| s.spec.slo_s),
            max_qps: s.as_ref().and_then(|s| s.max_qps),
            probes: case
                .rounds
                .iter()
                .filter_map(|r| r.server.as_ref())
                .flat_map(|s| s.probes.iter().cloned())
                .collect(),
        }
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let body = root.titled(&self.title, (FONT_FAMILY, 20))?;
        let qps_hi = self
            .probes
            .iter()
            .map(|p| p.offered_qps)
            .fold(0.0, f64::max);
        let latencies = self
            .probes
            .iter()
            .flat_map(|p| [p.p50_s, p.percentile_s])
            .chain([self.slo_s]);
        let lo = latencies
            .clone()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let hi = latencies.fold(0.0, f64::max);
        let y_axis = if lo > 0.0 && hi / lo > 3.0 {
            Axis::log(lo, hi)
        } else {
            Axis::linear(lo.min(hi), hi)
        };
        let y_desc = if y_axis.is_log() {
            "latency, completion − arrival (log scale)"
        } else {
            "latency, completion − arrival"
        };
        let (y_lo, y_hi) = (y_axis.lo(), y_axis.hi());
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(92)
            .build_cartesian_2d(Axis::linear(0.0, qps_hi * 1.05), y_axis)?;
        chart
            .configure_mesh()
            .x_labels(10)
            .x_label_formatter(&|x| format::sig3(*x))
            .y_labels(10)
            .y_label_formatter(&|v| format::duration(*v))
            .x_desc("offered load, requests per second")
            .y_desc(y_desc)
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 15))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;

        let grey = RGBColor(90, 90, 90);
        let label = |text: String, h: HPos| {
            let style = TextStyle::from((FONT_FAMILY, 14).into_font())
                .color(&grey)
                .pos(Pos::new(h, VPos::Bottom));
            let dx = if matches!(h, HPos::Right) { -6 } else { 6 };
            Text::new(text, (dx, -6), style)
        };
        chart.draw_series(DashedLineSeries::new(
            vec![(0.0, self.slo_s), (qps_hi * 1.05, self.slo_s)],
            8,
            6,
            grey.stroke_width(2),
        ))?;
        // At the right end: the legend holds the top left.
        chart.draw_series(std::iter::once(
            EmptyElement::at((qps_hi * 1.05, self.slo_s))
                + label(format!("SLO: {}", self.bound), HPos::Right),
        ))?;
        if let Some(max) = self.max_qps {
            chart.draw_series(DashedLineSeries::new(
                vec![(max, y_lo), (max, y_hi)],
                8,
                6,
                grey.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((max, y_lo))
                    + label(format!("max {} QPS", format::sig3(max)), HPos::Right),
            ))?;
        }

        let series = [
            ("p50", RGBColor(31, 119, 180), false),
            ("percentile", RGBColor(214, 39, 40), true),
        ];
        for (name, color, is_bound) in series {
            let value = move |p: &Probe| if is_bound { p.percentile_s } else { p.p50_s };
            let at = |p: &Probe| (p.offered_qps, value(p));
            let style = |p: &Probe| {
                if p.pass {
                    color.filled()
                } else {
                    color.stroke_width(2)
                }
            };
            let name = if is_bound {
                self.bound.split(' ').next().unwrap_or(name).to_string()
            } else {
                name.to_string()
            };
            chart
                .draw_series(self.probes.iter().map(|p| Circle::new(at(p), 6, style(p))))?
                .label(format!("{name} (hollow: probe failed)"))
                .legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

impl_chart!(ServerChart);
