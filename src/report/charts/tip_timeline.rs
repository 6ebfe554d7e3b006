//! `tip_timeline`: each node's tip over time, one row per node.
//!
//! A node's row is a horizontal bar from each tip change to the next (the
//! last one to the end of the run), blue while the tip is a block of the final
//! main chain (even if behind) and red while it is on a branch that went
//! stale, so a partition healing or a race resolving shows as red turning
//! blue. Rows before a node's first tip change stay empty. A stale stint
//! is drawn at least [`MIN_STALE_FRACTION`] of the time axis wide, so a
//! one-block race of a few hundred milliseconds still shows. Timeline events
//! (partition, heal, offline, online, hashrate changes) and attack starts,
//! read from the run's manifest, are grey dashed verticals labelled at the
//! top.
//!
//! With more than [`MAX_TIMELINE_NODES`] nodes an even sample of node ids is
//! shown (first and last id always included, see
//! [`sample_nodes`](crate::report::sample_nodes)); the legend says how many.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{write_chart, Chart};
use crate::report::csvdata::sample_nodes;
use crate::report::rows::{BlockRow, TipRow};
use crate::report::style::*;
use crate::report::{font, ReportError};

/// At most this many nodes get a row.
pub const MAX_TIMELINE_NODES: usize = 50;

/// The narrowest a stale stint is drawn, as a share of the time axis.
pub const MIN_STALE_FRACTION: f64 = 1.0 / 250.0;

const STEM: &str = "tip_timeline";

/// Inputs of the chart; `total_nodes` overrides the node count shown when the
/// rows were already sampled while loading.
pub(crate) struct TipTimeline<'a> {
    pub(crate) tips: &'a [TipRow],
    pub(crate) blocks: &'a [BlockRow],
    pub(crate) total_nodes: Option<usize>,
    /// Marked moments: simulated seconds and a short label.
    pub(crate) events: &'a [(f64, String)],
}

impl Chart for TipTimeline<'_> {
    const STEM: &'static str = STEM;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw(root, self)
    }
}

/// Writes `tip_timeline.png` and `tip_timeline.svg` into `out_dir`; `blocks`
/// says which tips are on the final main chain.
pub fn tip_timeline(
    tips: &[TipRow],
    blocks: &[BlockRow],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(
        &TipTimeline {
            tips,
            blocks,
            total_nodes: None,
            events: &[],
        },
        out_dir,
    )
}

/// Draws the tip timeline onto `root`.
pub fn draw_tip_timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    tips: &[TipRow],
    blocks: &[BlockRow],
) -> Result<(), ReportError> {
    draw(
        root,
        &TipTimeline {
            tips,
            blocks,
            total_nodes: None,
            events: &[],
        },
    )
}

/// Runs of equal status per shown node: `(row, start_s, end_s, on_main)`.
fn segments(
    tips: &[TipRow],
    blocks: &[BlockRow],
    shown: &[u32],
    end_s: f64,
) -> Vec<(usize, f64, f64, bool)> {
    let main: BTreeSet<&str> = blocks
        .iter()
        .filter(|b| b.is_main())
        .map(|b| b.hash.as_str())
        .collect();
    let row_of: BTreeMap<u32, usize> = shown.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut changes: BTreeMap<u32, Vec<(f64, bool)>> = BTreeMap::new();
    for t in tips {
        if row_of.contains_key(&t.node) {
            changes
                .entry(t.node)
                .or_default()
                .push((t.time_s, main.contains(t.tip.as_str())));
        }
    }
    let mut out = Vec::new();
    for (node, mut ch) in changes {
        // Stable: equal times keep file order, so the last change wins.
        ch.sort_by(|a, b| a.0.total_cmp(&b.0));
        let row = row_of[&node];
        let mut run: Option<(f64, bool)> = None;
        for (t, on_main) in ch {
            match run {
                Some((_, m)) if m == on_main => {}
                Some((start, m)) => {
                    out.push((row, start, t, m));
                    run = Some((t, on_main));
                }
                None => run = Some((t, on_main)),
            }
        }
        if let Some((start, m)) = run {
            out.push((row, start, end_s.max(start), m));
        }
    }
    out
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &TipTimeline<'_>,
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let ids: BTreeSet<u32> = input.tips.iter().map(|t| t.node).collect();
    let shown = sample_nodes(&ids, MAX_TIMELINE_NODES);
    let total = input.total_nodes.unwrap_or(ids.len()).max(shown.len());
    let (plot, legend) = page(root, STEM, "Tip of each node: main chain or stale branch")?;
    if shown.is_empty() {
        draw_message(&plot, STEM, "no tip changes recorded")?;
        return Ok(());
    }

    let times = input
        .tips
        .iter()
        .map(|t| t.time_s)
        .chain(input.blocks.iter().map(|b| b.time_s));
    let (t_lo, t_hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    let segs = segments(input.tips, input.blocks, &shown, t_hi);
    let (x0, x1) = padded(t_lo, t_hi, 0.02);
    let rows = shown.len();
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x0..x1, -0.6..(rows as f64 - 0.4))
        .map_err(&err)?;
    let label_of = |v: &f64| {
        let l = integer_label(v);
        l.parse::<usize>()
            .ok()
            .and_then(|i| shown.get(i))
            .map_or_else(String::new, |n| n.to_string())
    };
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc("node id")
        .x_labels(10)
        .x_label_formatter(&number_label)
        .y_labels(rows.min(12))
        .y_label_formatter(&label_of)
        .disable_y_mesh()
        .house_style()
        .draw()
        .map_err(&err)?;

    // Timeline events and attack starts first, under the bars.
    let y_top = rows as f64 - 0.45;
    for (t, label) in input.events {
        if *t < x0 || *t > x1 {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(*t, -0.6), (*t, y_top)],
                6,
                4,
                OTHER_COLOR.stroke_width(2),
            ))
            .map_err(&err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (*t, y_top),
                text(LEGEND_PX - 4),
            )))
            .map_err(&err)?;
    }

    let (_, plot_h) = chart.plotting_area().dim_in_pixel();
    let stroke = ((plot_h as f64 / rows as f64) * 0.6).clamp(2.0, 16.0) as u32;
    let min_stale = (x1 - x0) * MIN_STALE_FRACTION;
    for on_main in [true, false] {
        let color = if on_main { MAIN_COLOR } else { STALE_COLOR };
        chart
            .draw_series(
                segs.iter()
                    .filter(|s| s.3 == on_main)
                    .map(|&(row, a, b, _)| {
                        let b = if on_main { b } else { b.max(a + min_stale) };
                        PathElement::new(
                            vec![(a, row as f64), (b, row as f64)],
                            color.stroke_width(stroke),
                        )
                    }),
            )
            .map_err(&err)?;
    }

    let mut entries = vec![
        LegendEntry::new("on the final\nmain chain", Marker::Line(MAIN_COLOR)),
        LegendEntry::new("on a stale\nbranch", Marker::Line(STALE_COLOR)),
    ];
    if shown.len() < total {
        entries.push(LegendEntry::new(
            format!("{} of {total} nodes,\nsampled evenly", shown.len()),
            Marker::Blank,
        ));
    }
    draw_legend(&legend, STEM, Some("node's tip"), &entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tip(node: u32, time_s: f64, tip: &str) -> TipRow {
        TipRow {
            node,
            time_s,
            tip: tip.to_string(),
            height: 0,
        }
    }

    fn block(hash: &str, main: bool) -> BlockRow {
        BlockRow {
            hash: hash.to_string(),
            parent: String::new(),
            height: 0,
            miner: 0,
            time_s: 0.0,
            txs: 1,
            size_bytes: 1,
            main_chain: u8::from(main),
        }
    }

    #[test]
    fn runs_of_equal_status_merge() {
        let blocks = vec![block("g", true), block("a", true), block("x", false)];
        let tips = vec![
            tip(5, 0.0, "g"),
            tip(5, 1.0, "a"),
            tip(5, 2.0, "x"),
            tip(5, 3.0, "a"),
            tip(9, 0.0, "g"),
        ];
        let segs = segments(&tips, &blocks, &[5], 10.0);
        assert_eq!(
            segs,
            vec![
                (0, 0.0, 2.0, true),
                (0, 2.0, 3.0, false),
                (0, 3.0, 10.0, true)
            ]
        );
    }
}
