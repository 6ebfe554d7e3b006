//! A node's inputs and outputs, the [`Ctx`] it may read, and the reusable
//! [`Outbox`] it writes to.
//!
//! A node never touches the queue, the clock, a link or another node: the
//! world hands it one [`Input`] with a [`Ctx`], and the node appends what it
//! decided to an [`Outbox`] as [`Output`]s, in the order it decided them.
//! The world then carries them out in that order (sending a message draws
//! the sender's link latency and takes a queue sequence number, so the order
//! is part of the event stream). Outboxes are reused: after the first few
//! events the hot path allocates nothing for them.

use std::rc::Rc;

use crate::ledger::chainstate::{BlockCache, TipChange};
use crate::ledger::validate::BlockError;
use crate::ledger::{Amount, Block, BlockHash, CompactTarget, Params, Transaction, Txid};
use crate::node::known::Known;
use crate::node::mempool::MempoolError;
use crate::node::msg::{Msg, NodeIdx};
use crate::node::score::PeerScores;
use crate::sim::{SimDuration, SimTime};

/// Settings every node of a run shares (a slice of the world's config).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Consensus parameters.
    pub params: Rc<Params>,
    /// Unix time of genesis (block timestamps are genesis time + simulated time).
    pub genesis_time: u32,
    /// Really grind the nonce of mined blocks.
    pub grind: bool,
    /// Pad every mined block to this many bytes (0 = off).
    pub block_fill_bytes: usize,
    /// Mempool size limit.
    pub mempool_max_bytes: usize,
    /// Transactions are relayed by messages (`inv`/`getdata`/`tx`), so a
    /// reorg returns disconnected transactions to the mempool. `false` under
    /// the modelled flood, which rebuilds a miner's mempool itself.
    pub relay_txs: bool,
    /// Interval between a node's batched transaction announcements to all
    /// its peers (when the trickle is off).
    pub tx_announce_interval: SimDuration,
    /// How full nodes trickle transaction announcements when
    /// `network.trickle.enabled` (Bitcoin Core's per-peer Poisson timers,
    /// [`crate::node::trickle`]).
    pub trickle: crate::node::trickle::TrickleConfig,
    /// BIP152 compact block relay (`None`: whole blocks on every hop).
    pub compact: Option<crate::node::compact_relay::CompactConfig>,
}

impl NodeConfig {
    /// Block timestamp for simulated time `now`.
    pub fn block_time_secs(&self, now: SimTime) -> u32 {
        self.genesis_time
            .saturating_add(now.as_secs().min(u32::MAX as u64) as u32)
    }
}

/// Something that happens to a node.
#[derive(Debug)]
pub enum Input {
    /// A message from a peer arrived.
    Message {
        /// The sender.
        from: NodeIdx,
        /// The message.
        msg: Msg,
    },
    /// The mining timer fired: assemble a block on the tip. `txs`: the
    /// transactions to include when the world supplies them (the modelled
    /// flood); `None` takes them from the node's mempool.
    MiningTimer {
        /// Transactions chosen by the world, with their fees.
        txs: Option<Vec<(Txid, Rc<Transaction>, Amount)>>,
    },
    /// A block this node produced, booked by the world: accept and relay it.
    OwnBlock {
        /// The block.
        block: Rc<Block>,
        /// Its hash.
        hash: BlockHash,
    },
    /// The transaction-announcement timer fired (batched announcements
    /// to all peers, when the trickle is off).
    TxAnnounceTimer,
    /// A transaction-trickle timer fired: outbound peer `peer`'s own, or
    /// (`None`) the one the node's inbound peers share.
    TxTrickleTimer {
        /// The outbound peer whose timer fired (`None`: the inbound timer).
        peer: Option<NodeIdx>,
    },
    /// A wallet (or the attacker's own code) submits a transaction.
    SubmitTx {
        /// Its id.
        txid: Txid,
        /// The transaction.
        tx: Rc<Transaction>,
    },
    /// Links came back (a heal, or the node came online): exchange tips.
    /// `ask_tips`: also ask every peer for its tip (`getheaders`).
    PeersChanged {
        /// Ask every peer for its tip.
        ask_tips: bool,
    },
    /// The run starts and the node's connections are up: the version
    /// handshake's follow-ups (BIP152's `sendcmpct`).
    Start,
    /// A block reconstructed from a `cmpctblock` has been validated for
    /// the time validation takes (see [`Output::Validate`]): accept it.
    Reconstructed {
        /// The peer the compact block came from.
        from: NodeIdx,
        /// The block.
        block: Rc<Block>,
        /// Its hash.
        hash: BlockHash,
    },
    /// An attacker's own timer fired (its `start`, then its strategy's
    /// interval): switch the behaviour on, or act periodically. Honest
    /// nodes ignore it.
    AdversaryTick {
        /// The run still mines (periodic actions stop with mining).
        mining: bool,
    },
    /// The node an attacker's merchant watches the chain through changed
    /// tip. Honest nodes ignore it.
    MerchantTip,
    /// A block an attacker mined on its private branch, booked by the world
    /// (after [`Output::MinedPrivately`]). Honest nodes ignore it.
    OwnPrivateBlock {
        /// The block.
        block: Rc<Block>,
        /// Its hash.
        hash: BlockHash,
    },
}

/// Timers a node can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The next batched transaction announcement to all peers (when the
    /// trickle is off).
    TxAnnounce,
    /// The next trickle of transaction announcements: to outbound peer
    /// `peer`, or (`None`) to every inbound peer.
    TxTrickle {
        /// The outbound peer (`None`: the inbound peers' shared timer).
        peer: Option<NodeIdx>,
    },
    /// An attacker's next [`Input::AdversaryTick`] (set only while the run
    /// mines).
    Adversary,
}

/// How a block entered a node's block tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Validated and stored (it may or may not have moved the tip).
    Accepted,
    /// Parent unknown: held in the orphan pool.
    Orphan,
    /// Connected to the active chain (including out of the orphan pool).
    Connected,
}

/// What a node noticed: read by metrics, the trace and the live lab. An
/// observation never changes what happens next.
#[derive(Debug)]
pub enum Observation {
    /// A block reached the node's block tree.
    BlockArrived {
        /// The block.
        hash: BlockHash,
        /// How it entered.
        how: Arrival,
        /// The peer it came from (`None`: the node's own).
        from: Option<NodeIdx>,
        /// Its height (`None` for an orphan, whose parent is unknown).
        height: Option<u32>,
    },
    /// A block failed validation (Core's reject reason is `error.reject_reason()`).
    BlockRejected {
        /// The block.
        hash: BlockHash,
        /// Why.
        error: Box<BlockError>,
        /// The peer it came from.
        from: Option<NodeIdx>,
    },
    /// A block whose parent was never mined (`prev-blk-not-found`).
    Unconnecting {
        /// The block.
        hash: BlockHash,
        /// Its made-up parent (boxed: rare, and keeps outputs small).
        missing_parent: Box<BlockHash>,
        /// The peer it came from.
        from: NodeIdx,
    },
    /// The active chain switched branches.
    Reorg {
        /// The change (disconnected blocks, old tip first).
        change: Box<TipChange>,
        /// Height of the new tip.
        height: u32,
    },
    /// The tip moved (a reorg is also reported with its old tip, see
    /// [`Observation::Reorg`]).
    TipChanged {
        /// Tip after.
        new_tip: BlockHash,
        /// Height of the new tip.
        height: u32,
        /// Blocks connected.
        connected: u32,
        /// Blocks disconnected.
        disconnected: u32,
    },
    /// A transaction entered the mempool.
    TxAccepted {
        /// Its id.
        txid: Txid,
    },
    /// A transaction was refused by the mempool.
    TxRejected {
        /// Its id.
        txid: Txid,
        /// Why.
        error: Box<MempoolError>,
    },
    /// A light client refused a header.
    HeaderRejected {
        /// Why (the header chain's error).
        reason: String,
    },
    /// A light client checked a payment proof.
    SpvCheck(Box<SpvVerdict>),
    /// How a compact block ended at this node.
    Compact {
        /// The block.
        hash: BlockHash,
        /// The outcome.
        outcome: CompactOutcome,
    },
    /// An `invalid_data` attacker sent one crafted item of this kind.
    InvalidSent {
        /// The kind's scenario name (`bad_pow`, …).
        kind: &'static str,
    },
}

/// How a `cmpctblock` ended at its receiver (`summary.csv`'s `compact_*` rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompactOutcome {
    /// Reconstructed from the mempool (and the prefilled coinbase) with no
    /// round trip.
    Reconstructed,
    /// Needed a `getblocktxn` / `blocktxn` round trip for `txs` missing
    /// transactions (`padding`: the padding model also missed padding).
    FetchedTxs {
        /// Real transactions fetched.
        txs: u32,
        /// Whether missed padding was fetched too.
        padding: bool,
    },
    /// Fell back to a full `getdata(block)`: short-ID collision, failed
    /// Merkle check, or an unknown parent.
    FellBack,
}

/// What a light client concluded from one Merkle proof.
#[derive(Debug)]
pub struct SpvVerdict {
    /// The payment.
    pub txid: Txid,
    /// The block the proof is for.
    pub block: BlockHash,
    /// Confirmations, or why the proof failed.
    pub verdict: Result<u32, String>,
}

/// A message held back ([`Output::SendLate`]).
#[derive(Debug)]
pub struct Late {
    /// The message.
    pub msg: Msg,
    /// Extra delay before it leaves.
    pub extra: SimDuration,
}

/// What a node asks the world to do, or tells it.
#[derive(Debug)]
pub enum Output {
    /// Send `msg` to peer `to`.
    Send {
        /// Receiver.
        to: NodeIdx,
        /// The message.
        msg: Msg,
    },
    /// Announce blocks (`inv`, oldest first) to every full peer except `skip`.
    Announce {
        /// The blocks.
        hashes: Rc<[BlockHash]>,
        /// The peer not to tell (the one the blocks came from).
        skip: Option<NodeIdx>,
    },
    /// Announce transactions (`inv`) to every peer (the batch timer fired;
    /// the world leaves out those each peer has seen).
    AnnounceTxs {
        /// The transactions.
        txids: Vec<Txid>,
    },
    /// Announce transactions (`inv`) to peer `to` (a trickle timer fired;
    /// the world leaves out those the peer has seen).
    TrickleTxs {
        /// The peer.
        to: NodeIdx,
        /// The transactions.
        txids: Vec<Txid>,
    },
    /// Send `msg` to peer `to`, held back `extra` beyond the link's delay
    /// (an eclipse attacker passing honest blocks to its victim late).
    SendLate {
        /// Receiver.
        to: NodeIdx,
        /// The message and its extra delay (boxed: rare, and keeps outputs
        /// small).
        late: Box<Late>,
    },
    /// Submit `tx` to node `node` as a wallet would (an attacker paying a
    /// merchant whose wallet watches that node).
    SubmitTo {
        /// The node the payment is handed to.
        node: NodeIdx,
        /// Its id.
        txid: Txid,
        /// The transaction.
        tx: Rc<Transaction>,
    },
    /// Send `msg` to every peer.
    SendToPeers {
        /// The message.
        msg: Msg,
    },
    /// Drop the link to `peer` (both ways).
    Disconnect {
        /// The peer.
        peer: NodeIdx,
    },
    /// Set a timer to fire after `after`.
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// Delay from now.
        after: SimDuration,
    },
    /// The node now mines on a tip with these bits (the world redraws the
    /// mining timer only if the rate changed).
    MiningRate {
        /// Bits of the next block.
        bits: CompactTarget,
    },
    /// The node assembled a block. The world books it (metrics, known-block
    /// column) and hands it back as [`Input::OwnBlock`].
    Mined {
        /// The block.
        block: Rc<Block>,
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u32,
    },
    /// An active attacker assembled a block on its private branch. The
    /// world books it as an attacker's block and hands it back as
    /// [`Input::OwnPrivateBlock`]; it is not announced.
    MinedPrivately {
        /// The block.
        block: Rc<Block>,
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u32,
    },
    /// An attacker made private blocks public, up to `height` (the run's
    /// `stop.height` is about the public chain, so it is checked here).
    Published {
        /// Height of the highest block published.
        height: u32,
    },
    /// An active attacker's public tip moved because of a peer's blocks:
    /// its strategy (not the honest relay) decides what to tell whom.
    AttackerRelay {
        /// The peer the blocks came from (`None`: its own publication).
        from: Option<NodeIdx>,
        /// Blocks connected, oldest first.
        connected: Rc<[BlockHash]>,
    },
    /// A block was reconstructed from a compact block: the world hands it
    /// back as [`Input::Reconstructed`] once the receiver's validation time
    /// has passed (a whole block's delivery includes that time already).
    Validate {
        /// The peer the compact block came from.
        from: NodeIdx,
        /// The block.
        block: Rc<Block>,
        /// Its hash.
        hash: BlockHash,
    },
    /// The node finished handling a tip change (adversaries watching the
    /// node, a double spender's merchant, look at it now).
    TipSettled,
    /// Something observed.
    Observe(Observation),
}

impl Output {
    /// One line for `sim replay --trace`, said of node `me`, or `None` for
    /// bookkeeping outputs (the mining rate, a finished tip change). Hashes
    /// of blocks and transactions print in full; messages as Bitcoin names
    /// them.
    pub fn narrate(&self, me: NodeIdx) -> Option<String> {
        let from = |f: &Option<NodeIdx>| match f {
            Some(p) => format!(" from node {p}"),
            None => String::new(),
        };
        Some(match self {
            Output::Send { to, msg } => format!("node {me} -> node {to}: {}", msg.describe()),
            Output::SendLate { to, late } => format!(
                "node {me} -> node {to}: {} (held back {} ms)",
                late.msg.describe(),
                late.extra.as_millis_f64()
            ),
            Output::SubmitTo { node, txid, .. } => {
                format!("node {me} (attacker) hands tx {txid} to node {node}")
            }
            Output::Announce { hashes, skip } => format!(
                "node {me} -> peers{}: inv block {}{}",
                skip.map_or(String::new(), |s| format!(" but node {s}")),
                hashes.last().map_or(String::new(), |h| h.to_string()),
                if hashes.len() > 1 {
                    format!(" (+{} before it)", hashes.len() - 1)
                } else {
                    String::new()
                }
            ),
            Output::AnnounceTxs { txids } => {
                format!("node {me} -> peers: inv tx x{}", txids.len())
            }
            Output::TrickleTxs { to, txids } => {
                format!("node {me} -> node {to}: inv tx x{}", txids.len())
            }
            Output::SendToPeers { msg } => format!("node {me} -> peers: {}", msg.describe()),
            Output::Disconnect { peer } => format!("node {me} disconnects node {peer}"),
            Output::SetTimer { .. }
            | Output::MiningRate { .. }
            | Output::TipSettled
            | Output::Published { .. } => return None,
            Output::Validate { from, hash, .. } => {
                format!("node {me} reconstructed block {hash} from node {from}'s cmpctblock and validates it")
            }
            Output::MinedPrivately {
                block,
                hash,
                height,
            } => format!(
                "node {me} (attacker) mined private block {hash} height {height} parent {} ({} txs), withheld",
                block.header.prev_blockhash,
                block.txdata.len()
            ),
            Output::Mined {
                block,
                hash,
                height,
            } => format!(
                "node {me} mined block {hash} height {height} parent {} ({} txs)",
                block.header.prev_blockhash,
                block.txdata.len()
            ),
            Output::AttackerRelay { connected, .. } => format!(
                "node {me} (attacker) leaves relaying block {} to its strategy",
                connected.last().map_or(String::new(), |h| h.to_string())
            ),
            Output::Observe(o) => match o {
                Observation::BlockArrived {
                    hash,
                    how,
                    from: f,
                    height,
                } => match how {
                    Arrival::Accepted => format!(
                        "node {me} accepted block {hash}{}{}",
                        height.map_or(String::new(), |h| format!(" height {h}")),
                        from(f)
                    ),
                    Arrival::Orphan => {
                        format!("node {me} holds orphan block {hash}{} (parent unknown)", from(f))
                    }
                    Arrival::Connected => format!(
                        "node {me} connected block {hash}{} to its active chain",
                        height.map_or(String::new(), |h| format!(" height {h}"))
                    ),
                },
                Observation::BlockRejected {
                    hash,
                    error,
                    from: f,
                } => format!(
                    "node {me} rejected block {hash}{}: {} ({error})",
                    from(f),
                    error.reject_reason()
                ),
                Observation::Unconnecting {
                    hash,
                    missing_parent,
                    from: f,
                } => format!(
                    "node {me} rejected block {hash} from node {f}: prev-blk-not-found (parent {missing_parent} was never mined)"
                ),
                Observation::Reorg { change, height } => format!(
                    "node {me} reorg depth {}: old tip {} -> new tip {} (height {height})",
                    change.disconnected.len(),
                    change.old_tip,
                    change.new_tip
                ),
                Observation::TipChanged {
                    new_tip,
                    height,
                    connected,
                    disconnected,
                } => format!(
                    "node {me} tip -> {new_tip} height {height} (+{connected} -{disconnected})"
                ),
                Observation::TxAccepted { txid } => {
                    format!("node {me} accepted tx {txid} into its mempool")
                }
                Observation::TxRejected { txid, error } => {
                    format!("node {me} rejected tx {txid}: {error}")
                }
                Observation::InvalidSent { kind } => {
                    format!("node {me} (attacker) sends an invalid item: {kind}")
                }
                Observation::HeaderRejected { reason } => {
                    format!("node {me} (light) rejected a header: {reason}")
                }
                Observation::SpvCheck(v) => match &v.verdict {
                    Ok(c) => format!(
                        "node {me} (light) verified payment {} in block {}: {c} confirmations",
                        v.txid, v.block
                    ),
                    Err(e) => format!(
                        "node {me} (light) refused proof of {} in block {}: {e}",
                        v.txid, v.block
                    ),
                },
                Observation::Compact { hash, outcome } => match outcome {
                    CompactOutcome::Reconstructed => format!(
                        "node {me} reconstructed block {hash} from its mempool (no round trip)"
                    ),
                    CompactOutcome::FetchedTxs { txs, padding } => format!(
                        "node {me} fetched {txs} missing transaction{}{} of block {hash} with getblocktxn",
                        if *txs == 1 { "" } else { "s" },
                        if *padding { " and missed padding" } else { "" }
                    ),
                    CompactOutcome::FellBack => format!(
                        "node {me} fell back to a full getdata for block {hash}"
                    ),
                },
            },
        })
    }
}

/// A reusable list of outputs.
#[derive(Debug, Default)]
pub struct Outbox {
    items: Vec<Output>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Appends an output.
    #[inline]
    pub fn push(&mut self, o: Output) {
        self.items.push(o);
    }

    /// Appends an observation.
    #[inline]
    pub fn observe(&mut self, o: Observation) {
        self.items.push(Output::Observe(o));
    }

    /// Appends a message to `to`.
    #[inline]
    pub fn send(&mut self, to: NodeIdx, msg: Msg) {
        self.items.push(Output::Send { to, msg });
    }

    /// Takes the outputs out in order (the buffer stays for reuse).
    pub fn drain(&mut self) -> std::vec::Drain<'_, Output> {
        self.items.drain(..)
    }

    /// Hands the outputs to `f` one by one, in order, where they lie: each
    /// [`Pending`] is read in the buffer and taken out whole or field by
    /// field, and whatever `f` leaves in it is dropped with it. The buffer
    /// stays for reuse, empty.
    ///
    /// [`Outbox::drain`] moves each output out whole (64 bytes) before
    /// anyone looks at it; the world's run loop reads a message where the
    /// node wrote it and moves out only what it keeps (the 10,000-node
    /// SimBlock run: 64 M instructions fewer of 16.49 G, cachegrind).
    pub fn drain_in_place(&mut self, mut f: impl FnMut(Pending<'_>)) {
        let len = self.items.len();
        let base = self.items.as_mut_ptr();
        // SAFETY: with the length set to 0 the vector no longer owns
        // (or drops) the `len` outputs in its buffer; each is handed to
        // `f` once, as a `Pending` that takes it out or drops it. `f`
        // cannot reach the vector (`self` is borrowed mutably until the
        // loop ends), so nothing else reads or overwrites the slots. If
        // `f` panics the outputs not yet handed out leak, and none is
        // dropped twice.
        unsafe { self.items.set_len(0) };
        for k in 0..len {
            // SAFETY: `k < len`, inside the buffer; see above.
            let slot = unsafe { std::ptr::NonNull::new_unchecked(base.add(k)) };
            f(Pending {
                slot,
                _buffer: std::marker::PhantomData,
            });
        }
    }

    /// Takes the outputs from index `at` on out, in order (those before
    /// stay).
    pub fn split_off(&mut self, at: usize) -> Vec<Output> {
        self.items.split_off(at)
    }

    /// How many outputs there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The outputs so far.
    pub fn items(&self) -> &[Output] {
        &self.items
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// An output still in its outbox's buffer ([`Outbox::drain_in_place`]).
/// It owns the output: taking consumes it, and dropping it drops what it
/// still holds.
pub struct Pending<'a> {
    /// The output, initialised and owned by this value alone.
    slot: std::ptr::NonNull<Output>,
    _buffer: std::marker::PhantomData<&'a mut Output>,
}

impl Pending<'_> {
    /// The output, in place.
    pub fn get(&self) -> &Output {
        // SAFETY: the slot holds an initialised output that only this
        // value can reach (`Outbox::drain_in_place`).
        unsafe { self.slot.as_ref() }
    }

    /// Takes the output out whole.
    pub fn take(self) -> Output {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: read once; `this` is not dropped, so the output is not
        // dropped in place afterwards.
        unsafe { this.slot.read() }
    }

    /// An [`Output::Send`]'s receiver and message, read in place (`None`
    /// for any other output).
    pub fn as_send(&self) -> Option<(NodeIdx, &Msg)> {
        match self.get() {
            Output::Send { to, msg } => Some((*to, msg)),
            _ => None,
        }
    }

    /// Takes an [`Output::Send`]'s receiver and message out.
    ///
    /// # Panics
    ///
    /// If the output is not a [`Output::Send`].
    pub fn into_send(self) -> (NodeIdx, Msg) {
        let Some((to, msg)) = self.as_send() else {
            panic!("into_send on an output that is not a Send");
        };
        let msg: *const Msg = msg;
        let _owner = std::mem::ManuallyDrop::new(self);
        // SAFETY: `msg` points into the slot this value owns; the message
        // is the output's only field that needs dropping (`to` is `Copy`),
        // and the owner is not dropped, so it is moved out exactly once.
        (to, unsafe { msg.read() })
    }

    /// Takes an [`Output::Observe`]'s observation out.
    ///
    /// # Panics
    ///
    /// If the output is not an [`Output::Observe`].
    pub fn into_observation(self) -> Observation {
        let Output::Observe(obs) = self.get() else {
            panic!("into_observation on an output that is not an Observe");
        };
        let obs: *const Observation = obs;
        let _owner = std::mem::ManuallyDrop::new(self);
        // SAFETY: as in `into_send`: the observation is the output's only
        // field.
        unsafe { obs.read() }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        // SAFETY: the output was not taken (taking forgets the value), so
        // it is still initialised and owned here.
        unsafe { self.slot.drop_in_place() }
    }
}

/// The simulator's knowledge a real node would not have, named as such.
#[derive(Clone, Copy, Debug)]
pub struct Oracles {
    /// The genesis block's hash.
    pub genesis: BlockHash,
    /// No node of the run holds blocks outside its block tree (no active
    /// attacker keeps a private branch).
    pub no_private_blocks: bool,
    /// Some adversary watches nodes' tips (a double spender watches its
    /// merchant's node): report [`Output::TipSettled`].
    pub tips_watched: bool,
    /// This node is in Eyal–Sirer's γ set: in a tie it mines on the
    /// attacker's block.
    pub gamma: bool,
}

/// What a node may read (and the columns it may write) while it handles
/// one input.
pub struct Ctx<'a> {
    /// Simulated time now.
    pub now: SimTime,
    /// The run's node settings.
    pub cfg: &'a NodeConfig,
    /// The shared block cache (validity, UTXO snapshots, signature checks).
    pub cache: &'a mut BlockCache,
    /// The node handling the input.
    me: NodeIdx,
    known: &'a mut Known,
    scores: &'a mut PeerScores,
    /// The simulator's oracles, borrowed: the world keeps one set and
    /// updates its flags per call. (Built on the stack for every call, its
    /// 35 bytes were read back at once across the stores that had just
    /// written them, where `perf` showed a stall; no change in wall time
    /// could be measured either way.)
    pub oracles: &'a Oracles,
}

impl<'a> Ctx<'a> {
    /// A context for node `me`.
    pub fn new(
        me: NodeIdx,
        now: SimTime,
        cfg: &'a NodeConfig,
        cache: &'a mut BlockCache,
        known: &'a mut Known,
        scores: &'a mut PeerScores,
        oracles: &'a Oracles,
    ) -> Ctx<'a> {
        Ctx {
            now,
            cfg,
            cache,
            me,
            known,
            scores,
            oracles,
        }
    }

    /// The node handling the input.
    pub fn me(&self) -> NodeIdx {
        self.me
    }

    /// Block timestamp now.
    pub fn block_time_secs(&self) -> u32 {
        self.cfg.block_time_secs(self.now)
    }

    /// Whether this node would request mined block `hash` at `at`:
    /// `Some(wants)` for a mined block, `None` for any other hash.
    #[inline]
    pub fn wants_mined(&self, hash: &BlockHash, at: SimTime) -> Option<bool> {
        self.known.block(hash).map(|t| t.wants(self.me, at))
    }

    /// Whether this node's column says it holds mined block `hash`.
    #[inline]
    pub fn holds(&self, hash: &BlockHash) -> bool {
        self.known.block(hash).is_some_and(|t| t.has(self.me))
    }

    /// Marks a request for mined block `hash` now.
    #[inline]
    pub fn mark_requested(&mut self, hash: &BlockHash) {
        let (me, now) = (self.me, self.now);
        if let Some(t) = self.known.block_mut(hash) {
            t.set_requested(me, now);
        }
    }

    /// Marks mined block `hash` as held.
    #[inline]
    pub fn mark_have(&mut self, hash: &BlockHash) {
        let me = self.me;
        if let Some(t) = self.known.block_mut(hash) {
            t.set_have(me);
        }
    }

    /// Whether this node has seen transaction `txid` or requested it; marks
    /// it requested if neither (returns `true`: request it).
    pub fn request_tx(&mut self, txid: &Txid) -> bool {
        let me = self.me;
        let k = self.known.tx_track(txid);
        let track = self.known.tx_mut(k);
        let wanted = !track.seen(me) && !track.requested(me);
        if wanted {
            track.set_requested(me, true);
        }
        wanted
    }

    /// A requested transaction will not come (`notfound`).
    pub fn tx_not_found(&mut self, txid: &Txid) {
        let me = self.me;
        let k = self.known.tx_track(txid);
        self.known.tx_mut(k).set_requested(me, false);
    }

    /// Oracle: the known-transaction column of `txid` (which nodes have
    /// seen it). Read by the trickle to leave out peers that have seen a
    /// transaction when queueing it: the world would leave it out of the
    /// peer's `inv` anyway (see `world`'s `announce_txs`), so only the
    /// timer events it would cost are saved.
    pub fn oracle_tx_seen(&mut self, txid: &Txid) -> &crate::node::known::TxTrack {
        let k = self.known.tx_track(txid);
        self.known.tx(k)
    }

    /// Whether this node has seen transaction `txid`.
    pub fn has_seen_tx(&mut self, txid: &Txid) -> bool {
        let k = self.known.tx_track(txid);
        self.known.tx(k).seen(self.me)
    }

    /// This node has seen transaction `txid`.
    pub fn saw_tx(&mut self, txid: &Txid) {
        let me = self.me;
        let full = self.known.full_nodes();
        let k = self.known.tx_track(txid);
        let track = self.known.tx_mut(k);
        track.set_requested(me, false);
        track.set_seen(me, full);
    }

    /// The coinbase of block `hash` as the run's one shared allocation
    /// (see [`Known::shared_coinbase`]).
    pub fn shared_coinbase(
        &mut self,
        hash: &BlockHash,
        block: &Block,
        txid: Txid,
    ) -> Rc<Transaction> {
        self.known.shared_coinbase(hash, block, txid)
    }

    /// The txid of `tx` if it is a shared coinbase (no rehashing).
    pub fn shared_txid(&self, tx: &Rc<Transaction>) -> Option<Txid> {
        self.known.shared_txid(tx)
    }

    /// Oracle: whether `hash` was ever mined in this run (or is genesis).
    pub fn ever_mined(&self, hash: &BlockHash) -> bool {
        self.known.ever_mined(hash) || *hash == self.oracles.genesis
    }

    /// Oracle: whether node `node`'s known-block column says it holds
    /// `hash` (`true` for a hash that was never mined, such as genesis).
    /// Stands in for what an eclipse attacker learns from its victim's
    /// requests.
    pub fn oracle_holds(&self, node: NodeIdx, hash: &BlockHash) -> bool {
        self.known.block(hash).is_none_or(|t| t.has(node))
    }

    /// Oracle: whether `hash` was mined by an active attacker.
    pub fn by_attacker(&self, hash: &BlockHash) -> bool {
        self.known.block(hash).is_some_and(|t| t.by_attacker)
    }

    /// Adds misbehaviour points to `peer`; `true` at the discouragement
    /// threshold (disconnect).
    pub fn penalise(&mut self, peer: NodeIdx, points: u32) -> bool {
        self.scores.record(self.me, peer, points)
    }

    /// `peer` sent a block that does not connect; `true` at the limit.
    pub fn record_unconnecting(&mut self, peer: NodeIdx) -> bool {
        self.scores.record_unconnecting(self.me, peer)
    }

    /// `peer` sent a block that connects.
    pub fn record_connecting(&mut self, peer: NodeIdx) {
        self.scores.record_connecting(self.me, peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message holding `token` (its strong count tells how many copies
    /// are alive).
    fn msg(token: &Rc<[BlockHash]>) -> Msg {
        Msg::InvBlocks(token.clone())
    }

    /// Every output handed out in place is taken or dropped exactly once,
    /// in order, and the buffer is left empty for reuse.
    #[test]
    fn drained_in_place_each_output_is_taken_or_dropped_once() {
        let token: Rc<[BlockHash]> = Rc::from(vec![BlockHash::from_byte_array([7; 32])]);
        let mut out = Outbox::new();
        out.send(1, msg(&token));
        out.push(Output::Announce {
            hashes: token.clone(),
            skip: None,
        });
        out.send(2, msg(&token));
        out.push(Output::Published { height: 9 });
        out.send(3, msg(&token));
        assert_eq!(Rc::strong_count(&token), 5);
        let mut seen = Vec::new();
        let mut kept = Vec::new();
        out.drain_in_place(|o| match o.as_send() {
            // The first message is taken out, the third dropped in place.
            Some((to, m)) => {
                assert!(matches!(m, Msg::InvBlocks(h) if Rc::ptr_eq(h, &token)));
                seen.push(to);
                if to == 1 {
                    kept.push(o.into_send().1);
                }
            }
            None => match o.get() {
                Output::Announce { .. } => seen.push(100),
                _ => seen.push(match o.take() {
                    Output::Published { height } => height,
                    _ => unreachable!(),
                }),
            },
        });
        assert_eq!(seen, [1, 100, 2, 9, 3]);
        assert!(out.is_empty());
        // The token itself and the message taken out.
        assert_eq!(Rc::strong_count(&token), 2);
        drop(kept);
        assert_eq!(Rc::strong_count(&token), 1);
        // The buffer is reused.
        out.send(4, msg(&token));
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn observations_are_taken_in_place() {
        let mut out = Outbox::new();
        let parent = BlockHash::from_byte_array([2; 32]);
        out.observe(Observation::Unconnecting {
            hash: BlockHash::from_byte_array([1; 32]),
            missing_parent: Box::new(parent),
            from: 3,
        });
        out.drain_in_place(|o| {
            assert!(o.as_send().is_none());
            let Observation::Unconnecting {
                missing_parent,
                from,
                ..
            } = o.into_observation()
            else {
                panic!("another observation");
            };
            assert_eq!((*missing_parent, from), (parent, 3));
        });
    }

    #[test]
    #[should_panic(expected = "not a Send")]
    fn into_send_of_another_output_panics() {
        let mut out = Outbox::new();
        out.push(Output::Published { height: 1 });
        out.drain_in_place(|o| drop(o.into_send()));
    }

    #[test]
    fn outputs_stay_small() {
        // Every event moves a few outputs through an outbox: rare, large
        // payloads are boxed so the common ones (a message, an arrival, a
        // tip change) set the size.
        assert!(
            std::mem::size_of::<Observation>() <= 56,
            "{}",
            std::mem::size_of::<Observation>()
        );
        assert!(
            std::mem::size_of::<Output>() <= 64,
            "{}",
            std::mem::size_of::<Output>()
        );
    }
}
