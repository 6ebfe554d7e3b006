//! [`Config`]: everything a [`World`](super::World) needs, resolved from a
//! scenario (see [`Config::from_scenario`]) with topology and placements
//! already drawn from the run's named RNG streams.

use std::sync::Arc;

use crate::ledger::{Amount, CompactTarget, Params};
use crate::net::link::LinkModel;
use crate::net::topology::Topology;
use crate::sim::{SimDuration, SimTime};

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A full node that mines (hashrate > 0).
    Miner,
    /// A full node that validates and relays but does not mine.
    Relay,
    /// A light (SPV) client: headers and Merkle proofs only.
    Light,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Miner => "miner",
            Role::Relay => "relay",
            Role::Light => "light",
        }
    }
}

/// One node of the world.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// Hashes per second (0 for relays and light clients).
    pub hashrate_hps: f64,
    /// Region index (0 when the scenario has no regions).
    pub region: usize,
    /// Role.
    pub role: Role,
}

/// A scheduled change to the world.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Cut the network into groups (nodes not listed form one more group).
    Partition(Vec<Vec<u32>>),
    /// Remove every partition.
    HealAll,
    /// Take nodes offline (they miss messages and stop mining).
    Offline(Vec<u32>),
    /// Bring nodes back; they ask their peers for their tips and catch up.
    Online(Vec<u32>),
    /// Change a miner's hashrate.
    Hashrate {
        /// The node.
        node: u32,
        /// New hashes per second.
        hps: f64,
    },
}

/// A run's resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Scenario name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Stop mining when a block at this height is found.
    pub stop_height: Option<u32>,
    /// Stop mining at this simulated time.
    pub stop_time: Option<SimTime>,
    /// Hard stop after this many events.
    pub stop_events: Option<u64>,
    /// Time to keep delivering messages after mining stops.
    pub settle: SimDuration,
    /// Consensus parameters.
    pub params: Arc<Params>,
    /// Genesis (and initial) difficulty.
    pub initial_bits: CompactTarget,
    /// Whether nonces are really ground.
    pub grind: bool,
    /// Unix time of the genesis block; block times are this plus simulated seconds.
    pub genesis_time: u32,
    /// Every node.
    pub nodes: Vec<NodeSpec>,
    /// Peer graph over the full nodes (light nodes attach separately).
    pub topology: Topology,
    /// Number of full nodes each light node connects to.
    pub light_peers: usize,
    /// Latency model.
    pub link: LinkModel,
    /// Upload bandwidth per region, bits per second.
    pub up_bps: Vec<f64>,
    /// Download bandwidth per region, bits per second.
    pub down_bps: Vec<f64>,
    /// Region names (one `"default"` without regions).
    pub region_names: Vec<String>,
    /// Per-message processing delay.
    pub processing: SimDuration,
    /// Validation cost of a block, fixed part.
    pub validation_per_block: SimDuration,
    /// Validation cost per transaction in a block.
    pub validation_per_tx: SimDuration,
    /// Interval between a node's batched transaction announcements.
    pub tx_announce_interval: SimDuration,
    /// Number of wallets.
    pub wallets: usize,
    /// Network-wide payments per second (Poisson).
    pub payments_per_s: f64,
    /// Each wallet's endowment in the genesis block.
    pub initial_balance: Amount,
    /// Fee rate wallets pay, satoshis per byte.
    pub fee_rate_sat_per_byte: u64,
    /// Mempool size limit per node.
    pub mempool_max_bytes: usize,
    /// Pad every block to this many bytes (0 = off), modelling fixed-size blocks.
    pub block_fill_bytes: usize,
    /// Timeline, sorted by time.
    pub timeline: Vec<(SimTime, Action)>,
    /// Interval between balance samples.
    pub balance_interval: SimDuration,
    /// Whether to log every node's tip changes (`tips.csv`).
    pub record_tips: bool,
}
