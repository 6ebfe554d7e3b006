//! The scenario file format: serde structs, one per YAML section, each with
//! `#[serde(deny_unknown_fields)]` and a documented default for every field
//! that has a sensible one, so a ten-line file runs.
//!
//! These types only describe *shape*; ranges and cross-field rules (shares sum
//! to one, node ids exist, …) are checked in [`super::validate`]. The field
//! list of every struct is mirrored in `known.rs`, which produces the
//! "did you mean" suggestions; a unit test keeps the two in step.
//!
//! Everything is also `Serialize`: the resolved scenario (defaults filled in)
//! is written to each run's manifest.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::adversary::invalid::InvalidKind;
use crate::net::link::{LatencyModel, DEFAULT_PARETO_SHAPE};
use crate::sim::time::SimDuration;

/// A whole scenario: what network to build, how to run it and when to stop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Scenario name, `[A-Za-z0-9_-]+`; also the output directory name.
    pub name: String,
    /// Master seed of every random stream of the run (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// When the run stops (at least one condition is required).
    #[serde(default)]
    pub stop: Stop,
    /// Consensus rules: difficulty, retargeting, subsidy, block size.
    #[serde(default)]
    pub consensus: Consensus,
    /// Whether nonces are really ground.
    #[serde(default)]
    pub pow: Pow,
    /// Topology, latency, bandwidth, regions and per-message costs.
    #[serde(default)]
    pub network: Network,
    /// The nodes: a count with a hashrate distribution, or an explicit list.
    #[serde(default)]
    pub nodes: Nodes,
    /// Simulated wallets and their payments.
    #[serde(default)]
    pub workload: Workload,
    /// Mempool limits of every node.
    #[serde(default)]
    pub mempool: Mempool,
    /// Scheduled events (partitions, outages, hashrate changes), sorted by
    /// `at` once validated.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    /// What the run records.
    #[serde(default)]
    pub metrics: Metrics,
    /// Attackers: alternative behaviours of some full nodes (default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adversaries: Vec<Adversary>,
}

/// Stop conditions; the run stops at whichever comes first, then keeps
/// delivering messages (without mining) for `settle`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    /// Stop once any node's best chain reaches this height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Stop at this simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<SimDuration>,
    /// Stop after this many processed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// After the stop condition, keep delivering messages (no new mining) for
    /// this long so the network converges (default `30s`).
    #[serde(default = "default_settle")]
    pub settle: SimDuration,
}

/// Consensus rules shared by every node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consensus {
    /// Initial difficulty as leading zero bits, 1..=255: the target is
    /// `2^(256-bits) - 1` (rounded down to compact precision). Exclusive with
    /// `target_interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty_bits: Option<u32>,
    /// Derive the initial target from the total hashrate so that the expected
    /// block interval is this. Exclusive with `difficulty_bits`; when neither
    /// is given, `10m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_interval: Option<SimDuration>,
    /// Blocks per difficulty adjustment; `0` turns retargeting off
    /// (default 2016).
    #[serde(default = "default_retarget_window")]
    pub retarget_window: u32,
    /// Subsidy of the first block in satoshis (default 50 BTC).
    #[serde(default = "default_subsidy_sats")]
    pub subsidy_sats: u64,
    /// Blocks between subsidy halvings; `0` never halves (default 210,000).
    #[serde(default = "default_halving_interval")]
    pub halving_interval: u32,
    /// Maximum serialized block size in bytes (default 1,000,000).
    #[serde(default = "default_max_block_bytes")]
    pub max_block_bytes: u64,
    /// Confirmations before a coinbase output may be spent (default 100).
    #[serde(default = "default_coinbase_maturity")]
    pub coinbase_maturity: u32,
    /// Pad every block with valid OP_RETURN data up to this many bytes, to
    /// model SimBlock's fixed-size (535 kB) blocks; `0` = no padding
    /// (default). At most `max_block_bytes`.
    #[serde(default)]
    pub block_fill_bytes: u64,
}

/// Proof-of-work settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pow {
    /// Grind real nonces: `auto` (default) grinds when a block takes at most
    /// 2^24 expected hashes; `true` is refused above 2^28 (it would take
    /// forever); `false` samples block times only.
    #[serde(default)]
    pub grind: Switch,
}

/// A three-way setting: `auto`, `true` or `false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Switch {
    /// Decided by a documented rule (default).
    #[default]
    Auto,
    /// Always on.
    On,
    /// Always off.
    Off,
}

impl Switch {
    /// Resolves `auto` to `auto_value`.
    pub fn resolve(self, auto_value: bool) -> bool {
        match self {
            Switch::Auto => auto_value,
            Switch::On => true,
            Switch::Off => false,
        }
    }
}

impl Serialize for Switch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Switch::Auto => s.serialize_str("auto"),
            Switch::On => s.serialize_bool(true),
            Switch::Off => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SwitchVisitor;
        impl Visitor<'_> for SwitchVisitor {
            type Value = Switch;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`auto`, `true` or `false`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Switch, E> {
                Ok(if v { Switch::On } else { Switch::Off })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Switch, E> {
                match v {
                    "auto" => Ok(Switch::Auto),
                    "true" => Ok(Switch::On),
                    "false" => Ok(Switch::Off),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(SwitchVisitor)
    }
}

/// The network: who connects to whom and how fast messages travel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The peer graph (default `full_mesh`).
    #[serde(default)]
    pub topology: Topology,
    /// One-way link latency (default constant 100 ms).
    #[serde(default)]
    pub latency: Latency,
    /// Bandwidth of nodes without a region (default 20 up / 50 down Mbit/s).
    #[serde(default)]
    pub bandwidth: Bandwidth,
    /// Optional regions; when present nodes are placed by share and take the
    /// region's bandwidth and latency row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Region>,
    /// Processing delay per received message (default `1ms`); with
    /// `control_processing` set, per received payload message (`block`,
    /// `cmpctblock`, `blocktxn`, `tx`).
    #[serde(default = "default_processing")]
    pub processing: SimDuration,
    /// Processing delay per received control message (`inv`, `getdata`,
    /// `getblocktxn`, `headers`, `sendcmpct`, `merkleblock`, …: every message
    /// that does not occupy the sender's uplink); default: `processing`.
    /// SimBlock adds 10 ms to these and 2 ms to payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_processing: Option<SimDuration>,
    /// Per-node validation cost model.
    #[serde(default)]
    pub validation: ValidationCost,
    /// Transactions are announced to all peers in batches at this interval
    /// (default `2s`; `0s` announces each at once) unless
    /// `trickle.enabled`; under `workload.relay: flood`, the announcement
    /// delay one hop of the modelled flood costs.
    #[serde(default = "default_tx_announce_interval")]
    pub tx_announce_interval: SimDuration,
    /// Bitcoin Core's transaction trickling (per-peer Poisson timers) under
    /// `workload.relay: messages`, when `trickle.enabled` (README,
    /// "Transaction relay").
    #[serde(default)]
    pub trickle: Trickle,
    /// How blocks travel between full nodes: BIP152 compact blocks (the
    /// default, Bitcoin's behaviour since Core 0.13) or whole blocks.
    /// (`workload.relay` is how *transactions* travel.)
    #[serde(default)]
    pub relay: BlockRelay,
    /// How a node's uplink sends payloads (default `streaming`).
    #[serde(default)]
    pub uplink: UplinkMode,
}

/// Transaction trickling (`network.trickle`), with Bitcoin Core's defaults
/// (`net_processing.cpp`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trickle {
    /// Trickle announcements per peer as Bitcoin Core does (default
    /// `false` for now: batches to all peers every
    /// `network.tx_announce_interval`).
    #[serde(default)]
    pub enabled: bool,
    /// Mean interval of the one Poisson timer a node's inbound peers share
    /// (default `5s`, Core's `INBOUND_INVENTORY_BROADCAST_INTERVAL`); `0s`
    /// announces at once.
    #[serde(default = "default_inbound_interval")]
    pub inbound_interval: SimDuration,
    /// Mean interval of each outbound peer's own Poisson timer (default
    /// `2s`, Core's `OUTBOUND_INVENTORY_BROADCAST_INTERVAL`); `0s`
    /// announces at once.
    #[serde(default = "default_outbound_interval")]
    pub outbound_interval: SimDuration,
    /// Announcements per second a node aims for (default 7, Core's
    /// `INVENTORY_BROADCAST_PER_SECOND`): one `inv` carries this times
    /// `inbound_interval` txids, plus 5 per 1,000 still queued.
    #[serde(default = "default_broadcast_per_s")]
    pub broadcast_per_s: u32,
    /// Most txids in one `inv` (default 1000, Core's
    /// `INVENTORY_BROADCAST_MAX`).
    #[serde(default = "default_broadcast_max")]
    pub broadcast_max: u32,
}

impl Default for Trickle {
    fn default() -> Self {
        Trickle {
            enabled: false,
            inbound_interval: default_inbound_interval(),
            outbound_interval: default_outbound_interval(),
            broadcast_per_s: default_broadcast_per_s(),
            broadcast_max: default_broadcast_max(),
        }
    }
}

fn default_inbound_interval() -> SimDuration {
    SimDuration::from_secs(5)
}
fn default_outbound_interval() -> SimDuration {
    SimDuration::from_secs(2)
}
fn default_broadcast_per_s() -> u32 {
    7
}
fn default_broadcast_max() -> u32 {
    1000
}

/// How a node's uplink sends messages that carry payloads (blocks,
/// compact blocks, `blocktxn`, transactions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UplinkMode {
    /// One after the other, each as soon as the previous is transmitted.
    #[default]
    Streaming,
    /// SimBlock's sender (`Node.sendNextBlockMessage`): the next payload
    /// starts only when the previous one has arrived (transmission plus
    /// latency), as if each waited for its receipt.
    StopAndWait,
}

/// Block relay (`network.relay`): BIP152 compact blocks or whole blocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockRelay {
    /// Relay compact blocks (`sendcmpct`, `cmpctblock`, `getblocktxn`,
    /// `blocktxn`) between nodes that both speak BIP152 (default `true`);
    /// `false`: every hop is `inv` → `getdata` → `block`.
    #[serde(default = "default_true")]
    pub compact: bool,
    /// High-bandwidth peers a node asks to push `cmpctblock` unannounced,
    /// chosen as Bitcoin Core does: the last peers that delivered a new
    /// block first (default 3, Core's limit; `0`: low-bandwidth mode only,
    /// as SimBlock models it).
    #[serde(default = "default_hb_peers")]
    pub high_bandwidth_peers: u32,
    /// Share of full nodes that speak BIP152, in [0, 1] (default 0.964,
    /// SimBlock's `CBR_USAGE_RATE` for Bitcoin in 2019).
    #[serde(default = "default_cbr_usage")]
    pub usage_share: f64,
    /// SimBlock's model for the padding of `consensus.block_fill_bytes`
    /// (modelled, see the README): padding stands for transactions the
    /// network already holds.
    #[serde(default)]
    pub padding: PaddingModel,
}

impl Default for BlockRelay {
    fn default() -> Self {
        BlockRelay {
            compact: true,
            high_bandwidth_peers: default_hb_peers(),
            usage_share: default_cbr_usage(),
            padding: PaddingModel::default(),
        }
    }
}

/// How compact relay treats block padding, after SimBlock
/// (`SimulationConfiguration.java`, `Node.java`): the padding's short IDs
/// take `compact_bytes` in a `cmpctblock` (scaled by the padding's share of
/// `block_fill_bytes`); a receiver misses part of it with its class's
/// failure probability and then fetches a share of it with `getblocktxn` /
/// `blocktxn`, drawn from SimBlock's measured distribution for the class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaddingModel {
    /// `cmpctblock` bytes that a block padded to `block_fill_bytes` takes
    /// (default 18,000, SimBlock's `COMPACT_BLOCK_SIZE`).
    #[serde(default = "default_compact_bytes")]
    pub compact_bytes: u64,
    /// Share of BIP152 nodes in the "churn" class, in [0, 1] (default
    /// 0.976, SimBlock's `CHURN_NODE_RATE`); the rest are "control" nodes.
    #[serde(default = "default_churn_share")]
    pub churn_share: f64,
    /// Probability that a control node misses padding (default 0.13,
    /// SimBlock's `CBR_FAILURE_RATE_FOR_CONTROL_NODE`).
    #[serde(default = "default_failure_control")]
    pub failure_control: f64,
    /// Probability that a churn node misses padding (default 0.27,
    /// SimBlock's `CBR_FAILURE_RATE_FOR_CHURN_NODE`).
    #[serde(default = "default_failure_churn")]
    pub failure_churn: f64,
}

impl Default for PaddingModel {
    fn default() -> Self {
        PaddingModel {
            compact_bytes: default_compact_bytes(),
            churn_share: default_churn_share(),
            failure_control: default_failure_control(),
            failure_churn: default_failure_churn(),
        }
    }
}

/// How nodes are connected (`kind: …`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Topology {
    /// Every node connects to every other (at most 2,000 nodes).
    #[default]
    FullMesh,
    /// Node `i` connects to `i+1 mod n`.
    Ring,
    /// A random graph where every node has exactly `k` peers (`k < n`,
    /// `n·k` even).
    RandomRegular {
        /// Peers per node.
        k: u32,
    },
    /// Each pair is connected with probability `p`.
    ErdosRenyi {
        /// Edge probability, in [0, 1].
        p: f64,
    },
    /// Watts–Strogatz: a ring lattice with `k` neighbours per node (even,
    /// `< n`), each edge rewired with probability `beta`.
    SmallWorld {
        /// Lattice neighbours per node (even).
        k: u32,
        /// Rewiring probability, in [0, 1].
        beta: f64,
    },
    /// Bitcoin-like: each node opens `outbound` connections to random peers
    /// that accept at most `max_inbound` inbound connections.
    BitcoinOutbound {
        /// Outbound connections per node (default 8).
        #[serde(default = "default_outbound")]
        outbound: u32,
        /// Inbound connection limit per node (default 125).
        #[serde(default = "default_max_inbound")]
        max_inbound: u32,
        /// How many outbound connections each node opens (default `fixed`).
        #[serde(default)]
        distribution: OutboundDistribution,
    },
    /// An explicit undirected edge list of node ids.
    Edges {
        /// Edges as `[a, b]` pairs.
        list: Vec<[u32; 2]>,
    },
}

/// How many outbound connections a `bitcoin_outbound` node opens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundDistribution {
    /// Exactly `outbound` each.
    #[default]
    Fixed,
    /// Drawn from SimBlock's measured Bitcoin 2019 degree distribution.
    #[serde(rename = "simblock_2019")]
    Simblock2019,
}

/// One-way latency model of a link (`kind: …`), in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// The same latency on every link.
    Constant {
        /// Latency in ms.
        ms: f64,
    },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform {
        /// Lower bound in ms.
        min_ms: f64,
        /// Upper bound in ms.
        max_ms: f64,
    },
    /// Normal, truncated at zero.
    Normal {
        /// Mean in ms.
        mean_ms: f64,
        /// Standard deviation in ms.
        sd_ms: f64,
    },
    /// Log-normal with this mean and standard deviation.
    Lognormal {
        /// Mean in ms.
        mean_ms: f64,
        /// Standard deviation in ms.
        sd_ms: f64,
    },
    /// Pareto with this mean and shape (SimBlock's jitter model).
    Pareto {
        /// Mean in ms.
        mean_ms: f64,
        /// Shape α, > 1 so the mean exists (default 5).
        #[serde(default = "default_pareto_shape")]
        shape: f64,
    },
    /// Use `network.regions`' latency matrix as per-link means, with jitter.
    Regions {
        /// Jitter around the matrix mean (default `pareto`).
        #[serde(default)]
        jitter: Jitter,
    },
}

impl Latency {
    /// The link-layer model this kind describes, or `None` for `regions`
    /// (whose per-pair models come from the region matrix).
    pub fn model(&self) -> Option<LatencyModel> {
        Some(match *self {
            Latency::Constant { ms } => LatencyModel::Constant { ms },
            Latency::Uniform { min_ms, max_ms } => LatencyModel::Uniform { min_ms, max_ms },
            Latency::Normal { mean_ms, sd_ms } => LatencyModel::Normal { mean_ms, sd_ms },
            Latency::Lognormal { mean_ms, sd_ms } => LatencyModel::LogNormal { mean_ms, sd_ms },
            Latency::Pareto { mean_ms, shape } => LatencyModel::Pareto { mean_ms, shape },
            Latency::Regions { .. } => return None,
        })
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Constant { ms: 100.0 }
    }
}

/// Jitter around a region-matrix mean latency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// SimBlock's rule around the matrix mean: Pareto with shape `mean / 5`
    /// and scale `mean - 5 ms`.
    #[default]
    Pareto,
    /// No jitter: exactly the matrix mean.
    Constant,
    /// Log-normal with the matrix mean.
    Lognormal,
}

/// Link bandwidth of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bandwidth {
    /// Upload in Mbit/s (> 0).
    pub up_mbps: f64,
    /// Download in Mbit/s (> 0).
    pub down_mbps: f64,
}

impl Default for Bandwidth {
    fn default() -> Self {
        Bandwidth {
            up_mbps: 20.0,
            down_mbps: 50.0,
        }
    }
}

/// A geographic region: share of nodes, bandwidth, latency to every region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Name referenced by `nodes.list[].region`; unique.
    pub name: String,
    /// Fraction of nodes placed here; the shares of all regions sum to 1.
    pub share: f64,
    /// Upload in Mbit/s of nodes here.
    pub up_mbps: f64,
    /// Download in Mbit/s of nodes here.
    pub down_mbps: f64,
    /// Mean one-way latency in ms to each region, in the order of
    /// `network.regions` (row `i` of the matrix).
    pub latency_ms: Vec<f64>,
}

/// How long a node takes to validate what it receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationCost {
    /// Fixed cost per block (default `5ms`).
    #[serde(default = "default_per_block")]
    pub per_block: SimDuration,
    /// Extra cost per transaction, in blocks and when relayed (default `50us`).
    #[serde(default = "default_per_tx")]
    pub per_tx: SimDuration,
}

impl Default for ValidationCost {
    fn default() -> Self {
        ValidationCost {
            per_block: default_per_block(),
            per_tx: default_per_tx(),
        }
    }
}

/// The nodes of the network: `count` + `hashrate`, or an explicit `list`.
/// Full nodes get ids `0..`, then the `light` nodes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nodes {
    /// Number of full nodes (1..=1,000,000); exclusive with `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// How the total hashrate is spread over `count` nodes (default equal,
    /// 1000 H/s in total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashrate: Option<Hashrate>,
    /// Extra light (SPV) nodes without hashrate (default 0).
    #[serde(default)]
    pub light: u32,
    /// Explicit full nodes; exclusive with `count`/`hashrate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<NodeEntry>>,
}

/// How a total hashrate is spread over `nodes.count` nodes (`kind: …`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Hashrate {
    /// Every node gets `total_hps / count`.
    Equal {
        /// Total hashes per second of the network.
        total_hps: f64,
    },
    /// As SimBlock: each node ~ N(mean, mean·sd_fraction) truncated above
    /// zero, then scaled so the sum is exactly `total_hps`.
    Normal {
        /// Total hashes per second of the network.
        total_hps: f64,
        /// Standard deviation as a fraction of the mean (default 0.3).
        #[serde(default = "default_sd_fraction")]
        sd_fraction: f64,
    },
    /// Node `i` gets `total_hps · shares[i]`.
    Shares {
        /// Total hashes per second of the network.
        total_hps: f64,
        /// One share per node, summing to 1.
        shares: Vec<f64>,
    },
}

impl Hashrate {
    /// The total hashes per second.
    pub fn total_hps(&self) -> f64 {
        match self {
            Hashrate::Equal { total_hps }
            | Hashrate::Normal { total_hps, .. }
            | Hashrate::Shares { total_hps, .. } => *total_hps,
        }
    }
}

impl Default for Hashrate {
    fn default() -> Self {
        Hashrate::Equal { total_hps: 1000.0 }
    }
}

/// One explicitly listed full node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// Hashes per second (default 0).
    #[serde(default)]
    pub hashrate_hps: f64,
    /// Name of a `network.regions` entry; unset = placed by share when
    /// regions exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Role; default `miner` if `hashrate_hps > 0`, else `relay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A full node that mines.
    Miner,
    /// A full node that validates and relays but does not mine.
    Relay,
    /// A header-only (SPV) client.
    Light,
}

impl Role {
    /// The name a scenario and `nodes.csv` use: `miner`, `relay`, `light`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Miner => "miner",
            Role::Relay => "relay",
            Role::Light => "light",
        }
    }
}

/// Simulated wallets issuing signed payments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Number of wallets (default 0: no transactions).
    #[serde(default)]
    pub wallets: u32,
    /// Poisson rate of payments for the whole network, per second (default 0).
    #[serde(default)]
    pub payments_per_s: f64,
    /// Each wallet's endowment in the genesis block, in satoshis
    /// (default 10 BTC).
    #[serde(default = "default_initial_balance_sats")]
    pub initial_balance_sats: u64,
    /// Fee rate of every payment in sat/byte (default 2).
    #[serde(default = "default_fee_rate")]
    pub fee_rate_sat_per_byte: u64,
    /// Which wallets light nodes follow (default `light`: light node `i`
    /// watches wallet `i mod wallets`).
    #[serde(default)]
    pub watch: Watch,
    /// How transactions reach the other nodes (default `messages`).
    #[serde(default)]
    pub relay: TxRelay,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            wallets: 0,
            payments_per_s: 0.0,
            initial_balance_sats: default_initial_balance_sats(),
            fee_rate_sat_per_byte: default_fee_rate(),
            watch: Watch::default(),
            relay: TxRelay::default(),
        }
    }
}

/// How payments travel from their wallet's home node to the other nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxRelay {
    /// Every node relays by message (batched `inv`, `getdata`, `tx`) and
    /// keeps its own mempool: the full protocol, one event per hop.
    #[default]
    Messages,
    /// Modelled flood for large networks: each payment is validated once at
    /// its home node, its arrival time at every node is the shortest path
    /// over the peer graph (per hop: one announce interval, mean latencies of
    /// inv, getdata and tx, a 226-byte tx's transmission time, three processing
    /// delays), and a miner's mempool is rebuilt, with the real mempool
    /// rules, from the payments that have reached it when it finds a block.
    Flood,
}

/// Which wallets light nodes follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Watch {
    /// Light nodes watch nothing.
    None,
    /// Each light node watches one wallet.
    #[default]
    Light,
}

/// Mempool limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mempool {
    /// Maximum total size of unconfirmed transactions in bytes
    /// (default 5,000,000).
    #[serde(default = "default_mempool_bytes")]
    pub max_bytes: u64,
}

impl Default for Mempool {
    fn default() -> Self {
        Mempool {
            max_bytes: default_mempool_bytes(),
        }
    }
}

/// One scheduled event: `at` plus exactly one action field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    /// When, as simulated time since the start.
    pub at: SimDuration,
    /// Split the network into these groups of node ids; links between groups
    /// drop messages. Nodes not listed form one more group together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Vec<Vec<u32>>>,
    /// Remove every partition (`heal: all`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal: Option<Heal>,
    /// Take these nodes offline (they drop everything and stop mining).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<Vec<u32>>,
    /// Bring these nodes back online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<Vec<u32>>,
    /// Change one node's hashrate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashrate: Option<HashrateChange>,
}

/// What a `heal` event heals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Heal {
    /// Every partition.
    All,
}

/// A new hashrate for one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashrateChange {
    /// The node id.
    pub node: u32,
    /// Its new hashes per second (≥ 0).
    pub hps: f64,
}

/// The action of a validated [`TimelineEvent`], as one enum.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineAction {
    /// Split into groups (unlisted nodes form one more group).
    Partition(Vec<Vec<u32>>),
    /// Remove every partition.
    HealAll,
    /// Take nodes offline.
    Offline(Vec<u32>),
    /// Bring nodes back online.
    Online(Vec<u32>),
    /// Set a node's hashrate.
    SetHashrate {
        /// The node id.
        node: u32,
        /// Its new hashes per second.
        hps: f64,
    },
}

impl TimelineEvent {
    /// The single action of this event; `None` only for an event that did
    /// not pass validation (no action set).
    pub fn action(&self) -> Option<TimelineAction> {
        if let Some(groups) = &self.partition {
            return Some(TimelineAction::Partition(groups.clone()));
        }
        if self.heal.is_some() {
            return Some(TimelineAction::HealAll);
        }
        if let Some(ids) = &self.offline {
            return Some(TimelineAction::Offline(ids.clone()));
        }
        if let Some(ids) = &self.online {
            return Some(TimelineAction::Online(ids.clone()));
        }
        self.hashrate.as_ref().map(|h| TimelineAction::SetHashrate {
            node: h.node,
            hps: h.hps,
        })
    }

    /// Names of the action fields that are set (validation wants exactly one).
    pub(crate) fn actions_set(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.partition.is_some() {
            set.push("partition");
        }
        if self.heal.is_some() {
            set.push("heal");
        }
        if self.offline.is_some() {
            set.push("offline");
        }
        if self.online.is_some() {
            set.push("online");
        }
        if self.hashrate.is_some() {
            set.push("hashrate");
        }
        set
    }
}

/// One adversary (`kind: …`): an alternative behaviour of one full node,
/// which keeps running the same ledger code as every other node (see
/// [`crate::adversary`]). Every kind has `node` (the attacker), `start` (when
/// the behaviour switches on; the node is honest before) and an optional
/// `share` that sets the attacker's hashrate share α (the other nodes'
/// hashrates are scaled so the total is unchanged; the sweep knob for α:
/// `--param adversaries[0].share=0.1,0.2,0.3`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Adversary {
    /// Selfish mining (Eyal & Sirer 2014) with optional stubborn variants
    /// (Nayak et al. 2016).
    Selfish {
        /// The attacker's node id (a full node).
        node: u32,
        /// Explicit tie-breaking advantage γ in [0, 1]: the share of honest
        /// hashrate that mines on the attacker's block in a tie. Unset: γ
        /// emerges from the network.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gamma: Option<f64>,
        /// Stubborn-mining variants (all off = Eyal–Sirer).
        #[serde(default)]
        stubborn: Stubborn,
        /// When the behaviour switches on (default `0s`).
        #[serde(default)]
        start: SimDuration,
        /// The attacker's hashrate share α in [0, 1); unset = as configured
        /// in `nodes`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<f64>,
    },
    /// Double spending against a merchant wallet by a private block race.
    DoubleSpend {
        /// The attacker's node id (a full node).
        node: u32,
        /// Workload wallet id of the merchant (`< workload.wallets`).
        merchant_wallet: u32,
        /// Confirmations z the merchant waits for (default 6).
        #[serde(default = "default_confirmations")]
        confirmations: u32,
        /// Abandon an attempt when the private chain is this many blocks
        /// behind the public one (default 10).
        #[serde(default = "default_give_up_behind")]
        give_up_behind: u32,
        /// Private blocks mined on the tip before each payment: 0 (default,
        /// the race starts with the payment) or 1 (Rosenfeld's attacker,
        /// the model behind Nakamoto's table).
        #[serde(default, skip_serializing_if = "is_zero")]
        premine: u32,
        /// Paid to the merchant per attempt, satoshis (default 1 BTC).
        #[serde(default = "default_amount_sats")]
        amount_sats: u64,
        /// When the behaviour switches on (default `0s`).
        #[serde(default)]
        start: SimDuration,
        /// The attacker's hashrate share α in [0, 1); unset = as configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<f64>,
    },
    /// Eclipse: the attacker takes every peer slot of a victim and controls
    /// which blocks it sees; optionally double spends against a merchant
    /// whose home node is the victim.
    Eclipse {
        /// The attacker's node id (a full node).
        node: u32,
        /// The eclipsed full node.
        victim: u32,
        /// `true` (default): honest blocks never reach the victim; `false`:
        /// they reach it `delay` late.
        #[serde(default = "default_true")]
        withhold: bool,
        /// Extra delay of honest blocks to the victim when not withheld
        /// (default `30s`).
        #[serde(default = "default_eclipse_delay")]
        delay: SimDuration,
        /// A double spend against a merchant homed on the victim.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        double_spend: Option<DoubleSpendTarget>,
        /// When the behaviour switches on (default `0s`).
        #[serde(default)]
        start: SimDuration,
        /// The attacker's hashrate share α in [0, 1); unset = as configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<f64>,
    },
    /// A majority attacker rewriting history, or withholding its blocks.
    Majority {
        /// The attacker's node id (a full node; needs > 50% hashrate to be
        /// sure to win).
        node: u32,
        /// Mine privately from the block `depth` below the public tip at
        /// `start` and publish when strictly longer (default 6).
        #[serde(default = "default_depth")]
        depth: u32,
        /// Block withholding instead: mine but never publish (default false).
        #[serde(default)]
        withhold: bool,
        /// When the behaviour switches on (default `0s`).
        #[serde(default)]
        start: SimDuration,
        /// The attacker's hashrate share α in [0, 1); unset = as configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<f64>,
    },
    /// Broadcasts invalid blocks and transactions to its peers.
    InvalidData {
        /// The attacker's node id (a full node).
        node: u32,
        /// One invalid item per interval (default `30s`).
        #[serde(default = "default_invalid_interval")]
        interval: SimDuration,
        /// Which items, cycled in order (default: all kinds).
        #[serde(default = "default_invalid_kinds")]
        kinds: Vec<InvalidKind>,
        /// When the behaviour switches on (default `0s`).
        #[serde(default)]
        start: SimDuration,
        /// The attacker's hashrate share α in [0, 1); unset = as configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<f64>,
    },
}

impl Adversary {
    /// The kind as written in the file.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Adversary::Selfish { .. } => "selfish",
            Adversary::DoubleSpend { .. } => "double_spend",
            Adversary::Eclipse { .. } => "eclipse",
            Adversary::Majority { .. } => "majority",
            Adversary::InvalidData { .. } => "invalid_data",
        }
    }

    /// The attacker's node id.
    pub fn node(&self) -> u32 {
        match self {
            Adversary::Selfish { node, .. }
            | Adversary::DoubleSpend { node, .. }
            | Adversary::Eclipse { node, .. }
            | Adversary::Majority { node, .. }
            | Adversary::InvalidData { node, .. } => *node,
        }
    }

    /// When the behaviour switches on.
    pub fn start(&self) -> SimDuration {
        match self {
            Adversary::Selfish { start, .. }
            | Adversary::DoubleSpend { start, .. }
            | Adversary::Eclipse { start, .. }
            | Adversary::Majority { start, .. }
            | Adversary::InvalidData { start, .. } => *start,
        }
    }

    /// The attacker's hashrate share override, if set.
    pub fn share(&self) -> Option<f64> {
        match self {
            Adversary::Selfish { share, .. }
            | Adversary::DoubleSpend { share, .. }
            | Adversary::Eclipse { share, .. }
            | Adversary::Majority { share, .. }
            | Adversary::InvalidData { share, .. } => *share,
        }
    }
}

/// Stubborn-mining variants of selfish mining (Nayak, Kumar, Miller, Shi,
/// "Stubborn Mining", EuroS&P 2016).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stubborn {
    /// Lead stubbornness: with a lead of two when the honest network finds a
    /// block, publish only enough for a tie instead of overriding.
    #[serde(default)]
    pub lead: bool,
    /// Equal-fork stubbornness: in a tie race, keep a newly found block
    /// private instead of publishing to win the race.
    #[serde(default)]
    pub equal_fork: bool,
    /// Trail stubbornness: keep mining on the private branch while at most
    /// this many blocks behind, instead of adopting the public chain.
    #[serde(default)]
    pub trail: u32,
}

/// A double spend against a merchant (used by `eclipse.double_spend`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoubleSpendTarget {
    /// Workload wallet id of the merchant; its home node becomes the victim.
    pub merchant_wallet: u32,
    /// Confirmations z the merchant waits for (default 6).
    #[serde(default = "default_confirmations")]
    pub confirmations: u32,
    /// Abandon an attempt when the private chain is this many blocks behind
    /// the public one (default 10).
    #[serde(default = "default_give_up_behind")]
    pub give_up_behind: u32,
    /// Paid to the merchant per attempt, satoshis (default 1 BTC).
    #[serde(default = "default_amount_sats")]
    pub amount_sats: u64,
}

/// What the run records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Interval between wallet balance samples (default `10m`).
    #[serde(default = "default_balance_interval")]
    pub balance_interval: SimDuration,
    /// Per-node tip log: `auto` (default) = on when at most 1,000 nodes.
    #[serde(default)]
    pub tips: Switch,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            balance_interval: default_balance_interval(),
            tips: Switch::Auto,
        }
    }
}

impl Default for Consensus {
    fn default() -> Self {
        Consensus {
            difficulty_bits: None,
            target_interval: None,
            retarget_window: default_retarget_window(),
            subsidy_sats: default_subsidy_sats(),
            halving_interval: default_halving_interval(),
            max_block_bytes: default_max_block_bytes(),
            coinbase_maturity: default_coinbase_maturity(),
            block_fill_bytes: 0,
        }
    }
}

impl Default for Network {
    fn default() -> Self {
        Network {
            topology: Topology::default(),
            latency: Latency::default(),
            bandwidth: Bandwidth::default(),
            regions: Vec::new(),
            processing: default_processing(),
            control_processing: None,
            validation: ValidationCost::default(),
            tx_announce_interval: default_tx_announce_interval(),
            trickle: Trickle::default(),
            relay: BlockRelay::default(),
            uplink: UplinkMode::default(),
        }
    }
}

/// The block interval assumed when a scenario sets neither
/// `difficulty_bits` nor `target_interval`.
pub const DEFAULT_TARGET_INTERVAL: SimDuration = SimDuration::from_secs(600);

fn default_seed() -> u64 {
    1
}
fn default_settle() -> SimDuration {
    SimDuration::from_secs(30)
}
fn default_retarget_window() -> u32 {
    2016
}
fn default_subsidy_sats() -> u64 {
    5_000_000_000
}
fn default_halving_interval() -> u32 {
    210_000
}
fn default_max_block_bytes() -> u64 {
    1_000_000
}
fn default_coinbase_maturity() -> u32 {
    100
}
fn default_hb_peers() -> u32 {
    3
}
fn default_cbr_usage() -> f64 {
    0.964
}
fn default_compact_bytes() -> u64 {
    18_000
}
fn default_churn_share() -> f64 {
    0.976
}
fn default_failure_control() -> f64 {
    0.13
}
fn default_failure_churn() -> f64 {
    0.27
}
fn default_processing() -> SimDuration {
    SimDuration::from_millis(1)
}
fn default_tx_announce_interval() -> SimDuration {
    SimDuration::from_secs(2)
}
fn default_outbound() -> u32 {
    8
}
fn default_max_inbound() -> u32 {
    125
}
fn default_pareto_shape() -> f64 {
    DEFAULT_PARETO_SHAPE
}
fn default_per_block() -> SimDuration {
    SimDuration::from_millis(5)
}
fn default_per_tx() -> SimDuration {
    SimDuration::from_micros(50)
}
fn default_sd_fraction() -> f64 {
    0.3
}
fn default_initial_balance_sats() -> u64 {
    1_000_000_000
}
fn default_fee_rate() -> u64 {
    2
}
fn default_mempool_bytes() -> u64 {
    5_000_000
}
fn default_balance_interval() -> SimDuration {
    SimDuration::from_secs(600)
}
/// Serde `skip_serializing_if`: leave a zero out of the resolved scenario.
fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn default_confirmations() -> u32 {
    6
}
fn default_give_up_behind() -> u32 {
    10
}
fn default_amount_sats() -> u64 {
    100_000_000
}
fn default_true() -> bool {
    true
}
fn default_eclipse_delay() -> SimDuration {
    SimDuration::from_secs(30)
}
fn default_depth() -> u32 {
    6
}
fn default_invalid_kinds() -> Vec<InvalidKind> {
    InvalidKind::ALL.to_vec()
}
fn default_invalid_interval() -> SimDuration {
    SimDuration::from_secs(30)
}
