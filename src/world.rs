//! A whole run: builds the world from a [`Config`], runs the event loop,
//! carries out what nodes decide, and hands the recorded metrics to the
//! output writer.
//!
//! One [`EventQueue`] orders everything by `(time, sequence)`. Nodes are
//! sans-IO state machines ([`crate::node`]) kept in a `Vec`, indexed by
//! [`NodeIdx`]: the world pops an event, hands the node an
//! [`Input`] with a [`Ctx`],
//! and carries out its [`Output`]s in order (`call`, `carry_out`). Blocks
//! and transactions are immutable `Rc`s stored once, and the shared
//! [`BlockCache`] memoises everything that is a pure function of a block, so
//! ten thousand nodes on the same tip share one UTXO set.
//!
//! A world lives and dies on one thread (runs are parallel, a run is not),
//! so what it shares is counted by `Rc`, not `Arc`: a 10,000-node run
//! clones and drops such handles tens of millions of times, and atomic
//! counts cost it about 4% of its time (BENCHMARKS.md, "Single-threaded
//! sharing"). A `World` is therefore not `Send`: the live lab builds its
//! world on the session thread and writes the output there
//! ([`crate::serve::live::Session::spawn`]); a sweep builds each run on its
//! worker.
//!
//! What the world keeps for nodes: the mining timer (drawn here from the
//! miner's own stream; see `reschedule_mining_at`), links (uplinks, latency
//! draws from the sender's stream, partitions), peer lists, the
//! known-block and known-transaction columns ([`Known`]), the timeline, the
//! workload's clock, and prefetching.
//!
//! Shortcuts that read a *peer's* state are the world's, in its execution
//! of outputs: an [`Output::Announce`] is only scheduled to a peer it would
//! make request something (`announce_blocks`), and an
//! [`Output::AnnounceTxs`] (or, with Bitcoin Core's trickle, an
//! [`Output::TrickleTxs`] to one peer) leaves out transactions the peer has
//! seen (`announce_txs`, `trickle_txs`).
//!
//! Adversaries are nodes too ([`crate::adversary::node::AttackerNode`]: a
//! public full node, a private branch and a strategy behind the same
//! `handle`); `attack.rs` builds them and calls them, and their outputs are
//! carried out here like any node's. A run without adversaries pays one
//! branch per node call for all this.
//!
//! Mining is modelled, not ground (unless `pow.grind`): a miner with hashrate
//! `h` finds its next block after an exponential time with mean
//! `expected_hashes(target) / h`. On a tip change the pending event is kept
//! while that rate is unchanged and redrawn when it changes (the process is
//! memoryless, so both are the same process). When the event fires the
//! miner assembles a real block on its current tip ([`crate::node::miner`]).

mod attack;
pub mod config;
pub mod digest;
pub mod event;
pub mod flood;
pub mod live;
pub mod output;

use std::rc::Rc;

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use crate::ledger::chainstate::BlockCache;
use crate::ledger::pow::Target;
use crate::ledger::spv::HeaderChain;
use crate::ledger::{Amount, Block, BlockHash, Transaction, TxOut, Txid};
use crate::metrics::Recorder;
use crate::net::link::Uplink;
use crate::net::partition::Partitions;
use crate::net::topology::NodeId;
use crate::node::compact_relay::{CompactConfig, CompactState, PaddingParams};
use crate::node::full::FullNode;
use crate::node::io::{
    Ctx, Input, Late, NodeConfig, Observation, Oracles, Outbox, Output, Pending, SpvVerdict, Timer,
};
use crate::node::known::Known;
use crate::node::light::LightNode;
use crate::node::mempool::Mempool;
use crate::node::trickle::Trickle;
use crate::scenario::TxRelay;
use crate::sim::{EventId, EventQueue, RngStreams, SimDuration, SimTime};
use crate::workload;

pub use crate::workload::Wallet;
pub use config::{Config, NodeSpec, Role, TimelineAction};
pub use digest::EventDigest;
pub use event::{Event, Msg, NodeIdx};
pub use live::{LiveAction, LiveError};

/// The shared block cache keeps the UTXO set after each of the last this
/// many heights below the best mined block (pruned every this many heights).
const SNAPSHOT_KEEP: u32 = 16;

/// The most blocks a node's chain is reserved for up front
/// ([`chain_reservation`]).
const RESERVE_MAX_BLOCKS: u32 = 1_024;

/// Blocks to reserve room for in every full node's chain: the stop height
/// (and a few stale blocks) when the height alone ends the run and is at
/// most [`RESERVE_MAX_BLOCKS`]. Grown by doubling instead, 10,000 chains
/// leave their outgrown buffers behind (16.6 MiB at 100 blocks); a run a
/// time or event limit ends early, or a very high stop, reserves nothing,
/// so the reservation never exceeds what the run's memory budget counted.
fn chain_reservation(cfg: &Config) -> Option<usize> {
    match (cfg.stop_height, cfg.stop_time, cfg.stop_events) {
        (Some(h), None, None) if h <= RESERVE_MAX_BLOCKS => Some(h as usize + 4),
        _ => None,
    }
}

/// A node's state machine.
enum Kind {
    Full(Box<FullNode>),
    Light(Box<LightNode>),
}

/// A control message's delivery, drawn and worked out on demand
/// ([`World::control_delivery`]).
struct ControlDelivery {
    now: SimTime,
    latency: crate::net::link::LatencyDraw,
    processing: SimDuration,
}

impl ControlDelivery {
    /// The arrival time: latency after now, then the processing delay.
    fn at(&self) -> SimTime {
        self.now + self.latency.value() + self.processing
    }

    /// A lower bound of [`Self::at`], without working out the latency
    /// ([`crate::net::link::LatencyDraw::low`]; additions are monotone).
    fn low(&self) -> SimTime {
        self.now + self.latency.low() + self.processing
    }

    /// Whether [`Self::at`] is before `limit` for certain, without working
    /// out the latency ([`crate::net::link::LatencyDraw::surely_below`]).
    fn surely_before(&self, limit: SimTime) -> bool {
        let start = self.now + self.processing;
        limit > start && self.latency.surely_below(limit - start)
    }
}

/// A node's record in the world: its state machine, and what the world
/// keeps for it (links, the mining timer, its random streams). `repr(C)`:
/// the fields every relay event reads come first, then the relay RNG, then
/// the mining RNG (read only when a miner's rate changes), so the run loop
/// prefetches a prefix of the record (up to `offset_of!(Node, mine_rng)`).
/// A test checks that order.
#[repr(C)]
struct Node {
    kind: Kind,
    /// Index into `World::adversaries` for an attacker's node: its inputs
    /// go to its [`crate::adversary::node::AttackerNode`] (`None` for every
    /// honest node, so honest events pay one branch for adversaries).
    adv: Option<u16>,
    /// Peers (a full node's peers are full nodes; its light clients are
    /// listed in its state).
    peers: Vec<NodeIdx>,
    mine_event: Option<EventId>,
    /// The `(bits, hashrate)` the pending mining event was drawn for.
    mine_rate: (crate::ledger::CompactTarget, f64),
    spec: NodeSpec,
    net_rng: ChaCha12Rng,
    mine_rng: ChaCha12Rng,
}

impl Node {
    /// Addresses of the node's boxed full state (0 for a light client) and
    /// of its peer list's buffer (see `World::hint_addrs`).
    fn hint_addrs(&self) -> (usize, usize) {
        let full = match &self.kind {
            Kind::Full(full) => (&**full as *const FullNode).addr(),
            Kind::Light(_) => 0,
        };
        (full, self.peers.as_ptr().addr())
    }
}

/// What the world shows an observer (`sim replay --trace`): a node's
/// output as it is carried out, or a payment the workload issued.
pub enum Narration<'a> {
    /// Node `node` decided `output`.
    Node(NodeIdx, &'a Output),
    /// The workload issued a payment.
    Payment {
        /// Paying wallet.
        from: u32,
        /// Paid wallet.
        to: u32,
        /// Amount paid, in satoshis.
        sats: u64,
        /// The transaction.
        txid: Txid,
        /// The full node it was submitted to.
        home: NodeIdx,
    },
}

/// A callback that sees every node output and payment (see [`World::set_observer`]).
pub type ObserveFn = Box<dyn FnMut(SimTime, Narration<'_>) + Send>;

/// Outcome of a run, before it is written out.
pub struct RunOutput {
    /// Everything observed.
    pub metrics: Recorder,
    /// The event digest.
    pub digest: EventDigest,
    /// The best block among honest full nodes at the end.
    pub final_tip: BlockHash,
    /// The final main chain (genesis first).
    pub main_chain: Vec<BlockHash>,
    /// Sum of all UTXO values on the final main chain.
    pub main_chain_utxo_total: Amount,
    /// Total subsidy issued on the final main chain plus the genesis endowment.
    pub main_chain_issued: Amount,
    /// Whether every online full node ended on the same tip.
    pub converged: bool,
    /// Signature-cache and block-cache hit counters.
    pub cache_stats: crate::ledger::chainstate::CacheStats,
    /// Non-coinbase transactions on the final main chain.
    pub txs_confirmed: u64,
    /// Blocks were relayed compactly (`network.relay.compact`).
    pub compact_relay: bool,
}

/// The state a finished world leaves behind ([`World::finish_retiring`]):
/// its nodes (chain states, mempools, peer lists), the shared block cache,
/// the known-block and known-transaction columns and the event queue: most
/// of a run's memory, in many small allocations (freeing a 10,000-node
/// run's took about 23 ms, BENCHMARKS.md). Dropping it frees them; a
/// process about to exit can [`Retired::abandon`] it and leave the freeing
/// to the operating system.
pub struct Retired {
    _nodes: Vec<Node>,
    _cache: BlockCache,
    _known: Known,
    _queue: EventQueue<Event>,
}

impl Retired {
    /// Leaves the memory allocated: for a process that exits next (`sim
    /// run` after writing its output), where freeing it one allocation at
    /// a time would only delay the exit. Anywhere else, drop it instead.
    pub fn abandon(self) {
        std::mem::forget(self);
    }
}

/// A callback that sees every processed event (see [`World::set_trace`]).
pub type TraceFn = Box<dyn FnMut(SimTime, &Event) + Send>;

/// A running simulation.
pub struct World {
    cfg: Config,
    queue: EventQueue<Event>,
    nodes: Vec<Node>,
    cache: BlockCache,
    uplinks: Vec<Uplink>,
    partitions: Partitions,
    wallets: Vec<Wallet>,
    workload_rng: ChaCha12Rng,
    metrics: Recorder,
    digest: EventDigest,
    genesis: Rc<Block>,
    mining: bool,
    ended: bool,
    /// Highest block height mined so far.
    best_mined_height: u32,
    /// What every node knows: the known-block and known-transaction columns.
    known: Known,
    /// Each node's region (a compact copy of `spec.region` for the relay loop).
    regions: Vec<u16>,
    /// Last `(bits, expected hashes per block)` computed.
    expected_hashes: (crate::ledger::CompactTarget, f64),
    trace: Option<TraceFn>,
    /// Attackers (empty in an honest run).
    adversaries: Vec<crate::adversary::attacker::Attacker>,
    /// Per node: in Eyal–Sirer's γ set (prefers an attacker's block in a
    /// tie). Empty unless some adversary sets `gamma`.
    gamma_nodes: Vec<bool>,
    /// Misbehaviour scores honest nodes keep of their peers.
    scores: crate::node::score::PeerScores,
    /// Flooded payments (`workload.relay: flood`; unused with `messages`).
    flood: flood::Flood,
    /// Transactions the flood gave the block being mined.
    flood_pick: Vec<Txid>,
    /// Settings every node reads through its [`Ctx`].
    node_cfg: NodeConfig,
    /// What nodes are told beyond what they could know: the genesis hash,
    /// and flags [`World::call`] sets for the node it calls.
    oracles: Oracles,
    /// Outboxes for node calls (a call inside the execution of another
    /// node's outputs takes the next one), reused across events.
    outboxes: Vec<Outbox>,
    /// Sees every node output and payment (`sim replay --trace`).
    observer: Option<ObserveFn>,
    /// Per node, the addresses of its boxed [`FullNode`] (0 for a light
    /// client) and of its peer list's buffer: prefetch hints only, never
    /// dereferenced (a stale one would only waste a prefetch).
    hint_addrs: Vec<(usize, usize)>,
    /// The node of the event after next when the run loop last prefetched
    /// (`NO_HINT` for none), so it is not fetched again as the next one.
    prefetched_second: u32,
    /// Inputs from outside the run (`sim serve FILE`), by the index their
    /// [`Event::Live`] carries (see [`live`]).
    live: Vec<LiveAction>,
    /// Extra addresses endowed in the genesis block after the wallets and
    /// attackers (the live lab's students; none in a batch run).
    students: usize,
    /// Block announcements behind one already on its way are elided
    /// (`announce_blocks`): only while every delivery is sure to be acted
    /// on, so not with attackers, a timeline that partitions or takes
    /// nodes offline, or live inputs that may.
    elide_behind_pending: bool,
}

impl World {
    /// Builds the world: genesis block (endowing the wallets), nodes, peers,
    /// wallets, and the first events.
    pub fn new(cfg: Config) -> World {
        World::with_students(cfg, &[])
    }

    /// [`World::new`] with `students` (hash160s of P2PKH keys the world
    /// does not hold) each endowed with the wallets' initial balance in the
    /// genesis block, after the wallets' and attackers' outputs. The live
    /// lab's `--students`; with none, the world is exactly [`World::new`]'s.
    pub fn with_students(cfg: Config, students: &[[u8; 20]]) -> World {
        let streams = RngStreams::new(cfg.seed);
        let n = cfg.nodes.len();

        // Wallet keys are derived from the seed so a run is reproducible.
        let mut wallet_rng = streams.stream("wallet-keys", 0);
        let full_nodes: Vec<NodeIdx> = (0..n as u32)
            .filter(|i| cfg.nodes[*i as usize].role != Role::Light)
            .collect();
        let wallets = workload::make_wallets(cfg.wallets, &full_nodes, &mut wallet_rng);

        let mut endowment: Vec<TxOut> = wallets
            .iter()
            .map(|w| TxOut {
                value: cfg.initial_balance,
                script_pubkey: w.script_pubkey.clone(),
            })
            .collect();
        // Attackers' coins follow the wallets' in the genesis coinbase.
        let attack_plans = attack::plan(&cfg, &streams);
        let first_attack_vout = endowment.len() as u32;
        endowment.extend(attack_plans.iter().flat_map(|p| p.genesis_outputs()));
        endowment.extend(students.iter().map(|pkh| TxOut {
            value: cfg.initial_balance,
            script_pubkey: crate::ledger::ScriptBuf::new_p2pkh(pkh),
        }));
        let genesis = Rc::new(crate::ledger::chainstate::new_genesis(
            &cfg.params,
            cfg.genesis_time,
            cfg.initial_bits,
            endowment,
        ));
        let mut cache = BlockCache::new();

        let mut light_rng = streams.stream("light-peers", 0);
        let mut nodes: Vec<Node> = Vec::with_capacity(n);
        for (i, spec) in cfg.nodes.iter().enumerate() {
            let kind = match spec.role {
                Role::Light => {
                    let light_index = nodes
                        .iter()
                        .filter(|x: &&Node| x.spec.role == Role::Light)
                        .count();
                    let watched = wallets
                        .get(light_index % wallets.len().max(1))
                        .map(|w| w.pubkey_hash)
                        .unwrap_or([0; 20]);
                    Kind::Light(Box::new(LightNode::new(
                        HeaderChain::new(genesis.header, cfg.params.clone()),
                        watched,
                    )))
                }
                _ => {
                    let mut full = Box::new(FullNode::new(
                        genesis.clone(),
                        cfg.params.clone(),
                        cfg.mempool_max_bytes,
                        &mut cache,
                    ));
                    if let Some(blocks) = chain_reservation(&cfg) {
                        full.chain.reserve(blocks);
                    }
                    Kind::Full(full)
                }
            };
            nodes.push(Node {
                spec: spec.clone(),
                kind,
                peers: Vec::new(),
                mine_event: None,
                mine_rate: (crate::ledger::CompactTarget::from_consensus(0), 0.0),
                mine_rng: streams.stream("mine", i as u64),
                net_rng: streams.stream("net", i as u64),
                adv: None,
            });
        }
        // Full-node peers come from the topology, indexed over full nodes.
        // Where transactions are relayed by messages, each full node gets
        // its trickle queues, knowing which links it opened (outbound).
        let trickles = cfg.trickle_enabled
            && cfg.tx_relay == TxRelay::Messages
            && (cfg.wallets > 0 || !cfg.adversaries.is_empty());
        for (ti, &node) in full_nodes.iter().enumerate() {
            let me = NodeId(ti as u32);
            let neighbors = cfg.topology.neighbors(me);
            nodes[node as usize].peers =
                neighbors.iter().map(|p| full_nodes[p.0 as usize]).collect();
            if let (true, Kind::Full(full)) = (trickles, &mut nodes[node as usize].kind) {
                let peers = neighbors
                    .iter()
                    .map(|p| (full_nodes[p.0 as usize], cfg.topology.opened(me, *p)));
                let rng = streams.stream("trickle", node as u64);
                full.trickle = Some(Box::new(Trickle::new(peers, rng)));
            }
        }
        // Light clients attach to a few random full nodes.
        for i in 0..n {
            if nodes[i].spec.role != Role::Light || full_nodes.is_empty() {
                continue;
            }
            let mut chosen = Vec::new();
            while chosen.len() < cfg.light_peers.min(full_nodes.len()) {
                let p = full_nodes[light_rng.gen_range(0..full_nodes.len())];
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            chosen.sort_unstable();
            let watched = match &nodes[i].kind {
                Kind::Light(light) => light.watched,
                Kind::Full(_) => unreachable!("checked above"),
            };
            for &p in &chosen {
                if let Kind::Full(full) = &mut nodes[p as usize].kind {
                    full.light_clients.push((i as u32, watched));
                }
            }
            nodes[i].peers = chosen;
        }

        let uplinks = (0..n).map(|_| Uplink::default()).collect();
        let metrics = Recorder::new(cfg.run_shape(), &genesis);
        let genesis_hash = genesis.block_hash();
        let mut world = World {
            workload_rng: streams.stream("workload", 0),
            queue: EventQueue::new(),
            partitions: Partitions::new(n),
            uplinks,
            wallets,
            metrics,
            digest: EventDigest::default(),
            genesis,
            mining: true,
            ended: false,
            best_mined_height: 0,
            known: Known::new(
                n,
                cfg.nodes.iter().filter(|n| n.role != Role::Light).count(),
            ),
            regions: cfg.nodes.iter().map(|n| n.region as u16).collect(),
            expected_hashes: (crate::ledger::CompactTarget::from_consensus(0), 0.0),
            trace: None,
            adversaries: Vec::new(),
            gamma_nodes: Vec::new(),
            scores: crate::node::score::PeerScores::with_nodes(n),
            flood: flood::Flood::default(),
            flood_pick: Vec::new(),
            hint_addrs: nodes.iter().map(Node::hint_addrs).collect(),
            prefetched_second: crate::sim::queue::NO_HINT,
            node_cfg: NodeConfig {
                params: cfg.params.clone(),
                genesis_time: cfg.genesis_time,
                grind: cfg.grind,
                block_fill_bytes: cfg.block_fill_bytes,
                mempool_max_bytes: cfg.mempool_max_bytes,
                relay_txs: cfg.tx_relay == TxRelay::Messages,
                tx_announce_interval: cfg.tx_announce_interval,
                trickle: cfg.trickle,
                compact: cfg.block_relay.compact.then_some(CompactConfig {
                    high_bandwidth_peers: cfg.block_relay.high_bandwidth_peers as usize,
                    padding: PaddingParams {
                        compact_bytes: cfg.block_relay.padding.compact_bytes,
                        fill_bytes: cfg.block_fill_bytes as u64,
                        failure: [
                            cfg.block_relay.padding.failure_control,
                            cfg.block_relay.padding.failure_churn,
                        ],
                    },
                }),
            },
            oracles: Oracles {
                genesis: genesis_hash,
                no_private_blocks: true,
                tips_watched: false,
                gamma: false,
            },
            outboxes: Vec::new(),
            observer: None,
            live: Vec::new(),
            students: students.len(),
            elide_behind_pending: cfg
                .timeline
                .iter()
                .all(|(_, a)| matches!(a, TimelineAction::SetHashrate { .. })),
            nodes,
            cache,
            cfg,
        };
        world.install_adversaries(attack_plans, first_attack_vout);
        if !world.adversaries.is_empty() {
            world.elide_behind_pending = false;
        }
        world.assign_compact(&streams, &full_nodes);
        world.schedule_initial();
        world
    }

    /// The run will take live inputs ([`World::inject`]: the live lab, or
    /// the replay of its session), which may partition the network or take
    /// nodes offline: block announcements are then never elided behind a
    /// pending one (see `announce_blocks`). Call before the first step.
    pub fn expect_live_inputs(&mut self) {
        self.elide_behind_pending = false;
    }

    /// Installs a callback that sees every event as it is processed (`sim replay --trace`).
    pub fn set_trace(&mut self, f: TraceFn) {
        self.trace = Some(f);
    }

    /// Installs a callback that sees every node output (messages sent,
    /// announcements, observations such as blocks accepted or rejected, tip
    /// changes and reorgs) and every payment, as they are carried out
    /// (`sim replay --trace`). Observing changes nothing in the run.
    pub fn set_observer(&mut self, f: ObserveFn) {
        self.observer = Some(f);
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The wallets.
    pub fn wallets(&self) -> &[Wallet] {
        &self.wallets
    }

    /// The genesis block.
    pub fn genesis(&self) -> &Rc<Block> {
        &self.genesis
    }

    /// Which full nodes speak BIP152 and which are SimBlock's churn nodes:
    /// as SimBlock draws them (`Main.makeRandomList`), the first
    /// `share × n` of a list shuffled by the run's `cbr-usage` and
    /// `cbr-class` streams. Attackers never speak it (their strategies
    /// send whole blocks). Each speaking node gets its own `cbr` stream.
    fn assign_compact(&mut self, streams: &RngStreams, full_nodes: &[NodeIdx]) {
        use rand::seq::SliceRandom;
        if !self.cfg.block_relay.compact {
            return;
        }
        let n = full_nodes.len();
        let pick = |label: &str, share: f64| -> Vec<bool> {
            let mut v: Vec<bool> = (0..n).map(|i| (i as f64) < n as f64 * share).collect();
            v.shuffle(&mut streams.stream(label, 0));
            v
        };
        let speaks = pick("cbr-usage", self.cfg.block_relay.usage_share);
        let churn = pick("cbr-class", self.cfg.block_relay.padding.churn_share);
        let attackers: Vec<NodeIdx> = self.cfg.adversaries.iter().map(|a| a.node()).collect();
        for (k, &i) in full_nodes.iter().enumerate() {
            if let Kind::Full(full) = &mut self.nodes[i as usize].kind {
                full.cmpct = CompactState::new(
                    speaks[k] && !attackers.contains(&i),
                    churn[k],
                    streams.stream("cbr", i as u64),
                );
            }
        }
    }

    fn schedule_initial(&mut self) {
        // The first burst: a mining timer per node, and with compact relay
        // a `sendcmpct` to every peer (at 10,000 nodes ~177,000 events,
        // which doubling grew through 31 MiB of buffers).
        let first_burst = self.nodes.len()
            + if self.cfg.block_relay.compact {
                self.nodes.iter().map(|n| n.peers.len()).sum()
            } else {
                0
            };
        self.queue.reserve(first_burst + 16);
        for i in 0..self.nodes.len() as u32 {
            self.reschedule_mining(i);
        }
        if self.cfg.block_relay.compact {
            for i in 0..self.nodes.len() as u32 {
                if matches!(self.nodes[i as usize].kind, Kind::Full(_)) {
                    self.call(i, Input::Start);
                }
            }
        }
        if self.cfg.wallets >= 2 && self.cfg.payments_per_s > 0.0 {
            let d = self.exp_delay_workload(1.0 / self.cfg.payments_per_s);
            self.queue.schedule_after(d, Event::Payment);
        }
        for (i, (at, _)) in self.cfg.timeline.iter().enumerate() {
            self.queue
                .schedule(*at, Event::Timeline { index: i as u32 })
                .expect("timeline times are not in the past at the start");
        }
        if self.cfg.wallets > 0 {
            self.queue
                .schedule_after(SimDuration::ZERO, Event::SampleBalances);
        }
        if let Some(t) = self.cfg.stop_time {
            self.queue
                .schedule(t, Event::StopMining)
                .expect("stop time is not in the past at the start");
        }
    }

    fn exp_delay_workload(&mut self, mean_secs: f64) -> SimDuration {
        let x: f64 = self.workload_rng.sample(rand_distr::Exp1);
        SimDuration::from_secs_f64(x * mean_secs)
    }

    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.digest.count()
    }

    /// The highest block mined so far.
    pub fn best_mined_height(&self) -> u32 {
        self.best_mined_height
    }

    /// The event digest so far.
    pub fn digest(&self) -> &EventDigest {
        &self.digest
    }

    /// Whether the run has ended.
    pub fn is_done(&self) -> bool {
        self.ended
    }

    /// Processes up to `max` events; returns how many were processed.
    pub fn step(&mut self, max: u64) -> u64 {
        let mut done = 0;
        while done < max && !self.ended {
            if self.queue.is_empty() {
                self.ended = true;
                break;
            }
            let next = self.queue.pop_due();
            done += 1;
            self.prefetch_next();
            self.digest
                .push(next.time.as_nanos(), next.event.digest_words());
            if let Some(trace) = self.trace.as_mut() {
                trace(next.time, &next.event);
            }
            self.handle(next.id, next.event);
            if let Some(limit) = self.cfg.stop_events {
                if self.digest.count() >= limit {
                    self.ended = true;
                }
            }
        }
        done
    }

    /// Prefetches, two events ahead, what events will touch, so their
    /// memory arrives while earlier events are handled. A hint to the CPU
    /// only; it changes no state.
    ///
    /// - For the event after next: the slots of the next two events, and
    ///   its node's record (up to the mining RNG), chain state, peer list
    ///   and uplink, all from addresses known without reading the node.
    /// - For the next event, whose node was prefetched one event ago: if it
    ///   delivers a block, the lines the node's block index and active chain
    ///   will be read at ([`Chainstate::prefetch_accept`]).
    fn prefetch_next(&mut self) {
        self.queue.prefetch_upcoming();
        // Hints are the node an event happens at (NO_HINT, out of range,
        // for the rest), read beside the key without touching the event.
        // The next event's node was fetched a step ago as the one after
        // next, unless an event scheduled since comes first.
        let (second, first) = (self.queue.peek_second_hint(), self.queue.peek_hint());
        let first = first.filter(|&h| h != self.prefetched_second);
        self.prefetched_second = second.unwrap_or(crate::sim::queue::NO_HINT);
        for hint in [second, first].into_iter().flatten() {
            let to = hint as usize;
            if let Some(node) = self.nodes.get(to) {
                crate::sim::prefetch_prefix(node, std::mem::offset_of!(Node, mine_rng));
                // From the noted address: reading the box pointer out of the
                // record would wait for the record's own fetch.
                let (full, peers) = self.hint_addrs[to];
                crate::sim::prefetch_range(full, std::mem::offset_of!(FullNode, tx_to_announce));
                // The BIP152 state (at the record's end) too, so the next
                // event's look at it reads a line already fetched.
                if self.node_cfg.compact.is_some() {
                    crate::sim::prefetch_range(
                        full + std::mem::offset_of!(FullNode, cmpct),
                        std::mem::size_of::<CompactState>(),
                    );
                }
                crate::sim::prefetch_range(peers, 128);
                crate::sim::prefetch(&self.uplinks[to]);
            }
        }
        // What the next event will look up in its node's own state: the
        // block index (and chain ends) for a block it receives, validates
        // or serves in compact form, and the BIP152 state for compact
        // messages (with the random stream a `cmpctblock` draws from).
        let (to, hash, compact) = match self.queue.peek() {
            Some(Event::Deliver { to, msg, .. }) => match msg {
                Msg::InvBlocks(hashes) => {
                    // The shared list the digest and the node will read,
                    // and what the node looks at first: its entries of the
                    // block's known column and its BIP152 peers.
                    crate::sim::prefetch_range(hashes.as_ptr().addr(), 32);
                    if let [h] = &hashes[..] {
                        if let Some(t) = self.known.block(h) {
                            t.prefetch(*to);
                        }
                    }
                    if let Some(Kind::Full(full)) = self.nodes.get(*to as usize).map(|n| &n.kind) {
                        crate::sim::prefetch_range(full.cmpct.peers.as_ptr().addr(), 64);
                    }
                    return;
                }
                Msg::Block(_, hash, _) => (*to, Some(hash), None),
                Msg::CmpctBlock(cb, hash, _) => {
                    crate::sim::prefetch_all(&**cb);
                    (*to, Some(hash), Some(true))
                }
                Msg::GetCmpct(hash) => (*to, Some(hash), Some(false)),
                Msg::GetBlockTxn(req, _) => {
                    crate::sim::prefetch_all(&**req);
                    (*to, None, Some(false))
                }
                Msg::BlockTxn(txn, _) => {
                    crate::sim::prefetch_all(&**txn);
                    (*to, None, Some(false))
                }
                _ => return,
            },
            Some(Event::Validated { node, hash, .. }) => (*node, Some(hash), None),
            _ => return,
        };
        if let Some(Kind::Full(full)) = self.nodes.get(to as usize).map(|n| &n.kind) {
            if let Some(hash) = hash {
                full.chain.prefetch_accept(hash);
            }
            if let Some(draws) = compact {
                full.cmpct.prefetch(draws);
            }
        }
    }

    /// Refreshes node `i`'s prefetch addresses after its peer list was
    /// replaced or grown.
    fn note_hint_addrs(&mut self, i: NodeIdx) {
        self.hint_addrs[i as usize] = self.nodes[i as usize].hint_addrs();
    }

    /// Runs to the end.
    pub fn run(&mut self) {
        while !self.ended {
            self.step(u64::MAX);
        }
    }

    fn handle(&mut self, id: EventId, event: Event) {
        match event {
            Event::Mine { node } => {
                if self.nodes[node as usize].mine_event == Some(id) {
                    self.nodes[node as usize].mine_event = None;
                    self.mine(node);
                }
            }
            Event::Deliver { from, to, msg } => {
                if self.partitions.can_communicate(NodeId(from), NodeId(to)) {
                    self.deliver(from, to, msg);
                } else {
                    // A `cmpctblock` in flight counted as the receiver's
                    // request (see `send`); dropped, it requested nothing,
                    // so the receiver asks for the block when it next hears
                    // of it (at a heal, from its peers' tips) instead of
                    // waiting out the request timeout.
                    if let Msg::CmpctBlock(_, hash, _) = &msg {
                        if let Some(t) = self.known.block_mut(hash) {
                            if !t.has(to) {
                                t.clear_requested(to);
                            }
                        }
                    }
                    self.metrics.message_dropped();
                }
            }
            Event::TxFlush { node } => self.call(node, Input::TxAnnounceTimer),
            Event::TxTrickle { node, peer } => {
                let peer = (peer != event::INBOUND).then_some(peer);
                self.call(node, Input::TxTrickleTimer { peer })
            }
            Event::Validated {
                node,
                from,
                block,
                hash,
            } => {
                if self.partitions.is_online(NodeId(node)) {
                    self.call(node, Input::Reconstructed { from, block, hash });
                }
            }
            Event::Payment => {
                self.payment();
                if self.mining {
                    let d = self.exp_delay_workload(1.0 / self.cfg.payments_per_s);
                    self.queue.schedule_after(d, Event::Payment);
                }
            }
            Event::Timeline { index } => self.timeline(index as usize),
            Event::SampleBalances => {
                self.sample_balances();
                if self.mining {
                    self.queue
                        .schedule_after(self.cfg.balance_interval, Event::SampleBalances);
                }
            }
            Event::StopMining => self.stop_mining(),
            Event::End => {
                self.ended = true;
            }
            Event::Adversary { index } => {
                let node = self.adversaries[index as usize].node();
                let mining = self.mining;
                self.call(node, Input::AdversaryTick { mining });
            }
            Event::Live { index } => self.apply_live(index as usize),
        }
    }

    #[cold]
    #[inline(never)]
    fn stop_mining(&mut self) {
        if !self.mining {
            return;
        }
        self.mining = false;
        for i in 0..self.nodes.len() {
            if let Some(ev) = self.nodes[i].mine_event.take() {
                self.queue.cancel(ev);
            }
        }
        self.queue.schedule_after(self.cfg.settle, Event::End);
    }

    // ----- calling nodes and carrying out their outputs -------------------

    /// Hands `input` to node `i` and carries out its outputs in order.
    fn call(&mut self, i: NodeIdx, input: Input) {
        let mut out = self.outboxes.pop().unwrap_or_default();
        self.oracles.no_private_blocks = self.adversaries.is_empty();
        self.oracles.tips_watched = !self.adversaries.is_empty();
        self.oracles.gamma = !self.gamma_nodes.is_empty() && self.gamma_nodes[i as usize];
        // Without adversaries no node is one: skip reading the record.
        let adv = if self.adversaries.is_empty() {
            None
        } else {
            self.nodes[i as usize].adv
        };
        if let Some(a) = adv {
            self.call_attacker(i, a as usize, input, &mut out);
        } else {
            let mut ctx = Ctx::new(
                i,
                self.queue.now(),
                &self.node_cfg,
                &mut self.cache,
                &mut self.known,
                &mut self.scores,
                &self.oracles,
            );
            match &mut self.nodes[i as usize].kind {
                Kind::Full(full) => full.handle(input, &mut ctx, &mut out),
                Kind::Light(light) => light.handle(input, &mut ctx, &mut out),
            }
        }
        out.drain_in_place(|o| self.carry_out(i, o));
        self.outboxes.push(out);
    }

    /// Carries out one output of node `i`: messages and observations (the
    /// common outputs) are read field by field where the node wrote them
    /// ([`Outbox::drain_in_place`]).
    fn carry_out(&mut self, i: NodeIdx, o: Pending<'_>) {
        if let Some(observer) = self.observer.as_mut() {
            observer(self.queue.now(), Narration::Node(i, o.get()));
        }
        if let Some((to, msg)) = o.as_send() {
            // Worked out from the message where the node wrote it; the
            // message is moved once, into the event.
            let at = self.sending(i, to, msg);
            let (to, msg) = o.into_send();
            return self.schedule_delivery(at, i, to, msg);
        }
        if let Output::Observe(_) = o.get() {
            return self.record(i, o.into_observation());
        }
        let o = o.take();
        match o {
            // Taken above.
            Output::Send { .. } | Output::Observe(_) => unreachable!(),
            Output::SendLate { to, late } => self.send_late(i, to, *late),
            Output::SubmitTo { node, txid, tx } => self.submit_tx(node, txid, tx),
            Output::Announce { hashes, skip } => self.announce_blocks(i, skip, hashes),
            Output::AnnounceTxs { txids } => self.announce_txs(i, txids),
            Output::TrickleTxs { to, txids } => self.trickle_txs(i, to, txids),
            Output::SendToPeers { msg } => self.send_to_peers(i, msg),
            Output::Disconnect { peer } => self.disconnect(i, peer),
            Output::SetTimer {
                timer: Timer::TxAnnounce,
                after,
            } => {
                self.queue.schedule_after(after, Event::TxFlush { node: i });
            }
            Output::SetTimer {
                timer: Timer::TxTrickle { peer },
                after,
            } => {
                let peer = peer.unwrap_or(event::INBOUND);
                self.queue
                    .schedule_after(after, Event::TxTrickle { node: i, peer });
            }
            Output::SetTimer {
                timer: Timer::Adversary,
                after,
            } => {
                // An attacker's ticks end with mining.
                if let (true, Some(index)) = (self.mining, self.nodes[i as usize].adv) {
                    let index = index as u32;
                    self.queue.schedule_after(after, Event::Adversary { index });
                }
            }
            Output::MiningRate { bits } => self.reschedule_mining_at(i, bits),
            Output::Mined {
                block,
                hash,
                height,
            } => self.mined(i, block, hash, height),
            Output::MinedPrivately {
                block,
                hash,
                height,
            } => {
                self.record_mined(i, &block, hash, height, true);
                self.call(i, Input::OwnPrivateBlock { block, hash });
            }
            Output::Published { height } => self.check_stop_height(height),
            // The attacker node reacted right after this report (its
            // reaction follows in the same outbox); shown by the trace only.
            Output::AttackerRelay { .. } => {}
            Output::TipSettled => self.merchant_tip_changed(i),
            Output::Validate { from, block, hash } => {
                let cost = self.cfg.validation_per_block
                    + self
                        .cfg
                        .validation_per_tx
                        .saturating_mul(block.txdata.len() as u64);
                let at = self.queue.now() + cost;
                self.queue
                    .schedule_hinted(
                        at,
                        Event::Validated {
                            node: i,
                            from,
                            block,
                            hash,
                        },
                        i,
                    )
                    .expect("validation ends after now");
            }
        }
    }

    /// Books an observation of node `i` in the metrics.
    fn record(&mut self, i: NodeIdx, obs: Observation) {
        let now = self.queue.now();
        match obs {
            Observation::BlockArrived { hash, .. } => self.metrics.block_arrived(now, i, &hash),
            Observation::TipChanged {
                new_tip, height, ..
            } => self.metrics.tip_changed(now, i, &new_tip, height),
            Observation::Compact { outcome, .. } => self.metrics.compact(outcome),
            other => self.record_rare(i, other),
        }
    }

    /// [`Self::record`] of the observations block relay does not make on
    /// every block: kept out of line, so the run loop's hot code stays
    /// compact.
    #[inline(never)]
    fn record_rare(&mut self, i: NodeIdx, obs: Observation) {
        let now = self.queue.now();
        match obs {
            Observation::BlockArrived { .. }
            | Observation::TipChanged { .. }
            | Observation::Compact { .. } => unreachable!("`record` books these in line"),
            Observation::BlockRejected { error, .. } => {
                self.metrics.rejected(error.reject_reason())
            }
            Observation::Unconnecting { .. } => self.metrics.rejected("prev-blk-not-found"),
            Observation::Reorg { change, height } => self.metrics.reorg(now, i, &change, height),
            Observation::TxAccepted { txid } => self.metrics.tx_accepted(now, i, &txid),
            Observation::TxRejected { error, .. } => {
                self.metrics.tx_rejected(error.reject_reason())
            }
            Observation::HeaderRejected { reason } => self.metrics.rejected(&reason),
            Observation::InvalidSent { .. } => self.metrics.invalid_sent(),
            Observation::SpvCheck(v) => {
                let SpvVerdict {
                    txid,
                    block,
                    verdict,
                } = *v;
                self.metrics.spv_check(now, i, &txid, &block, verdict)
            }
        }
    }

    /// Carries out [`Output::SendLate`]: `late.msg` leaves now and arrives
    /// `late.extra` after its usual delivery time.
    #[inline(never)]
    fn send_late(&mut self, i: NodeIdx, to: NodeIdx, late: Late) {
        let Late { msg, extra } = late;
        let at = self.delivery_time(i, to, &msg) + extra;
        self.metrics.message_sent(msg.kind(), msg.wire_size());
        self.queue
            .schedule(at, Event::Deliver { from: i, to, msg })
            .expect("delivery is never in the past");
    }

    /// Carries out [`Output::SendToPeers`]: `msg` to each of `i`'s peers.
    #[inline(never)]
    fn send_to_peers(&mut self, i: NodeIdx, msg: Msg) {
        let peers = self.nodes[i as usize].peers.clone();
        for p in peers {
            self.send(i, p, msg.clone());
        }
    }

    /// Carries out [`Output::Mined`]: books node `i`'s new block, hands it
    /// back to the node to accept and announce, and checks the height stop.
    #[inline(never)]
    fn mined(&mut self, i: NodeIdx, block: Rc<Block>, hash: BlockHash, height: u32) {
        if self.cfg.tx_relay == TxRelay::Flood {
            let txids = std::mem::take(&mut self.flood_pick);
            self.flood.mined(hash, txids);
        }
        self.record_mined(i, &block, hash, height, false);
        self.call(i, Input::OwnBlock { block, hash });
        self.check_stop_height(height);
    }

    /// A message arrives at `to`: the node's to handle.
    fn deliver(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        self.call(to, Input::Message { from, msg });
    }

    /// Submits transaction `txid` to node `i` (a wallet's payment, or an
    /// attacker's own transaction).
    #[inline(never)]
    fn submit_tx(&mut self, i: NodeIdx, txid: Txid, tx: Rc<Transaction>) {
        self.call(i, Input::SubmitTx { txid, tx });
    }

    // ----- mining -------------------------------------------------------

    /// Makes sure miner `i` has a pending `Mine` event drawn for its
    /// current rate, or none when it cannot mine (the bits come from its
    /// chain, or its private branch while it attacks).
    fn reschedule_mining(&mut self, i: NodeIdx) {
        let node = &self.nodes[i as usize];
        let Kind::Full(full) = &node.kind else {
            return;
        };
        let bits = match node.adv {
            // An active attacker mines on its private branch.
            Some(a) => self.adversaries[a as usize]
                .private_next_bits()
                .unwrap_or_else(|| full.chain.next_bits()),
            None => full.chain.next_bits(),
        };
        self.reschedule_mining_at(i, bits);
    }

    /// Makes sure miner `i` has a pending `Mine` event drawn for mining at
    /// `bits`, or none when it cannot mine.
    ///
    /// Called on every tip change. Discovery is memoryless: the time left
    /// until a miner's next block is exponential with the same mean however
    /// long it has already mined, so an event drawn for the same
    /// `(bits, hashrate)` stays exactly as valid after the tip moves (the
    /// block is built on whatever the tip is when it fires). It is only
    /// cancelled and redrawn when the rate changes: a retarget or a branch
    /// with other bits, a hashrate change, going offline, or mining ending.
    #[inline]
    fn reschedule_mining_at(&mut self, i: NodeIdx, bits: crate::ledger::CompactTarget) {
        // The usual case, in line: an event already drawn for this rate.
        let node = &self.nodes[i as usize];
        let hps = node.spec.hashrate_hps;
        if self.mining
            && node.mine_event.is_some()
            && node.mine_rate == (bits, hps)
            && hps > 0.0
            && matches!(node.kind, Kind::Full(_))
            && self.partitions.is_online(NodeId(i))
        {
            return;
        }
        self.redraw_mining(i, bits);
    }

    /// [`Self::reschedule_mining_at`] out of line: cancels miner `i`'s
    /// event when it cannot mine, or draws one for its rate at `bits`
    /// unless one is already drawn for it.
    #[inline(never)]
    fn redraw_mining(&mut self, i: NodeIdx, bits: crate::ledger::CompactTarget) {
        let mining = self.mining;
        let online = self.partitions.is_online(NodeId(i));
        let node = &mut self.nodes[i as usize];
        let Kind::Full(_) = &node.kind else {
            return;
        };
        if !mining || !online || node.spec.hashrate_hps <= 0.0 {
            if let Some(ev) = node.mine_event.take() {
                self.queue.cancel(ev);
            }
            return;
        }
        let rate = (bits, node.spec.hashrate_hps);
        if node.mine_event.is_some() && node.mine_rate == rate {
            return;
        }
        if let Some(ev) = node.mine_event.take() {
            self.queue.cancel(ev);
        }
        // Expected hashes per block only change at retargets: memoise the
        // 256-bit division.
        let hashes = match self.expected_hashes {
            (b, h) if b == bits => h,
            _ => {
                let target = Target::from_compact(bits).expect("next_bits is a valid target");
                let h = target.to_work().to_f64_lossy();
                self.expected_hashes = (bits, h);
                h
            }
        };
        let mean = hashes / node.spec.hashrate_hps;
        let x: f64 = node.mine_rng.sample(rand_distr::Exp1);
        let delay = SimDuration::from_secs_f64(x * mean);
        node.mine_rate = rate;
        let at = self.queue.now() + delay;
        let event = self.queue.schedule_hinted(at, Event::Mine { node: i }, i);
        node.mine_event = Some(event.expect("now + delay is never before now"));
    }

    /// Miner `i`'s timer fired: the node assembles on its tip (under the
    /// modelled flood, with the transactions the flood gives it; scenario
    /// validation keeps the flood and adversaries apart, so an attacker,
    /// which mines on its private branch once active, never gets them).
    fn mine(&mut self, i: NodeIdx) {
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let txs = if self.cfg.tx_relay == TxRelay::Flood {
            let budget = self
                .cfg
                .params
                .max_block_size
                .saturating_sub(crate::node::miner::COINBASE_ROOM_BYTES);
            let picked = self
                .flood
                .mempool_for(
                    i,
                    self.queue.now(),
                    &full.chain,
                    &self.cfg.params,
                    &mut self.cache,
                    self.cfg.mempool_max_bytes,
                )
                .select(budget);
            self.flood_pick = picked.iter().map(|(t, _, _)| *t).collect();
            Some(picked)
        } else {
            None
        };
        self.call(i, Input::MiningTimer { txs });
    }

    /// Stops mining when a block at the stop height was found.
    fn check_stop_height(&mut self, height: u32) {
        if let Some(h) = self.cfg.stop_height {
            if height >= h {
                self.stop_mining();
            }
        }
    }

    /// Books a freshly mined block: metrics, the block index and its
    /// holder track.
    #[inline(never)]
    fn record_mined(
        &mut self,
        i: NodeIdx,
        block: &Rc<Block>,
        hash: BlockHash,
        height: u32,
        by_attacker: bool,
    ) {
        let now = self.queue.now();
        self.metrics.block_mined(now, i, block, hash, height);
        self.known.register_mined(hash, by_attacker);
        if height > self.best_mined_height && height % SNAPSHOT_KEEP == 0 {
            // Old UTXO snapshots only speed up deep reorgs and stragglers,
            // which then apply blocks and undo data themselves.
            self.cache
                .prune_snapshots_below(height.saturating_sub(SNAPSHOT_KEEP));
        }
        self.best_mined_height = self.best_mined_height.max(height);
    }

    // ----- messages -----------------------------------------------------

    /// Sends `msg` from `from` to `to`: the sender's uplink serialises
    /// messages; the delivery time adds latency, the receiver's processing
    /// delay and, for blocks, its validation cost.
    ///
    /// A `cmpctblock` on its way counts as the receiver's request for the
    /// block (Core marks the block known to the peer), so the
    /// announcement elision leaves the receiver out.
    fn send(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let at = self.sending(from, to, &msg);
        self.schedule_delivery(at, from, to, msg);
    }

    /// What sending `msg` from `from` to `to` now does before the message
    /// is on its way ([`Self::send`]): its arrival time (the sender's
    /// uplink and random stream advance), the elision's note and the
    /// bandwidth count.
    fn sending(&mut self, from: NodeIdx, to: NodeIdx, msg: &Msg) -> SimTime {
        let at = self.delivery_time(from, to, msg);
        if let Msg::CmpctBlock(_, hash, _) = msg {
            let now = self.queue.now();
            if let Some(t) = self.known.block_mut(hash) {
                if !t.has(to) {
                    t.set_requested(to, now);
                }
            }
        }
        self.metrics.message_sent(msg.kind(), msg.wire_size());
        at
    }

    /// Puts `msg` on its way, arriving at `at` ([`Self::sending`]).
    fn schedule_delivery(&mut self, at: SimTime, from: NodeIdx, to: NodeIdx, msg: Msg) {
        self.queue
            .schedule_hinted(at, Event::Deliver { from, to, msg }, to)
            .expect("delivery is never in the past");
    }

    /// When `msg` sent now from `from` would arrive at `to` (reserving the
    /// sender's uplink for payloads and drawing the link latency).
    fn delivery_time(&mut self, from: NodeIdx, to: NodeIdx, msg: &Msg) -> SimTime {
        if !msg.uses_uplink() {
            return self.control_delivery(from, to).at();
        }
        let now = self.queue.now();
        let (fr, tr) = (
            self.regions[from as usize] as usize,
            self.regions[to as usize] as usize,
        );
        let tx_time = self.cfg.link.transmission(msg.wire_size(), fr, tr);
        let done = self.uplinks[from as usize].enqueue(now, tx_time).1;
        let latency = self
            .cfg
            .link
            .latency(fr, tr, &mut self.nodes[from as usize].net_rng);
        let mut at = done + latency + self.cfg.processing;
        if self.cfg.uplink == crate::scenario::UplinkMode::StopAndWait {
            // SimBlock's sender: busy until the payload has arrived and been
            // processed (its `delay` includes the processing time).
            self.uplinks[from as usize].busy_until = at;
        }
        if let Msg::Block(b, _, _) = msg {
            at += self.cfg.validation_per_block
                + self
                    .cfg
                    .validation_per_tx
                    .saturating_mul(b.txdata.len() as u64);
        }
        at
    }

    /// The delivery of a control message (one that uses no uplink, such as
    /// an `inv`) from `from` to `to`: its latency drawn from `from`'s
    /// random stream, its arrival ([`ControlDelivery::at`]) worked out on
    /// demand. [`Self::delivery_time`] of such a message is its `at()`.
    #[inline(always)] // in the announcement loop: no 64-byte return through memory
    fn control_delivery(&mut self, from: NodeIdx, to: NodeIdx) -> ControlDelivery {
        let (fr, tr) = (
            self.regions[from as usize] as usize,
            self.regions[to as usize] as usize,
        );
        ControlDelivery {
            now: self.queue.now(),
            latency: self
                .cfg
                .link
                .draw(fr, tr, &mut self.nodes[from as usize].net_rng),
            processing: self.cfg.control_processing,
        }
    }

    /// Whether node `i` would request block `h` at time `at`: it does not
    /// hold it and has no request for it younger than
    /// [`crate::node::known::REQUEST_TIMEOUT`]. Reads a peer's state: used
    /// only by the announcement elision.
    fn wants_block(&self, i: NodeIdx, h: &BlockHash, at: SimTime) -> bool {
        match self.known.block(h) {
            Some(t) => t.wants(i, at),
            // Not a mined block: genesis (everyone has it) or unknown.
            None => match &self.nodes[i as usize].kind {
                Kind::Full(full) => !full.chain.contains(h),
                Kind::Light(_) => false,
            },
        }
    }

    /// Carries out [`Output::AnnounceTxs`]: an `inv` of the batch to every
    /// peer, leaving out transactions the peer has seen.
    ///
    /// Elision (reads the peers' known-transaction columns): having seen a
    /// transaction is permanent, so announcing it to a peer that has would
    /// do nothing on arrival; a peer that has seen all gets no message.
    #[inline(never)]
    fn announce_txs(&mut self, node: NodeIdx, batch: Vec<Txid>) {
        let ids: Vec<usize> = batch.iter().map(|t| self.known.tx_track(t)).collect();
        let batch: Rc<[Txid]> = Rc::from(batch);
        let peers = self.nodes[node as usize].peers.clone();
        for p in peers {
            let unseen = ids.iter().filter(|&&k| !self.known.tx(k).seen(p)).count();
            if unseen == 0 {
                continue;
            }
            let inv = if unseen == ids.len() {
                batch.clone()
            } else {
                batch
                    .iter()
                    .zip(&ids)
                    .filter(|(_, &k)| !self.known.tx(k).seen(p))
                    .map(|(t, _)| *t)
                    .collect()
            };
            self.send(node, p, Msg::InvTx(inv));
        }
    }

    /// Carries out [`Output::TrickleTxs`]: an `inv` of the batch to `to`,
    /// leaving out transactions the peer has seen (the same elision as
    /// [`Output::AnnounceTxs`]'s; in Bitcoin Core they would also fill the
    /// peer's known filter, which matters only for transactions it has
    /// seen, which it would not announce back anyway).
    #[inline(never)]
    fn trickle_txs(&mut self, node: NodeIdx, to: NodeIdx, mut batch: Vec<Txid>) {
        batch.retain(|t| {
            let k = self.known.tx_track(t);
            !self.known.tx(k).seen(to)
        });
        if !batch.is_empty() {
            self.send(node, to, Msg::InvTx(Rc::from(batch)));
        }
    }

    /// Drops the link between `i` and `peer`, both ways.
    #[cold]
    #[inline(never)]
    fn disconnect(&mut self, i: NodeIdx, peer: NodeIdx) {
        let before = self.nodes[i as usize].peers.len();
        self.nodes[i as usize].peers.retain(|p| *p != peer);
        self.nodes[peer as usize].peers.retain(|p| *p != i);
        for (a, b) in [(i, peer), (peer, i)] {
            if let Kind::Full(full) = &mut self.nodes[a as usize].kind {
                if let Some(t) = full.trickle.as_mut() {
                    t.remove_peer(b);
                }
            }
        }
        if self.nodes[i as usize].peers.len() != before {
            self.flood.invalidate();
            self.metrics.disconnected();
        }
    }

    /// Announces `hashes` to every full peer except `skip`.
    ///
    /// An announcement is only scheduled if it would make the peer request
    /// something when it arrives: the arrival time is drawn first, and
    /// blocks the peer holds or has a live request for are left out (that
    /// state cannot change in a way that would make them wanted before the
    /// arrival). Skipping those no-op deliveries keeps the event count near
    /// one announcement per node and block even on dense graphs.
    ///
    /// Where every delivery is sure to be acted on (`elide_behind_pending`),
    /// an announcement that would arrive after another already on its way
    /// to the same peer is left out too: by its arrival the peer holds the
    /// block or has a live request for it
    /// ([`crate::node::known::BlockTrack::covered_by_pending`]).
    fn announce_blocks(&mut self, i: NodeIdx, skip: Option<NodeIdx>, all: Rc<[BlockHash]>) {
        // Announced blocks are mined blocks (genesis is never announced as
        // new); their tracks are looked up once, not once per peer (on the
        // stack for the usual single block).
        let one: [Option<u32>; 1];
        let many: Vec<Option<u32>>;
        let ids: &[Option<u32>] = if let [h] = &all[..] {
            one = [self.known.block_id(h)];
            &one
        } else {
            many = all.iter().map(|h| self.known.block_id(h)).collect();
            &many
        };
        #[inline(always)]
        fn wants(
            w: &World,
            ids: &[Option<u32>],
            all: &[BlockHash],
            p: NodeIdx,
            k: usize,
            at: SimTime,
        ) -> bool {
            match ids[k] {
                Some(b) => {
                    let t = w.known.track(b);
                    t.wants(p, at)
                        && !(w.elide_behind_pending && t.covered_by_pending(p, w.queue.now(), at))
                }
                None => w.wants_block(p, &all[k], at),
            }
        }
        let now = self.queue.now();
        // The peer list is lent out for the loop (nothing below touches a
        // peer list), so it is read as one slice rather than through the
        // node table at every peer; it goes back, buffer and all, below.
        let peers = std::mem::take(&mut self.nodes[i as usize].peers);
        for &p in &peers {
            // Full nodes' peer lists hold only full nodes (light clients
            // are in `light_peers`).
            if Some(p) == skip {
                continue;
            }
            // Holding a block is permanent: no need to draw a latency.
            let holds_all = ids
                .iter()
                .all(|b| b.is_none_or(|b| self.known.track(b).has(p)));
            if holds_all {
                continue;
            }
            debug_assert!(!Msg::InvBlocks(all.clone()).uses_uplink());
            let delivery = self.control_delivery(i, p);
            // One mined block (the usual case): most announcements are
            // decided by bounds on the arrival time, without working it
            // out; the random stream has advanced all the same.
            let decided = match ids {
                [Some(b)] => self.known.track(*b).worth_announcing(
                    p,
                    now,
                    delivery.low(),
                    |x| delivery.surely_before(x),
                    self.elide_behind_pending,
                ),
                _ => None,
            };
            if decided == Some(false) {
                continue;
            }
            let msg = Msg::InvBlocks(all.clone());
            let at = delivery.at();
            let wanted: smallvec::SmallVec<[usize; 4]> = if decided == Some(true) {
                smallvec::smallvec![0]
            } else {
                (0..all.len())
                    .filter(|&j| wants(self, ids, &all, p, j, at))
                    .collect()
            };
            if wanted.is_empty() {
                continue;
            }
            let msg = if wanted.len() == all.len() {
                msg
            } else {
                Msg::InvBlocks(wanted.iter().map(|&j| all[j]).collect())
            };
            if self.elide_behind_pending {
                for b in wanted.iter().filter_map(|&j| ids[j]) {
                    self.known.track_mut(b).note_pending(p, now, at);
                }
            }
            self.metrics.message_sent(msg.kind(), msg.wire_size());
            self.queue
                .schedule_hinted(
                    at,
                    Event::Deliver {
                        from: i,
                        to: p,
                        msg,
                    },
                    p,
                )
                .expect("delivery is never in the past");
        }
        self.nodes[i as usize].peers = peers;
    }

    // ----- workload -----------------------------------------------------

    /// The workload's next payment ([`workload`]): drawn, built and signed
    /// against the sender's home node's view, then submitted there.
    #[inline(never)]
    fn payment(&mut self) {
        let w = self.wallets.len();
        if w < 2 {
            return;
        }
        let draw = workload::draw(w, &mut self.workload_rng);
        let (sender, recipient) = (draw.sender, draw.recipient);
        let home = self.wallets[sender].home;
        if !self.partitions.is_online(NodeId(home)) {
            self.metrics.payment_skipped();
            return;
        }
        let Kind::Full(full) = &self.nodes[home as usize].kind else {
            return;
        };
        // Spend the largest confirmed coin the home node does not already
        // see spent in its mempool.
        let coins = full.chain.utxos_of(&self.wallets[sender].pubkey_hash);
        let coin = workload::pick_coin(coins, |op| {
            !full.mempool.spends(op) && !self.flood.spends(op)
        });
        let Some((outpoint, value)) = coin else {
            self.metrics.payment_skipped();
            return;
        };
        let fee = self.cfg.fee_rate_sat_per_byte * workload::P2PKH_1IN_2OUT_BYTES;
        let Some((tx, pay)) = workload::build_payment(
            &self.wallets[sender],
            &self.wallets[recipient],
            outpoint,
            value,
            draw.frac,
            fee,
        ) else {
            self.metrics.payment_skipped();
            return;
        };
        let txid = tx.compute_txid();
        let now = self.queue.now();
        self.metrics
            .payment_issued(now, sender as u32, recipient as u32, &txid, pay);
        if let Some(observer) = self.observer.as_mut() {
            observer(
                now,
                Narration::Payment {
                    from: sender as u32,
                    to: recipient as u32,
                    sats: pay,
                    txid,
                    home,
                },
            );
        }
        match self.cfg.tx_relay {
            TxRelay::Messages => self.submit_tx(home, txid, Rc::new(tx)),
            TxRelay::Flood => self.flood_payment(home, txid, Rc::new(tx)),
        }
    }

    /// Validates a payment once at its home node (the real mempool rules
    /// against its chain) and floods it ([`flood`]).
    #[inline(never)]
    fn flood_payment(&mut self, home: NodeIdx, txid: Txid, tx: Rc<Transaction>) {
        let now = self.queue.now();
        let Kind::Full(full) = &self.nodes[home as usize].kind else {
            return;
        };
        let mut pool = Mempool::new(self.cfg.mempool_max_bytes);
        if let Err(e) = pool.accept(
            txid,
            tx.clone(),
            full.chain.utxos(),
            full.chain.height(),
            &self.cfg.params,
            self.cache.sigs(),
        ) {
            self.metrics.tx_rejected(e.reject_reason());
            return;
        }
        let nodes = &self.nodes;
        let peers = |u: usize| nodes[u].peers.as_slice();
        let net = flood::Network {
            peers: &peers,
            partitions: &self.partitions,
            cost: flood::HopCost {
                link: &self.cfg.link,
                regions: &self.regions,
                announce_interval: self.cfg.tx_announce_interval,
                processing: self.cfg.processing,
                control_processing: self.cfg.control_processing,
                tx_bytes: workload::P2PKH_1IN_2OUT_BYTES,
            },
        };
        let before = self.flood.arrivals();
        self.flood.add(txid, tx, now, home, &net);
        self.metrics.tx_arrivals(self.flood.arrivals() - before);
    }

    #[inline(never)]
    fn sample_balances(&mut self) {
        let now = self.queue.now();
        for (wi, w) in self.wallets.iter().enumerate() {
            if let Kind::Full(full) = &self.nodes[w.home as usize].kind {
                let bal = full.chain.balance(&w.pubkey_hash);
                self.metrics.balance(now, wi as u32, &w.pubkey_hash, bal);
            }
        }
    }

    // ----- timeline -----------------------------------------------------

    #[inline(never)]
    fn timeline(&mut self, index: usize) {
        let action = self.cfg.timeline[index].1.clone();
        self.apply_timeline(action);
    }

    /// Carries out a timeline action now (the scenario's, or the live lab's).
    #[inline(never)]
    fn apply_timeline(&mut self, action: TimelineAction) {
        // Every timeline action but a hashrate change moves links.
        self.flood.invalidate();
        self.metrics
            .timeline(self.queue.now(), format!("{action:?}"));
        match action {
            TimelineAction::Partition(groups) => {
                let groups = groups
                    .into_iter()
                    .map(|g| g.into_iter().map(NodeId).collect())
                    .collect();
                self.partitions
                    .partition(groups)
                    .expect("scenario validation checked the partition's node ids");
            }
            TimelineAction::HealAll => {
                self.partitions.heal_all();
                // Reconnected peers exchange tips so the better chain spreads.
                for i in 0..self.nodes.len() as u32 {
                    if self.partitions.is_online(NodeId(i)) {
                        self.call(i, Input::PeersChanged { ask_tips: false });
                    }
                }
            }
            TimelineAction::Offline(nodes) => {
                for n in nodes {
                    self.partitions.set_online(NodeId(n), false);
                    self.reschedule_mining(n);
                }
            }
            TimelineAction::Online(nodes) => {
                for n in nodes {
                    self.partitions.set_online(NodeId(n), true);
                    self.reschedule_mining(n);
                    self.call(n, Input::PeersChanged { ask_tips: true });
                }
            }
            TimelineAction::SetHashrate { node, hps } => {
                self.nodes[node as usize].spec.hashrate_hps = hps;
                self.metrics.hashrate_changed(self.queue.now(), node, hps);
                self.reschedule_mining(node);
            }
        }
    }

    // ----- end of run ---------------------------------------------------

    /// Ends the run and returns what was observed.
    pub fn finish(self) -> RunOutput {
        self.finish_retiring().0
    }

    /// [`World::finish`], also handing back the world's state (see
    /// [`Retired`]) instead of freeing it here.
    pub fn finish_retiring(mut self) -> (RunOutput, Retired) {
        self.sample_balances();
        // The final main chain: the most-work tip among online honest full
        // nodes (ties: lowest node index); attackers count only if no
        // honest full node is online.
        let attackers: Vec<NodeIdx> = self.cfg.adversaries.iter().map(|a| a.node()).collect();
        let mut best: Option<(crate::ledger::Work, NodeIdx)> = None;
        let mut tips = Vec::new();
        for honest_only in [true, false] {
            for (i, n) in self.nodes.iter().enumerate() {
                if let Kind::Full(full) = &n.kind {
                    if !self.partitions.is_online(NodeId(i as u32))
                        || (honest_only && attackers.contains(&(i as u32)))
                    {
                        continue;
                    }
                    tips.push(full.chain.tip());
                    let w = full.chain.chain_work();
                    if best.is_none_or(|(bw, _)| w > bw) {
                        best = Some((w, i as u32));
                    }
                }
            }
            if best.is_some() {
                break;
            }
        }
        let (_, best_node) = best.expect("a world has at least one full node");
        let Kind::Full(full) = &self.nodes[best_node as usize].kind else {
            unreachable!("best node is a full node")
        };
        let chain = &full.chain;
        let main_chain: Vec<BlockHash> = (0..=chain.height())
            .map(|h| {
                chain
                    .block_at_height(h)
                    .expect("active chain has every height")
            })
            .collect();
        let endowed = self
            .cfg
            .initial_balance
            .checked_mul((self.cfg.wallets + self.students) as u64)
            .and_then(|w| w.checked_add(Amount::from_sat_unchecked(self.attackers_endowment())))
            .unwrap_or(Amount::ZERO);
        let issued = (1..=chain.height())
            .map(|h| self.cfg.params.block_subsidy(h))
            .fold(endowed, |a, b| a.checked_add(b).unwrap_or(a));
        let final_tip = chain.tip();
        let converged = tips.iter().all(|t| *t == final_tip);
        let utxo_total = chain.utxos().total_value();
        let cache_stats = self.cache.stats();
        let node_summaries = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (height, tip) = match &n.kind {
                    Kind::Full(f) => (f.chain.height(), f.chain.tip()),
                    Kind::Light(l) => (l.headers.height(), l.headers.tip()),
                };
                crate::metrics::NodeFinal {
                    node: i as u32,
                    role: n.spec.role.name(),
                    region: n.spec.region,
                    hashrate_hps: n.spec.hashrate_hps,
                    peers: n.peers.len() as u32,
                    height,
                    tip,
                    peer_list: {
                        let mut p = n.peers.clone();
                        p.sort_unstable();
                        p
                    },
                }
            })
            .collect();
        let main_blocks: Vec<Rc<Block>> = main_chain
            .iter()
            .map(|h| chain.get_block(h).expect("active chain blocks are stored"))
            .collect();
        let confirmed = output::confirmed_txids(&main_blocks);
        self.metrics.mark_confirmed(&confirmed);
        self.finish_attacks(&confirmed);
        let cache = &self.cache;
        self.metrics.finish(node_summaries, &main_chain, |block| {
            let hash = cache.known_hash(block)?;
            cache.txids(&hash).map(<[Txid]>::to_vec)
        });
        let out = RunOutput {
            compact_relay: self.cfg.block_relay.compact,
            txs_confirmed: confirmed.len() as u64,
            metrics: self.metrics,
            digest: self.digest,
            final_tip,
            main_chain,
            main_chain_utxo_total: utxo_total,
            main_chain_issued: issued,
            converged,
            cache_stats,
        };
        let retired = Retired {
            _nodes: self.nodes,
            _cache: self.cache,
            _known: self.known,
            _queue: self.queue,
        };
        (out, retired)
    }
}

#[cfg(test)]
mod tests {
    use super::Node;
    use std::mem::offset_of;

    /// Only a run the height alone ends, at a modest height, reserves
    /// room in every chain (the memory budget counts no more).
    #[test]
    fn chains_are_reserved_only_for_a_height_stop() {
        let reservation = |stop: &str| {
            let scenario = crate::scenario::Scenario::from_yaml_str(
                &format!("name: r\nstop: {stop}\nnodes: {{ count: 3 }}\n"),
                "r.yaml",
                &[],
            )
            .unwrap();
            super::chain_reservation(&super::Config::from_scenario(&scenario).unwrap())
        };
        assert_eq!(reservation("{ height: 100 }"), Some(104));
        assert_eq!(reservation("{ height: 1024 }"), Some(1028));
        assert_eq!(reservation("{ height: 1025 }"), None);
        assert_eq!(reservation("{ height: 100, time: 1m }"), None);
        assert_eq!(reservation("{ height: 100, events: 5000 }"), None);
        assert_eq!(reservation("{ time: 1h }"), None);
    }

    /// `finish_retiring` gives what `finish` gives, and hands back every
    /// node's state (the world's nodes, still whole) for the caller to
    /// free or abandon.
    #[test]
    fn finish_retiring_gives_the_same_output_and_keeps_the_nodes() {
        let world = || {
            let scenario = crate::scenario::Scenario::from_yaml_str(
                "name: r\nstop: { height: 3 }\nnodes: { count: 4 }\nconsensus: { difficulty_bits: 4 }\n",
                "r.yaml",
                &[],
            )
            .unwrap();
            let mut w = super::World::new(super::Config::from_scenario(&scenario).unwrap());
            w.run();
            w
        };
        let plain = world().finish();
        let (out, retired) = world().finish_retiring();
        assert_eq!(out.digest.hex(), plain.digest.hex());
        assert_eq!(out.main_chain, plain.main_chain);
        assert_eq!(out.main_chain.len(), 4);
        assert_eq!(retired._nodes.len(), 4);
        for n in &retired._nodes {
            let super::Kind::Full(full) = &n.kind else {
                panic!("every node here is a full node")
            };
            assert_eq!(full.chain.tip(), out.final_tip);
        }
    }

    /// The run loop prefetches a node's record up to `mine_rng`: every
    /// field an event reads lies before it. (A `repr(C)` lost in an edit let
    /// the compiler move `adv`, read on every event, past it.)
    #[test]
    fn a_node_record_keeps_what_events_read_before_its_mining_rng() {
        let end = offset_of!(Node, mine_rng);
        for (field, at) in [
            ("kind", offset_of!(Node, kind)),
            ("adv", offset_of!(Node, adv)),
            ("peers", offset_of!(Node, peers)),
            ("mine_event", offset_of!(Node, mine_event)),
            ("mine_rate", offset_of!(Node, mine_rate)),
            ("spec", offset_of!(Node, spec)),
            ("net_rng", offset_of!(Node, net_rng)),
        ] {
            assert!(at < end, "{field} at {at}, past mine_rng at {end}");
        }
        assert!(end < std::mem::size_of::<Node>());
    }
}
