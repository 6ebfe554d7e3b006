//! Charts of a run with adversaries, and the rows they read.
//!
//! | stem | from | shows |
//! |---|---|---|
//! | `miner_share` | `miner_share.csv` | each miner's share of the main chain so far (solid) against its share of the hashrate (dashed, same colour), over simulated time |
//!
//! With attackers the honest miners are drawn as one pooled line (shares
//! summed per sampled height) and the attackers thick and red.
//! `miner_share.csv` is written by every run (see
//! [`crate::metrics::Recorder`] for the sampling); the chart draws at most
//! [`MAX_SHARE_LINES`] miners: the ones with the most main-chain blocks at
//! the end (ties to the lower id), attackers first. Drawing is a pure
//! function of the rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{write_chart, Chart};
use super::style::*;
use super::{font, ReportError};

pub use super::rows::{MinerShareRow, ATTACKS_CSV, MINER_SHARE_CSV};
/// File stem of the miner-share chart.
pub const MINER_SHARE: &str = "miner_share";
/// At most this many miners get lines.
pub const MAX_SHARE_LINES: usize = 10;

/// Reads `miner_share.csv` of a run directory.
pub fn load_miner_share(run_dir: &Path) -> Result<Vec<MinerShareRow>, ReportError> {
    let path = run_dir.join(MINER_SHARE_CSV);
    let mut reader = csv::Reader::from_path(&path).map_err(|e| ReportError::Csv {
        path: path.clone(),
        line: None,
        message: e.to_string(),
    })?;
    let mut rows = Vec::new();
    for r in reader.deserialize() {
        rows.push(r.map_err(|e: csv::Error| ReportError::Csv {
            path: path.clone(),
            line: e.position().map(|p| p.line()),
            message: e.to_string(),
        })?);
    }
    Ok(rows)
}

struct MinerShare<'a> {
    rows: &'a [MinerShareRow],
    attackers: &'a [i64],
    theory: Option<SelfishTheory>,
}

impl Chart for MinerShare<'_> {
    const STEM: &'static str = MINER_SHARE;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_miner_share_with_theory(root, self.rows, self.attackers, self.theory)
    }
}

/// A selfish miner's expected main-chain share, drawn as a dotted line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelfishTheory {
    /// The attacker's hashrate share α.
    pub alpha: f64,
    /// The run's γ (`gamma_effective`).
    pub gamma: f64,
}

/// [`miner_share`] with Eyal–Sirer's `R(α, γ)` as a dotted line in the
/// attacker's colour when `theory` is given.
pub fn miner_share_with_theory(
    rows: &[MinerShareRow],
    attackers: &[i64],
    theory: Option<SelfishTheory>,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(
        &MinerShare {
            rows,
            attackers,
            theory,
        },
        out_dir,
    )
}

/// Writes `miner_share.png` and `miner_share.svg` into `out_dir`;
/// `attackers` are node ids drawn first and labelled as attackers.
pub fn miner_share(
    rows: &[MinerShareRow],
    attackers: &[i64],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    miner_share_with_theory(rows, attackers, None, out_dir)
}

/// The `miner` id of pooled rows: every miner not listed on its own.
const POOLED_HONEST: i64 = -1;

/// Rows with every non-attacker miner summed into one [`POOLED_HONEST`]
/// row per sampled height (attackers' rows kept as they are).
fn pool_honest(rows: &[MinerShareRow], attackers: &[i64]) -> Vec<MinerShareRow> {
    let mut out: Vec<MinerShareRow> = rows
        .iter()
        .filter(|r| attackers.contains(&r.miner))
        .cloned()
        .collect();
    let mut by_height: BTreeMap<u32, MinerShareRow> = BTreeMap::new();
    for r in rows.iter().filter(|r| !attackers.contains(&r.miner)) {
        let e = by_height.entry(r.height).or_insert(MinerShareRow {
            time_s: r.time_s,
            height: r.height,
            miner: POOLED_HONEST,
            blocks_main: 0,
            share_main: 0.0,
            hashrate_share: 0.0,
        });
        e.blocks_main += r.blocks_main;
        e.share_main += r.share_main;
        e.hashrate_share += r.hashrate_share;
    }
    out.extend(by_height.into_values());
    out
}

/// The miners to draw (see the module docs), in drawing order.
fn chosen(rows: &[MinerShareRow], attackers: &[i64]) -> Vec<i64> {
    let mut last: BTreeMap<i64, (u32, u32)> = BTreeMap::new();
    for r in rows {
        let e = last.entry(r.miner).or_insert((0, 0));
        if r.height >= e.0 {
            *e = (r.height, r.blocks_main);
        }
    }
    let mut ids: Vec<i64> = last.keys().copied().collect();
    ids.sort_by(|a, b| {
        let att = |m: &i64| !attackers.contains(m);
        att(a)
            .cmp(&att(b))
            .then(last[b].1.cmp(&last[a].1))
            .then(a.cmp(b))
    });
    ids.truncate(MAX_SHARE_LINES);
    ids
}

/// The main-chain share, keeping only points at least `dx` apart in time
/// (and the last): at most about one per pixel column, so the zigzag of the
/// first few blocks does not turn into miter spikes of a thick line.
fn thinned(rows: &[&MinerShareRow], dx: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|&(t, _)| r.time_s - t >= dx) {
            out.push((r.time_s, r.share_main));
        }
    }
    if let (Some(last), Some(r)) = (out.last().copied(), rows.last()) {
        if last.0 < r.time_s {
            out.push((r.time_s, r.share_main));
        }
    }
    out
}

/// The hashrate share as a step line: a point where it changes (the old
/// value up to the change, then the new one) and at the end, so a constant
/// share is one segment.
fn steps(rows: &[&MinerShareRow]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for r in rows {
        match out.last() {
            Some(&(_, v)) if v == r.hashrate_share => {}
            Some(&(_, v)) => {
                out.push((r.time_s, v));
                out.push((r.time_s, r.hashrate_share));
            }
            None => out.push((r.time_s, r.hashrate_share)),
        }
    }
    if let (Some(last), Some(r)) = (out.last().copied(), rows.last()) {
        if last.0 < r.time_s {
            out.push((r.time_s, last.1));
        }
    }
    out
}

/// Draws the share lines onto `root`.
pub fn draw_miner_share<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[MinerShareRow],
    attackers: &[i64],
) -> Result<(), ReportError> {
    draw_miner_share_with_theory(root, rows, attackers, None)
}

/// [`draw_miner_share`] with an optional `R(α, γ)` line.
pub fn draw_miner_share_with_theory<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[MinerShareRow],
    attackers: &[i64],
    theory: Option<SelfishTheory>,
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(MINER_SHARE);
    let (plot, legend) = page(root, MINER_SHARE, "Main-chain share vs hashrate share")?;
    // With attackers, the honest miners are one pooled line (their summed
    // shares per sampled height): the story is attacker vs everyone else.
    let pooled;
    let rows: &[MinerShareRow] = if attackers.is_empty() {
        rows
    } else {
        pooled = pool_honest(rows, attackers);
        &pooled
    };
    let ids = chosen(rows, attackers);
    if ids.is_empty() {
        draw_message(&plot, MINER_SHARE, "no main-chain blocks")?;
        return Ok(());
    }
    // Long runs read in hours or days, not millions of seconds.
    let (per_unit, unit) = time_unit(rows.iter().map(|r| r.time_s).fold(0.0, f64::max));
    let scaled: Vec<MinerShareRow> = rows
        .iter()
        .map(|r| MinerShareRow {
            time_s: r.time_s / per_unit,
            ..r.clone()
        })
        .collect();
    let rows = &scaled[..];
    let (t_lo, t_hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.time_s), hi.max(r.time_s))
        });
    let top = rows
        .iter()
        .filter(|r| ids.contains(&r.miner))
        .map(|r| r.share_main.max(r.hashrate_share))
        .fold(0.0, f64::max);
    let (x0, x1) = padded(t_lo, t_hi, 0.02);
    let y1 = (top * 1.1).clamp(0.05, 1.0);
    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x0..x1, 0.0..y1)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc(format!("simulated time ({unit})"))
        .y_desc("share")
        .x_labels(10)
        .x_label_formatter(&number_label)
        .y_labels(10)
        .y_label_formatter(&number_label)
        .house_style()
        .draw()
        .map_err(&err)?;
    let mut entries = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let is_attacker = attackers.contains(id);
        let color = if is_attacker {
            STALE_COLOR
        } else if *id == POOLED_HONEST {
            OTHER_COLOR
        } else {
            PALETTE_20[k % PALETTE_20.len()]
        };
        let width = if is_attacker { 4 } else { 2 };
        let mut mine: Vec<&MinerShareRow> = rows.iter().filter(|r| r.miner == *id).collect();
        mine.sort_by_key(|r| r.height);
        chart
            .draw_series(LineSeries::new(
                thinned(&mine, (x1 - x0) / 800.0),
                color.stroke_width(width),
            ))
            .map_err(&err)?;
        chart
            .draw_series(DashedLineSeries::new(
                steps(&mine),
                12,
                8,
                color.stroke_width(width),
            ))
            .map_err(&err)?;
        let name = match *id {
            POOLED_HONEST if !attackers.is_empty() => "honest miners\n(pooled)".to_string(),
            -1 => "other miners".to_string(),
            m if is_attacker => format!("attacker (node {m})"),
            m => format!("miner {m}"),
        };
        entries.push(LegendEntry::new(name, Marker::Line(color)));
    }
    if let Some(t) = theory {
        let r = crate::theory::selfish_relative_revenue(t.alpha, t.gamma);
        if r.is_finite() {
            chart
                .draw_series(DottedLineSeries::new([(x0, r), (x1, r)], 0, 8, &|c| {
                    Circle::new(c, 2, STALE_COLOR.filled())
                }))
                .map_err(&err)?;
            entries.push(LegendEntry::new(
                format!(
                    "Eyal-Sirer R = {r:.3}\n(α {:.3}, γ {:.3}),\ndotted",
                    t.alpha, t.gamma
                ),
                Marker::Dot(STALE_COLOR),
            ));
        }
    }
    draw_legend(
        &legend,
        MINER_SHARE,
        Some("solid: main chain\ndashed: hashrate"),
        &entries,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(miner: i64, height: u32, blocks: u32) -> MinerShareRow {
        MinerShareRow {
            time_s: height as f64,
            height,
            miner,
            blocks_main: blocks,
            share_main: blocks as f64 / height as f64,
            hashrate_share: 0.1,
        }
    }

    #[test]
    fn honest_miners_are_pooled_per_height() {
        let rows = vec![row(0, 10, 5), row(1, 10, 3), row(2, 10, 2), row(1, 20, 6)];
        let p = pool_honest(&rows, &[0]);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].miner, 0);
        assert_eq!(
            (p[1].miner, p[1].height, p[1].blocks_main),
            (POOLED_HONEST, 10, 5)
        );
        assert!((p[1].share_main - 0.5).abs() < 1e-12);
        assert!((p[1].hashrate_share - 0.2).abs() < 1e-12);
        assert_eq!((p[2].height, p[2].blocks_main), (20, 6));
    }

    #[test]
    fn attackers_first_then_most_blocks() {
        let rows = vec![
            row(1, 10, 5),
            row(2, 10, 1),
            row(3, 10, 4),
            row(1, 5, 5),
            row(2, 5, 0),
        ];
        assert_eq!(chosen(&rows, &[2]), vec![2, 1, 3]);
        let many: Vec<MinerShareRow> = (0..30).map(|m| row(m, 10, m as u32)).collect();
        let ids = chosen(&many, &[]);
        assert_eq!(ids.len(), MAX_SHARE_LINES);
        assert_eq!(ids[0], 29);
    }

    #[test]
    fn hashrate_share_is_a_step_line() {
        let mut a = row(0, 1, 1);
        let mut b = row(0, 2, 1);
        let mut c = row(0, 3, 1);
        a.hashrate_share = 0.2;
        b.hashrate_share = 0.2;
        c.hashrate_share = 0.4;
        assert_eq!(
            steps(&[&a, &b, &c]),
            vec![(1.0, 0.2), (3.0, 0.2), (3.0, 0.4)]
        );
        assert_eq!(steps(&[&a, &b]), vec![(1.0, 0.2), (2.0, 0.2)]);
    }

    #[test]
    fn draws_into_memory() {
        let rows = vec![row(0, 1, 1), row(0, 2, 1), row(1, 2, 1)];
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            draw_miner_share(&root, &rows, &[0]).unwrap();
            root.present().unwrap();
        }
        assert!(svg.contains("attacker (node 0)"));
        assert!(svg.contains("honest miners"));
    }
}
