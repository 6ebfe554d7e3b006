//! Block assembly: what a miner does when its mining timer fires.
//!
//! The timer itself is the world's (the mining process is memoryless: a
//! miner with hashrate `h` finds its next block after an exponential time
//! with mean `expected_hashes(target) / h`; the world draws it from the
//! miner's own stream and redraws it when [`Output::MiningRate`] reports a
//! different rate). Here the miner builds a real block on its tip: coinbase
//! paying subsidy plus fees to its key, the transactions its mempool
//! selects, padding to `block_fill_bytes`, the Merkle root, and with
//! `pow.grind` a really ground nonce.

use std::sync::Arc;

use crate::ledger::chainstate::BlockInfo;
use crate::ledger::keys::PrivateKey;
use crate::ledger::pow::Target;
use crate::ledger::{Amount, Block, Header, ScriptBuf, Transaction, TxOut, Txid};
use crate::node::full::FullNode;
use crate::node::io::{Ctx, NodeConfig, Outbox, Output};
use crate::node::msg::NodeIdx;
use crate::sim::SimTime;

/// Bytes of a block kept for the header, transaction count and coinbase
/// when selecting mempool transactions.
pub const COINBASE_ROOM_BYTES: usize = 1000;

/// The mining timer fired: assemble a block on the tip with `txs` (or the
/// mempool's best) and report it ([`Output::Mined`]); the world books it and
/// hands it back to be accepted and announced.
pub fn on_mining_timer(
    full: &mut FullNode,
    txs: Option<Vec<(Txid, Arc<Transaction>, Amount)>>,
    ctx: &mut Ctx<'_>,
    out: &mut Outbox,
) {
    let tip = full.chain.tip_info().clone();
    let budget = ctx
        .cfg
        .params
        .max_block_size
        .saturating_sub(COINBASE_ROOM_BYTES);
    let picked = txs.unwrap_or_else(|| full.mempool.select(budget));
    let (block, txids) = assemble_block_with_txids(full, ctx.me(), &tip, picked, ctx.cfg, ctx.now);
    ctx.cache.remember_txids(&block, txids);
    let hash = block.block_hash();
    out.push(Output::Mined {
        block,
        hash,
        height: tip.height + 1,
    });
}

/// Assembles node `me`'s block on `tip` with the transactions `picked`
/// (coinbase paying subsidy plus their fees to the node's key, padding to
/// `block_fill_bytes`, Merkle root, and a ground nonce if `pow.grind`).
pub fn assemble_block(
    full: &mut FullNode,
    me: NodeIdx,
    tip: &BlockInfo,
    picked: Vec<(Txid, Arc<Transaction>, Amount)>,
    cfg: &NodeConfig,
    now: SimTime,
) -> Arc<Block> {
    assemble_block_with_txids(full, me, tip, picked, cfg, now).0
}

/// [`assemble_block`], also returning the block's txids in block order
/// (the coinbase's computed, the others taken from `picked`), which the
/// Merkle root was built from.
pub fn assemble_block_with_txids(
    full: &mut FullNode,
    me: NodeIdx,
    tip: &BlockInfo,
    picked: Vec<(Txid, Arc<Transaction>, Amount)>,
    cfg: &NodeConfig,
    now: SimTime,
) -> (Arc<Block>, Vec<Txid>) {
    let now_secs = cfg.block_time_secs(now);
    let fill = cfg.block_fill_bytes;
    let height = tip.height + 1;
    let bits = tip.next_bits;
    let time = now_secs.max(tip.median_time_past + 1);
    let fees = Amount::checked_sum(picked.iter().map(|(_, _, f)| *f)).unwrap_or(Amount::ZERO);
    let reward = cfg
        .params
        .block_subsidy(height)
        .checked_add(fees)
        .expect("subsidy plus fees stays within the supply");
    full.extra_nonce += 1;
    let payout = full
        .payout
        .get_or_insert_with(|| {
            let key = PrivateKey::derive(format!("forklab miner {me}").as_bytes());
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
    let mut txids = Vec::with_capacity(picked.len() + 1);
    txids.push(Txid::from_byte_array([0; 32])); // the coinbase's, once final
    for (txid, t, _) in picked {
        txids.push(txid);
        txdata.push((*t).clone());
    }
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
    // The picked transactions' txids are known; only the coinbase (with
    // its padding, up to a megabyte) is hashed.
    txids[0] = block.txdata[0].compute_txid();
    block.header.merkle_root =
        crate::ledger::merkle::merkle_root(&txids).expect("a block has a coinbase");
    if cfg.grind {
        let target = Target::from_compact(bits).expect("next_bits is a valid target");
        crate::ledger::nonce::grind(&mut block.header, target, u64::MAX)
            .expect("grinding at a teaching difficulty ends");
    }
    (Arc::new(block), txids)
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
