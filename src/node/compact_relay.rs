//! BIP152 compact block relay: what a full node does with `sendcmpct`,
//! `getdata(CMPCT_BLOCK)`, `cmpctblock`, `getblocktxn` and `blocktxn`, and
//! how it picks its high-bandwidth peers.
//!
//! The message flow is Bitcoin Core's:
//!
//! - Every node that speaks BIP152 sends `sendcmpct` (version 1,
//!   low-bandwidth) to each peer when the run starts ([`on_start`]).
//! - Low-bandwidth mode: a node announces a block with `inv`; a peer that
//!   speaks BIP152 requests it with `getdata(CMPCT_BLOCK)` and gets a
//!   `cmpctblock` (header, nonce, 6-byte short IDs, the prefilled coinbase).
//! - High-bandwidth mode: a node asks up to `high_bandwidth_peers` peers
//!   (Core: 3) to push new blocks to it unannounced, chosen as Core's
//!   `MaybeSetPeerAsAnnouncingHeaderAndIDs` does: the last peers that
//!   delivered a new block first ([`peer_gave_new_block`]). A node pushes a
//!   `cmpctblock` to those peers as soon as the block is reconstructed and
//!   its header's proof of work checked, before full validation (BIP152
//!   allows it; Core's `NewPoWValidBlock`), and otherwise when it connects.
//! - The receiver matches short IDs against its own mempool
//!   ([`PartialBlock`]), fetches what is missing with `getblocktxn` /
//!   `blocktxn`, and falls back to a full `getdata(block)` on a short-ID
//!   collision, a failed Merkle check or an unknown parent. The
//!   reconstructed block then takes the node's validation time
//!   ([`Output::Validate`]) and is validated by the ledger like any block.
//!
//! **Modelled, not computed: block padding.** `consensus.block_fill_bytes`
//! pads blocks (SimBlock's fixed-size blocks) with an `OP_RETURN` output in
//! the coinbase, standing for transactions the network already holds. As
//! in SimBlock (`SimulationConfiguration.java`, `Node.java`): the padding
//! takes `compact_bytes` of a `cmpctblock` (scaled by its share of the
//! fill) instead of its own size; a receiver of class *churn* or *control*
//! misses some of it with its class's probability and then fetches a share
//! of it drawn from SimBlock's measured distribution for the class
//! ([`FETCHED_CONTROL`], [`FETCHED_CHURN`]) with `getblocktxn` / `blocktxn`
//! (those bytes are added to the `blocktxn`). Draws come from the
//! receiver's own random stream. Real transactions are always matched for
//! real.

use std::rc::Rc;

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use crate::ledger::encode::varint_len;
use crate::ledger::validate::check_proof_of_work;
use crate::ledger::{BlockHash, Encodable, Header, Transaction, Txid};
use crate::node::compact::{BlockTxn, BlockTxnRequest, CheckedBlock, CompactBlock, PartialBlock};
use crate::node::full::FullNode;
use crate::node::io::{CompactOutcome, Ctx, Observation, Outbox, Output};
use crate::node::msg::{Msg, NodeIdx};
use crate::node::{relay, score};

/// Compact relay settings every node of a run shares.
#[derive(Clone, Debug, PartialEq)]
pub struct CompactConfig {
    /// Peers a node asks to push `cmpctblock`s (0: low-bandwidth only).
    pub high_bandwidth_peers: usize,
    /// The padding model (used only when blocks are padded).
    pub padding: PaddingParams,
}

/// SimBlock's padding model (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct PaddingParams {
    /// `cmpctblock` bytes of a block padded to `fill_bytes`.
    pub compact_bytes: u64,
    /// `consensus.block_fill_bytes`.
    pub fill_bytes: u64,
    /// Probability of missing padding: `[control, churn]`.
    pub failure: [f64; 2],
}

/// SimBlock's `CBR_FAILURE_BLOCK_SIZE_DISTRIBUTION_FOR_CONTROL_NODE`, as
/// `(percent of the block fetched, entries)`: 210 entries, all 1%.
pub const FETCHED_CONTROL: &[(u8, u16)] = &[(1, 210)];

/// SimBlock's `CBR_FAILURE_BLOCK_SIZE_DISTRIBUTION_FOR_CHURN_NODE`, as
/// `(percent of the block fetched, entries)`, 945 entries (from 1% to 96%,
/// mean 8.7%), an entry drawn uniformly as SimBlock does.
pub const FETCHED_CHURN: &[(u8, u16)] = &[
    (1, 546),
    (2, 66),
    (3, 39),
    (4, 27),
    (5, 21),
    (6, 17),
    (7, 14),
    (8, 12),
    (9, 11),
    (10, 10),
    (11, 9),
    (12, 8),
    (13, 7),
    (14, 7),
    (15, 6),
    (16, 6),
    (17, 5),
    (18, 5),
    (19, 5),
    (20, 4),
    (21, 4),
    (22, 4),
    (23, 4),
    (24, 4),
    (25, 3),
    (26, 3),
    (27, 3),
    (28, 3),
    (29, 3),
    (30, 3),
    (31, 3),
    (32, 3),
    (33, 2),
    (34, 2),
    (35, 2),
    (36, 2),
    (37, 2),
    (38, 2),
    (39, 2),
    (40, 2),
    (41, 2),
    (42, 2),
    (43, 2),
    (44, 2),
    (45, 2),
    (46, 2),
    (47, 2),
    (48, 2),
    (49, 1),
    (50, 1),
    (51, 1),
    (52, 1),
    (53, 1),
    (54, 1),
    (55, 1),
    (56, 1),
    (57, 1),
    (58, 1),
    (59, 1),
    (60, 1),
    (61, 1),
    (62, 1),
    (63, 1),
    (64, 1),
    (65, 1),
    (66, 1),
    (67, 1),
    (68, 1),
    (69, 1),
    (70, 1),
    (71, 1),
    (72, 1),
    (73, 1),
    (74, 1),
    (75, 1),
    (76, 1),
    (77, 1),
    (78, 1),
    (79, 1),
    (80, 1),
    (81, 1),
    (82, 1),
    (83, 1),
    (84, 1),
    (85, 1),
    (86, 1),
    (87, 1),
    (88, 1),
    (89, 1),
    (90, 1),
    (91, 1),
    (92, 1),
    (93, 1),
    (94, 1),
    (95, 1),
    (96, 1),
];

/// One node's BIP152 state.
#[derive(Debug, Default)]
pub struct CompactState {
    /// The node speaks BIP152 (`network.relay.usage_share`).
    pub speaks: bool,
    /// The node is in SimBlock's churn class (else control).
    pub churn: bool,
    /// Peers that sent `sendcmpct` (sorted).
    pub peers: Vec<NodeIdx>,
    /// Peers that asked this node to push new blocks (high-bandwidth).
    pub hb_to: Vec<NodeIdx>,
    /// Peers this node asked to push new blocks, oldest first.
    pub hb_from: Vec<NodeIdx>,
    /// Reconstructions waiting for a `blocktxn`.
    pending: Vec<Pending>,
    /// The last block pushed to high-bandwidth peers.
    pushed: Option<BlockHash>,
    /// The last compact block built, reused for every peer that asks.
    last: Option<(BlockHash, Rc<CompactBlock>, u32)>,
    /// The node's own stream: compact-block nonces and padding draws.
    rng: Option<Box<ChaCha12Rng>>,
}

#[derive(Debug)]
struct Pending {
    hash: BlockHash,
    from: NodeIdx,
    partial: PartialBlock,
}

impl CompactState {
    /// The state of a node that speaks BIP152 (or not), of class `churn`,
    /// drawing from `rng`.
    pub fn new(speaks: bool, churn: bool, rng: ChaCha12Rng) -> CompactState {
        CompactState {
            speaks,
            churn,
            rng: speaks.then(|| Box::new(rng)),
            ..Default::default()
        }
    }

    /// Reconstructions in flight.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Hints the CPU to fetch this state and its peer list (and, with
    /// `draws`, the random stream a `cmpctblock` draws from), an event
    /// before a compact message arrives. Changes nothing.
    pub fn prefetch(&self, draws: bool) {
        crate::sim::prefetch_all(self);
        crate::sim::prefetch_range(self.peers.as_ptr().addr(), 64);
        if let (true, Some(rng)) = (draws, &self.rng) {
            crate::sim::prefetch_all(&**rng);
        }
    }
}

/// Bytes of a transaction that are block padding: its `OP_RETURN
/// OP_PUSHDATA4` outputs (see `node::miner`), value and length included.
pub fn padding_bytes(tx: &Transaction) -> u64 {
    tx.output
        .iter()
        .filter(|o| o.script_pubkey.0.starts_with(&[0x6a, 0x4e]))
        .map(|o| {
            8 + varint_len(o.script_pubkey.0.len() as u64) as u64 + o.script_pubkey.0.len() as u64
        })
        .sum()
}

/// The payload size of `cb` on the wire: its encoded size, with the
/// padding of its prefilled coinbase counted as the model says.
fn payload_size(cb: &CompactBlock, cfg: &CompactConfig) -> u32 {
    let real = cb.encoded_len() as u64;
    let padding = cb.prefilled.first().map_or(0, |p| padding_bytes(&p.tx));
    let p = &cfg.padding;
    let modelled = if padding == 0 || p.fill_bytes == 0 {
        0
    } else {
        (p.compact_bytes as f64 * padding as f64 / p.fill_bytes as f64).round() as u64
    };
    (real - padding + modelled).min(u32::MAX as u64) as u32
}

/// Whether `full` talks BIP152 with `peer`.
pub fn with_peer(full: &FullNode, peer: NodeIdx, ctx: &Ctx<'_>) -> bool {
    ctx.cfg.compact.is_some() && full.cmpct.speaks && full.cmpct.peers.binary_search(&peer).is_ok()
}

/// The run starts: announce BIP152 support (`sendcmpct`, low-bandwidth)
/// to every peer.
pub fn on_start(full: &FullNode, ctx: &Ctx<'_>, out: &mut Outbox) {
    if ctx.cfg.compact.is_some() && full.cmpct.speaks {
        out.push(Output::SendToPeers {
            msg: Msg::SendCmpct {
                high_bandwidth: false,
            },
        });
    }
}

/// A `sendcmpct` from `from`.
pub fn on_sendcmpct(full: &mut FullNode, from: NodeIdx, high_bandwidth: bool) {
    let c = &mut full.cmpct;
    if !c.speaks {
        return;
    }
    if let Err(k) = c.peers.binary_search(&from) {
        c.peers.insert(k, from);
    }
    let at = c.hb_to.iter().position(|p| *p == from);
    match (high_bandwidth, at) {
        (true, None) => c.hb_to.push(from),
        (false, Some(k)) => {
            c.hb_to.remove(k);
        }
        _ => {}
    }
}

/// Peer `peer` delivered a block that became this node's new tip: make it
/// a high-bandwidth peer (Core's `MaybeSetPeerAsAnnouncingHeaderAndIDs`):
/// already one, it moves to the back; otherwise, with the list full, the
/// oldest is told `sendcmpct(0)` and dropped, and `peer` gets
/// `sendcmpct(1)`.
pub fn peer_gave_new_block(full: &mut FullNode, peer: NodeIdx, ctx: &Ctx<'_>, out: &mut Outbox) {
    let Some(cfg) = &ctx.cfg.compact else {
        return;
    };
    if cfg.high_bandwidth_peers == 0 || !with_peer(full, peer, ctx) {
        return;
    }
    let c = &mut full.cmpct;
    if let Some(k) = c.hb_from.iter().position(|p| *p == peer) {
        let p = c.hb_from.remove(k);
        c.hb_from.push(p);
        return;
    }
    if c.hb_from.len() >= cfg.high_bandwidth_peers {
        let old = c.hb_from.remove(0);
        out.send(
            old,
            Msg::SendCmpct {
                high_bandwidth: false,
            },
        );
    }
    out.send(
        peer,
        Msg::SendCmpct {
            high_bandwidth: true,
        },
    );
    c.hb_from.push(peer);
}

/// The `cmpctblock` of block `hash` (built once per block and node, with
/// a nonce from the node's stream, sharing the run's copy of the coinbase).
fn compact_msg(
    full: &mut FullNode,
    hash: BlockHash,
    header: Header,
    coinbase: Rc<Transaction>,
    txids: &[Txid],
    cfg: &CompactConfig,
) -> Msg {
    let c = &mut full.cmpct;
    if let Some((h, cb, size)) = &c.last {
        if *h == hash {
            return Msg::CmpctBlock(cb.clone(), hash, *size);
        }
    }
    let nonce = c.rng.as_mut().map_or(0, |r| r.gen());
    let cb = Rc::new(CompactBlock::from_parts(header, nonce, coinbase, txids));
    let size = payload_size(&cb, cfg);
    c.last = Some((hash, cb.clone(), size));
    Msg::CmpctBlock(cb, hash, size)
}

/// The `cmpctblock` of a block this node holds.
fn held_compact(full: &mut FullNode, hash: &BlockHash, ctx: &mut Ctx<'_>) -> Option<Msg> {
    ctx.cfg.compact.as_ref()?;
    if let Some((h, cb, size)) = &full.cmpct.last {
        if h == hash {
            return Some(Msg::CmpctBlock(cb.clone(), *hash, *size));
        }
    }
    let info = full.chain.info(hash)?.clone();
    let coinbase = ctx.shared_coinbase(hash, &info.block, info.txids[0]);
    let cfg = ctx.cfg.compact.as_ref().expect("checked above");
    Some(compact_msg(
        full,
        *hash,
        info.block.header,
        coinbase,
        &info.txids,
        cfg,
    ))
}

/// Pushes block `hash` (held) to the high-bandwidth peers that asked for
/// it, except `skip`, unless already pushed.
pub fn push_held(
    full: &mut FullNode,
    hash: &BlockHash,
    skip: Option<NodeIdx>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    if !full.cmpct.speaks || full.cmpct.hb_to.is_empty() || full.cmpct.pushed == Some(*hash) {
        return;
    }
    if let Some(msg) = held_compact(full, hash, ctx) {
        push(full, msg, *hash, skip, out);
    }
}

fn push(full: &mut FullNode, msg: Msg, hash: BlockHash, skip: Option<NodeIdx>, out: &mut Outbox) {
    full.cmpct.pushed = Some(hash);
    for &p in &full.cmpct.hb_to {
        if Some(p) != skip {
            out.send(p, msg.clone());
        }
    }
}

/// A `getdata(CMPCT_BLOCK)`: send the block in compact form (a whole block
/// to a peer that does not speak BIP152).
pub fn on_getcmpct(
    full: &mut FullNode,
    from: NodeIdx,
    hash: BlockHash,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    if !with_peer(full, from, ctx) {
        if let Some(i) = full.chain.info(&hash) {
            out.send(from, Msg::Block(i.block.clone(), hash, i.size as u32));
        }
        return;
    }
    if let Some(msg) = held_compact(full, &hash, ctx) {
        out.send(from, msg);
    }
}

/// Gives up on the compact form of `hash`: request the whole block.
fn fall_back(hash: BlockHash, from: NodeIdx, ctx: &mut Ctx<'_>, out: &mut Outbox) {
    out.observe(Observation::Compact {
        hash,
        outcome: CompactOutcome::FellBack,
    });
    ctx.mark_requested(&hash);
    out.send(from, Msg::GetBlocks(Rc::new([hash])));
}

/// A `cmpctblock` from `from`.
pub fn on_cmpctblock(
    full: &mut FullNode,
    from: NodeIdx,
    cb: Rc<CompactBlock>,
    hash: BlockHash,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    let Some(cfg) = ctx.cfg.compact.clone() else {
        return;
    };
    if !full.cmpct.speaks
        || full.chain.contains(&hash)
        || full.cmpct.pending.iter().any(|p| p.hash == hash)
    {
        return;
    }
    // The header's proof of work first (BIP152: before relaying onwards).
    // The header's hash comes from the run's memo when the cache stores
    // this header under `hash` (a pure function, computed once per block).
    if !ctx.cache.header_hashes_to(&cb.header, &hash) {
        relay::penalise(from, score::DISCOURAGEMENT_THRESHOLD, ctx, out);
        return;
    }
    if let Err(error) = check_proof_of_work(&hash, cb.header.bits, &ctx.cfg.params) {
        relay::rejected(hash, error, Some(from), ctx, out);
        return;
    }
    // The parent is nearly always the tip: no index lookup then.
    let prev = cb.header.prev_blockhash;
    if prev != full.chain.tip() && !full.chain.contains(&prev) {
        // Core asks for headers first; here the whole block comes and the
        // orphan path fetches its parent.
        fall_back(hash, from, ctx, out);
        return;
    }
    let partial = match PartialBlock::new(&cb, full.mempool.iter()) {
        Ok(p) => p,
        Err(_) => {
            fall_back(hash, from, ctx, out);
            return;
        }
    };
    let missed = missed_padding(full, &cb, &cfg);
    if partial.missing().is_empty() && missed == 0 {
        complete(
            full,
            from,
            hash,
            partial,
            None,
            CompactOutcome::Reconstructed,
            &cfg,
            ctx,
            out,
        );
        return;
    }
    let req = BlockTxnRequest {
        block_hash: hash,
        indexes: partial.missing().to_vec(),
    };
    full.cmpct.pending.push(Pending {
        hash,
        from,
        partial,
    });
    out.send(from, Msg::GetBlockTxn(Rc::new(req), missed));
}

/// Bytes of padding this node misses (SimBlock's model), 0 if none.
fn missed_padding(full: &mut FullNode, cb: &CompactBlock, cfg: &CompactConfig) -> u32 {
    let padding = cb.prefilled.first().map_or(0, |p| padding_bytes(&p.tx));
    if padding == 0 {
        return 0;
    }
    let churn = full.cmpct.churn;
    let Some(rng) = full.cmpct.rng.as_mut() else {
        return 0;
    };
    let p = cfg.padding.failure[churn as usize];
    let u: f64 = rng.gen();
    if u >= p {
        return 0;
    }
    let table = if churn {
        FETCHED_CHURN
    } else {
        FETCHED_CONTROL
    };
    let total: u32 = table.iter().map(|(_, n)| u32::from(*n)).sum();
    let mut k = rng.gen_range(0..total);
    let mut percent = 0u8;
    for &(pc, n) in table {
        if k < u32::from(n) {
            percent = pc;
            break;
        }
        k -= u32::from(n);
    }
    ((padding * u64::from(percent)) / 100).max(1) as u32
}

/// A `getblocktxn` from `from`: answer from the block (a request beyond the
/// block's transactions is misbehaviour, as in Core).
pub fn on_getblocktxn(
    full: &FullNode,
    from: NodeIdx,
    req: &BlockTxnRequest,
    padding: u32,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    let Some(info) = full.chain.info(&req.block_hash) else {
        return;
    };
    match BlockTxn::answer(req, &info.block) {
        Ok(txn) => out.send(from, Msg::BlockTxn(Rc::new(txn), padding)),
        Err(_) => relay::penalise(from, score::DISCOURAGEMENT_THRESHOLD, ctx, out),
    }
}

/// A `blocktxn` from `from`: finish the reconstruction it answers.
pub fn on_blocktxn(
    full: &mut FullNode,
    from: NodeIdx,
    txn: &BlockTxn,
    padding: u32,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    let Some(cfg) = ctx.cfg.compact.clone() else {
        return;
    };
    let Some(k) = full
        .cmpct
        .pending
        .iter()
        .position(|p| p.hash == txn.block_hash && p.from == from)
    else {
        return;
    };
    let p = full.cmpct.pending.remove(k);
    if full.chain.contains(&p.hash) {
        return;
    }
    let outcome = CompactOutcome::FetchedTxs {
        txs: txn.txs.len() as u32,
        padding: padding > 0,
    };
    complete(
        full,
        from,
        p.hash,
        p.partial,
        Some(txn),
        outcome,
        &cfg,
        ctx,
        out,
    );
}

/// Finishes a reconstruction: Merkle check, high-bandwidth push (before
/// validation), then validation ([`Output::Validate`]); a failed check
/// falls back to the whole block.
#[allow(clippy::too_many_arguments)]
fn complete(
    full: &mut FullNode,
    from: NodeIdx,
    hash: BlockHash,
    partial: PartialBlock,
    txn: Option<&BlockTxn>,
    outcome: CompactOutcome,
    cfg: &CompactConfig,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    // `hash` is the header's: `on_cmpctblock` checked it.
    let checked: CheckedBlock = match partial.finish_checked(&hash, txn, |t| ctx.shared_txid(t)) {
        Ok(c) => c,
        Err(_) => {
            fall_back(hash, from, ctx, out);
            return;
        }
    };
    out.observe(Observation::Compact { hash, outcome });
    if checked.header.prev_blockhash == full.chain.tip()
        && full.cmpct.speaks
        && !full.cmpct.hb_to.is_empty()
        && full.cmpct.pushed != Some(hash)
    {
        let msg = compact_msg(
            full,
            hash,
            checked.header,
            checked.txs[0].clone(),
            &checked.txids,
            cfg,
        );
        push(full, msg, hash, Some(from), out);
    }
    // The transactions hash to the header's Merkle root and the header to
    // `hash`: the block is the one the run stored under `hash`, whose copy
    // is reused rather than rebuilt byte for byte.
    let block = ctx
        .cache
        .info(&hash)
        .map(|i| i.block.clone())
        .unwrap_or_else(|| Rc::new(checked.into_block()));
    out.push(Output::Validate { from, block, hash });
}

/// A block reached the node by any path: drop a reconstruction of it.
pub fn forget(full: &mut FullNode, hash: &BlockHash) {
    if !full.cmpct.pending.is_empty() {
        full.cmpct.pending.retain(|p| p.hash != *hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simblock_tables_have_their_lengths_and_means() {
        let n = |t: &[(u8, u16)]| t.iter().map(|(_, k)| u32::from(*k)).sum::<u32>();
        assert_eq!(n(FETCHED_CONTROL), 210);
        assert_eq!(n(FETCHED_CHURN), 945);
        let mean = FETCHED_CHURN
            .iter()
            .map(|(p, k)| f64::from(*p) * f64::from(*k))
            .sum::<f64>()
            / 945.0;
        assert!((mean - 8.72).abs() < 0.01, "{mean}");
    }
}
