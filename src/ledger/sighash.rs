//! Bitcoin's legacy signature hash and P2PKH signing and verification.
//!
//! TODO(helper): implement.

use super::keys::PrivateKey;
use super::script::ScriptBuf;
use super::tx::Transaction;

/// Sign all inputs and outputs.
pub const SIGHASH_ALL: u32 = 1;

/// Why a P2PKH spend was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The locking script is not P2PKH (the only template forklab can spend).
    #[error("unsupported locking script (only P2PKH can be spent)")]
    UnsupportedScript,
    /// The unlocking script is not `<sig> <pubkey>`.
    #[error("malformed script_sig (expected <signature> <pubkey>)")]
    MalformedScriptSig,
    /// The public key does not hash to the locked hash.
    #[error("public key does not hash to the locked pubkey hash")]
    PubkeyHashMismatch,
    /// The public key bytes are not a valid secp256k1 point.
    #[error("invalid public key encoding")]
    InvalidPublicKey,
    /// The signature is not strict DER or is empty.
    #[error("invalid signature encoding")]
    InvalidSignatureEncoding,
    /// The signature does not verify against the sighash.
    #[error("signature does not verify")]
    BadSignature,
    /// The input index is out of range.
    #[error("input index {0} out of range")]
    InputIndexOutOfRange(usize),
}

/// The legacy sighash (`SignatureHash` in Bitcoin Core) of input `input_index`
/// with `script_code` (the spent output's script) and `sighash_type`.
pub fn legacy_sighash(
    _tx: &Transaction,
    _input_index: usize,
    _script_code: &ScriptBuf,
    _sighash_type: u32,
) -> [u8; 32] {
    todo!()
}

/// Signs input `input_index` (SIGHASH_ALL) as a P2PKH spend of
/// `prev_script_pubkey`, setting its `script_sig`.
pub fn sign_p2pkh_input(
    _tx: &mut Transaction,
    _input_index: usize,
    _prev_script_pubkey: &ScriptBuf,
    _key: &PrivateKey,
) -> Result<(), ScriptError> {
    todo!()
}

/// Verifies input `input_index` spending `prev_script_pubkey` (P2PKH only).
pub fn verify_p2pkh_input(
    _tx: &Transaction,
    _input_index: usize,
    _prev_script_pubkey: &ScriptBuf,
) -> Result<(), ScriptError> {
    todo!()
}
