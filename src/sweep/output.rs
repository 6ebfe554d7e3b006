//! Writes a sweep's output directory as a whole: every file goes into a
//! temporary sibling directory which is renamed into place at the end (as a
//! run's `write_run` does), so an interrupted sweep never leaves a
//! half-written directory.
//!
//! Files:
//! - `sweep.csv`: one row per run, sorted by `(point, seed_index)`: `point`,
//!   one column per swept parameter (named by its key path), `seed_index`,
//!   `seed`, `status` (`ok`/`failed`), `error`, then [`RUN_METRICS`]
//!   (empty for failed runs, and for a metric a run could not measure);
//! - `sweep_summary.csv`: one row per grid point: `point`, the parameter
//!   columns, `n_ok`, `n_failed`, `expected_interval_s`, `model_stale_rate`,
//!   then for each of [`SUMMARY_METRICS`] the columns `<m>_mean`, `<m>_sd`,
//!   `<m>_ci95_low`, `<m>_ci95_high` (see [`super::stats`]), then
//!   [`DOUBLE_SPEND_COLUMNS`]: double-spend attempts and successes pooled
//!   over the point's runs, the success rate and its 95% Wilson interval
//!   (empty without a double spender);
//! - `sweep_manifest.json`: scenario file and name, base seed, overrides,
//!   parameters, seeds, grid labels, the seed rule, run counts and the
//!   forklab version (nothing about the machine or `--jobs`);
//! - `charts/`: drawn by [`crate::report::sweep_charts::plot_sweep`] from
//!   the two CSV files just written, exactly as `sim plot` would.
//!
//! Numbers are written with six decimals, so the files are byte-identical
//! for the same plan whatever the number of workers.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{summarize, Estimate, PointSummary, RunResult, SweepError, SweepPlan, SEED_RULE};
use crate::report::sweep_charts::{plot_sweep, SWEEP_CSV, SWEEP_MANIFEST, SWEEP_SUMMARY_CSV};

/// The per-run metric columns of `sweep.csv`, in order.
pub const RUN_METRICS: [&str; 20] = [
    "blocks_mined",
    "main_chain_height",
    "stale_blocks",
    "stale_rate",
    "reorgs",
    "deepest_reorg",
    "mean_block_interval_s",
    "propagation_p50_ms",
    "propagation_p90_ms",
    "txs_confirmed",
    "events",
    "expected_interval_s",
    "attacker_relative_revenue",
    "double_spend_attempts",
    "double_spend_successes",
    "attacker_share",
    "attacker_gamma",
    "double_spend_confirmations",
    "double_spend_give_up_behind",
    "double_spend_premine",
];

/// The double-spend columns at the end of `sweep_summary.csv`: pooled
/// attempts and successes, their ratio and its 95% Wilson score interval.
pub const DOUBLE_SPEND_COLUMNS: [&str; 5] = [
    "double_spend_attempts",
    "double_spend_successes",
    "double_spend_success_rate",
    "double_spend_success_wilson95_low",
    "double_spend_success_wilson95_high",
];

/// The metrics summarised per grid point in `sweep_summary.csv`, in order.
pub const SUMMARY_METRICS: [&str; 7] = [
    "stale_rate",
    "mean_block_interval_s",
    "reorgs",
    "deepest_reorg",
    "propagation_p50_ms",
    "propagation_p90_ms",
    "attacker_relative_revenue",
];

/// `sweep_manifest.json`.
#[derive(Serialize, Debug)]
struct SweepManifest<'a> {
    forklab_version: &'static str,
    scenario_file: String,
    scenario_name: &'a str,
    base_seed: u64,
    overrides: &'a [String],
    params: Vec<ManifestParam<'a>>,
    seeds: u32,
    grid_points: Vec<&'a str>,
    seed_rule: &'static str,
    runs: usize,
    runs_ok: usize,
    runs_failed: usize,
}

#[derive(Serialize, Debug)]
struct ManifestParam<'a> {
    key: &'a str,
    values: &'a [String],
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A number with six decimals; nothing for a value that is not finite.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// Writes the sweep into `out_dir` (replacing it) and returns every file
/// written, sorted. `results` must be sorted by `(point, seed_index)` (as
/// [`SweepPlan::run`] returns them).
pub fn write_sweep(
    out_dir: &Path,
    plan: &SweepPlan,
    results: &[RunResult],
) -> Result<Vec<PathBuf>, SweepError> {
    crate::report::atomic::write_dir_atomically(
        out_dir,
        |p, e| io_err(p)(e),
        |tmp| write_files(tmp, plan, results),
    )
}

fn write_files(dir: &Path, plan: &SweepPlan, results: &[RunResult]) -> Result<(), SweepError> {
    write_runs_csv(&dir.join(SWEEP_CSV), plan, results)?;
    let summaries = summarize(plan, results);
    write_summary_csv(&dir.join(SWEEP_SUMMARY_CSV), plan, &summaries)?;
    let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
    let manifest = SweepManifest {
        forklab_version: env!("CARGO_PKG_VERSION"),
        scenario_file: plan.file.display().to_string(),
        scenario_name: &plan.name,
        base_seed: plan.base_seed,
        overrides: &plan.overrides,
        params: plan
            .params
            .iter()
            .map(|p| ManifestParam {
                key: &p.key,
                values: &p.values,
            })
            .collect(),
        seeds: plan.seeds,
        grid_points: plan.points.iter().map(|g| g.label.as_str()).collect(),
        seed_rule: SEED_RULE,
        runs: results.len(),
        runs_ok: ok,
        runs_failed: results.len() - ok,
    };
    let path = dir.join(SWEEP_MANIFEST);
    let json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    fs::write(&path, json + "\n").map_err(io_err(&path))?;
    plot_sweep(dir).map_err(|e| SweepError::Charts(e.to_string()))?;
    crate::report::theory_charts::plot_theory(dir)
        .map_err(|e| SweepError::Charts(e.to_string()))?;
    Ok(())
}

fn csv_writer(path: &Path) -> Result<csv::Writer<fs::File>, SweepError> {
    csv::Writer::from_path(path).map_err(|e| SweepError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn write_rows(path: &Path, rows: Vec<Vec<String>>) -> Result<(), SweepError> {
    let mut w = csv_writer(path)?;
    for row in rows {
        w.write_record(&row).map_err(|e| SweepError::Csv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    w.flush().map_err(io_err(path))
}

fn write_runs_csv(path: &Path, plan: &SweepPlan, results: &[RunResult]) -> Result<(), SweepError> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(plan.params.iter().map(|p| p.key.clone()));
    header.extend(
        ["seed_index", "seed", "status", "error"]
            .iter()
            .map(|s| s.to_string()),
    );
    header.extend(RUN_METRICS.iter().map(|s| s.to_string()));
    let mut rows = vec![header];
    for r in results {
        let mut row = vec![r.point.to_string()];
        row.extend(plan.points[r.point].values.iter().cloned());
        row.push(r.seed_index.to_string());
        row.push(r.seed.to_string());
        match &r.outcome {
            Ok(m) => {
                let s = &m.summary;
                row.push("ok".into());
                row.push(String::new());
                row.extend([
                    s.blocks_mined.to_string(),
                    s.main_chain_height.to_string(),
                    s.stale_blocks.to_string(),
                    num(s.stale_rate),
                    s.reorgs.to_string(),
                    s.deepest_reorg.to_string(),
                    num(s.mean_block_interval_s),
                    num(s.propagation_p50_ms),
                    num(s.propagation_p90_ms),
                    s.txs_confirmed.to_string(),
                    s.events.to_string(),
                    num(m.expected_interval_s),
                    s.attacker_relative_revenue.map(num).unwrap_or_default(),
                    s.double_spend_attempts
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                    s.double_spend_successes
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                    m.attacker_share.map(num).unwrap_or_default(),
                    s.gamma_effective.map(num).unwrap_or_default(),
                    m.double_spend.map(|d| d.0.to_string()).unwrap_or_default(),
                    m.double_spend.map(|d| d.1.to_string()).unwrap_or_default(),
                    m.double_spend.map(|d| d.2.to_string()).unwrap_or_default(),
                ]);
            }
            Err(e) => {
                row.push("failed".into());
                row.push(e.clone());
                row.extend(RUN_METRICS.iter().map(|_| String::new()));
            }
        }
        rows.push(row);
    }
    write_rows(path, rows)
}

fn estimate_cells(e: &Estimate) -> [String; 4] {
    [opt(e.mean), opt(e.sd), opt(e.ci95_low), opt(e.ci95_high)]
}

fn write_summary_csv(
    path: &Path,
    plan: &SweepPlan,
    summaries: &[PointSummary],
) -> Result<(), SweepError> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(plan.params.iter().map(|p| p.key.clone()));
    header.extend(
        [
            "n_ok",
            "n_failed",
            "expected_interval_s",
            "model_stale_rate",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    for m in SUMMARY_METRICS {
        for stat in ["mean", "sd", "ci95_low", "ci95_high"] {
            header.push(format!("{m}_{stat}"));
        }
    }
    header.extend(DOUBLE_SPEND_COLUMNS.iter().map(|s| s.to_string()));
    let mut rows = vec![header];
    for s in summaries {
        let mut row = vec![s.point.to_string()];
        row.extend(plan.points[s.point].values.iter().cloned());
        row.push(s.n_ok.to_string());
        row.push(s.n_failed.to_string());
        row.push(opt(s.expected_interval_s));
        row.push(opt(s.model_stale_rate));
        for e in [
            &s.stale_rate,
            &s.mean_block_interval_s,
            &s.reorgs,
            &s.deepest_reorg,
            &s.propagation_p50_ms,
            &s.propagation_p90_ms,
            &s.attacker_relative_revenue,
        ] {
            row.extend(estimate_cells(e));
        }
        match s.double_spend {
            Some(t) => {
                let (lo, hi) = t.wilson95();
                row.push(t.attempts.to_string());
                row.push(t.successes.to_string());
                row.extend([num(t.rate()), num(lo), num(hi)]);
            }
            None => row.extend((0..5).map(|_| String::new())),
        }
        rows.push(row);
    }
    write_rows(path, rows)
}
