//! Inventory: what a node requests when a peer announces blocks or
//! transactions (`inv` → `getdata`), for full nodes and light clients alike.
//! A node requests what its own known-block / known-transaction column says
//! it neither holds nor has a live request for.

use std::rc::Rc;

use crate::ledger::{BlockHash, Txid};
use crate::node::io::{Ctx, Outbox};
use crate::node::msg::{Msg, NodeIdx};

/// An `inv` of blocks: request (`getdata`) every block this node wants (it
/// does not hold it and has no live request for it). `unknown_wanted`
/// decides for hashes that were never mined (genesis, made-up hashes).
pub fn on_inv_blocks(
    from: NodeIdx,
    hashes: Rc<[BlockHash]>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
    unknown_wanted: impl Fn(&BlockHash) -> bool,
) {
    let now = ctx.now;
    // The wanted hashes, built only once one is not wanted: requesting
    // everything announced (the usual case) shares the announcement's list.
    let mut want: Option<Vec<BlockHash>> = None;
    for (k, h) in hashes.iter().enumerate() {
        let wanted = match ctx.wants_mined(h, now) {
            Some(w) => w,
            None => unknown_wanted(h),
        };
        if wanted {
            ctx.mark_requested(h);
            if let Some(w) = want.as_mut() {
                w.push(*h);
            }
        } else if want.is_none() {
            want = Some(hashes[..k].to_vec());
        }
    }
    match want {
        None if !hashes.is_empty() => out.send(from, Msg::GetBlocks(hashes)),
        Some(w) if !w.is_empty() => out.send(from, Msg::GetBlocks(w.into())),
        _ => {}
    }
}

/// An `inv` of transactions: request those never seen nor requested.
pub fn on_inv_tx(from: NodeIdx, txids: &[Txid], ctx: &mut Ctx<'_>, out: &mut Outbox) {
    let want: Vec<Txid> = txids
        .iter()
        .filter(|t| ctx.request_tx(t))
        .copied()
        .collect();
    if !want.is_empty() {
        out.send(from, Msg::GetTx(want));
    }
}
