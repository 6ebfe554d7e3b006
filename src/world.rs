//! A whole run: builds the world from a [`Config`], runs the event loop and
//! hands the recorded metrics to the output writer.
//!
//! One [`EventQueue`] orders everything by `(time, sequence)`. Nodes are
//! plain state in a `Vec`, indexed by [`NodeIdx`]; blocks and transactions
//! are immutable `Arc`s stored once, and the shared [`BlockCache`] memoises
//! everything that is a pure function of a block (its validity against its
//! ancestry, the UTXO set after it, signature checks), so ten thousand nodes
//! on the same tip share one UTXO set. Each node still runs the ledger's
//! [`Chainstate`]: its own block tree, fork choice, reorgs and mempool.
//!
//! Adversaries (`attack.rs`) are full nodes whose decisions come from a
//! [`crate::adversary::Adversary`] strategy: an active attacker mines on a
//! private chainstate and publishes through the normal relay path when its
//! strategy says so. Honest nodes score peers that send invalid data and
//! drop them at Core's threshold. A run without adversaries pays one branch
//! per mined block and tip change for all this.
//!
//! Mining is modelled, not ground (unless `pow.grind`): a miner with hashrate
//! `h` finds its next block after an exponential time with mean
//! `expected_hashes(target) / h`. On a tip change the pending event is kept
//! while that rate is unchanged and redrawn when it changes (the process is
//! memoryless, so both are the same process). When the event fires the
//! miner assembles a real block on its current tip from its mempool.

mod attack;
pub mod config;
pub mod digest;
pub mod event;
pub mod flood;
pub mod output;

use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use crate::ledger::chainstate::{AcceptStatus, BlockCache, Chainstate, TipChange};
use crate::ledger::keys::PrivateKey;
use crate::ledger::merkle::MerkleProof;
use crate::ledger::pow::{self, Target};
use crate::ledger::spv::HeaderChain;
use crate::ledger::{
    sighash, Amount, Block, BlockHash, Header, ScriptBuf, Transaction, TxIn, TxOut, Txid,
};
use crate::metrics::Recorder;
use crate::net::link::Uplink;
use crate::net::partition::Partitions;
use crate::net::topology::NodeId;
use crate::node::mempool::Mempool;
use crate::node::score;
use crate::scenario::TxRelay;
use crate::sim::{EventId, EventQueue, RngStreams, SimDuration, SimTime};

pub use config::{Config, NodeSpec, Role, TimelineAction};
pub use digest::EventDigest;
pub use event::{Event, Msg, NodeIdx};

/// How long a node waits for a requested block or transaction before it
/// asks another peer that announces it.
const REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(20);

/// Bytes a P2PKH spend with one input and two outputs takes (for fees).
const P2PKH_1IN_2OUT_BYTES: u64 = 226;

/// The shared block cache keeps the UTXO set after each of the last this
/// many heights below the best mined block (pruned every this many heights).
const SNAPSHOT_KEEP: u32 = 16;

/// Per mined block: which nodes hold it (bitset) and when each requested
/// it. Node state kept column-wise so the common "already have it" check
/// touches one small array instead of every node's block tree.
struct BlockTrack {
    /// Mined by an active attacker (honest nodes in the γ set prefer it in
    /// a tie).
    by_attacker: bool,
    have: Vec<u64>,
    /// Request time per node in ns, `u64::MAX` = none. Freed once every
    /// node holds the block.
    requested_at: Vec<u64>,
    holders: usize,
}

impl BlockTrack {
    fn new(nodes: usize, by_attacker: bool) -> Self {
        BlockTrack {
            by_attacker,
            have: vec![0; nodes.div_ceil(64)],
            requested_at: vec![u64::MAX; nodes],
            holders: 0,
        }
    }

    fn has(&self, i: NodeIdx) -> bool {
        self.have[i as usize / 64] & (1 << (i % 64)) != 0
    }

    fn set_have(&mut self, i: NodeIdx) {
        if !self.has(i) {
            self.have[i as usize / 64] |= 1 << (i % 64);
            self.holders += 1;
            if self.holders == self.requested_at.len() {
                self.requested_at = Vec::new();
            }
        }
    }

    fn set_requested(&mut self, i: NodeIdx, now: SimTime) {
        if let Some(r) = self.requested_at.get_mut(i as usize) {
            *r = now.as_nanos();
        }
    }

    fn wants(&self, i: NodeIdx, at: SimTime) -> bool {
        if self.has(i) {
            return false;
        }
        match self.requested_at.get(i as usize) {
            Some(&r) if r != u64::MAX => {
                at.saturating_duration_since(SimTime::from_nanos(r)) >= REQUEST_TIMEOUT
            }
            _ => true,
        }
    }
}

/// Per transaction relayed: which nodes have seen it and which have a
/// request for it in flight (column-wise, like [`BlockTrack`]). A node
/// never requests a transaction it has seen, even after it left the
/// mempool (Bitcoin keeps recently confirmed and rejected ids for the same
/// reason). Bitsets are freed once every full node has seen it.
struct TxTrack {
    seen: Vec<u64>,
    requested: Vec<u64>,
    seen_count: usize,
    all_seen: bool,
}

impl TxTrack {
    fn new(nodes: usize) -> Self {
        let words = nodes.div_ceil(64);
        TxTrack {
            seen: vec![0; words],
            requested: vec![0; words],
            seen_count: 0,
            all_seen: false,
        }
    }

    fn bit(v: &[u64], i: NodeIdx) -> bool {
        v.get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn seen(&self, i: NodeIdx) -> bool {
        self.all_seen || Self::bit(&self.seen, i)
    }

    fn requested(&self, i: NodeIdx) -> bool {
        Self::bit(&self.requested, i)
    }

    fn set_requested(&mut self, i: NodeIdx, on: bool) {
        if let Some(w) = self.requested.get_mut(i as usize / 64) {
            if on {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }

    fn set_seen(&mut self, i: NodeIdx, full_nodes: usize) {
        if self.seen(i) {
            return;
        }
        self.seen[i as usize / 64] |= 1 << (i % 64);
        self.seen_count += 1;
        if self.seen_count >= full_nodes {
            self.all_seen = true;
            self.seen = Vec::new();
            self.requested = Vec::new();
        }
    }
}

/// A full node's state. `repr(C)` keeps the chain state first, where the
/// run loop prefetches it.
#[repr(C)]
struct FullState {
    chain: Chainstate,
    mempool: Mempool,
    /// Accepted transactions not yet announced.
    tx_to_announce: Vec<Txid>,
    tx_flush_pending: bool,
    /// Coinbase destination (derived when the node first mines: key
    /// derivation costs a scalar multiplication, and most relays never mine).
    payout: Option<ScriptBuf>,
    extra_nonce: u64,
}

/// A light client's state.
struct LightState {
    headers: HeaderChain,
    /// The wallet whose payments it verifies.
    watched: [u8; 20],
    /// Proofs already checked (each full peer sends the same proof; one
    /// check per payment and block is recorded).
    checked: std::collections::BTreeSet<(Txid, BlockHash)>,
}

enum Kind {
    Full(Box<FullState>),
    Light(Box<LightState>),
}

/// A node. `repr(C)`: the fields every relay event reads come first, then
/// the relay RNG, then the mining RNG (read only when a miner's rate
/// changes), so the run loop prefetches a prefix of the record.
#[repr(C)]
struct Node {
    kind: Kind,
    peers: Vec<NodeIdx>,
    /// Light clients attached to this full node.
    light_peers: Vec<NodeIdx>,
    mine_event: Option<EventId>,
    /// The `(bits, hashrate)` the pending mining event was drawn for.
    mine_rate: (crate::ledger::CompactTarget, f64),
    /// Index into `World::adversaries` while the node is an active
    /// attacker mining a private branch (`None` for every honest node, so
    /// honest events pay one branch for adversaries).
    adv: Option<u16>,
    spec: NodeSpec,
    net_rng: ChaCha12Rng,
    mine_rng: ChaCha12Rng,
}

impl Node {
    /// Addresses of the node's boxed full state (0 for a light client) and
    /// of its peer list's buffer (see `World::hint_addrs`).
    fn hint_addrs(&self) -> (usize, usize) {
        let full = match &self.kind {
            Kind::Full(full) => (&**full as *const FullState).addr(),
            Kind::Light(_) => 0,
        };
        (full, self.peers.as_ptr().addr())
    }
}

/// A simulated user with a real key.
pub struct Wallet {
    /// Secret key.
    pub key: PrivateKey,
    /// hash160 of the public key.
    pub pubkey_hash: [u8; 20],
    /// Its P2PKH locking script.
    pub script_pubkey: ScriptBuf,
    /// The full node it uses to see its coins and submit payments.
    pub home: NodeIdx,
}

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
    genesis: Arc<Block>,
    mining: bool,
    ended: bool,
    /// Highest block height mined so far.
    best_mined_height: u32,
    /// Every mined block's index into `tracks`.
    block_ids: crate::ledger::hash::HashKeyMap<BlockHash, u32>,
    /// Per mined block, which nodes hold it and which have requested it.
    tracks: Vec<BlockTrack>,
    /// Each node's region (a compact copy of `spec.region` for the relay loop).
    regions: Vec<u16>,
    /// Every relayed transaction's index into `tx_tracks`.
    tx_ids: crate::ledger::hash::HashKeyMap<Txid, u32>,
    /// Per transaction, who has seen or requested it.
    tx_tracks: Vec<TxTrack>,
    /// Number of full nodes.
    full_count: usize,
    /// Last `(bits, expected hashes per block)` computed.
    expected_hashes: (crate::ledger::CompactTarget, f64),
    trace: Option<TraceFn>,
    /// Attackers (empty in an honest run).
    adversaries: Vec<attack::AdvRuntime>,
    /// Per node: in Eyal–Sirer's γ set (prefers an attacker's block in a
    /// tie). Empty unless some adversary sets `gamma`.
    gamma_nodes: Vec<bool>,
    /// Misbehaviour scores honest nodes keep of their peers.
    scores: crate::node::score::PeerScores,
    /// Flooded payments (`workload.relay: flood`; unused with `messages`).
    flood: flood::Flood,
    /// Per node, the addresses of its boxed [`FullState`] (0 for a light
    /// client) and of its peer list's buffer: prefetch hints only, never
    /// dereferenced (a stale one would only waste a prefetch).
    hint_addrs: Vec<(usize, usize)>,
}

impl World {
    /// Builds the world: genesis block (endowing the wallets), nodes, peers,
    /// wallets, and the first events.
    pub fn new(cfg: Config) -> World {
        let streams = RngStreams::new(cfg.seed);
        let n = cfg.nodes.len();

        // Wallet keys are derived from the seed so a run is reproducible.
        let mut wallet_rng = streams.stream("wallet-keys", 0);
        let full_nodes: Vec<NodeIdx> = (0..n as u32)
            .filter(|i| cfg.nodes[*i as usize].role != Role::Light)
            .collect();
        let wallets: Vec<Wallet> = (0..cfg.wallets)
            .map(|i| {
                let mut material = [0u8; 32];
                wallet_rng.fill(&mut material);
                let key = PrivateKey::derive(&material);
                let pubkey_hash = key.public_key().pubkey_hash();
                Wallet {
                    script_pubkey: ScriptBuf::new_p2pkh(&pubkey_hash),
                    pubkey_hash,
                    key,
                    home: full_nodes[i * full_nodes.len() / cfg.wallets.max(1)],
                    // `i * len / wallets` spreads wallets evenly over full nodes.
                }
            })
            .collect();

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
        let genesis = Arc::new(crate::ledger::chainstate::new_genesis(
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
                    Kind::Light(Box::new(LightState {
                        headers: HeaderChain::new(genesis.header, cfg.params.clone()),
                        watched,
                        checked: Default::default(),
                    }))
                }
                _ => Kind::Full(Box::new(FullState {
                    chain: Chainstate::new(genesis.clone(), cfg.params.clone(), &mut cache),
                    mempool: Mempool::new(cfg.mempool_max_bytes),
                    tx_to_announce: Vec::new(),
                    tx_flush_pending: false,
                    payout: None,
                    extra_nonce: 0,
                })),
            };
            nodes.push(Node {
                spec: spec.clone(),
                kind,
                peers: Vec::new(),
                light_peers: Vec::new(),
                mine_event: None,
                mine_rate: (crate::ledger::CompactTarget::from_consensus(0), 0.0),
                mine_rng: streams.stream("mine", i as u64),
                net_rng: streams.stream("net", i as u64),
                adv: None,
            });
        }
        // Full-node peers come from the topology, indexed over full nodes.
        for (ti, &node) in full_nodes.iter().enumerate() {
            nodes[node as usize].peers = cfg
                .topology
                .neighbors(NodeId(ti as u32))
                .iter()
                .map(|p| full_nodes[p.0 as usize])
                .collect();
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
            for &p in &chosen {
                nodes[p as usize].light_peers.push(i as u32);
            }
            nodes[i].peers = chosen;
        }

        let uplinks = (0..n).map(|_| Uplink::default()).collect();
        let metrics = Recorder::new(&cfg, &genesis);
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
            block_ids: Default::default(),
            tracks: Vec::new(),
            regions: cfg.nodes.iter().map(|n| n.region as u16).collect(),
            tx_ids: Default::default(),
            tx_tracks: Vec::new(),
            full_count: cfg.nodes.iter().filter(|n| n.role != Role::Light).count(),
            expected_hashes: (crate::ledger::CompactTarget::from_consensus(0), 0.0),
            trace: None,
            adversaries: Vec::new(),
            gamma_nodes: Vec::new(),
            scores: crate::node::score::PeerScores::with_nodes(n),
            flood: flood::Flood::default(),
            hint_addrs: nodes.iter().map(Node::hint_addrs).collect(),
            nodes,
            cache,
            cfg,
        };
        world.install_adversaries(attack_plans, first_attack_vout);
        world.schedule_initial();
        world
    }

    /// Installs a callback that sees every event as it is processed (`sim replay --trace`).
    pub fn set_trace(&mut self, f: TraceFn) {
        self.trace = Some(f);
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
    pub fn genesis(&self) -> &Arc<Block> {
        &self.genesis
    }

    fn schedule_initial(&mut self) {
        for i in 0..self.nodes.len() as u32 {
            self.reschedule_mining(i);
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
            let Some(next) = self.queue.pop() else {
                self.ended = true;
                break;
            };
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
    fn prefetch_next(&self) {
        self.queue.prefetch_upcoming();
        // Hints are the node an event happens at (NO_HINT, out of range,
        // for the rest), read beside the key without touching the event.
        for hint in [self.queue.peek_second_hint(), self.queue.peek_hint()]
            .into_iter()
            .flatten()
        {
            let to = hint as usize;
            if let Some(node) = self.nodes.get(to) {
                crate::sim::prefetch_prefix(node, std::mem::offset_of!(Node, mine_rng));
                // From the noted address: reading the box pointer out of the
                // record would wait for the record's own fetch.
                let (full, peers) = self.hint_addrs[to];
                crate::sim::prefetch_range(full, std::mem::offset_of!(FullState, tx_to_announce));
                crate::sim::prefetch_range(peers, 128);
                crate::sim::prefetch(&self.uplinks[to]);
            }
        }
        if let Some(Event::Deliver {
            to,
            msg: Msg::Block(_, hash, _),
            ..
        }) = self.queue.peek()
        {
            if let Some(Kind::Full(full)) = self.nodes.get(*to as usize).map(|n| &n.kind) {
                full.chain.prefetch_accept(hash);
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
                    self.metrics.message_dropped();
                }
            }
            Event::TxFlush { node } => self.flush_tx(node),
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
            Event::Adversary { index } => self.adversary_timer(index as usize),
        }
    }

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

    // ----- mining -------------------------------------------------------

    /// Makes sure miner `i` has a pending `Mine` event drawn for its
    /// current rate, or none when it cannot mine.
    ///
    /// Called on every tip change. Discovery is memoryless: the time left
    /// until a miner's next block is exponential with the same mean however
    /// long it has already mined, so an event drawn for the same
    /// `(bits, hashrate)` stays exactly as valid after the tip moves (the
    /// block is built on whatever the tip is when it fires). It is only
    /// cancelled and redrawn when the rate changes: a retarget or a branch
    /// with other bits, a hashrate change, going offline, or mining ending.
    fn reschedule_mining(&mut self, i: NodeIdx) {
        let mining = self.mining;
        let online = self.partitions.is_online(NodeId(i));
        let node = &mut self.nodes[i as usize];
        let Kind::Full(full) = &node.kind else {
            return;
        };
        if !mining || !online || node.spec.hashrate_hps <= 0.0 {
            if let Some(ev) = node.mine_event.take() {
                self.queue.cancel(ev);
            }
            return;
        }
        let bits = match node.adv {
            // An active attacker mines on its private branch.
            Some(a) => self.adversaries[a as usize]
                .private_next_bits()
                .unwrap_or_else(|| full.chain.next_bits()),
            None => full.chain.next_bits(),
        };
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

    fn block_time_secs(&self) -> u32 {
        self.cfg
            .genesis_time
            .saturating_add(self.queue.now().as_secs().min(u32::MAX as u64) as u32)
    }

    fn mine(&mut self, i: NodeIdx) {
        if let Some(a) = self.nodes[i as usize].adv {
            self.mine_private(a as usize);
            return;
        }
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let tip = full.chain.tip_info().clone();
        // Room for the header, tx count and coinbase.
        let budget = self.cfg.params.max_block_size.saturating_sub(1000);
        let flooding = self.cfg.tx_relay == TxRelay::Flood;
        let picked = if flooding {
            self.flood
                .mempool_for(
                    i,
                    self.queue.now(),
                    &full.chain,
                    &self.cfg.params,
                    &mut self.cache,
                    self.cfg.mempool_max_bytes,
                )
                .select(budget)
        } else {
            full.mempool.select(budget)
        };
        let txids: Vec<Txid> = picked.iter().map(|(t, _, _)| *t).collect();
        let block = self.assemble_block(i, &tip, picked);
        let hash = block.block_hash();
        let height = tip.height + 1;
        if flooding {
            self.flood.mined(hash, txids);
        }
        self.record_mined(i, &block, hash, height, false);
        self.receive_block(i, None, block, hash);
        self.check_stop_height(height);
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
    fn record_mined(
        &mut self,
        i: NodeIdx,
        block: &Arc<Block>,
        hash: BlockHash,
        height: u32,
        by_attacker: bool,
    ) {
        let now = self.queue.now();
        self.metrics.block_mined(now, i, block, hash, height);
        self.block_ids.insert(hash, self.tracks.len() as u32);
        self.tracks
            .push(BlockTrack::new(self.nodes.len(), by_attacker));
        if height > self.best_mined_height && height % SNAPSHOT_KEEP == 0 {
            // Old UTXO snapshots only speed up deep reorgs and stragglers,
            // which then apply blocks and undo data themselves.
            self.cache
                .prune_snapshots_below(height.saturating_sub(SNAPSHOT_KEEP));
        }
        self.best_mined_height = self.best_mined_height.max(height);
    }

    /// Assembles node `i`'s block on `tip` with the transactions `picked`
    /// (coinbase paying subsidy plus their fees to the node's key, padding
    /// to `block_fill_bytes`, Merkle root, and a ground nonce if `pow.grind`).
    fn assemble_block(
        &mut self,
        i: NodeIdx,
        tip: &crate::ledger::chainstate::BlockInfo,
        picked: Vec<(Txid, Arc<Transaction>, Amount)>,
    ) -> Arc<Block> {
        let now_secs = self.block_time_secs();
        let params = self.cfg.params.clone();
        let grind = self.cfg.grind;
        let fill = self.cfg.block_fill_bytes;
        let node = &mut self.nodes[i as usize];
        let Kind::Full(full) = &mut node.kind else {
            unreachable!("only full nodes mine")
        };
        let height = tip.height + 1;
        let bits = tip.next_bits;
        let time = now_secs.max(tip.median_time_past + 1);
        let fees = Amount::checked_sum(picked.iter().map(|(_, _, f)| *f)).unwrap_or(Amount::ZERO);
        let reward = params
            .block_subsidy(height)
            .checked_add(fees)
            .expect("subsidy plus fees stays within the supply");
        full.extra_nonce += 1;
        let payout = full
            .payout
            .get_or_insert_with(|| {
                let key = PrivateKey::derive(format!("forklab miner {i}").as_bytes());
                ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash())
            })
            .clone();
        let mut coinbase = Transaction::new_coinbase(height, full.extra_nonce, reward, payout);
        let mut txdata = Vec::with_capacity(picked.len() + 1);
        let body_size: usize = picked.iter().map(|(_, t, _)| t.size()).sum();
        if fill > 0 {
            let size_now = 80 + 3 + coinbase.size() + body_size;
            if size_now + 16 < fill {
                let pad = fill - size_now - 16;
                coinbase.output.push(TxOut {
                    value: Amount::ZERO,
                    script_pubkey: op_return_padding(pad),
                });
            }
        }
        txdata.push(coinbase);
        txdata.extend(picked.into_iter().map(|(_, t, _)| (*t).clone()));
        if fill > 0 && txdata[0].output.len() == 2 {
            // Trim the padding so the block is exactly `fill` bytes (the
            // estimate above ignores varint widths).
            for _ in 0..3 {
                let size = 80
                    + crate::ledger::encode::varint_len(txdata.len() as u64)
                    + txdata.iter().map(|t| t.size()).sum::<usize>();
                if size == fill {
                    break;
                }
                let pad = txdata[0].output[1].script_pubkey.len() - 6;
                let pad = (pad + fill).saturating_sub(size);
                txdata[0].output[1].script_pubkey = op_return_padding(pad);
            }
        }
        let mut block = Block {
            header: Header {
                version: 0x2000_0000,
                prev_blockhash: tip.hash,
                merkle_root: crate::ledger::MerkleNode::ZERO,
                time,
                bits,
                nonce: 0,
            },
            txdata,
        };
        block.header.merkle_root = block.compute_merkle_root().expect("a block has a coinbase");
        if grind {
            let target = Target::from_compact(bits).expect("next_bits is a valid target");
            pow::grind(&mut block.header, target, u64::MAX)
                .expect("grinding at a teaching difficulty ends");
        }
        Arc::new(block)
    }

    // ----- messages -----------------------------------------------------

    /// Sends `msg` from `from` to `to`: the sender's uplink serialises
    /// messages; the delivery time adds latency, the receiver's processing
    /// delay and, for blocks, its validation cost.
    fn send(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let at = self.delivery_time(from, to, &msg);
        self.metrics.message_sent(msg.wire_size());
        self.queue
            .schedule_hinted(at, Event::Deliver { from, to, msg }, to)
            .expect("delivery is never in the past");
    }

    /// When `msg` sent now from `from` would arrive at `to` (reserving the
    /// sender's uplink for payloads and drawing the link latency).
    fn delivery_time(&mut self, from: NodeIdx, to: NodeIdx, msg: &Msg) -> SimTime {
        let now = self.queue.now();
        let bytes = msg.wire_size();
        let (fr, tr) = (
            self.regions[from as usize] as usize,
            self.regions[to as usize] as usize,
        );
        let done = if msg.uses_uplink() {
            let tx_time = self.cfg.link.transmission(bytes, fr, tr);
            self.uplinks[from as usize].enqueue(now, tx_time).1
        } else {
            now
        };
        let latency = self
            .cfg
            .link
            .latency(fr, tr, &mut self.nodes[from as usize].net_rng);
        let mut at = done + latency + self.cfg.processing;
        if let Msg::Block(b, _, _) = msg {
            at += self.cfg.validation_per_block
                + self
                    .cfg
                    .validation_per_tx
                    .saturating_mul(b.txdata.len() as u64);
        }
        at
    }

    /// Whether node `i` would request block `h` at time `at`: it does not
    /// hold it and has no request for it younger than [`REQUEST_TIMEOUT`].
    fn wants_block(&self, i: NodeIdx, h: &BlockHash, at: SimTime) -> bool {
        match self.block_ids.get(h) {
            Some(&b) => self.tracks[b as usize].wants(i, at),
            // Not a mined block: genesis (everyone has it) or unknown.
            None => match &self.nodes[i as usize].kind {
                Kind::Full(full) => !full.chain.contains(h),
                Kind::Light(_) => false,
            },
        }
    }

    fn deliver(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let now = self.queue.now();
        match msg {
            Msg::InvBlocks(hashes) => {
                // The wanted hashes, built only once one is not wanted:
                // requesting everything announced (the usual case) shares
                // the announcement's list.
                let mut want: Option<Vec<BlockHash>> = None;
                for (k, h) in hashes.iter().enumerate() {
                    if self.wants_block(to, h, now) {
                        if let Some(&b) = self.block_ids.get(h) {
                            self.tracks[b as usize].set_requested(to, now);
                        }
                        if let Some(w) = want.as_mut() {
                            w.push(*h);
                        }
                    } else if want.is_none() {
                        want = Some(hashes[..k].to_vec());
                    }
                }
                match want {
                    None if !hashes.is_empty() => self.send(to, from, Msg::GetBlocks(hashes)),
                    Some(w) if !w.is_empty() => self.send(to, from, Msg::GetBlocks(w.into())),
                    _ => {}
                }
            }
            Msg::GetBlocks(hashes) => {
                let Kind::Full(full) = &self.nodes[to as usize].kind else {
                    return;
                };
                if self.adversaries.is_empty()
                    && full.chain.orphan_count() == 0
                    && full.chain.orphans_dropped() == 0
                {
                    // Without attackers (who hold private blocks outside
                    // their trees) and with no orphan held or dropped, every
                    // block a node ever held (its track says so) is in its
                    // block tree, which holds the very
                    // `Arc` the shared cache interned: serve from the cache's
                    // copy and skip a probe of the node's own index. Same
                    // blocks, same order as the lookup below.
                    let held = |w: &World, h: &BlockHash| {
                        w.block_ids
                            .get(h)
                            .is_some_and(|&b| w.tracks[b as usize].has(to))
                    };
                    if hashes.iter().all(|h| held(self, h)) {
                        for h in hashes.iter() {
                            if let Some(info) = self.cache.info(h) {
                                let msg = Msg::Block(info.block.clone(), *h, info.size as u32);
                                self.send(to, from, msg);
                            }
                        }
                        return;
                    }
                }
                let Kind::Full(full) = &self.nodes[to as usize].kind else {
                    return;
                };
                // An attacker also serves the private blocks it showed.
                let private = self.nodes[to as usize]
                    .adv
                    .and_then(|a| self.adversaries[a as usize].private_chain());
                let blocks: Vec<_> = hashes
                    .iter()
                    .filter_map(|h| {
                        full.chain
                            .info(h)
                            .or_else(|| private.and_then(|p| p.info(h)))
                            .map(|i| (i.block.clone(), *h, i.size as u32))
                    })
                    .collect();
                for (b, h, size) in blocks {
                    self.send(to, from, Msg::Block(b, h, size));
                }
            }
            Msg::Block(block, hash, _) => self.receive_block(to, Some(from), block, hash),
            Msg::SendTip => {
                let Kind::Full(full) = &self.nodes[to as usize].kind else {
                    return;
                };
                let tip = full.chain.tip();
                self.send(to, from, Msg::InvBlocks(Arc::from(vec![tip])));
            }
            Msg::InvTx(txids) => {
                let want: Vec<Txid> = txids
                    .iter()
                    .filter(|t| {
                        let k = self.tx_track(t);
                        let track = &mut self.tx_tracks[k];
                        let wanted = !track.seen(to) && !track.requested(to);
                        if wanted {
                            track.set_requested(to, true);
                        }
                        wanted
                    })
                    .copied()
                    .collect();
                if !want.is_empty() {
                    self.send(to, from, Msg::GetTx(want));
                }
            }
            Msg::GetTx(txids) => {
                let Kind::Full(full) = &self.nodes[to as usize].kind else {
                    return;
                };
                let (found, missing): (Vec<Txid>, Vec<Txid>) =
                    txids.iter().partition(|t| full.mempool.contains(t));
                let txs: Vec<_> = found
                    .iter()
                    .filter_map(|t| full.mempool.get(t).map(|tx| (*t, tx.clone())))
                    .collect();
                if !txs.is_empty() {
                    self.send(to, from, Msg::Txs(txs));
                }
                if !missing.is_empty() {
                    // Bitcoin's `notfound`: the requester may ask elsewhere.
                    self.send(to, from, Msg::NotFound(missing));
                }
            }
            Msg::NotFound(txids) => {
                for t in &txids {
                    let k = self.tx_track(t);
                    self.tx_tracks[k].set_requested(to, false);
                }
            }
            Msg::Txs(txs) => {
                for (txid, tx) in txs {
                    self.accept_tx(to, Some(from), txid, tx);
                }
            }
            Msg::Headers(headers) => {
                let Kind::Light(light) = &mut self.nodes[to as usize].kind else {
                    return;
                };
                let now_secs = self
                    .cfg
                    .genesis_time
                    .saturating_add(now.as_secs().min(u32::MAX as u64) as u32);
                for h in headers.iter() {
                    // Headers already known (from another peer) are fine;
                    // real rejections are counted.
                    if let Err(e) = light.headers.accept_header(*h, now_secs) {
                        self.metrics.rejected(&e.to_string());
                    }
                }
            }
            Msg::MerkleBlock { block, proofs } => {
                let Kind::Light(light) = &mut self.nodes[to as usize].kind else {
                    return;
                };
                for proof in proofs {
                    if light.checked.contains(&(proof.txid, block)) {
                        continue;
                    }
                    let verdict = light.headers.verify_payment(&proof, &block);
                    if verdict.is_ok() {
                        light.checked.insert((proof.txid, block));
                    }
                    self.metrics.spv_check(
                        now,
                        to,
                        &proof.txid,
                        &block,
                        verdict.map_err(|e| e.to_string()),
                    );
                }
            }
        }
    }

    fn accept_tx(
        &mut self,
        node: NodeIdx,
        from: Option<NodeIdx>,
        txid: Txid,
        tx: Arc<Transaction>,
    ) {
        let now = self.queue.now();
        let params = self.cfg.params.clone();
        let k = self.tx_track(&txid);
        self.tx_tracks[k].set_requested(node, false);
        self.tx_tracks[k].set_seen(node, self.full_count);
        let Kind::Full(full) = &mut self.nodes[node as usize].kind else {
            return;
        };
        let height = full.chain.height();
        match full.mempool.accept(
            txid,
            tx,
            full.chain.utxos(),
            height,
            &params,
            self.cache.sigs(),
        ) {
            Ok(_) => {
                self.metrics.tx_accepted(now, node, &txid);
                full.tx_to_announce.push(txid);
                if !full.tx_flush_pending {
                    full.tx_flush_pending = true;
                    self.queue
                        .schedule_after(self.cfg.tx_announce_interval, Event::TxFlush { node });
                }
            }
            Err(e) => {
                self.metrics.tx_rejected(&e);
                if let Some(p) = from {
                    self.penalise(node, p, score::mempool_penalty(&e));
                }
            }
        }
    }

    fn flush_tx(&mut self, node: NodeIdx) {
        let Kind::Full(full) = &mut self.nodes[node as usize].kind else {
            return;
        };
        full.tx_flush_pending = false;
        let batch: Vec<Txid> = std::mem::take(&mut full.tx_to_announce)
            .into_iter()
            .filter(|t| full.mempool.contains(t))
            .collect();
        if batch.is_empty() {
            return;
        }
        let ids: Vec<usize> = batch.iter().map(|t| self.tx_track(t)).collect();
        let batch: Arc<[Txid]> = Arc::from(batch);
        let peers = self.nodes[node as usize].peers.clone();
        for p in peers {
            // Having seen a transaction is permanent: announcing it to a
            // peer that has would do nothing on arrival.
            let unseen = ids.iter().filter(|&&k| !self.tx_tracks[k].seen(p)).count();
            if unseen == 0 {
                continue;
            }
            let inv = if unseen == ids.len() {
                batch.clone()
            } else {
                batch
                    .iter()
                    .zip(&ids)
                    .filter(|(_, &k)| !self.tx_tracks[k].seen(p))
                    .map(|(t, _)| *t)
                    .collect()
            };
            self.send(node, p, Msg::InvTx(inv));
        }
    }

    /// The index of `txid`'s [`TxTrack`], created on first sight.
    fn tx_track(&mut self, txid: &Txid) -> usize {
        if let Some(&k) = self.tx_ids.get(txid) {
            return k as usize;
        }
        let k = self.tx_tracks.len();
        self.tx_ids.insert(*txid, k as u32);
        self.tx_tracks.push(TxTrack::new(self.nodes.len()));
        k
    }

    /// A full node receives a block (from a peer, or `None` when it mined it).
    ///
    /// Rejections are counted by their Core reject reason and scored
    /// against the sending peer ([`crate::node::score`]); a peer that
    /// reaches the threshold is disconnected. Orphans are scored as
    /// unconnecting only when their missing parent was never mined (a
    /// made-up parent): orphans from honest peers after a partition are
    /// normal, and the simulator knows which parents exist.
    fn receive_block(
        &mut self,
        i: NodeIdx,
        from: Option<NodeIdx>,
        block: Arc<Block>,
        hash: BlockHash,
    ) {
        let now = self.queue.now();
        let now_secs = self.block_time_secs();
        if let (Some(a), Some(_)) = (self.nodes[i as usize].adv, from) {
            if self.attacker_private_child(a as usize, &block) {
                if let Some(&b) = self.block_ids.get(&hash) {
                    self.tracks[b as usize].set_have(i);
                }
                return;
            }
        }
        let Kind::Full(full) = &mut self.nodes[i as usize].kind else {
            return;
        };
        let outcome = full.chain.accept_block(block, now_secs, &mut self.cache);
        // Accepted, orphaned or already known: the block is in the node's
        // tree. A rejected one may still have been recorded as invalid.
        let holds = outcome.is_ok() || full.chain.contains(&hash);
        if holds {
            if let Some(&b) = self.block_ids.get(&hash) {
                self.tracks[b as usize].set_have(i);
            }
        }
        match outcome {
            Err(e) => {
                self.metrics.rejected(e.reject_reason());
                if let Some(p) = from {
                    self.penalise(i, p, score::block_penalty(&e));
                }
            }
            Ok(outcome) => {
                for (h, e) in &outcome.newly_invalid {
                    self.metrics.rejected(e.reject_reason());
                    if let (Some(p), true) = (from, *h == hash) {
                        self.penalise(i, p, score::block_penalty(e));
                    }
                }
                let mut accepted = false;
                match outcome.status {
                    AcceptStatus::AlreadyKnown => {}
                    AcceptStatus::Orphan { missing_parent } => {
                        self.metrics.block_arrived(now, i, &hash);
                        if let Some(peer) = from {
                            let exists = self.block_ids.contains_key(&missing_parent)
                                || missing_parent == self.genesis.block_hash();
                            if !exists {
                                self.metrics.rejected("prev-blk-not-found");
                                if self.scores.record_unconnecting(i, peer) {
                                    self.disconnect(i, peer);
                                }
                            } else if self.wants_block(i, &missing_parent, now) {
                                if let Some(&b) = self.block_ids.get(&missing_parent) {
                                    self.tracks[b as usize].set_requested(i, now);
                                }
                                self.send(i, peer, Msg::GetBlocks(Arc::new([missing_parent])));
                            }
                        }
                    }
                    AcceptStatus::Accepted => {
                        accepted = true;
                        self.metrics.block_arrived(now, i, &hash);
                        if let Some(p) = from {
                            self.scores.record_connecting(i, p);
                        }
                    }
                }
                if let Some(change) = outcome.tip_change {
                    self.on_tip_change(i, from, change);
                }
                if accepted && self.prefers_attacker_block(i, &hash) {
                    // γ: this node mines on the attacker's block in a tie.
                    let Kind::Full(full) = &mut self.nodes[i as usize].kind else {
                        return;
                    };
                    let pref = full.chain.prefer_on_tie(&hash, &mut self.cache);
                    if let Some(change) = pref.tip_change {
                        self.on_tip_change(i, from, change);
                    }
                }
            }
        }
    }

    /// Whether node `i` is in the γ set and `hash` is an attacker's block.
    fn prefers_attacker_block(&self, i: NodeIdx, hash: &BlockHash) -> bool {
        !self.gamma_nodes.is_empty()
            && self.gamma_nodes[i as usize]
            && self
                .block_ids
                .get(hash)
                .is_some_and(|&b| self.tracks[b as usize].by_attacker)
    }

    /// Adds `points` to `peer`'s misbehaviour score at `i`; disconnects at
    /// the threshold.
    fn penalise(&mut self, i: NodeIdx, peer: NodeIdx, points: u32) {
        if self.scores.record(i, peer, points) {
            self.disconnect(i, peer);
        }
    }

    /// Drops the link between `i` and `peer`, both ways.
    fn disconnect(&mut self, i: NodeIdx, peer: NodeIdx) {
        let before = self.nodes[i as usize].peers.len();
        self.nodes[i as usize].peers.retain(|p| *p != peer);
        self.nodes[peer as usize].peers.retain(|p| *p != i);
        if self.nodes[i as usize].peers.len() != before {
            self.flood.invalidate();
            self.metrics.disconnected();
        }
    }

    fn on_tip_change(&mut self, i: NodeIdx, from: Option<NodeIdx>, change: TipChange) {
        let now = self.queue.now();
        let Kind::Full(full) = &mut self.nodes[i as usize].kind else {
            return;
        };
        // Hashes of the connected blocks, oldest first, read from the block
        // tree (walking back from the new tip) rather than rehashed.
        let connected: Arc<[BlockHash]> = if change.connected.len() == 1 {
            Arc::new([change.new_tip]) // the common case: one allocation
        } else {
            let mut connected = Vec::with_capacity(change.connected.len());
            let mut h = change.new_tip;
            for _ in 0..change.connected.len() {
                connected.push(h);
                h = full
                    .chain
                    .info(&h)
                    .expect("connected blocks are in the tree")
                    .parent;
            }
            connected.reverse();
            connected.into()
        };
        for (b, h) in change.connected.iter().zip(connected.iter()) {
            // Blocks connected out of the orphan pool also count as arrivals.
            self.metrics.block_arrived(now, i, h);
            if !full.mempool.is_empty() {
                let info = full
                    .chain
                    .info(h)
                    .expect("a connected block is in the tree");
                full.mempool.remove_for_block(b, &info.txids);
            }
        }
        if !change.disconnected.is_empty() {
            if self.cfg.tx_relay == TxRelay::Messages {
                // Transactions of disconnected blocks go back to the mempool
                // when still valid on the new tip; conflicting ones are
                // dropped. (The flood rebuilds a miner's mempool when it
                // finds a block.)
                full.mempool.revalidate(full.chain.utxos());
                let params = self.cfg.params.clone();
                let height = full.chain.height();
                for b in &change.disconnected {
                    for tx in b.txdata.iter().skip(1) {
                        let txid = tx.compute_txid();
                        let _ = full.mempool.accept(
                            txid,
                            Arc::new(tx.clone()),
                            full.chain.utxos(),
                            height,
                            &params,
                            self.cache.sigs(),
                        );
                    }
                }
            }
            self.metrics.reorg(now, i, &change, full.chain.height());
        }
        let tip_height = full.chain.height();
        self.metrics
            .tip_changed(now, i, &change.new_tip, tip_height);

        if let Some(a) = self.nodes[i as usize].adv {
            // An active attacker relays by its policy and decides; it mines
            // on its private branch, which this change did not move.
            self.attacker_public_tip(a as usize, from, connected.to_vec());
            self.serve_light_clients(i, &change);
        } else {
            self.announce_blocks(i, from, connected);
            self.serve_light_clients(i, &change);
            self.reschedule_mining(i);
        }
        if !self.adversaries.is_empty() {
            self.merchant_tip_changed(i);
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
    fn announce_blocks(&mut self, i: NodeIdx, skip: Option<NodeIdx>, all: Arc<[BlockHash]>) {
        // Announced blocks are mined blocks (genesis is never announced as
        // new); their tracks are looked up once, not once per peer (on the
        // stack for the usual single block).
        let one: [Option<u32>; 1];
        let many: Vec<Option<u32>>;
        let ids: &[Option<u32>] = if let [h] = &all[..] {
            one = [self.block_ids.get(h).copied()];
            &one
        } else {
            many = all.iter().map(|h| self.block_ids.get(h).copied()).collect();
            &many
        };
        let wants = |w: &World, p: NodeIdx, k: usize, at: SimTime| match ids[k] {
            Some(b) => w.tracks[b as usize].wants(p, at),
            None => w.wants_block(p, &all[k], at),
        };
        for k in 0..self.nodes[i as usize].peers.len() {
            let p = self.nodes[i as usize].peers[k];
            // Full nodes' peer lists hold only full nodes (light clients
            // are in `light_peers`).
            if Some(p) == skip {
                continue;
            }
            // Holding a block is permanent: no need to draw a latency.
            let holds_all = ids
                .iter()
                .all(|b| b.is_none_or(|b| self.tracks[b as usize].has(p)));
            if holds_all {
                continue;
            }
            let msg = Msg::InvBlocks(all.clone());
            let at = self.delivery_time(i, p, &msg);
            let wanted = (0..all.len()).filter(|&j| wants(self, p, j, at)).count();
            if wanted == 0 {
                continue;
            }
            let msg = if wanted == all.len() {
                msg
            } else {
                Msg::InvBlocks(
                    (0..all.len())
                        .filter(|&j| wants(self, p, j, at))
                        .map(|j| all[j])
                        .collect(),
                )
            };
            self.metrics.message_sent(msg.wire_size());
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
    }

    fn serve_light_clients(&mut self, i: NodeIdx, change: &TipChange) {
        let lights = self.nodes[i as usize].light_peers.clone();
        if lights.is_empty() {
            return;
        }
        let headers: Arc<[Header]> = change.connected.iter().map(|b| b.header).collect();
        for l in lights {
            self.send(i, l, Msg::Headers(headers.clone()));
            let Kind::Light(light) = &self.nodes[l as usize].kind else {
                continue;
            };
            let watched = light.watched;
            let Kind::Full(full) = &self.nodes[i as usize].kind else {
                return;
            };
            let mut msgs = Vec::new();
            for b in &change.connected {
                let Some(info) = full.chain.info(&b.block_hash()) else {
                    continue;
                };
                let proofs: Vec<MerkleProof> = b
                    .txdata
                    .iter()
                    .enumerate()
                    .skip(1)
                    .filter(|(_, tx)| {
                        tx.output
                            .iter()
                            .any(|o| o.script_pubkey.p2pkh_hash() == Some(watched))
                    })
                    .filter_map(|(idx, _)| MerkleProof::build(&info.txids, idx))
                    .collect();
                if !proofs.is_empty() {
                    msgs.push(Msg::MerkleBlock {
                        block: info.hash,
                        proofs,
                    });
                }
            }
            for m in msgs {
                self.send(i, l, m);
            }
        }
    }

    // ----- workload -----------------------------------------------------

    fn payment(&mut self) {
        let w = self.wallets.len();
        if w < 2 {
            return;
        }
        let sender = self.workload_rng.gen_range(0..w);
        let mut recipient = self.workload_rng.gen_range(0..w - 1);
        if recipient >= sender {
            recipient += 1;
        }
        let frac: f64 = self.workload_rng.gen_range(0.05..0.5);
        let home = self.wallets[sender].home;
        if !self.partitions.is_online(NodeId(home)) {
            self.metrics.payment_skipped();
            return;
        }
        let Kind::Full(full) = &self.nodes[home as usize].kind else {
            return;
        };
        // Spend the largest confirmed coin (the lowest outpoint among equal
        // values) the home node does not already see spent in its mempool.
        // Sorting first means the spent-set probes stop at the first free
        // coin; a wallet holds hundreds of small coins late in a long run.
        let pkh = self.wallets[sender].pubkey_hash;
        let mut coins = full.chain.utxos_of(&pkh);
        coins.sort_unstable_by_key(|&(op, v)| (std::cmp::Reverse(v), op));
        let coin = coins
            .into_iter()
            .find(|(op, _)| !full.mempool.spends(op) && !self.flood.spends(op));
        let Some((outpoint, value)) = coin else {
            self.metrics.payment_skipped();
            return;
        };
        let fee = self.cfg.fee_rate_sat_per_byte * P2PKH_1IN_2OUT_BYTES;
        let pay = ((value.to_sat() as f64 * frac) as u64).max(1);
        let Some(change) = value.to_sat().checked_sub(pay + fee) else {
            self.metrics.payment_skipped();
            return;
        };
        let mut tx = Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: outpoint,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            }],
            output: vec![
                TxOut {
                    value: Amount::from_sat_unchecked(pay),
                    script_pubkey: self.wallets[recipient].script_pubkey.clone(),
                },
                TxOut {
                    value: Amount::from_sat_unchecked(change),
                    script_pubkey: self.wallets[sender].script_pubkey.clone(),
                },
            ],
            lock_time: 0,
        };
        let wallet = &self.wallets[sender];
        sighash::sign_p2pkh_input(&mut tx, 0, &wallet.script_pubkey, &wallet.key)
            .expect("a wallet signs its own P2PKH coin");
        let txid = tx.compute_txid();
        self.metrics.payment_issued(
            self.queue.now(),
            sender as u32,
            recipient as u32,
            &txid,
            pay,
        );
        match self.cfg.tx_relay {
            TxRelay::Messages => self.accept_tx(home, None, txid, Arc::new(tx)),
            TxRelay::Flood => self.flood_payment(home, txid, Arc::new(tx)),
        }
    }

    /// Validates a payment once at its home node (the real mempool rules
    /// against its chain) and floods it ([`flood`]).
    fn flood_payment(&mut self, home: NodeIdx, txid: Txid, tx: Arc<Transaction>) {
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
            self.metrics.tx_rejected(&e);
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
                tx_bytes: P2PKH_1IN_2OUT_BYTES,
            },
        };
        let before = self.flood.arrivals();
        self.flood.add(txid, tx, now, home, &net);
        self.metrics.tx_arrivals(self.flood.arrivals() - before);
    }

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

    fn timeline(&mut self, index: usize) {
        let action = self.cfg.timeline[index].1.clone();
        // Every timeline action but a hashrate change moves links.
        self.flood.invalidate();
        self.metrics.timeline(self.queue.now(), &action);
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
                    self.announce_tip_to_peers(i);
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
                    let peers = self.nodes[n as usize].peers.clone();
                    for p in peers {
                        self.send(n, p, Msg::SendTip);
                    }
                    self.announce_tip_to_peers(n);
                }
            }
            TimelineAction::SetHashrate { node, hps } => {
                self.nodes[node as usize].spec.hashrate_hps = hps;
                self.metrics.hashrate_changed(self.queue.now(), node, hps);
                self.reschedule_mining(node);
            }
        }
    }

    fn announce_tip_to_peers(&mut self, i: NodeIdx) {
        if !self.partitions.is_online(NodeId(i)) {
            return;
        }
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let inv: Arc<[BlockHash]> = Arc::from(vec![full.chain.tip()]);
        let peers = self.nodes[i as usize].peers.clone();
        for p in peers {
            if self.nodes[p as usize].spec.role != Role::Light {
                self.send(i, p, Msg::InvBlocks(inv.clone()));
            }
        }
    }

    // ----- end of run ---------------------------------------------------

    /// Ends the run and returns what was observed.
    pub fn finish(mut self) -> RunOutput {
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
            .checked_mul(self.cfg.wallets as u64)
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
                    role: n.spec.role,
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
        let main_blocks: Vec<Arc<Block>> = main_chain
            .iter()
            .map(|h| chain.get_block(h).expect("active chain blocks are stored"))
            .collect();
        let confirmed = output::confirmed_txids(&main_blocks);
        self.metrics.mark_confirmed(&confirmed);
        self.finish_attacks(&confirmed);
        self.metrics.finish(node_summaries, &main_chain);
        RunOutput {
            txs_confirmed: confirmed.len() as u64,
            metrics: self.metrics,
            digest: self.digest,
            final_tip,
            main_chain,
            main_chain_utxo_total: utxo_total,
            main_chain_issued: issued,
            converged,
            cache_stats,
        }
    }
}

/// An unspendable `OP_RETURN` output script of about `bytes` bytes (block padding).
fn op_return_padding(bytes: usize) -> ScriptBuf {
    let mut s = Vec::with_capacity(bytes + 6);
    s.push(0x6a); // OP_RETURN
    s.push(0x4e); // OP_PUSHDATA4
    s.extend_from_slice(&(bytes as u32).to_le_bytes());
    s.resize(6 + bytes, 0);
    ScriptBuf(s)
}
