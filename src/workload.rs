//! The simulated users: wallets with real keys, and the payments they make.
//!
//! Each wallet has a secp256k1 key derived from the run's seed (stream
//! `wallet-keys`), a P2PKH address endowed in the genesis block, and a home
//! full node through which it sees its coins and submits payments. The
//! world fires the payment process (Poisson, `workload.payments_per_s`,
//! stream `workload`); here a payment is drawn (sender, recipient, share of
//! the coin) and built as a real signed transaction spending the sender's
//! largest free coin, with change back to the sender.

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use crate::ledger::keys::PrivateKey;
use crate::ledger::{sighash, Amount, OutPoint, ScriptBuf, Transaction, TxIn, TxOut};
use crate::node::msg::NodeIdx;

/// Bytes a P2PKH spend with one input and two outputs takes (for fees).
pub const P2PKH_1IN_2OUT_BYTES: u64 = 226;

/// A simulated user with a real key.
pub struct Wallet {
    /// Secret key.
    pub key: PrivateKey,
    /// hash160 of the public key.
    pub pubkey_hash: [u8; 20],
    /// Its P2PKH locking script.
    pub script_pubkey: ScriptBuf,
    /// The full node it uses to see its coins and submit payments.
    pub home: NodeIdx,
}

/// `count` wallets with keys drawn from `rng`, spread evenly over
/// `full_nodes` as their homes.
pub fn make_wallets(count: usize, full_nodes: &[NodeIdx], rng: &mut ChaCha12Rng) -> Vec<Wallet> {
    (0..count)
        .map(|i| {
            let mut material = [0u8; 32];
            rng.fill(&mut material);
            let key = PrivateKey::derive(&material);
            let pubkey_hash = key.public_key().pubkey_hash();
            Wallet {
                script_pubkey: ScriptBuf::new_p2pkh(&pubkey_hash),
                pubkey_hash,
                key,
                // `i * len / count` spreads wallets evenly over full nodes.
                home: full_nodes[i * full_nodes.len() / count.max(1)],
            }
        })
        .collect()
}

/// A payment drawn before its coin is chosen.
#[derive(Clone, Copy, Debug)]
pub struct Draw {
    /// Paying wallet.
    pub sender: usize,
    /// Paid wallet (never the sender).
    pub recipient: usize,
    /// Share of the spent coin paid (the rest, less the fee, is change).
    pub frac: f64,
}

/// Draws the next payment among `wallets` (at least two) from `rng`.
pub fn draw(wallets: usize, rng: &mut ChaCha12Rng) -> Draw {
    let sender = rng.gen_range(0..wallets);
    let mut recipient = rng.gen_range(0..wallets - 1);
    if recipient >= sender {
        recipient += 1;
    }
    let frac: f64 = rng.gen_range(0.05..0.5);
    Draw {
        sender,
        recipient,
        frac,
    }
}

/// The coin a wallet spends: the largest (the lowest outpoint among equal
/// values) that `is_free` accepts. Sorting first means the spent-set probes
/// stop at the first free coin; a wallet holds hundreds of small coins late
/// in a long run.
pub fn pick_coin(
    mut coins: Vec<(OutPoint, Amount)>,
    is_free: impl Fn(&OutPoint) -> bool,
) -> Option<(OutPoint, Amount)> {
    coins.sort_unstable_by_key(|&(op, v)| (std::cmp::Reverse(v), op));
    coins.into_iter().find(|(op, _)| is_free(op))
}

/// The signed payment spending `coin` of `value` from `from` to `to`:
/// `frac` of the value (at least one satoshi) to `to`, the rest less `fee`
/// back to `from`. `None` if the coin cannot pay the amount and the fee.
/// Returns the transaction and the amount paid.
pub fn build_payment(
    from: &Wallet,
    to: &Wallet,
    coin: OutPoint,
    value: Amount,
    frac: f64,
    fee: u64,
) -> Option<(Transaction, u64)> {
    let pay = ((value.to_sat() as f64 * frac) as u64).max(1);
    let change = value.to_sat().checked_sub(pay + fee)?;
    let mut tx = Transaction {
        version: 1,
        input: vec![TxIn {
            previous_output: coin,
            script_sig: ScriptBuf::default(),
            sequence: u32::MAX,
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat_unchecked(pay),
                script_pubkey: to.script_pubkey.clone(),
            },
            TxOut {
                value: Amount::from_sat_unchecked(change),
                script_pubkey: from.script_pubkey.clone(),
            },
        ],
        lock_time: 0,
    };
    sighash::sign_p2pkh_input(&mut tx, 0, &from.script_pubkey, &from.key)
        .expect("a wallet signs its own P2PKH coin");
    Some((tx, pay))
}

/// Why [`build_spend`] cannot pay.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpendError {
    /// Nothing to send.
    #[error("the amount must be at least 1 satoshi")]
    ZeroAmount,
    /// The coins do not cover the amount and the fee.
    #[error("insufficient funds: {have} sats in {coins} spendable coins, {need} sats needed (amount plus a fee of {fee} sats)")]
    Insufficient {
        /// Sum of the coins.
        have: u64,
        /// Number of coins.
        coins: usize,
        /// Amount plus fee.
        need: u64,
        /// The fee for the inputs that would be needed.
        fee: u64,
    },
}

/// Estimated size of a P2PKH spend with `inputs` inputs and `outputs`
/// outputs, bytes (148 per signed input, 34 per output, 10 overhead).
pub fn p2pkh_size(inputs: usize, outputs: usize) -> u64 {
    10 + 148 * inputs as u64 + 34 * outputs as u64
}

/// A signed payment of `amount` satoshis to `to` from the P2PKH coins
/// `coins` of `key` (largest first, as many as needed), paying
/// `fee_rate` sat/byte of the estimated size, change (if any) back to the
/// key's own address. What `sim wallet send` builds on the student's
/// machine and what the live lab builds for the scenario's wallets.
pub fn build_spend(
    key: &PrivateKey,
    coins: &[(OutPoint, Amount)],
    to: &ScriptBuf,
    amount: u64,
    fee_rate: u64,
) -> Result<Transaction, SpendError> {
    if amount == 0 {
        return Err(SpendError::ZeroAmount);
    }
    let mine = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
    let mut sorted = coins.to_vec();
    sorted.sort_unstable_by_key(|&(op, v)| (std::cmp::Reverse(v), op));
    let mut picked = Vec::new();
    let mut have = 0u64;
    for (op, v) in &sorted {
        picked.push(*op);
        have = have.saturating_add(v.to_sat());
        let fee = fee_rate.saturating_mul(p2pkh_size(picked.len(), 2));
        if have >= amount.saturating_add(fee) {
            break;
        }
    }
    let fee = fee_rate.saturating_mul(p2pkh_size(picked.len().max(1), 2));
    let need = amount.saturating_add(fee);
    if have < need {
        return Err(SpendError::Insufficient {
            have,
            coins: coins.len(),
            need,
            fee,
        });
    }
    let change = have - need;
    let mut output = vec![TxOut {
        value: Amount::from_sat_unchecked(amount),
        script_pubkey: to.clone(),
    }];
    if change > 0 {
        output.push(TxOut {
            value: Amount::from_sat_unchecked(change),
            script_pubkey: mine.clone(),
        });
    }
    let mut tx = Transaction {
        version: 1,
        input: picked
            .iter()
            .map(|op| TxIn {
                previous_output: *op,
                script_sig: ScriptBuf::default(),
                sequence: u32::MAX,
            })
            .collect(),
        output,
        lock_time: 0,
    };
    for i in 0..tx.input.len() {
        sighash::sign_p2pkh_input(&mut tx, i, &mine, key).expect("a key signs its own P2PKH coin");
    }
    Ok(tx)
}
