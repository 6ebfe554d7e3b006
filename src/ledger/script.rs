//! Scripts as raw bytes, and the one script template the ledger can spend:
//! pay-to-public-key-hash (P2PKH).
//!
//! TODO(helper): P2PKH builders/matchers, Bitcoin asm formatting.

/// A script held as raw bytes; any script decodes and displays.
#[derive(
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ScriptBuf(pub Vec<u8>);

impl ScriptBuf {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the script is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ScriptBuf {
    /// `OP_DUP OP_HASH160 <pubkey_hash> OP_EQUALVERIFY OP_CHECKSIG`.
    pub fn new_p2pkh(_pubkey_hash: &[u8; 20]) -> ScriptBuf {
        todo!()
    }

    /// The 20-byte hash if this is exactly a P2PKH locking script.
    pub fn p2pkh_hash(&self) -> Option<[u8; 20]> {
        todo!()
    }

    /// `<sig_with_hashtype> <pubkey>`: a P2PKH unlocking script.
    pub fn new_p2pkh_sig(_sig_with_hashtype: &[u8], _pubkey: &[u8]) -> ScriptBuf {
        todo!()
    }

    /// `(signature with hashtype byte, public key)` if this script is exactly two pushes.
    pub fn parse_p2pkh_sig(&self) -> Option<(&[u8], &[u8])> {
        todo!()
    }

    /// Bitcoin Core-style asm, e.g. `OP_DUP OP_HASH160 62e9… OP_EQUALVERIFY OP_CHECKSIG`.
    pub fn to_asm(&self) -> String {
        todo!()
    }
}
