//! Bitcoin's legacy signature hash and P2PKH signing and verification.
//!
//! The legacy (pre-segwit) sighash is Bitcoin Core's `SignatureHash` for
//! `SigVersion::BASE` (`src/script/interpreter.cpp`): a copy of the
//! transaction in which every `script_sig` is blanked, the input being signed
//! carries the *script code* (the spent output's `script_pubkey` with
//! `OP_CODESEPARATOR`s removed), modified by the sighash type, followed by the
//! 4-byte sighash type, all hashed with `sha256d`. The quirks are kept on
//! purpose so that real historical signatures verify:
//! - `SIGHASH_NONE` (2) commits to no outputs, `SIGHASH_SINGLE` (3) only to
//!   the output with the input's index; both zero the other inputs' sequences;
//! - `SIGHASH_ANYONECANPAY` (0x80) commits to the signed input only;
//! - the `SIGHASH_SINGLE` bug: with no matching output (and for an input
//!   index out of range) the "hash" is the number 1;
//! - only the low 5 bits select the mode, but the full type is hashed, so a
//!   type of 0 (seen on mainnet) acts like `SIGHASH_ALL`.
//!
//! forklab spends the two templates of Bitcoin's first years:
//! - P2PKH: [`sign_p2pkh_input`] signs with `SIGHASH_ALL`;
//!   [`verify_p2pkh_input`] checks what the script
//!   `<sig> <pubkey> | OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY OP_CHECKSIG`
//!   checks;
//! - P2PK (`<pubkey> OP_CHECKSIG`, the coinbases of 2009 and the first
//!   payment, block 170): [`sign_p2pk_input`] and [`verify_p2pk_input`]
//!   check `<sig> | <pubkey> OP_CHECKSIG`.
//!
//! [`verify_input`] picks the template from the spent script. Both accept
//! the DER and low-S leniency of consensus rules for old blocks and hybrid
//! public keys (see [`crate::ledger::keys`]). The signature is not removed
//! from the script code (Core's `FindAndDelete`) because neither lock can
//! contain it: a lock's only push is a hash or a public key, and a
//! signature that equalled one could not parse as DER, so would fail
//! either way.

use super::encode::{write_var_bytes, write_varint};
use super::hash::{hash160, sha256d};
use super::keys::{PrivateKey, PublicKey};
use super::script::opcodes::OP_CHECKSIG;
use super::script::{Instruction, ScriptBuf};
use super::tx::Transaction;

/// Sign all inputs and outputs.
pub const SIGHASH_ALL: u32 = 1;
/// Sign all inputs and no outputs.
pub const SIGHASH_NONE: u32 = 2;
/// Sign all inputs and the output with the same index as the signed input.
pub const SIGHASH_SINGLE: u32 = 3;
/// Flag: sign only the signed input (combine with one of the above).
pub const SIGHASH_ANYONECANPAY: u32 = 0x80;

/// What [`legacy_sighash`] returns when there is nothing to sign
/// (`SIGHASH_SINGLE` without a matching output, or an input index out of
/// range): `uint256(1)`, internal byte order.
pub const SIGHASH_ONE: [u8; 32] = {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
};

/// Why a P2PKH spend was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The locking script is neither P2PKH nor P2PK (the templates forklab
    /// can spend).
    #[error("unsupported locking script (only P2PKH and P2PK can be spent)")]
    UnsupportedScript,
    /// The unlocking script is not `<sig> <pubkey>` (P2PKH) or `<sig>` (P2PK).
    #[error("malformed script_sig (expected <signature> <pubkey>, or <signature> for P2PK)")]
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
    tx: &Transaction,
    input_index: usize,
    script_code: &ScriptBuf,
    sighash_type: u32,
) -> [u8; 32] {
    let mode = sighash_type & 0x1f;
    let anyone_can_pay = sighash_type & SIGHASH_ANYONECANPAY != 0;
    let single = mode == SIGHASH_SINGLE;
    let none = mode == SIGHASH_NONE;
    if input_index >= tx.input.len() || (single && input_index >= tx.output.len()) {
        return SIGHASH_ONE;
    }
    let mut buf = Vec::with_capacity(tx.size() + script_code.len() + 4);
    buf.extend_from_slice(&tx.version.to_le_bytes());

    let signed_inputs: Vec<usize> = if anyone_can_pay {
        vec![input_index]
    } else {
        (0..tx.input.len()).collect()
    };
    write_varint(&mut buf, signed_inputs.len() as u64);
    for i in signed_inputs {
        let txin = &tx.input[i];
        buf.extend_from_slice(txin.previous_output.txid.as_bytes());
        buf.extend_from_slice(&txin.previous_output.vout.to_le_bytes());
        if i == input_index {
            script_code.serialize_script_code(&mut buf);
        } else {
            write_var_bytes(&mut buf, &[]);
        }
        // Other inputs' sequences are not signed under NONE/SINGLE, so their
        // owners may update them.
        let sequence = if i != input_index && (single || none) {
            0
        } else {
            txin.sequence
        };
        buf.extend_from_slice(&sequence.to_le_bytes());
    }

    let n_outputs = if none {
        0
    } else if single {
        input_index + 1
    } else {
        tx.output.len()
    };
    write_varint(&mut buf, n_outputs as u64);
    for (o, txout) in tx.output.iter().enumerate().take(n_outputs) {
        if single && o != input_index {
            // A "null" output: value -1, empty script (Core's `CTxOut()`).
            buf.extend_from_slice(&u64::MAX.to_le_bytes());
            write_var_bytes(&mut buf, &[]);
        } else {
            buf.extend_from_slice(&txout.value.to_sat().to_le_bytes());
            write_var_bytes(&mut buf, txout.script_pubkey.as_bytes());
        }
    }
    buf.extend_from_slice(&tx.lock_time.to_le_bytes());
    buf.extend_from_slice(&sighash_type.to_le_bytes());
    sha256d(&buf)
}

/// Signs input `input_index` (SIGHASH_ALL) as a P2PKH spend of
/// `prev_script_pubkey`, setting its `script_sig`.
pub fn sign_p2pkh_input(
    tx: &mut Transaction,
    input_index: usize,
    prev_script_pubkey: &ScriptBuf,
    key: &PrivateKey,
) -> Result<(), ScriptError> {
    if input_index >= tx.input.len() {
        return Err(ScriptError::InputIndexOutOfRange(input_index));
    }
    let locked = prev_script_pubkey
        .p2pkh_hash()
        .ok_or(ScriptError::UnsupportedScript)?;
    let pubkey = key.public_key();
    if pubkey.pubkey_hash() != locked {
        return Err(ScriptError::PubkeyHashMismatch);
    }
    let digest = legacy_sighash(tx, input_index, prev_script_pubkey, SIGHASH_ALL);
    let mut sig = key.sign_digest(&digest);
    sig.push(SIGHASH_ALL as u8);
    tx.input[input_index].script_sig = ScriptBuf::new_p2pkh_sig(&sig, &pubkey.to_bytes());
    Ok(())
}

/// Verifies input `input_index` spending `prev_script_pubkey` (P2PKH only).
pub fn verify_p2pkh_input(
    tx: &Transaction,
    input_index: usize,
    prev_script_pubkey: &ScriptBuf,
) -> Result<(), ScriptError> {
    let txin = tx
        .input
        .get(input_index)
        .ok_or(ScriptError::InputIndexOutOfRange(input_index))?;
    let locked = prev_script_pubkey
        .p2pkh_hash()
        .ok_or(ScriptError::UnsupportedScript)?;
    let (sig, pubkey_bytes) = txin
        .script_sig
        .parse_p2pkh_sig()
        .ok_or(ScriptError::MalformedScriptSig)?;
    // Script order: OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY runs before OP_CHECKSIG.
    if hash160(pubkey_bytes) != locked {
        return Err(ScriptError::PubkeyHashMismatch);
    }
    let pubkey = PublicKey::from_slice(pubkey_bytes).map_err(|_| ScriptError::InvalidPublicKey)?;
    check_signature(tx, input_index, prev_script_pubkey, sig, &pubkey)
}

/// Verifies input `input_index` spending `prev_script_pubkey`, whichever
/// template it is: P2PKH ([`verify_p2pkh_input`]) or P2PK
/// ([`verify_p2pk_input`]); any other lock is [`ScriptError::UnsupportedScript`].
pub fn verify_input(
    tx: &Transaction,
    input_index: usize,
    prev_script_pubkey: &ScriptBuf,
) -> Result<(), ScriptError> {
    if prev_script_pubkey.p2pkh_hash().is_some() {
        verify_p2pkh_input(tx, input_index, prev_script_pubkey)
    } else if p2pk_key(prev_script_pubkey).is_some() {
        verify_p2pk_input(tx, input_index, prev_script_pubkey)
    } else {
        Err(ScriptError::UnsupportedScript)
    }
}

/// The pushed key of a `<push> OP_CHECKSIG` lock, whatever the push opcode
/// and key bytes (an invalid key makes the lock unspendable, as in Core,
/// where `OP_CHECKSIG` then returns false).
fn p2pk_key(script: &ScriptBuf) -> Option<&[u8]> {
    let mut it = script.instructions();
    let key = match it.next()? {
        Ok(Instruction::Push(key)) => key,
        _ => return None,
    };
    match (it.next()?, it.next()) {
        (Ok(Instruction::Op(OP_CHECKSIG)), None) => Some(key),
        _ => None,
    }
}

/// Signs input `input_index` (SIGHASH_ALL) as a P2PK spend of
/// `prev_script_pubkey` (`<pubkey> OP_CHECKSIG`), setting its `script_sig`
/// to `<signature>`.
pub fn sign_p2pk_input(
    tx: &mut Transaction,
    input_index: usize,
    prev_script_pubkey: &ScriptBuf,
    key: &PrivateKey,
) -> Result<(), ScriptError> {
    if input_index >= tx.input.len() {
        return Err(ScriptError::InputIndexOutOfRange(input_index));
    }
    let locked = p2pk_key(prev_script_pubkey).ok_or(ScriptError::UnsupportedScript)?;
    let pubkey = PublicKey::from_slice(locked).map_err(|_| ScriptError::InvalidPublicKey)?;
    if pubkey.inner != key.public_key().inner {
        return Err(ScriptError::BadSignature);
    }
    let digest = legacy_sighash(tx, input_index, prev_script_pubkey, SIGHASH_ALL);
    let mut sig = key.sign_digest(&digest);
    sig.push(SIGHASH_ALL as u8);
    let mut script_sig = ScriptBuf::default();
    script_sig.push_slice(&sig);
    tx.input[input_index].script_sig = script_sig;
    Ok(())
}

/// Verifies input `input_index` spending a P2PK lock `<pubkey> OP_CHECKSIG`
/// with a `script_sig` of one push, `<signature‖sighash type>`. The key may
/// be compressed, uncompressed or hybrid (consensus accepts all three).
pub fn verify_p2pk_input(
    tx: &Transaction,
    input_index: usize,
    prev_script_pubkey: &ScriptBuf,
) -> Result<(), ScriptError> {
    let txin = tx
        .input
        .get(input_index)
        .ok_or(ScriptError::InputIndexOutOfRange(input_index))?;
    let key = p2pk_key(prev_script_pubkey).ok_or(ScriptError::UnsupportedScript)?;
    let mut it = txin.script_sig.instructions();
    let sig = match (it.next(), it.next()) {
        (Some(Ok(Instruction::Push(sig))), None) => sig,
        _ => return Err(ScriptError::MalformedScriptSig),
    };
    let pubkey = PublicKey::from_slice(key).map_err(|_| ScriptError::InvalidPublicKey)?;
    check_signature(tx, input_index, prev_script_pubkey, sig, &pubkey)
}

/// `OP_CHECKSIG` on a parsed key: lax DER, then the sighash of the type in
/// the signature's last byte.
fn check_signature(
    tx: &Transaction,
    input_index: usize,
    script_code: &ScriptBuf,
    sig: &[u8],
    pubkey: &PublicKey,
) -> Result<(), ScriptError> {
    let (&hash_type, der) = sig
        .split_last()
        .ok_or(ScriptError::InvalidSignatureEncoding)?;
    if super::keys::parse_der_lax(der).is_none() {
        return Err(ScriptError::InvalidSignatureEncoding);
    }
    let digest = legacy_sighash(tx, input_index, script_code, hash_type as u32);
    if pubkey.verify_digest(&digest, der) {
        Ok(())
    } else {
        Err(ScriptError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::address::Address;
    use crate::ledger::amount::Amount;
    use crate::ledger::encode::{Decodable, Encodable};
    use crate::ledger::hash::Txid;
    use crate::ledger::tx::{OutPoint, TxIn, TxOut};

    /// A real mainnet transaction whose inputs all spend P2PKH outputs, with
    /// the pubkey hashes those outputs locked to where the source lists them.
    struct RealTx {
        txid: &'static str,
        hex: &'static str,
        locked: &'static [&'static str],
    }

    // Source: Bitcoin Core `src/test/data/tx_valid.json` ("The following is
    // c99c49da…": a 0 sequence and a signature with sighash type 0).
    const C99C49: RealTx = RealTx {
        txid: "c99c49da4c38af669dea436d3e73780dfdb6c1ecf9958baa52960e8baee30e73",
        hex: "01000000010276b76b07f4935c70acf54fbf1f438a4c397a9fb7e633873c4dd3bc062b6b40000000008c493046022100d23459d03ed7e9511a47d13292d3430a04627de6235b6e51a40f9cd386f2abe3022100e7d25b080f0bb8d8d5f878bba7d54ad2fda650ea8d158a33ee3cbd11768191fd004104b0e2c879e4daf7b9ab68350228c159766676a14f5815084ba166432aab46198d4cca98fa3e9981d0a90b2effc514b76279476550ba3663fdcaff94c38420e9d5000000000100093d00000000001976a9149a7b0f3b80c6baaeedce0a0842553800f832ba1f88ac00000000",
        locked: &["dc44b1164188067c3a32d4780f5996fa14a4f2d9"],
    };

    // Source: Bitcoin Core `src/test/data/tx_valid.json` ("The following is
    // f7fdd091…"): two inputs, uncompressed key.
    const F7FDD0: RealTx = RealTx {
        txid: "f7fdd091fa6d8f5e7a8c2458f5c38faffff2d3f1406b6e4fe2c99dcc0d2d1cbb",
        hex: "01000000023d6cf972d4dff9c519eff407ea800361dd0a121de1da8b6f4138a2f25de864b4000000008a4730440220ffda47bfc776bcd269da4832626ac332adfca6dd835e8ecd83cd1ebe7d709b0e022049cffa1cdc102a0b56e0e04913606c70af702a1149dc3b305ab9439288fee090014104266abb36d66eb4218a6dd31f09bb92cf3cfa803c7ea72c1fc80a50f919273e613f895b855fb7465ccbc8919ad1bd4a306c783f22cd3227327694c4fa4c1c439affffffff21ebc9ba20594737864352e95b727f1a565756f9d365083eb1a8596ec98c97b7010000008a4730440220503ff10e9f1e0de731407a4a245531c9ff17676eda461f8ceeb8c06049fa2c810220c008ac34694510298fa60b3f000df01caa244f165b727d4896eb84f81e46bcc4014104266abb36d66eb4218a6dd31f09bb92cf3cfa803c7ea72c1fc80a50f919273e613f895b855fb7465ccbc8919ad1bd4a306c783f22cd3227327694c4fa4c1c439affffffff01f0da5200000000001976a914857ccd42dded6df32949d4646dfa10a92458cfaa88ac00000000",
        locked: &[
            "bef80ecf3a44500fda1bc92176e442891662aed2",
            "bef80ecf3a44500fda1bc92176e442891662aed2",
        ],
    };

    // Source: Bitcoin Core `src/test/data/tx_valid.json` ("afd9c17f… which
    // has several SIGHASH_SINGLE signatures"): compressed key, three inputs.
    const AFD9C1: RealTx = RealTx {
        txid: "afd9c17f8913577ec3509520bd6e5d63e9c0fd2a5f70c787993b097ba6ca9fae",
        hex: "010000000370ac0a1ae588aaf284c308d67ca92c69a39e2db81337e563bf40c59da0a5cf63000000006a4730440220360d20baff382059040ba9be98947fd678fb08aab2bb0c172efa996fd8ece9b702201b4fb0de67f015c90e7ac8a193aeab486a1f587e0f54d0fb9552ef7f5ce6caec032103579ca2e6d107522f012cd00b52b9a65fb46f0c57b9b8b6e377c48f526a44741affffffff7d815b6447e35fbea097e00e028fb7dfbad4f3f0987b4734676c84f3fcd0e804010000006b483045022100c714310be1e3a9ff1c5f7cacc65c2d8e781fc3a88ceb063c6153bf950650802102200b2d0979c76e12bb480da635f192cc8dc6f905380dd4ac1ff35a4f68f462fffd032103579ca2e6d107522f012cd00b52b9a65fb46f0c57b9b8b6e377c48f526a44741affffffff3f1f097333e4d46d51f5e77b53264db8f7f5d2e18217e1099957d0f5af7713ee010000006c493046022100b663499ef73273a3788dea342717c2640ac43c5a1cf862c9e09b206fcb3f6bb8022100b09972e75972d9148f2bdd462e5cb69b57c1214b88fc55ca638676c07cfc10d8032103579ca2e6d107522f012cd00b52b9a65fb46f0c57b9b8b6e377c48f526a44741affffffff0380841e00000000001976a914bfb282c70c4191f45b5a6665cad1682f2c9cfdfb88ac80841e00000000001976a9149857cc07bed33a5cf12b9c5e0500b675d500c81188ace0fd1c00000000001976a91443c52850606c872403c0601e69fa34b26f62db4a88ac00000000",
        locked: &[
            "dcf72c4fd02f5a987cf9b02f2fabfcac3341a87d",
            "dcf72c4fd02f5a987cf9b02f2fabfcac3341a87d",
            "dcf72c4fd02f5a987cf9b02f2fabfcac3341a87d",
        ],
    };

    // Source: block 150007, transaction 7 (as used in the shinigami Bitcoin
    // script engine's `test_transactions.cairo`); two inputs, uncompressed keys.
    const D823F0: RealTx = RealTx {
        txid: "d823f0d96563ec214a2342c8637a5775038ca05e56ca069631c96f400ca2f9f7",
        hex: "010000000291056d7ab3e99f9506f248783e0801c9039082d7d876dd45a8ab1f0a166226e2000000008c493046022100a3deff7d28eca94e018cfafcf4e705cc6bb56ce1dab83a6377e6e97d28d305d90221008cfc8d40bb8e336f5210a4197760f6b9650ae6ec4682cc1626841d9c87d1b0f20141049305a94c5b8e71d8be2a2d7188d74cb38affc9dc83ab77cc2fedf7c03a82a56175b9c335ce4546a943a2215a9c04757f08c2cc97f731a208ea767119050e0b97ffffffff465345e66a84047bf58a3787456d8023c38e04734c72d7f7039b9220ac503b6e000000008a47304402202ff5fe06ff3ee680e069cd28ff3ed9a60050ba52ed811a739a29b81e3667074602203c0d1b63d0c495ee1b63886e42c2db0c4cb041ce0c957ad7febe0fbcd23498ee014104cc2cb6eb11b7b504e1aa2826cf8ce7568bc757d7f58ab1eaa0b5e6945ccdcc5b111c0c1163a28037b89501e0b83e3fdceb22a2fd80533e5211acac060b17b2a4ffffffff0243190600000000001976a914a2baed4cdeda71053537312ee32cf0ab9f22cf1888acc0451b11000000001976a914f3e0b1ca6d94a95e1f3683ea6f3d2b563ad475e688ac00000000",
        locked: &[],
    };

    /// The P2PKH lock a script_sig's public key spends (what the previous
    /// output must have been, since P2PKH locks exactly to hash160(pubkey)).
    fn implied_lock(txin: &TxIn) -> ScriptBuf {
        let (_, pubkey) = txin.script_sig.parse_p2pkh_sig().expect("P2PKH script_sig");
        ScriptBuf::new_p2pkh(&hash160(pubkey))
    }

    #[test]
    fn real_mainnet_p2pkh_transactions_verify() {
        for real in [C99C49, F7FDD0, AFD9C1, D823F0] {
            let tx = Transaction::from_hex(real.hex).unwrap();
            assert_eq!(tx.compute_txid().to_string(), real.txid);
            assert_eq!(
                hex::encode(tx.encode()),
                real.hex,
                "re-encodes byte for byte"
            );
            for (i, txin) in tx.input.iter().enumerate() {
                let lock = implied_lock(txin);
                if let Some(h) = real.locked.get(i) {
                    assert_eq!(
                        hex::encode(lock.p2pkh_hash().unwrap()),
                        *h,
                        "{} input {i}",
                        real.txid
                    );
                }
                assert_eq!(
                    verify_p2pkh_input(&tx, i, &lock),
                    Ok(()),
                    "{} input {i}",
                    real.txid
                );
            }
            // Tampering with any output breaks every SIGHASH_ALL signature.
            let mut tampered = tx.clone();
            let v = tampered.output[0].value.to_sat();
            tampered.output[0].value = Amount::from_sat_unchecked(v + 1);
            let lock = implied_lock(&tx.input[0]);
            assert_eq!(
                verify_p2pkh_input(&tampered, 0, &lock),
                Err(ScriptError::BadSignature)
            );
        }
    }

    #[test]
    fn real_transactions_exercise_key_forms_and_hash_types() {
        let c99 = Transaction::from_hex(C99C49.hex).unwrap();
        let (sig, pk) = c99.input[0].script_sig.parse_p2pkh_sig().unwrap();
        assert_eq!(*sig.last().unwrap(), 0, "sighash type 0");
        assert_eq!(pk.len(), 65, "uncompressed key");
        let afd = Transaction::from_hex(AFD9C1.hex).unwrap();
        for txin in &afd.input {
            let (sig, pk) = txin.script_sig.parse_p2pkh_sig().unwrap();
            assert_eq!(*sig.last().unwrap() as u32, SIGHASH_SINGLE);
            assert_eq!(pk.len(), 33, "compressed key");
        }
        // SIGHASH_SINGLE signs only "its" output: another output may change.
        let mut changed = afd.clone();
        changed.output[2].value = Amount::from_sat_unchecked(1);
        let lock = implied_lock(&afd.input[0]);
        assert_eq!(verify_p2pkh_input(&changed, 0, &lock), Ok(()));
        assert_eq!(
            verify_p2pkh_input(&changed, 2, &lock),
            Err(ScriptError::BadSignature)
        );
    }

    #[test]
    fn sighash_single_bug_signs_one() {
        // Source: Bitcoin Core `src/test/data/tx_valid.json`, "The following
        // tests for the presence of a bug in the handling of SIGHASH_SINGLE":
        // input 1 signs with SIGHASH_SINGLE but there is only one output.
        let hex = "01000000020002000000000000000000000000000000000000000000000000000000000000000000000151ffffffff0001000000000000000000000000000000000000000000000000000000000000000000006b483045022100c9cdd08798a28af9d1baf44a6c77bcc7e279f47dc487c8c899911bc48feaffcc0220503c5c50ae3998a733263c5c0f7061b483e2b56c4c41b456e7d2f5a78a74c077032102d5c25adb51b61339d2b05315791e21bbe80ea470a49db0135720983c905aace0ffffffff010000000000000000015100000000";
        let tx = Transaction::from_hex(hex).unwrap();
        let lock = ScriptBuf::new_p2pkh(
            &hex::decode("e52b482f2faa8ecbf0db344f93c84ac908557f33")
                .unwrap()
                .try_into()
                .unwrap(),
        );
        assert_eq!(legacy_sighash(&tx, 1, &lock, SIGHASH_SINGLE), SIGHASH_ONE);
        assert_eq!(verify_p2pkh_input(&tx, 1, &lock), Ok(()));
        // Input 0 is locked by `OP_1`: not a script forklab spends.
        assert_eq!(
            verify_p2pkh_input(&tx, 0, &ScriptBuf(vec![0x51])),
            Err(ScriptError::UnsupportedScript)
        );
        assert_eq!(legacy_sighash(&tx, 5, &lock, SIGHASH_ALL), SIGHASH_ONE);
    }

    #[test]
    fn anyonecanpay_signs_only_its_input() {
        // Source: Bitcoin Core `src/test/data/tx_valid.json`, "Same as above,
        // but we change the sequence number of the first input to check that
        // SIGHASH_ANYONECANPAY is being followed". Both inputs are P2PK
        // (`<pubkey> OP_CHECKSIG`); input 1 signs with ALL|ANYONECANPAY.
        let hex = "01000000020001000000000000000000000000000000000000000000000000000000000000000000004948304502203a0f5f0e1f2bdbcd04db3061d18f3af70e07f4f467cbc1b8116f267025f5360b022100c792b6e215afc5afc721a351ec413e714305cb749aae3d7fee76621313418df101010000000002000000000000000000000000000000000000000000000000000000000000000000004847304402205f7530653eea9b38699e476320ab135b74771e1c48b81a5d041e2ca84b9be7a802200ac8d1f40fb026674fe5a5edd3dea715c27baa9baca51ed45ea750ac9dc0a55e81ffffffff010100000000000000015100000000";
        let tx = Transaction::from_hex(hex).unwrap();
        let pk_bytes =
            hex::decode("035e7f0d4d0841bcd56c39337ed086b1a633ee770c1ffdd94ac552a95ac2ce0efc")
                .unwrap();
        let mut lock = ScriptBuf::default();
        lock.push_slice(&pk_bytes);
        lock.push_opcode(super::super::script::opcodes::OP_CHECKSIG);
        let pk = PublicKey::from_slice(lock.is_p2pk().unwrap()).unwrap();
        for (i, txin) in tx.input.iter().enumerate() {
            let mut it = txin.script_sig.instructions();
            let Some(Ok(super::super::script::Instruction::Push(sig))) = it.next() else {
                panic!("one push");
            };
            let (&ht, der) = sig.split_last().unwrap();
            let digest = legacy_sighash(&tx, i, &lock, ht as u32);
            assert!(pk.verify_digest(&digest, der), "input {i}");
        }
        assert_eq!(
            verify_p2pkh_input(&tx, 0, &lock),
            Err(ScriptError::UnsupportedScript)
        );
        // As P2PK spends both inputs verify.
        assert_eq!(verify_input(&tx, 0, &lock), Ok(()));
        assert_eq!(verify_input(&tx, 1, &lock), Ok(()));
        assert_eq!(verify_p2pk_input(&tx, 1, &lock), Ok(()));
    }

    #[test]
    fn p2pk_sign_verify_and_errors() {
        for compressed in [true, false] {
            let key = PrivateKey::from_seed(21).with_compressed(compressed);
            let (mut tx, _) = spend_fixture(&key);
            let mut lock = ScriptBuf::default();
            lock.push_slice(&key.public_key().to_bytes());
            lock.push_opcode(OP_CHECKSIG);
            sign_p2pk_input(&mut tx, 0, &lock, &key).unwrap();
            assert_eq!(verify_input(&tx, 0, &lock), Ok(()));
            assert_eq!(tx.input[0].script_sig.instructions().count(), 1);
            // Another key's lock, the same signature: fails.
            let other = PrivateKey::from_seed(22).with_compressed(compressed);
            let mut other_lock = ScriptBuf::default();
            other_lock.push_slice(&other.public_key().to_bytes());
            other_lock.push_opcode(OP_CHECKSIG);
            assert_eq!(
                verify_input(&tx, 0, &other_lock),
                Err(ScriptError::BadSignature)
            );
            assert_eq!(
                sign_p2pk_input(&mut tx, 0, &other_lock, &key),
                Err(ScriptError::BadSignature)
            );
            let mut t = tx.clone();
            t.lock_time = 9;
            assert_eq!(verify_input(&t, 0, &lock), Err(ScriptError::BadSignature));
            // Two pushes are not a P2PK unlock.
            let mut t = tx.clone();
            t.input[0].script_sig.push_slice(&[1]);
            assert_eq!(
                verify_input(&t, 0, &lock),
                Err(ScriptError::MalformedScriptSig)
            );
            // A lock whose "key" is not a point can never be spent.
            let mut bad = ScriptBuf::default();
            let mut not_a_point = [0xff; 33];
            not_a_point[0] = 0x02; // x above the field prime
            bad.push_slice(&not_a_point);
            bad.push_opcode(OP_CHECKSIG);
            assert_eq!(
                verify_input(&tx, 0, &bad),
                Err(ScriptError::InvalidPublicKey)
            );
        }
        let key = PrivateKey::from_seed(21);
        let (tx, _) = spend_fixture(&key);
        assert_eq!(
            verify_input(&tx, 0, &ScriptBuf(vec![0x51])),
            Err(ScriptError::UnsupportedScript)
        );
    }

    fn spend_fixture(key: &PrivateKey) -> (Transaction, ScriptBuf) {
        let lock = Address::p2pkh(&key.public_key()).script_pubkey();
        let tx = Transaction {
            version: 1,
            input: vec![
                TxIn {
                    previous_output: OutPoint {
                        txid: Txid::hash(b"a"),
                        vout: 0,
                    },
                    script_sig: ScriptBuf::default(),
                    sequence: u32::MAX,
                },
                TxIn {
                    previous_output: OutPoint {
                        txid: Txid::hash(b"b"),
                        vout: 3,
                    },
                    script_sig: ScriptBuf::default(),
                    sequence: u32::MAX,
                },
            ],
            output: vec![TxOut {
                value: Amount::from_sat(5_000).unwrap(),
                script_pubkey: ScriptBuf::new_p2pkh(&[9; 20]),
            }],
            lock_time: 0,
        };
        (tx, lock)
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        for compressed in [true, false] {
            let key = PrivateKey::from_seed(11).with_compressed(compressed);
            let (mut tx, lock) = spend_fixture(&key);
            sign_p2pkh_input(&mut tx, 0, &lock, &key).unwrap();
            sign_p2pkh_input(&mut tx, 1, &lock, &key).unwrap();
            // Signing input 1 after input 0 does not invalidate input 0:
            // script_sigs are blanked in the sighash.
            assert_eq!(verify_p2pkh_input(&tx, 0, &lock), Ok(()));
            assert_eq!(verify_p2pkh_input(&tx, 1, &lock), Ok(()));

            let mut t = tx.clone();
            t.lock_time = 1;
            assert_eq!(
                verify_p2pkh_input(&t, 0, &lock),
                Err(ScriptError::BadSignature)
            );
            let mut t = tx.clone();
            t.input[1].sequence = 0;
            assert_eq!(
                verify_p2pkh_input(&t, 0, &lock),
                Err(ScriptError::BadSignature)
            );

            // Same signature moved to another input: the sighash differs.
            let mut t = tx.clone();
            t.input[1].script_sig = t.input[0].script_sig.clone();
            assert_eq!(
                verify_p2pkh_input(&t, 1, &lock),
                Err(ScriptError::BadSignature)
            );

            // Flip the sighash type byte to NONE: it is committed to.
            let mut t = tx.clone();
            let (sig, pk) = t.input[0].script_sig.parse_p2pkh_sig().unwrap();
            let mut sig = sig.to_vec();
            *sig.last_mut().unwrap() = SIGHASH_NONE as u8;
            t.input[0].script_sig = ScriptBuf::new_p2pkh_sig(&sig, pk);
            assert_eq!(
                verify_p2pkh_input(&t, 0, &lock),
                Err(ScriptError::BadSignature)
            );
        }
    }

    #[test]
    fn spend_errors() {
        let key = PrivateKey::from_seed(11);
        let thief = PrivateKey::from_seed(12);
        let (mut tx, lock) = spend_fixture(&key);
        assert_eq!(
            sign_p2pkh_input(&mut tx, 0, &lock, &thief),
            Err(ScriptError::PubkeyHashMismatch)
        );
        assert_eq!(
            sign_p2pkh_input(&mut tx, 0, &lock, &key.clone().with_compressed(false)),
            Err(ScriptError::PubkeyHashMismatch),
            "the other key form has another address"
        );
        assert_eq!(
            sign_p2pkh_input(&mut tx, 2, &lock, &key),
            Err(ScriptError::InputIndexOutOfRange(2))
        );
        assert_eq!(
            sign_p2pkh_input(&mut tx, 0, &ScriptBuf(vec![0x6a]), &key),
            Err(ScriptError::UnsupportedScript)
        );
        assert_eq!(
            verify_p2pkh_input(&tx, 0, &lock),
            Err(ScriptError::MalformedScriptSig)
        );
        assert_eq!(
            verify_p2pkh_input(&tx, 9, &lock),
            Err(ScriptError::InputIndexOutOfRange(9))
        );

        // The thief signs with their own key: the hash check catches it first.
        let thief_lock = Address::p2pkh(&thief.public_key()).script_pubkey();
        sign_p2pkh_input(&mut tx, 0, &thief_lock, &thief).unwrap();
        assert_eq!(
            verify_p2pkh_input(&tx, 0, &lock),
            Err(ScriptError::PubkeyHashMismatch)
        );

        // Right key, garbage signature bytes.
        let pk = key.public_key().to_bytes();
        tx.input[0].script_sig = ScriptBuf::new_p2pkh_sig(&[0x30, 0x01, 0x01], &pk);
        assert_eq!(
            verify_p2pkh_input(&tx, 0, &lock),
            Err(ScriptError::InvalidSignatureEncoding)
        );
        tx.input[0].script_sig = ScriptBuf::new_p2pkh_sig(&[], &pk);
        assert_eq!(
            verify_p2pkh_input(&tx, 0, &lock),
            Err(ScriptError::InvalidSignatureEncoding)
        );
    }

    #[test]
    fn sighash_modes_commit_to_what_they_should() {
        let key = PrivateKey::from_seed(3);
        let (tx, lock) = spend_fixture(&key);
        let base = |t: &Transaction, ty: u32| legacy_sighash(t, 0, &lock, ty);
        let mut other_out = tx.clone();
        other_out.output[0].value = Amount::from_sat(1).unwrap();
        let mut other_in_seq = tx.clone();
        other_in_seq.input[1].sequence = 7;
        let mut other_in_prevout = tx.clone();
        other_in_prevout.input[1].previous_output.vout = 9;

        assert_ne!(base(&tx, SIGHASH_ALL), base(&other_out, SIGHASH_ALL));
        assert_eq!(base(&tx, SIGHASH_NONE), base(&other_out, SIGHASH_NONE));
        assert_eq!(base(&tx, SIGHASH_NONE), base(&other_in_seq, SIGHASH_NONE));
        assert_ne!(
            base(&tx, SIGHASH_NONE),
            base(&other_in_prevout, SIGHASH_NONE)
        );
        let acp = SIGHASH_ALL | SIGHASH_ANYONECANPAY;
        assert_eq!(base(&tx, acp), base(&other_in_prevout, acp));
        assert_ne!(base(&tx, acp), base(&other_out, acp));
        // The full type is hashed: 0x41 selects ALL but hashes differently.
        assert_ne!(base(&tx, SIGHASH_ALL), base(&tx, 0x41));
        // OP_CODESEPARATOR is removed from the script code.
        let mut with_sep = ScriptBuf(vec![0xab]);
        with_sep.0.extend_from_slice(lock.as_bytes());
        assert_eq!(
            legacy_sighash(&tx, 0, &with_sep, SIGHASH_ALL),
            base(&tx, SIGHASH_ALL)
        );
    }
}
