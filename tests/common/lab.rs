//! The chain and node settings the sans-IO harnesses start from
//! (`tests/relay_harness.rs`, `tests/attacker_harness.rs`): a teaching
//! proof-of-work limit so blocks are ground for real, and the
//! [`NodeConfig`] every harness node runs with.

use std::rc::Rc;

use forklab::ledger::chainstate::{new_genesis, BlockCache};
use forklab::ledger::pow::Target;
use forklab::ledger::{Block, Params, TxOut};
use forklab::node::full::FullNode;
use forklab::node::io::{NodeConfig, Oracles};
use forklab::sim::SimDuration;

/// Genesis time of the harness chain.
pub const T0: u32 = 1_700_000_000;

/// Bitcoin's rules with a proof-of-work limit of 4 leading zero bits, no
/// retargeting and a coinbase maturity of 10 blocks.
pub fn params() -> Rc<Params> {
    let mut params = Params::bitcoin();
    params.pow_limit = Target::from_leading_zero_bits(4);
    params.retarget_window = 0;
    params.coinbase_maturity = 10;
    Rc::new(params)
}

/// A genesis block at [`T0`], at the proof-of-work limit, paying `outputs`.
pub fn genesis(params: &Params, outputs: Vec<TxOut>) -> Rc<Block> {
    let bits = params.pow_limit.to_compact_lossy();
    Rc::new(new_genesis(params, T0, bits, outputs))
}

/// `n` full nodes on `genesis`, each with a 1 MB mempool.
pub fn full_nodes(
    n: usize,
    genesis: &Rc<Block>,
    params: &Rc<Params>,
    cache: &mut BlockCache,
) -> Vec<FullNode> {
    (0..n)
        .map(|_| FullNode::new(genesis.clone(), params.clone(), 1_000_000, cache))
        .collect()
}

/// What every harness node runs with: blocks really ground, no filler
/// bytes, transactions relayed and announced every second, compact relay
/// off (a test that wants BIP152 sets `compact`).
pub fn node_config(params: Rc<Params>) -> NodeConfig {
    NodeConfig {
        params,
        genesis_time: T0,
        grind: true,
        block_fill_bytes: 0,
        mempool_max_bytes: 1_000_000,
        relay_txs: true,
        tx_announce_interval: SimDuration::from_secs(1),
        trickle: Default::default(),
        compact: None,
    }
}

/// The simulator's oracles as a harness answers them: no tips watched, no
/// γ set; `no_private_blocks` when no attacker is in the harness.
pub fn oracles(genesis: &Block, no_private_blocks: bool) -> Oracles {
    Oracles {
        genesis: genesis.block_hash(),
        no_private_blocks,
        tips_watched: false,
        gamma: false,
    }
}
