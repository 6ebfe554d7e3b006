//! A node's memory pool of unconfirmed transactions.
//!
//! Invariants: every entry spends only outputs in the node's tip UTXO set
//! (no unconfirmed chains), no two entries spend the same outpoint, and the
//! total size stays within `max_bytes` (the lowest fee rate is evicted
//! first). Ordering is fully deterministic: by fee rate, then arrival order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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

#[derive(Clone, Debug)]
struct Entry {
    tx: Arc<Transaction>,
    fee: Amount,
    size: usize,
    key: (FeeRate, u64),
}

/// Unconfirmed transactions, ordered by fee rate.
#[derive(Clone, Debug, Default)]
pub struct Mempool {
    entries: BTreeMap<Txid, Entry>,
    /// (fee rate, arrival seq, txid); the last is the best.
    by_rate: BTreeSet<(FeeRate, std::cmp::Reverse<u64>, Txid)>,
    spends: BTreeMap<OutPoint, Txid>,
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
    pub fn get(&self, txid: &Txid) -> Option<&Arc<Transaction>> {
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
        tx: Arc<Transaction>,
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
    pub fn select(&self, max_bytes: usize) -> Vec<(Txid, Arc<Transaction>, Amount)> {
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

    /// All txids, in txid order.
    pub fn txids(&self) -> impl Iterator<Item = &Txid> {
        self.entries.keys()
    }
}
