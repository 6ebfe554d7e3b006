//! `balances`: each wallet's confirmed balance (BTC) over simulated time.
//!
//! One step line per wallet through its samples in time order (a balance
//! holds until the next sample). With more than
//! [`MAX_WALLETS`] wallets only the ones with the largest final balance are
//! drawn (ties to the lower id) and the legend says so; lines and legend
//! entries are in ascending wallet id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{write_chart, Chart};
use crate::report::rows::BalanceRow;
use crate::report::style::*;
use crate::report::{font, ReportError};

/// At most this many wallets get a line.
pub const MAX_WALLETS: usize = 20;

const STEM: &str = "balances";
const SATS_PER_BTC: f64 = 100_000_000.0;

struct Balances<'a> {
    rows: &'a [BalanceRow],
}

impl Chart for Balances<'_> {
    const STEM: &'static str = STEM;

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        draw_balances(root, self.rows)
    }
}

/// Writes `balances.png` and `balances.svg` into `out_dir`.
pub fn balances(rows: &[BalanceRow], out_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    write_chart(&Balances { rows }, out_dir)
}

/// Samples per wallet in time order (stable for equal times), all wallets.
fn series(rows: &[BalanceRow]) -> BTreeMap<u32, Vec<(f64, u64)>> {
    let mut by_wallet: BTreeMap<u32, Vec<(f64, u64)>> = BTreeMap::new();
    for r in rows {
        by_wallet
            .entry(r.wallet)
            .or_default()
            .push((r.time_s, r.confirmed_sats));
    }
    for samples in by_wallet.values_mut() {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    by_wallet
}

/// The wallets to draw: all, or the [`MAX_WALLETS`] richest at the end.
fn chosen(all: &BTreeMap<u32, Vec<(f64, u64)>>) -> Vec<u32> {
    let mut ids: Vec<u32> = all.keys().copied().collect();
    if ids.len() > MAX_WALLETS {
        let last = |id: &u32| all[id].last().map_or(0, |s| s.1);
        ids.sort_by(|a, b| last(b).cmp(&last(a)).then(a.cmp(b)));
        ids.truncate(MAX_WALLETS);
        ids.sort_unstable();
    }
    ids
}

/// Draws the balance lines onto `root`.
pub fn draw_balances<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[BalanceRow],
) -> Result<(), ReportError> {
    font::ensure_registered()?;
    let err = draw_err(STEM);
    let all = series(rows);
    let ids = chosen(&all);
    let (plot, legend) = page(root, STEM, "Confirmed wallet balances")?;
    if ids.is_empty() {
        draw_message(&plot, STEM, "no wallet balances recorded")?;
        return Ok(());
    }
    let (t_lo, t_hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.time_s), hi.max(r.time_s))
        });
    let top = ids
        .iter()
        .flat_map(|id| all[id].iter().map(|s| s.1))
        .max()
        .unwrap_or(0) as f64
        / SATS_PER_BTC;
    let (x0, x1) = padded(t_lo, t_hi, 0.02);
    let y1 = if top > 0.0 { top * 1.08 } else { 1.0 };

    let mut chart = ChartBuilder::on(&plot)
        .house_frame()
        .build_cartesian_2d(x0..x1, 0.0..y1)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc("confirmed balance (BTC)")
        .x_labels(10)
        .x_label_formatter(&number_label)
        .y_labels(10)
        .y_label_formatter(&number_label)
        .house_style()
        .draw()
        .map_err(&err)?;

    let mut entries = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let color = PALETTE_20[i % PALETTE_20.len()];
        // A balance is what the wallet holds until the next sample: draw
        // steps, not slopes between samples.
        let points = steps(&all[id]);
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(3)))
            .map_err(&err)?;
        entries.push(LegendEntry::new(
            format!("wallet {id}"),
            Marker::Line(color),
        ));
    }
    let heading = if ids.len() < all.len() {
        format!("top {} of {}\nby final balance", ids.len(), all.len())
    } else {
        "wallets".to_string()
    };
    draw_legend(&legend, STEM, Some(&heading), &entries)
}

/// `(time, sats)` samples as a step line in BTC: each value is held until
/// the next sample's time, then jumps.
fn steps(samples: &[(f64, u64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(samples.len() * 2);
    for (i, &(t, sats)) in samples.iter().enumerate() {
        let btc = sats as f64 / SATS_PER_BTC;
        if i > 0 {
            let prev = out.last().map_or(btc, |p: &(f64, f64)| p.1);
            out.push((t, prev));
        }
        out.push((t, btc));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_are_steps() {
        let s = steps(&[(0.0, 100_000_000), (60.0, 50_000_000), (120.0, 50_000_000)]);
        assert_eq!(
            s,
            vec![
                (0.0, 1.0),
                (60.0, 1.0),
                (60.0, 0.5),
                (120.0, 0.5),
                (120.0, 0.5)
            ]
        );
    }

    fn row(wallet: u32, time_s: f64, sats: u64) -> BalanceRow {
        BalanceRow {
            time_s,
            wallet,
            address: String::new(),
            confirmed_sats: sats,
        }
    }

    #[test]
    fn richest_wallets_are_kept() {
        // Wallet w ends with w sats; wallet 0 is richest early but poorest last.
        let mut rows = vec![row(0, 0.0, 1_000)];
        for w in 0..30 {
            rows.push(row(w, 10.0, u64::from(w)));
        }
        let all = series(&rows);
        assert_eq!(all[&0], vec![(0.0, 1_000), (10.0, 0)]);
        assert_eq!(chosen(&all), (10..30).collect::<Vec<_>>());
    }
}
