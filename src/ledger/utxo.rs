//! The UTXO set: every unspent transaction output of a chain tip, with a
//! per-address index and a running total.
//!
//! # Why a persistent map
//!
//! The set lives in an [`imbl::OrdMap`], a persistent B-tree: `clone` is
//! O(1) and a clone shares every node it does not later modify. The UTXO set
//! is a pure function of a chain tip, so thousands of simulated nodes on the
//! same tip hold clones of one set, and the set after a block shares almost
//! all of its memory with the set before it (see
//! [`crate::ledger::chainstate::BlockCache`]). `imbl` is the maintained fork
//! of `im`; its nodes are `Arc`-shared (its `Rc` mode is disabled
//! upstream), so a set keeps its two maps behind one `Rc` of its own: the
//! nodes of a run hand a set around with a plain count, and the maps are
//! cloned, O(1), on the set's first change. An *ordered* map iterates in
//! key order, so anything derived from iteration (address listings,
//! digests) is deterministic.
//!
//! Coins are stored as `Rc<Coin>`: a modified B-tree leaf is copied, and
//! copying 64 `Rc`s is much cheaper than copying 64 scripts.
//!
//! # Invariants
//!
//! - `total_value()` is the sum of every coin's value;
//! - the address index holds exactly the coins whose `script_pubkey` is
//!   P2PKH, under their pubkey hash, and each address's balance is the sum of
//!   its coins;
//! - [`UtxoSet::connect_block`] and [`UtxoSet::disconnect_block`] are
//!   all-or-nothing: on error the set is unchanged; and disconnecting a
//!   connected block with its [`BlockUndo`] restores the set exactly.
//!
//! This module applies blocks mechanically: no script, value or maturity
//! checks. Those are consensus rules and live in [`crate::ledger::validate`].

use std::rc::Rc;

use imbl::OrdMap;

use super::amount::Amount;
use super::block::Block;
use super::hash::Txid;
use super::tx::{OutPoint, Transaction, TxOut};

/// An unspent output and where it was created (Core's `Coin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    /// The output itself.
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether it was created by a coinbase (subject to maturity).
    pub is_coinbase: bool,
}

/// What disconnecting a block needs that the block does not hold: the coins
/// its transactions spent, in input order (transaction by transaction, input
/// by input), the coinbase excluded (Core's `CBlockUndo`, flattened).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockUndo {
    /// Spent coins in input order.
    pub spent: Vec<Coin>,
}

/// Why a block could not be applied to or removed from the set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UtxoError {
    /// An input spends an output that is not in the set (missing or already spent).
    #[error("transaction {txid} input {input} spends {outpoint}, which is missing or spent")]
    MissingInput {
        /// The spending transaction.
        txid: Txid,
        /// Index of the input.
        input: usize,
        /// The output it tried to spend.
        outpoint: OutPoint,
    },
    /// A transaction creates an output that is already unspent in the set
    /// (a duplicate txid; Core's BIP30 check).
    #[error("output {0} already exists in the utxo set")]
    OutputExists(OutPoint),
    /// Disconnecting: an output the block created is not in the set (the
    /// block is not the tip this set belongs to).
    #[error("output {0} of the block being disconnected is not in the utxo set")]
    MissingOutput(OutPoint),
    /// Disconnecting: the undo data does not match the block's inputs.
    #[error("undo data holds {got} coins but the block spends {expected}")]
    UndoMismatch {
        /// Inputs the block's non-coinbase transactions spend.
        expected: usize,
        /// Coins in the undo data.
        got: usize,
    },
    /// The number of txids passed does not match the block's transactions.
    #[error("{got} txids given for a block of {expected} transactions")]
    TxidCountMismatch {
        /// Transactions in the block.
        expected: usize,
        /// Txids given.
        got: usize,
    },
}

/// The coins of one address: its balance and its outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AddressCoins {
    /// Sum of `coins` values (u128 so that unchecked blocks cannot overflow it).
    total: u128,
    coins: OrdMap<OutPoint, Amount>,
}

/// The set of unspent outputs of one chain tip. Clone is O(1): one
/// non-atomic count (the maps inside are copied on the first change, and
/// share their trees then too), so the nodes on one tip and the block
/// cache hand the same set around cheaply.
#[derive(Clone, Debug, Default)]
pub struct UtxoSet {
    inner: Rc<Coins>,
}

/// What a [`UtxoSet`] holds.
#[derive(Clone, Debug, Default)]
struct Coins {
    coins: OrdMap<OutPoint, Rc<Coin>>,
    by_address: OrdMap<[u8; 20], AddressCoins>,
    /// Sum of all coin values (u128: blocks applied here are not value-checked).
    total: u128,
}

impl PartialEq for UtxoSet {
    /// Two sets are equal when they hold the same coins (the index and the
    /// total are derived from them).
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
            || self.inner.coins.ptr_eq(&other.inner.coins)
            || self.inner.coins == other.inner.coins
    }
}

impl Eq for UtxoSet {}

impl UtxoSet {
    /// An empty set.
    pub fn new() -> UtxoSet {
        UtxoSet::default()
    }

    /// The coin at `outpoint`, if unspent.
    pub fn get(&self, outpoint: &OutPoint) -> Option<&Coin> {
        self.inner.coins.get(outpoint).map(|c| &**c)
    }

    /// Whether `outpoint` is unspent.
    pub fn contains(&self, outpoint: &OutPoint) -> bool {
        self.inner.coins.contains_key(outpoint)
    }

    /// Number of unspent outputs.
    pub fn len(&self) -> usize {
        self.inner.coins.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.coins.is_empty()
    }

    /// Sum of all unspent values (saturating at `u64::MAX` satoshis, which
    /// only unvalidated blocks can reach).
    pub fn total_value(&self) -> Amount {
        Amount::from_sat_unchecked(u64::try_from(self.inner.total).unwrap_or(u64::MAX))
    }

    /// Sum of the unspent P2PKH outputs locked to `pubkey_hash`.
    pub fn balance(&self, pubkey_hash: &[u8; 20]) -> Amount {
        let total = self
            .inner
            .by_address
            .get(pubkey_hash)
            .map_or(0, |a| a.total);
        Amount::from_sat_unchecked(u64::try_from(total).unwrap_or(u64::MAX))
    }

    /// The unspent P2PKH outputs locked to `pubkey_hash`, sorted by outpoint.
    pub fn utxos_of(&self, pubkey_hash: &[u8; 20]) -> Vec<(OutPoint, Amount)> {
        self.inner
            .by_address
            .get(pubkey_hash)
            .map(|a| a.coins.iter().map(|(o, v)| (*o, *v)).collect())
            .unwrap_or_default()
    }

    /// Number of addresses holding at least one P2PKH output.
    pub fn address_count(&self) -> usize {
        self.inner.by_address.len()
    }

    /// Iterates over all coins in outpoint order.
    pub fn iter(&self) -> impl Iterator<Item = (&OutPoint, &Coin)> + '_ {
        self.inner.coins.iter().map(|(o, c)| (o, &**c))
    }

    /// Whether two sets share their coin map entirely (cheap identity test).
    pub fn ptr_eq(&self, other: &UtxoSet) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner) || self.inner.coins.ptr_eq(&other.inner.coins)
    }

    fn insert_coin(&mut self, outpoint: OutPoint, coin: Coin) -> Result<(), UtxoError> {
        if self.inner.coins.contains_key(&outpoint) {
            return Err(UtxoError::OutputExists(outpoint));
        }
        let value = coin.output.value;
        let set = Rc::make_mut(&mut self.inner);
        if let Some(hash) = coin.output.script_pubkey.p2pkh_hash() {
            let entry = set.by_address.entry(hash).or_default();
            entry.total += value.to_sat() as u128;
            entry.coins.insert(outpoint, value);
        }
        set.total += value.to_sat() as u128;
        set.coins.insert(outpoint, Rc::new(coin));
        Ok(())
    }

    fn remove_coin(&mut self, outpoint: &OutPoint) -> Option<Rc<Coin>> {
        if !self.inner.coins.contains_key(outpoint) {
            return None; // nothing to change: the set stays shared
        }
        let set = Rc::make_mut(&mut self.inner);
        let coin = set.coins.remove(outpoint)?;
        let value = coin.output.value.to_sat() as u128;
        if let Some(hash) = coin.output.script_pubkey.p2pkh_hash() {
            let now_empty = match set.by_address.get_mut(&hash) {
                Some(entry) => {
                    entry.total -= value;
                    entry.coins.remove(outpoint);
                    entry.coins.is_empty()
                }
                None => false,
            };
            if now_empty {
                set.by_address.remove(&hash);
            }
        }
        set.total -= value;
        Some(coin)
    }

    /// Adds every spendable output of `tx` (txid `txid`) as created at
    /// `height`; unspendable ones (`OP_RETURN`, oversized scripts:
    /// [`crate::ledger::script::ScriptBuf::is_unspendable`]) are left out,
    /// as Bitcoin Core's `AddCoin` does. Fails without change if one of
    /// them already exists.
    pub fn add_tx_outputs_with_txid(
        &mut self,
        tx: &Transaction,
        txid: Txid,
        height: u32,
    ) -> Result<(), UtxoError> {
        let is_coinbase = tx.is_coinbase();
        if let Some(vout) = spendable(tx).find(|&vout| self.contains(&OutPoint { txid, vout })) {
            return Err(UtxoError::OutputExists(OutPoint { txid, vout }));
        }
        for vout in spendable(tx) {
            let coin = Coin {
                output: tx.output[vout as usize].clone(),
                height,
                is_coinbase,
            };
            self.insert_coin(OutPoint { txid, vout }, coin)
                .expect("checked above that no output exists");
        }
        Ok(())
    }

    /// Adds every output of `tx` as created at `height` (computes the txid).
    pub fn add_tx_outputs(&mut self, tx: &Transaction, height: u32) -> Result<(), UtxoError> {
        self.add_tx_outputs_with_txid(tx, tx.compute_txid(), height)
    }

    /// Applies one transaction: spends its inputs (none for a coinbase),
    /// pushing the spent coins onto `undo`, then creates its outputs.
    /// On error the set may be partly modified: callers wanting atomicity
    /// work on a clone (as [`UtxoSet::connect_block`] does).
    pub fn apply_tx(
        &mut self,
        tx: &Transaction,
        txid: Txid,
        height: u32,
        undo: &mut Vec<Coin>,
    ) -> Result<(), UtxoError> {
        if !tx.is_coinbase() {
            for (input, txin) in tx.input.iter().enumerate() {
                let coin =
                    self.remove_coin(&txin.previous_output)
                        .ok_or(UtxoError::MissingInput {
                            txid,
                            input,
                            outpoint: txin.previous_output,
                        })?;
                undo.push(Rc::unwrap_or_clone(coin));
            }
        }
        self.add_tx_outputs_with_txid(tx, txid, height)
    }

    /// [`UtxoSet::connect_block`] with the block's txids already computed.
    pub fn connect_block_with_txids(
        &mut self,
        block: &Block,
        txids: &[Txid],
        height: u32,
    ) -> Result<BlockUndo, UtxoError> {
        check_txid_count(block, txids)?;
        let mut next = self.clone();
        let mut spent = Vec::new();
        for (tx, txid) in block.txdata.iter().zip(txids) {
            next.apply_tx(tx, *txid, height, &mut spent)?;
        }
        *self = next;
        Ok(BlockUndo { spent })
    }

    /// Applies a block at `height`: for each transaction in order, spends its
    /// inputs and creates its outputs (so a transaction may spend an output
    /// created earlier in the same block). All-or-nothing: on error the set
    /// is unchanged. Returns the spent coins for [`UtxoSet::disconnect_block`].
    pub fn connect_block(&mut self, block: &Block, height: u32) -> Result<BlockUndo, UtxoError> {
        let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        self.connect_block_with_txids(block, &txids, height)
    }

    /// [`UtxoSet::disconnect_block`] with the block's txids already computed.
    pub fn disconnect_block_with_txids(
        &mut self,
        block: &Block,
        txids: &[Txid],
        undo: &BlockUndo,
    ) -> Result<(), UtxoError> {
        check_txid_count(block, txids)?;
        let expected: usize = block
            .txdata
            .iter()
            .filter(|t| !t.is_coinbase())
            .map(|t| t.input.len())
            .sum();
        if expected != undo.spent.len() {
            return Err(UtxoError::UndoMismatch {
                expected,
                got: undo.spent.len(),
            });
        }
        let mut next = self.clone();
        // Walk backwards so an output created and spent inside the block is
        // re-created by its spender's undo only after its creator removed it.
        let mut coins = undo.spent.iter().rev();
        for (tx, txid) in block.txdata.iter().zip(txids).rev() {
            for vout in spendable(tx) {
                let outpoint = OutPoint { txid: *txid, vout };
                next.remove_coin(&outpoint)
                    .ok_or(UtxoError::MissingOutput(outpoint))?;
            }
            if tx.is_coinbase() {
                continue;
            }
            for txin in tx.input.iter().rev() {
                let coin = coins.next().expect("undo length checked above").clone();
                next.insert_coin(txin.previous_output, coin)?;
            }
        }
        *self = next;
        Ok(())
    }

    /// Undoes [`UtxoSet::connect_block`]: removes the block's outputs and
    /// restores the coins it spent. All-or-nothing.
    pub fn disconnect_block(&mut self, block: &Block, undo: &BlockUndo) -> Result<(), UtxoError> {
        let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        self.disconnect_block_with_txids(block, &txids, undo)
    }
}

/// The output indices of `tx` that enter the UTXO set.
fn spendable(tx: &Transaction) -> impl Iterator<Item = u32> + '_ {
    tx.output
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.script_pubkey.is_unspendable())
        .map(|(vout, _)| vout as u32)
}

fn check_txid_count(block: &Block, txids: &[Txid]) -> Result<(), UtxoError> {
    if block.txdata.len() != txids.len() {
        return Err(UtxoError::TxidCountMismatch {
            expected: block.txdata.len(),
            got: txids.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::block::Header;
    use crate::ledger::hash::MerkleNode;
    use crate::ledger::pow::CompactTarget;
    use crate::ledger::script::ScriptBuf;
    use crate::ledger::tx::TxIn;
    use proptest::prelude::*;

    fn p2pkh(n: u8) -> ScriptBuf {
        ScriptBuf::new_p2pkh(&[n; 20])
    }

    fn spend(inputs: &[OutPoint], outputs: &[(u64, ScriptBuf)]) -> Transaction {
        Transaction {
            version: 1,
            input: inputs
                .iter()
                .map(|o| TxIn {
                    previous_output: *o,
                    script_sig: ScriptBuf(vec![]),
                    sequence: u32::MAX,
                })
                .collect(),
            output: outputs
                .iter()
                .map(|(v, s)| TxOut {
                    value: Amount::from_sat_unchecked(*v),
                    script_pubkey: s.clone(),
                })
                .collect(),
            lock_time: 0,
        }
    }

    fn block(txdata: Vec<Transaction>) -> Block {
        Block {
            header: Header {
                version: 1,
                prev_blockhash: crate::ledger::hash::BlockHash::ZERO,
                merkle_root: MerkleNode::ZERO,
                time: 0,
                bits: CompactTarget::from_consensus(0x207fffff),
                nonce: 0,
            },
            txdata,
        }
    }

    fn coinbase(height: u32, value: u64, script: ScriptBuf) -> Transaction {
        Transaction::new_coinbase(height, 0, Amount::from_sat_unchecked(value), script)
    }

    #[test]
    fn unspendable_outputs_never_enter_the_set() {
        let mut op_return = ScriptBuf(vec![crate::ledger::script::opcodes::OP_RETURN]);
        op_return.push_slice(b"hello");
        let oversized = ScriptBuf(vec![0x51; crate::ledger::script::MAX_SCRIPT_SIZE + 1]);
        let largest = ScriptBuf(vec![0x51; crate::ledger::script::MAX_SCRIPT_SIZE]);
        let cb = Transaction {
            output: vec![
                TxOut {
                    value: Amount::from_sat_unchecked(50),
                    script_pubkey: p2pkh(1),
                },
                TxOut {
                    value: Amount::ZERO,
                    script_pubkey: op_return,
                },
                TxOut {
                    value: Amount::ZERO,
                    script_pubkey: oversized,
                },
                TxOut {
                    value: Amount::from_sat_unchecked(7),
                    script_pubkey: largest,
                },
            ],
            ..coinbase(1, 0, p2pkh(9))
        };
        let txid = cb.compute_txid();
        let b = block(vec![cb]);
        let mut set = UtxoSet::new();
        let undo = set.connect_block(&b, 1).unwrap();
        let has = |set: &UtxoSet, vout| set.contains(&OutPoint { txid, vout });
        assert!(has(&set, 0) && !has(&set, 1) && !has(&set, 2) && has(&set, 3));
        assert_eq!(set.len(), 2);
        assert_eq!(set.total_value(), Amount::from_sat_unchecked(57));
        // Spending the OP_RETURN output finds no coin.
        let spend_it = spend(&[OutPoint { txid, vout: 1 }], &[(0, p2pkh(2))]);
        let err = set
            .apply_tx(&spend_it, spend_it.compute_txid(), 2, &mut Vec::new())
            .unwrap_err();
        assert!(matches!(err, UtxoError::MissingInput { .. }), "{err:?}");
        // Disconnecting removes exactly what connecting added.
        set.disconnect_block(&b, &undo).unwrap();
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn connect_spend_and_disconnect_round_trip() {
        let mut set = UtxoSet::new();
        let cb1 = coinbase(1, 5_000, p2pkh(1));
        let b1 = block(vec![cb1.clone()]);
        set.connect_block(&b1, 1).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.balance(&[1; 20]).to_sat(), 5_000);
        let after_b1 = set.clone();

        let op = OutPoint {
            txid: cb1.compute_txid(),
            vout: 0,
        };
        let pay = spend(&[op], &[(3_000, p2pkh(2)), (1_500, p2pkh(1))]);
        // A child spending the payment inside the same block.
        let child = spend(
            &[OutPoint {
                txid: pay.compute_txid(),
                vout: 0,
            }],
            &[(2_900, p2pkh(3))],
        );
        let b2 = block(vec![coinbase(2, 5_600, p2pkh(9)), pay, child]);
        let undo = set.connect_block(&b2, 2).unwrap();
        assert_eq!(undo.spent.len(), 2);
        assert_eq!(undo.spent[0].height, 1);
        assert!(undo.spent[0].is_coinbase);
        assert_eq!(set.balance(&[1; 20]).to_sat(), 1_500);
        assert_eq!(set.balance(&[2; 20]).to_sat(), 0);
        assert_eq!(set.balance(&[3; 20]).to_sat(), 2_900);
        assert_eq!(set.utxos_of(&[2; 20]), vec![]);
        assert_eq!(set.total_value().to_sat(), 1_500 + 2_900 + 5_600);
        assert!(!set.contains(&op));

        set.disconnect_block(&b2, &undo).unwrap();
        assert_eq!(set, after_b1);
        assert_eq!(set.balance(&[1; 20]).to_sat(), 5_000);
        assert_eq!(set.total_value().to_sat(), 5_000);
        assert_eq!(set.address_count(), 1);
    }

    #[test]
    fn failed_connect_leaves_set_unchanged() {
        let mut set = UtxoSet::new();
        let cb = coinbase(1, 100, p2pkh(1));
        set.connect_block(&block(vec![cb.clone()]), 1).unwrap();
        let before = set.clone();
        let good = spend(
            &[OutPoint {
                txid: cb.compute_txid(),
                vout: 0,
            }],
            &[(50, p2pkh(2))],
        );
        let missing = OutPoint {
            txid: Txid([7; 32]),
            vout: 0,
        };
        let bad = spend(&[missing], &[(1, p2pkh(2))]);
        let bad_txid = bad.compute_txid();
        let err = set
            .connect_block(&block(vec![coinbase(2, 1, p2pkh(3)), good, bad]), 2)
            .unwrap_err();
        assert_eq!(
            err,
            UtxoError::MissingInput {
                txid: bad_txid,
                input: 0,
                outpoint: missing
            }
        );
        assert_eq!(set, before);
        assert_eq!(set.total_value().to_sat(), 100);
        assert_eq!(set.balance(&[2; 20]), Amount::ZERO);

        // Re-adding an existing output is refused (BIP30), set unchanged.
        assert_eq!(
            set.add_tx_outputs(&cb, 5),
            Err(UtxoError::OutputExists(OutPoint {
                txid: cb.compute_txid(),
                vout: 0
            }))
        );
        assert_eq!(set, before);
    }

    #[test]
    fn disconnect_with_wrong_undo_is_refused() {
        let mut set = UtxoSet::new();
        let cb = coinbase(1, 100, p2pkh(1));
        set.connect_block(&block(vec![cb.clone()]), 1).unwrap();
        let pay = spend(
            &[OutPoint {
                txid: cb.compute_txid(),
                vout: 0,
            }],
            &[(50, p2pkh(2))],
        );
        let b2 = block(vec![coinbase(2, 1, p2pkh(3)), pay]);
        set.connect_block(&b2, 2).unwrap();
        let before = set.clone();
        assert_eq!(
            set.disconnect_block(&b2, &BlockUndo::default()),
            Err(UtxoError::UndoMismatch {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(set, before);
        // A block that is not this set's tip.
        let other = block(vec![coinbase(3, 1, p2pkh(3))]);
        assert!(matches!(
            set.disconnect_block(&other, &BlockUndo::default()),
            Err(UtxoError::MissingOutput(_))
        ));
        assert_eq!(set, before);
    }

    /// A random valid chain: each block's transactions spend random unspent
    /// outputs and pay a random fee, which the coinbase collects on top of a
    /// fixed subsidy. Returns the blocks and the subsidy total.
    fn random_chain(seed: Vec<(u8, u8, u16)>, blocks: usize) -> (Vec<Block>, u64) {
        const SUBSIDY: u64 = 1_000_000;
        let mut set = UtxoSet::new();
        let mut chain = Vec::new();
        let mut issued = 0u64;
        let mut draws = seed.into_iter().cycle();
        for height in 1..=blocks as u32 {
            let mut txs = Vec::new();
            let mut fees = 0u64;
            let mut view = set.clone();
            let n_tx = draws.next().map_or(0, |d| d.0 % 4) as usize;
            for _ in 0..n_tx {
                let (pick, outs, fee) = draws.next().expect("cycle");
                let utxos: Vec<(OutPoint, u64)> = view
                    .iter()
                    .map(|(o, c)| (*o, c.output.value.to_sat()))
                    .collect();
                if utxos.is_empty() {
                    break;
                }
                let (op, value) = utxos[pick as usize % utxos.len()];
                let fee = (fee as u64).min(value);
                let n_out = 1 + outs as u64 % 3;
                let each = (value - fee) / n_out;
                let rest = value - fee - each * n_out;
                let outputs: Vec<(u64, ScriptBuf)> = (0..n_out)
                    .map(|i| {
                        (
                            each + if i == 0 { rest } else { 0 },
                            p2pkh(outs.wrapping_add(i as u8) % 5),
                        )
                    })
                    .collect();
                let tx = spend(&[op], &outputs);
                let mut undo = Vec::new();
                view.apply_tx(&tx, tx.compute_txid(), height, &mut undo)
                    .unwrap();
                fees += fee;
                txs.push(tx);
            }
            txs.insert(0, coinbase(height, SUBSIDY + fees, p2pkh(0)));
            issued += SUBSIDY;
            let b = block(txs);
            set.connect_block(&b, height).unwrap();
            chain.push(b);
        }
        (chain, issued)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Fees move value from spenders to the miner: the set always holds
        /// exactly the subsidies issued, and the address index agrees.
        #[test]
        fn value_is_conserved(seed in prop::collection::vec(any::<(u8, u8, u16)>(), 1..40), n in 1usize..12) {
            let (chain, issued) = random_chain(seed, n);
            let mut set = UtxoSet::new();
            for (h, b) in chain.iter().enumerate() {
                set.connect_block(b, h as u32 + 1).unwrap();
            }
            prop_assert_eq!(set.total_value().to_sat(), issued);
            let by_address: u64 = (0..5u8).map(|a| set.balance(&[a; 20]).to_sat()).sum();
            prop_assert_eq!(by_address, issued);
            let listed: u64 = (0..5u8)
                .flat_map(|a| set.utxos_of(&[a; 20]))
                .map(|(_, v)| v.to_sat())
                .sum();
            prop_assert_eq!(listed, issued);
        }

        /// Disconnecting the last k blocks and connecting them again gives
        /// the same set as connecting them once, and each disconnect
        /// restores the set of the block below.
        #[test]
        fn disconnect_then_reconnect_equals_direct(seed in prop::collection::vec(any::<(u8, u8, u16)>(), 1..40), n in 1usize..10, k in 0usize..10) {
            let (chain, _) = random_chain(seed, n);
            let k = k.min(chain.len());
            let mut set = UtxoSet::new();
            let mut snapshots = vec![set.clone()];
            let mut undos = Vec::new();
            for (h, b) in chain.iter().enumerate() {
                undos.push(set.connect_block(b, h as u32 + 1).unwrap());
                snapshots.push(set.clone());
            }
            let direct = set.clone();
            for i in (chain.len() - k..chain.len()).rev() {
                set.disconnect_block(&chain[i], &undos[i]).unwrap();
                prop_assert_eq!(&set, &snapshots[i]);
                prop_assert_eq!(set.total_value(), snapshots[i].total_value());
            }
            for i in chain.len() - k..chain.len() {
                let undo = set.connect_block(&chain[i], i as u32 + 1).unwrap();
                prop_assert_eq!(&undo, &undos[i]);
            }
            prop_assert_eq!(&set, &direct);
            for a in 0..5u8 {
                prop_assert_eq!(set.utxos_of(&[a; 20]), direct.utxos_of(&[a; 20]));
            }
        }
    }
}
