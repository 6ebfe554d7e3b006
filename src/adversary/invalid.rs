//! Crafting invalid blocks and transactions from valid material, for the
//! `invalid_data` adversary.
//!
//! Every function here is pure: it takes the attacker's view of the chain
//! (a [`CraftContext`]: its tip, the consensus parameters, one of its coins,
//! the clock and a sequence number) and returns data built with the real
//! ledger code, broken in exactly one way. Honest nodes run the unchanged
//! ledger on it and must reject it for that one reason, the
//! [`InvalidKind::expected_reason`] (a Bitcoin Core reject reason, as
//! returned by [`BlockError::reject_reason`] and [`TxError::reject_reason`]):
//!
//! | kind | item | rejected by | reason |
//! |---|---|---|---|
//! | `bad_signature` | tx | `check_tx_inputs` (script) | `mandatory-script-verify-flag-failed` |
//! | `double_spend_tx` | tx | `check_tx_inputs` / `check_transaction` | `bad-txns-inputs-missingorspent` / `bad-txns-inputs-duplicate` |
//! | `bad_pow` | block | `CheckProofOfWork` | `high-hash` |
//! | `bad_bits` | block | `ContextualCheckBlockHeader` | `bad-diffbits` |
//! | `bad_merkle_root` | block | `CheckBlock` | `bad-txnmrklroot` |
//! | `inflated_coinbase` | block | `ConnectBlock` | `bad-cb-amount` |
//! | `oversize_block` | block | `CheckBlock` | `bad-blk-length` |
//! | `unknown_parent_flood` | blocks | (kept as orphans) | `prev-blk-not-found` |
//!
//! # Invariants
//!
//! - Everything else about a crafted item is valid: blocks extend the tip
//!   given in the context, carry the `bits` it expects (except `bad_bits` and
//!   `bad_pow`), a time after its median time past, a BIP34 coinbase, and,
//!   when `params.check_pow`, a nonce ground to their own `bits` (except
//!   `bad_pow`), so the rejection is for the intended reason and not an
//!   earlier check. Grinding costs what an honest block costs (twice that
//!   for `bad_bits` when it must pick a harder target); at most
//!   [`CraftContext::grind_budget`] hashes per block.
//! - Deterministic: no randomness; [`CraftContext::seq`] (a counter the
//!   caller increments) makes successive items distinct, so honest nodes
//!   cannot dismiss a repeat as already known.
//!
//! # Detection depends on where the data lands
//!
//! - `inflated_coinbase`, and blocks from [`block_with_txs`], fail only when
//!   connected: an honest node connects a block only when its branch
//!   becomes the best (Core does the same). Craft them on the honest tip
//!   (the attacker's tip when it follows the network); the honest node then
//!   reports the failure in `AcceptOutcome::newly_invalid`, not as `Err`.
//! - `unknown_parent_flood` blocks are not invalid in themselves: an honest
//!   [`Chainstate`] keeps them as orphans (bounded pool, oldest evicted)
//!   and asks the sender for parents it can never supply. Scoring treats
//!   them like Core treats unconnecting headers (see
//!   [`crate::node::score`]).
//! - `bad_pow` when proof of work is modelled (`params.check_pow` false):
//!   no node checks `hash <= target` then, so a high hash would go
//!   unnoticed. The block carries instead `bits` easier than
//!   `params.pow_limit` (or, when the limit is already the easiest
//!   encodable target, a zero target), which the `bits` half of Core's
//!   `CheckProofOfWork` rejects with the same reason, `high-hash`
//!   ([`BlockError::BadBits`] instead of [`BlockError::HighHash`]). The same
//!   fallback serves if `check_pow` is on but no nonce within the grind
//!   budget gives a high hash (a hash misses even the easiest compact
//!   target, `0xffff << 240`, with probability 2^-16).

use std::fmt;
use std::rc::Rc;

use crate::ledger::chainstate::{BlockInfo, Chainstate};
use crate::ledger::encode::varint_len;
use crate::ledger::hash::MerkleNode;
use crate::ledger::nonce;
use crate::ledger::pow::PowError;
use crate::ledger::sighash::{self, ScriptError};
use crate::ledger::validate::{BlockError, TxError};
use crate::ledger::{
    Amount, Block, BlockHash, CompactTarget, Header, OutPoint, Params, PrivateKey, ScriptBuf,
    Target, Transaction, TxIn, TxOut,
};

/// One kind of invalid data (scenario key `adversaries[].kinds`).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum InvalidKind {
    /// A transaction whose signature has one byte flipped.
    BadSignature,
    /// A transaction spending an already-spent output (when the context
    /// names one) or the same output twice.
    DoubleSpendTx,
    /// A block whose hash does not meet its target (or, with modelled proof
    /// of work, whose `bits` are easier than the limit).
    BadPow,
    /// A block with `bits` other than the retarget rule expects.
    BadBits,
    /// A block whose header Merkle root does not match its transactions.
    BadMerkleRoot,
    /// A block whose coinbase claims more than subsidy plus fees.
    InflatedCoinbase,
    /// A block one byte above `params.max_block_size`.
    OversizeBlock,
    /// Several blocks whose parents nobody has.
    UnknownParentFlood,
}

impl InvalidKind {
    /// Every kind, in the order a scenario's default `kinds` cycles through.
    pub const ALL: [InvalidKind; 8] = [
        InvalidKind::BadSignature,
        InvalidKind::DoubleSpendTx,
        InvalidKind::BadPow,
        InvalidKind::BadBits,
        InvalidKind::BadMerkleRoot,
        InvalidKind::InflatedCoinbase,
        InvalidKind::OversizeBlock,
        InvalidKind::UnknownParentFlood,
    ];

    /// The scenario name (`bad_signature`, …), as serde spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidKind::BadSignature => "bad_signature",
            InvalidKind::DoubleSpendTx => "double_spend_tx",
            InvalidKind::BadPow => "bad_pow",
            InvalidKind::BadBits => "bad_bits",
            InvalidKind::BadMerkleRoot => "bad_merkle_root",
            InvalidKind::InflatedCoinbase => "inflated_coinbase",
            InvalidKind::OversizeBlock => "oversize_block",
            InvalidKind::UnknownParentFlood => "unknown_parent_flood",
        }
    }

    /// Whether [`craft`] returns a transaction ([`Crafted::Tx`]) for this kind.
    pub fn is_tx(self) -> bool {
        matches!(self, InvalidKind::BadSignature | InvalidKind::DoubleSpendTx)
    }

    /// The reject reason an honest node gives for what [`craft`] makes of
    /// this kind in `ctx` (`double_spend_tx` depends on whether the context
    /// names a spent outpoint; the flood's blocks are orphans, the reason is
    /// that of a missing parent).
    pub fn expected_reason(self, ctx: &CraftContext<'_>) -> &'static str {
        match self {
            InvalidKind::BadSignature => "mandatory-script-verify-flag-failed",
            InvalidKind::DoubleSpendTx if ctx.spent_outpoint.is_some() => {
                "bad-txns-inputs-missingorspent"
            }
            InvalidKind::DoubleSpendTx => "bad-txns-inputs-duplicate",
            InvalidKind::BadPow => "high-hash",
            InvalidKind::BadBits => "bad-diffbits",
            InvalidKind::BadMerkleRoot => "bad-txnmrklroot",
            InvalidKind::InflatedCoinbase => "bad-cb-amount",
            InvalidKind::OversizeBlock => "bad-blk-length",
            InvalidKind::UnknownParentFlood => "prev-blk-not-found",
        }
    }
}

impl fmt::Display for InvalidKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A coin the attacker can spend: a P2PKH output locked to `key`, mature
/// (a genesis endowment, or a coinbase output `coinbase_maturity` deep),
/// and unspent on the honest chain and in honest mempools.
#[derive(Clone, Debug)]
pub struct AttackerCoin {
    /// The output.
    pub outpoint: OutPoint,
    /// Its value.
    pub value: Amount,
    /// The key it is locked to (`ScriptBuf::new_p2pkh` of its pubkey hash).
    pub key: PrivateKey,
}

/// Fee the crafted transactions leave (capped at half the coin's value).
pub const CRAFT_FEE_SATS: u64 = 1_000;

/// Default [`CraftContext::grind_budget`]: 2^32 hashes per block (a
/// teaching difficulty of up to ~28 bits).
pub const DEFAULT_GRIND_BUDGET: u64 = 1 << 32;

/// Default [`CraftContext::flood_blocks`].
pub const DEFAULT_FLOOD_BLOCKS: usize = 10;

/// Largest `params.max_block_size` for which `oversize_block` is built (a
/// block one byte larger is allocated in memory).
pub const MAX_OVERSIZE_BYTES: usize = 64 * 1024 * 1024;

/// What the attacker knows when it crafts an item.
#[derive(Clone, Debug)]
pub struct CraftContext<'a> {
    /// Consensus parameters (`check_pow` decides whether blocks are ground).
    pub params: &'a Params,
    /// The block crafted blocks extend: the attacker's tip (which should be
    /// the honest tip, see the module docs).
    pub tip: &'a BlockInfo,
    /// A coin for the transaction kinds (`bad_signature` needs one;
    /// `double_spend_tx` needs one unless `spent_outpoint` is set).
    pub coin: Option<AttackerCoin>,
    /// An outpoint already spent on the honest chain ([`find_spent_outpoint`]
    /// finds one): `double_spend_tx` then spends it again
    /// (`bad-txns-inputs-missingorspent`) instead of spending `coin` twice
    /// (`bad-txns-inputs-duplicate`).
    pub spent_outpoint: Option<OutPoint>,
    /// Where crafted coinbases and transactions pay.
    pub payout: ScriptBuf,
    /// The attacker's clock (Unix seconds): crafted block times are
    /// `max(now, median time past + 1)`.
    pub now: u32,
    /// A counter the caller increments per item: it goes into coinbases,
    /// lock times and flood parents so successive items differ.
    pub seq: u64,
    /// Hashes tried per block when grinding (`params.check_pow`).
    pub grind_budget: u64,
    /// Blocks per `unknown_parent_flood` item.
    pub flood_blocks: usize,
}

impl<'a> CraftContext<'a> {
    /// A context on `tip` with no coin, no spent outpoint, the default
    /// grind budget and flood size.
    pub fn new(
        params: &'a Params,
        tip: &'a BlockInfo,
        payout: ScriptBuf,
        now: u32,
        seq: u64,
    ) -> CraftContext<'a> {
        CraftContext {
            params,
            tip,
            coin: None,
            spent_outpoint: None,
            payout,
            now,
            seq,
            grind_budget: DEFAULT_GRIND_BUDGET,
            flood_blocks: DEFAULT_FLOOD_BLOCKS,
        }
    }

    /// Sets the attacker's coin.
    pub fn with_coin(mut self, coin: AttackerCoin) -> Self {
        self.coin = Some(coin);
        self
    }

    /// Sets the already-spent outpoint `double_spend_tx` spends again.
    pub fn with_spent_outpoint(mut self, outpoint: Option<OutPoint>) -> Self {
        self.spent_outpoint = outpoint;
        self
    }

    /// Height of the blocks crafted on the tip.
    fn height(&self) -> u32 {
        self.tip.height + 1
    }

    /// Time of the blocks crafted on the tip.
    fn block_time(&self) -> u32 {
        self.now.max(self.tip.median_time_past.saturating_add(1))
    }
}

/// A crafted item, ready to broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crafted {
    /// An invalid transaction.
    Tx(Transaction),
    /// An invalid block.
    Block(Rc<Block>),
    /// Blocks whose parents nobody has (the unknown-parent flood).
    Blocks(Vec<Rc<Block>>),
}

/// Why an item could not be crafted (the caller skips it and tries again
/// later; none of these is a bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CraftError {
    /// A transaction kind needs [`CraftContext::coin`].
    #[error("{0} needs a spendable coin of the attacker")]
    NoCoin(InvalidKind),
    /// Grinding did not meet the target within [`CraftContext::grind_budget`].
    #[error("no nonce met the target within {budget} hashes")]
    GrindBudget {
        /// The budget.
        budget: u64,
    },
    /// The tip's `bits` admit no other valid encoding (zero target).
    #[error("no other valid bits than {0}")]
    NoWrongBits(CompactTarget),
    /// `params.max_block_size` is too large to build a block above it.
    #[error(
        "max block size {0} is above the {MAX_OVERSIZE_BYTES} bytes an oversize block is built for"
    )]
    OversizeUnreachable(usize),
    /// Signing the attacker's coin failed (wrong key for it).
    #[error("signing the attacker's coin: {0}")]
    Sign(#[from] ScriptError),
    /// The tip's `bits` do not decode.
    #[error("tip bits: {0}")]
    Bits(#[from] PowError),
}

/// Crafts one item of `kind` (see the module docs for what each is and why
/// an honest node rejects it).
pub fn craft(kind: InvalidKind, ctx: &CraftContext<'_>) -> Result<Crafted, CraftError> {
    match kind {
        InvalidKind::BadSignature => bad_signature_tx(ctx).map(Crafted::Tx),
        InvalidKind::DoubleSpendTx => double_spend_tx(ctx).map(Crafted::Tx),
        InvalidKind::BadPow => bad_pow_block(ctx).map(block),
        InvalidKind::BadBits => bad_bits_block(ctx).map(block),
        InvalidKind::BadMerkleRoot => bad_merkle_root_block(ctx).map(block),
        InvalidKind::InflatedCoinbase => inflated_coinbase_block(ctx).map(block),
        InvalidKind::OversizeBlock => oversize_block(ctx).map(block),
        InvalidKind::UnknownParentFlood => unknown_parent_flood(ctx).map(Crafted::Blocks),
    }
}

fn block(b: Block) -> Crafted {
    Crafted::Block(Rc::new(b))
}

/// A block on the context's tip carrying `txs` after its coinbase, valid in
/// every other respect (the coinbase claims only the subsidy; ground when
/// `check_pow`). With a transaction from [`craft`] it is rejected when
/// connected, for that transaction's reason (a context-free one such as
/// `bad-txns-inputs-duplicate` already by `CheckBlock`).
pub fn block_with_txs(
    ctx: &CraftContext<'_>,
    txs: Vec<Transaction>,
) -> Result<Rc<Block>, CraftError> {
    let subsidy = ctx.params.block_subsidy(ctx.height());
    let mut b = template(ctx, subsidy, txs);
    grind(&mut b.header, ctx)?;
    Ok(Rc::new(b))
}

/// An outpoint spent on `chain`'s active chain: the last input of the most
/// recent non-coinbase transaction in the top `max_depth` blocks (the tip
/// is depth 1).
pub fn find_spent_outpoint(chain: &Chainstate, max_depth: u32) -> Option<OutPoint> {
    if max_depth == 0 {
        return None;
    }
    let low = (chain.height() + 1).saturating_sub(max_depth).max(1);
    (low..=chain.height()).rev().find_map(|h| {
        let info = chain.info_at_height(h)?;
        info.block
            .txdata
            .iter()
            .skip(1)
            .rev()
            .flat_map(|t| t.input.iter().rev())
            .map(|i| i.previous_output)
            .find(|o| !chain.utxos().contains(o))
    })
}

// ----- transactions ------------------------------------------------------

/// A signed spend of the attacker's coin (inputs `copies` times) paying
/// the payout script, lock time `seq` (meaningless here, keeps txids fresh).
fn spend_coin(
    ctx: &CraftContext<'_>,
    coin: &AttackerCoin,
    copies: usize,
) -> Result<Transaction, CraftError> {
    let fee = CRAFT_FEE_SATS.min(coin.value.to_sat() / 2);
    let value = Amount::from_sat_unchecked(coin.value.to_sat() - fee);
    let input = TxIn {
        previous_output: coin.outpoint,
        script_sig: ScriptBuf::default(),
        sequence: u32::MAX,
    };
    let mut tx = Transaction {
        version: 1,
        input: vec![input; copies],
        output: vec![TxOut {
            value,
            script_pubkey: ctx.payout.clone(),
        }],
        lock_time: ctx.seq as u32,
    };
    let locked = ScriptBuf::new_p2pkh(&coin.key.public_key().pubkey_hash());
    for i in 0..copies {
        sighash::sign_p2pkh_input(&mut tx, i, &locked, &coin.key)?;
    }
    Ok(tx)
}

/// Flips the lowest bit of the last byte of `s` in input 0's DER signature:
/// the encoding stays strict DER, the signature no longer verifies.
fn bad_signature_tx(ctx: &CraftContext<'_>) -> Result<Transaction, CraftError> {
    let coin = ctx
        .coin
        .as_ref()
        .ok_or(CraftError::NoCoin(InvalidKind::BadSignature))?;
    let mut tx = spend_coin(ctx, coin, 1)?;
    let (sig, pubkey) = tx.input[0]
        .script_sig
        .parse_p2pkh_sig()
        .expect("sign_p2pkh_input writes <sig> <pubkey>");
    let (mut sig, pubkey) = (sig.to_vec(), pubkey.to_vec());
    let last = sig.len() - 2; // the byte before the sighash type
    sig[last] ^= 0x01;
    tx.input[0].script_sig = ScriptBuf::new_p2pkh_sig(&sig, &pubkey);
    Ok(tx)
}

fn double_spend_tx(ctx: &CraftContext<'_>) -> Result<Transaction, CraftError> {
    if let Some(spent) = ctx.spent_outpoint {
        // The inputs are looked up before any script runs, so the
        // signature (by the attacker's key, if any) never matters.
        let mut tx = Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: spent,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            }],
            output: vec![TxOut {
                value: Amount::from_sat_unchecked(CRAFT_FEE_SATS),
                script_pubkey: ctx.payout.clone(),
            }],
            lock_time: ctx.seq as u32,
        };
        if let Some(coin) = &ctx.coin {
            let script = ScriptBuf::new_p2pkh(&coin.key.public_key().pubkey_hash());
            sighash::sign_p2pkh_input(&mut tx, 0, &script, &coin.key)?;
        }
        return Ok(tx);
    }
    // The same outpoint in two inputs: the CVE-2018-17144 inflation bug's
    // transaction, which CheckTransaction must refuse in blocks too.
    let coin = ctx
        .coin
        .as_ref()
        .ok_or(CraftError::NoCoin(InvalidKind::DoubleSpendTx))?;
    spend_coin(ctx, coin, 2)
}

// ----- blocks ------------------------------------------------------------

/// An unground block on the tip: BIP34 coinbase (extra nonce `seq`) paying
/// `coinbase_value` to the payout, then `txs`; Merkle root set.
fn template(ctx: &CraftContext<'_>, coinbase_value: Amount, txs: Vec<Transaction>) -> Block {
    let coinbase =
        Transaction::new_coinbase(ctx.height(), ctx.seq, coinbase_value, ctx.payout.clone());
    let mut txdata = Vec::with_capacity(txs.len() + 1);
    txdata.push(coinbase);
    txdata.extend(txs);
    let mut b = Block {
        header: Header {
            version: 0x2000_0000,
            prev_blockhash: ctx.tip.hash,
            merkle_root: MerkleNode::ZERO,
            time: ctx.block_time(),
            bits: ctx.tip.next_bits,
            nonce: 0,
        },
        txdata,
    };
    b.header.merkle_root = b.compute_merkle_root().expect("a coinbase is present");
    b
}

/// A template claiming exactly the subsidy, no other transactions.
fn plain(ctx: &CraftContext<'_>) -> Block {
    template(ctx, ctx.params.block_subsidy(ctx.height()), Vec::new())
}

/// Grinds the nonce to the header's own `bits` when proof of work is checked.
fn grind(header: &mut Header, ctx: &CraftContext<'_>) -> Result<(), CraftError> {
    if !ctx.params.check_pow {
        return Ok(());
    }
    let target = Target::from_compact(header.bits)?;
    header.nonce = 0;
    nonce::grind(header, target, ctx.grind_budget)
        .map(|_| ())
        .ok_or(CraftError::GrindBudget {
            budget: ctx.grind_budget,
        })
}

/// `bits` that `CheckProofOfWork` refuses whatever the hash: a target
/// easier than `limit` if one is encodable, else a zero target.
fn bits_above_limit(limit: Target) -> CompactTarget {
    if let Some(doubled) = limit.0.checked_mul(2u8.into()) {
        let bits = Target(doubled).to_compact_lossy();
        if Target::from_compact(bits).is_ok_and(|t| t > limit) {
            return bits;
        }
    }
    CompactTarget::from_consensus(0)
}

fn bad_pow_block(ctx: &CraftContext<'_>) -> Result<Block, CraftError> {
    let mut b = plain(ctx);
    if ctx.params.check_pow {
        let target = Target::from_compact(b.header.bits)?;
        if target != Target::MAX {
            // A random hash misses any teaching target with probability
            // at least 1/2: the first nonce or two do.
            for _ in 0..ctx.grind_budget.max(1) {
                if !target.is_met_by(b.block_hash().as_bytes()) {
                    return Ok(b);
                }
                b.header.nonce = b.header.nonce.wrapping_add(1);
            }
        }
    }
    b.header.bits = bits_above_limit(ctx.params.pow_limit);
    Ok(b)
}

/// `bits` within the limit but not `expected`: twice the target when that
/// stays within `limit` (cheaper to grind), else half of it.
fn wrong_bits(expected: CompactTarget, limit: Target) -> Result<CompactTarget, CraftError> {
    let target = Target::from_compact(expected)?;
    if let Some(doubled) = target.0.checked_mul(2u8.into()) {
        let bits = Target(doubled).to_compact_lossy();
        if bits != expected && Target::from_compact(bits).is_ok_and(|t| t > target && t <= limit) {
            return Ok(bits);
        }
    }
    let bits = Target(target.0 >> 1).to_compact_lossy();
    match Target::from_compact(bits) {
        Ok(t) if !t.0.is_zero() && bits != expected && t <= limit => Ok(bits),
        _ => Err(CraftError::NoWrongBits(expected)),
    }
}

fn bad_bits_block(ctx: &CraftContext<'_>) -> Result<Block, CraftError> {
    let mut b = plain(ctx);
    b.header.bits = wrong_bits(b.header.bits, ctx.params.pow_limit)?;
    grind(&mut b.header, ctx)?;
    Ok(b)
}

fn bad_merkle_root_block(ctx: &CraftContext<'_>) -> Result<Block, CraftError> {
    let mut b = plain(ctx);
    b.header.merkle_root.0[0] ^= 0x01;
    grind(&mut b.header, ctx)?;
    Ok(b)
}

fn inflated_coinbase_block(ctx: &CraftContext<'_>) -> Result<Block, CraftError> {
    let subsidy = ctx.params.block_subsidy(ctx.height());
    // Twice the subsidy (one satoshi more once the subsidy has run out).
    let extra = Amount::from_sat_unchecked(subsidy.to_sat().max(1));
    let claim = subsidy.checked_add(extra).unwrap_or(Amount::MAX_MONEY);
    let mut b = template(ctx, claim, Vec::new());
    grind(&mut b.header, ctx)?;
    Ok(b)
}

/// An `OP_RETURN OP_PUSHDATA4 <zeros>` script of exactly `len` bytes.
fn padding_script(len: usize) -> ScriptBuf {
    if len < 6 {
        return ScriptBuf(vec![0x6a; len]);
    }
    let mut s = Vec::with_capacity(len);
    s.push(0x6a); // OP_RETURN
    s.push(0x4e); // OP_PUSHDATA4
    s.extend_from_slice(&((len - 6) as u32).to_le_bytes());
    s.resize(len, 0);
    ScriptBuf(s)
}

fn oversize_block(ctx: &CraftContext<'_>) -> Result<Block, CraftError> {
    let max = ctx.params.max_block_size;
    if max >= MAX_OVERSIZE_BYTES {
        return Err(CraftError::OversizeUnreachable(max));
    }
    let want = max + 1;
    let mut b = plain(ctx);
    b.txdata[0].output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: ScriptBuf::default(),
    });
    // With an empty script the padding output costs 8 + 1 bytes; a script
    // of `len` bytes adds `varint_len(len) - 1 + len`.
    let base = b.size();
    let len = [1usize, 3, 5, 9]
        .into_iter()
        .find_map(|k| {
            let len = (want + 1).checked_sub(base + k)?;
            (varint_len(len as u64) == k).then_some(len)
        })
        .unwrap_or_else(|| want.saturating_sub(base) + 1);
    b.txdata[0].output[1].script_pubkey = padding_script(len);
    b.header.merkle_root = b.compute_merkle_root().expect("a coinbase is present");
    debug_assert!(b.size() > max);
    grind(&mut b.header, ctx)?;
    Ok(b)
}

fn unknown_parent_flood(ctx: &CraftContext<'_>) -> Result<Vec<Rc<Block>>, CraftError> {
    let mut out = Vec::with_capacity(ctx.flood_blocks);
    for i in 0..ctx.flood_blocks {
        let mut seed = b"forklab unknown parent".to_vec();
        seed.extend_from_slice(&ctx.seq.to_le_bytes());
        seed.extend_from_slice(&(i as u64).to_le_bytes());
        let mut b = plain(ctx);
        b.header.prev_blockhash = BlockHash::hash(&seed);
        grind(&mut b.header, ctx)?;
        out.push(Rc::new(b));
    }
    Ok(out)
}

/// The typed error a crafted block's rejection carries, for callers that
/// want to match on it rather than on the reason string: the `Err` of
/// `accept_block`, or for blocks failing when connected, the entry for the
/// block's own hash in `newly_invalid`.
pub fn block_error_of<'e>(
    hash: &BlockHash,
    result: &'e Result<crate::ledger::chainstate::AcceptOutcome, BlockError>,
) -> Option<&'e BlockError> {
    match result {
        Err(e) => Some(e),
        Ok(outcome) => outcome
            .newly_invalid
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, e)| e),
    }
}

/// The transaction error inside a block error, if it is one.
pub fn tx_error_of(e: &BlockError) -> Option<&TxError> {
    match e {
        BlockError::Tx { error, .. } => Some(error),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::chainstate::testkit::*;
    use crate::ledger::chainstate::{AcceptOutcome, AcceptStatus, BlockCache, BlockStatus};
    use crate::ledger::validate::{self, SigCache};
    use crate::node::mempool::{Mempool, MempoolError};
    use crate::node::score::{self, PeerScores, Source};

    /// The attacker's view: genesis, block 1 (wallet 1 pays wallet 2, so
    /// wallet 1's genesis coin is spent) and an empty block 2.
    struct Net {
        params: Rc<Params>,
        genesis: Rc<Block>,
        blocks: Vec<Rc<Block>>,
        attacker: Chainstate,
        spent: OutPoint,
    }

    fn net(check_pow: bool, difficulty: u32) -> Net {
        let mut p = kit_params();
        p.check_pow = check_pow;
        p.max_block_size = 20_000;
        let bits = Target::from_leading_zero_bits(difficulty).to_compact_lossy();
        let genesis = Rc::new(genesis_with(&p, bits));
        let params = Rc::new(p);
        let mut cache = BlockCache::new();
        let mut attacker = Chainstate::new(genesis.clone(), params.clone(), &mut cache);
        let spent = OutPoint {
            txid: genesis.txdata[0].compute_txid(),
            vout: 1,
        };
        let pay = payment(spent, ENDOWMENT, 1, 2, 5_000, 100);
        let b1 = mine_child(
            &mut cache,
            &params,
            &genesis.block_hash(),
            vec![pay],
            100,
            600,
            1,
        );
        let b2 = mine_child(&mut cache, &params, &b1.block_hash(), vec![], 0, 600, 2);
        for b in [&b1, &b2] {
            attacker
                .accept_block(b.clone(), u32::MAX / 2, &mut cache)
                .unwrap();
        }
        assert_eq!(attacker.height(), 2);
        Net {
            params,
            genesis,
            blocks: vec![b1, b2],
            attacker,
            spent,
        }
    }

    impl Net {
        /// A fresh honest node (own cache) that has the attacker's chain.
        fn honest(&self) -> (Chainstate, BlockCache) {
            let mut cache = BlockCache::new();
            let mut node = Chainstate::new(self.genesis.clone(), self.params.clone(), &mut cache);
            for b in &self.blocks {
                node.accept_block(b.clone(), u32::MAX / 2, &mut cache)
                    .unwrap();
            }
            assert_eq!(node.tip(), self.attacker.tip());
            (node, cache)
        }

        fn now(&self) -> u32 {
            self.attacker.tip_info().time() + 600
        }

        fn coin(&self) -> AttackerCoin {
            AttackerCoin {
                outpoint: OutPoint {
                    txid: self.genesis.txdata[0].compute_txid(),
                    vout: 0,
                },
                value: Amount::from_sat_unchecked(ENDOWMENT),
                key: key(0),
            }
        }

        fn ctx(&self, seq: u64) -> CraftContext<'_> {
            CraftContext::new(
                &self.params,
                self.attacker.tip_info(),
                miner_script(),
                self.now(),
                seq,
            )
            .with_coin(self.coin())
        }
    }

    fn the_block(c: Crafted) -> Rc<Block> {
        match c {
            Crafted::Block(b) => b,
            other => panic!("expected a block, got {other:?}"),
        }
    }

    fn the_tx(c: Crafted) -> Transaction {
        match c {
            Crafted::Tx(t) => t,
            other => panic!("expected a transaction, got {other:?}"),
        }
    }

    /// Feeds `block` to a fresh honest node; returns its typed error (from
    /// `Err` or from `newly_invalid`) after checking the node stayed put
    /// and does not hold the block as valid.
    fn rejection(n: &Net, block: &Rc<Block>) -> BlockError {
        let (mut node, mut cache) = n.honest();
        let tip = node.tip();
        let hash = block.block_hash();
        let result = node.accept_block(block.clone(), n.now(), &mut cache);
        let err = block_error_of(&hash, &result)
            .unwrap_or_else(|| panic!("block accepted: {result:?}"))
            .clone();
        assert_eq!(node.tip(), tip, "the honest tip did not move");
        assert!(matches!(
            node.status(&hash),
            None | Some(BlockStatus::Invalid)
        ));
        err
    }

    /// Offers `tx` to an honest mempool and to `check_transaction` +
    /// `check_tx_inputs`; both must give the same error.
    fn tx_rejection(n: &Net, tx: &Transaction) -> TxError {
        let (node, _) = n.honest();
        let mut sigs = SigCache::new();
        let direct = validate::check_transaction(tx).and_then(|()| {
            validate::check_tx_inputs(tx, node.utxos(), node.height() + 1, &n.params, &mut sigs)
                .map(|_| ())
        });
        let mut pool = Mempool::new(1_000_000);
        let pooled = pool.accept(
            tx.compute_txid(),
            Rc::new(tx.clone()),
            node.utxos(),
            node.height(),
            &n.params,
            &mut SigCache::new(),
        );
        assert!(pool.is_empty());
        let err = direct.expect_err("the transaction is invalid");
        assert_eq!(pooled, Err(MempoolError::Invalid(err.clone())));
        err
    }

    #[test]
    fn every_kind_is_rejected_for_exactly_its_reason() {
        // (check_pow, difficulty): at the limit (bad_bits must go harder)
        // and below it (bad_bits goes easier).
        for (check_pow, difficulty) in [(true, 4), (true, 8), (false, 4), (false, 8)] {
            let n = net(check_pow, difficulty);
            let tip = n.attacker.tip_info().clone();
            let subsidy = n.params.block_subsidy(tip.height + 1);
            for kind in InvalidKind::ALL {
                let label = format!("{kind} check_pow={check_pow} difficulty={difficulty}");
                let ctx = n.ctx(7);
                let expected = kind.expected_reason(&ctx);
                let crafted = craft(kind, &ctx).unwrap_or_else(|e| panic!("{label}: {e}"));
                match kind {
                    InvalidKind::BadSignature => {
                        let tx = the_tx(crafted);
                        let e = tx_rejection(&n, &tx);
                        assert_eq!(
                            e,
                            TxError::Script {
                                input: 0,
                                error: ScriptError::BadSignature
                            },
                            "{label}"
                        );
                        assert_eq!(e.reject_reason(), expected);
                        assert_eq!(score::tx_penalty(&e), 100);
                        // In a block: rejected when connected.
                        let b = block_with_txs(&ctx, vec![tx.clone()]).unwrap();
                        let e = rejection(&n, &b);
                        assert_eq!(
                            e,
                            BlockError::Tx {
                                index: 1,
                                txid: tx.compute_txid(),
                                error: TxError::Script {
                                    input: 0,
                                    error: ScriptError::BadSignature
                                }
                            },
                            "{label}"
                        );
                        assert_eq!(e.reject_reason(), expected);
                    }
                    InvalidKind::DoubleSpendTx => {
                        let tx = the_tx(crafted);
                        let op = n.coin().outpoint;
                        let e = tx_rejection(&n, &tx);
                        assert_eq!(e, TxError::DuplicateInput(op), "{label}");
                        assert_eq!(e.reject_reason(), expected);
                        let b = block_with_txs(&ctx, vec![tx]).unwrap();
                        let e = rejection(&n, &b);
                        assert_eq!(e.reject_reason(), expected, "{label}");
                        assert!(matches!(
                            e,
                            BlockError::Tx {
                                index: 1,
                                error: TxError::DuplicateInput(o),
                                ..
                            } if o == op
                        ));
                        // Spending an outpoint the chain already spent.
                        let spent = find_spent_outpoint(&n.attacker, 10);
                        assert_eq!(spent, Some(n.spent));
                        let ctx = n.ctx(7).with_spent_outpoint(spent);
                        let expected = kind.expected_reason(&ctx);
                        let tx = the_tx(craft(kind, &ctx).unwrap());
                        let e = tx_rejection(&n, &tx);
                        assert_eq!(
                            e,
                            TxError::MissingOrSpent {
                                input: 0,
                                outpoint: n.spent
                            },
                            "{label}"
                        );
                        assert_eq!(e.reject_reason(), expected);
                        // Core does not punish a loose one (could be an
                        // orphan), but does in a block.
                        assert_eq!(score::tx_penalty(&e), 0);
                        let b = block_with_txs(&ctx, vec![tx]).unwrap();
                        let e = rejection(&n, &b);
                        assert_eq!(e.reject_reason(), expected, "{label}");
                        assert_eq!(score::block_penalty(&e), 100);
                    }
                    InvalidKind::BadPow => {
                        let b = the_block(crafted);
                        let e = rejection(&n, &b);
                        if check_pow {
                            assert_eq!(b.header.bits, tip.next_bits, "{label}: right bits");
                            assert!(matches!(e, BlockError::HighHash { .. }), "{label}: {e}");
                        } else {
                            assert!(
                                matches!(e, BlockError::BadBits(PowError::AboveLimit(_))),
                                "{label}: {e}"
                            );
                        }
                        assert_eq!(e.reject_reason(), expected);
                    }
                    InvalidKind::BadBits => {
                        let b = the_block(crafted);
                        let got = b.header.bits;
                        let t = Target::from_compact(got).unwrap();
                        let expected_t = Target::from_compact(tip.next_bits).unwrap();
                        // Easier when the limit allows it, else harder.
                        assert_eq!(t > expected_t, difficulty > 4, "{label}");
                        assert_eq!(
                            rejection(&n, &b),
                            BlockError::BadDiffBits {
                                expected: tip.next_bits,
                                got
                            },
                            "{label}"
                        );
                        assert_eq!(expected, "bad-diffbits");
                    }
                    InvalidKind::BadMerkleRoot => {
                        let b = the_block(crafted);
                        let e = rejection(&n, &b);
                        assert_eq!(
                            e,
                            BlockError::BadMerkleRoot {
                                header: b.header.merkle_root,
                                computed: b.compute_merkle_root().unwrap()
                            },
                            "{label}"
                        );
                        assert_eq!(e.reject_reason(), expected);
                    }
                    InvalidKind::InflatedCoinbase => {
                        let b = the_block(crafted);
                        let e = rejection(&n, &b);
                        assert_eq!(
                            e,
                            BlockError::CoinbaseAmount {
                                got: subsidy.checked_mul(2).unwrap(),
                                max: subsidy
                            },
                            "{label}"
                        );
                        assert_eq!(e.reject_reason(), expected);
                    }
                    InvalidKind::OversizeBlock => {
                        let b = the_block(crafted);
                        let max = n.params.max_block_size;
                        assert_eq!(
                            rejection(&n, &b),
                            BlockError::TooLarge { size: max + 1, max },
                            "{label}"
                        );
                        assert_eq!(expected, "bad-blk-length");
                    }
                    InvalidKind::UnknownParentFlood => {
                        let Crafted::Blocks(blocks) = crafted else {
                            panic!("{label}: expected blocks");
                        };
                        assert_eq!(blocks.len(), DEFAULT_FLOOD_BLOCKS);
                        let (mut node, mut cache) = n.honest();
                        let tip_before = node.tip();
                        let mut scores = PeerScores::new();
                        for b in &blocks {
                            let prev = b.header.prev_blockhash;
                            assert!(!node.contains(&prev));
                            let out = node.accept_block(b.clone(), n.now(), &mut cache).unwrap();
                            assert_eq!(
                                out.status,
                                AcceptStatus::Orphan {
                                    missing_parent: prev
                                },
                                "{label}"
                            );
                            scores.record_unconnecting(0, 1);
                        }
                        assert_eq!(node.orphan_count(), blocks.len());
                        assert_eq!(node.tip(), tip_before);
                        assert_eq!(scores.score(0, 1), score::UNCONNECTING_PENALTY);
                        assert_eq!(score::penalty(Source::Block, expected), 10);
                        let mut parents: Vec<_> =
                            blocks.iter().map(|b| b.header.prev_blockhash).collect();
                        parents.sort();
                        parents.dedup();
                        assert_eq!(parents.len(), blocks.len());
                    }
                }
            }
        }
    }

    #[test]
    fn crafted_blocks_score_a_disconnect() {
        let n = net(true, 6);
        let ctx = n.ctx(1);
        for kind in InvalidKind::ALL.into_iter().filter(|k| !k.is_tx()) {
            let points = score::penalty(Source::Block, kind.expected_reason(&ctx));
            let want = match kind {
                InvalidKind::UnknownParentFlood => 10,
                _ => score::DISCOURAGEMENT_THRESHOLD,
            };
            assert_eq!(points, want, "{kind}");
        }
    }

    #[test]
    fn each_block_defect_is_the_only_one() {
        // Undo the one defect and regrind: the honest node accepts the block.
        let n = net(true, 8);
        let ctx = n.ctx(3);
        let accepts = |b: Block| {
            let (mut node, mut cache) = n.honest();
            let hash = b.block_hash();
            let out: AcceptOutcome = node.accept_block(Rc::new(b), n.now(), &mut cache).unwrap();
            assert_eq!(out.newly_invalid, vec![]);
            assert_eq!(node.tip(), hash);
        };
        let tip = n.attacker.tip_info();
        let mut b = (*the_block(craft(InvalidKind::BadPow, &ctx).unwrap())).clone();
        finish(&mut b, false);
        accepts(b);
        let mut b = (*the_block(craft(InvalidKind::BadBits, &ctx).unwrap())).clone();
        b.header.bits = tip.next_bits;
        finish(&mut b, false);
        accepts(b);
        let mut b = (*the_block(craft(InvalidKind::BadMerkleRoot, &ctx).unwrap())).clone();
        finish(&mut b, true);
        accepts(b);
        let mut b = (*the_block(craft(InvalidKind::InflatedCoinbase, &ctx).unwrap())).clone();
        b.txdata[0].output[0].value = n.params.block_subsidy(tip.height + 1);
        finish(&mut b, true);
        accepts(b);
        let mut b = (*the_block(craft(InvalidKind::OversizeBlock, &ctx).unwrap())).clone();
        b.txdata[0].output.truncate(1);
        finish(&mut b, true);
        accepts(b);
        // The carrier block and the unflipped spend are valid.
        accepts((*block_with_txs(&ctx, vec![]).unwrap()).clone());
        let good = spend_coin(&ctx, ctx.coin.as_ref().unwrap(), 1).unwrap();
        let (node, _) = n.honest();
        let fee = validate::check_tx_inputs(
            &good,
            node.utxos(),
            node.height() + 1,
            &n.params,
            &mut SigCache::new(),
        )
        .unwrap();
        assert_eq!(fee.to_sat(), CRAFT_FEE_SATS);
    }

    #[test]
    fn successive_items_differ() {
        let n = net(false, 6);
        for kind in InvalidKind::ALL {
            let (a, b) = (
                craft(kind, &n.ctx(1)).unwrap(),
                craft(kind, &n.ctx(2)).unwrap(),
            );
            assert_ne!(a, b, "{kind}");
            // Same inputs, same output.
            assert_eq!(a, craft(kind, &n.ctx(1)).unwrap(), "{kind}");
        }
    }

    #[test]
    fn bad_pow_at_the_easiest_target() {
        // pow_limit = Target::MAX: no encodable target is easier, so with
        // modelled proof of work bad_pow carries a zero target; with
        // checked proof of work, even the easiest compact target
        // (0x2100ffff = 0xffff << 240) leaves high hashes to pick.
        for check_pow in [false, true] {
            let mut p = kit_params();
            p.pow_limit = Target::MAX;
            p.check_pow = check_pow;
            let bits = Target::MAX.to_compact_lossy();
            assert_eq!(bits.to_consensus(), 0x2100_ffff);
            let genesis = Rc::new(genesis_with(&p, bits));
            let params = Rc::new(p);
            let mut cache = BlockCache::new();
            let mut node = Chainstate::new(genesis.clone(), params.clone(), &mut cache);
            let tip = node.tip_info().clone();
            let ctx = CraftContext::new(&params, &tip, miner_script(), tip.time() + 1, 0);
            let b = the_block(craft(InvalidKind::BadPow, &ctx).unwrap());
            let e = node.accept_block(b, ctx.now, &mut cache).unwrap_err();
            if check_pow {
                assert!(matches!(e, BlockError::HighHash { .. }), "{e}");
            } else {
                assert!(matches!(e, BlockError::BadBits(PowError::Zero(0))), "{e}");
            }
            assert_eq!(e.reject_reason(), "high-hash");
        }
    }

    #[test]
    fn grind_budget_and_missing_coin_are_errors() {
        let mut p = kit_params();
        p.check_pow = false; // genesis not ground
        let bits = Target::from_leading_zero_bits(24).to_compact_lossy();
        let genesis = Rc::new(genesis_with(&p, bits));
        p.check_pow = true;
        let params = Rc::new(p);
        let mut cache = BlockCache::new();
        let node = Chainstate::new(genesis, params.clone(), &mut cache);
        let mut ctx = CraftContext::new(&params, node.tip_info(), miner_script(), T0 + 60, 0);
        ctx.grind_budget = 16;
        assert_eq!(
            craft(InvalidKind::BadMerkleRoot, &ctx),
            Err(CraftError::GrindBudget { budget: 16 })
        );
        assert_eq!(
            craft(InvalidKind::BadSignature, &ctx),
            Err(CraftError::NoCoin(InvalidKind::BadSignature))
        );
        assert_eq!(
            craft(InvalidKind::DoubleSpendTx, &ctx),
            Err(CraftError::NoCoin(InvalidKind::DoubleSpendTx))
        );
        // A limit too large to build a block above.
        let mut p2 = (*params).clone();
        p2.max_block_size = usize::MAX;
        let ctx = CraftContext::new(&p2, node.tip_info(), miner_script(), T0 + 60, 0);
        assert_eq!(
            craft(InvalidKind::OversizeBlock, &ctx),
            Err(CraftError::OversizeUnreachable(usize::MAX))
        );
    }

    #[test]
    fn oversize_blocks_are_one_byte_over_any_limit() {
        let n = net(false, 6);
        for max in [
            200, 300, 352, 353, 354, 355, 356, 1_000, 65_700, 65_800, 100_000,
        ] {
            let mut p = (*n.params).clone();
            p.max_block_size = max;
            let ctx = CraftContext::new(&p, n.attacker.tip_info(), miner_script(), n.now(), 0);
            let b = the_block(craft(InvalidKind::OversizeBlock, &ctx).unwrap());
            assert_eq!(b.size(), max + 1, "max {max}");
            assert_eq!(b.compute_merkle_root(), Some(b.header.merkle_root));
        }
    }

    #[test]
    fn find_spent_outpoint_needs_a_spend_in_range() {
        let n = net(false, 6);
        // Block 1 holds the spend; from the tip (2) a depth of 1 misses it.
        assert_eq!(find_spent_outpoint(&n.attacker, 0), None);
        assert_eq!(find_spent_outpoint(&n.attacker, 1), None);
        assert_eq!(find_spent_outpoint(&n.attacker, 2), Some(n.spent));
        let (fresh, _) = {
            let mut cache = BlockCache::new();
            (
                Chainstate::new(n.genesis.clone(), n.params.clone(), &mut cache),
                cache,
            )
        };
        assert_eq!(find_spent_outpoint(&fresh, 100), None);
    }

    #[test]
    fn kind_names_match_the_scenario_schema() {
        let names = [
            "bad_signature",
            "double_spend_tx",
            "bad_pow",
            "bad_bits",
            "bad_merkle_root",
            "inflated_coinbase",
            "oversize_block",
            "unknown_parent_flood",
        ];
        let yaml = format!("[{}]", names.join(", "));
        let parsed: Vec<InvalidKind> = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(parsed, InvalidKind::ALL);
        for (k, name) in InvalidKind::ALL.iter().zip(names) {
            assert_eq!(k.as_str(), name);
            assert_eq!(k.to_string(), name);
            assert_eq!(serde_json::to_string(k).unwrap(), format!("\"{name}\""));
        }
        assert!(serde_yaml::from_str::<InvalidKind>("bad_sig").is_err());
    }
}
