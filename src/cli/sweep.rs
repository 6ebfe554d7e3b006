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
use super::{CliError, CliResult, ScenarioArgs};

/// Options of `sim sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file and the `--set` overrides applied to every run.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// A swept field and its values, e.g. `--param consensus.difficulty_bits=12,14,16`
    /// (repeatable: the grid is every combination; commas inside [...] or {...} do not split).
    #[arg(long = "param", value_name = "KEY=V1,V2,...")]
    pub params: Vec<String>,
    /// Runs per grid point, each with its own derived seed.
    #[arg(long, default_value_t = 10)]
    pub seeds: u32,
    /// Worker threads (default: the number of available cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output directory (default: `output/<scenario name>-sweep`). An
    /// existing one is replaced only if it is an earlier forklab output or
    /// empty.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar, no table, no closing lines (failed runs are still reported).
    #[arg(long, short)]
    pub quiet: bool,
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
    let file = &args.scenario.file;
    super::load::check_exists(file)?;
    let mut plan =
        SweepPlan::new(file, &args.scenario.sets, params, args.seeds).map_err(|e| match e {
            SweepError::Scenario(se) => CliError::input(super::load::explain(
                &se,
                file,
                &args.scenario.sets,
                "--set",
            )),
            e => sweep_err(e),
        })?;
    // Every grid point's scenario is checked before any run starts: a typo
    // in a --param key or a bad value is one error, not one per run.
    plan.check_points().map_err(|b| {
        let (point, se) = *b;
        let mut sets = args.scenario.sets.clone();
        sets.extend(plan.points[point].assignments(&plan.params));
        let line = super::load::explain(&se, file, &sets, "--set");
        let line = plan
            .params
            .iter()
            .find_map(|p| {
                line.strip_prefix(&format!("--set {}=", p.key))
                    .map(|rest| format!("--param {}={rest}", p.key))
            })
            .unwrap_or(line);
        CliError::input(format!(
            "{line} (grid point {point}: {}); nothing was run",
            plan.points[point].label
        ))
    })?;
    // Runs share the machine's memory: each may use its share.
    let workers = jobs.min(plan.total_runs().max(1)) as u64;
    plan.limits = Some(forklab::sweep::RunLimits {
        memory_bytes: forklab::scenario::budget::available_memory().map(|m| m / workers),
        force: args.scenario.force,
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
    // With an adversary the attack is the story: its metric replaces the
    // stale-rate model (a model of honest forks only).
    let revenue = rows
        .iter()
        .any(|s| s.attacker_relative_revenue.mean.is_some());
    let double_spend = rows.iter().any(|s| s.double_spend.is_some());
    header.push("ok/runs".into());
    if revenue {
        header.push("attacker revenue (95% CI)".into());
    }
    if double_spend {
        header.push("double spends ok/tried".into());
        header.push("success (95% Wilson)".into());
    }
    header.push("stale rate (95% CI)".into());
    if !revenue && !double_spend {
        header.push("model".into());
    }
    header.extend(["interval s", "expected s"].map(String::from));
    let mut table = vec![header];
    for s in rows {
        let mut line = vec![s.point.to_string()];
        line.extend(plan.points[s.point].values.iter().cloned());
        line.push(format!("{}/{}", s.n_ok, s.n_ok + s.n_failed));
        if revenue {
            let r = &s.attacker_relative_revenue;
            line.push(match (r.mean, r.half_width()) {
                (Some(m), Some(h)) => format!("{m:.3} ± {h:.3}"),
                (Some(m), None) => format!("{m:.3}"),
                _ => "n/a".into(),
            });
        }
        if double_spend {
            match s.double_spend {
                Some(t) if t.attempts > 0 => {
                    let (lo, hi) = t.wilson95();
                    line.push(format!("{}/{}", t.successes, t.attempts));
                    line.push(format!(
                        "{:.1}% ({:.1}-{:.1}%)",
                        t.rate() * 100.0,
                        lo * 100.0,
                        hi * 100.0
                    ));
                }
                _ => line.extend(["n/a".to_string(), "n/a".to_string()]),
            }
        }
        line.push(pct(&s.stale_rate));
        if !revenue && !double_spend {
            line.push(
                s.model_stale_rate
                    .map_or_else(|| "n/a".into(), |m| format!("{:.1}%", m * 100.0)),
            );
        }
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
