//! `sim sweep`: run a scenario over a grid of parameter values and seeds in
//! parallel, write `output/<name>-sweep/` and print a table per grid point.
//!
//! The library does the work ([`forklab::sweep`]); this file parses the
//! arguments, shows a progress bar, reports failed runs (one stderr line
//! each, in grid order) and maps outcomes to exit codes: 0 when at least one
//! run succeeded, 2 for bad arguments or when every run failed, 1 when the
//! output cannot be written.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use forklab::sweep::output::write_sweep;
use forklab::sweep::{summarize, Estimate, Param, PointSummary, RunResult, SweepError, SweepPlan};

use super::outln;
use super::{CliError, CliResult};

/// Options of `sim sweep`.
pub struct SweepArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// `--param key=v1,v2,…` arguments, unparsed.
    pub params: Vec<String>,
    /// Runs per grid point.
    pub seeds: u32,
    /// Worker threads (default: available parallelism).
    pub jobs: Option<usize>,
    /// Output directory (default `output/<name>-sweep`).
    pub out: Option<PathBuf>,
    /// `--set key.path=value` overrides.
    pub sets: Vec<String>,
    /// No progress bar and no table.
    pub quiet: bool,
    /// Run every grid point even beyond the memory and work bounds.
    pub force: bool,
}

fn sweep_err(e: SweepError) -> CliError {
    match e {
        SweepError::Io { .. } | SweepError::Csv { .. } | SweepError::Charts(_) => {
            CliError::other(e)
        }
        _ => CliError::input(e),
    }
}

/// `sim sweep`.
pub fn sweep(args: SweepArgs) -> CliResult {
    let params = args
        .params
        .iter()
        .map(|p| Param::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(sweep_err)?;
    let jobs = match args.jobs {
        Some(0) => return Err(CliError::input("--jobs must be at least 1")),
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut plan = SweepPlan::new(&args.file, &args.sets, params, args.seeds).map_err(sweep_err)?;
    // Runs share the machine's memory: each may use its share.
    let workers = jobs.min(plan.total_runs().max(1)) as u64;
    plan.limits = Some(forklab::sweep::RunLimits {
        memory_bytes: forklab::scenario::budget::available_memory().map(|m| m / workers),
        force: args.force,
    });
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", plan.name)));
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    super::run::remove_stale(&out_dir);
    let total = plan.total_runs();

    #[allow(clippy::disallowed_methods)] // the CLI may time itself
    let start = std::time::Instant::now();
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} runs ({eta} left)",
            )
            .expect("valid progress template"),
        );
        bar
    });
    let results = plan.run(jobs, &|_r: &RunResult| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let wall = start.elapsed().as_secs_f64();

    for r in results.iter() {
        if let Err(e) = &r.outcome {
            let gp = &plan.points[r.point];
            let what = if gp.label.is_empty() {
                format!("grid point {}", r.point)
            } else {
                format!("grid point {} ({})", r.point, gp.label)
            };
            eprintln!(
                "run failed: {what}, seed index {} (seed {}): {e}",
                r.seed_index, r.seed
            );
        }
    }
    let files = write_sweep(&out_dir, &plan, &results).map_err(sweep_err)?;
    let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
    if !args.quiet {
        print_table(&plan, &summarize(&plan, &results));
        outln!(
            "{ok} of {total} runs succeeded in {wall:.1} s wall on {} worker(s)",
            jobs.min(total.max(1))
        );
        outln!("output: {} ({} files)", out_dir.display(), files.len());
    }
    if ok == 0 {
        return Err(CliError::input(format!(
            "all {total} runs failed (see the lines above); {} records them",
            out_dir.join("sweep.csv").display()
        )));
    }
    Ok(())
}

/// `12.3% ± 1.2%`, or `n/a`.
fn pct(e: &Estimate) -> String {
    match (e.mean, e.half_width()) {
        (Some(m), Some(h)) => format!("{:.1}% ± {:.1}%", m * 100.0, h * 100.0),
        (Some(m), None) => format!("{:.1}%", m * 100.0),
        _ => "n/a".into(),
    }
}

fn secs(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{v:.2}"))
}

/// One line per grid point: values, runs, stale rate, intervals.
fn print_table(plan: &SweepPlan, rows: &[PointSummary]) {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(plan.params.iter().map(|p| p.key.clone()));
    header.extend(
        [
            "ok/runs",
            "stale rate (95% CI)",
            "model",
            "interval s",
            "expected s",
        ]
        .map(String::from),
    );
    let mut table = vec![header];
    for s in rows {
        let mut line = vec![s.point.to_string()];
        line.extend(plan.points[s.point].values.iter().cloned());
        line.push(format!("{}/{}", s.n_ok, s.n_ok + s.n_failed));
        line.push(pct(&s.stale_rate));
        line.push(
            s.model_stale_rate
                .map_or_else(|| "n/a".into(), |m| format!("{:.1}%", m * 100.0)),
        );
        line.push(secs(s.mean_block_interval_s.mean));
        line.push(secs(s.expected_interval_s));
        table.push(line);
    }
    let cols = table[0].len();
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&width)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
}
