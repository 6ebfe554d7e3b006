//! One serde struct per CSV file of a run's output directory: the home of
//! every run CSV row type (blocks, propagation, reorgs, balances, tips,
//! nodes, summary, spv, payments, rejections, attacks, miner_share) and its
//! file name. `metrics`, `world::output` and the chart code use these; the
//! old paths (`metrics::SpvRow`, `world::output::RejectionRow`, …) are
//! re-exports. A sweep's CSVs have one column per swept key, so they are
//! written as string records (`sweep::output`) and read back by the views
//! in `report::sweep_charts`.
//!
//! The simulator writes these files with the `csv` crate from these very
//! structs and [`plot_run`](crate::report::plot_run) reads them back, so the
//! column order of every file is the field order of its struct (the header
//! row holds the field names). Reading matches columns by header name and
//! ignores unknown extra columns, so adding a column at the end is backwards
//! compatible.
//!
//! Conventions: times are simulated seconds (`time_s`) or milliseconds
//! (`*_ms`) as `f64`; node ids are `u32`; a `miner` of `-1` marks a block
//! nobody mined (genesis); amounts are satoshis; hashes are the usual
//! reversed-hex strings.

use serde::{Deserialize, Serialize};

/// File name of a run's manifest (resolved scenario, seed, digest).
pub const MANIFEST_JSON: &str = "manifest.json";
/// File name of the block list ([`BlockRow`]).
pub const BLOCKS_CSV: &str = "blocks.csv";
/// File name of the per-block propagation percentiles ([`PropagationRow`]).
pub const PROPAGATION_CSV: &str = "propagation.csv";
/// File name of the reorg events ([`ReorgRow`]).
pub const REORGS_CSV: &str = "reorgs.csv";
/// File name of the sampled wallet balances ([`BalanceRow`]).
pub const BALANCES_CSV: &str = "balances.csv";
/// File name of the per-node tip changes ([`TipRow`]); optional.
pub const TIPS_CSV: &str = "tips.csv";
/// File name of the per-node summary ([`NodeRow`]).
pub const NODES_CSV: &str = "nodes.csv";
/// File name of the run summary ([`SummaryRow`]).
pub const SUMMARY_CSV: &str = "summary.csv";
/// File name of the light-client proof checks ([`SpvRow`]).
pub const SPV_CSV: &str = "spv.csv";
/// File name of the workload payments ([`PaymentRow`]).
pub const PAYMENTS_CSV: &str = "payments.csv";
/// File name of the rejections by reason ([`RejectionRow`]).
pub const REJECTIONS_CSV: &str = "rejections.csv";
/// File name of the double-spend attempts ([`AttackRow`]).
pub const ATTACKS_CSV: &str = "attacks.csv";
/// File name of the per-miner main-chain shares ([`MinerShareRow`]).
pub const MINER_SHARE_CSV: &str = "miner_share.csv";

/// File name of the traffic by message kind ([`BandwidthRow`]).
pub const BANDWIDTH_CSV: &str = "bandwidth.csv";

/// The `miner` value of a block no node mined (genesis).
pub const NO_MINER: i64 = -1;

/// Decimal places of the computed floats in the CSV files (milliseconds,
/// hashrates, shares): 6, so a millisecond keeps nanosecond precision and a
/// share of `1/3` reads `0.333333`, not `0.3333333333333333` or float noise
/// like `333.33329999999995`. Times in seconds (`time_s`) are exact
/// nanoseconds and written as they are.
pub const CSV_DECIMALS: i32 = 6;

/// Serde helpers that round a float to [`CSV_DECIMALS`] places when
/// writing (reading is unchanged).
pub mod rounded {
    use serde::Serializer;

    /// `x` rounded to [`super::CSV_DECIMALS`] decimal places (non-finite
    /// values unchanged).
    pub fn round(x: f64) -> f64 {
        let scale = 10f64.powi(super::CSV_DECIMALS);
        if x.is_finite() && (x * scale).abs() < 9.0e15 {
            (x * scale).round() / scale
        } else {
            x
        }
    }

    /// For `#[serde(serialize_with = "rounded::f64")]`.
    pub fn f64<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round(*x))
    }

    /// For `#[serde(serialize_with = "rounded::opt")]` on an `Option<f64>`.
    pub fn opt<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(v) => s.serialize_some(&round(*v)),
            None => s.serialize_none(),
        }
    }
}

/// One block known to any node during the run (`blocks.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockRow {
    /// Block hash (reversed hex).
    pub hash: String,
    /// Hash of the parent block; for genesis the all-zero hash (or empty).
    pub parent: String,
    /// Height (genesis is 0).
    pub height: u32,
    /// Node id of the miner, or [`NO_MINER`] for genesis.
    pub miner: i64,
    /// Simulated time the block was found, seconds.
    pub time_s: f64,
    /// Number of transactions including the coinbase.
    pub txs: u32,
    /// Serialized size in bytes.
    pub size_bytes: u64,
    /// 1 if the block is on the final main chain, 0 if it went stale.
    pub main_chain: u8,
}

impl BlockRow {
    /// Whether the block is on the final main chain.
    pub fn is_main(&self) -> bool {
        self.main_chain != 0
    }
}

/// How fast one block reached the nodes (`propagation.csv`).
///
/// `pK_ms` is the time from the block being found until `K`% of `nodes` had
/// it; empty (or `NaN`) when that share was never reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropagationRow {
    /// Block hash.
    pub hash: String,
    /// Block height.
    pub height: u32,
    /// Miner node id, or [`NO_MINER`].
    pub miner: i64,
    /// Nodes that should receive the block (online honest full nodes).
    pub nodes: u32,
    /// Nodes that did receive it by the end of the run.
    pub reached: u32,
    /// Time until 10% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p10_ms: Option<f64>,
    /// Time until 20% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p20_ms: Option<f64>,
    /// Time until 30% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p30_ms: Option<f64>,
    /// Time until 40% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p40_ms: Option<f64>,
    /// Time until 50% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p50_ms: Option<f64>,
    /// Time until 60% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p60_ms: Option<f64>,
    /// Time until 70% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p70_ms: Option<f64>,
    /// Time until 80% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p80_ms: Option<f64>,
    /// Time until 90% of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p90_ms: Option<f64>,
    /// Time until all of `nodes` had the block, ms.
    #[serde(serialize_with = "rounded::opt")]
    pub p100_ms: Option<f64>,
}

impl PropagationRow {
    /// The ten percentiles in order (10%, 20%, …, 100%); `NaN` reads as
    /// `None` (never reached).
    pub fn percentiles(&self) -> [Option<f64>; 10] {
        [
            self.p10_ms,
            self.p20_ms,
            self.p30_ms,
            self.p40_ms,
            self.p50_ms,
            self.p60_ms,
            self.p70_ms,
            self.p80_ms,
            self.p90_ms,
            self.p100_ms,
        ]
        .map(|p| p.filter(|v| !v.is_nan()))
    }
}

/// One reorg at one node (`reorgs.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReorgRow {
    /// The node that switched chains.
    pub node: u32,
    /// Simulated time of the switch, seconds.
    pub time_s: f64,
    /// Blocks disconnected from the old tip.
    pub depth: u32,
    /// Tip before the switch.
    pub old_tip: String,
    /// Tip after the switch.
    pub new_tip: String,
    /// Height of the old tip.
    pub old_height: u32,
    /// Height of the new tip.
    pub new_height: u32,
}

/// A wallet's confirmed balance at a sampling instant (`balances.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalanceRow {
    /// Simulated time of the sample, seconds.
    pub time_s: f64,
    /// Wallet id.
    pub wallet: u32,
    /// The wallet's (first) address.
    pub address: String,
    /// Confirmed balance on the reference chain, satoshis.
    pub confirmed_sats: u64,
}

/// A node's tip changed (`tips.csv`, optional).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TipRow {
    /// Node id.
    pub node: u32,
    /// Simulated time of the change, seconds.
    pub time_s: f64,
    /// The new tip's hash.
    pub tip: String,
    /// The new tip's height.
    pub height: u32,
}

/// Per-node totals at the end of the run (`nodes.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    /// Node id.
    pub node: u32,
    /// Role, e.g. `honest` or an adversary kind.
    pub role: String,
    /// Region name (latency model), empty if none.
    pub region: String,
    /// Hash rate, hashes per second.
    #[serde(serialize_with = "rounded::f64")]
    pub hashrate_hps: f64,
    /// Number of peers.
    pub peers: u32,
    /// Blocks this node mined.
    pub blocks_mined: u32,
    /// Of those, blocks on the final main chain.
    pub blocks_main: u32,
    /// Reorgs this node went through.
    pub reorgs: u32,
    /// Depth of its deepest reorg.
    pub deepest_reorg: u32,
    /// Height of its final tip.
    pub final_height: u32,
    /// Its final tip.
    pub final_tip: String,
}

/// One named value of the run summary (`summary.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Metric name.
    pub metric: String,
    /// Its value, formatted.
    pub value: String,
}

/// One light-client verification (`spv.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpvRow {
    /// Light node id.
    pub node: u32,
    /// Simulated time, seconds.
    pub time_s: f64,
    /// The payment's txid.
    pub txid: String,
    /// The block the proof is for.
    pub block: String,
    /// Whether the proof verified against the light client's header chain.
    pub valid: u8,
    /// Confirmations reported (0 when invalid).
    pub confirmations: u32,
    /// Why it was rejected (empty when valid).
    pub error: String,
}

/// One payment issued by the workload (`payments.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentRow {
    /// Simulated time it was issued, seconds.
    pub time_s: f64,
    /// Paying wallet.
    pub from_wallet: u32,
    /// Receiving wallet.
    pub to_wallet: u32,
    /// Transaction id.
    pub txid: String,
    /// Amount paid, satoshis.
    pub amount_sats: u64,
    /// 1 if the transaction is in a block of the final main chain.
    pub confirmed: u8,
    /// The final-main-chain block holding the transaction (empty if none).
    pub block: String,
    /// That block's height (empty if none).
    pub height: Option<u32>,
    /// Fee paid, satoshis: inputs minus outputs (empty if the transaction
    /// is in no block of the run, main or stale, so its inputs are unknown).
    pub fee_sats: Option<u64>,
}

/// One double-spend attempt (`attacks.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackRow {
    /// Index of the adversary in the scenario's `adversaries`.
    pub adversary: u32,
    /// Attempt number of that adversary, from 0.
    pub attempt: u32,
    /// When the payment was broadcast, seconds.
    pub start_s: f64,
    /// When the attempt ended (empty if the run ended first), seconds.
    pub end_s: Option<f64>,
    /// Confirmations z the merchant waited for.
    pub confirmations: u32,
    /// 1 if released and the payment is not on the final main chain.
    pub success: u8,
    /// `released`, `gave_up` or `unfinished`.
    pub outcome: String,
    /// Private blocks since the fork point when the attempt ended.
    pub private_len: u32,
    /// Public blocks since the fork point when the attempt ended.
    pub public_len: u32,
}

/// One miner at one main-chain height (`miner_share.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerShareRow {
    /// Time the main-chain block at `height` was found, seconds.
    pub time_s: f64,
    /// The main-chain height sampled.
    pub height: u32,
    /// The miner's node id (`-1`: every miner not listed on its own).
    pub miner: i64,
    /// The miner's blocks on the final main chain up to `height`.
    pub blocks_main: u32,
    /// `blocks_main / height`.
    #[serde(serialize_with = "rounded::f64")]
    pub share_main: f64,
    /// The miner's share of the total hashrate at `time_s`.
    #[serde(serialize_with = "rounded::f64")]
    pub hashrate_share: f64,
}

/// One rejection reason and its count (`rejections.csv`).
#[derive(Serialize, serde::Deserialize, Debug, Clone)]
pub struct RejectionRow {
    /// `block` (blocks and headers) or `tx` (mempool).
    pub kind: String,
    /// The typed reason.
    pub reason: String,
    /// How many times.
    pub count: u64,
}

/// Messages and bytes sent of one message kind (`bandwidth.csv`).
#[derive(Serialize, serde::Deserialize, Debug, Clone)]
pub struct BandwidthRow {
    /// The kind (`inv_block`, `cmpctblock`, `blocktxn`, …; see
    /// [`crate::node::msg::KIND_NAMES`]).
    pub kind: String,
    /// Messages put on the wire.
    pub messages: u64,
    /// Their bytes on the wire (24-byte framing included).
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_percentile_reads_as_not_reached() {
        let row = PropagationRow {
            hash: "aa".into(),
            height: 1,
            miner: 0,
            nodes: 10,
            reached: 5,
            p10_ms: Some(1.0),
            p20_ms: Some(f64::NAN),
            p30_ms: None,
            p40_ms: None,
            p50_ms: None,
            p60_ms: None,
            p70_ms: None,
            p80_ms: None,
            p90_ms: None,
            p100_ms: None,
        };
        let p = row.percentiles();
        assert_eq!(p[0], Some(1.0));
        assert_eq!(p[1], None);
    }
}
