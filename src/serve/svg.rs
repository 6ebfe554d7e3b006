//! Inline SVG figures of the explorer, drawn on the server so pages need no
//! script: the fork tree (each block a link), a block's propagation curve
//! and an address's balance over time.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::assets::PALETTE;
use crate::store::view::{BlockBrief, HistoryRow};

/// Most heights the fork tree draws (the latest ones).
pub const TREE_MAX_HEIGHTS: u32 = 400;

/// The colour of a miner's blocks (grey for genesis).
pub fn miner_colour(miner: Option<i64>) -> &'static str {
    match miner {
        Some(m) if m >= 0 => PALETTE[(m as usize) % PALETTE.len()],
        _ => "#999999",
    }
}

/// The fork tree: heights left to right, the final main chain on the top
/// row, stale branches below; each block a square coloured by its miner
/// (stale ones dashed) linking to `/block/{hash}`. `mark` outlines one
/// block. Only the latest [`TREE_MAX_HEIGHTS`] heights are drawn.
pub fn fork_tree(blocks: &[BlockBrief], mark: Option<&str>) -> String {
    const DX: u32 = 36;
    const DY: u32 = 44;
    const SIDE: u32 = 24;
    let top = blocks.iter().map(|b| b.height).max().unwrap_or(0);
    let low = top.saturating_sub(TREE_MAX_HEIGHTS - 1);
    // Lanes: 0 for the main chain; a stale block continues its parent's
    // lane when it can, else takes the first lane free at its height.
    let mut lane_of: HashMap<&str, usize> = HashMap::new();
    let mut lane_end: Vec<u32> = vec![0];
    let mut placed: Vec<(&BlockBrief, usize)> = Vec::new();
    for b in blocks.iter().filter(|b| b.height >= low) {
        let lane = if b.main_chain {
            0
        } else {
            match lane_of.get(b.parent.as_str()) {
                Some(&l) if l != 0 && lane_end[l] + 1 == b.height => l,
                _ => match (1..lane_end.len()).find(|&l| lane_end[l] < b.height) {
                    Some(l) => l,
                    None => {
                        lane_end.push(0);
                        lane_end.len() - 1
                    }
                },
            }
        };
        if lane != 0 {
            lane_end[lane] = b.height;
        }
        lane_of.insert(&b.hash, lane);
        placed.push((b, lane));
    }
    let pos = |h: u32, lane: usize| (20 + (h - low) * DX, 34 + lane as u32 * DY);
    let width = 40 + (top - low + 1) * DX;
    let height = 50 + lane_end.len() as u32 * DY;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="fork tree"><title>fork tree: main chain on top, stale blocks below</title>"##
    );
    // Height ticks.
    let step = if top - low > 40 { 10 } else { 5 };
    for h in (low..=top).filter(|h| h % step == 0) {
        let (x, _) = pos(h, 0);
        let _ = write!(
            s,
            r##"<text x="{}" y="14" font-size="12" text-anchor="middle" fill="#555">{h}</text>"##,
            x + SIDE / 2
        );
    }
    let index: HashMap<&str, (u32, usize)> = placed
        .iter()
        .map(|(b, l)| (b.hash.as_str(), (b.height, *l)))
        .collect();
    for (b, lane) in &placed {
        if let Some(&(ph, pl)) = index.get(b.parent.as_str()) {
            let (x1, y1) = pos(ph, pl);
            let (x2, y2) = pos(b.height, *lane);
            let _ = write!(
                s,
                r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#444" stroke-width="2"/>"##,
                x1 + SIDE,
                y1 + SIDE / 2,
                x2,
                y2 + SIDE / 2
            );
        }
    }
    for (b, lane) in &placed {
        let (x, y) = pos(b.height, *lane);
        let miner = b
            .miner
            .map(|m| format!("node {m}"))
            .unwrap_or_else(|| "genesis".into());
        let state = if b.main_chain { "main chain" } else { "stale" };
        let dash = if b.main_chain {
            ""
        } else {
            r#" stroke-dasharray="4 3""#
        };
        let marked = mark == Some(b.hash.as_str());
        let _ = write!(
            s,
            r##"<a href="/block/{hash}" class="tree-block" data-hash="{hash}" data-main="{main}"><title>height {h}, {miner}, {state}
{hash}</title><rect x="{x}" y="{y}" width="{SIDE}" height="{SIDE}" rx="3" fill="{fill}" fill-opacity="{op}" stroke="#000" stroke-width="{sw}"{dash}/></a>"##,
            hash = b.hash,
            main = b.main_chain as u8,
            h = b.height,
            fill = miner_colour(b.miner),
            op = if b.main_chain { "1" } else { "0.55" },
            sw = if marked { 4 } else { 1 },
        );
    }
    s.push_str("</svg>");
    s
}

/// A step plot of `points` `(x, y)`, `y` from 0 to `y_max`, with axis
/// labels; `x` ascending.
fn steps(points: &[(f64, f64)], y_max: f64, x_label: &str, y_label: &str, aria: &str) -> String {
    const W: f64 = 720.0;
    const H: f64 = 260.0;
    const L: f64 = 90.0;
    const B: f64 = 44.0;
    let x_max = points.iter().map(|p| p.0).fold(0.0f64, f64::max).max(1e-9);
    let y_max = y_max.max(1e-9);
    let sx = |x: f64| L + x / x_max * (W - L - 20.0);
    let sy = |y: f64| H - B - y / y_max * (H - B - 16.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" aria-label="{aria}"><title>{aria}</title>"##
    );
    let _ = write!(
        s,
        r##"<line x1="{L}" y1="{0}" x2="{1}" y2="{0}" stroke="#000"/><line x1="{L}" y1="16" x2="{L}" y2="{0}" stroke="#000"/>"##,
        H - B,
        W - 20.0
    );
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="13" text-anchor="middle">{}</text><text x="{}" y="{}" font-size="13" text-anchor="end">{}</text>"##,
            sx(f * x_max),
            H - B + 18.0,
            short(f * x_max),
            L - 6.0,
            sy(f * y_max) + 4.0,
            short(f * y_max)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" font-size="14" text-anchor="middle">{x_label}</text><text x="14" y="{}" font-size="14" text-anchor="middle" transform="rotate(-90 14 {})">{y_label}</text>"##,
        (L + W) / 2.0,
        H - 6.0,
        (H - B) / 2.0,
        (H - B) / 2.0
    );
    let mut d = String::new();
    let mut last_y = 0.0;
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            let _ = write!(d, "M{:.1},{:.1}", sx(*x), sy(*y));
        } else {
            let _ = write!(
                d,
                " L{:.1},{:.1} L{:.1},{:.1}",
                sx(*x),
                sy(last_y),
                sx(*x),
                sy(*y)
            );
        }
        last_y = *y;
    }
    let _ = write!(
        s,
        r##"<path d="{d}" fill="none" stroke="#0072B2" stroke-width="3"/></svg>"##
    );
    s
}

/// A number with at most 4 significant digits and a k/M/G suffix.
fn short(x: f64) -> String {
    let a = x.abs();
    let (v, suffix) = if a >= 1e9 {
        (x / 1e9, "G")
    } else if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let t = format!("{v:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}{suffix}")
}

/// Share of the nodes that had a block against milliseconds after it was
/// found (`delays_ms` in arrival order).
pub fn propagation(delays_ms: &[f64], nodes: u64) -> String {
    let mut d: Vec<f64> = delays_ms.to_vec();
    d.sort_by(|a, b| a.total_cmp(b));
    let n = nodes.max(1) as f64;
    let pts: Vec<(f64, f64)> = d
        .iter()
        .enumerate()
        .map(|(i, ms)| (*ms, (i + 1) as f64 / n))
        .collect();
    steps(
        &pts,
        1.0,
        "milliseconds after the block was found",
        "share of nodes",
        "propagation: share of nodes that had the block over time",
    )
}

/// Balance (satoshis) against simulated seconds.
pub fn balance(history: &[HistoryRow]) -> String {
    let mut pts: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    pts.extend(history.iter().map(|h| (h.time_s, h.balance_sats as f64)));
    let y_max = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    steps(
        &pts,
        y_max,
        "simulated seconds",
        "balance, sats",
        "balance of the address over time",
    )
}
