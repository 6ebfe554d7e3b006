//! Writes a run's output directory as a whole: every file goes into a
//! temporary sibling directory which is renamed into place at the end, so an
//! interrupted run never leaves a half-written `output/<name>/`.
//!
//! Files (documented column by column in the README): `manifest.json`,
//! `blocks.csv`, `propagation.csv`, `reorgs.csv`, `balances.csv`, `tips.csv`
//! (when enabled), `nodes.csv`, `spv.csv`, `payments.csv`,
//! `rejections.csv`, `attacks.csv`, `miner_share.csv`, `summary.csv`,
//! `chain.sqlite` (unless turned off; [`crate::store`]) and `charts/` (with
//! `miner_share` from [`crate::report::attack_charts`] besides
//! [`crate::report::plot_run`]'s). `manifest.json` is written last and
//! lists the SHA-256 of every other file.

pub use crate::report::rows::RejectionRow;
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::report::rows::SummaryRow;
use crate::world::RunOutput;

/// Everything about a run that goes into `manifest.json`.
#[derive(Serialize, Debug, Clone)]
pub struct Manifest {
    /// forklab version that produced the run.
    pub forklab_version: String,
    /// Scenario name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// The resolved scenario (every default filled in, overrides applied).
    pub scenario: serde_json::Value,
    /// The `--set` overrides given on the command line.
    pub overrides: Vec<String>,
    /// Events processed.
    pub events: u64,
    /// Digest of the event stream.
    pub event_digest: String,
    /// Digest checkpoints, one per `checkpoint_every` events.
    pub digest_checkpoints: Vec<String>,
    /// Events per checkpoint.
    pub checkpoint_every: u64,
    /// How proof of work was handled.
    pub pow: PowNote,
    /// How payments were relayed.
    pub tx_relay: RelayNote,
    /// How blocks were relayed, and which part of it was modelled.
    pub block_relay: BlockRelayNote,
    /// Shared block/signature cache counters (how much validation was
    /// memoised across nodes).
    pub cache: crate::ledger::chainstate::CacheStats,
    /// Final tip of the main chain.
    pub final_tip: String,
    /// Height of the final main chain.
    pub main_chain_height: u32,
    /// SHA-256 (hex) of every other file of the output directory, by its
    /// path relative to the directory (`/`-separated); filled in by
    /// [`write_run`].
    pub files: std::collections::BTreeMap<String, String>,
    /// SHA-256 (hex) of this manifest as canonical JSON (sorted keys, no
    /// spaces) with this field empty ([`manifest_sha256`]); filled in by
    /// [`write_run`]. `sim replay` tells an edited manifest by it.
    pub manifest_sha256: String,
    /// A live session's record (`sim serve FILE`; absent for a batch run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveNote>,
}

/// What a manifest records of a live session (`sim serve FILE`), beyond
/// its `inputs.jsonl`.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LiveNote {
    /// Addresses of the students' wallets (`--students`), endowed in the
    /// genesis block after the wallets and attackers. Their keys are not
    /// recorded anywhere.
    pub students: Vec<String>,
    /// Lines of `inputs.jsonl` (inputs, and the stop when the session was
    /// stopped before the scenario's stop condition).
    pub inputs: u64,
    /// Whether the session was stopped (Ctrl-C, `POST /lab/stop`) before
    /// the scenario's stop condition.
    pub stopped: bool,
}

/// The SHA-256 (hex) a manifest records of itself: over its canonical JSON
/// (`serde_json::Value` printed compactly, keys sorted) with
/// `manifest_sha256` set to the empty string.
pub fn manifest_sha256(manifest: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut v = manifest.clone();
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "manifest_sha256".into(),
            serde_json::Value::String(String::new()),
        );
    }
    let text = serde_json::to_string(&v).expect("a JSON value prints");
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// SHA-256 (hex) of every file under `dir` except its `manifest.json`, by
/// `/`-separated relative path.
pub fn file_digests(dir: &Path) -> io::Result<std::collections::BTreeMap<String, String>> {
    use sha2::{Digest, Sha256};
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut std::collections::BTreeMap<String, String>,
    ) -> io::Result<()> {
        for e in fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                walk(root, &p, out)?;
                continue;
            }
            let rel = p
                .strip_prefix(root)
                .expect("walked from root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if rel != crate::report::rows::MANIFEST_JSON {
                out.insert(rel, hex::encode(Sha256::digest(fs::read(&p)?)));
            }
        }
        Ok(())
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// Whether nonces were really ground.
#[derive(Serialize, Debug, Clone)]
pub struct PowNote {
    /// True if every block's nonce was searched and receivers checked hash ≤ target.
    pub ground: bool,
    /// Plain-words explanation.
    pub note: String,
}

/// How payments travelled between nodes (`workload.relay`).
#[derive(Serialize, Debug, Clone)]
pub struct RelayNote {
    /// `messages` (simulated hop by hop) or `flood` (modelled).
    pub mode: String,
    /// Plain-words explanation.
    pub note: String,
}

impl RelayNote {
    /// The note for a relay mode.
    pub fn of(relay: crate::scenario::TxRelay) -> RelayNote {
        use crate::scenario::TxRelay;
        match relay {
            TxRelay::Messages => RelayNote {
                mode: "messages".into(),
                note: "every node relayed payments by inv, getdata and tx messages and kept its own mempool".into(),
            },
            TxRelay::Flood => RelayNote {
                mode: "flood".into(),
                note: "payment relay was modelled: each payment was validated once at its home node; its arrival at every node is the shortest path over the peer graph (per hop: announce interval, mean latencies of inv, getdata and tx, transmission, processing; no jitter, no queueing); a miner's mempool was rebuilt with the real mempool rules from the payments that had reached it; blocks were relayed and validated as usual".into(),
            },
        }
    }
}

/// How blocks travelled between nodes (`network.relay`), and which part of
/// it was modelled rather than computed: the manifest's `block_relay`, the
/// same record the run's database stores and the explorer shows.
pub type BlockRelayNote = crate::store::view::BlockRelayView;

impl BlockRelayNote {
    /// The note for a scenario's block relay and block padding.
    pub fn of(
        relay: &crate::scenario::schema::BlockRelay,
        block_fill_bytes: u64,
    ) -> BlockRelayNote {
        if !relay.compact || relay.usage_share <= 0.0 {
            return BlockRelayNote {
                mode: "whole_blocks".into(),
                modelled: Vec::new(),
                note: "every block travelled whole (inv, getdata, block) on every hop".into(),
            };
        }
        if block_fill_bytes == 0 {
            return BlockRelayNote {
                mode: "compact".into(),
                modelled: Vec::new(),
                note: "compact blocks (BIP152) between the nodes that speak it, rebuilt from each receiver's own mempool with real short IDs, getblocktxn and fallbacks; whole blocks to and from the others".into(),
            };
        }
        BlockRelayNote {
            mode: "compact".into(),
            modelled: vec!["compact_block_padding".into()],
            note: "compact blocks (BIP152) as simulated messages, except the padding (consensus.block_fill_bytes), whose reconstruction was modelled as in SimBlock: it took network.relay.padding.compact_bytes of a cmpctblock, a receiver missed part of it with probability failure_churn or failure_control and fetched a share drawn from SimBlock's tables in the blocktxn".into(),
        }
    }
}

/// Error writing the output directory.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing a CSV failed.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Drawing charts failed.
    #[error("charts: {0}")]
    Charts(String),
    /// Building the run's database failed.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// What a run's output directory holds besides the CSVs and the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputOptions {
    /// Draw `charts/`.
    pub charts: bool,
    /// Write `chain.sqlite`.
    pub db: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            charts: true,
            db: true,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_csv<T: Serialize + for<'de> serde::Deserialize<'de>>(
    dir: &Path,
    name: &str,
    rows: &[T],
) -> Result<(), OutputError> {
    let path = dir.join(name);
    let csv_err = |e: csv::Error| OutputError::Csv {
        path: path.clone(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_path(&path).map_err(csv_err)?;
    if rows.is_empty() {
        // Still write the header so the file documents its columns.
        write_header_only::<T>(&mut w, &path)?;
    }
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    w.flush().map_err(io_err(&path))?;
    Ok(())
}

/// Writes just the header row of `T`.
fn write_header_only<T: for<'de> serde::Deserialize<'de>>(
    w: &mut csv::Writer<fs::File>,
    path: &Path,
) -> Result<(), OutputError> {
    w.write_record(field_names::<T>())
        .map_err(|e| OutputError::Csv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Summary statistics of a run (the `summary.csv` rows and the CLI summary).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Blocks mined (excluding genesis).
    pub blocks_mined: u32,
    /// Height of the final main chain.
    pub main_chain_height: u32,
    /// Mined blocks not on the final main chain.
    pub stale_blocks: u32,
    /// `stale_blocks / blocks_mined`.
    pub stale_rate: f64,
    /// Reorg events over all nodes.
    pub reorgs: u32,
    /// Deepest reorg.
    pub deepest_reorg: u32,
    /// Median over blocks of the time to reach 50% of full nodes, ms.
    pub propagation_p50_ms: f64,
    /// Median over blocks of the time to reach 90% of full nodes, ms.
    pub propagation_p90_ms: f64,
    /// Mean interval between main-chain blocks, seconds.
    pub mean_block_interval_s: f64,
    /// Non-coinbase transactions on the final main chain.
    pub txs_confirmed: u64,
    /// Payments issued by the workload.
    pub payments_issued: u64,
    /// Events processed.
    pub events: u64,
    /// Whether all online full nodes ended on one tip.
    pub converged: bool,
    /// Sum of UTXO values on the main chain.
    pub utxo_total_sats: u64,
    /// Genesis endowment plus subsidies on the main chain.
    pub issued_sats: u64,
    /// Simulated seconds.
    pub sim_time_s: f64,
    /// Selfish and majority attackers' blocks on the final main chain over
    /// all main-chain blocks found since the earliest such attacker switched
    /// on (`None` without such an attacker).
    pub attacker_relative_revenue: Option<f64>,
    /// Double-spend attempts started (`None` without a double spender).
    pub double_spend_attempts: Option<u64>,
    /// Attempts released whose payment is not on the final main chain.
    pub double_spend_successes: Option<u64>,
    /// Share of honest hashrate in the explicit γ set (`None` without one).
    pub gamma_effective: Option<f64>,
    /// Invalid items sent by invalid-data attackers (`None` without one).
    pub invalid_items_sent: Option<u64>,
    /// Peer links honest nodes dropped for misbehaviour (`None` without
    /// adversaries).
    pub disconnections: Option<u64>,
    /// Compact-block outcomes (`None` with `network.relay.compact: false`).
    pub compact: Option<crate::metrics::CompactCounts>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Summary {
    /// Computes the summary of a finished run.
    pub fn of(out: &RunOutput, sim_time_s: f64, txs_confirmed: u64) -> Summary {
        let blocks = out.metrics.block_rows();
        let mined = blocks.len().saturating_sub(1) as u32;
        let main_mined = blocks[1..].iter().filter(|b| b.main_chain == 1).count() as u32;
        let stale = mined - main_mined;
        let prop = out.metrics.propagation_rows();
        let mut main_times: Vec<f64> = blocks
            .iter()
            .filter(|b| b.main_chain == 1)
            .map(|b| b.time_s)
            .collect();
        main_times.sort_by(|a, b| a.total_cmp(b));
        let interval = if main_times.len() >= 2 {
            (main_times[main_times.len() - 1] - main_times[0]) / (main_times.len() - 1) as f64
        } else {
            f64::NAN
        };
        let reorgs = out.metrics.reorg_rows();
        let attackers = out.metrics.attackers();
        let miners: Vec<(i64, f64)> = attackers
            .iter()
            .filter(|a| a.kind == "selfish" || a.kind == "majority")
            .map(|a| (a.node as i64, a.start_s))
            .collect();
        let attacker_relative_revenue = miners
            .iter()
            .map(|m| m.1)
            .min_by(|a, b| a.total_cmp(b))
            .map(|start| {
                let window: Vec<_> = blocks[1..]
                    .iter()
                    .filter(|b| b.main_chain == 1 && b.time_s >= start)
                    .collect();
                let theirs = window
                    .iter()
                    .filter(|b| miners.iter().any(|m| m.0 == b.miner))
                    .count();
                if window.is_empty() {
                    f64::NAN
                } else {
                    theirs as f64 / window.len() as f64
                }
            });
        let ds = attackers
            .iter()
            .any(|a| a.kind == "double_spend" || (a.kind == "eclipse" && a.endowment_sats > 0));
        let attacks = out.metrics.attack_rows();
        Summary {
            attacker_relative_revenue,
            double_spend_attempts: ds.then_some(attacks.len() as u64),
            double_spend_successes: ds
                .then(|| attacks.iter().filter(|r| r.success == 1).count() as u64),
            gamma_effective: attackers.iter().find_map(|a| a.gamma_effective),
            invalid_items_sent: attackers
                .iter()
                .any(|a| a.kind == "invalid_data")
                .then(|| out.metrics.invalid_items_sent()),
            disconnections: (!attackers.is_empty()).then(|| out.metrics.disconnections()),
            compact: out.compact_relay.then(|| out.metrics.compact_counts()),
            blocks_mined: mined,
            main_chain_height: out.main_chain.len().saturating_sub(1) as u32,
            stale_blocks: stale,
            stale_rate: if mined == 0 {
                0.0
            } else {
                stale as f64 / mined as f64
            },
            reorgs: reorgs.len() as u32,
            deepest_reorg: reorgs.iter().map(|r| r.depth).max().unwrap_or(0),
            propagation_p50_ms: median(prop.iter().filter_map(|p| p.p50_ms).collect()),
            propagation_p90_ms: median(prop.iter().filter_map(|p| p.p90_ms).collect()),
            mean_block_interval_s: interval,
            txs_confirmed,
            payments_issued: out.metrics.payment_rows().len() as u64,
            events: out.digest.count(),
            converged: out.converged,
            utxo_total_sats: out.main_chain_utxo_total.to_sat(),
            issued_sats: out.main_chain_issued.to_sat(),
            sim_time_s,
        }
    }

    /// As `summary.csv` rows (stable order).
    pub fn rows(&self) -> Vec<SummaryRow> {
        let f = |x: f64| {
            if x.is_nan() {
                String::new()
            } else {
                format!("{x:.6}")
            }
        };
        let rows: Vec<(&str, String)> = vec![
            ("blocks_mined", self.blocks_mined.to_string()),
            ("main_chain_height", self.main_chain_height.to_string()),
            ("stale_blocks", self.stale_blocks.to_string()),
            ("stale_rate", f(self.stale_rate)),
            ("reorgs", self.reorgs.to_string()),
            ("deepest_reorg", self.deepest_reorg.to_string()),
            ("propagation_p50_ms", f(self.propagation_p50_ms)),
            ("propagation_p90_ms", f(self.propagation_p90_ms)),
            ("mean_block_interval_s", f(self.mean_block_interval_s)),
            ("txs_confirmed", self.txs_confirmed.to_string()),
            ("payments_issued", self.payments_issued.to_string()),
            ("events", self.events.to_string()),
            ("converged", (self.converged as u8).to_string()),
            ("utxo_total_sats", self.utxo_total_sats.to_string()),
            ("issued_sats", self.issued_sats.to_string()),
            ("sim_time_s", f(self.sim_time_s)),
        ];
        let mut rows = rows;
        if let Some(x) = self.attacker_relative_revenue {
            rows.push(("attacker_relative_revenue", f(x)));
        }
        if let Some(n) = self.double_spend_attempts {
            rows.push(("double_spend_attempts", n.to_string()));
        }
        if let Some(n) = self.double_spend_successes {
            rows.push(("double_spend_successes", n.to_string()));
        }
        if let Some(x) = self.gamma_effective {
            rows.push(("gamma_effective", f(x)));
        }
        if let Some(n) = self.invalid_items_sent {
            rows.push(("invalid_items_sent", n.to_string()));
        }
        if let Some(n) = self.disconnections {
            rows.push(("disconnections", n.to_string()));
        }
        if let Some(c) = self.compact {
            rows.push(("compact_reconstructed", c.reconstructed.to_string()));
            rows.push(("compact_getblocktxn", c.fetched.to_string()));
            rows.push(("compact_getblocktxn_txs", c.fetched_txs.to_string()));
            rows.push(("compact_padding_missed", c.padding_missed.to_string()));
            rows.push(("compact_fell_back", c.fell_back.to_string()));
        }
        rows.into_iter()
            .map(|(k, v)| SummaryRow {
                metric: k.to_string(),
                value: v,
            })
            .collect()
    }
}

/// Writes the whole output directory atomically to `out_dir`.
pub fn write_run(
    out_dir: &Path,
    manifest: &Manifest,
    out: &RunOutput,
    summary: &Summary,
    options: OutputOptions,
) -> Result<Vec<PathBuf>, OutputError> {
    write_run_with(out_dir, manifest, out, summary, options, &[])
}

/// [`write_run`] plus `extra` files (name, content) written as they are
/// and listed in the manifest's `files` like the others: a live session's
/// `inputs.jsonl`.
pub fn write_run_with(
    out_dir: &Path,
    manifest: &Manifest,
    out: &RunOutput,
    summary: &Summary,
    options: OutputOptions,
    extra: &[(&str, &[u8])],
) -> Result<Vec<PathBuf>, OutputError> {
    crate::report::atomic::write_dir_atomically(
        out_dir,
        |p, e| io_err(p)(e),
        |tmp| {
            for (name, bytes) in extra {
                let path = tmp.join(name);
                fs::write(&path, bytes).map_err(io_err(&path))?;
            }
            write_files(tmp, manifest, out, summary, options)
        },
    )
}

fn write_files(
    dir: &Path,
    manifest: &Manifest,
    out: &RunOutput,
    summary: &Summary,
    options: OutputOptions,
) -> Result<(), OutputError> {
    use crate::report::rows::*;
    let m = &out.metrics;
    // Written first (the charts read the attackers from it), then again at
    // the end with the digest of every other file.
    let path = dir.join(MANIFEST_JSON);
    let json = serde_json::to_string_pretty(manifest).expect("manifest serializes");
    fs::write(&path, json + "\n").map_err(io_err(&path))?;
    write_csv(dir, BLOCKS_CSV, &m.block_rows())?;
    write_csv(dir, PROPAGATION_CSV, &m.propagation_rows())?;
    write_csv(dir, REORGS_CSV, m.reorg_rows())?;
    write_csv(dir, BALANCES_CSV, m.balance_rows())?;
    if m.records_tips() {
        write_csv(dir, TIPS_CSV, m.tip_rows())?;
    }
    write_csv(dir, NODES_CSV, m.node_rows())?;
    write_csv(dir, SPV_CSV, m.spv_rows())?;
    write_csv(dir, PAYMENTS_CSV, m.payment_rows())?;
    let mut rejections: Vec<RejectionRow> = m
        .rejections()
        .iter()
        .map(|(k, v)| RejectionRow {
            kind: "block".into(),
            reason: k.clone(),
            count: *v,
        })
        .collect();
    rejections.extend(m.tx_rejections().iter().map(|(k, v)| RejectionRow {
        kind: "tx".into(),
        reason: k.clone(),
        count: *v,
    }));
    write_csv(dir, REJECTIONS_CSV, &rejections)?;
    write_csv(dir, ATTACKS_CSV, m.attack_rows())?;
    write_csv(dir, MINER_SHARE_CSV, m.miner_share_rows())?;
    write_csv(dir, SUMMARY_CSV, &summary.rows())?;
    write_csv(dir, BANDWIDTH_CSV, &m.bandwidth_rows())?;
    if options.db {
        let info = crate::store::RunInfo {
            forklab_version: manifest.forklab_version.clone(),
            name: manifest.name.clone(),
            seed: manifest.seed,
            scenario_json: manifest.scenario.to_string(),
            pow_ground: manifest.pow.ground,
            block_relay: manifest.block_relay.clone(),
        };
        let digest = out.digest.hex();
        let result = crate::store::RunResult {
            metrics: &out.metrics,
            events: out.digest.count(),
            event_digest: &digest,
            final_tip: out.final_tip,
            main_chain: &out.main_chain,
        };
        crate::store::write(&dir.join(crate::store::CHAIN_SQLITE), &info, &result)?;
    }
    if options.charts {
        // Drawn from the files just written, exactly as `sim plot` would.
        crate::report::plot_run(dir).map_err(|e| OutputError::Charts(e.to_string()))?;
    }
    // The final manifest records the digest of every other file, then of
    // itself.
    let mut manifest = manifest.clone();
    manifest.files = file_digests(dir).map_err(io_err(dir))?;
    manifest.manifest_sha256 = String::new();
    let value = serde_json::to_value(&manifest).expect("manifest serializes");
    manifest.manifest_sha256 = manifest_sha256(&value);
    let path = dir.join(MANIFEST_JSON);
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    fs::write(&path, json + "\n").map_err(io_err(&path))?;
    Ok(())
}

/// Txids of every non-coinbase transaction on the main chain.
pub fn confirmed_txids(
    blocks: &[std::rc::Rc<crate::ledger::Block>],
) -> HashSet<crate::ledger::Txid> {
    blocks
        .iter()
        .flat_map(|b| b.txdata.iter().skip(1).map(|t| t.compute_txid()))
        .collect()
}

/// The field names of a struct, asked of its `Deserialize` impl (serde
/// passes them to `deserialize_struct`), so an empty table still gets its
/// header row.
fn field_names<T: for<'de> serde::Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Deserializer, Visitor};

    struct Catcher<'a>(&'a mut &'static [&'static str]);

    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field names captured")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }

    impl<'de> Deserializer<'de> for Catcher<'_> {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Catcher(&mut names));
    names
}
