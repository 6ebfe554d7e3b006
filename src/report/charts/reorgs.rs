//! `reorg_depths`: how many reorg events (over all nodes) had each depth.
//!
//! One bar per depth from 1 (or the smallest depth seen) to the deepest, with
//! its count written on top. A run without reorgs still gets the chart, with
//! empty axes and the words "no reorgs".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{write_chart, Chart};
use crate::report::rows::ReorgRow;
use crate::report::style::*;
use crate::report::{font, ReportError};

const STEM: &str = "reorg_depths";

struct ReorgDepths<'a> {
    rows: &'a [ReorgRow],
}

impl Chart for ReorgDepths<'_> {
    const STEM: &'static str = STEM;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_reorg_depths(root, self.rows)
    }
}

/// Writes `reorg_depths.png` and `reorg_depths.svg` into `out_dir`.
pub fn reorg_depths(rows: &[ReorgRow], out_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&ReorgDepths { rows }, out_dir)
}

/// Draws the reorg depth histogram onto `root`.
pub fn draw_reorg_depths<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[ReorgRow],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
    for r in rows {
        *counts.entry(r.depth).or_default() += 1;
    }
    let nodes: BTreeSet<u32> = rows.iter().map(|r| r.node).collect();
    let title = if rows.is_empty() {
        "Reorg depths".to_string()
    } else {
        format!(
            "Reorg depths: {} reorgs at {} nodes",
            rows.len(),
            nodes.len()
        )
    };
    let (plot, legend) = page(root, STEM, &title)?;

    let lo = counts.keys().next().copied().unwrap_or(1).min(1);
    let hi = counts
        .keys()
        .next_back()
        .copied()
        .unwrap_or(3)
        .max(lo.saturating_add(2));
    let max_count = counts.values().copied().max().unwrap_or(0);
    let y_hi = (max_count + max_count / 8 + 1).max(2);
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d((lo..hi).into_segmented(), 0u32..y_hi)
        .map_err(&err)?;
    let bars = (hi - lo + 1) as usize;
    chart
        .configure_mesh()
        .x_desc("reorg depth (blocks disconnected)")
        .y_desc("reorg events")
        .x_labels(bars.min(20))
        .y_labels(10)
        .disable_x_mesh()
        .house_style()
        .draw()
        .map_err(&err)?;

    if counts.is_empty() {
        draw_message(&chart.plotting_area().strip_coord_spec(), STEM, "no reorgs")?;
        return draw_legend(&legend, STEM, None, &[]);
    }
    // Bars drawn by hand: plotters' `Histogram` buckets through a `HashMap`,
    // whose random order would make the SVG differ from run to run.
    chart
        .draw_series(counts.iter().map(|(&d, &c)| {
            let right = if d < hi {
                SegmentValue::Exact(d + 1)
            } else {
                SegmentValue::Last
            };
            let mut bar = Rectangle::new(
                [(SegmentValue::Exact(d), c), (right, 0)],
                MAIN_COLOR.filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))
        .map_err(&err)?;
    if bars <= 30 {
        let above = text(TICK_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(counts.iter().map(|(d, c)| {
                Text::new(
                    c.to_string(),
                    (SegmentValue::CenterOf(*d), *c),
                    above.clone(),
                )
            }))
            .map_err(&err)?;
    }
    let deepest = counts.keys().next_back().copied().unwrap_or(0);
    let entries = [
        LegendEntry::new("reorg events", Marker::Boxed(MAIN_COLOR, 1.0)),
        LegendEntry::new(format!("deepest: {deepest}"), Marker::Blank),
    ];
    draw_legend(&legend, STEM, None, &entries)
}
