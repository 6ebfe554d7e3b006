//! The charts of a run, one file per chart under `charts/`.
//!
//! Each chart has a fixed file stem and two public functions: `name(rows…,
//! out_dir)` writes `out_dir/<stem>.png` and `out_dir/<stem>.svg` and returns
//! their paths, and `draw_name(area, rows…)` draws onto any plotters drawing
//! area (the simulator or a test can render in memory). Drawing is a pure
//! function of the rows: same rows, byte-identical files.

use std::fs;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{draw_err, SIZE};
use super::ReportError;

mod balances;
mod fork_tree;
mod propagation;
mod propagation_compare;
mod reorgs;
pub(crate) mod tip_timeline;

pub use balances::{balances, draw_balances, MAX_WALLETS};
pub use fork_tree::{draw_fork_tree, fork_tree, MAX_NAMED_MINERS};
pub use propagation::{
    draw_propagation_cdf, propagation_cdf, summarize_propagation, PropagationSummary,
};
pub use propagation_compare::{draw_propagation_compare, propagation_compare, LabelledRows};
pub use reorgs::{draw_reorg_depths, reorg_depths};
pub use tip_timeline::{draw_tip_timeline, tip_timeline, MAX_TIMELINE_NODES};

/// A chart that can be drawn on any backend.
pub(crate) trait Chart {
    /// File stem of the chart (`fork_tree`, …).
    const STEM: &'static str;

    /// Draws the whole chart onto `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError>;
}

/// Writes `chart` as `out_dir/<stem>.png` and `out_dir/<stem>.svg`.
pub(crate) fn write_chart<C: Chart>(
    chart: &C,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    super::font::ensure_registered()?;
    fs::create_dir_all(out_dir).map_err(|source| ReportError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let png = out_dir.join(format!("{}.png", C::STEM));
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(draw_err(C::STEM))?;
    }
    let svg = out_dir.join(format!("{}.svg", C::STEM));
    let mut doc = String::new();
    {
        let root = SVGBackend::with_string(&mut doc, SIZE).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(draw_err(C::STEM))?;
    }
    fs::write(&svg, doc).map_err(|source| ReportError::Io {
        path: svg.clone(),
        source,
    })?;
    Ok(vec![png, svg])
}
