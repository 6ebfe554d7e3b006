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

use super::propagation::{cdf_axes, draw_spread, levels, summarize_propagation, time_unit};
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
    let (plot, legend) = page(root, STEM, "Block propagation: two runs")?;
    let mut sums: Vec<_> = runs.iter().map(|(_, r)| summarize_propagation(r)).collect();
    if sums.iter().all(|s| s.fast_ms[0].is_none()) {
        draw_message(&plot, STEM, "no propagation data")?;
        return Ok(());
    }
    let (unit, x_max) = time_unit(&mut sums);
    let mut chart = cdf_axes(&plot, STEM, unit, x_max)?;
    let colors = [MAIN_COLOR, STALE_COLOR];
    let mut entries = Vec::new();
    for ((s, (label, rows)), color) in sums.iter().zip(runs.iter()).zip(colors) {
        draw_spread(&mut chart, STEM, s, &levels(rows), x_max, (color, 0.15))?;
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
