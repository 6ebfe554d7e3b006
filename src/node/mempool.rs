//! A node's memory pool of unconfirmed transactions.
//!
//! Invariants: every entry spends only outputs in the node's tip UTXO set
//! (no unconfirmed chains), no two entries spend the same outpoint, and the
//! total size stays within `max_bytes` (the lowest fee rate is evicted
//! first). Ordering is fully deterministic: by fee rate, then arrival order.

use std::collections::BTreeSet;
use std::rc::Rc;

use crate::ledger::hash::HashKeyMap;
use crate::ledger::utxo::UtxoSet;
use crate::ledger::validate::{self, SigCache, TxError};
use crate::ledger::{Amount, Block, OutPoint, Params, Transaction, Txid};

/// Fee rate in millisatoshis per byte (integer so ordering is exact).
pub type FeeRate = u64;

/// Why a transaction was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// Already in the pool.
    #[error("already in the mempool")]
    AlreadyKnown,
    /// Spends an outpoint another pool transaction spends.
    #[error("conflicts with mempool transaction {0}")]
    Conflict(Txid),
    /// Fails validation against the tip.
    #[error("invalid: {0}")]
    Invalid(#[from] TxError),
    /// A coinbase is never relayed.
    #[error("coinbase transactions are not relayed")]
    Coinbase,
    /// The pool is full and the fee rate is not above the lowest entry's.
    #[error("mempool full and fee rate too low")]
    FeeTooLow,
}

impl MempoolError {
    /// Bitcoin Core's reject reason (`txn-already-in-mempool`,
    /// `txn-mempool-conflict`, `coinbase`, `mempool-full`, or the
    /// transaction rule's own).
    pub fn reject_reason(&self) -> &'static str {
        match self {
            MempoolError::AlreadyKnown => "txn-already-in-mempool",
            MempoolError::Conflict(_) => "txn-mempool-conflict",
            MempoolError::Invalid(e) => e.reject_reason(),
            MempoolError::Coinbase => "coinbase",
            MempoolError::FeeTooLow => "mempool-full",
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    tx: Rc<Transaction>,
    fee: Amount,
    size: usize,
    key: (FeeRate, u64),
}

/// Unconfirmed transactions, ordered by fee rate.
#[derive(Clone, Debug, Default)]
pub struct Mempool {
    /// Lookups only (never iterated for behaviour), so a hash map.
    entries: HashKeyMap<Txid, Entry>,
    /// (fee rate, arrival seq, txid); the last is the best.
    by_rate: BTreeSet<(FeeRate, std::cmp::Reverse<u64>, Txid)>,
    spends: HashKeyMap<OutPoint, Txid>,
    bytes: usize,
    max_bytes: usize,
    seq: u64,
}

impl Mempool {
    /// An empty pool holding at most `max_bytes` of transactions.
    pub fn new(max_bytes: usize) -> Self {
        Mempool {
            max_bytes,
            ..Default::default()
        }
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total serialized size.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `txid` is in the pool.
    pub fn contains(&self, txid: &Txid) -> bool {
        self.entries.contains_key(txid)
    }

    /// The transaction with `txid`, if present.
    pub fn get(&self, txid: &Txid) -> Option<&Rc<Transaction>> {
        self.entries.get(txid).map(|e| &e.tx)
    }

    /// Whether `outpoint` is spent by a pool transaction.
    pub fn spends(&self, outpoint: &OutPoint) -> bool {
        self.spends.contains_key(outpoint)
    }

    /// Validates `tx` against the tip's UTXO set (`utxos` at `tip_height`)
    /// and adds it; returns its fee. Evicts the lowest fee rates if full.
    pub fn accept(
        &mut self,
        txid: Txid,
        tx: Rc<Transaction>,
        utxos: &UtxoSet,
        tip_height: u32,
        params: &Params,
        sigs: &mut SigCache,
    ) -> Result<Amount, MempoolError> {
        if self.entries.contains_key(&txid) {
            return Err(MempoolError::AlreadyKnown);
        }
        if tx.is_coinbase() {
            return Err(MempoolError::Coinbase);
        }
        for input in &tx.input {
            if let Some(other) = self.spends.get(&input.previous_output) {
                return Err(MempoolError::Conflict(*other));
            }
        }
        validate::check_transaction(&tx)?;
        let fee = validate::check_tx_inputs(&tx, utxos, tip_height + 1, params, sigs)?;
        let size = tx.size();
        let rate = fee.to_sat().saturating_mul(1000) / size.max(1) as u64;
        while self.bytes + size > self.max_bytes {
            let Some(&(low_rate, _, low_id)) = self.by_rate.iter().next() else {
                return Err(MempoolError::FeeTooLow);
            };
            if low_rate >= rate {
                return Err(MempoolError::FeeTooLow);
            }
            self.remove(&low_id);
        }
        self.seq += 1;
        let key = (rate, self.seq);
        for input in &tx.input {
            self.spends.insert(input.previous_output, txid);
        }
        self.by_rate
            .insert((rate, std::cmp::Reverse(self.seq), txid));
        self.bytes += size;
        self.entries.insert(txid, Entry { tx, fee, size, key });
        Ok(fee)
    }

    /// Removes `txid`; returns whether it was present.
    pub fn remove(&mut self, txid: &Txid) -> bool {
        let Some(e) = self.entries.remove(txid) else {
            return false;
        };
        self.by_rate
            .remove(&(e.key.0, std::cmp::Reverse(e.key.1), *txid));
        for input in &e.tx.input {
            self.spends.remove(&input.previous_output);
        }
        self.bytes -= e.size;
        true
    }

    /// Removes the transactions a newly connected block confirmed, and any
    /// pool transaction that conflicts with them. `txids` are the block's txids.
    pub fn remove_for_block(&mut self, block: &Block, txids: &[Txid]) {
        for (tx, txid) in block.txdata.iter().zip(txids) {
            if self.remove(txid) {
                continue;
            }
            for input in &tx.input {
                if let Some(conflict) = self.spends.get(&input.previous_output).copied() {
                    self.remove(&conflict);
                }
            }
        }
    }

    /// Drops entries no longer valid against `utxos` (after a reorg): inputs
    /// missing or spent. Returns how many were dropped.
    pub fn revalidate(&mut self, utxos: &UtxoSet) -> usize {
        let stale: Vec<Txid> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.tx.input
                    .iter()
                    .any(|i| !utxos.contains(&i.previous_output))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            self.remove(id);
        }
        stale.len()
    }

    /// Transactions for a block template, best fee rate first, within
    /// `max_bytes`. Returns `(txid, tx, fee)`.
    pub fn select(&self, max_bytes: usize) -> Vec<(Txid, Rc<Transaction>, Amount)> {
        let mut out = Vec::new();
        let mut used = 0usize;
        for (_, _, txid) in self.by_rate.iter().rev() {
            let e = &self.entries[txid];
            if used + e.size > max_bytes {
                continue;
            }
            used += e.size;
            out.push((*txid, e.tx.clone(), e.fee));
        }
        out
    }

    /// The pool's transactions with their txids, best fee rate first
    /// (what a compact block is reconstructed from).
    pub fn iter(&self) -> impl Iterator<Item = (&Txid, &Rc<Transaction>)> {
        self.by_rate
            .iter()
            .rev()
            .map(|(_, _, txid)| (txid, &self.entries[txid].tx))
    }

    /// All txids, in txid order.
    pub fn txids(&self) -> Vec<Txid> {
        let mut ids: Vec<Txid> = self.entries.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::keys::PrivateKey;
    use crate::ledger::sighash::sign_p2pkh_input;
    use crate::ledger::{ScriptBuf, TxIn, TxOut};

    struct Fixture {
        utxos: UtxoSet,
        params: Params,
        sigs: SigCache,
        key: PrivateKey,
        lock: ScriptBuf,
        funding: Txid,
    }

    /// A UTXO set holding ten 1 BTC coins of one key, created at height 0
    /// (spendable at once, like a simulation's genesis endowment).
    fn fixture() -> Fixture {
        let key = PrivateKey::from_seed(1);
        let lock = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
        let funding_tx = Transaction::new_coinbase(0, 0, Amount::ZERO, lock.clone());
        let mut funding_tx = funding_tx;
        funding_tx.output = (0..10)
            .map(|_| TxOut {
                value: Amount::ONE_BTC,
                script_pubkey: lock.clone(),
            })
            .collect();
        let mut utxos = UtxoSet::new();
        utxos.add_tx_outputs(&funding_tx, 0).unwrap();
        Fixture {
            utxos,
            params: Params::bitcoin(),
            sigs: SigCache::new(),
            funding: funding_tx.compute_txid(),
            key,
            lock,
        }
    }

    /// A signed spend of funding output `vout` paying `fee` satoshis,
    /// padded with `extra_outputs` outputs to change its size.
    fn spend(f: &Fixture, vout: u32, fee: u64, extra_outputs: usize) -> (Txid, Rc<Transaction>) {
        let mut outputs = vec![TxOut {
            value: Amount::from_sat(Amount::ONE_BTC.to_sat() - fee - extra_outputs as u64).unwrap(),
            script_pubkey: f.lock.clone(),
        }];
        outputs.extend((0..extra_outputs).map(|_| TxOut {
            value: Amount::from_sat(1).unwrap(),
            script_pubkey: f.lock.clone(),
        }));
        let mut tx = Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: OutPoint {
                    txid: f.funding,
                    vout,
                },
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            }],
            output: outputs,
            lock_time: 0,
        };
        sign_p2pkh_input(&mut tx, 0, &f.lock, &f.key).unwrap();
        (tx.compute_txid(), Rc::new(tx))
    }

    #[test]
    fn accepts_valid_and_refuses_duplicates_conflicts_and_invalid() {
        let mut f = fixture();
        let mut pool = Mempool::new(1_000_000);
        let (id, tx) = spend(&f, 0, 1000, 0);
        let fee = pool
            .accept(id, tx.clone(), &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        assert_eq!(fee.to_sat(), 1000);
        assert!(pool.contains(&id) && pool.len() == 1);
        assert_eq!(
            pool.accept(id, tx, &f.utxos, 0, &f.params, &mut f.sigs),
            Err(MempoolError::AlreadyKnown)
        );
        // Same coin, different fee: a conflict.
        let (id2, tx2) = spend(&f, 0, 2000, 0);
        assert_eq!(
            pool.accept(id2, tx2, &f.utxos, 0, &f.params, &mut f.sigs),
            Err(MempoolError::Conflict(id))
        );
        // A coin that does not exist.
        let (id3, tx3) = spend(&f, 99, 1000, 0);
        assert!(matches!(
            pool.accept(id3, tx3, &f.utxos, 0, &f.params, &mut f.sigs),
            Err(MempoolError::Invalid(_))
        ));
        // A coinbase is never relayed.
        let cb = Transaction::new_coinbase(5, 0, Amount::ONE_BTC, f.lock.clone());
        assert_eq!(
            pool.accept(
                cb.compute_txid(),
                Rc::new(cb),
                &f.utxos,
                0,
                &f.params,
                &mut f.sigs
            ),
            Err(MempoolError::Coinbase)
        );
    }

    #[test]
    fn selects_by_fee_rate_within_size() {
        let mut f = fixture();
        let mut pool = Mempool::new(1_000_000);
        let fees = [500u64, 3000, 1500, 8000];
        let mut ids = Vec::new();
        for (vout, fee) in fees.iter().enumerate() {
            let (id, tx) = spend(&f, vout as u32, *fee, 0);
            pool.accept(id, tx, &f.utxos, 0, &f.params, &mut f.sigs)
                .unwrap();
            ids.push(id);
        }
        let picked: Vec<Txid> = pool
            .select(1_000_000)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        assert_eq!(picked, vec![ids[3], ids[1], ids[2], ids[0]]);
        // Room for two transactions only: the two best.
        let one = pool.get(&ids[0]).unwrap().size();
        let picked: Vec<Txid> = pool
            .select(2 * one)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        assert_eq!(picked, vec![ids[3], ids[1]]);
    }

    #[test]
    fn full_pool_evicts_lowest_fee_rate() {
        let mut f = fixture();
        let (_, probe) = spend(&f, 0, 1000, 0);
        // Signatures vary by a byte or two: room for two, not three.
        let size = probe.size() + 2;
        let mut pool = Mempool::new(2 * size);
        let (a, ta) = spend(&f, 0, 1000, 0);
        let (b, tb) = spend(&f, 1, 2000, 0);
        pool.accept(a, ta, &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        pool.accept(b, tb, &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        // Lower than everything: refused.
        let (c, tc) = spend(&f, 2, 500, 0);
        assert_eq!(
            pool.accept(c, tc, &f.utxos, 0, &f.params, &mut f.sigs),
            Err(MempoolError::FeeTooLow)
        );
        // Higher than the lowest: evicts it.
        let (d, td) = spend(&f, 3, 5000, 0);
        pool.accept(d, td, &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        assert!(!pool.contains(&a) && pool.contains(&b) && pool.contains(&d));
        assert!(pool.bytes() <= 2 * size);
        // The evicted transaction's coin is free again.
        assert!(!pool.spends(&OutPoint {
            txid: f.funding,
            vout: 0
        }));
    }

    #[test]
    fn block_removes_confirmed_and_conflicting_and_reorg_revalidates() {
        let mut f = fixture();
        let mut pool = Mempool::new(1_000_000);
        let (a, ta) = spend(&f, 0, 1000, 0);
        let (b, tb) = spend(&f, 1, 1000, 0);
        pool.accept(a, ta.clone(), &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        pool.accept(b, tb, &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        // A block confirms `a` and a conflicting spend of coin 1.
        let (c, tc) = spend(&f, 1, 4000, 0);
        let coinbase = Transaction::new_coinbase(1, 0, Amount::ZERO, f.lock.clone());
        let block = Block {
            header: crate::ledger::Block::bitcoin_genesis().header,
            txdata: vec![coinbase.clone(), (*ta).clone(), (*tc).clone()],
        };
        pool.remove_for_block(&block, &[coinbase.compute_txid(), a, c]);
        assert!(
            pool.is_empty(),
            "confirmed and conflicting entries are gone"
        );
        // Revalidation drops entries whose coins vanished from the tip.
        let (d, td) = spend(&f, 2, 1000, 0);
        pool.accept(d, td, &f.utxos, 0, &f.params, &mut f.sigs)
            .unwrap();
        let mut spent = f.utxos.clone();
        let (_, te) = spend(&f, 2, 3000, 0);
        spent
            .apply_tx(&te, te.compute_txid(), 1, &mut Vec::new())
            .unwrap();
        assert_eq!(pool.revalidate(&spent), 1);
        assert!(pool.is_empty());
    }
}
