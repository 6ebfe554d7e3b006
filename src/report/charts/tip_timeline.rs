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
//! With more than [`MAX_TIMELINE_NODES`] nodes one row per node is no longer
//! readable (a thousand identical bars): the chart becomes a summary, the
//! share of all nodes over time whose tip is the newest main-chain block
//! mined so far ("up to date"), a main-chain block below it ("behind", a
//! block still propagating), or a block of a branch that went stale,
//! stacked to 100% at [`SUMMARY_POINTS`] instants ([`shares`]). A block
//! racing through the network shows as a blue wedge into light blue; a
//! partition as a red band until the heal.

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

/// Instants at which the summary counts the nodes.
pub const SUMMARY_POINTS: usize = 400;

/// Share colour of nodes on the main chain but behind its newest block.
const BEHIND_COLOR: RGBColor = RGBColor(158, 202, 225);

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

/// Shares of nodes at `at` (sorted instants): `(up_to_date, behind,
/// stale)` per instant, fractions of `nodes.len()` summing to 1. A node's
/// tip is genesis (main chain) until its first change in `tips`.
pub(crate) fn shares(
    tips: &[TipRow],
    blocks: &[BlockRow],
    nodes: &BTreeSet<u32>,
    at: &[f64],
) -> Vec<(f64, f64, f64)> {
    let main: BTreeSet<&str> = blocks
        .iter()
        .filter(|b| b.is_main())
        .map(|b| b.hash.as_str())
        .collect();
    // Main-chain blocks by the time they were mined: the newest height so far.
    let mut mined: Vec<(f64, u32)> = blocks
        .iter()
        .filter(|b| b.is_main())
        .map(|b| (b.time_s, b.height))
        .collect();
    mined.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut changes: Vec<&TipRow> = tips.iter().filter(|t| nodes.contains(&t.node)).collect();
    // Stable: equal times keep file order, so the last change wins.
    changes.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    let index: BTreeMap<u32, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    // Per node: (on the main chain, height).
    let mut state = vec![(true, 0u32); nodes.len()];
    let (mut next_change, mut next_mined, mut newest) = (0, 0, 0u32);
    let n = nodes.len().max(1) as f64;
    at.iter()
        .map(|&t| {
            while next_change < changes.len() && changes[next_change].time_s <= t {
                let c = changes[next_change];
                state[index[&c.node]] = (main.contains(c.tip.as_str()), c.height);
                next_change += 1;
            }
            while next_mined < mined.len() && mined[next_mined].0 <= t {
                newest = newest.max(mined[next_mined].1);
                next_mined += 1;
            }
            let (mut up, mut behind, mut stale) = (0usize, 0usize, 0usize);
            for &(on_main, h) in &state {
                match (on_main, h >= newest) {
                    (false, _) => stale += 1,
                    (true, true) => up += 1,
                    (true, false) => behind += 1,
                }
            }
            (up as f64 / n, behind as f64 / n, stale as f64 / n)
        })
        .collect()
}

/// The summary of a large run (see the module docs).
fn draw_summary<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &TipTimeline<'_>,
    ids: &BTreeSet<u32>,
) -> Result<(), ReportError> {
    let err = draw_err(STEM);
    let total = input.total_nodes.unwrap_or(ids.len()).max(ids.len());
    let (plot, legend) = page(
        root,
        STEM,
        &format!("Tips of all {total} nodes: share up to date, behind, or on a stale branch"),
    )?;
    let times = input
        .tips
        .iter()
        .map(|t| t.time_s)
        .chain(input.blocks.iter().map(|b| b.time_s));
    let (t_lo, t_hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    let (t_lo, t_hi) = (t_lo.min(0.0), t_hi.max(t_lo + 1e-9));
    let at: Vec<f64> = (0..SUMMARY_POINTS)
        .map(|k| t_lo + (t_hi - t_lo) * k as f64 / (SUMMARY_POINTS - 1) as f64)
        .collect();
    let sh = shares(input.tips, input.blocks, ids, &at);
    // Drawn in a unit that keeps the labels short (hours for a long run).
    let (per_unit, unit) = time_unit(t_hi);
    let at: Vec<f64> = at.iter().map(|t| t / per_unit).collect();
    let (x0, x1) = padded(t_lo / per_unit, t_hi / per_unit, 0.02);
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x0..x1, 0.0..100.0)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc(format!("simulated time ({unit})"))
        .y_desc("share of nodes (%)")
        .x_labels(10)
        .x_label_formatter(&number_label)
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .house_style()
        .draw()
        .map_err(&err)?;
    // Stacked from the bottom: up to date, behind, stale.
    type Band = fn(&(f64, f64, f64)) -> (f64, f64);
    let layers: [(RGBColor, Band); 3] = [
        (MAIN_COLOR, |s| (0.0, s.0)),
        (BEHIND_COLOR, |s| (s.0, s.0 + s.1)),
        (STALE_COLOR, |s| (s.0 + s.1, s.0 + s.1 + s.2)),
    ];
    for (color, band) in layers {
        let mut outline: Vec<(f64, f64)> = at
            .iter()
            .zip(&sh)
            .map(|(t, s)| (*t, band(s).1 * 100.0))
            .collect();
        outline.extend(
            at.iter()
                .zip(&sh)
                .rev()
                .map(|(t, s)| (*t, band(s).0 * 100.0)),
        );
        chart
            .draw_series(std::iter::once(Polygon::new(outline, color.filled())))
            .map_err(&err)?;
    }
    for (t, label) in input.events {
        let t = &(t / per_unit);
        if *t < x0 || *t > x1 {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(*t, 0.0), (*t, 100.0)],
                6,
                4,
                BLACK.stroke_width(2),
            ))
            .map_err(&err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (*t, 99.0),
                text(LEGEND_PX - 4),
            )))
            .map_err(&err)?;
    }
    let entries = vec![
        LegendEntry::new(
            "up to date:
newest main-
chain block",
            Marker::Boxed(MAIN_COLOR, 1.0),
        ),
        LegendEntry::new(
            "behind: an older
main-chain block",
            Marker::Boxed(BEHIND_COLOR, 1.0),
        ),
        LegendEntry::new(
            "on a stale
branch",
            Marker::Boxed(STALE_COLOR, 1.0),
        ),
        LegendEntry::new(
            format!(
                "{total} nodes,
{SUMMARY_POINTS} instants"
            ),
            Marker::Blank,
        ),
    ];
    draw_legend(&legend, STEM, Some("node's tip"), &entries)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    input: &TipTimeline<'_>,
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let ids: BTreeSet<u32> = input.tips.iter().map(|t| t.node).collect();
    if ids.len() > MAX_TIMELINE_NODES {
        return draw_summary(root, input, &ids);
    }
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
    fn shares_count_up_to_date_behind_and_stale() {
        let mut blocks = vec![block("g", true), block("a", true), block("x", false)];
        blocks[1].height = 1;
        blocks[1].time_s = 1.0;
        blocks[2].height = 1;
        blocks[2].time_s = 1.5;
        let tips = vec![tip(1, 1.0, "a"), tip(2, 2.0, "x"), tip(3, 3.0, "a")];
        let mut tips = tips;
        for t in &mut tips {
            t.height = 1;
        }
        let nodes: BTreeSet<u32> = [1, 2, 3, 4].into_iter().collect();
        let sh = shares(&tips, &blocks, &nodes, &[0.5, 1.0, 2.0, 3.0]);
        // Before block a: all four on genesis, up to date.
        assert_eq!(sh[0], (1.0, 0.0, 0.0));
        // a mined at 1 s: node 1 has it, 2, 3, 4 are behind.
        assert_eq!(sh[1], (0.25, 0.75, 0.0));
        // Node 2 follows the stale x.
        assert_eq!(sh[2], (0.25, 0.5, 0.25));
        assert_eq!(sh[3], (0.5, 0.25, 0.25));
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
