//! Charts of a run, drawn from its CSV files only.
//!
//! A run's output directory holds CSV files whose rows are the structs of
//! [`rows`] (the simulator writes them with the same structs). [`plot_run`]
//! reads them back and writes `charts/<stem>.png` and `charts/<stem>.svg` for
//! each chart, so `sim plot output/<run>` can regenerate the charts of any
//! run, even a hand-edited one. The simulator can also call the per-chart
//! functions ([`fork_tree`], [`tip_timeline`], [`propagation_cdf`],
//! [`balances`], [`reorg_depths`]) with rows it already holds, or draw onto
//! its own plotters area with the `draw_*` variants.
//!
//! | stem | from | shows |
//! |---|---|---|
//! | `fork_tree` | `blocks.csv` | blocks at (time, height) linked to parents; main chain by miner, stale in red |
//! | `tip_timeline` | `tips.csv`, `blocks.csv` | each node's tip over time: main chain or stale branch (at most 50 nodes, sampled evenly) |
//! | `propagation_cdf` | `propagation.csv` | share of nodes reached vs time since found: median over blocks, 10th–90th percentile band |
//! | `propagation_compare` (only `sim plot RUN OTHER`) | two runs' `propagation.csv` | both runs' propagation CDFs overlaid |
//! | `balances` | `balances.csv` | confirmed balance (BTC) per wallet over time (at most 20 wallets) |
//! | `reorg_depths` | `reorgs.csv` | reorg events per depth, or "no reorgs" |
//!
//! Invariants: `blocks.csv` is required; a chart whose other CSV is absent is
//! skipped. Output is a pure function of the CSV contents (fixed canvas, fixed
//! embedded font, no hash-map iteration), so the same files give
//! byte-identical PNG and SVG charts. A malformed CSV is a [`ReportError`]
//! naming the file and line.

use std::path::{Path, PathBuf};

pub mod atomic;
pub mod attack_charts;
mod charts;
mod csvdata;
pub mod font;
pub mod rows;
pub mod style;
pub mod sweep_charts;
pub mod theory_charts;

pub use charts::*;
pub use csvdata::{
    load_balances, load_blocks, load_nodes, load_propagation, load_reorgs, load_summary, load_tips,
    load_tips_sampled, sample_nodes,
};

use rows::*;

/// Name of the chart directory inside a run directory.
pub const CHARTS_DIR: &str = "charts";

/// Why charts could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A required file does not exist.
    #[error("required file {} not found", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file is malformed or holds an out-of-range value.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number, when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// plotters failed to draw or encode a chart.
    #[error("cannot draw chart {chart}: {message}")]
    Draw {
        /// File stem of the chart.
        chart: &'static str,
        /// plotters' error.
        message: String,
    },
    /// The embedded font could not be loaded.
    #[error("the embedded chart font could not be loaded")]
    Font,
}

/// Reads the CSV files of `run_dir` and writes every chart they allow into
/// `run_dir/charts/` (created if needed). Returns the files written, sorted.
pub fn plot_run(run_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    if !run_dir.is_dir() {
        return Err(ReportError::Missing {
            path: run_dir.to_path_buf(),
        });
    }
    let out = run_dir.join(CHARTS_DIR);
    let present = |name: &str| run_dir.join(name).is_file();
    let blocks = load_blocks(run_dir)?;
    let mut written = fork_tree(&blocks, &out)?;
    if present(TIPS_CSV) {
        let (mut tips, total) = load_tips_sampled(run_dir, MAX_TIMELINE_NODES)?;
        if total > MAX_TIMELINE_NODES {
            // Large runs get the summary over every node.
            tips = load_tips(run_dir)?;
        }
        let events = manifest_events(run_dir);
        let chart = charts::tip_timeline::TipTimeline {
            tips: &tips,
            blocks: &blocks,
            total_nodes: Some(total),
            events: &events,
        };
        written.extend(charts::write_chart(&chart, &out)?);
    }
    if present(PROPAGATION_CSV) {
        written.extend(propagation_cdf(&load_propagation(run_dir)?, &out)?);
    }
    if present(BALANCES_CSV) {
        written.extend(balances(&load_balances(run_dir)?, &out)?);
    }
    if present(REORGS_CSV) {
        written.extend(reorg_depths(&load_reorgs(run_dir)?, &out)?);
    }
    // Runs with adversaries: each miner's share of the main chain over
    // time, attackers named from the manifest's resolved scenario.
    let attackers = manifest_attackers(run_dir);
    if present(attack_charts::MINER_SHARE_CSV) && !attackers.is_empty() {
        let rows = attack_charts::load_miner_share(run_dir)?;
        let theory = selfish_theory(run_dir, &rows);
        written.extend(attack_charts::miner_share_with_theory(
            &rows, &attackers, theory, &out,
        )?);
    }
    written.sort();
    Ok(written)
}

/// The moments a run's manifest marks: each timeline event (`partition`,
/// `heal`, `offline`, `online`, `hashrate`) and each adversary's start after
/// time 0, as simulated seconds and a short label; empty without a manifest.
fn manifest_events(run_dir: &Path) -> Vec<(f64, String)> {
    let Ok(text) = std::fs::read_to_string(run_dir.join(MANIFEST_JSON)) else {
        return Vec::new();
    };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let secs = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<crate::sim::SimDuration>().ok())
            .map(|d| d.as_secs_f64())
    };
    let mut out = Vec::new();
    for ev in m["scenario"]["timeline"].as_array().into_iter().flatten() {
        let Some(t) = secs(&ev["at"]) else { continue };
        let what = ["partition", "heal", "offline", "online", "hashrate"]
            .into_iter()
            .find(|k| !ev[*k].is_null())
            .unwrap_or("event");
        out.push((t, what.to_string()));
    }
    for a in m["scenario"]["adversaries"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(t) = secs(&a["start"]).filter(|t| *t > 0.0) {
            let kind = a["kind"].as_str().unwrap_or("attack");
            out.push((t, format!("{kind} starts")));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// For a run whose first adversary is a selfish miner with an explicit γ:
/// its final hashrate share α (from `miner_share.csv`) and the run's
/// `gamma_effective` (from `summary.csv`).
fn selfish_theory(
    run_dir: &Path,
    rows: &[attack_charts::MinerShareRow],
) -> Option<attack_charts::SelfishTheory> {
    let text = std::fs::read_to_string(run_dir.join(MANIFEST_JSON)).ok()?;
    let m: serde_json::Value = serde_json::from_str(&text).ok()?;
    let first = &m["scenario"]["adversaries"][0];
    if first["kind"].as_str() != Some("selfish") {
        return None;
    }
    let node = first["node"].as_i64()?;
    let alpha = rows
        .iter()
        .filter(|r| r.miner == node)
        .max_by_key(|r| r.height)?
        .hashrate_share;
    let summary = std::fs::read_to_string(run_dir.join(SUMMARY_CSV)).ok()?;
    let gamma = summary
        .lines()
        .find_map(|l| l.strip_prefix("gamma_effective,"))?
        .trim()
        .parse()
        .ok()?;
    Some(attack_charts::SelfishTheory { alpha, gamma })
}

/// Attacker node ids listed in `manifest.json` (`scenario.adversaries[].node`);
/// empty without a manifest or adversaries.
fn manifest_attackers(run_dir: &Path) -> Vec<i64> {
    let Ok(text) = std::fs::read_to_string(run_dir.join(MANIFEST_JSON)) else {
        return Vec::new();
    };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let mut ids: Vec<i64> = m["scenario"]["adversaries"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["node"].as_i64()).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids.dedup();
    ids
}
