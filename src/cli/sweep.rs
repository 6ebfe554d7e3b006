//! `sim sweep`: run a scenario over a grid of parameter values and seeds in
//! parallel, write `output/<name>-sweep/` and print a table per grid point;
//! or run one shard of it (`--shard K/N`), write a Slurm job array for all
//! shards (`--slurm --shards N`), or merge shards (`sim sweep merge`).
//!
//! The library does the work ([`forklab::sweep`]); this file parses the
//! arguments, shows a progress bar, reports failed runs (one stderr line
//! each, in grid order) and maps outcomes to exit codes: 0 when at least one
//! run succeeded (a shard: when its directory is written, failed runs
//! included; the merge applies the sweep's rule), 2 for bad arguments or
//! when every run failed, 1 when the output cannot be written.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use forklab::sweep::merge::merge_shards;
use forklab::sweep::output::write_sweep;
use forklab::sweep::shard::{write_shard, Shard, PARTITION_RULE};
use forklab::sweep::slurm::{self, SlurmJob};
use forklab::sweep::{summarize, Estimate, Param, PointSummary, RunResult, SweepError, SweepPlan};

use super::outln;
use super::{CliError, CliResult, ScenarioArgs};

/// Options of `sim sweep`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    /// `sim sweep merge`.
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    /// The scenario file and the `--set` overrides applied to every run.
    #[command(flatten)]
    pub scenario: Option<ScenarioArgs>,
    /// A swept field and its values, e.g. `--param consensus.difficulty_bits=12,14,16`
    /// (repeatable: the grid is every combination; commas inside [...] or {...} do not split).
    #[arg(long = "param", value_name = "KEY=V1,V2,...")]
    pub params: Vec<String>,
    /// Runs per grid point, each with its own derived seed.
    #[arg(long, default_value_t = 10)]
    pub seeds: u32,
    /// Worker threads (default: the number of available cores; with
    /// --slurm, the CPUs each array task asks for, default 1).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output directory (default: `output/<scenario name>-sweep`, with
    /// --shard `output/<scenario name>-sweep-shard-K-of-N`). An existing
    /// one is replaced only if it is an earlier forklab output or empty.
    /// With --slurm: where the merge job writes the sweep.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (1 ≤ K ≤ N): the runs i = point × seeds +
    /// seed_index with i mod N = K-1. Writes a partial directory for
    /// `sim sweep merge`.
    #[arg(long, value_name = "K/N", conflicts_with = "slurm")]
    pub shard: Option<String>,
    /// Write a Slurm job array (one task per shard, then `sim sweep merge`
    /// as a job that depends on them, --dependency=afterok) instead of
    /// running; needs --shards. Nothing is run.
    #[arg(long, requires = "shards")]
    pub slurm: bool,
    /// The number of shards (array tasks) for --slurm.
    #[arg(long, value_name = "N", requires = "slurm")]
    pub shards: Option<u32>,
    /// Where --slurm puts the script, the shard directories and the logs
    /// (default: the --out directory's path followed by `-slurm`).
    #[arg(long, value_name = "DIR", requires = "slurm")]
    pub slurm_dir: Option<PathBuf>,
    /// An extra sbatch option for both jobs, e.g. `--sbatch=--partition=short`
    /// or `--sbatch=--time=2:00:00` (repeatable; with --slurm).
    #[arg(
        long,
        value_name = "OPTION",
        requires = "slurm",
        allow_hyphen_values = true
    )]
    pub sbatch: Vec<String>,
    /// No progress bar, no table, no closing lines (failed runs are still reported).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Subcommands of `sim sweep`.
#[derive(clap::Subcommand, Debug)]
pub enum SweepCommand {
    /// Combine the partial directories of `sim sweep … --shard K/N` into
    /// the sweep one machine would have written, byte for byte.
    ///
    /// Every shard 1/N … N/N must be given once, all of one sweep (same
    /// scenario text, --set, --param, --seeds, shard count and forklab
    /// version); otherwise one line names the directory at fault (exit 2)
    /// and nothing is written.
    #[command(
        arg_required_else_help = true,
        after_help = "Examples:
  sim sweep merge output/d-sweep-slurm/shard-*-of-4 --out output/d-sweep
  sim sweep merge a/ b/ c/"
    )]
    Merge(MergeArgs),
}

/// Options of `sim sweep merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The shards' partial directories (each holds shard_manifest.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Output directory (default: `output/<scenario name>-sweep`), with
    /// the same rules as `sim sweep --out`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No table, no closing lines.
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
    match args.command {
        Some(SweepCommand::Merge(m)) => merge(m),
        None => run_sweep(args),
    }
}

/// Parses the arguments, reads the scenario and checks every grid point.
fn plan_of(scenario: &ScenarioArgs, params: &[String], seeds: u32) -> Result<SweepPlan, CliError> {
    let params = params
        .iter()
        .map(|p| Param::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(sweep_err)?;
    let file = &scenario.file;
    super::load::check_exists(file)?;
    let plan = SweepPlan::new(file, &scenario.sets, params, seeds).map_err(|e| match e {
        SweepError::Scenario(se) => {
            CliError::input(super::load::explain(&se, file, &scenario.sets, "--set"))
        }
        e => sweep_err(e),
    })?;
    // Every grid point's scenario is checked before any run starts: a typo
    // in a --param key or a bad value is one error, not one per run.
    plan.check_points().map_err(|b| {
        let (point, se) = *b;
        let mut sets = scenario.sets.clone();
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
    Ok(plan)
}

/// `sim sweep FILE …`, whole, one shard, or written as a Slurm array.
fn run_sweep(args: SweepArgs) -> CliResult {
    let Some(scenario) = &args.scenario else {
        return Err(CliError::input(
            "sim sweep needs a scenario file (or `sim sweep merge DIR...`); see sim sweep --help",
        ));
    };
    let shard = args
        .shard
        .as_deref()
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(sweep_err)?;
    if args.jobs == Some(0) {
        return Err(CliError::input("--jobs must be at least 1"));
    }
    let mut plan = plan_of(scenario, &args.params, args.seeds)?;
    if let Some(s) = shard {
        s.check_fits(plan.total_runs()).map_err(sweep_err)?;
    }
    let default_out = Path::new("output").join(format!("{}-sweep", plan.name));
    if args.slurm {
        return write_slurm(
            &args,
            scenario,
            &plan,
            args.out.clone().unwrap_or(default_out),
        );
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runs: Vec<usize> = match shard {
        Some(s) => s.runs(plan.total_runs()),
        None => (0..plan.total_runs()).collect(),
    };
    // Runs share the machine's memory: each may use its share.
    let workers = jobs.min(runs.len().max(1)) as u64;
    plan.limits = Some(forklab::sweep::RunLimits {
        memory_bytes: forklab::scenario::budget::available_memory().map(|m| m / workers),
        force: scenario.force,
    });
    let out_dir = args.out.clone().unwrap_or_else(|| match shard {
        Some(s) => Path::new("output").join(format!(
            "{}-sweep-shard-{}-of-{}",
            plan.name, s.index, s.count
        )),
        None => default_out,
    });
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    super::run::remove_stale(&out_dir);
    let total = runs.len();

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
    let results = plan.run_some(&runs, jobs, &|_r: &RunResult| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let wall = start.elapsed().as_secs_f64();

    report_failures(&plan, &results);
    let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
    if let Some(s) = shard {
        let files = write_shard(&out_dir, &plan, s, &results).map_err(sweep_err)?;
        if !args.quiet {
            outln!(
                "shard {s}: {ok} of {total} runs succeeded in {wall:.1} s wall on {workers} worker(s) ({} runs in the sweep)",
                plan.total_runs()
            );
            outln!("output: {} ({} files)", out_dir.display(), files.len());
            outln!(
                "when every shard 1/{n} … {n}/{n} has run: sim sweep merge DIR... --out OUT",
                n = s.count
            );
        }
        return Ok(());
    }
    let files = write_sweep(&out_dir, &plan, &results).map_err(sweep_err)?;
    if !args.quiet {
        print_table(&plan, &summarize(&plan, &results));
        outln!("{ok} of {total} runs succeeded in {wall:.1} s wall on {workers} worker(s)");
        outln!("output: {} ({} files)", out_dir.display(), files.len());
    }
    all_failed(ok, total, &out_dir)
}

/// One stderr line per failed run, in grid order.
fn report_failures(plan: &SweepPlan, results: &[RunResult]) {
    for r in results {
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
}

/// Exit 2 when no run succeeded (the output still records every error).
fn all_failed(ok: usize, total: usize, out_dir: &Path) -> CliResult {
    if ok == 0 {
        return Err(CliError::input(format!(
            "all {total} runs failed (see the lines above); {} records them",
            out_dir.join("sweep.csv").display()
        )));
    }
    Ok(())
}

/// `sim sweep merge`.
fn merge(args: MergeArgs) -> CliResult {
    let merged = merge_shards(&args.dirs).map_err(CliError::input)?;
    let plan = &merged.plan;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", plan.name)));
    // Replacing a shard with the merge would lose it.
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(out) = canon(&out_dir) {
        if let Some(d) = args.dirs.iter().find(|d| canon(d).as_ref() == Some(&out)) {
            return Err(CliError::input(format!(
                "--out {} is the shard directory {}; write the merge elsewhere",
                out_dir.display(),
                d.display()
            )));
        }
    }
    forklab::report::atomic::check_replaceable(&out_dir).map_err(CliError::input)?;
    super::run::remove_stale(&out_dir);
    report_failures(plan, &merged.results);
    let files = write_sweep(&out_dir, plan, &merged.results).map_err(sweep_err)?;
    let total = merged.results.len();
    let ok = merged.results.iter().filter(|r| r.outcome.is_ok()).count();
    if !args.quiet {
        print_table(plan, &summarize(plan, &merged.results));
        outln!(
            "merged {} shards: {ok} of {total} runs succeeded",
            merged.shards
        );
        outln!("output: {} ({} files)", out_dir.display(), files.len());
    }
    all_failed(ok, total, &out_dir)
}

/// `sim sweep … --slurm --shards N`: writes the job array script.
fn write_slurm(
    args: &SweepArgs,
    scenario: &ScenarioArgs,
    plan: &SweepPlan,
    out: PathBuf,
) -> CliResult {
    let n = args.shards.expect("clap requires --shards with --slurm");
    if n == 0 || n as usize > plan.total_runs() {
        return Err(CliError::input(format!(
            "--shards {n}: expected 1 to {} (the sweep's runs: grid points × seeds)",
            plan.total_runs()
        )));
    }
    forklab::report::atomic::check_replaceable(&out).map_err(CliError::input)?;
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::other(format!("the current directory: {e}")))?;
    let sim = std::env::current_exe()
        .map_err(|e| CliError::other(format!("cannot locate the sim binary: {e}")))?;
    let job_dir = args.slurm_dir.clone().unwrap_or_else(|| {
        let mut s = out.clone().into_os_string();
        s.push("-slurm");
        PathBuf::from(s)
    });
    let job_dir = cwd.join(job_dir);
    let mut sweep_args: Vec<String> = Vec::new();
    let file = scenario.file.to_str().ok_or_else(|| {
        CliError::input(format!(
            "{}: the path is not valid UTF-8",
            scenario.file.display()
        ))
    })?;
    sweep_args.push(file.to_string());
    for s in &scenario.sets {
        sweep_args.extend(["--set".to_string(), s.clone()]);
    }
    for p in &args.params {
        sweep_args.extend(["--param".to_string(), p.clone()]);
    }
    sweep_args.extend(["--seeds".to_string(), plan.seeds.to_string()]);
    if scenario.force {
        sweep_args.push("--force".into());
    }
    let job = SlurmJob {
        name: plan.name.clone(),
        cwd,
        sim,
        job_dir: job_dir.clone(),
        sweep_args,
        out: out.clone(),
        shards: n,
        cpus_per_task: args.jobs.unwrap_or(1),
        sbatch_options: args.sbatch.clone(),
        points: plan.points.len(),
        seeds: plan.seeds,
    };
    let text = slurm::script(&job).map_err(CliError::input)?;
    let script = job_dir.join(slurm::SCRIPT_NAME);
    if let Ok(old) = std::fs::read_to_string(&script) {
        if old
            .lines()
            .nth(1)
            .is_none_or(|l| !l.starts_with(slurm::SCRIPT_MARK))
        {
            return Err(CliError::input(format!(
                "{} exists and was not written by sim sweep --slurm; choose another --slurm-dir",
                script.display()
            )));
        }
    } else if script.exists() {
        return Err(CliError::input(format!(
            "{} exists and is not a readable file; choose another --slurm-dir",
            script.display()
        )));
    }
    let io = |p: &Path, e: std::io::Error| CliError::other(format!("{}: {e}", p.display()));
    let logs = job_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| io(&logs, e))?;
    // Written whole: a temporary file renamed over the script.
    let tmp = job_dir.join(format!(
        ".{}.tmp-{}",
        slurm::SCRIPT_NAME,
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, &script).map_err(|e| io(&script, e))?;
    if !args.quiet {
        outln!(
            "wrote {}: a Slurm job array of {n} shards ({} runs: {} grid point(s) × {} seeds), then a merge job into {}",
            script.display(),
            plan.total_runs(),
            plan.points.len(),
            plan.seeds,
            out.display()
        );
        outln!("partition: {PARTITION_RULE}");
        outln!("submit it (the array, then the merge with --dependency=afterok):");
        outln!("  bash {}", script.display());
        outln!(
            "or the array alone with `sbatch {}`, then `bash {} merge`",
            script.display(),
            script.display()
        );
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
