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
