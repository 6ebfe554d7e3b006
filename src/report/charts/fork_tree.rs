//! `fork_tree`: every block at (time found, height), linked to its parent.
//!
//! Main-chain blocks are dots coloured by miner: when at most
//! [`MAX_NAMED_MINERS`] nodes mined main-chain blocks each gets its own colour
//! and legend entry "node N"; otherwise the `MAX_NAMED_MINERS - 1` with the
//! most main-chain blocks do (ties to the lower id) and the rest share a grey
//! "other miners". Stale blocks are drawn [`STALE_LIFT`] of a block above
//! their height, so a one-block fork shows both rivals side by side: a dot
//! in the stale block's miner colour inside a red cross, on a red link.
//! Genesis is a black dot; grey links are the main chain (a legend swatch
//! says so). The work is linear in the number of blocks (hundreds), whatever
//! the number of nodes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{write_chart, Chart};
use crate::report::rows::BlockRow;
use crate::report::style::*;
use crate::report::{font, ReportError};

/// How far above its height a stale block is drawn, in blocks: enough to
/// show a one-block fork's two rivals apart, little enough to read the
/// height.
pub const STALE_LIFT: f64 = 1.0 / 3.0;

/// At most this many miners get their own colour and legend entry.
pub const MAX_NAMED_MINERS: usize = 10;

const STEM: &str = "fork_tree";

struct ForkTree<'a> {
    blocks: &'a [BlockRow],
}

impl Chart for ForkTree<'_> {
    const STEM: &'static str = STEM;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_fork_tree(root, self.blocks)
    }
}

/// Writes `fork_tree.png` and `fork_tree.svg` into `out_dir`.
pub fn fork_tree(blocks: &[BlockRow], out_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&ForkTree { blocks }, out_dir)
}

/// The miners that get their own colour, ascending by id, with the colour.
fn named_miners(blocks: &[BlockRow]) -> BTreeMap<i64, RGBColor> {
    let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
    for b in blocks.iter().filter(|b| b.is_main() && b.miner >= 0) {
        *counts.entry(b.miner).or_default() += 1;
    }
    let mut ids: Vec<i64> = counts.keys().copied().collect();
    if ids.len() > MAX_NAMED_MINERS {
        let mut ranked: Vec<(i64, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ids = ranked
            .into_iter()
            .take(MAX_NAMED_MINERS - 1)
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
    }
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| (id, MINER_PALETTE[i % MINER_PALETTE.len()]))
        .collect()
}

/// Draws the block tree onto `root`.
pub fn draw_fork_tree<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    blocks: &[BlockRow],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let stale_count = blocks.iter().filter(|b| !b.is_main()).count();
    let title = format!("Block tree: {} blocks, {} stale", blocks.len(), stale_count);
    let (plot, legend) = page(root, STEM, &title)?;
    if blocks.is_empty() {
        draw_message(&plot, STEM, "no blocks")?;
        return Ok(());
    }

    let (t_lo, t_hi) = blocks
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), b| {
            (lo.min(b.time_s), hi.max(b.time_s))
        });
    let (h_lo, h_hi) = blocks.iter().fold((u32::MAX, 0), |(lo, hi), b| {
        (lo.min(b.height), hi.max(b.height))
    });
    let (x0, x1) = padded(t_lo, t_hi, 0.03);
    let (y0, y1) = padded(f64::from(h_lo), f64::from(h_hi), 0.04);
    let (y0, y1) = (y0.min(f64::from(h_lo) - 0.5), y1.max(f64::from(h_hi) + 0.5));

    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc("height")
        .x_labels(10)
        .x_label_formatter(&number_label)
        .y_labels(10)
        .y_label_formatter(&integer_label)
        .house_style()
        .draw()
        .map_err(&err)?;

    // Parent links first so the markers sit on top. Stale blocks sit a
    // little above their height so they never hide under their rival.
    let pos = |b: &BlockRow| {
        let lift = if b.is_main() { 0.0 } else { STALE_LIFT };
        (b.time_s, f64::from(b.height) + lift)
    };
    let at: BTreeMap<&str, (f64, f64)> = blocks.iter().map(|b| (b.hash.as_str(), pos(b))).collect();
    let link = |b: &BlockRow| at.get(b.parent.as_str()).map(|&p| [p, pos(b)]);
    chart
        .draw_series(
            blocks
                .iter()
                .filter(|b| b.is_main())
                .filter_map(link)
                .map(|seg| PathElement::new(seg.to_vec(), OTHER_COLOR.stroke_width(2))),
        )
        .map_err(&err)?;
    chart
        .draw_series(
            blocks
                .iter()
                .filter(|b| !b.is_main())
                .filter_map(link)
                .map(|seg| PathElement::new(seg.to_vec(), STALE_COLOR.mix(0.6).stroke_width(2))),
        )
        .map_err(&err)?;

    let named = named_miners(blocks);
    let mut has_other = false;
    let mut has_genesis = false;
    let mut dots = Vec::new();
    for b in blocks.iter().filter(|b| b.is_main()) {
        let color = if b.miner < 0 {
            has_genesis = true;
            BLACK
        } else if let Some(c) = named.get(&b.miner) {
            *c
        } else {
            has_other = true;
            OTHER_COLOR
        };
        dots.push(Circle::new(
            (b.time_s, f64::from(b.height)),
            6,
            color.filled(),
        ));
    }
    chart.draw_series(dots).map_err(&err)?;
    chart
        .draw_series(
            blocks
                .iter()
                .filter(|b| !b.is_main())
                .map(|b| Cross::new(pos(b), 8, STALE_COLOR.stroke_width(3))),
        )
        .map_err(&err)?;
    // The stale block's miner, in its colour, on top of the cross.
    chart
        .draw_series(blocks.iter().filter(|b| !b.is_main()).map(|b| {
            let color = named.get(&b.miner).copied().unwrap_or(OTHER_COLOR);
            Circle::new(pos(b), 4, color.filled())
        }))
        .map_err(&err)?;

    let mut entries: Vec<LegendEntry> =
        vec![LegendEntry::new("main chain", Marker::Line(OTHER_COLOR))];
    entries.extend(
        named
            .iter()
            .map(|(id, c)| LegendEntry::new(format!("node {id}"), Marker::Dot(*c))),
    );
    if has_other {
        entries.push(LegendEntry::new("other miners", Marker::Dot(OTHER_COLOR)));
    }
    if has_genesis {
        entries.push(LegendEntry::new("genesis", Marker::Dot(BLACK)));
    }
    entries.push(LegendEntry::new(
        format!("stale ({stale_count}),\ndrawn 1/3 block\nabove its height"),
        Marker::Cross(STALE_COLOR),
    ));
    draw_legend(&legend, STEM, Some("main chain\nblocks by miner"), &entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(miner: i64, main: bool) -> BlockRow {
        BlockRow {
            hash: String::new(),
            parent: String::new(),
            height: 1,
            miner,
            time_s: 0.0,
            txs: 1,
            size_bytes: 100,
            main_chain: u8::from(main),
        }
    }

    #[test]
    fn few_miners_are_all_named() {
        let blocks = vec![
            block(-1, true),
            block(3, true),
            block(1, true),
            block(7, false),
        ];
        let named = named_miners(&blocks);
        assert_eq!(named.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn many_miners_keep_the_top_ones() {
        // Miner i mines i+1 main blocks for i in 0..20: the top 9 are 11..=19.
        let mut blocks = Vec::new();
        for i in 0..20 {
            for _ in 0..=i {
                blocks.push(block(i, true));
            }
        }
        let named = named_miners(&blocks);
        assert_eq!(
            named.keys().copied().collect::<Vec<_>>(),
            (11..20).collect::<Vec<_>>()
        );
    }
}
