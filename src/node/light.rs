//! Simplified payment verification: the light client (headers only, checks
//! Merkle proofs of payments to the address it watches) and the full
//! node's side of serving it (`headers` and `merkleblock` after each tip
//! change, with a proof per payment to the client's watched address).

use std::collections::BTreeSet;
use std::rc::Rc;

use crate::ledger::chainstate::TipChange;
use crate::ledger::merkle::MerkleProof;
use crate::ledger::spv::HeaderChain;
use crate::ledger::{BlockHash, Header, Txid};
use crate::node::full::FullNode;
use crate::node::inv;
use crate::node::io::{Ctx, Input, Observation, Outbox, Output, SpvVerdict};
use crate::node::msg::{MerkleBlockMsg, Msg};

/// A light client's state.
pub struct LightNode {
    /// The header chain (most-work, proof-of-work checked).
    pub headers: HeaderChain,
    /// hash160 of the wallet whose payments it verifies.
    pub watched: [u8; 20],
    /// Proofs already checked (each full peer sends the same proof; one
    /// check per payment and block is recorded).
    pub checked: BTreeSet<(Txid, BlockHash)>,
}

impl LightNode {
    /// A client that knows only the genesis header and watches `watched`.
    pub fn new(headers: HeaderChain, watched: [u8; 20]) -> LightNode {
        LightNode {
            headers,
            watched,
            checked: BTreeSet::new(),
        }
    }

    /// Handles one input; what the client decides goes to `out`.
    pub fn handle(&mut self, input: Input, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        match input {
            Input::Message { from, msg } => match msg {
                Msg::Headers(headers) => {
                    let now_secs = ctx.block_time_secs();
                    for h in headers.iter() {
                        // Headers already known (from another peer) are
                        // fine; real rejections are observed.
                        if let Err(e) = self.headers.accept_header(*h, now_secs) {
                            out.observe(Observation::HeaderRejected {
                                reason: e.to_string(),
                            });
                        }
                    }
                }
                Msg::MerkleBlock(m) => {
                    let MerkleBlockMsg { block, proofs } = *m;
                    for proof in proofs {
                        if self.checked.contains(&(proof.txid, block)) {
                            continue;
                        }
                        let verdict = self.headers.verify_payment(&proof, &block);
                        if verdict.is_ok() {
                            self.checked.insert((proof.txid, block));
                        }
                        out.observe(Observation::SpvCheck(Box::new(SpvVerdict {
                            txid: proof.txid,
                            block,
                            verdict: verdict.map_err(|e| e.to_string()),
                        })));
                    }
                }
                // An `inv` of blocks is answered like a full node's column
                // says (a client never holds a mined block); only a peer
                // that was asked for its tip sends one.
                Msg::InvBlocks(hashes) => inv::on_inv_blocks(from, hashes, ctx, out, |_| false),
                Msg::InvTx(txids) => inv::on_inv_tx(from, &txids, ctx, out),
                Msg::NotFound(txids) => {
                    for t in &txids {
                        ctx.tx_not_found(t);
                    }
                }
                Msg::Txs(txs) => {
                    for (txid, _) in txs {
                        ctx.saw_tx(&txid);
                    }
                }
                Msg::GetBlocks(_)
                | Msg::Block(..)
                | Msg::SendTip
                | Msg::GetTx(_)
                | Msg::SendCmpct { .. }
                | Msg::GetCmpct(_)
                | Msg::CmpctBlock(..)
                | Msg::GetBlockTxn(..)
                | Msg::BlockTxn(..) => {}
            },
            Input::SubmitTx { txid, .. } => ctx.saw_tx(&txid),
            Input::PeersChanged { ask_tips } => {
                if ask_tips {
                    out.push(Output::SendToPeers { msg: Msg::SendTip });
                }
            }
            Input::MiningTimer { .. }
            | Input::OwnBlock { .. }
            | Input::TxAnnounceTimer
            | Input::TxTrickleTimer { .. }
            | Input::Start
            | Input::Reconstructed { .. }
            | Input::AdversaryTick { .. }
            | Input::MerchantTip
            | Input::OwnPrivateBlock { .. } => {}
        }
    }
}

/// After a tip change, a full node sends each attached light client the
/// new headers and a `merkleblock` per connected block that pays the
/// client's watched address.
#[inline]
pub fn serve_light_clients(full: &FullNode, change: &TipChange, out: &mut Outbox) {
    if !full.light_clients.is_empty() {
        send_to_light_clients(full, change, out);
    }
}

/// [`serve_light_clients`] of a node that has light clients (out of line:
/// most nodes have none, and their tip changes skip this code).
#[inline(never)]
fn send_to_light_clients(full: &FullNode, change: &TipChange, out: &mut Outbox) {
    let headers: Rc<[Header]> = change.connected.iter().map(|b| b.header).collect();
    for &(l, watched) in &full.light_clients {
        out.send(l, Msg::Headers(headers.clone()));
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
                out.send(
                    l,
                    Msg::MerkleBlock(Box::new(MerkleBlockMsg {
                        block: info.hash,
                        proofs,
                    })),
                );
            }
        }
    }
}
