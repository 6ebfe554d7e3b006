//! `propagation_compare`: two runs' propagation CDFs on one chart
//! (`sim plot RUN OTHER`), so a class sees what a change did, e.g.
//! compact blocks against whole blocks (`--set network.relay.compact=false`).
//!
//! Each run is drawn as in `propagation_cdf`: the median over its blocks of
//! the time to reach each tenth of the nodes (a step curve) and the 10th to
//! 90th percentile of blocks (a light band), the first run in the main
//! colour, the second in red. Both share one time axis (seconds from 10 s).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::propagation::{levels, steps, summarize_propagation};
use super::{write_chart, Chart};
use crate::report::rows::PropagationRow;
use crate::report::style::*;
use crate::report::{font, ReportError};

const STEM: &str = "propagation_compare";

/// One run to draw: its label (the run's name) and its `propagation.csv`.
pub type LabelledRows<'a> = (&'a str, &'a [PropagationRow]);

struct Compare<'a> {
    runs: [LabelledRows<'a>; 2],
}

impl Chart for Compare<'_> {
    const STEM: &'static str = STEM;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_propagation_compare(root, self.runs)
    }
}

/// Writes `out_dir/propagation_compare.{png,svg}` for two runs.
pub fn propagation_compare(
    runs: [LabelledRows<'_>; 2],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&Compare { runs }, out_dir)
}

/// Draws the two runs' propagation CDFs onto `root`.
pub fn draw_propagation_compare<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: [LabelledRows<'_>; 2],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let (plot, legend) = page(root, STEM, "Block propagation: two runs")?;
    let mut sums: Vec<_> = runs.iter().map(|(_, r)| summarize_propagation(r)).collect();
    let finite_max = sums
        .iter()
        .flat_map(|s| s.fast_ms.iter().chain(&s.median_ms).chain(&s.slow_ms))
        .flatten()
        .fold(0.0f64, |m, v| m.max(*v));
    if sums.iter().all(|s| s.fast_ms[0].is_none()) {
        draw_message(&plot, STEM, "no propagation data")?;
        return Ok(());
    }
    let (unit, per) = if finite_max >= 10_000.0 {
        ("s", 1000.0)
    } else {
        ("ms", 1.0)
    };
    for s in &mut sums {
        for t in s
            .fast_ms
            .iter_mut()
            .chain(s.median_ms.iter_mut())
            .chain(s.slow_ms.iter_mut())
            .flatten()
        {
            *t /= per;
        }
    }
    let x_max = if finite_max > 0.0 {
        finite_max / per * 1.08
    } else {
        1.0
    };
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(0.0..x_max, 0.0..1.05)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc(format!("time since the block was found ({unit})"))
        .y_desc("share of nodes reached")
        .x_labels(6)
        .x_label_formatter(&number_label)
        .y_labels(12)
        .y_label_formatter(&|v| format!("{v:.1}"))
        .house_style()
        .draw()
        .map_err(&err)?;
    let colors = [MAIN_COLOR, STALE_COLOR];
    let mut entries = Vec::new();
    for ((s, (label, rows)), color) in sums.iter().zip(runs.iter()).zip(colors) {
        let lv = levels(rows);
        let mut band = steps(&s.fast_ms, &lv, x_max, true);
        let mut slow = steps(&s.slow_ms, &lv, x_max, true);
        slow.reverse();
        band.extend(slow);
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.15).filled(),
            )))
            .map_err(&err)?;
        chart
            .draw_series(LineSeries::new(
                steps(&s.median_ms, &lv, x_max, false),
                color.stroke_width(4),
            ))
            .map_err(&err)?;
        entries.push(LegendEntry::new(
            format!("{label}:\nmedian of\n{} blocks", s.blocks),
            Marker::Line(color),
        ));
        entries.push(LegendEntry::new(
            "10th to 90th\npercentile",
            Marker::Boxed(color, 0.15),
        ));
    }
    draw_legend(&legend, STEM, None, &entries)
}
