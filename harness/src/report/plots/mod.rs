//! Charts of a run, each written as SVG (for the Markdown report) and PNG (for anything that
//! cannot show SVG):
//!
//! - `latency_<group>`: per case group, every subject's samples as a jittered strip with a
//!   box (quartiles, whiskers to the Tukey fences) and the median marked and labelled.
//! - `speedup`: the focus subject's speed-up over every other subject, per case group, with
//!   CI whiskers (the summary table as a chart).
//! - `scaling_<sweep>`: per sweep, median time and throughput against the swept parameter
//!   (log-log where the values span enough), one line per subject with its CI as error bars,
//!   and a dashed marker wherever the fastest subject changes (a crossover).
//! - `server_<case>`: per server case, p50 and percentile latency of every probe against
//!   the offered rate, with the SLO and the maximum rate found.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (`harness/assets`): plotters' PNG
//! backend has no fonts of its own, and system fonts differ between machines.

mod axis;
mod latency;
mod scaling;
mod server;
mod speedup;

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::results::{CaseResult, RunResults};

use super::file_stem;
use super::groups::{self, CaseGroup, Sweep};
use crate::results::store::{temp_beside, write_atomic};

/// One chart the report links to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotSpec {
    /// File name without extension, unique in the run; `<stem>.svg` and `<stem>.png`.
    pub stem: String,
    pub title: String,
    pub kind: PlotKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotKind {
    /// The focus subject's speed-up over the others, per case group.
    SpeedUp,
    /// Latency distribution of one case group.
    Latency,
    /// Time and throughput over a sweep.
    Scaling,
    /// A server case's latency against offered load.
    Server,
}

/// What a chart is drawn from.
enum Source<'a> {
    SpeedUp { focus: &'a str },
    Latency(CaseGroup<'a>),
    Scaling(Sweep<'a>),
    Server(&'a CaseResult),
}

/// The charts of `results` (a pure function: the report links exactly these).
pub fn plan(results: &RunResults) -> Vec<PlotSpec> {
    planned(results).into_iter().map(|(spec, _)| spec).collect()
}

fn planned(results: &RunResults) -> Vec<(PlotSpec, Source<'_>)> {
    let mut out: Vec<(PlotSpec, Source<'_>)> = Vec::new();
    let varying = groups::varying_params(results);
    if let Some(focus) = groups::focus_subject(results)
        && groups::case_groups(results)
            .iter()
            .any(|g| speedup::has_row(g, focus))
    {
        let spec = PlotSpec {
            stem: "speedup".into(),
            title: format!("Speed-up of {focus} over each other subject"),
            kind: PlotKind::SpeedUp,
        };
        out.push((spec, Source::SpeedUp { focus }));
    }
    for group in groups::case_groups(results) {
        if group.cases.iter().any(|c| latency::is_plotted(c)) {
            let spec = PlotSpec {
                stem: format!("latency_{}", file_stem(&group.key())),
                title: format!("Latency: {}", group.label(&varying)),
                kind: PlotKind::Latency,
            };
            out.push((spec, Source::Latency(group)));
        }
    }
    for sweep in groups::sweeps(results) {
        let spec = PlotSpec {
            stem: format!("scaling_{}", file_stem(&sweep.key())),
            title: format!("Scaling: {}", sweep.label(&varying)),
            kind: PlotKind::Scaling,
        };
        out.push((spec, Source::Scaling(sweep)));
    }
    for case in results.cases.iter().filter(|c| server::is_plotted(c)) {
        let spec = PlotSpec {
            stem: format!("server_{}", file_stem(&case.id)),
            title: format!("Server: {}", case.id),
            kind: PlotKind::Server,
        };
        out.push((spec, Source::Server(case)));
    }
    // Distinct stems even if two ids sanitise alike.
    let mut seen = std::collections::HashSet::new();
    for (spec, _) in &mut out {
        let base = spec.stem.clone();
        let mut k = 2;
        while !seen.insert(spec.stem.clone()) {
            spec.stem = format!("{base}-{k}");
            k += 1;
        }
    }
    out
}

/// Draws every chart of `results` into `dir` (created if needed); returns the files written.
pub fn render(results: &RunResults, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    render_with(results, &groups::SpeedUps::of(results), dir)
}

/// [`render`] with the run's speed-ups already computed (see [`super::render_all`]).
pub(super) fn render_with(
    results: &RunResults,
    speed_ups: &groups::SpeedUps<'_>,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let planned = planned(results);
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)?;
    register_fonts();
    let palette = Palette::new(results);
    let mut written = Vec::new();
    for (spec, source) in &planned {
        let chart: Box<dyn Chart + '_> = match source {
            Source::SpeedUp { focus } => Box::new(speedup::SpeedUpChart::new(
                &spec.title,
                results,
                speed_ups,
                focus,
                &palette,
            )),
            Source::Latency(group) => {
                Box::new(latency::LatencyChart::new(&spec.title, group, &palette))
            }
            Source::Scaling(sweep) => {
                Box::new(scaling::ScalingChart::new(&spec.title, sweep, &palette))
            }
            Source::Server(case) => Box::new(server::ServerChart::new(&spec.title, case)),
        };
        written.extend(write_chart(chart.as_ref(), dir, &spec.stem)?);
    }
    Ok(written)
}

/// A chart that can draw itself on any plotters backend. Two methods rather than one
/// generic one keep the trait object-safe.
pub(crate) trait Chart {
    fn size(&self) -> (u32, u32);
    fn draw_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> anyhow::Result<()>;
    fn draw_png(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>;
}

/// Implements [`Chart`] for a type with `fn size_px(&self) -> (u32, u32)` and
/// `fn draw<DB: DrawingBackend>(&self, root) -> Result<..>`.
macro_rules! impl_chart {
    ($t:ty) => {
        impl $crate::report::plots::Chart for $t {
            fn size(&self) -> (u32, u32) {
                self.size_px()
            }
            fn draw_svg(
                &self,
                root: &plotters::prelude::DrawingArea<
                    plotters::prelude::SVGBackend<'_>,
                    plotters::coord::Shift,
                >,
            ) -> anyhow::Result<()> {
                self.draw(root)
                    .map_err(|e| anyhow::anyhow!("drawing SVG: {e:?}"))
            }
            fn draw_png(
                &self,
                root: &plotters::prelude::DrawingArea<
                    plotters::prelude::BitMapBackend<'_>,
                    plotters::coord::Shift,
                >,
            ) -> anyhow::Result<()> {
                self.draw(root)
                    .map_err(|e| anyhow::anyhow!("drawing PNG: {e:?}"))
            }
        }
    };
}
use impl_chart;

/// Writes `<stem>.svg` and `<stem>.png` atomically.
pub(crate) fn write_chart(
    chart: &dyn Chart,
    dir: &Path,
    stem: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    let size = chart.size();

    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart
            .draw_svg(&root)
            .with_context(|| svg_path.display().to_string())?;
        root.present()
            .map_err(|e| anyhow::anyhow!("{}: {e:?}", svg_path.display()))?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    // The bitmap backend picks its encoder from the extension: the temp name ends in .png.
    let png_path = dir.join(format!("{stem}.png"));
    let tmp = temp_beside(&png_path, ".png")?;
    let drawn = (|| {
        let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
        chart.draw_png(&root)?;
        root.present().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        drop(root);
        tmp.persist(&png_path)?;
        anyhow::Ok(())
    })();
    drawn.with_context(|| png_path.display().to_string())?;
    Ok(vec![svg_path, png_path])
}

static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

/// Registers the embedded font under the family names plotters asks for (once).
pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // The font is a valid TTF shipped with the crate; a failure would only mean
            // text-less PNGs, which the tests would catch.
            let _ = plotters::style::register_font(family, FontStyle::Normal, FONT);
        }
    });
}

/// Draws a chart's series labels (those given with `.label(..)`) in the common style.
pub(super) fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .margin(12)
        .label_font((FONT_FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
}

/// The font family every chart uses.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// A stable colour per subject across all charts of a run.
pub(super) struct Palette {
    subjects: Vec<String>,
}

/// Tableau 10: distinct, colour-blind-friendlier than plotters' defaults.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

impl Palette {
    fn new(results: &RunResults) -> Palette {
        let mut subjects: Vec<String> = results.subjects.iter().map(|s| s.name.clone()).collect();
        for c in &results.cases {
            if !subjects.contains(&c.subject) {
                subjects.push(c.subject.clone());
            }
        }
        Palette { subjects }
    }

    pub fn index(&self, subject: &str) -> usize {
        self.subjects
            .iter()
            .position(|s| s == subject)
            .unwrap_or(self.subjects.len())
    }

    pub fn color(&self, subject: &str) -> RGBColor {
        COLORS[self.index(subject) % COLORS.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::demo;

    #[test]
    fn plan_names_one_latency_chart_per_measured_group_and_one_scaling_chart_per_sweep() {
        let results = demo::run();
        let plan = plan(&results);
        let stems: Vec<&str> = plan.iter().map(|p| p.stem.as_str()).collect();
        assert_eq!(
            stems,
            [
                "speedup",
                "latency_forward_batch-1_seq_len-8_threads-1",
                "latency_forward_batch-1_seq_len-32_threads-1",
                "latency_forward_batch-1_seq_len-128_threads-1",
                "latency_pipeline_threads-1",
                "scaling_forward_seq_len_batch-1_threads-1",
            ]
        );
        assert_eq!(plan[0].kind, PlotKind::SpeedUp);
        assert_eq!(
            plan[0].title,
            "Speed-up of engine-cpu over each other subject"
        );
        assert_eq!(plan[5].kind, PlotKind::Scaling);
        assert_eq!(plan[5].title, "Scaling: forward: seq_len · threads=1");
    }

    #[test]
    fn render_writes_svg_and_png_pairs() {
        let results = demo::run();
        let dir = demo::temp_dir("plots");
        let written = render(&results, &dir).unwrap();
        assert_eq!(written.len(), 2 * plan(&results).len());
        for p in &written {
            let bytes = std::fs::read(p).unwrap();
            if p.extension().unwrap() == "png" {
                assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            } else {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with("<svg") || text.contains("<svg"));
                assert!(
                    text.contains("engine-cpu"),
                    "{}: subject names are drawn",
                    p.display()
                );
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn speed_up_chart_has_a_row_per_group_with_a_ranked_pair() {
        let results = demo::run();
        let dir = demo::temp_dir("plots-speedup");
        render(&results, &dir).unwrap();
        let svg = std::fs::read_to_string(dir.join("speedup.svg")).unwrap();
        for text in [
            "engine-cpu vs torch",
            "forward · seq_len=8 · threads=1",
            "forward · seq_len=128 · threads=1",
            "1×",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        // The pipeline has one ranked subject: no row. candle is invalid: not drawn.
        assert!(!svg.contains("pipeline"));
        assert!(!svg.contains("vs candle"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn empty_run_draws_nothing() {
        let mut results = demo::run();
        results.cases.clear();
        let dir = demo::temp_dir("plots-empty");
        assert!(render(&results, &dir.join("plots")).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }
}
