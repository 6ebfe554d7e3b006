//! Consensus validation with typed, readable rejection reasons.
//!
//! The checks mirror Bitcoin Core's, split the same way:
//!
//! - [`check_transaction`]: context-free transaction rules (Core
//!   `CheckTransaction`);
//! - [`check_tx_inputs`]: a transaction against a UTXO set (Core
//!   `Consensus::CheckTxInputs` plus `CheckInputScripts`), shared by block
//!   validation and a mempool;
//! - [`check_block`]: context-free block rules (Core `CheckBlock`, with
//!   `CheckBlockHeader`'s proof of work);
//! - [`check_header_context`]: a header against its parent's chain (Core
//!   `ContextualCheckBlockHeader`): difficulty, median time past, future
//!   time;
//! - [`connect_block`]: a block against its parent's UTXO set (Core
//!   `ConnectBlock` plus BIP34 from `ContextualCheckBlock`), all-or-nothing.
//!
//! Every rejection is a variant of [`TxError`] or [`BlockError`]; each names
//! the Core reject reason it mirrors (`reject_reason()` returns that string,
//! e.g. for metrics).
//!
//! # Deliberate differences from Bitcoin
//!
//! - Only P2PKH and P2PK outputs can be spent (see
//!   [`crate::ledger::sighash`]); there are no sigop limits, no segwit and
//!   no weight, only the legacy size.
//! - `lock_time` and `sequence` carry no meaning: there is no
//!   `bad-txns-nonfinal` rule (BIP65/68/112/113 are out of scope).
//! - Outputs created at height 0 (the simulation's genesis endowment, which
//!   forklab, unlike Bitcoin, adds to the UTXO set) are spendable at once:
//!   coinbase maturity does not apply to them.
//! - Signature checks are memoised in a [`SigCache`]: whether an input's
//!   signature is valid is a pure function of the transaction (its txid
//!   commits to every byte, legacy serialization has no witness) and of the
//!   spent script, so a simulation verifies each signature once per run and
//!   shares the cache among all its nodes. Each node still applies its own
//!   UTXO rules.
//! - Testnet's minimum-difficulty rule and `fPowNoRetargeting` are absent;
//!   `Params::retarget_window == 0` disables retargeting instead.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

use super::amount::Amount;
use super::block::{Block, Header};
use super::hash::{sha256, BlockHash, MerkleNode, Txid};
use super::merkle;
use super::params::Params;
use super::pow::{self, CompactTarget, PowError, Target};
use super::script::ScriptBuf;
use super::sighash::{self, ScriptError};
use super::tx::{OutPoint, Transaction};
use super::utxo::{BlockUndo, UtxoError, UtxoSet};

/// Why a transaction is invalid. Each variant documents the Bitcoin Core
/// reject reason it mirrors ([`TxError::reject_reason`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The transaction has no inputs (`bad-txns-vin-empty`).
    #[error("transaction has no inputs")]
    InputsEmpty,
    /// The transaction has no outputs (`bad-txns-vout-empty`).
    #[error("transaction has no outputs")]
    OutputsEmpty,
    /// An output value is above `MAX_MONEY` (`bad-txns-vout-toolarge`).
    #[error("output {vout} value {value:?} is above the money supply")]
    OutputTooLarge {
        /// Index of the output.
        vout: usize,
        /// Its value.
        value: Amount,
    },
    /// The output values sum above `MAX_MONEY` (`bad-txns-txouttotal-toolarge`).
    #[error("outputs sum above the money supply")]
    OutputTotalTooLarge,
    /// Two inputs spend the same outpoint (`bad-txns-inputs-duplicate`).
    #[error("outpoint {0} is spent twice by the same transaction")]
    DuplicateInput(OutPoint),
    /// A coinbase `script_sig` is not 2 to 100 bytes long (`bad-cb-length`).
    #[error("coinbase script_sig is {0} bytes (must be 2 to 100)")]
    CoinbaseScriptSize(usize),
    /// A non-coinbase input spends the null outpoint (`bad-txns-prevout-null`).
    #[error("input {input} spends the null outpoint but the transaction is not a coinbase")]
    NullPrevout {
        /// Index of the input.
        input: usize,
    },
    /// A coinbase was checked as an ordinary spend (`coinbase`, Core's
    /// mempool rejection; blocks report it as `bad-cb-multiple`).
    #[error("a coinbase cannot be checked against the utxo set")]
    Coinbase,
    /// An input spends an output that does not exist or is already spent
    /// (`bad-txns-inputs-missingorspent`).
    #[error("input {input} spends {outpoint}, which is missing or spent")]
    MissingOrSpent {
        /// Index of the input.
        input: usize,
        /// The output it tried to spend.
        outpoint: OutPoint,
    },
    /// An input spends a coinbase output with fewer than
    /// `Params::coinbase_maturity` confirmations
    /// (`bad-txns-premature-spend-of-coinbase`).
    #[error("input {input} spends coinbase {outpoint} at depth {depth} (maturity {maturity})")]
    PrematureCoinbaseSpend {
        /// Index of the input.
        input: usize,
        /// The coinbase output.
        outpoint: OutPoint,
        /// Spend height minus creation height.
        depth: u32,
        /// Required depth.
        maturity: u32,
    },
    /// A spent value, or their sum, is above `MAX_MONEY`
    /// (`bad-txns-inputvalues-outofrange`).
    #[error("input values are out of range")]
    InputValuesOutOfRange,
    /// The outputs are worth more than the inputs (`bad-txns-in-belowout`).
    #[error("inputs {value_in:?} are below outputs {value_out:?}")]
    InBelowOut {
        /// Sum of the spent values.
        value_in: Amount,
        /// Sum of the output values.
        value_out: Amount,
    },
    /// An input's script does not verify (`mandatory-script-verify-flag-failed`).
    #[error("input {input} script verification failed: {error}")]
    Script {
        /// Index of the input.
        input: usize,
        /// Why.
        error: ScriptError,
    },
}

impl TxError {
    /// The Bitcoin Core reject reason this error mirrors.
    pub fn reject_reason(&self) -> &'static str {
        match self {
            TxError::InputsEmpty => "bad-txns-vin-empty",
            TxError::OutputsEmpty => "bad-txns-vout-empty",
            TxError::OutputTooLarge { .. } => "bad-txns-vout-toolarge",
            TxError::OutputTotalTooLarge => "bad-txns-txouttotal-toolarge",
            TxError::DuplicateInput(_) => "bad-txns-inputs-duplicate",
            TxError::CoinbaseScriptSize(_) => "bad-cb-length",
            TxError::NullPrevout { .. } => "bad-txns-prevout-null",
            TxError::Coinbase => "coinbase",
            TxError::MissingOrSpent { .. } => "bad-txns-inputs-missingorspent",
            TxError::PrematureCoinbaseSpend { .. } => "bad-txns-premature-spend-of-coinbase",
            TxError::InputValuesOutOfRange => "bad-txns-inputvalues-outofrange",
            TxError::InBelowOut { .. } => "bad-txns-in-belowout",
            TxError::Script { .. } => "mandatory-script-verify-flag-failed",
        }
    }
}

/// Why a block is invalid. Each variant documents the Bitcoin Core reject
/// reason it mirrors ([`BlockError::reject_reason`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The header hash does not meet its target (`high-hash`).
    #[error("block hash {hash} does not meet its target {target}")]
    HighHash {
        /// The block hash.
        hash: BlockHash,
        /// The target from its `bits`.
        target: Target,
    },
    /// `bits` is negative, overflowing, zero or easier than the
    /// proof-of-work limit (`high-hash`: Core's `CheckProofOfWork` rejects
    /// these the same way).
    #[error("invalid difficulty bits: {0}")]
    BadBits(PowError),
    /// `bits` is not what the retarget rule expects (`bad-diffbits`).
    #[error("difficulty bits {got} but the chain expects {expected}")]
    BadDiffBits {
        /// Expected bits.
        expected: CompactTarget,
        /// The header's bits.
        got: CompactTarget,
    },
    /// The time is not after the median of the last 11 blocks (`time-too-old`).
    #[error("block time {time} is not after the median time past {median_time_past}")]
    TimeTooOld {
        /// The header's time.
        time: u32,
        /// Median time of the previous 11 blocks.
        median_time_past: u32,
    },
    /// The time is too far ahead of the node's clock (`time-too-new`).
    /// Not permanent: the block may become acceptable later.
    #[error("block time {time} is more than the allowed drift ahead (latest allowed {max})")]
    TimeTooNew {
        /// The header's time.
        time: u32,
        /// Latest acceptable time.
        max: u32,
    },
    /// The header's Merkle root does not match the transactions
    /// (`bad-txnmrklroot`). The block's content is not what its hash commits
    /// to, so the hash is not marked invalid.
    #[error("merkle root mismatch: header {header}, computed {computed}")]
    BadMerkleRoot {
        /// Root in the header.
        header: MerkleNode,
        /// Root of the transactions.
        computed: MerkleNode,
    },
    /// The Merkle tree pairs two identical nodes (CVE-2012-2459;
    /// `bad-txns-duplicate`). Not marked invalid by hash.
    #[error("merkle tree is mutated (duplicate transactions, CVE-2012-2459)")]
    MutatedMerkle,
    /// Two transactions have the same txid (`bad-txns-duplicate`).
    #[error("transaction {0} appears twice")]
    DuplicateTx(Txid),
    /// The block has no transactions (`bad-blk-length`).
    #[error("block has no transactions")]
    NoTransactions,
    /// The serialized block is larger than `Params::max_block_size`
    /// (`bad-blk-length`).
    #[error("block is {size} bytes, above the limit of {max}")]
    TooLarge {
        /// Serialized size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The first transaction is not a coinbase (`bad-cb-missing`).
    #[error("first transaction is not a coinbase")]
    CoinbaseMissing,
    /// A transaction other than the first is a coinbase (`bad-cb-multiple`).
    #[error("transaction {index} is a second coinbase")]
    CoinbaseMultiple {
        /// Its position in the block.
        index: usize,
    },
    /// The coinbase claims more than subsidy plus fees (`bad-cb-amount`).
    #[error("coinbase pays {got:?}, more than subsidy plus fees {max:?}")]
    CoinbaseAmount {
        /// What the coinbase pays.
        got: Amount,
        /// Subsidy plus fees.
        max: Amount,
    },
    /// The coinbase does not start with the block height (BIP34, `bad-cb-height`).
    #[error("coinbase height {got:?} but the block is at height {expected}")]
    CoinbaseHeight {
        /// The block's height.
        expected: u32,
        /// Height in the coinbase, if it has a well-formed one.
        got: Option<u32>,
    },
    /// A transaction breaks a transaction rule (`bad-txns-*`, `bad-cb-length`,
    /// `mandatory-script-verify-flag-failed`: see [`TxError`]).
    #[error("transaction {index} ({txid}): {error}")]
    Tx {
        /// Position in the block.
        index: usize,
        /// Its txid.
        txid: Txid,
        /// Why it is invalid.
        error: TxError,
    },
    /// The fees of the block sum out of range
    /// (`bad-txns-accumulated-fee-outofrange`).
    #[error("accumulated fees out of range")]
    FeesOutOfRange,
    /// A transaction creates an output that is already unspent (`bad-txns-BIP30`).
    #[error("transaction overwrites unspent output {0}")]
    OutputExists(OutPoint),
    /// The parent is not known (`prev-blk-not-found`).
    #[error("previous block {0} not found")]
    PrevBlockNotFound(BlockHash),
    /// The block descends from an invalid block (`bad-prevblk`).
    #[error("previous block {0} is invalid")]
    BadPrevBlock(BlockHash),
}

impl BlockError {
    /// The Bitcoin Core reject reason this error mirrors.
    pub fn reject_reason(&self) -> &'static str {
        match self {
            BlockError::HighHash { .. } | BlockError::BadBits(_) => "high-hash",
            BlockError::BadDiffBits { .. } => "bad-diffbits",
            BlockError::TimeTooOld { .. } => "time-too-old",
            BlockError::TimeTooNew { .. } => "time-too-new",
            BlockError::BadMerkleRoot { .. } => "bad-txnmrklroot",
            BlockError::MutatedMerkle | BlockError::DuplicateTx(_) => "bad-txns-duplicate",
            BlockError::NoTransactions | BlockError::TooLarge { .. } => "bad-blk-length",
            BlockError::CoinbaseMissing => "bad-cb-missing",
            BlockError::CoinbaseMultiple { .. } => "bad-cb-multiple",
            BlockError::CoinbaseAmount { .. } => "bad-cb-amount",
            BlockError::CoinbaseHeight { .. } => "bad-cb-height",
            BlockError::Tx { error, .. } => error.reject_reason(),
            BlockError::FeesOutOfRange => "bad-txns-accumulated-fee-outofrange",
            BlockError::OutputExists(_) => "bad-txns-BIP30",
            BlockError::PrevBlockNotFound(_) => "prev-blk-not-found",
            BlockError::BadPrevBlock(_) => "bad-prevblk",
        }
    }

    /// Whether the error condemns the block *hash* for good. False when the
    /// transactions do not match the header (Merkle mismatch or mutation:
    /// another body for the same header may be valid, CVE-2012-2459), when
    /// the block is only too far in the future, or when its parent is
    /// merely unknown (Core's `BLOCK_MUTATED`, `BLOCK_TIME_FUTURE`,
    /// `BLOCK_MISSING_PREV`).
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            BlockError::BadMerkleRoot { .. }
                | BlockError::MutatedMerkle
                | BlockError::TimeTooNew { .. }
                | BlockError::PrevBlockNotFound(_)
        )
    }
}

type FixedHasher = BuildHasherDefault<DefaultHasher>;

/// (txid, input index, SHA-256 of the spent script).
type SigKey = (Txid, u32, [u8; 32]);

/// Memo of script verification results, keyed by (txid, input index,
/// SHA-256 of the spent `script_pubkey`).
///
/// Validity is a pure function of that key, so one cache can serve every
/// node of a simulation (it is owned by
/// [`crate::ledger::chainstate::BlockCache`]). Only looked up, never
/// iterated, so its hash map cannot affect determinism (its hasher is
/// fixed anyway).
#[derive(Debug, Default, Clone)]
pub struct SigCache {
    results: HashMap<SigKey, Result<(), ScriptError>, FixedHasher>,
    hits: u64,
    misses: u64,
}

impl SigCache {
    /// An empty cache.
    pub fn new() -> SigCache {
        SigCache::default()
    }

    /// Verifies input `input` of `tx` (whose txid is `txid`) spending
    /// `script_pubkey`, consulting and filling the memo.
    pub fn verify(
        &mut self,
        tx: &Transaction,
        txid: Txid,
        input: usize,
        script_pubkey: &ScriptBuf,
    ) -> Result<(), ScriptError> {
        let Ok(index) = u32::try_from(input) else {
            return Err(ScriptError::InputIndexOutOfRange(input));
        };
        let key = (txid, index, sha256(script_pubkey.as_bytes()));
        if let Some(result) = self.results.get(&key) {
            self.hits += 1;
            return result.clone();
        }
        self.misses += 1;
        let result = sighash::verify_input(tx, input, script_pubkey);
        self.results.insert(key, result.clone());
        result
    }

    /// Lookups answered from the memo.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Lookups that ran a verification.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Number of memoised results.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether the memo is empty.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// Forgets every result (counters are kept), to bound memory.
    pub fn clear(&mut self) {
        self.results.clear();
    }
}

/// Context-free transaction checks (Core `CheckTransaction`): inputs and
/// outputs present, output values and their sum at most `MAX_MONEY`, no
/// outpoint spent twice, a coinbase `script_sig` of 2 to 100 bytes, and no
/// null prevout outside a coinbase.
pub fn check_transaction(tx: &Transaction) -> Result<(), TxError> {
    if tx.input.is_empty() {
        return Err(TxError::InputsEmpty);
    }
    if tx.output.is_empty() {
        return Err(TxError::OutputsEmpty);
    }
    let mut total = Amount::ZERO;
    for (vout, out) in tx.output.iter().enumerate() {
        if !out.value.is_in_range() {
            return Err(TxError::OutputTooLarge {
                vout,
                value: out.value,
            });
        }
        total = total
            .checked_add(out.value)
            .ok_or(TxError::OutputTotalTooLarge)?;
    }
    if tx.input.len() > 1 {
        let mut seen: Vec<OutPoint> = tx.input.iter().map(|i| i.previous_output).collect();
        seen.sort_unstable();
        if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
            return Err(TxError::DuplicateInput(w[0]));
        }
    }
    if tx.is_coinbase() {
        let len = tx.input[0].script_sig.len();
        if !(2..=100).contains(&len) {
            return Err(TxError::CoinbaseScriptSize(len));
        }
    } else if let Some(input) = tx.input.iter().position(|i| i.previous_output.is_null()) {
        return Err(TxError::NullPrevout { input });
    }
    Ok(())
}

/// Checks a non-coinbase transaction against `utxos` for inclusion in a
/// block at `spend_height` (a mempool passes tip height + 1) and returns its
/// fee (Core `CheckTxInputs` + `CheckInputScripts`):
///
/// - every input is unspent in `utxos`;
/// - coinbase outputs have `Params::coinbase_maturity` confirmations, except
///   outputs created at height 0 (the genesis endowment), spendable at once;
/// - spent values and their sum are in range, and cover the outputs;
/// - every input is a valid P2PKH or P2PK spend (memoised in `sigs`).
///
/// Assumes [`check_transaction`] passed.
pub fn check_tx_inputs(
    tx: &Transaction,
    utxos: &UtxoSet,
    spend_height: u32,
    params: &Params,
    sigs: &mut SigCache,
) -> Result<Amount, TxError> {
    check_tx_inputs_with_txid(tx, tx.compute_txid(), utxos, spend_height, params, sigs)
}

/// [`check_tx_inputs`] with the txid already computed.
pub fn check_tx_inputs_with_txid(
    tx: &Transaction,
    txid: Txid,
    utxos: &UtxoSet,
    spend_height: u32,
    params: &Params,
    sigs: &mut SigCache,
) -> Result<Amount, TxError> {
    if tx.is_coinbase() {
        return Err(TxError::Coinbase);
    }
    let mut coins = Vec::with_capacity(tx.input.len());
    for (input, txin) in tx.input.iter().enumerate() {
        let coin = utxos
            .get(&txin.previous_output)
            .ok_or(TxError::MissingOrSpent {
                input,
                outpoint: txin.previous_output,
            })?;
        coins.push(coin);
    }
    let mut value_in = Amount::ZERO;
    for (input, (txin, coin)) in tx.input.iter().zip(&coins).enumerate() {
        if coin.is_coinbase && coin.height != 0 {
            let depth = spend_height.saturating_sub(coin.height);
            if depth < params.coinbase_maturity {
                return Err(TxError::PrematureCoinbaseSpend {
                    input,
                    outpoint: txin.previous_output,
                    depth,
                    maturity: params.coinbase_maturity,
                });
            }
        }
        if !coin.output.value.is_in_range() {
            return Err(TxError::InputValuesOutOfRange);
        }
        value_in = value_in
            .checked_add(coin.output.value)
            .ok_or(TxError::InputValuesOutOfRange)?;
    }
    // check_transaction bounds the outputs; saturate defensively if it was skipped.
    let value_out = tx
        .total_out()
        .unwrap_or(Amount::from_sat_unchecked(u64::MAX));
    let fee = value_in.checked_sub(value_out).ok_or(TxError::InBelowOut {
        value_in,
        value_out,
    })?;
    for (input, coin) in coins.iter().enumerate() {
        sigs.verify(tx, txid, input, &coin.output.script_pubkey)
            .map_err(|error| TxError::Script { input, error })?;
    }
    Ok(fee)
}

/// Core's `CheckProofOfWork` as a block rule: `bits` must decode to a
/// positive target no easier than `params.pow_limit`, and, when
/// `params.check_pow`, `hash` must meet it.
pub fn check_proof_of_work(
    hash: &BlockHash,
    bits: CompactTarget,
    params: &Params,
) -> Result<(), BlockError> {
    if params.check_pow {
        return pow::check_proof_of_work(hash, bits, params.pow_limit).map_err(|e| match e {
            PowError::HighHash { hash, target } => BlockError::HighHash { hash, target },
            other => BlockError::BadBits(other),
        });
    }
    let target = Target::from_compact(bits).map_err(BlockError::BadBits)?;
    if target.0.is_zero() {
        return Err(BlockError::BadBits(PowError::Zero(bits.to_consensus())));
    }
    if target > params.pow_limit {
        return Err(BlockError::BadBits(PowError::AboveLimit(
            bits.to_consensus(),
        )));
    }
    Ok(())
}

/// Context-free block checks (Core `CheckBlock`), in Core's order: proof of
/// work, at least one transaction, Merkle root matches and is not mutated,
/// size, coinbase first and only first, every transaction passes
/// [`check_transaction`], no duplicate txids.
pub fn check_block(block: &Block, params: &Params) -> Result<(), BlockError> {
    let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
    check_block_precomputed(block, &block.block_hash(), &txids, block.size(), params)
}

/// [`check_block`] with the hash, txids and serialized size already
/// computed (they must be the block's).
pub fn check_block_precomputed(
    block: &Block,
    hash: &BlockHash,
    txids: &[Txid],
    size: usize,
    params: &Params,
) -> Result<(), BlockError> {
    check_proof_of_work(hash, block.header.bits, params)?;
    check_block_body(block, txids, size, params)
}

/// The body part of [`check_block`] (everything but proof of work).
fn check_block_body(
    block: &Block,
    txids: &[Txid],
    size: usize,
    params: &Params,
) -> Result<(), BlockError> {
    if block.txdata.is_empty() {
        return Err(BlockError::NoTransactions);
    }
    let (root, mutated) = merkle::merkle_root_checked(txids);
    let computed = root.expect("at least one transaction");
    if computed != block.header.merkle_root {
        return Err(BlockError::BadMerkleRoot {
            header: block.header.merkle_root,
            computed,
        });
    }
    if mutated {
        return Err(BlockError::MutatedMerkle);
    }
    if size > params.max_block_size {
        return Err(BlockError::TooLarge {
            size,
            max: params.max_block_size,
        });
    }
    if !block.txdata[0].is_coinbase() {
        return Err(BlockError::CoinbaseMissing);
    }
    if let Some(index) = block.txdata.iter().skip(1).position(|t| t.is_coinbase()) {
        return Err(BlockError::CoinbaseMultiple { index: index + 1 });
    }
    for (index, (tx, txid)) in block.txdata.iter().zip(txids).enumerate() {
        check_transaction(tx).map_err(|error| BlockError::Tx {
            index,
            txid: *txid,
            error,
        })?;
    }
    let mut sorted = txids.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(BlockError::DuplicateTx(w[0]));
    }
    Ok(())
}

/// Header checks against the parent's chain (Core
/// `ContextualCheckBlockHeader`): `bits` equal `expected_bits` (see
/// [`next_work_required`]), `time` after `median_time_past` (of the 11
/// blocks ending at the parent) and at most
/// `now + Params::max_future_block_time_secs`.
pub fn check_header_context(
    header: &Header,
    expected_bits: CompactTarget,
    median_time_past: u32,
    now: u32,
    params: &Params,
) -> Result<(), BlockError> {
    if header.bits != expected_bits {
        return Err(BlockError::BadDiffBits {
            expected: expected_bits,
            got: header.bits,
        });
    }
    if header.time <= median_time_past {
        return Err(BlockError::TimeTooOld {
            time: header.time,
            median_time_past,
        });
    }
    let max = now.saturating_add(params.max_future_block_time_secs);
    if header.time > max {
        return Err(BlockError::TimeTooNew {
            time: header.time,
            max,
        });
    }
    Ok(())
}

/// Number of blocks whose median time a new block must exceed (Core's
/// `nMedianTimeSpan`).
pub const MEDIAN_TIME_SPAN: usize = 11;

/// The median of up to [`MEDIAN_TIME_SPAN`] block times (Core
/// `GetMedianTimePast`: sort, take the middle, the upper one of an even
/// count). Reorders `times`; 0 for none.
pub fn median_time(times: &mut [u32]) -> u32 {
    if times.is_empty() {
        return 0;
    }
    times.sort_unstable();
    times[times.len() / 2]
}

/// The `bits` a child of the parent must carry (Core
/// `GetNextWorkRequired`): the parent's bits, except at the first height of
/// each retarget window, where [`pow::retarget`] scales them by how long the
/// last window took: from the block at `child_height - retarget_window` to
/// the parent (Core's off-by-one included). `ancestor_time(h)` returns the
/// time of the parent's ancestor at height `h`. With
/// `Params::retarget_window == 0` the bits never change.
pub fn next_work_required(
    parent_height: u32,
    parent_bits: CompactTarget,
    parent_time: u32,
    ancestor_time: impl FnOnce(u32) -> u32,
    params: &Params,
) -> CompactTarget {
    let child_height = parent_height.saturating_add(1);
    if !params.is_retarget_height(child_height) {
        return parent_bits;
    }
    let first_time = ancestor_time(child_height - params.retarget_window);
    let actual = parent_time as i64 - first_time as i64;
    pow::retarget(
        parent_bits,
        actual,
        params.target_timespan_secs(),
        params.pow_limit,
    )
}

/// Connects `block` at `height` on top of `utxos` (the UTXO set of its
/// parent), enforcing the contextual rules (Core `ConnectBlock`):
///
/// - from `Params::bip34_height` on, the coinbase starts with `height`
///   (BIP34);
/// - in block order, every other transaction passes [`check_tx_inputs`]
///   against the set including outputs created earlier in the same block,
///   then its inputs are spent (so a second spend of one output fails as
///   missing or spent);
/// - no transaction overwrites an unspent output (BIP30);
/// - the coinbase pays at most subsidy plus fees.
///
/// All-or-nothing: on error `utxos` is unchanged. Returns the undo data and
/// the total fees. Assumes [`check_block`] passed.
pub fn connect_block(
    block: &Block,
    utxos: &mut UtxoSet,
    height: u32,
    params: &Params,
    sigs: &mut SigCache,
) -> Result<(BlockUndo, Amount), BlockError> {
    let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
    connect_block_with_txids(block, &txids, utxos, height, params, sigs)
}

/// [`connect_block`] with the block's txids already computed.
pub fn connect_block_with_txids(
    block: &Block,
    txids: &[Txid],
    utxos: &mut UtxoSet,
    height: u32,
    params: &Params,
    sigs: &mut SigCache,
) -> Result<(BlockUndo, Amount), BlockError> {
    let coinbase = block.txdata.first().ok_or(BlockError::NoTransactions)?;
    if !coinbase.is_coinbase() {
        return Err(BlockError::CoinbaseMissing);
    }
    if block.txdata.len() != txids.len() {
        // A caller bug, reported as the closest consensus failure.
        return Err(BlockError::NoTransactions);
    }
    if params.enforces_bip34(height) {
        let got = coinbase.coinbase_height();
        if got != Some(height) {
            return Err(BlockError::CoinbaseHeight {
                expected: height,
                got,
            });
        }
    }
    let mut next = utxos.clone();
    let mut spent = Vec::new();
    let mut fees = Amount::ZERO;
    for (index, (tx, txid)) in block.txdata.iter().zip(txids).enumerate() {
        if index > 0 {
            let fee = check_tx_inputs_with_txid(tx, *txid, &next, height, params, sigs).map_err(
                |error| BlockError::Tx {
                    index,
                    txid: *txid,
                    error,
                },
            )?;
            fees = fees.checked_add(fee).ok_or(BlockError::FeesOutOfRange)?;
        }
        next.apply_tx(tx, *txid, height, &mut spent)
            .map_err(|e| match e {
                UtxoError::OutputExists(o) => BlockError::OutputExists(o),
                UtxoError::MissingInput {
                    input, outpoint, ..
                } => BlockError::Tx {
                    index,
                    txid: *txid,
                    error: TxError::MissingOrSpent { input, outpoint },
                },
                other => unreachable!("apply_tx only fails on inputs and outputs: {other}"),
            })?;
    }
    let max = params
        .block_subsidy(height)
        .checked_add(fees)
        .ok_or(BlockError::FeesOutOfRange)?;
    let paid = coinbase
        .total_out()
        .unwrap_or(Amount::from_sat_unchecked(u64::MAX));
    if paid > max {
        return Err(BlockError::CoinbaseAmount { got: paid, max });
    }
    *utxos = next;
    Ok((BlockUndo { spent }, fees))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::chainstate::testkit::*;
    use crate::ledger::tx::{TxIn, TxOut};

    fn txid_of(b: &Block, i: usize) -> Txid {
        b.txdata[i].compute_txid()
    }

    /// Expects `connect_block` to fail with `Tx { index, error }` whose
    /// reject reason is `reason`, and the set to be unchanged.
    fn expect_tx_reject(kit: &Kit, block: &Block, index: usize, reason: &str) {
        let mut utxos = kit.utxos.clone();
        let err = connect_block(
            block,
            &mut utxos,
            kit.height + 1,
            &kit.params,
            &mut SigCache::new(),
        )
        .unwrap_err();
        assert_eq!(err.reject_reason(), reason, "{err}");
        assert!(
            matches!(err, BlockError::Tx { index: i, .. } if i == index),
            "{err}"
        );
        assert_eq!(utxos, kit.utxos, "set must be unchanged on error");
    }

    #[test]
    fn valid_block_connects_and_pays_fees_to_coinbase() {
        let kit = Kit::new();
        let pay = kit.pay(0, 1, 1_000, 100);
        let block = kit.block(vec![pay], 100);
        check_block(&block, &kit.params).unwrap();
        let mut utxos = kit.utxos.clone();
        let mut sigs = SigCache::new();
        let (undo, fees) =
            connect_block(&block, &mut utxos, kit.height + 1, &kit.params, &mut sigs).unwrap();
        assert_eq!(fees.to_sat(), 100);
        assert_eq!(undo.spent.len(), 1);
        assert_eq!(utxos.balance(&kit.pkh(1)).to_sat(), ENDOWMENT + 1_000);
        assert_eq!(sigs.misses(), 1);
        // Same block again on the same parent: the signature comes from the memo.
        let mut again = kit.utxos.clone();
        connect_block(&block, &mut again, kit.height + 1, &kit.params, &mut sigs).unwrap();
        assert_eq!((sigs.hits(), sigs.misses()), (1, 1));
        assert_eq!(again, utxos);
    }

    #[test]
    fn high_hash() {
        let kit = Kit::new();
        let mut block = kit.block(vec![], 0);
        // Find a nonce that does NOT meet the target.
        while kit.target().is_met_by(block.block_hash().as_bytes()) {
            block.header.nonce = block.header.nonce.wrapping_add(1);
        }
        let err = check_block(&block, &kit.params).unwrap_err();
        assert!(matches!(err, BlockError::HighHash { .. }), "{err}");
        assert_eq!(err.reject_reason(), "high-hash");
        // Without proof-of-work checking the same block passes.
        let mut lax = kit.params.clone();
        lax.check_pow = false;
        check_block(&block, &lax).unwrap();
    }

    #[test]
    fn bits_above_pow_limit() {
        let kit = Kit::new();
        let mut block = kit.block(vec![], 0);
        block.header.bits = Target::from_leading_zero_bits(0).to_compact_lossy();
        let err = check_block(&block, &kit.params).unwrap_err();
        assert!(
            matches!(err, BlockError::BadBits(PowError::AboveLimit(_))),
            "{err}"
        );
        assert_eq!(err.reject_reason(), "high-hash");
        block.header.bits = CompactTarget::from_consensus(0x0480_0001); // negative
        assert!(matches!(
            check_block(&block, &kit.params),
            Err(BlockError::BadBits(PowError::Negative(_)))
        ));
    }

    #[test]
    fn bad_merkle_root() {
        let kit = Kit::new();
        let mut block = kit.block(vec![kit.pay(0, 1, 10, 0)], 0);
        block.txdata.pop();
        kit.regrind(&mut block, false);
        let err = check_block(&block, &kit.params).unwrap_err();
        assert_eq!(err.reject_reason(), "bad-txnmrklroot");
        assert!(!err.is_permanent());
    }

    #[test]
    fn mutated_merkle_cve_2012_2459() {
        let kit = Kit::new();
        let a = kit.pay(0, 1, 10, 0);
        let b = kit.pay(1, 0, 10, 0);
        // [cb, a, b] and [cb, a, b, b] share a root.
        let mut block = kit.block(vec![a, b.clone()], 0);
        check_block(&block, &kit.params).unwrap();
        block.txdata.push(b);
        let err = check_block(&block, &kit.params).unwrap_err();
        assert_eq!(err, BlockError::MutatedMerkle);
        assert_eq!(err.reject_reason(), "bad-txns-duplicate");
        assert!(!err.is_permanent());
    }

    #[test]
    fn duplicate_txids_not_adjacent() {
        let kit = Kit::new();
        let a = kit.pay(0, 1, 10, 0);
        let b = kit.pay(1, 0, 10, 0);
        let block = kit.block(vec![a.clone(), b, a.clone()], 0);
        let err = check_block(&block, &kit.params).unwrap_err();
        assert_eq!(err, BlockError::DuplicateTx(a.compute_txid()));
    }

    #[test]
    fn block_too_large_and_empty() {
        let kit = Kit::new();
        let block = kit.block(vec![kit.pay(0, 1, 10, 0)], 0);
        let mut small = kit.params.clone();
        small.max_block_size = block.size() - 1;
        let err = check_block(&block, &small).unwrap_err();
        assert_eq!(
            err,
            BlockError::TooLarge {
                size: block.size(),
                max: block.size() - 1
            }
        );
        assert_eq!(err.reject_reason(), "bad-blk-length");

        let mut empty = block.clone();
        empty.txdata.clear();
        kit.regrind(&mut empty, false);
        assert_eq!(
            check_block(&empty, &kit.params),
            Err(BlockError::NoTransactions)
        );
    }

    #[test]
    fn coinbase_missing_and_multiple() {
        let kit = Kit::new();
        let mut block = kit.block(vec![kit.pay(0, 1, 10, 0)], 0);
        block.txdata.swap(0, 1);
        kit.regrind(&mut block, true);
        assert_eq!(
            check_block(&block, &kit.params),
            Err(BlockError::CoinbaseMissing)
        );
        assert_eq!(
            BlockError::CoinbaseMissing.reject_reason(),
            "bad-cb-missing"
        );

        let mut block = kit.block(vec![], 0);
        let second = Transaction::new_coinbase(kit.height + 1, 99, Amount::ZERO, kit.script(0));
        block.txdata.push(second);
        kit.regrind(&mut block, true);
        let err = check_block(&block, &kit.params).unwrap_err();
        assert_eq!(err, BlockError::CoinbaseMultiple { index: 1 });
        assert_eq!(err.reject_reason(), "bad-cb-multiple");
    }

    #[test]
    fn coinbase_script_length() {
        let kit = Kit::new();
        let mut block = kit.block(vec![], 0);
        block.txdata[0].input[0].script_sig = ScriptBuf(vec![0x51]);
        kit.regrind(&mut block, true);
        let err = check_block(&block, &kit.params).unwrap_err();
        assert_eq!(err.reject_reason(), "bad-cb-length");
        block.txdata[0].input[0].script_sig = ScriptBuf(vec![0x51; 101]);
        kit.regrind(&mut block, true);
        assert_eq!(
            check_block(&block, &kit.params)
                .unwrap_err()
                .reject_reason(),
            "bad-cb-length"
        );
    }

    #[test]
    fn context_free_transaction_rules() {
        let kit = Kit::new();
        let base = kit.pay(0, 1, 10, 0);
        type Breaker = Box<dyn Fn(&mut Transaction)>;
        let cases: Vec<(&str, Breaker)> = vec![
            ("bad-txns-vin-empty", Box::new(|t| t.input.clear())),
            ("bad-txns-vout-empty", Box::new(|t| t.output.clear())),
            (
                "bad-txns-vout-toolarge",
                Box::new(|t| t.output[0].value = Amount::from_sat_unchecked(u64::MAX)),
            ),
            (
                "bad-txns-txouttotal-toolarge",
                Box::new(|t| {
                    t.output[0].value = Amount::MAX_MONEY;
                    t.output[1].value = Amount::from_sat_unchecked(1);
                }),
            ),
            (
                "bad-txns-inputs-duplicate",
                Box::new(|t| {
                    let i = t.input[0].clone();
                    t.input.push(i)
                }),
            ),
            (
                "bad-txns-prevout-null",
                Box::new(|t| {
                    let mut i = t.input[0].clone();
                    i.previous_output = OutPoint::NULL;
                    t.input.push(i)
                }),
            ),
        ];
        for (reason, breaker) in cases {
            let mut tx = base.clone();
            breaker(&mut tx);
            let err = check_transaction(&tx).unwrap_err();
            assert_eq!(err.reject_reason(), reason, "{err}");
            // And inside a block it is reported with the transaction's position.
            let block = kit.block(vec![tx], 0);
            let berr = check_block(&block, &kit.params).unwrap_err();
            assert_eq!(berr.reject_reason(), reason);
            assert!(matches!(berr, BlockError::Tx { index: 1, .. }));
        }
        check_transaction(&base).unwrap();
    }

    #[test]
    fn header_context_rules() {
        let kit = Kit::new();
        let h = kit.block(vec![], 0).header;
        let bits = h.bits;
        let p = &kit.params;
        check_header_context(&h, bits, h.time - 1, h.time, p).unwrap();
        let other = CompactTarget::from_consensus(bits.to_consensus() - 1);
        assert_eq!(
            check_header_context(&h, other, h.time - 1, h.time, p),
            Err(BlockError::BadDiffBits {
                expected: other,
                got: bits
            })
        );
        let err = check_header_context(&h, bits, h.time, h.time, p).unwrap_err();
        assert_eq!(err.reject_reason(), "time-too-old");
        let now = h.time - p.max_future_block_time_secs;
        check_header_context(&h, bits, 0, now, p).unwrap();
        let err = check_header_context(&h, bits, 0, now - 1, p).unwrap_err();
        assert_eq!(err.reject_reason(), "time-too-new");
        assert!(!err.is_permanent());
    }

    #[test]
    fn coinbase_height_bip34() {
        let kit = Kit::new();
        let block = kit.block(vec![], 0);
        let mut utxos = kit.utxos.clone();
        let err = connect_block(
            &block,
            &mut utxos,
            kit.height + 2,
            &kit.params,
            &mut SigCache::new(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            BlockError::CoinbaseHeight {
                expected: kit.height + 2,
                got: Some(kit.height + 1)
            }
        );
        assert_eq!(err.reject_reason(), "bad-cb-height");
        assert_eq!(utxos, kit.utxos);
        // Before activation (Bitcoin: height 227,931) the height is not checked.
        let before = Params {
            bip34_height: kit.height + 3,
            ..kit.params.clone()
        };
        connect_block(
            &block,
            &mut utxos,
            kit.height + 2,
            &before,
            &mut SigCache::new(),
        )
        .unwrap();
    }

    #[test]
    fn coinbase_amount_above_subsidy_plus_fees() {
        let kit = Kit::new();
        let pay = kit.pay(0, 1, 1_000, 100);
        // Coinbase claims one satoshi more than subsidy + fee.
        let mut block = kit.block(vec![pay], 101);
        kit.regrind(&mut block, true);
        let mut utxos = kit.utxos.clone();
        let err = connect_block(
            &block,
            &mut utxos,
            kit.height + 1,
            &kit.params,
            &mut SigCache::new(),
        )
        .unwrap_err();
        let max = kit
            .params
            .block_subsidy(kit.height + 1)
            .checked_add(Amount::from_sat_unchecked(100))
            .unwrap();
        assert_eq!(
            err,
            BlockError::CoinbaseAmount {
                got: max.checked_add(Amount::from_sat_unchecked(1)).unwrap(),
                max
            }
        );
        assert_eq!(err.reject_reason(), "bad-cb-amount");
        assert_eq!(utxos, kit.utxos);
    }

    #[test]
    fn missing_input_and_double_spend_in_block() {
        let kit = Kit::new();
        let mut ghost = kit.pay(0, 1, 10, 0);
        ghost.input[0].previous_output.vout = 77;
        let block = kit.block(vec![ghost], 0);
        expect_tx_reject(&kit, &block, 1, "bad-txns-inputs-missingorspent");

        // Two different transactions spending the same coin.
        let a = kit.pay(0, 1, 10, 0);
        let b = kit.pay(0, 1, 20, 0);
        let block = kit.block(vec![a, b], 0);
        check_block(&block, &kit.params).unwrap();
        expect_tx_reject(&kit, &block, 2, "bad-txns-inputs-missingorspent");
    }

    #[test]
    fn spending_output_created_earlier_in_block_is_allowed() {
        let kit = Kit::new();
        let a = kit.pay(0, 1, 1_000, 10);
        let child = kit.spend_output(&a, 0, 1, 1, 900, 20);
        let block = kit.block(vec![a.clone(), child.clone()], 30);
        let mut utxos = kit.utxos.clone();
        let (_, fees) = connect_block(
            &block,
            &mut utxos,
            kit.height + 1,
            &kit.params,
            &mut SigCache::new(),
        )
        .unwrap();
        assert_eq!(fees.to_sat(), 30);
        // In the other order the child's input does not exist yet.
        let block = kit.block(vec![child, a], 30);
        expect_tx_reject(&kit, &block, 1, "bad-txns-inputs-missingorspent");
    }

    #[test]
    fn in_below_out() {
        let kit = Kit::new();
        let mut tx = kit.pay(0, 1, 10, 0);
        tx.output[1].value = Amount::from_sat_unchecked(tx.output[1].value.to_sat() + 1);
        kit.sign(&mut tx, 0);
        let block = kit.block(vec![tx], 0);
        expect_tx_reject(&kit, &block, 1, "bad-txns-in-belowout");
    }

    #[test]
    fn bad_signature_and_wrong_key() {
        let kit = Kit::new();
        let mut tx = kit.pay(0, 1, 10, 0);
        tx.output[0].value = Amount::from_sat_unchecked(9); // after signing
        let block = kit.block(vec![tx], 0);
        expect_tx_reject(&kit, &block, 1, "mandatory-script-verify-flag-failed");

        // Signed by wallet 1's key for a coin locked to wallet 0.
        let mut tx = kit.pay(0, 1, 10, 0);
        let pubkey = kit.keys[1].public_key().to_bytes();
        let sig = tx.input[0].script_sig.parse_p2pkh_sig().unwrap().0.to_vec();
        tx.input[0].script_sig = ScriptBuf::new_p2pkh_sig(&sig, &pubkey);
        let mut utxos = kit.utxos.clone();
        let err = check_tx_inputs(
            &tx,
            &utxos,
            kit.height + 1,
            &kit.params,
            &mut SigCache::new(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            TxError::Script {
                input: 0,
                error: ScriptError::PubkeyHashMismatch
            }
        );
        let block = kit.block(vec![tx], 0);
        assert!(connect_block(
            &block,
            &mut utxos,
            kit.height + 1,
            &kit.params,
            &mut SigCache::new()
        )
        .is_err());
    }

    #[test]
    fn coinbase_maturity_and_genesis_exception() {
        let mut kit = Kit::new();
        // Genesis endowments (height 0 coinbase outputs) are spendable at height 1.
        let tx = kit.pay(0, 1, 10, 0);
        assert!(
            kit.utxos
                .get(&tx.input[0].previous_output)
                .unwrap()
                .is_coinbase
        );
        check_tx_inputs(&tx, &kit.utxos, 1, &kit.params, &mut SigCache::new()).unwrap();

        // A coinbase of height 1 paying wallet 0 matures at height 1 + maturity.
        let b1 = kit.block(vec![], 0);
        kit.advance(&b1);
        let op = OutPoint {
            txid: txid_of(&b1, 0),
            vout: 0,
        };
        let coin_value = kit.utxos.get(&op).unwrap().output.value;
        let mut tx = Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: op,
                script_sig: ScriptBuf(vec![]),
                sequence: u32::MAX,
            }],
            output: vec![TxOut {
                value: coin_value,
                script_pubkey: kit.script(1),
            }],
            lock_time: 0,
        };
        kit.sign(&mut tx, 0);
        let maturity = kit.params.coinbase_maturity;
        let err = check_tx_inputs(&tx, &kit.utxos, maturity, &kit.params, &mut SigCache::new())
            .unwrap_err();
        assert_eq!(err.reject_reason(), "bad-txns-premature-spend-of-coinbase");
        check_tx_inputs(
            &tx,
            &kit.utxos,
            1 + maturity,
            &kit.params,
            &mut SigCache::new(),
        )
        .unwrap();
        // In a block at height 2 the spend is premature.
        let block = kit.block(vec![tx], 0);
        expect_tx_reject(&kit, &block, 1, "bad-txns-premature-spend-of-coinbase");
    }

    #[test]
    fn coinbase_as_ordinary_spend_is_refused() {
        let kit = Kit::new();
        let block = kit.block(vec![], 0);
        assert_eq!(
            check_tx_inputs(
                &block.txdata[0],
                &kit.utxos,
                1,
                &kit.params,
                &mut SigCache::new()
            ),
            Err(TxError::Coinbase)
        );
    }

    #[test]
    fn input_values_out_of_range() {
        // A set holding an out-of-range coin (only reachable without
        // validation) cannot be spent from.
        let kit = Kit::new();
        let huge =
            Transaction::new_coinbase(0, 5, Amount::from_sat_unchecked(u64::MAX), kit.script(0));
        let mut utxos = kit.utxos.clone();
        utxos.add_tx_outputs(&huge, 0).unwrap();
        let mut tx = kit.pay(0, 1, 10, 0);
        tx.input[0].previous_output = OutPoint {
            txid: huge.compute_txid(),
            vout: 0,
        };
        let err = check_tx_inputs(&tx, &utxos, 1, &kit.params, &mut SigCache::new()).unwrap_err();
        assert_eq!(err.reject_reason(), "bad-txns-inputvalues-outofrange");
    }

    #[test]
    fn accumulated_fees_out_of_range() {
        // Two coins of MAX_MONEY each (only reachable without validation),
        // each spent entirely as fee: the block's fee sum overflows.
        let kit = Kit::new();
        let mut utxos = kit.utxos.clone();
        let mut txs = Vec::new();
        for extra in [10, 11] {
            let rich = Transaction::new_coinbase(0, extra, Amount::MAX_MONEY, kit.script(0));
            utxos.add_tx_outputs(&rich, 0).unwrap();
            let mut tx = kit.spend_output(&rich, 0, 0, 1, 0, 0);
            tx.output.truncate(1);
            kit.sign(&mut tx, 0);
            txs.push(tx);
        }
        let block = kit.block(txs, 0);
        let before = utxos.clone();
        let err =
            connect_block(&block, &mut utxos, 1, &kit.params, &mut SigCache::new()).unwrap_err();
        assert_eq!(err, BlockError::FeesOutOfRange);
        assert_eq!(err.reject_reason(), "bad-txns-accumulated-fee-outofrange");
        assert_eq!(utxos, before);
    }

    #[test]
    fn bip30_output_overwrite() {
        let kit = Kit::new();
        // A coinbase identical to the genesis coinbase would recreate its outputs.
        let mut utxos = kit.utxos.clone();
        let genesis_cb = kit.genesis.txdata[0].clone();
        let dup = Block {
            header: kit.genesis.header,
            txdata: vec![genesis_cb],
        };
        let err =
            connect_block(&dup, &mut utxos, 0, &kit.params, &mut SigCache::new()).unwrap_err();
        assert!(matches!(err, BlockError::OutputExists(_)), "{err}");
        assert_eq!(err.reject_reason(), "bad-txns-BIP30");
    }

    #[test]
    fn next_work_required_retargets_at_window_boundaries() {
        let mut p = kit_params();
        p.retarget_window = 4;
        p.pow_target_spacing_secs = 10;
        let bits = Target::from_leading_zero_bits(8).to_compact_lossy();
        // Not a boundary: parent's bits.
        assert_eq!(
            next_work_required(1, bits, 100, |_| unreachable!(), &p),
            bits
        );
        // Child at height 4: window measured from height 0 to the parent (3).
        // Blocks came twice as fast as intended (20 s instead of 40 s):
        // the target halves (difficulty doubles).
        let next = next_work_required(
            3,
            bits,
            1_020,
            |h| {
                assert_eq!(h, 0);
                1_000
            },
            &p,
        );
        assert_eq!(next, pow::retarget(bits, 20, 40, p.pow_limit));
        let old = Target::from_compact(bits).unwrap();
        let new = Target::from_compact(next).unwrap();
        assert!(new < old);
        p.retarget_window = 0;
        assert_eq!(
            next_work_required(3, bits, 1_020, |_| unreachable!(), &p),
            bits
        );
    }

    #[test]
    fn median_time_of_eleven() {
        let mut t = [5, 1, 9, 3, 7];
        assert_eq!(median_time(&mut t), 5);
        let mut t = [1, 2];
        assert_eq!(median_time(&mut t), 2);
        assert_eq!(median_time(&mut []), 0);
    }
}
