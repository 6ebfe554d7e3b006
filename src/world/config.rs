//! [`Config`]: everything a [`World`](super::World) needs, resolved from a
//! scenario (see [`Config::from_scenario`]) with topology and placements
//! already drawn from the run's named RNG streams.

use std::rc::Rc;

use rand::Rng;

use crate::ledger::{Amount, CompactTarget, Params};
use crate::metrics::RunShape;
use crate::net::link::{Jitter, LatencyModel, LinkError, LinkModel, Regions};
use crate::net::topology::{self, Topology, TopologyError};
use crate::scenario::schema::{self as sc, Scenario};
use crate::sim::{RngStreams, SimDuration, SimTime};

pub use crate::scenario::schema::{Role, TimelineAction};

impl Config {
    /// What the metrics recorder needs to know before the run, as plain
    /// values.
    pub fn run_shape(&self) -> RunShape {
        RunShape {
            record_tips: self.record_tips,
            region_names: self.region_names.clone(),
            initial_hashrates: self.nodes.iter().map(|n| n.hashrate_hps).collect(),
            full_nodes: self.nodes.iter().filter(|n| n.role != Role::Light).count() as u32,
        }
    }
}

/// Why a valid-looking scenario could not be turned into a world (the
/// scenario checks catch almost everything; these come from the network
/// builders).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The topology could not be built.
    #[error("network.topology: {0}")]
    Topology(#[from] TopologyError),
    /// The link model is inconsistent.
    #[error("network: {0}")]
    Link(#[from] LinkError),
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
    pub params: Rc<Params>,
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
    /// Region names (one `"default"` without regions).
    pub region_names: Vec<String>,
    /// Processing delay per payload message (block, compact block,
    /// `blocktxn`, transactions).
    pub processing: SimDuration,
    /// Processing delay per control message (every message that does not
    /// occupy the uplink).
    pub control_processing: SimDuration,
    /// Validation cost of a block, fixed part.
    pub validation_per_block: SimDuration,
    /// Validation cost per transaction in a block.
    pub validation_per_tx: SimDuration,
    /// Interval between a node's batched transaction announcements (trickle
    /// off), and the per-hop announcement delay of the modelled flood.
    pub tx_announce_interval: SimDuration,
    /// Bitcoin Core's transaction trickling under relay by messages.
    pub trickle_enabled: bool,
    /// Its settings.
    pub trickle: crate::node::trickle::TrickleConfig,
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
    /// How payments reach the other nodes.
    pub tx_relay: crate::scenario::TxRelay,
    /// Pad every block to this many bytes (0 = off), modelling fixed-size blocks.
    pub block_fill_bytes: usize,
    /// How blocks travel (`network.relay`).
    pub block_relay: sc::BlockRelay,
    /// How uplinks send payloads (`network.uplink`).
    pub uplink: sc::UplinkMode,
    /// Timeline, sorted by time.
    pub timeline: Vec<(SimTime, TimelineAction)>,
    /// Interval between balance samples.
    pub balance_interval: SimDuration,
    /// Whether to log every node's tip changes (`tips.csv`).
    pub record_tips: bool,
    /// Attackers, as configured (`share` already applied to `nodes`).
    pub adversaries: Vec<sc::Adversary>,
}

/// Unix time of every simulated genesis block (2024-01-01T00:00:00Z), so
/// block timestamps are realistic and identical across runs.
pub const GENESIS_TIME: u32 = 1_704_067_200;

impl Config {
    /// Resolves a validated scenario: draws node hashrates and regions
    /// (stream `nodes`), builds the topology (stream `topology`) and the
    /// link model.
    pub fn from_scenario(s: &Scenario) -> Result<Config, ConfigError> {
        let streams = RngStreams::new(s.seed);
        let specs = s.node_specs(&mut streams.stream("nodes", 0));
        let full = specs.iter().filter(|n| n.role != Role::Light).count();
        let mut topo_rng = streams.stream("topology", 0);
        let topology = build_topology(&s.network.topology, full, &mut topo_rng)?;
        let (link, region_names) = build_links(&s.network)?;
        let params = s.to_params();
        let initial_bits = s.initial_target().to_compact_lossy();
        let mut timeline: Vec<(SimTime, TimelineAction)> = s
            .timeline
            .iter()
            .filter_map(|e| e.action().map(|a| (SimTime::ZERO + e.at, a)))
            .collect();
        timeline.sort_by_key(|(t, _)| *t);
        Ok(Config {
            name: s.name.clone(),
            seed: s.seed,
            stop_height: s.stop.height,
            stop_time: s.stop.time.map(|t| SimTime::ZERO + t),
            stop_events: s.stop.events,
            settle: s.stop.settle,
            params: Rc::new(params),
            initial_bits,
            grind: s.grind_enabled(),
            genesis_time: GENESIS_TIME,
            nodes: specs
                .into_iter()
                .map(|n| NodeSpec {
                    hashrate_hps: n.hashrate_hps,
                    region: n.region.unwrap_or(0),
                    role: n.role,
                })
                .collect(),
            topology,
            light_peers: 3,
            link,
            region_names,
            processing: s.network.processing,
            control_processing: s.network.control_processing.unwrap_or(s.network.processing),
            validation_per_block: s.network.validation.per_block,
            validation_per_tx: s.network.validation.per_tx,
            tx_announce_interval: s.network.tx_announce_interval,
            trickle_enabled: s.network.trickle.enabled,
            trickle: crate::node::trickle::TrickleConfig {
                inbound_interval: s.network.trickle.inbound_interval,
                outbound_interval: s.network.trickle.outbound_interval,
                broadcast_per_s: s.network.trickle.broadcast_per_s,
                broadcast_max: s.network.trickle.broadcast_max,
            },
            wallets: s.workload.wallets as usize,
            payments_per_s: s.workload.payments_per_s,
            initial_balance: Amount::from_sat_unchecked(s.workload.initial_balance_sats),
            fee_rate_sat_per_byte: s.workload.fee_rate_sat_per_byte,
            mempool_max_bytes: usize::try_from(s.mempool.max_bytes).unwrap_or(usize::MAX),
            tx_relay: s.workload.relay,
            block_fill_bytes: usize::try_from(s.consensus.block_fill_bytes).unwrap_or(usize::MAX),
            block_relay: s.network.relay.clone(),
            uplink: s.network.uplink,
            timeline,
            balance_interval: s.metrics.balance_interval,
            record_tips: s.tips_enabled(),
            adversaries: s.adversaries.clone(),
        })
    }
}

fn build_topology<R: Rng>(
    t: &sc::Topology,
    n: usize,
    rng: &mut R,
) -> Result<Topology, TopologyError> {
    match t {
        sc::Topology::FullMesh => topology::full_mesh(n),
        sc::Topology::Ring => topology::ring(n),
        sc::Topology::RandomRegular { k } => topology::random_regular(n, *k as usize, rng),
        sc::Topology::ErdosRenyi { p } => topology::erdos_renyi(n, *p, rng),
        sc::Topology::SmallWorld { k, beta } => topology::small_world(n, *k as usize, *beta, rng),
        sc::Topology::BitcoinOutbound {
            outbound,
            max_inbound,
            distribution,
        } => match distribution {
            sc::OutboundDistribution::Fixed => {
                topology::bitcoin_outbound(n, *outbound as usize, *max_inbound as usize, rng)
            }
            sc::OutboundDistribution::Simblock2019 => topology::bitcoin_outbound_distribution(
                n,
                &topology::SIMBLOCK_2019_OUTBOUND_CDF,
                *max_inbound as usize,
                rng,
            ),
        },
        sc::Topology::Edges { list } => {
            let edges: Vec<(u32, u32)> = list.iter().map(|[a, b]| (*a, *b)).collect();
            topology::from_edges(n, &edges)
        }
    }
}

fn build_links(net: &sc::Network) -> Result<(LinkModel, Vec<String>), LinkError> {
    let single = |m: LatencyModel| {
        LinkModel::uniform(m, net.bandwidth.up_mbps, net.bandwidth.down_mbps)
            .map(|l| (l, vec!["default".to_string()]))
    };
    if let Some(model) = net.latency.model() {
        return single(model);
    }
    let sc::Latency::Regions { jitter } = &net.latency else {
        unreachable!("`Latency::model` is None only for `regions`");
    };
    let regions = Regions {
        names: net.regions.iter().map(|r| r.name.clone()).collect(),
        latency_ms: net.regions.iter().map(|r| r.latency_ms.clone()).collect(),
        up_mbps: net.regions.iter().map(|r| r.up_mbps).collect(),
        down_mbps: net.regions.iter().map(|r| r.down_mbps).collect(),
    };
    let jitter = match jitter {
        // SimBlock's rule: Pareto around the pair's mean.
        sc::Jitter::Pareto => Jitter::Simblock,
        sc::Jitter::Constant => Jitter::None,
        sc::Jitter::Lognormal => Jitter::LogNormal { cv: 0.5 },
    };
    let names = regions.names.clone();
    LinkModel::from_regions(&regions, jitter).map(|l| (l, names))
}
