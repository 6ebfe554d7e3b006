//! What a full node does with a message, a block and a tip change: the
//! `inv` → `getdata` → `block` exchange, orphans and their missing parents,
//! transaction relay (`inv` → `getdata` → `tx`, batched announcements or
//! Bitcoin Core's per-peer trickle in [`crate::node::trickle`], `notfound`), scoring peers that send invalid data, and what follows a
//! tip change (mempool update, announcement, light clients, mining rate).
//!
//! Every function here decides only: it appends [`Output`]s to the outbox,
//! and the world carries them out in order (see `world`'s execution of
//! outputs for the announcement elision, which reads peers' state).

use std::rc::Rc;

use crate::ledger::chainstate::{AcceptStatus, TipChange};
use crate::ledger::{Block, BlockHash, Transaction, Txid};
use crate::node::full::FullNode;
use crate::node::io::{Arrival, Ctx, Observation, Outbox, Output, Timer};
use crate::node::msg::{Msg, NodeIdx};
use crate::node::{compact_relay, inv, light, score};

/// A message from peer `from` arrives at a full node.
pub fn on_message(
    full: &mut FullNode,
    from: NodeIdx,
    msg: Msg,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    match msg {
        Msg::InvBlocks(hashes) => {
            if let [h] = &hashes[..] {
                // The shared known-block column first: most announcements
                // arrive after the block (no need to read the peer list).
                if wants_block(full, h, ctx) && compact_relay::with_peer(full, from, ctx) {
                    // BIP152 low-bandwidth mode: ask for the compact form.
                    ctx.mark_requested(h);
                    out.send(from, Msg::GetCmpct(*h));
                    return;
                }
            }
            let chain = &full.chain;
            inv::on_inv_blocks(from, hashes, ctx, out, |h| !chain.contains(h));
        }
        Msg::SendCmpct { high_bandwidth } => {
            compact_relay::on_sendcmpct(full, from, high_bandwidth)
        }
        Msg::GetCmpct(hash) => compact_relay::on_getcmpct(full, from, hash, ctx, out),
        Msg::CmpctBlock(cb, hash, _) => {
            compact_relay::on_cmpctblock(full, from, cb, hash, ctx, out)
        }
        Msg::GetBlockTxn(req, padding) => {
            compact_relay::on_getblocktxn(full, from, &req, padding, ctx, out)
        }
        Msg::BlockTxn(txn, padding) => {
            compact_relay::on_blocktxn(full, from, &txn, padding, ctx, out)
        }
        Msg::GetBlocks(hashes) => serve_blocks(full, from, &hashes, ctx, out),
        Msg::Block(block, hash, _) => receive_block(full, Some(from), block, hash, ctx, out),
        Msg::SendTip => out.send(
            from,
            Msg::InvBlocks(full.chain.tip_info().hash_list.clone()),
        ),
        Msg::InvTx(_) | Msg::GetTx(_) | Msg::NotFound(_) | Msg::Txs(_) => {
            on_tx_message(full, from, msg, ctx, out)
        }
        // Light-client messages; a full node ignores them.
        Msg::Headers(_) | Msg::MerkleBlock { .. } => {}
    }
}

/// The transaction relay messages (`inv`, `getdata`, `notfound` and `tx`
/// of transactions): out of line, so the block relay's path through
/// [`on_message`] stays compact in the instruction cache.
#[inline(never)]
fn on_tx_message(
    full: &mut FullNode,
    from: NodeIdx,
    msg: Msg,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    match msg {
        Msg::InvTx(txids) => {
            if let Some(t) = full.trickle.as_mut() {
                // The peer knows these (Core's `AddKnownTx`).
                for txid in txids.iter() {
                    let held = full.mempool.contains(txid);
                    if held || !ctx.has_seen_tx(txid) {
                        t.on_announced(from, txid, held);
                    }
                }
            }
            inv::on_inv_tx(from, &txids, ctx, out)
        }
        Msg::GetTx(txids) => {
            let (found, missing): (Vec<Txid>, Vec<Txid>) =
                txids.iter().partition(|t| full.mempool.contains(t));
            let txs: Vec<_> = found
                .iter()
                .filter_map(|t| full.mempool.get(t).map(|tx| (*t, tx.clone())))
                .collect();
            if !txs.is_empty() {
                out.send(from, Msg::Txs(txs));
            }
            if !missing.is_empty() {
                // Bitcoin's `notfound`: the requester may ask elsewhere.
                out.send(from, Msg::NotFound(missing));
            }
        }
        Msg::NotFound(txids) => {
            for t in &txids {
                ctx.tx_not_found(t);
            }
        }
        Msg::Txs(txs) => {
            for (txid, tx) in txs {
                accept_tx(full, Some(from), txid, tx, ctx, out);
            }
        }
        _ => unreachable!("on_message passes only transaction messages"),
    }
}

/// A `getdata` for blocks: send each block the node holds, in order.
#[inline(never)]
fn serve_blocks(
    full: &FullNode,
    from: NodeIdx,
    hashes: &Rc<[BlockHash]>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    if ctx.oracles.no_private_blocks
        && full.chain.orphan_count() == 0
        && full.chain.orphans_dropped() == 0
    {
        // With no private branch in the run and no orphan held or dropped,
        // every block this node ever held (its own known-block column says
        // so) is in its block tree, which holds the very `Rc` the shared
        // cache interned: serve from the cache's copy and skip a probe of
        // the node's own index. Same blocks, same order as the lookup below.
        if hashes.iter().all(|h| ctx.holds(h)) {
            for h in hashes.iter() {
                if let Some(info) = ctx.cache.info(h) {
                    out.send(from, Msg::Block(info.block.clone(), *h, info.size as u32));
                }
            }
            return;
        }
    }
    for h in hashes.iter() {
        if let Some(i) = full.chain.info(h) {
            out.send(from, Msg::Block(i.block.clone(), *h, i.size as u32));
        }
    }
}

/// A full node accepts (or refuses) transaction `txid` from peer `from`
/// (`None`: submitted by a wallet).
pub fn accept_tx(
    full: &mut FullNode,
    from: Option<NodeIdx>,
    txid: Txid,
    tx: Rc<Transaction>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    ctx.saw_tx(&txid);
    let height = full.chain.height();
    match full.mempool.accept(
        txid,
        tx,
        full.chain.utxos(),
        height,
        &ctx.cfg.params,
        ctx.cache.sigs(),
    ) {
        Ok(_) => {
            out.observe(Observation::TxAccepted { txid });
            if let Some(t) = full.trickle.as_mut() {
                let cfg = ctx.cfg.trickle;
                let seen = ctx.oracle_tx_seen(&txid);
                t.queue(txid, from, |p| seen.seen(p), &cfg, out);
            } else {
                full.tx_to_announce.push(txid);
                if !full.tx_flush_pending {
                    full.tx_flush_pending = true;
                    out.push(Output::SetTimer {
                        timer: Timer::TxAnnounce,
                        after: ctx.cfg.tx_announce_interval,
                    });
                }
            }
        }
        Err(error) => {
            if let Some(t) = full.trickle.as_mut() {
                t.forget(&txid);
            }
            let points = score::mempool_penalty(&error);
            out.observe(Observation::TxRejected {
                txid,
                error: Box::new(error),
            });
            if let Some(p) = from {
                penalise(p, points, ctx, out);
            }
        }
    }
}

/// The batch announcement timer fired (trickle off): announce the accepted
/// transactions still in the mempool to every peer.
pub fn flush_tx(full: &mut FullNode, out: &mut Outbox) {
    full.tx_flush_pending = false;
    let batch: Vec<Txid> = std::mem::take(&mut full.tx_to_announce)
        .into_iter()
        .filter(|t| full.mempool.contains(t))
        .collect();
    if !batch.is_empty() {
        out.push(Output::AnnounceTxs { txids: batch });
    }
}

/// A trickle timer fired (outbound peer `peer`'s, or with `None` the
/// inbound peers'): announce their queued transactions still in the
/// mempool ([`crate::node::trickle`]).
pub fn trickle_tx(full: &mut FullNode, peer: Option<NodeIdx>, ctx: &Ctx<'_>, out: &mut Outbox) {
    if let Some(t) = full.trickle.as_mut() {
        let mempool = &full.mempool;
        t.fire(peer, |txid| mempool.contains(txid), &ctx.cfg.trickle, out);
    }
}

/// Adds `points` to `peer`'s misbehaviour score; disconnects at the threshold.
#[cold]
#[inline(never)]
pub(crate) fn penalise(peer: NodeIdx, points: u32, ctx: &mut Ctx<'_>, out: &mut Outbox) {
    if ctx.penalise(peer, points) {
        out.push(Output::Disconnect { peer });
    }
}

/// Whether this node would request `h` now.
fn wants_block(full: &FullNode, h: &BlockHash, ctx: &Ctx<'_>) -> bool {
    ctx.wants_mined(h, ctx.now)
        .unwrap_or_else(|| !full.chain.contains(h))
}

/// A full node receives a block (from a peer, or `None` when it is its own).
///
/// Rejections are observed with their typed reason and scored against the
/// sending peer ([`crate::node::score`]); a peer that reaches the threshold
/// is disconnected. Orphans are scored as unconnecting only when their
/// missing parent was never mined (a made-up parent, known through the
/// simulator's oracle): orphans from honest peers after a partition are
/// normal, and their missing parent is requested.
pub fn receive_block(
    full: &mut FullNode,
    from: Option<NodeIdx>,
    block: Rc<Block>,
    hash: BlockHash,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    let now_secs = ctx.block_time_secs();
    compact_relay::forget(full, &hash);
    let outcome = full.chain.accept_block(block, now_secs, ctx.cache);
    // Accepted, orphaned or already known: the block is in the node's
    // tree. A rejected one may still have been recorded as invalid.
    if outcome.is_ok() || full.chain.contains(&hash) {
        ctx.mark_have(&hash);
    }
    let mut outcome = match outcome {
        Err(error) => return rejected(hash, error, from, ctx, out),
        Ok(outcome) => outcome,
    };
    if !outcome.newly_invalid.is_empty() {
        let newly_invalid = std::mem::take(&mut outcome.newly_invalid);
        found_invalid(hash, newly_invalid, from, ctx, out);
    }
    let mut accepted = false;
    match outcome.status {
        AcceptStatus::AlreadyKnown => {}
        AcceptStatus::Orphan { missing_parent } => {
            orphan_arrived(full, hash, missing_parent, from, ctx, out)
        }
        AcceptStatus::Accepted => {
            accepted = true;
            out.observe(Observation::BlockArrived {
                hash,
                how: Arrival::Accepted,
                from,
                height: full.chain.info(&hash).map(|b| b.height),
            });
            if let Some(p) = from {
                ctx.record_connecting(p);
            }
        }
    }
    if let Some(change) = outcome.tip_change {
        let new_tip = change.new_tip == hash;
        on_tip_change(full, from, change, ctx, out);
        if let (Some(p), true) = (from, new_tip) {
            // Core: the peer that gave us a new block first becomes a
            // high-bandwidth compact-block peer.
            compact_relay::peer_gave_new_block(full, p, ctx, out);
        }
    }
    if accepted && ctx.oracles.gamma && ctx.by_attacker(&hash) {
        // γ: this node mines on the attacker's block in a tie.
        let pref = full.chain.prefer_on_tie(&hash, ctx.cache);
        if let Some(change) = pref.tip_change {
            on_tip_change(full, from, change, ctx, out);
        }
    }
}

/// Hashes of the blocks a tip change connected, oldest first, read from
/// the block tree (walking back from the new tip) rather than rehashed.
#[inline(never)]
fn connected_hashes(full: &FullNode, change: &TipChange) -> Rc<[BlockHash]> {
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
}

/// A tip change that disconnected blocks (a reorganisation): their
/// transactions go back to the mempool, and the reorg is observed.
#[inline(never)]
fn reorganised(full: &mut FullNode, change: &TipChange, ctx: &mut Ctx<'_>, out: &mut Outbox) {
    if ctx.cfg.relay_txs {
        // Transactions of disconnected blocks go back to the mempool
        // when still valid on the new tip; conflicting ones are
        // dropped. (The modelled flood rebuilds a miner's mempool when
        // it finds a block.)
        full.mempool.revalidate(full.chain.utxos());
        let height = full.chain.height();
        for b in &change.disconnected {
            for tx in b.txdata.iter().skip(1) {
                let txid = tx.compute_txid();
                let _ = full.mempool.accept(
                    txid,
                    Rc::new(tx.clone()),
                    full.chain.utxos(),
                    height,
                    &ctx.cfg.params,
                    ctx.cache.sigs(),
                );
            }
        }
    }
    out.observe(Observation::Reorg {
        change: Box::new(change.clone()),
        height: full.chain.height(),
    });
}

/// A block the node rejected (in [`receive_block`], or a `cmpctblock`
/// whose header fails its proof of work): observed with its typed reason
/// and scored against the sending peer.
#[cold]
#[inline(never)]
pub(crate) fn rejected(
    hash: BlockHash,
    error: crate::ledger::validate::BlockError,
    from: Option<NodeIdx>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    let points = score::block_penalty(&error);
    out.observe(Observation::BlockRejected {
        hash,
        error: Box::new(error),
        from,
    });
    if let Some(p) = from {
        penalise(p, points, ctx, out);
    }
}

/// [`receive_block`]'s blocks found invalid on the way (the block itself
/// or orphans it connected): observed, and the block's own failure scored
/// against its sender.
#[cold]
#[inline(never)]
fn found_invalid(
    hash: BlockHash,
    newly_invalid: Vec<(BlockHash, crate::ledger::validate::BlockError)>,
    from: Option<NodeIdx>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    for (h, error) in newly_invalid {
        let points = score::block_penalty(&error);
        let own = h == hash;
        out.observe(Observation::BlockRejected {
            hash: h,
            error: Box::new(error),
            from: from.filter(|_| own),
        });
        if let (Some(p), true) = (from, own) {
            penalise(p, points, ctx, out);
        }
    }
}

/// [`receive_block`] of an orphan: observed; its missing parent requested
/// from the peer, or the peer scored when that parent was never mined.
#[inline(never)]
fn orphan_arrived(
    full: &FullNode,
    hash: BlockHash,
    missing_parent: BlockHash,
    from: Option<NodeIdx>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    out.observe(Observation::BlockArrived {
        hash,
        how: Arrival::Orphan,
        from,
        height: None,
    });
    if let Some(peer) = from {
        if !ctx.ever_mined(&missing_parent) {
            out.observe(Observation::Unconnecting {
                hash,
                missing_parent: Box::new(missing_parent),
                from: peer,
            });
            if ctx.record_unconnecting(peer) {
                out.push(Output::Disconnect { peer });
            }
        } else if wants_block(full, &missing_parent, ctx) {
            ctx.mark_requested(&missing_parent);
            out.send(peer, Msg::GetBlocks(Rc::new([missing_parent])));
        }
    }
}

/// The active chain changed: update the mempool, report, announce the new
/// blocks to peers (all but `from`), feed light clients, and mine on the
/// new tip.
pub fn on_tip_change(
    full: &mut FullNode,
    from: Option<NodeIdx>,
    change: TipChange,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    // Hashes of the connected blocks, oldest first, read from the block
    // tree (walking back from the new tip) rather than rehashed.
    let connected: Rc<[BlockHash]> = if change.connected.len() == 1 {
        // The common case: the list the block's info shares.
        debug_assert_eq!(full.chain.tip(), change.new_tip);
        full.chain.tip_info().hash_list.clone()
    } else {
        connected_hashes(full, &change)
    };
    // The connected blocks end at the new tip: heights count up to it.
    let first_height = full.chain.height() + 1 - connected.len() as u32;
    for (k, (b, h)) in change.connected.iter().zip(connected.iter()).enumerate() {
        // Blocks connected out of the orphan pool also count as arrivals.
        out.observe(Observation::BlockArrived {
            hash: *h,
            how: Arrival::Connected,
            from,
            height: Some(first_height + k as u32),
        });
        if !full.mempool.is_empty() {
            let info = full
                .chain
                .info(h)
                .expect("a connected block is in the tree");
            full.mempool.remove_for_block(b, &info.txids);
        }
    }
    if !change.disconnected.is_empty() {
        reorganised(full, &change, ctx, out);
    }
    out.observe(Observation::TipChanged {
        new_tip: change.new_tip,
        height: full.chain.height(),
        connected: change.connected.len() as u32,
        disconnected: change.disconnected.len() as u32,
    });
    if full.strategy_relays {
        // An active attacker relays by its strategy and mines on its
        // private branch, which this change did not move.
        out.push(Output::AttackerRelay { from, connected });
        light::serve_light_clients(full, &change, out);
    } else {
        if let [h] = &connected[..] {
            // High-bandwidth peers get the new tip pushed (if it was not
            // already, before validation) instead of an announcement.
            compact_relay::push_held(full, h, from, ctx, out);
        }
        out.push(Output::Announce {
            hashes: connected,
            skip: from,
        });
        light::serve_light_clients(full, &change, out);
        out.push(Output::MiningRate {
            bits: full.chain.next_bits(),
        });
    }
    if ctx.oracles.tips_watched {
        out.push(Output::TipSettled);
    }
}
