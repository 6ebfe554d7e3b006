//! A full node's state: its chain state, mempool and the state of its
//! relay. Its entry point, [`FullNode::handle`], is in the module root
//! (`node.rs`), which dispatches each input to the file that holds the
//! behaviour.

use std::rc::Rc;

use crate::ledger::chainstate::{BlockCache, Chainstate};
use crate::ledger::{Block, ScriptBuf, Txid};
use crate::node::compact_relay::CompactState;
use crate::node::mempool::Mempool;
use crate::node::msg::NodeIdx;
use crate::node::trickle::Trickle;

/// A full node's state. `repr(C)` keeps the chain state first, where the
/// world's run loop prefetches it (up to `tx_to_announce`).
#[repr(C)]
pub struct FullNode {
    /// Block tree, fork choice, UTXO view of the tip.
    pub chain: Chainstate,
    /// Unconfirmed transactions.
    pub mempool: Mempool,
    /// Accepted transactions not yet announced (batched announcements,
    /// when the trickle is off).
    pub tx_to_announce: Vec<Txid>,
    /// Whether the batch announcement timer is set.
    pub tx_flush_pending: bool,
    /// Per-peer transaction announcement queues and timers
    /// (`network.trickle.enabled`; set by the world once peers are known,
    /// `None` otherwise).
    pub trickle: Option<Box<Trickle>>,
    /// Coinbase destination (derived when the node first mines: key
    /// derivation costs a scalar multiplication, and most relays never mine).
    pub payout: Option<ScriptBuf>,
    /// Extra nonce of the next coinbase (makes every coinbase unique).
    pub extra_nonce: u64,
    /// Light clients attached to this node and the address each watches
    /// (what their `filterload` would tell it).
    pub light_clients: Vec<(NodeIdx, [u8; 20])>,
    /// An active attacker: its strategy, not the honest relay, decides what
    /// to announce and where to mine ([`crate::node::io::Output::AttackerRelay`]).
    pub strategy_relays: bool,
    /// BIP152 state (peers, high-bandwidth lists, reconstructions).
    pub cmpct: CompactState,
}

impl FullNode {
    /// A node that knows only `genesis`.
    pub fn new(
        genesis: Rc<Block>,
        params: Rc<crate::ledger::Params>,
        mempool_max_bytes: usize,
        cache: &mut BlockCache,
    ) -> FullNode {
        FullNode {
            chain: Chainstate::new(genesis, params, cache),
            mempool: Mempool::new(mempool_max_bytes),
            tx_to_announce: Vec::new(),
            tx_flush_pending: false,
            trickle: None,
            payout: None,
            extra_nonce: 0,
            light_clients: Vec::new(),
            strategy_relays: false,
            cmpct: CompactState::default(),
        }
    }
}
