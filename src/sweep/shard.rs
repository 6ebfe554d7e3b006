//! One machine's share of a sweep: the partition of runs into shards and
//! the partial directory a shard writes (`sim sweep … --shard K/N`).
//!
//! # The partition — a stable contract
//!
//! Runs are numbered `i = point × seeds + seed_index` (`0 ≤ i < points ×
//! seeds`, the row order of `sweep.csv`). Shard `K/N` (`1 ≤ K ≤ N`) holds
//! every run with `i mod N = K − 1` ([`PARTITION_RULE`]): round robin, so
//! each shard gets `⌊runs / N⌋` or one more runs, and the runs of an
//! expensive grid point are spread over all shards rather than piled on
//! one. A run's seed does not depend on its shard (see the seed rule in
//! [`super`]), so sharding never changes a result.
//!
//! # The partial directory
//!
//! - [`SHARD_MANIFEST`]: the shard (`shard_index`, `shard_count`), the
//!   partition rule, everything that identifies the sweep (scenario file,
//!   name and the SHA-256 of its text, base seed, overrides, parameters,
//!   seeds, grid labels, the seed rule, the forklab version), the total
//!   number of runs, the numbers of the runs held and how many failed;
//! - [`SHARD_RUNS_CSV`]: one row per run held, in run order: `run`,
//!   `point`, `seed_index`, `seed`, `status`, `error`, what the sweep
//!   derives per run, then every field of the run's
//!   [`Summary`] under its own name. Floating-point values are written in
//!   the shortest form that reads back to the same bits (`NaN` and `inf`
//!   included), so a merge computes exactly what the single machine
//!   computed; empty cells are values a run did not have;
//! - [`SHARD_SCENARIO`]: the scenario text the shard ran, so a merge needs
//!   nothing but the partial directories.
//!
//! [`super::merge`] reads these back. The directory is written as a whole
//! (temporary directory, then rename), like every forklab output.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{RunMetrics, RunResult, SweepError, SweepPlan, SEED_RULE};
use crate::world::output::Summary;

pub use crate::report::sweep_charts::SHARD_MANIFEST;
/// The partial directory's per-run results.
pub const SHARD_RUNS_CSV: &str = "shard_runs.csv";
/// The scenario text the shard ran.
pub const SHARD_SCENARIO: &str = "scenario.yaml";

/// The partition in words (for manifests, help texts and the README).
pub const PARTITION_RULE: &str = "run i = point × seeds + seed_index (0-based, the row order of sweep.csv) belongs to shard K/N when i mod N = K - 1";

/// Shard `index` of `count` (both 1-based: `1 ≤ index ≤ count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// `K`, from 1.
    pub index: u32,
    /// `N`, the number of shards.
    pub count: u32,
}

impl Shard {
    /// Whether run number `run` belongs to this shard.
    pub fn holds(&self, run: usize) -> bool {
        run % self.count as usize == (self.index - 1) as usize
    }

    /// The run numbers this shard holds among `total` runs, ascending.
    pub fn runs(&self, total: usize) -> Vec<usize> {
        ((self.index - 1) as usize..total)
            .step_by(self.count as usize)
            .collect()
    }

    /// Checks the shard against a sweep of `total` runs: more shards than
    /// runs would leave some empty, which is refused.
    pub fn check_fits(&self, total: usize) -> Result<(), SweepError> {
        if self.count as usize > total {
            return Err(SweepError::Shard {
                arg: self.to_string(),
                message: format!(
                    "the sweep has only {total} run(s) (grid points × seeds); use at most {total} shards"
                ),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = SweepError;

    /// Parses `K/N` with `1 ≤ K ≤ N`.
    fn from_str(arg: &str) -> Result<Shard, SweepError> {
        let err = |message: &str| SweepError::Shard {
            arg: arg.to_string(),
            message: message.to_string(),
        };
        let (k, n) = arg
            .split_once('/')
            .ok_or_else(|| err("expected K/N, e.g. --shard 2/8 (shard 2 of 8)"))?;
        let parse = |s: &str| s.trim().parse::<u32>().ok();
        let (Some(index), Some(count)) = (parse(k), parse(n)) else {
            return Err(err(
                "expected K/N with whole numbers, e.g. --shard 2/8 (shard 2 of 8)",
            ));
        };
        if count == 0 {
            return Err(err("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(err(&format!(
                "K counts from 1 to N: 1/{count} to {count}/{count}"
            )));
        }
        Ok(Shard { index, count })
    }
}

/// A swept parameter in [`ShardManifest`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShardParam {
    /// The key path.
    pub key: String,
    /// The values as typed.
    pub values: Vec<String>,
}

/// `shard_manifest.json` (see the module docs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShardManifest {
    /// The forklab version that ran the shard.
    pub forklab_version: String,
    /// `K`.
    pub shard_index: u32,
    /// `N`.
    pub shard_count: u32,
    /// [`PARTITION_RULE`].
    pub partition: String,
    /// The scenario file as given on the command line.
    pub scenario_file: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// SHA-256 of the scenario text, hex.
    pub scenario_sha256: String,
    /// The scenario's seed after the overrides.
    pub base_seed: u64,
    /// The `--set` overrides, in order.
    pub overrides: Vec<String>,
    /// The swept parameters.
    pub params: Vec<ShardParam>,
    /// Runs per grid point.
    pub seeds: u32,
    /// The labels of every grid point of the full grid.
    pub grid_points: Vec<String>,
    /// [`SEED_RULE`].
    pub seed_rule: String,
    /// Runs of the whole sweep (grid points × seeds).
    pub total_runs: usize,
    /// The numbers of the runs this shard holds, ascending.
    pub runs: Vec<usize>,
    /// Of those, the runs that succeeded.
    pub runs_ok: usize,
    /// Of those, the runs that failed.
    pub runs_failed: usize,
}

/// SHA-256 of a scenario text, lowercase hex.
pub fn scenario_sha256(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

impl ShardManifest {
    /// The manifest of `shard` of `plan` holding `results`.
    pub fn new(plan: &SweepPlan, shard: Shard, results: &[RunResult]) -> ShardManifest {
        let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
        let seeds = plan.seeds as usize;
        ShardManifest {
            forklab_version: env!("CARGO_PKG_VERSION").to_string(),
            shard_index: shard.index,
            shard_count: shard.count,
            partition: PARTITION_RULE.to_string(),
            scenario_file: plan.file.display().to_string(),
            scenario_name: plan.name.clone(),
            scenario_sha256: scenario_sha256(plan.source()),
            base_seed: plan.base_seed,
            overrides: plan.overrides.clone(),
            params: plan
                .params
                .iter()
                .map(|p| ShardParam {
                    key: p.key.clone(),
                    values: p.values.clone(),
                })
                .collect(),
            seeds: plan.seeds,
            grid_points: plan.points.iter().map(|g| g.label.clone()).collect(),
            seed_rule: SEED_RULE.to_string(),
            total_runs: plan.total_runs(),
            runs: results
                .iter()
                .map(|r| r.point * seeds + r.seed_index as usize)
                .collect(),
            runs_ok: ok,
            runs_failed: results.len() - ok,
        }
    }

    /// The shard this manifest names.
    pub fn shard(&self) -> Shard {
        Shard {
            index: self.shard_index,
            count: self.shard_count,
        }
    }
}

/// One row of `shard_runs.csv`: a [`RunResult`] with every value it
/// carries (see the module docs). The `Summary` fields are `Option` so a
/// failed run leaves them empty; those that are `Option` in [`Summary`]
/// stay so and are empty when the run had no such value.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ShardRow {
    /// Run number.
    pub run: usize,
    /// Grid point.
    pub point: usize,
    /// Index among the point's seeds.
    pub seed_index: u32,
    /// The run's master seed.
    pub seed: u64,
    /// `ok` or `failed`.
    pub status: String,
    /// The error of a failed run (empty when ok).
    pub error: String,
    /// [`RunMetrics::expected_interval_s`].
    pub expected_interval_s: Option<f64>,
    /// [`RunMetrics::attacker_share`].
    pub attacker_share: Option<f64>,
    /// [`RunMetrics::double_spend`]: confirmations.
    pub double_spend_confirmations: Option<u32>,
    /// [`RunMetrics::double_spend`]: give up when this far behind.
    pub double_spend_give_up_behind: Option<u32>,
    /// [`RunMetrics::double_spend`]: premined blocks.
    pub double_spend_premine: Option<u32>,
    /// [`Summary::blocks_mined`].
    pub blocks_mined: Option<u32>,
    /// [`Summary::main_chain_height`].
    pub main_chain_height: Option<u32>,
    /// [`Summary::stale_blocks`].
    pub stale_blocks: Option<u32>,
    /// [`Summary::stale_rate`].
    pub stale_rate: Option<f64>,
    /// [`Summary::reorgs`].
    pub reorgs: Option<u32>,
    /// [`Summary::deepest_reorg`].
    pub deepest_reorg: Option<u32>,
    /// [`Summary::propagation_p50_ms`].
    pub propagation_p50_ms: Option<f64>,
    /// [`Summary::propagation_p90_ms`].
    pub propagation_p90_ms: Option<f64>,
    /// [`Summary::mean_block_interval_s`].
    pub mean_block_interval_s: Option<f64>,
    /// [`Summary::txs_confirmed`].
    pub txs_confirmed: Option<u64>,
    /// [`Summary::payments_issued`].
    pub payments_issued: Option<u64>,
    /// [`Summary::events`].
    pub events: Option<u64>,
    /// [`Summary::converged`].
    pub converged: Option<bool>,
    /// [`Summary::utxo_total_sats`].
    pub utxo_total_sats: Option<u64>,
    /// [`Summary::issued_sats`].
    pub issued_sats: Option<u64>,
    /// [`Summary::sim_time_s`].
    pub sim_time_s: Option<f64>,
    /// [`Summary::attacker_relative_revenue`].
    pub attacker_relative_revenue: Option<f64>,
    /// [`Summary::double_spend_attempts`].
    pub double_spend_attempts: Option<u64>,
    /// [`Summary::double_spend_successes`].
    pub double_spend_successes: Option<u64>,
    /// [`Summary::gamma_effective`].
    pub gamma_effective: Option<f64>,
    /// [`Summary::invalid_items_sent`].
    pub invalid_items_sent: Option<u64>,
    /// [`Summary::disconnections`].
    pub disconnections: Option<u64>,
    /// [`Summary::compact`]: compact blocks rebuilt with no round trip.
    pub compact_reconstructed: Option<u64>,
    /// [`Summary::compact`]: rebuilt after `getblocktxn`.
    pub compact_getblocktxn: Option<u64>,
    /// [`Summary::compact`]: transactions those fetched.
    pub compact_getblocktxn_txs: Option<u64>,
    /// [`Summary::compact`]: round trips that fetched missed padding.
    pub compact_padding_missed: Option<u64>,
    /// [`Summary::compact`]: fallbacks to the whole block.
    pub compact_fell_back: Option<u64>,
}

impl ShardRow {
    /// The row of run number `run`.
    pub fn of(run: usize, r: &RunResult) -> ShardRow {
        let mut row = ShardRow {
            run,
            point: r.point,
            seed_index: r.seed_index,
            seed: r.seed,
            status: "failed".into(),
            ..ShardRow::default()
        };
        match &r.outcome {
            Err(e) => row.error = e.clone(),
            Ok(m) => {
                // Exhaustive on purpose: a field added to `Summary` must be
                // carried here, or a merge would lose it.
                let Summary {
                    blocks_mined,
                    main_chain_height,
                    stale_blocks,
                    stale_rate,
                    reorgs,
                    deepest_reorg,
                    propagation_p50_ms,
                    propagation_p90_ms,
                    mean_block_interval_s,
                    txs_confirmed,
                    payments_issued,
                    events,
                    converged,
                    utxo_total_sats,
                    issued_sats,
                    sim_time_s,
                    attacker_relative_revenue,
                    double_spend_attempts,
                    double_spend_successes,
                    gamma_effective,
                    invalid_items_sent,
                    disconnections,
                    compact,
                } = m.summary.clone();
                row.status = "ok".into();
                row.expected_interval_s = Some(m.expected_interval_s);
                row.attacker_share = m.attacker_share;
                row.double_spend_confirmations = m.double_spend.map(|d| d.0);
                row.double_spend_give_up_behind = m.double_spend.map(|d| d.1);
                row.double_spend_premine = m.double_spend.map(|d| d.2);
                row.blocks_mined = Some(blocks_mined);
                row.main_chain_height = Some(main_chain_height);
                row.stale_blocks = Some(stale_blocks);
                row.stale_rate = Some(stale_rate);
                row.reorgs = Some(reorgs);
                row.deepest_reorg = Some(deepest_reorg);
                row.propagation_p50_ms = Some(propagation_p50_ms);
                row.propagation_p90_ms = Some(propagation_p90_ms);
                row.mean_block_interval_s = Some(mean_block_interval_s);
                row.txs_confirmed = Some(txs_confirmed);
                row.payments_issued = Some(payments_issued);
                row.events = Some(events);
                row.converged = Some(converged);
                row.utxo_total_sats = Some(utxo_total_sats);
                row.issued_sats = Some(issued_sats);
                row.sim_time_s = Some(sim_time_s);
                row.attacker_relative_revenue = attacker_relative_revenue;
                row.double_spend_attempts = double_spend_attempts;
                row.double_spend_successes = double_spend_successes;
                row.gamma_effective = gamma_effective;
                row.invalid_items_sent = invalid_items_sent;
                row.disconnections = disconnections;
                row.compact_reconstructed = compact.map(|c| c.reconstructed);
                row.compact_getblocktxn = compact.map(|c| c.fetched);
                row.compact_getblocktxn_txs = compact.map(|c| c.fetched_txs);
                row.compact_padding_missed = compact.map(|c| c.padding_missed);
                row.compact_fell_back = compact.map(|c| c.fell_back);
            }
        }
        row
    }

    /// The run result back, or what is missing or malformed (one line).
    pub fn into_result(self) -> Result<RunResult, String> {
        let outcome = match self.status.as_str() {
            "failed" => Err(self.error),
            "ok" => {
                fn need<T>(v: Option<T>, name: &str) -> Result<T, String> {
                    v.ok_or_else(|| format!("column {name} is empty in a run with status ok"))
                }
                let double_spend = match (
                    self.double_spend_confirmations,
                    self.double_spend_give_up_behind,
                    self.double_spend_premine,
                ) {
                    (Some(a), Some(b), Some(c)) => Some((a, b, c)),
                    (None, None, None) => None,
                    _ => {
                        return Err(
                            "the double_spend_* columns must be all filled or all empty".into()
                        )
                    }
                };
                Ok(RunMetrics {
                    summary: Summary {
                        blocks_mined: need(self.blocks_mined, "blocks_mined")?,
                        main_chain_height: need(self.main_chain_height, "main_chain_height")?,
                        stale_blocks: need(self.stale_blocks, "stale_blocks")?,
                        stale_rate: need(self.stale_rate, "stale_rate")?,
                        reorgs: need(self.reorgs, "reorgs")?,
                        deepest_reorg: need(self.deepest_reorg, "deepest_reorg")?,
                        propagation_p50_ms: need(self.propagation_p50_ms, "propagation_p50_ms")?,
                        propagation_p90_ms: need(self.propagation_p90_ms, "propagation_p90_ms")?,
                        mean_block_interval_s: need(
                            self.mean_block_interval_s,
                            "mean_block_interval_s",
                        )?,
                        txs_confirmed: need(self.txs_confirmed, "txs_confirmed")?,
                        payments_issued: need(self.payments_issued, "payments_issued")?,
                        events: need(self.events, "events")?,
                        converged: need(self.converged, "converged")?,
                        utxo_total_sats: need(self.utxo_total_sats, "utxo_total_sats")?,
                        issued_sats: need(self.issued_sats, "issued_sats")?,
                        sim_time_s: need(self.sim_time_s, "sim_time_s")?,
                        attacker_relative_revenue: self.attacker_relative_revenue,
                        double_spend_attempts: self.double_spend_attempts,
                        double_spend_successes: self.double_spend_successes,
                        gamma_effective: self.gamma_effective,
                        invalid_items_sent: self.invalid_items_sent,
                        disconnections: self.disconnections,
                        compact: match (
                            self.compact_reconstructed,
                            self.compact_getblocktxn,
                            self.compact_getblocktxn_txs,
                            self.compact_padding_missed,
                            self.compact_fell_back,
                        ) {
                            (Some(a), Some(b), Some(c), Some(d), Some(e)) => {
                                Some(crate::metrics::CompactCounts {
                                    reconstructed: a,
                                    fetched: b,
                                    fetched_txs: c,
                                    padding_missed: d,
                                    fell_back: e,
                                })
                            }
                            (None, None, None, None, None) => None,
                            _ => {
                                return Err(
                                    "the compact_* columns must be all filled or all empty".into()
                                )
                            }
                        },
                    },
                    expected_interval_s: need(self.expected_interval_s, "expected_interval_s")?,
                    attacker_share: self.attacker_share,
                    double_spend,
                })
            }
            other => return Err(format!("status {other:?}: expected ok or failed")),
        };
        Ok(RunResult {
            point: self.point,
            seed_index: self.seed_index,
            seed: self.seed,
            outcome,
        })
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `shard`'s partial directory into `out_dir` (replacing an earlier
/// forklab output there) and returns every file written, sorted.
/// `results` are the shard's runs sorted by `(point, seed_index)`, as
/// [`SweepPlan::run_some`] returns them.
pub fn write_shard(
    out_dir: &Path,
    plan: &SweepPlan,
    shard: Shard,
    results: &[RunResult],
) -> Result<Vec<PathBuf>, SweepError> {
    crate::report::atomic::write_dir_atomically(
        out_dir,
        |p, e| io_err(p)(e),
        |tmp| {
            let path = tmp.join(SHARD_RUNS_CSV);
            let csv_err = |e: csv::Error| SweepError::Csv {
                path: path.clone(),
                message: e.to_string(),
            };
            let mut w = csv::Writer::from_path(&path).map_err(csv_err)?;
            let seeds = plan.seeds as usize;
            for r in results {
                let run = r.point * seeds + r.seed_index as usize;
                w.serialize(ShardRow::of(run, r)).map_err(csv_err)?;
            }
            w.flush().map_err(io_err(&path))?;
            let path = tmp.join(SHARD_SCENARIO);
            fs::write(&path, plan.source()).map_err(io_err(&path))?;
            let manifest = ShardManifest::new(plan, shard, results);
            let json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
            let path = tmp.join(SHARD_MANIFEST);
            fs::write(&path, json + "\n").map_err(io_err(&path))?;
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shards() {
        let s: Shard = "2/8".parse().unwrap();
        assert_eq!((s.index, s.count), (2, 8));
        assert_eq!(s.to_string(), "2/8");
        assert_eq!("1/1".parse::<Shard>().unwrap().count, 1);
        for bad in [
            "", "2", "0/4", "5/4", "1/0", "a/4", "1/b", "-1/4", "1/4/2", "2/8x",
        ] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn shards_partition_the_runs_round_robin() {
        for total in [1usize, 6, 7, 100] {
            for n in 1..=total.min(9) as u32 {
                let mut seen = vec![0u32; total];
                for k in 1..=n {
                    let shard = Shard { index: k, count: n };
                    let runs = shard.runs(total);
                    // Balanced: floor(total / n) or one more.
                    assert!(
                        runs.len() == total / n as usize || runs.len() == total / n as usize + 1
                    );
                    for &i in &runs {
                        assert!(shard.holds(i));
                        assert_eq!(i % n as usize, (k - 1) as usize);
                        seen[i] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "total {total}, {n} shards");
            }
        }
        // The documented example: 6 runs over 4 shards.
        let held: Vec<Vec<usize>> = (1..=4)
            .map(|k| Shard { index: k, count: 4 }.runs(6))
            .collect();
        assert_eq!(held, [vec![0, 4], vec![1, 5], vec![2], vec![3]]);
        assert!(Shard { index: 1, count: 7 }.check_fits(6).is_err());
        assert!(Shard { index: 1, count: 6 }.check_fits(6).is_ok());
    }

    fn round_trip(r: &RunResult) -> RunResult {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(ShardRow::of(7, r)).unwrap();
        let bytes = w.into_inner().unwrap();
        let mut rd = csv::Reader::from_reader(bytes.as_slice());
        let row: ShardRow = rd.deserialize().next().unwrap().unwrap();
        assert_eq!(row.run, 7);
        row.into_result().unwrap()
    }

    #[test]
    fn rows_carry_every_bit_of_a_result() {
        let tricky = [
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            -0.0,
            1.0 / 3.0,
            1.0e300 / 7.0,
        ];
        for &x in &tricky {
            let summary = Summary {
                blocks_mined: 9,
                stale_rate: x,
                propagation_p50_ms: x,
                propagation_p90_ms: 1.0 / 7.0,
                mean_block_interval_s: x,
                sim_time_s: x,
                converged: true,
                attacker_relative_revenue: Some(x),
                gamma_effective: Some(2.0 / 3.0),
                double_spend_attempts: Some(4),
                disconnections: None,
                compact: Some(crate::metrics::CompactCounts {
                    reconstructed: 5,
                    fetched: 2,
                    fetched_txs: 7,
                    padding_missed: 1,
                    fell_back: 1,
                }),
                ..Summary::default()
            };
            let r = RunResult {
                point: 3,
                seed_index: 1,
                seed: u64::MAX,
                outcome: Ok(RunMetrics {
                    summary,
                    expected_interval_s: x,
                    attacker_share: Some(0.3),
                    double_spend: Some((6, 3, 1)),
                }),
            };
            let back = round_trip(&r);
            assert_eq!((back.point, back.seed_index, back.seed), (3, 1, u64::MAX));
            let (a, b) = (r.outcome.unwrap(), back.outcome.unwrap());
            // Bits, not values: NaN and -0.0 must survive as they were.
            let bits = |m: &RunMetrics| {
                let s = &m.summary;
                [
                    s.stale_rate,
                    s.propagation_p50_ms,
                    s.propagation_p90_ms,
                    s.mean_block_interval_s,
                    s.sim_time_s,
                    s.attacker_relative_revenue.unwrap(),
                    s.gamma_effective.unwrap(),
                    m.expected_interval_s,
                    m.attacker_share.unwrap(),
                ]
                .map(f64::to_bits)
            };
            assert_eq!(bits(&a), bits(&b), "{x}");
            assert_eq!(format!("{:?}", a.summary), format!("{:?}", b.summary));
            assert_eq!(a.double_spend, b.double_spend);
        }
        let failed = RunResult {
            point: 0,
            seed_index: 0,
            seed: 1,
            outcome: Err("nodes.count: 0, \"quoted\", out of range".into()),
        };
        assert_eq!(
            round_trip(&failed).outcome.unwrap_err(),
            "nodes.count: 0, \"quoted\", out of range"
        );
    }

    #[test]
    fn an_ok_row_with_a_hole_is_refused() {
        let mut row = ShardRow::of(
            0,
            &RunResult {
                point: 0,
                seed_index: 0,
                seed: 1,
                outcome: Ok(RunMetrics {
                    summary: Summary::default(),
                    expected_interval_s: 1.0,
                    attacker_share: None,
                    double_spend: None,
                }),
            },
        );
        row.events = None;
        assert!(row.clone().into_result().unwrap_err().contains("events"));
        row.status = "maybe".into();
        assert!(row.into_result().is_err());
    }
}
