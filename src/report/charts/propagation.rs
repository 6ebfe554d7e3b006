//! `propagation_cdf`: how fast blocks reach the nodes.
//!
//! Each row of `propagation.csv` gives, for one block, the time until 10%,
//! 20%, …, 100% of the nodes that should receive it had it. For each of these
//! ten levels the chart takes, across blocks, the median time (a step curve:
//! share of nodes reached against time since the block was found) and the
//! 10th and 90th percentile (a light band: the fast and the slow blocks).
//! A level a block never reached counts as infinitely late, so when more
//! than half the blocks never reached everyone the median curve stops short
//! of 100%. Quantiles are nearest-rank, so every plotted time is one that
//! occurred. Blocks with `nodes = 0` are ignored.
//!
//! In a small network (at most 10 nodes, the same for every block) the
//! level `L`% is reached when `⌈L·n/100⌉` nodes have the block, so the
//! curve is drawn at those exact shares (1/3, 2/3, 1 for three nodes), not
//! at the deciles. When the slowest time shown is 10 s or more the time axis
//! is in seconds.

use std::path::{Path, PathBuf};

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{write_chart, Chart};
use crate::report::rows::PropagationRow;
use crate::report::style::*;
use crate::report::{font, ReportError};

const STEM: &str = "propagation_cdf";

/// Per-level quantiles across blocks; index `k` is the level `(k+1)*10`%.
/// `None` means "not reached" at that quantile of blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct PropagationSummary {
    /// Blocks taken into account.
    pub blocks: usize,
    /// 10th percentile across blocks (fast blocks), ms.
    pub fast_ms: [Option<f64>; 10],
    /// Median across blocks, ms.
    pub median_ms: [Option<f64>; 10],
    /// 90th percentile across blocks (slow blocks), ms.
    pub slow_ms: [Option<f64>; 10],
}

/// Nearest-rank quantile of sorted values; infinite means not reached.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    Some(sorted[i]).filter(|v| v.is_finite())
}

/// Summarises the per-block percentiles into per-level quantiles.
pub fn summarize_propagation(rows: &[PropagationRow]) -> PropagationSummary {
    let rows: Vec<&PropagationRow> = rows.iter().filter(|r| r.nodes > 0).collect();
    let mut out = PropagationSummary {
        blocks: rows.len(),
        fast_ms: [None; 10],
        median_ms: [None; 10],
        slow_ms: [None; 10],
    };
    if rows.is_empty() {
        return out;
    }
    let mut per_level: Vec<Vec<f64>> = (0..10).map(|_| Vec::with_capacity(rows.len())).collect();
    for r in &rows {
        // A block's times never decrease with the level; enforce it so a
        // slightly inconsistent row cannot bend the curves backwards.
        let mut last = 0.0f64;
        for (k, p) in r.percentiles().iter().enumerate() {
            let v = p.unwrap_or(f64::INFINITY).max(last);
            last = v;
            per_level[k].push(v);
        }
    }
    for (k, values) in per_level.iter_mut().enumerate() {
        values.sort_by(f64::total_cmp);
        out.fast_ms[k] = quantile(values, 0.1);
        out.median_ms[k] = quantile(values, 0.5);
        out.slow_ms[k] = quantile(values, 0.9);
    }
    out
}

/// The share of nodes each decile's time stands for: `(k+1)/10`, or in a
/// network of `n ≤ 10` nodes (the same for every block) the exact share
/// `⌈(k+1)·n/10⌉ / n` of nodes that had the block at that time.
pub fn levels(rows: &[PropagationRow]) -> [f64; 10] {
    let mut sizes = rows.iter().map(|r| r.nodes).filter(|&n| n > 0);
    let first = sizes.next();
    match first {
        Some(n) if n <= 10 && sizes.all(|m| m == n) => std::array::from_fn(|k| {
            let count = ((k as u32 + 1) * n).div_ceil(10);
            f64::from(count) / f64::from(n)
        }),
        _ => std::array::from_fn(|k| (k + 1) as f64 / 10.0),
    }
}

/// Step curve points through `(t_k, levels[k])`, starting at the origin;
/// unreached levels are drawn at `x_max` when `clamp`, else the curve ends.
fn steps(
    times: &[Option<f64>; 10],
    levels: &[f64; 10],
    x_max: f64,
    clamp: bool,
) -> Vec<(f64, f64)> {
    let mut pts = vec![(0.0, 0.0)];
    let mut prev = 0.0;
    for (k, t) in times.iter().enumerate() {
        let level = levels[k];
        match t {
            Some(t) => {
                pts.push((*t, prev));
                pts.push((*t, level));
            }
            None if clamp => {
                pts.push((x_max, prev));
                pts.push((x_max, level));
            }
            None => {
                pts.push((x_max, prev));
                break;
            }
        }
        prev = level;
    }
    if times[9].is_some() {
        pts.push((x_max, 1.0));
    }
    pts
}

struct PropagationCdf<'a> {
    rows: &'a [PropagationRow],
}

impl Chart for PropagationCdf<'_> {
    const STEM: &'static str = STEM;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_propagation_cdf(root, self.rows)
    }
}

/// Writes `propagation_cdf.png` and `propagation_cdf.svg` into `out_dir`.
pub fn propagation_cdf(
    rows: &[PropagationRow],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&PropagationCdf { rows }, out_dir)
}

/// Draws the propagation CDF onto `root`.
pub fn draw_propagation_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[PropagationRow],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let mut s = summarize_propagation(rows);
    let levels = levels(rows);
    let (plot, legend) = page(root, STEM, "Block propagation: share of nodes reached")?;
    if s.blocks == 0 {
        draw_message(&plot, STEM, "no propagation data")?;
        return Ok(());
    }
    if s.fast_ms[0].is_none() {
        // Per-block times only grow with the level: nothing finite anywhere.
        draw_message(&plot, STEM, "no block reached 10% of its nodes")?;
        return Ok(());
    }
    let (unit, x_max) = time_unit(std::slice::from_mut(&mut s));
    let mut chart = cdf_axes(&plot, STEM, unit, x_max)?;
    draw_spread(&mut chart, STEM, &s, &levels, x_max, (MAIN_COLOR, 0.2))?;
    chart
        .draw_series(
            s.median_ms.iter().enumerate().filter_map(|(k, t)| {
                t.map(|t| Circle::new((t, levels[k]), 5, MAIN_COLOR.filled()))
            }),
        )
        .map_err(&err)?;

    let blocks = s.blocks;
    let entries = [
        LegendEntry::new(
            format!("median of\n{blocks} blocks"),
            Marker::Line(MAIN_COLOR),
        ),
        LegendEntry::new(
            "10th to 90th\npercentile\nof blocks",
            Marker::Boxed(MAIN_COLOR, 0.2),
        ),
    ];
    draw_legend(&legend, STEM, None, &entries)
}

/// The chart area of a propagation chart: time since the block was found
/// against the share of nodes reached.
pub(super) type CdfChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Chooses the time unit for `sums` (seconds once the slowest finite time
/// is 10 s or more: "2582.3", not "2582288.7"), rescales their times to
/// it, and returns the unit and the end of the time axis.
pub(super) fn time_unit(sums: &mut [PropagationSummary]) -> (&'static str, f64) {
    let finite_max = sums
        .iter()
        .flat_map(|s| s.fast_ms.iter().chain(&s.median_ms).chain(&s.slow_ms))
        .flatten()
        .fold(0.0f64, |m, v| m.max(*v));
    let (unit, per) = if finite_max >= 10_000.0 {
        ("s", 1000.0)
    } else {
        ("ms", 1.0)
    };
    for s in sums {
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
    let finite_max = finite_max / per;
    let x_max = if finite_max > 0.0 {
        finite_max * 1.08
    } else {
        1.0
    };
    (unit, x_max)
}

/// The axes and mesh of a propagation chart on `plot`: time in `unit` up
/// to `x_max`, share of nodes reached up to 1.05.
pub(super) fn cdf_axes<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    stem: &'static str,
    unit: &str,
    x_max: f64,
) -> Result<CdfChart<'a, DB>, ReportError> {
    let err = draw_err(stem);
    let mut chart = ChartBuilder::on(plot)
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
    Ok(chart)
}

/// Draws one run's summary: the 10th to 90th percentile band in `color`
/// at opacity `alpha`, then the median step curve.
pub(super) fn draw_spread<DB: DrawingBackend>(
    chart: &mut CdfChart<'_, DB>,
    stem: &'static str,
    s: &PropagationSummary,
    levels: &[f64; 10],
    x_max: f64,
    (color, alpha): (RGBColor, f64),
) -> Result<(), ReportError> {
    let err = draw_err(stem);
    let mut band = steps(&s.fast_ms, levels, x_max, true);
    let mut slow = steps(&s.slow_ms, levels, x_max, true);
    slow.reverse();
    band.extend(slow);
    chart
        .draw_series(std::iter::once(Polygon::new(
            band,
            color.mix(alpha).filled(),
        )))
        .map_err(&err)?;
    chart
        .draw_series(LineSeries::new(
            steps(&s.median_ms, levels, x_max, false),
            color.stroke_width(4),
        ))
        .map_err(&err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(p: [Option<f64>; 10]) -> PropagationRow {
        PropagationRow {
            hash: "h".into(),
            height: 1,
            miner: 0,
            nodes: 10,
            reached: 10,
            p10_ms: p[0],
            p20_ms: p[1],
            p30_ms: p[2],
            p40_ms: p[3],
            p50_ms: p[4],
            p60_ms: p[5],
            p70_ms: p[6],
            p80_ms: p[7],
            p90_ms: p[8],
            p100_ms: p[9],
        }
    }

    fn scaled(f: f64) -> [Option<f64>; 10] {
        std::array::from_fn(|k| Some(f * (k + 1) as f64))
    }

    #[test]
    fn median_of_three_blocks() {
        let rows = vec![row(scaled(1.0)), row(scaled(2.0)), row(scaled(30.0))];
        let s = summarize_propagation(&rows);
        assert_eq!(s.blocks, 3);
        assert_eq!(s.median_ms[0], Some(2.0));
        assert_eq!(s.median_ms[9], Some(20.0));
        assert_eq!(s.fast_ms[9], Some(10.0));
        assert_eq!(s.slow_ms[9], Some(300.0));
    }

    #[test]
    fn unreached_levels_count_as_late() {
        let mut partial = scaled(1.0);
        partial[9] = None;
        let rows = vec![row(partial), row(partial), row(scaled(1.0))];
        let s = summarize_propagation(&rows);
        assert_eq!(s.median_ms[8], Some(9.0));
        assert_eq!(s.median_ms[9], None);
        assert_eq!(s.fast_ms[9], Some(10.0));
        // The median curve stops at 90%.
        let deciles: [f64; 10] = std::array::from_fn(|k| (k + 1) as f64 / 10.0);
        let pts = steps(&s.median_ms, &deciles, 50.0, false);
        assert_eq!(pts.last(), Some(&(50.0, 0.9)));
    }

    #[test]
    fn small_networks_get_exact_shares() {
        let mut r = row(scaled(1.0));
        r.nodes = 3;
        let l = levels(&[r.clone()]);
        // 10%..30% of 3 nodes is 1 node, 40%..60% 2, 70%..100% 3.
        assert_eq!(l[0], 1.0 / 3.0);
        assert_eq!(l[2], 1.0 / 3.0);
        assert_eq!(l[3], 2.0 / 3.0);
        assert_eq!(l[6], 1.0);
        assert_eq!(l[9], 1.0);
        r.nodes = 1000;
        assert_eq!(levels(&[r])[4], 0.5);
    }
}
