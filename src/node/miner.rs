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

use std::rc::Rc;

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
    txs: Option<Vec<(Txid, Rc<Transaction>, Amount)>>,
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
    picked: Vec<(Txid, Rc<Transaction>, Amount)>,
    cfg: &NodeConfig,
    now: SimTime,
) -> Rc<Block> {
    assemble_block_with_txids(full, me, tip, picked, cfg, now).0
}

/// [`assemble_block`], also returning the block's txids in block order
/// (the coinbase's computed, the others taken from `picked`), which the
/// Merkle root was built from.
pub fn assemble_block_with_txids(
    full: &mut FullNode,
    me: NodeIdx,
    tip: &BlockInfo,
    picked: Vec<(Txid, Rc<Transaction>, Amount)>,
    cfg: &NodeConfig,
    now: SimTime,
) -> (Rc<Block>, Vec<Txid>) {
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
    if let Some(pad) = padding_len(fill, coinbase.size(), body_size, picked.len() + 1) {
        coinbase.output.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: op_return_padding(pad),
        });
    }
    txdata.push(coinbase);
    let mut txids = Vec::with_capacity(picked.len() + 1);
    txids.push(Txid::from_byte_array([0; 32])); // the coinbase's, once final
    for (txid, t, _) in picked {
        txids.push(txid);
        txdata.push((*t).clone());
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
    (Rc::new(block), txids)
}

/// The length of the padding (the bytes after [`op_return_padding`]'s
/// 6-byte header) that makes a block `fill` bytes long, or `None` for no
/// padding (`fill` is 0, or the block is already within 16 bytes of it).
/// The block has `n_tx` transactions: a coinbase of `coinbase_size` bytes
/// before padding, and others of `body_size` bytes in all.
///
/// Worked out from sizes alone, so the padded output, up to a megabyte, is
/// allocated and zeroed once: a first estimate that ignores varint widths,
/// then up to three corrections by what the block's size misses `fill` by.
/// Every block size is reachable except two at each varint width step of
/// the script length (253 and 65,536 bytes, where the length grows by 2
/// bytes); for those the block ends up 2 bytes over or under `fill`.
fn padding_len(fill: usize, coinbase_size: usize, body_size: usize, n_tx: usize) -> Option<usize> {
    use crate::ledger::encode::{var_bytes_len_of, varint_len};
    if fill == 0 {
        return None;
    }
    let size_now = 80 + 3 + coinbase_size + body_size;
    if size_now + 16 >= fill {
        return None;
    }
    // The block's size once the coinbase has its second output: an 8-byte
    // value and the script of `pad + 6` bytes (the output count stays one
    // byte).
    let block_size = |pad: usize| {
        80 + varint_len(n_tx as u64) + body_size + coinbase_size + 8 + var_bytes_len_of(pad + 6)
    };
    let mut pad = fill - size_now - 16;
    for _ in 0..3 {
        let size = block_size(pad);
        if size == fill {
            break;
        }
        pad = (pad + fill).saturating_sub(size);
    }
    Some(pad)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::encode::{varint_len, Encodable};
    use proptest::prelude::*;

    /// The size of a block whose coinbase is `coinbase` and whose other
    /// transactions take `body_size` bytes, from the encoding.
    fn block_size(coinbase: &Transaction, body_size: usize, n_tx: usize) -> usize {
        80 + varint_len(n_tx as u64) + coinbase.encode().len() + body_size
    }

    proptest! {
        /// The padding worked out from sizes makes the encoded block
        /// exactly `fill` bytes, except at a varint step of the script
        /// length, where it is 2 bytes off.
        #[test]
        fn padding_fills_the_block(
            fill in 0usize..1_200_000,
            height in 0u32..1_000_000,
            extra_nonce in 0u64..u64::MAX,
            body_size in 0usize..20_000,
            n_tx in 1usize..300,
        ) {
            let key = PrivateKey::derive(b"padding test");
            let payout = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
            let mut cb = Transaction::new_coinbase(height, extra_nonce, Amount::from_sat_unchecked(50), payout);
            let before = block_size(&cb, body_size, n_tx);
            match padding_len(fill, cb.size(), body_size, n_tx) {
                // Too close to `fill` for an output of at least 15 bytes.
                None => prop_assert!(fill == 0 || fill <= before + 18),
                Some(pad) => {
                    cb.output.push(TxOut { value: Amount::ZERO, script_pubkey: op_return_padding(pad) });
                    let size = block_size(&cb, body_size, n_tx);
                    let script = pad + 6;
                    let near_step = (250..256).contains(&script) || (65_533..65_539).contains(&script);
                    prop_assert!(size == fill || (near_step && size.abs_diff(fill) == 2),
                        "fill {} size {} script {}", fill, size, script);
                }
            }
        }
    }

    /// Every fill around the script length's varint steps (253 and
    /// 65,536 bytes), and SimBlock's 535,000 bytes: the block is `fill`
    /// bytes, or for the two unreachable sizes at each step 2 bytes off.
    #[test]
    fn padding_around_varint_steps() {
        let key = PrivateKey::derive(b"padding test");
        let payout = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
        let cb = Transaction::new_coinbase(100, 7, Amount::from_sat_unchecked(50), payout);
        let base = block_size(&cb, 0, 1);
        let mut off = 0;
        let fills = (base + 200..base + 320)
            .chain(base + 65_500..base + 65_620)
            .chain([535_000]);
        for fill in fills {
            let pad = padding_len(fill, cb.size(), 0, 1).expect("room for padding");
            let mut padded = cb.clone();
            padded.output.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: op_return_padding(pad),
            });
            let size = block_size(&padded, 0, 1);
            assert!(size.abs_diff(fill) <= 2, "fill {fill} size {size}");
            if size != fill {
                off += 1;
            }
        }
        // Two unreachable sizes at each step (a 1-byte length becomes 3
        // bytes, a 3-byte one 5).
        assert_eq!(off, 4);
        assert_eq!(padding_len(0, cb.size(), 0, 1), None);
        assert_eq!(padding_len(base + 10, cb.size(), 0, 1), None);
    }
}
