//! Parameter sweeps: run one scenario over a grid of parameter values, many
//! seeds per grid point, in parallel, and summarise each grid point with a
//! mean and a 95% confidence interval (`sim sweep`).
//!
//! # The grid
//!
//! Each [`Param`] names a scenario field by its `--set` key path and lists
//! the values to try (`consensus.difficulty_bits=12,14,16`). The grid is
//! every combination of the values, in row-major order: the first parameter
//! changes slowest, the last fastest. Grid point `i` is the `i`-th
//! combination ([`expand_grid`]). Its *label* is its assignments,
//! `key=value` with each value as typed, joined by `;` in `--param` order:
//! `consensus.difficulty_bits=12` or
//! `consensus.difficulty_bits=12;nodes.count=8`.
//!
//! # Seeds — the derivation rule
//!
//! Every grid point runs `seeds` times. Run `(point, seed_index)` uses the
//! master seed
//!
//! ```text
//! seed = derive_seed(base_seed, label, seed_index)
//!      = first 8 bytes, little-endian, of
//!        SHA-256(base_seed as u64 LE ‖ label as UTF-8 ‖ seed_index as u64 LE)
//! ```
//!
//! ([`crate::sim::derive_seed`]), where `base_seed` is the scenario's `seed`
//! after the `--set` overrides and `seed_index` counts `0..seeds`. A run's
//! seed therefore depends only on the base seed, its grid point's values and
//! its index — not on `--jobs`, the order runs finish, or which other points
//! are in the grid — and any single run can be repeated with
//! `sim run FILE --set KEY=VALUE… --seed SEED`.
//!
//! # Runs
//!
//! A run loads the scenario with the `--set` overrides, then the grid
//! point's assignments, then `seed=<derived>` ([`SweepPlan::run_one`]),
//! builds the world, runs it to its stop condition and keeps only its
//! [`Summary`] (no per-run output directory, no charts; the world is
//! dropped before the next run starts, so memory stays that of one run per
//! worker). A run whose scenario is invalid for that grid point, or that
//! panics, is a failed [`RunResult`] carrying the error, never dropped.
//! [`SweepPlan::run`] spreads runs over worker threads with an atomic work
//! index and returns the results sorted by `(point, seed_index)`, so the
//! output is the same for any number of workers.
//!
//! # Output
//!
//! [`output::write_sweep`] writes `sweep.csv` (one row per run),
//! `sweep_summary.csv` (one row per grid point, see [`PointSummary`]),
//! `sweep_manifest.json` and the charts of
//! [`crate::report::sweep_charts`], all into a temporary directory renamed
//! into place at the end.
//!
//! # Sweeps over many machines
//!
//! Runs are numbered `i = point × seeds + seed_index` (grid point major,
//! the order of `sweep.csv`). A [`shard::Shard`] `K/N` holds every run with
//! `i mod N = K − 1` ([`shard::PARTITION_RULE`]); `sim sweep … --shard K/N`
//! runs only those and writes a partial directory
//! ([`shard::write_shard`]), and [`merge::merge_shards`] checks that a set
//! of partials is exactly the `N` shards of one sweep and gives back the
//! plan and results from which [`output::write_sweep`] writes the same
//! bytes as the single-machine sweep. [`slurm`] writes a Slurm job array
//! that does both.

pub mod merge;
pub mod output;
pub mod shard;
pub mod slurm;
pub mod stats;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::scenario::{Scenario, ScenarioError};
use crate::sim::{derive_seed, SimDuration};
use crate::theory::analytic_stale_rate;
use crate::world::output::Summary;
use crate::world::{Config, World};

pub use stats::Estimate;

/// The seed derivation rule in words (for `sweep_manifest.json` and help
/// texts).
pub const SEED_RULE: &str = "seed = derive_seed(base_seed, label, seed_index): the first 8 bytes (little-endian) of SHA-256(base_seed as 8 little-endian bytes || label as UTF-8 || seed_index as 8 little-endian bytes), where base_seed is the scenario's seed after --set overrides, label is the grid point's key=value assignments joined by ';' in --param order, and seed_index counts 0..seeds";

/// Columns of `sweep.csv` that a parameter key may not shadow.
const RESERVED_KEYS: [&str; 2] = ["seed", "name"];

/// Stack size of a worker thread: a run needs no more than the main
/// thread, which usually gets 8 MiB.
const WORKER_STACK: usize = 32 << 20;

/// Why a sweep could not be set up or written.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A `--param` argument is malformed.
    #[error("--param {arg}: {message}")]
    Param {
        /// The argument as typed.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The same key was given to two `--param` arguments.
    #[error("--param {key} is given twice; list all its values in one --param")]
    DuplicateParam {
        /// The repeated key.
        key: String,
    },
    /// `seeds` is zero.
    #[error("--seeds must be at least 1")]
    NoSeeds,
    /// Grid points × seeds exceeds [`MAX_RUNS`].
    #[error("--seeds {seeds} × {points} grid points is {runs} runs, more than the {MAX_RUNS} a sweep may have (each run's result is kept in memory); use fewer seeds or values")]
    TooManyRuns {
        /// Runs per grid point.
        seeds: u32,
        /// Grid points (saturating).
        points: u64,
        /// Their product (saturating).
        runs: u64,
    },
    /// The scenario file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The scenario file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The scenario (with the `--set` overrides, before any swept value) is
    /// invalid.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A file or directory operation failed while writing the output.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing a CSV file failed.
    #[error("{}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Drawing the charts failed.
    #[error("charts: {0}")]
    Charts(String),
    /// A `--shard K/N` argument is malformed or does not fit the sweep.
    #[error("--shard {arg}: {message}")]
    Shard {
        /// The argument as typed.
        arg: String,
        /// What is wrong.
        message: String,
    },
}

/// One swept scenario field and the values it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The field's key path, as for `--set` (`consensus.difficulty_bits`).
    pub key: String,
    /// The values, as typed (each parsed as YAML when applied).
    pub values: Vec<String>,
}

impl Param {
    /// Parses `key.path=v1,v2,…`. Commas inside `[…]` or `{…}` do not
    /// separate values, so `network.latency={kind: constant, ms: 100},{kind:
    /// constant, ms: 400}` gives two values.
    pub fn parse(arg: &str) -> Result<Param, SweepError> {
        let err = |message: &str| SweepError::Param {
            arg: arg.to_string(),
            message: message.to_string(),
        };
        let Some((key, list)) = arg.split_once('=') else {
            return Err(err(
                "expected KEY=V1,V2,..., e.g. --param consensus.difficulty_bits=12,14,16",
            ));
        };
        let key = key.trim();
        if !valid_key(key) {
            return Err(err(
                "malformed key path: expected names separated by `.`, with optional `[index]`, e.g. consensus.difficulty_bits",
            ));
        }
        if RESERVED_KEYS.contains(&key) {
            return Err(err(
                "the scenario's seed and name cannot be swept: each run's seed is derived from the base seed (use --seeds, and --set seed=N to change the base)",
            ));
        }
        let values = split_values(list).ok_or_else(|| err("unbalanced brackets in the values"))?;
        if values.iter().any(|v| v.is_empty()) {
            return Err(err(
                "empty value: expected KEY=V1,V2,... with no empty entries",
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(err(&format!("value {v} is listed twice")));
            }
        }
        Ok(Param {
            key: key.to_string(),
            values,
        })
    }

    /// Whether every value is a number (the parameter can be an x axis).
    pub fn is_numeric(&self) -> bool {
        self.values.iter().all(|v| v.parse::<f64>().is_ok())
    }
}

impl std::str::FromStr for Param {
    type Err = SweepError;

    fn from_str(s: &str) -> Result<Param, SweepError> {
        Param::parse(s)
    }
}

/// `name(.name|[n])*` with names of letters, digits and `_`.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|seg| {
            let (name, rest) = seg.split_at(seg.find('[').unwrap_or(seg.len()));
            let name_ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let mut idx = rest;
            while let Some(r) = idx.strip_prefix('[') {
                let Some(close) = r.find(']') else {
                    return false;
                };
                if close == 0 || !r[..close].chars().all(|c| c.is_ascii_digit()) {
                    return false;
                }
                idx = &r[close + 1..];
            }
            name_ok && idx.is_empty()
        })
}

/// Splits on commas outside brackets; `None` if brackets do not balance.
fn split_values(list: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in list.chars() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
        cur.push(c);
    }
    if depth != 0 {
        return None;
    }
    out.push(cur.trim().to_string());
    Some(out)
}

/// One combination of parameter values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridPoint {
    /// Position in the grid (row-major, first parameter slowest).
    pub index: usize,
    /// One value per parameter, in parameter order.
    pub values: Vec<String>,
    /// `key=value` assignments joined by `;` (the seed label).
    pub label: String,
}

impl GridPoint {
    /// The `--set` style assignments of this point.
    pub fn assignments(&self, params: &[Param]) -> Vec<String> {
        params
            .iter()
            .zip(&self.values)
            .map(|(p, v)| format!("{}={v}", p.key))
            .collect()
    }
}

/// Every combination of the parameters' values, row-major (the first
/// parameter changes slowest). No parameters give one empty point.
pub fn expand_grid(params: &[Param]) -> Vec<GridPoint> {
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for p in params {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                p.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .enumerate()
        .map(|(index, values)| {
            let label = params
                .iter()
                .zip(&values)
                .map(|(p, v)| format!("{}={v}", p.key))
                .collect::<Vec<_>>()
                .join(";");
            GridPoint {
                index,
                values,
                label,
            }
        })
        .collect()
}

/// The master seed of run `seed_index` of the grid point labelled `label`
/// (see the module docs).
pub fn run_seed(base_seed: u64, label: &str, seed_index: u32) -> u64 {
    derive_seed(base_seed, label, seed_index as u64)
}

/// What a successful run measured.
#[derive(Clone, Debug)]
pub struct RunMetrics {
    /// The run's summary.
    pub summary: Summary,
    /// The scenario's expected block interval at this grid point, seconds
    /// (`NaN` without hashrate).
    pub expected_interval_s: f64,
    /// The first adversary's share of the total hashrate (α or q), if any.
    pub attacker_share: Option<f64>,
    /// The first double-spend attack's `(confirmations, give_up_behind,
    /// premine)`.
    pub double_spend: Option<(u32, u32, u32)>,
}

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Grid point index.
    pub point: usize,
    /// Index among the point's seeds, `0..seeds`.
    pub seed_index: u32,
    /// The run's master seed.
    pub seed: u64,
    /// The metrics, or the error (one line) that stopped the run.
    pub outcome: Result<RunMetrics, String>,
}

/// The most runs (grid points × seeds) a sweep may have: checked before
/// the grid is expanded or any result is allocated.
pub const MAX_RUNS: u64 = 100_000;

/// Resource bounds every run of a sweep is checked against before it
/// starts (see [`crate::scenario::budget`]); a run beyond them fails with
/// the refusal as its error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Memory one run may use, bytes (`None`: unknown, not checked).
    pub memory_bytes: Option<u64>,
    /// Skip the checks (`--force`).
    pub force: bool,
}

/// A sweep ready to run: the scenario text, overrides, grid and seeds.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The scenario file.
    pub file: PathBuf,
    /// Its text (read once).
    source: String,
    /// `--set` overrides, applied before the swept values.
    pub overrides: Vec<String>,
    /// The swept parameters.
    pub params: Vec<Param>,
    /// Runs per grid point.
    pub seeds: u32,
    /// The scenario's seed after the overrides.
    pub base_seed: u64,
    /// The scenario's name.
    pub name: String,
    /// The grid.
    pub points: Vec<GridPoint>,
    /// Bounds each run is checked against (`None`: not checked).
    pub limits: Option<RunLimits>,
}

impl SweepPlan {
    /// Reads the scenario, checks it with the overrides alone (to learn its
    /// name and base seed) and expands the grid.
    pub fn new(
        file: &Path,
        overrides: &[String],
        params: Vec<Param>,
        seeds: u32,
    ) -> Result<SweepPlan, SweepError> {
        if seeds == 0 {
            return Err(SweepError::NoSeeds);
        }
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.key == p.key) {
                return Err(SweepError::DuplicateParam { key: p.key.clone() });
            }
        }
        let points = params
            .iter()
            .fold(1u64, |n, p| n.saturating_mul(p.values.len() as u64));
        let runs = points.saturating_mul(seeds as u64);
        if runs > MAX_RUNS {
            return Err(SweepError::TooManyRuns {
                seeds,
                points,
                runs,
            });
        }
        let source = crate::scenario::read_capped(file).map_err(SweepError::Scenario)?;
        let base = Scenario::from_yaml_str(&source, &file.display().to_string(), overrides)?;
        Ok(SweepPlan::restore(
            file,
            source,
            overrides.to_vec(),
            params,
            seeds,
            base.seed,
            base.name,
        ))
    }

    /// The plan of a sweep already checked and run elsewhere (the shards of
    /// [`merge::merge_shards`]): the same fields [`SweepPlan::new`] would
    /// find, taken as recorded instead of parsed again (the scenario file
    /// need not exist here). `params` must hold distinct keys.
    pub fn restore(
        file: &Path,
        source: String,
        overrides: Vec<String>,
        params: Vec<Param>,
        seeds: u32,
        base_seed: u64,
        name: String,
    ) -> SweepPlan {
        SweepPlan {
            file: file.to_path_buf(),
            source,
            overrides,
            points: expand_grid(&params),
            params,
            seeds,
            base_seed,
            name,
            limits: None,
        }
    }

    /// The scenario file's text, as read once when the plan was made.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Loads every grid point's scenario (with the base seed) without
    /// running it, so a bad `--param` key or value is found before any run
    /// starts. Returns the first failing point and its error.
    pub fn check_points(&self) -> Result<(), Box<(usize, ScenarioError)>> {
        let name = self.file.display().to_string();
        for gp in &self.points {
            let mut sets = self.overrides.clone();
            sets.extend(gp.assignments(&self.params));
            Scenario::from_yaml_str(&self.source, &name, &sets)
                .map_err(|e| Box::new((gp.index, e)))?;
        }
        Ok(())
    }

    /// Total runs: grid points × seeds.
    pub fn total_runs(&self) -> usize {
        self.points.len() * self.seeds as usize
    }

    /// The `(point, seed_index)` of run number `i` (point-major order:
    /// `i = point × seeds + seed_index`, the order of `sweep.csv`).
    pub fn run_at(&self, i: usize) -> (usize, u32) {
        let s = self.seeds as usize;
        (i / s, (i % s) as u32)
    }

    /// Runs seed `seed_index` of grid point `point`. Where panics unwind
    /// (debug and test builds) a panic inside the simulator, a bug, becomes
    /// a failed run; the release build aborts on it instead, with the
    /// panic's message (`panic = "abort"` in `Cargo.toml`, for speed).
    pub fn run_one(&self, point: usize, seed_index: u32) -> RunResult {
        let gp = &self.points[point];
        let seed = run_seed(self.base_seed, &gp.label, seed_index);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.execute(gp, seed)))
            .unwrap_or_else(|payload| {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(format!("the simulator panicked: {what}"))
            })
            .map_err(|e| one_line(&e));
        RunResult {
            point,
            seed_index,
            seed,
            outcome,
        }
    }

    fn execute(&self, gp: &GridPoint, seed: u64) -> Result<RunMetrics, String> {
        let mut sets = self.overrides.clone();
        sets.extend(gp.assignments(&self.params));
        sets.push(format!("seed={seed}"));
        let name = self.file.display().to_string();
        let scenario = Scenario::from_yaml_str(&self.source, &name, &sets)
            .map_err(|e| self.name_param(e.to_string()))?;
        if let Some(limits) = self.limits {
            scenario
                .estimate()
                .check(&name, limits.memory_bytes, limits.force)
                .map_err(|e| self.name_param(e.to_string()))?;
        }
        let expected = scenario.expected_block_interval();
        let config = Config::from_scenario(&scenario).map_err(|e| e.to_string())?;
        let attacker_share = scenario.adversaries.first().map(|a| {
            let total: f64 = config.nodes.iter().map(|n| n.hashrate_hps).sum();
            config.nodes[a.node() as usize].hashrate_hps / total
        });
        let double_spend = scenario.adversaries.iter().find_map(|a| match a {
            crate::scenario::schema::Adversary::DoubleSpend {
                confirmations,
                give_up_behind,
                premine,
                ..
            } => Some((*confirmations, *give_up_behind, *premine)),
            crate::scenario::schema::Adversary::Eclipse {
                double_spend: Some(t),
                ..
            } => Some((t.confirmations, t.give_up_behind, 0)),
            _ => None,
        });
        let mut world = World::new(config);
        world.run();
        let sim_time = world.now().as_secs_f64();
        let out = world.finish();
        let summary = Summary::of(&out, sim_time, out.txs_confirmed);
        Ok(RunMetrics {
            attacker_share,
            double_spend,
            summary,
            expected_interval_s: if expected == SimDuration::MAX {
                f64::NAN
            } else {
                expected.as_secs_f64()
            },
        })
    }

    /// The scenario loader reports a bad assignment as `--set KEY: …`;
    /// for a swept key the user typed `--param`, so say that.
    fn name_param(&self, message: String) -> String {
        for p in &self.params {
            if let Some(rest) = message.strip_prefix(&format!("--set {}:", p.key)) {
                return format!("--param {}:{rest}", p.key);
            }
        }
        message
    }

    /// Runs the whole grid on `jobs` worker threads (at least one), calling
    /// `on_done` as each run finishes (from the worker's thread, in
    /// completion order). Returns every result sorted by
    /// `(point, seed_index)`.
    pub fn run(&self, jobs: usize, on_done: &(dyn Fn(&RunResult) + Sync)) -> Vec<RunResult> {
        let all: Vec<usize> = (0..self.total_runs()).collect();
        self.run_some(&all, jobs, on_done)
    }

    /// Runs the runs numbered `runs` (see [`SweepPlan::run_at`]; each below
    /// [`SweepPlan::total_runs`]) on `jobs` worker threads, as
    /// [`SweepPlan::run`] does the whole grid (a shard's share, see
    /// [`shard::Shard::runs`]). Returns their results sorted by `(point,
    /// seed_index)`.
    pub fn run_some(
        &self,
        runs: &[usize],
        jobs: usize,
        on_done: &(dyn Fn(&RunResult) + Sync),
    ) -> Vec<RunResult> {
        let total = runs.len();
        let next = AtomicUsize::new(0);
        let results = Mutex::new(Vec::with_capacity(total));
        let workers = jobs.clamp(1, total.max(1));
        std::thread::scope(|scope| {
            for w in 0..workers {
                std::thread::Builder::new()
                    .name(format!("sweep-{w}"))
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, || loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= total {
                            break;
                        }
                        let (point, seed_index) = self.run_at(runs[k]);
                        let r = self.run_one(point, seed_index);
                        on_done(&r);
                        results
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push(r);
                    })
                    .expect("the OS can start a worker thread");
            }
        });
        let mut results = results
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        results.sort_by_key(|r| (r.point, r.seed_index));
        results
    }
}

/// Errors as one line: a multi-line message is joined with spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The per-grid-point statistics (one `sweep_summary.csv` row).
#[derive(Clone, Debug)]
pub struct PointSummary {
    /// Grid point index.
    pub point: usize,
    /// Runs that finished.
    pub n_ok: usize,
    /// Runs that failed.
    pub n_failed: usize,
    /// Expected block interval of the point's scenario, seconds.
    pub expected_interval_s: Option<f64>,
    /// Stale blocks / blocks mined.
    pub stale_rate: Estimate,
    /// Mean main-chain block interval, seconds.
    pub mean_block_interval_s: Estimate,
    /// Reorg events per run.
    pub reorgs: Estimate,
    /// Deepest reorg per run.
    pub deepest_reorg: Estimate,
    /// Median time to reach 50% of the nodes, ms.
    pub propagation_p50_ms: Estimate,
    /// Median time to reach 90% of the nodes, ms.
    pub propagation_p90_ms: Estimate,
    /// The attacker's relative revenue (no values without an adversary).
    pub attacker_relative_revenue: Estimate,
    /// The analytic stale rate `1 − e^(−d/T)` with `d` the mean
    /// `propagation_p50_ms` (in seconds) and `T` the expected interval (see
    /// [`crate::report::sweep_charts`] for why the median). `None` when an
    /// adversary runs: the model is of honest forks only.
    pub model_stale_rate: Option<f64>,
    /// Double-spend attempts and successes summed over the point's runs
    /// (`None` without a double spender).
    pub double_spend: Option<DoubleSpendTally>,
}

/// Double-spend attempts and successes of a grid point, pooled over its runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DoubleSpendTally {
    /// Attempts started.
    pub attempts: u64,
    /// Attempts that succeeded.
    pub successes: u64,
}

impl DoubleSpendTally {
    /// `successes / attempts` (`NaN` without attempts).
    pub fn rate(&self) -> f64 {
        if self.attempts == 0 {
            f64::NAN
        } else {
            self.successes as f64 / self.attempts as f64
        }
    }

    /// The 95% Wilson score interval of the success rate.
    pub fn wilson95(&self) -> (f64, f64) {
        crate::theory::wilson_interval(self.successes, self.attempts, 1.959_963_984_540_054)
    }
}

/// Summarises `results` (sorted or not) per grid point of `plan`.
pub fn summarize(plan: &SweepPlan, results: &[RunResult]) -> Vec<PointSummary> {
    plan.points
        .iter()
        .map(|gp| {
            let mine: Vec<&RunResult> = results.iter().filter(|r| r.point == gp.index).collect();
            let ok: Vec<&RunMetrics> = mine
                .iter()
                .filter_map(|r| r.outcome.as_ref().ok())
                .collect();
            let est = |f: &dyn Fn(&Summary) -> f64| {
                Estimate::of(&ok.iter().map(|m| f(&m.summary)).collect::<Vec<_>>())
            };
            let expected = ok
                .iter()
                .map(|m| m.expected_interval_s)
                .find(|x| x.is_finite());
            let p50 = est(&|s| s.propagation_p50_ms);
            let attacked = ok.iter().any(|m| m.attacker_share.is_some());
            let model = match (p50.mean, expected) {
                (Some(d_ms), Some(t)) if !attacked => Some(analytic_stale_rate(d_ms / 1000.0, t)),
                _ => None,
            };
            let double_spend = ok
                .iter()
                .filter_map(|m| {
                    m.summary
                        .double_spend_attempts
                        .zip(m.summary.double_spend_successes)
                })
                .fold(None, |acc: Option<DoubleSpendTally>, (n, k)| {
                    let t = acc.unwrap_or(DoubleSpendTally {
                        attempts: 0,
                        successes: 0,
                    });
                    Some(DoubleSpendTally {
                        attempts: t.attempts + n,
                        successes: t.successes + k,
                    })
                });
            PointSummary {
                point: gp.index,
                n_ok: ok.len(),
                n_failed: mine.len() - ok.len(),
                expected_interval_s: expected,
                stale_rate: est(&|s| s.stale_rate),
                mean_block_interval_s: est(&|s| s.mean_block_interval_s),
                reorgs: est(&|s| s.reorgs as f64),
                deepest_reorg: est(&|s| s.deepest_reorg as f64),
                propagation_p50_ms: p50,
                propagation_p90_ms: est(&|s| s.propagation_p90_ms),
                attacker_relative_revenue: est(&|s| {
                    s.attacker_relative_revenue.unwrap_or(f64::NAN)
                }),
                model_stale_rate: model,
                double_spend,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(arg: &str) -> Param {
        Param::parse(arg).unwrap()
    }

    #[test]
    fn parses_params() {
        let a = p("consensus.difficulty_bits=12, 14,16");
        assert_eq!(a.key, "consensus.difficulty_bits");
        assert_eq!(a.values, ["12", "14", "16"]);
        assert!(a.is_numeric());
        let b = p("network.latency={kind: constant, ms: 100},{kind: constant, ms: 400}");
        assert_eq!(
            b.values,
            ["{kind: constant, ms: 100}", "{kind: constant, ms: 400}"]
        );
        assert!(!b.is_numeric());
        assert_eq!(p("network.regions[0].share=0.5").values, ["0.5"]);
    }

    #[test]
    fn rejects_bad_params() {
        for bad in [
            "consensus.difficulty_bits",
            "=1,2",
            "a..b=1",
            "a b=1",
            "a[x]=1",
            "a[0=1",
            "a=1,,2",
            "a=1,",
            "a={1,2",
            "a=1],2",
            "a=1,1",
            "seed=1,2",
        ] {
            assert!(Param::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn grid_is_row_major_with_labels() {
        let params = [p("a=1,2"), p("b.c=x,y,z")];
        let g = expand_grid(&params);
        assert_eq!(g.len(), 6);
        let labels: Vec<&str> = g.iter().map(|gp| gp.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "a=1;b.c=x",
                "a=1;b.c=y",
                "a=1;b.c=z",
                "a=2;b.c=x",
                "a=2;b.c=y",
                "a=2;b.c=z"
            ]
        );
        assert!(g.iter().enumerate().all(|(i, gp)| gp.index == i));
        assert_eq!(g[4].assignments(&params), ["a=2", "b.c=y"]);
        // No parameters: one point, the scenario as it is.
        let none = expand_grid(&[]);
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].label, "");
    }

    #[test]
    fn seeds_follow_the_documented_rule() {
        use sha2::{Digest, Sha256};
        let label = "consensus.difficulty_bits=12";
        let mut h = Sha256::new();
        h.update(42u64.to_le_bytes());
        h.update(label.as_bytes());
        h.update(3u64.to_le_bytes());
        let d = h.finalize();
        let want = u64::from_le_bytes(d[..8].try_into().unwrap());
        assert_eq!(run_seed(42, label, 3), want);
        // Distinct per index, per label and per base seed.
        assert_ne!(run_seed(42, label, 0), run_seed(42, label, 1));
        assert_ne!(
            run_seed(42, label, 0),
            run_seed(42, "consensus.difficulty_bits=14", 0)
        );
        assert_ne!(run_seed(42, label, 0), run_seed(43, label, 0));
    }

    #[test]
    fn seed_of_a_point_does_not_depend_on_the_rest_of_the_grid() {
        let small = expand_grid(&[p("a=2")]);
        let big = expand_grid(&[p("a=1,2,3")]);
        assert_eq!(small[0].label, big[1].label);
        assert_eq!(
            run_seed(7, &small[0].label, 5),
            run_seed(7, &big[1].label, 5)
        );
    }
}
