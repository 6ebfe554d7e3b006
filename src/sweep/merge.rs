//! Combining the partial directories of a sharded sweep (`sim sweep merge
//! DIR…`) into the plan and results of the whole sweep.
//!
//! [`merge_shards`] reads every directory before it decides anything and
//! accepts the set only when it is exactly the shards `1/N … N/N` of one
//! sweep, each whole:
//! - every directory holds a [`SHARD_MANIFEST`] written by this forklab
//!   version under this partition and seed rule, its [`SHARD_SCENARIO`]
//!   has the recorded SHA-256, and its [`SHARD_RUNS_CSV`] holds exactly the
//!   runs the partition gives the shard, each with the seed the seed rule
//!   gives it;
//! - all name the same scenario file, scenario text, name, base seed,
//!   overrides, parameters, seeds and shard count;
//! - no shard is given twice and none is missing.
//!
//! Anything else is one [`MergeError`] naming the directory (or shard) at
//! fault, and nothing is written. From the merged plan and results
//! [`super::output::write_sweep`] writes the files the single machine
//! writes, byte for byte: the results are the same values (see
//! [`super::shard`] on how they are stored) in the same order.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::shard::{
    scenario_sha256, Shard, ShardManifest, ShardRow, PARTITION_RULE, SHARD_MANIFEST,
    SHARD_RUNS_CSV, SHARD_SCENARIO,
};
use super::{expand_grid, run_seed, Param, RunResult, SweepPlan, SEED_RULE};

/// Why a set of partial directories cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No directories were given.
    #[error("no shard directories given")]
    Empty,
    /// A directory is not a shard's partial directory.
    #[error("{}: not a sweep shard ({message})", dir.display())]
    NotAShard {
        /// The directory.
        dir: PathBuf,
        /// What is missing.
        message: String,
    },
    /// A file of a shard is malformed or contradicts its manifest.
    #[error("{}: {message}", path.display())]
    Malformed {
        /// The file (or directory).
        path: PathBuf,
        /// What is wrong, with the line where there is one.
        message: String,
    },
    /// A shard was written by another forklab version.
    #[error("{} (shard {shard}) was written by forklab {found}, this is forklab {}; run every shard and the merge with one version", dir.display(), env!("CARGO_PKG_VERSION"))]
    Version {
        /// The directory.
        dir: PathBuf,
        /// Its shard.
        shard: Shard,
        /// The version it names.
        found: String,
    },
    /// Two directories are shards of different sweeps.
    #[error("{0}")]
    Mismatch(Box<Mismatch>),
    /// The same shard is given twice.
    #[error("shard {shard} is given twice: {} and {}", first.display(), second.display())]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// The first directory holding it.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
    /// Shards are missing.
    #[error("missing {} {}; give the directory of every shard 1/{count} … {count}/{count} (each `sim sweep … --shard K/{count}` writes one)", if missing.len() == 1 { "shard" } else { "shards" }, missing.iter().map(|k| format!("{k}/{count}")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The missing `K`s.
        missing: Vec<u32>,
        /// `N`.
        count: u32,
    },
}

/// A shard that belongs to another sweep than the first one given.
#[derive(Debug, thiserror::Error)]
#[error("{} (shard {shard}) is not a shard of the same sweep as {} (shard {first_shard}): its {field} is {found}, not {expected}", dir.display(), first.display())]
pub struct Mismatch {
    /// The directory that differs.
    pub dir: PathBuf,
    /// Its shard.
    pub shard: Shard,
    /// The first directory given, which the others are compared with.
    pub first: PathBuf,
    /// Its shard.
    pub first_shard: Shard,
    /// The field that differs.
    pub field: &'static str,
    /// The value in `dir`.
    pub found: String,
    /// The value in `first`.
    pub expected: String,
}

/// The whole sweep, put back together.
#[derive(Debug)]
pub struct Merged {
    /// The sweep's plan, as the shards recorded it.
    pub plan: SweepPlan,
    /// Every run's result, sorted by `(point, seed_index)`.
    pub results: Vec<RunResult>,
    /// The number of shards merged.
    pub shards: u32,
}

/// One partial directory, read and checked on its own.
struct ShardDir {
    dir: PathBuf,
    manifest: ShardManifest,
    source: String,
    results: Vec<RunResult>,
}

fn malformed(path: PathBuf, message: impl Into<String>) -> MergeError {
    MergeError::Malformed {
        path,
        message: message.into(),
    }
}

/// Reads and checks the partial directories `dirs` (see the module docs)
/// and returns the whole sweep.
pub fn merge_shards(dirs: &[PathBuf]) -> Result<Merged, MergeError> {
    let Some(first_dir) = dirs.first() else {
        return Err(MergeError::Empty);
    };
    let first = read_shard_dir(first_dir)?;
    let count = first.manifest.shard_count;
    let mut seen: BTreeMap<u32, PathBuf> = BTreeMap::new();
    seen.insert(first.manifest.shard_index, first.dir.clone());
    let mut results = first.results.clone();
    for dir in &dirs[1..] {
        let other = read_shard_dir(dir)?;
        same_sweep(&first, &other)?;
        let k = other.manifest.shard_index;
        if let Some(earlier) = seen.get(&k) {
            return Err(MergeError::Duplicate {
                shard: other.manifest.shard(),
                first: earlier.clone(),
                second: other.dir,
            });
        }
        seen.insert(k, other.dir.clone());
        results.extend(other.results);
    }
    let missing: Vec<u32> = (1..=count).filter(|k| !seen.contains_key(k)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count });
    }
    results.sort_by_key(|r| (r.point, r.seed_index));
    let m = first.manifest;
    let plan = SweepPlan::restore(
        Path::new(&m.scenario_file),
        first.source,
        m.overrides,
        params_of(&m.params),
        m.seeds,
        m.base_seed,
        m.scenario_name,
    );
    Ok(Merged {
        plan,
        results,
        shards: count,
    })
}

fn params_of(params: &[super::shard::ShardParam]) -> Vec<Param> {
    params
        .iter()
        .map(|p| Param {
            key: p.key.clone(),
            values: p.values.clone(),
        })
        .collect()
}

/// The identity of the sweep a shard belongs to, field by field.
fn identity(m: &ShardManifest) -> [(&'static str, String); 8] {
    [
        ("scenario file", m.scenario_file.clone()),
        ("scenario text (SHA-256)", m.scenario_sha256.clone()),
        ("scenario name", m.scenario_name.clone()),
        ("base seed", m.base_seed.to_string()),
        ("--set overrides", format!("{:?}", m.overrides)),
        (
            "--param grid",
            format!(
                "{:?}",
                m.params
                    .iter()
                    .map(|p| format!("{}={}", p.key, p.values.join(",")))
                    .collect::<Vec<_>>()
            ),
        ),
        ("--seeds", m.seeds.to_string()),
        ("shard count", m.shard_count.to_string()),
    ]
}

fn same_sweep(first: &ShardDir, other: &ShardDir) -> Result<(), MergeError> {
    for ((field, expected), (_, found)) in identity(&first.manifest)
        .into_iter()
        .zip(identity(&other.manifest))
    {
        if expected != found {
            return Err(MergeError::Mismatch(Box::new(Mismatch {
                dir: other.dir.clone(),
                shard: other.manifest.shard(),
                first: first.dir.clone(),
                first_shard: first.manifest.shard(),
                field,
                found,
                expected,
            })));
        }
    }
    Ok(())
}

/// Reads one partial directory and checks it against itself: the manifest
/// against this version and rules, the scenario text against its digest,
/// the runs against the partition and the seed rule.
fn read_shard_dir(dir: &Path) -> Result<ShardDir, MergeError> {
    let manifest_path = dir.join(SHARD_MANIFEST);
    if !dir.is_dir() {
        return Err(MergeError::NotAShard {
            dir: dir.to_path_buf(),
            message: if dir.exists() {
                "not a directory".into()
            } else {
                "no such directory".into()
            },
        });
    }
    let bytes = fs::read(&manifest_path).map_err(|e| MergeError::NotAShard {
        dir: dir.to_path_buf(),
        message: format!("cannot read {SHARD_MANIFEST}: {e}; `sim sweep … --shard K/N` writes one"),
    })?;
    let manifest: ShardManifest = serde_json::from_slice(&bytes)
        .map_err(|e| malformed(manifest_path.clone(), e.to_string()))?;
    let shard = manifest.shard();
    if manifest.forklab_version != env!("CARGO_PKG_VERSION") {
        return Err(MergeError::Version {
            dir: dir.to_path_buf(),
            shard,
            found: manifest.forklab_version,
        });
    }
    let bad = |message: String| malformed(manifest_path.clone(), message);
    if shard.count == 0 || shard.index == 0 || shard.index > shard.count {
        return Err(bad(format!(
            "shard_index {} of shard_count {}: expected 1 ≤ K ≤ N",
            shard.index, shard.count
        )));
    }
    if manifest.partition != PARTITION_RULE {
        return Err(bad(
            "written under another partition rule than this forklab's".into(),
        ));
    }
    if manifest.seed_rule != SEED_RULE {
        return Err(bad(
            "written under another seed rule than this forklab's".into()
        ));
    }
    if manifest.seeds == 0 {
        return Err(bad("seeds is 0".into()));
    }
    let params = params_of(&manifest.params);
    for (i, p) in params.iter().enumerate() {
        if params[..i].iter().any(|q| q.key == p.key) {
            return Err(bad(format!("parameter {} is listed twice", p.key)));
        }
    }
    let grid = expand_grid(&params);
    let labels: Vec<&str> = grid.iter().map(|g| g.label.as_str()).collect();
    if labels != manifest.grid_points {
        return Err(bad("grid_points do not match params".into()));
    }
    let total = grid.len() * manifest.seeds as usize;
    if manifest.total_runs != total {
        return Err(bad(format!(
            "total_runs is {}, but {} grid points × {} seeds is {total}",
            manifest.total_runs,
            grid.len(),
            manifest.seeds
        )));
    }
    let expected_runs = shard.runs(total);
    if manifest.runs != expected_runs {
        return Err(bad(format!(
            "runs are not the runs of shard {shard} ({PARTITION_RULE})"
        )));
    }

    let scenario_path = dir.join(SHARD_SCENARIO);
    let source = fs::read_to_string(&scenario_path)
        .map_err(|e| malformed(scenario_path.clone(), e.to_string()))?;
    if scenario_sha256(&source) != manifest.scenario_sha256 {
        return Err(malformed(
            scenario_path,
            format!("its SHA-256 is not the manifest's scenario_sha256 (changed after shard {shard} ran)"),
        ));
    }

    let runs_path = dir.join(SHARD_RUNS_CSV);
    let mut reader = csv::Reader::from_path(&runs_path)
        .map_err(|e| malformed(runs_path.clone(), e.to_string()))?;
    let mut results = Vec::with_capacity(expected_runs.len());
    for (j, row) in reader.deserialize::<ShardRow>().enumerate() {
        // Line 1 is the header.
        let line = j + 2;
        let at = |message: String| malformed(runs_path.clone(), format!("line {line}: {message}"));
        let row = row.map_err(|e| at(e.to_string()))?;
        let Some(&want) = expected_runs.get(j) else {
            return Err(at(format!(
                "more rows than the {} runs of shard {shard}",
                expected_runs.len()
            )));
        };
        if row.run != want {
            return Err(at(format!(
                "run {} where shard {shard} holds run {want} next",
                row.run
            )));
        }
        let point = want / manifest.seeds as usize;
        let seed_index = (want % manifest.seeds as usize) as u32;
        if (row.point, row.seed_index) != (point, seed_index) {
            return Err(at(format!(
                "run {want} is grid point {point}, seed index {seed_index}, not point {}, seed index {}",
                row.point, row.seed_index
            )));
        }
        let seed = run_seed(manifest.base_seed, &grid[point].label, seed_index);
        if row.seed != seed {
            return Err(at(format!(
                "run {want} has seed {}, but the seed rule gives {seed}",
                row.seed
            )));
        }
        results.push(row.into_result().map_err(at)?);
    }
    if results.len() != expected_runs.len() {
        return Err(malformed(
            runs_path,
            format!(
                "{} rows, but shard {shard} holds {} runs (cut short?)",
                results.len(),
                expected_runs.len()
            ),
        ));
    }
    let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
    if (ok, results.len() - ok) != (manifest.runs_ok, manifest.runs_failed) {
        return Err(bad(format!(
            "runs_ok {} and runs_failed {} do not match {SHARD_RUNS_CSV} ({ok} ok, {} failed)",
            manifest.runs_ok,
            manifest.runs_failed,
            results.len() - ok
        )));
    }
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        manifest,
        source,
        results,
    })
}
