//! A node: honest full nodes and light clients as sans-IO state machines.
//!
//! A node is a value with a `handle(input, &mut ctx, &mut outbox)` method,
//! in the style of quinn-proto's `Connection`: it never touches the event
//! queue, the clock, a link or another node. The world hands it one
//! [`io::Input`] (a message from a peer, the mining timer, the
//! transaction-announcement timer, a submitted transaction, peers changed)
//! with an [`io::Ctx`] (now, the run's settings, the shared block cache,
//! the node's own known-block and known-transaction columns, misbehaviour
//! scores, and the simulator's oracles, named as such), and the node appends
//! what it decided to an [`io::Outbox`]: messages to send, announcements,
//! disconnections, timers, its mining rate, and observations (block
//! accepted or rejected with its reason, tip change, reorg, SPV check). The
//! world carries the outputs out in order.
//!
//! Where each behaviour lives:
//!
//! | behaviour | file |
//! |---|---|
//! | wire messages (`inv`, `getdata`, `block`, `tx`, `headers`, `merkleblock`) and their sizes | [`msg`] |
//! | BIP152 compact-block structures and reconstruction | [`compact`] |
//! | BIP152 relay: `sendcmpct`, high-bandwidth peers, `cmpctblock`, `getblocktxn`/`blocktxn`, fallbacks, the padding model | [`compact_relay`] |
//! | inputs, outputs, observations, the outbox, `Ctx` and the oracles | [`io`] |
//! | a full node's state | [`full`]; its dispatch of inputs is [`full::FullNode::handle`], below |
//! | what a node requests from an `inv` (full and light) | [`inv`] |
//! | what a node does with a message, a block, a tip change (announce, orphans, scoring, mempool update on reorg) | [`relay`] |
//! | block assembly when the mining timer fires | [`miner`] |
//! | the light client (headers, Merkle proofs) and serving it | [`light`] |
//! | the mempool's rules | [`mempool`] |
//! | misbehaviour scores (Core's discouragement) | [`score`] |
//! | transaction trickling: per-peer queues, Poisson timers, the known filter | [`trickle`] |
//! | the known-block / known-transaction columns | [`known`] |
//!
//! What is not here: the mining *timer* (exponential, drawn by the world
//! from the miner's stream), links and latency (`net`, carried out by the
//! world), the announcement elision that reads peers' columns (the world's
//! execution of [`io::Output::Announce`] and [`io::Output::AnnounceTxs`]),
//! and attackers ([`crate::adversary::node::AttackerNode`]: a public full
//! node, a private branch and a strategy behind the same `handle`).
//! Wallets and payments are in [`crate::workload`].

pub mod compact;
pub mod compact_relay;
pub mod full;
pub mod inv;
pub mod io;
pub mod known;
pub mod light;
pub mod mempool;
pub mod miner;
pub mod msg;
pub mod relay;
pub mod score;
pub mod trickle;

use std::rc::Rc;

use io::{Ctx, Input, Outbox, Output};
use msg::Msg;

impl full::FullNode {
    /// Handles one input; what the node decides goes to `out`, in order.
    /// This is the map of a full node: each input goes to the file that
    /// holds the behaviour.
    pub fn handle(&mut self, input: Input, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        match input {
            Input::Message { from, msg } => relay::on_message(self, from, msg, ctx, out),
            Input::MiningTimer { txs } => miner::on_mining_timer(self, txs, ctx, out),
            Input::OwnBlock { block, hash } => {
                relay::receive_block(self, None, block, hash, ctx, out)
            }
            Input::TxAnnounceTimer => relay::flush_tx(self, out),
            Input::TxTrickleTimer { peer } => relay::trickle_tx(self, peer, ctx, out),
            Input::SubmitTx { txid, tx } => relay::accept_tx(self, None, txid, tx, ctx, out),
            Input::Start => compact_relay::on_start(self, ctx, out),
            Input::Reconstructed { from, block, hash } => {
                relay::receive_block(self, Some(from), block, hash, ctx, out)
            }
            Input::PeersChanged { ask_tips } => {
                if ask_tips {
                    out.push(Output::SendToPeers { msg: Msg::SendTip });
                }
                // Reconnected peers exchange tips so the better chain spreads.
                out.push(Output::SendToPeers {
                    msg: Msg::InvBlocks(Rc::from(vec![self.chain.tip()])),
                });
            }
            // An attacker's inputs ([`crate::adversary::node`]): an honest
            // node has no strategy to tick, no merchant to watch and no
            // private branch.
            Input::AdversaryTick { .. } | Input::MerchantTip | Input::OwnPrivateBlock { .. } => {}
        }
    }
}
