//! A full node: its chain state, mempool and the state of its relay, and
//! the one entry point [`FullNode::handle`] that dispatches an [`Input`] to
//! the file that holds the behaviour ([`super::relay`] for messages and tip
//! changes, [`super::miner`] for the mining timer).

use std::sync::Arc;

use crate::ledger::chainstate::{BlockCache, Chainstate};
use crate::ledger::{Block, ScriptBuf, Txid};
use crate::node::io::{Ctx, Input, Outbox, Output};
use crate::node::mempool::Mempool;
use crate::node::msg::{Msg, NodeIdx};
use crate::node::{miner, relay};

/// A full node's state. `repr(C)` keeps the chain state first, where the
/// world's run loop prefetches it (up to `tx_to_announce`).
#[repr(C)]
pub struct FullNode {
    /// Block tree, fork choice, UTXO view of the tip.
    pub chain: Chainstate,
    /// Unconfirmed transactions.
    pub mempool: Mempool,
    /// Accepted transactions not yet announced.
    pub tx_to_announce: Vec<Txid>,
    /// Whether the announcement timer is set.
    pub tx_flush_pending: bool,
    /// Coinbase destination (derived when the node first mines: key
    /// derivation costs a scalar multiplication, and most relays never mine).
    pub payout: Option<ScriptBuf>,
    /// Extra nonce of the next coinbase (makes every coinbase unique).
    pub extra_nonce: u64,
    /// Light clients attached to this node and the address each watches
    /// (what their `filterload` would tell it).
    pub light_clients: Vec<(NodeIdx, [u8; 20])>,
    /// An active attacker: its strategy, not the honest relay, decides what
    /// to announce and where to mine ([`Output::AttackerRelay`]).
    pub strategy_relays: bool,
}

impl FullNode {
    /// A node that knows only `genesis`.
    pub fn new(
        genesis: Arc<Block>,
        params: Arc<crate::ledger::Params>,
        mempool_max_bytes: usize,
        cache: &mut BlockCache,
    ) -> FullNode {
        FullNode {
            chain: Chainstate::new(genesis, params, cache),
            mempool: Mempool::new(mempool_max_bytes),
            tx_to_announce: Vec::new(),
            tx_flush_pending: false,
            payout: None,
            extra_nonce: 0,
            light_clients: Vec::new(),
            strategy_relays: false,
        }
    }

    /// Handles one input; what the node decides goes to `out`, in order.
    pub fn handle(&mut self, input: Input, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        match input {
            Input::Message { from, msg } => relay::on_message(self, from, msg, ctx, out),
            Input::MiningTimer { txs } => miner::on_mining_timer(self, txs, ctx, out),
            Input::OwnBlock { block, hash } => {
                relay::receive_block(self, None, block, hash, ctx, out)
            }
            Input::TxAnnounceTimer => relay::flush_tx(self, out),
            Input::SubmitTx { txid, tx } => relay::accept_tx(self, None, txid, tx, ctx, out),
            Input::PeersChanged { ask_tips } => {
                if ask_tips {
                    out.push(Output::SendToPeers { msg: Msg::SendTip });
                }
                // Reconnected peers exchange tips so the better chain spreads.
                out.push(Output::SendToPeers {
                    msg: Msg::InvBlocks(Arc::from(vec![self.chain.tip()])),
                });
            }
        }
    }
}
