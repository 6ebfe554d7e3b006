//! Scripts as raw bytes, and the one script template the ledger can spend:
//! pay-to-public-key-hash (P2PKH).
//!
//! A [`ScriptBuf`] holds any script, valid or not, exactly as it appeared on
//! the wire: decoding a transaction never fails because of its scripts. The
//! ledger only *interprets* two shapes:
//! - the P2PKH lock `OP_DUP OP_HASH160 <20-byte hash> OP_EQUALVERIFY OP_CHECKSIG`
//!   ([`ScriptBuf::new_p2pkh`], [`ScriptBuf::p2pkh_hash`], an exact 25-byte
//!   template match like Bitcoin Core's `Solver`);
//! - the P2PKH unlock `<signature‖sighash type> <public key>`
//!   ([`ScriptBuf::new_p2pkh_sig`], [`ScriptBuf::parse_p2pkh_sig`]).
//!
//! For display, [`ScriptBuf::to_asm`] renders any script the way Bitcoin
//! Core's `ScriptToAsmStr` does (opcode names, data pushes as hex, `[error]`
//! where a push runs past the end), with one teaching-friendly difference:
//! every data push is shown as hex (Core shows pushes of up to 4 bytes as
//! decimal numbers) and small-number opcodes keep their names (`OP_0`,
//! `OP_1NEGATE`, `OP_1`..`OP_16`; Core prints `0`, `-1`, `1`..`16`).

use std::fmt;

use super::encode::write_varint;

/// Opcode byte values used by the ledger (names as in Bitcoin Core's `script.h`).
pub mod opcodes {
    /// Push an empty byte string (also "false").
    pub const OP_0: u8 = 0x00;
    /// Push the next `n` bytes, `n` given by the following byte.
    pub const OP_PUSHDATA1: u8 = 0x4c;
    /// Push the next `n` bytes, `n` given by the following 2 bytes (LE).
    pub const OP_PUSHDATA2: u8 = 0x4d;
    /// Push the next `n` bytes, `n` given by the following 4 bytes (LE).
    pub const OP_PUSHDATA4: u8 = 0x4e;
    /// Push the number -1.
    pub const OP_1NEGATE: u8 = 0x4f;
    /// Push the number 1 (`OP_1`..`OP_16` are `0x51`..`0x60`).
    pub const OP_1: u8 = 0x51;
    /// Push the number 16.
    pub const OP_16: u8 = 0x60;
    /// Mark the output unspendable (data carrier).
    pub const OP_RETURN: u8 = 0x6a;
    /// Duplicate the top stack item.
    pub const OP_DUP: u8 = 0x76;
    /// Fail unless the top two items are equal.
    pub const OP_EQUALVERIFY: u8 = 0x88;
    /// Replace the top item by its hash160.
    pub const OP_HASH160: u8 = 0xa9;
    /// Only signature checks after it commit to the script (removed from the script code).
    pub const OP_CODESEPARATOR: u8 = 0xab;
    /// Check a signature against a public key.
    pub const OP_CHECKSIG: u8 = 0xac;
}

use opcodes::*;

/// The longest script an output may carry and still be spent (Bitcoin
/// Core's `MAX_SCRIPT_SIZE`).
pub const MAX_SCRIPT_SIZE: usize = 10_000;

/// Bitcoin Core's name of a non-push opcode (`GetOpName`), except that
/// small numbers keep their `OP_` names (see the module docs).
pub fn opcode_name(op: u8) -> &'static str {
    const NAMES_4F_TO_B9: [&str; 0xb9 - 0x4f + 1] = [
        "OP_1NEGATE",
        "OP_RESERVED",
        "OP_1",
        "OP_2",
        "OP_3",
        "OP_4",
        "OP_5",
        "OP_6",
        "OP_7",
        "OP_8",
        "OP_9",
        "OP_10",
        "OP_11",
        "OP_12",
        "OP_13",
        "OP_14",
        "OP_15",
        "OP_16",
        "OP_NOP",
        "OP_VER",
        "OP_IF",
        "OP_NOTIF",
        "OP_VERIF",
        "OP_VERNOTIF",
        "OP_ELSE",
        "OP_ENDIF",
        "OP_VERIFY",
        "OP_RETURN",
        "OP_TOALTSTACK",
        "OP_FROMALTSTACK",
        "OP_2DROP",
        "OP_2DUP",
        "OP_3DUP",
        "OP_2OVER",
        "OP_2ROT",
        "OP_2SWAP",
        "OP_IFDUP",
        "OP_DEPTH",
        "OP_DROP",
        "OP_DUP",
        "OP_NIP",
        "OP_OVER",
        "OP_PICK",
        "OP_ROLL",
        "OP_ROT",
        "OP_SWAP",
        "OP_TUCK",
        "OP_CAT",
        "OP_SUBSTR",
        "OP_LEFT",
        "OP_RIGHT",
        "OP_SIZE",
        "OP_INVERT",
        "OP_AND",
        "OP_OR",
        "OP_XOR",
        "OP_EQUAL",
        "OP_EQUALVERIFY",
        "OP_RESERVED1",
        "OP_RESERVED2",
        "OP_1ADD",
        "OP_1SUB",
        "OP_2MUL",
        "OP_2DIV",
        "OP_NEGATE",
        "OP_ABS",
        "OP_NOT",
        "OP_0NOTEQUAL",
        "OP_ADD",
        "OP_SUB",
        "OP_MUL",
        "OP_DIV",
        "OP_MOD",
        "OP_LSHIFT",
        "OP_RSHIFT",
        "OP_BOOLAND",
        "OP_BOOLOR",
        "OP_NUMEQUAL",
        "OP_NUMEQUALVERIFY",
        "OP_NUMNOTEQUAL",
        "OP_LESSTHAN",
        "OP_GREATERTHAN",
        "OP_LESSTHANOREQUAL",
        "OP_GREATERTHANOREQUAL",
        "OP_MIN",
        "OP_MAX",
        "OP_WITHIN",
        "OP_RIPEMD160",
        "OP_SHA1",
        "OP_SHA256",
        "OP_HASH160",
        "OP_HASH256",
        "OP_CODESEPARATOR",
        "OP_CHECKSIG",
        "OP_CHECKSIGVERIFY",
        "OP_CHECKMULTISIG",
        "OP_CHECKMULTISIGVERIFY",
        "OP_NOP1",
        "OP_CHECKLOCKTIMEVERIFY",
        "OP_CHECKSEQUENCEVERIFY",
        "OP_NOP4",
        "OP_NOP5",
        "OP_NOP6",
        "OP_NOP7",
        "OP_NOP8",
        "OP_NOP9",
        "OP_NOP10",
    ];
    match op {
        OP_0 => "OP_0",
        OP_PUSHDATA1 => "OP_PUSHDATA1",
        OP_PUSHDATA2 => "OP_PUSHDATA2",
        OP_PUSHDATA4 => "OP_PUSHDATA4",
        0x4f..=0xb9 => NAMES_4F_TO_B9[(op - 0x4f) as usize],
        0xba => "OP_CHECKSIGADD",
        0xff => "OP_INVALIDOPCODE",
        _ => "OP_UNKNOWN",
    }
}

/// Error reading a script instruction by instruction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptParseError {
    /// A push opcode announces more bytes than the script has left.
    #[error("push at byte {at} runs past the end of the script")]
    TruncatedPush {
        /// Offset of the push opcode.
        at: usize,
    },
}

/// One step of a script: pushed data or another opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instruction<'a> {
    /// Data pushed by `OP_0`, a direct push (`0x01..=0x4b`) or `OP_PUSHDATA1/2/4`.
    Push(&'a [u8]),
    /// Any other opcode (including `OP_1NEGATE` and `OP_1`..`OP_16`).
    Op(u8),
}

/// Iterator over a script's instructions; yields one error and then stops
/// if a push is truncated (Bitcoin Core's `GetOp` returning false).
#[derive(Debug, Clone)]
pub struct Instructions<'a> {
    bytes: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Instructions<'a> {
    /// Byte offset of the next instruction.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Instructions<'a> {
    type Item = Result<Instruction<'a>, ScriptParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let at = self.pos;
        let op = self.bytes[at];
        let rest = &self.bytes[at + 1..];
        // (bytes holding the length, the length if those bytes are present)
        let (len_bytes, len): (usize, Option<usize>) = match op {
            0x00..=0x4b => (0, Some(op as usize)),
            OP_PUSHDATA1 => (1, rest.first().map(|b| *b as usize)),
            OP_PUSHDATA2 => (
                2,
                rest.get(..2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize),
            ),
            OP_PUSHDATA4 => (
                4,
                rest.get(..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
            ),
            _ => {
                self.pos += 1;
                return Some(Ok(Instruction::Op(op)));
            }
        };
        let data = len.and_then(|len| rest.get(len_bytes..len_bytes.checked_add(len)?));
        match data {
            Some(data) => {
                self.pos = at + 1 + len_bytes + data.len();
                Some(Ok(Instruction::Push(data)))
            }
            None => {
                self.failed = true;
                Some(Err(ScriptParseError::TruncatedPush { at }))
            }
        }
    }
}

/// Where Core's `GetScriptOp` leaves its cursor when the push at `at` is
/// truncated: past the opcode, and past the length bytes when they are all
/// present (it returns before advancing over missing ones).
fn get_op_stop(bytes: &[u8], at: usize) -> usize {
    let left = bytes.len() - (at + 1);
    match bytes[at] {
        OP_PUSHDATA1 if left >= 1 => at + 2,
        OP_PUSHDATA2 if left >= 2 => at + 3,
        OP_PUSHDATA4 if left >= 4 => at + 5,
        _ => at + 1,
    }
}

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

    /// Whether no input can ever spend an output locked by this script:
    /// it starts with `OP_RETURN` or is longer than [`MAX_SCRIPT_SIZE`]
    /// (Bitcoin Core's `CScript::IsUnspendable`). Such outputs never enter
    /// the UTXO set.
    pub fn is_unspendable(&self) -> bool {
        self.0.first() == Some(&OP_RETURN) || self.0.len() > MAX_SCRIPT_SIZE
    }

    /// Appends a data push using the shortest push opcode for its length
    /// (`OP_0` for empty data, a direct push up to 75 bytes, then
    /// `OP_PUSHDATA1/2/4`). Data is always pushed as data, never rewritten
    /// to `OP_1`..`OP_16`, so it reads back as [`Instruction::Push`].
    pub fn push_slice(&mut self, data: &[u8]) {
        let n = data.len();
        match n {
            0 => self.0.push(OP_0),
            1..=0x4b => self.0.push(n as u8),
            0x4c..=0xff => {
                self.0.push(OP_PUSHDATA1);
                self.0.push(n as u8);
            }
            0x100..=0xffff => {
                self.0.push(OP_PUSHDATA2);
                self.0.extend_from_slice(&(n as u16).to_le_bytes());
            }
            _ => {
                self.0.push(OP_PUSHDATA4);
                let n = u32::try_from(n).expect("a script push is smaller than 4 GiB");
                self.0.extend_from_slice(&n.to_le_bytes());
            }
        }
        self.0.extend_from_slice(data);
    }

    /// Appends one opcode byte.
    pub fn push_opcode(&mut self, op: u8) {
        self.0.push(op);
    }

    /// The script's instructions, in order.
    pub fn instructions(&self) -> Instructions<'_> {
        Instructions {
            bytes: &self.0,
            pos: 0,
            failed: false,
        }
    }

    /// `OP_DUP OP_HASH160 <pubkey_hash> OP_EQUALVERIFY OP_CHECKSIG`.
    pub fn new_p2pkh(pubkey_hash: &[u8; 20]) -> ScriptBuf {
        let mut s = Vec::with_capacity(25);
        s.extend_from_slice(&[OP_DUP, OP_HASH160, 20]);
        s.extend_from_slice(pubkey_hash);
        s.extend_from_slice(&[OP_EQUALVERIFY, OP_CHECKSIG]);
        ScriptBuf(s)
    }

    /// The 20-byte hash if this is exactly a P2PKH locking script.
    pub fn p2pkh_hash(&self) -> Option<[u8; 20]> {
        match self.0.as_slice() {
            [OP_DUP, OP_HASH160, 20, hash @ .., OP_EQUALVERIFY, OP_CHECKSIG]
                if hash.len() == 20 =>
            {
                let mut out = [0u8; 20];
                out.copy_from_slice(hash);
                Some(out)
            }
            _ => None,
        }
    }

    /// The public key if this is a pay-to-public-key lock
    /// `<33- or 65-byte pubkey> OP_CHECKSIG` (as in the genesis coinbase),
    /// the key size matching its SEC1 prefix like Core's `CPubKey::ValidSize`.
    pub fn is_p2pk(&self) -> Option<&[u8]> {
        match self.0.as_slice() {
            [33, key @ .., OP_CHECKSIG] if key.len() == 33 && matches!(key[0], 0x02 | 0x03) => {
                Some(key)
            }
            [65, key @ .., OP_CHECKSIG]
                if key.len() == 65 && matches!(key[0], 0x04 | 0x06 | 0x07) =>
            {
                Some(key)
            }
            _ => None,
        }
    }

    /// `<sig_with_hashtype> <pubkey>`: a P2PKH unlocking script.
    pub fn new_p2pkh_sig(sig_with_hashtype: &[u8], pubkey: &[u8]) -> ScriptBuf {
        let mut s = ScriptBuf(Vec::with_capacity(
            sig_with_hashtype.len() + pubkey.len() + 2,
        ));
        s.push_slice(sig_with_hashtype);
        s.push_slice(pubkey);
        s
    }

    /// `(signature with hashtype byte, public key)` if this script is exactly two pushes.
    pub fn parse_p2pkh_sig(&self) -> Option<(&[u8], &[u8])> {
        let mut it = self.instructions();
        let sig = match it.next()? {
            Ok(Instruction::Push(d)) => d,
            _ => return None,
        };
        let pubkey = match it.next()? {
            Ok(Instruction::Push(d)) => d,
            _ => return None,
        };
        match it.next() {
            None => Some((sig, pubkey)),
            Some(_) => None,
        }
    }

    /// The script code the legacy sighash commits to, as Bitcoin Core's
    /// `SerializeScriptCode` (`src/script/interpreter.cpp`) writes it: the
    /// bytes without `OP_CODESEPARATOR` opcodes (bytes `0xab` inside pushed
    /// data stay). Core reads opcodes with `GetOp` until it fails, so for a
    /// script with a truncated push the copy stops where `GetOp` stopped:
    /// after the push opcode and whatever length bytes it could read; the
    /// data bytes that are present are dropped. See
    /// [`ScriptBuf::serialize_script_code`] for the length Core declares.
    pub fn without_codeseparators(&self) -> ScriptBuf {
        ScriptBuf(self.script_code().0)
    }

    /// Appends the script code exactly as Core's `SerializeScriptCode` does:
    /// a CompactSize length, then [`ScriptBuf::without_codeseparators`].
    /// The length is the script's size minus the separators `GetOp` found,
    /// so after a truncated push it counts bytes that are not written (a
    /// quirk the sighash keeps, like every other).
    pub fn serialize_script_code(&self, out: &mut Vec<u8>) {
        let (bytes, separators) = self.script_code();
        write_varint(out, (self.0.len() - separators) as u64);
        out.extend_from_slice(&bytes);
    }

    /// (bytes Core writes, number of `OP_CODESEPARATOR`s counted).
    fn script_code(&self) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(self.0.len());
        let mut it = self.instructions();
        let mut copied_to = 0;
        let mut separators = 0;
        let end = loop {
            let at = it.position();
            match it.next() {
                Some(Ok(Instruction::Op(OP_CODESEPARATOR))) => {
                    out.extend_from_slice(&self.0[copied_to..at]);
                    copied_to = at + 1;
                    separators += 1;
                }
                Some(Ok(_)) => {}
                Some(Err(ScriptParseError::TruncatedPush { at })) => {
                    break get_op_stop(&self.0, at);
                }
                None => break self.0.len(),
            }
        };
        out.extend_from_slice(&self.0[copied_to..end]);
        (out, separators)
    }

    /// Bitcoin Core-style asm, e.g. `OP_DUP OP_HASH160 62e9… OP_EQUALVERIFY OP_CHECKSIG`.
    pub fn to_asm(&self) -> String {
        let mut out = String::new();
        for ins in self.instructions() {
            if !out.is_empty() {
                out.push(' ');
            }
            match ins {
                Ok(Instruction::Push([])) => out.push_str("OP_0"),
                Ok(Instruction::Push(data)) => out.push_str(&hex::encode(data)),
                Ok(Instruction::Op(op)) => out.push_str(opcode_name(op)),
                Err(_) => out.push_str("[error]"),
            }
        }
        out
    }
}

impl fmt::Display for ScriptBuf {
    /// The asm form ([`ScriptBuf::to_asm`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_asm())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HASH: [u8; 20] = [0x62; 20];

    #[test]
    fn p2pkh_template() {
        let s = ScriptBuf::new_p2pkh(&HASH);
        assert_eq!(s.len(), 25);
        assert_eq!(s.p2pkh_hash(), Some(HASH));
        assert_eq!(
            s.to_asm(),
            format!(
                "OP_DUP OP_HASH160 {} OP_EQUALVERIFY OP_CHECKSIG",
                "62".repeat(20)
            )
        );
        // Same opcodes, but the hash pushed with OP_PUSHDATA1: not the template.
        let mut alt = vec![OP_DUP, OP_HASH160, OP_PUSHDATA1, 20];
        alt.extend_from_slice(&HASH);
        alt.extend_from_slice(&[OP_EQUALVERIFY, OP_CHECKSIG]);
        assert_eq!(ScriptBuf(alt).p2pkh_hash(), None);
        let mut extra = s.clone();
        extra.push_opcode(0x61);
        assert_eq!(extra.p2pkh_hash(), None);
        assert_eq!(ScriptBuf::default().p2pkh_hash(), None);
    }

    #[test]
    fn p2pkh_sig_round_trip_and_pushdata_forms() {
        let sig = [0x30u8; 72];
        let pk = [0x02u8; 33];
        let s = ScriptBuf::new_p2pkh_sig(&sig, &pk);
        assert_eq!(s.0[0], 72);
        assert_eq!(s.0[73], 33);
        assert_eq!(s.parse_p2pkh_sig(), Some((&sig[..], &pk[..])));

        // OP_PUSHDATA1 and OP_PUSHDATA2 forms are still two data pushes.
        let mut p = vec![OP_PUSHDATA1, 3, 1, 2, 3, OP_PUSHDATA2, 2, 0, 9, 9];
        assert_eq!(
            ScriptBuf(p.clone()).parse_p2pkh_sig(),
            Some((&[1u8, 2, 3][..], &[9u8, 9][..]))
        );
        p.extend_from_slice(&[OP_PUSHDATA4, 1, 0, 0, 0, 7]);
        assert_eq!(ScriptBuf(p).parse_p2pkh_sig(), None, "three pushes");
        assert_eq!(ScriptBuf(vec![1, 5]).parse_p2pkh_sig(), None, "one push");
        assert_eq!(
            ScriptBuf(vec![1, 5, OP_1]).parse_p2pkh_sig(),
            None,
            "an opcode"
        );
        assert_eq!(
            ScriptBuf(vec![1, 5, 2, 1]).parse_p2pkh_sig(),
            None,
            "truncated"
        );
    }

    #[test]
    fn asm_like_core() {
        let s = ScriptBuf(vec![
            OP_RETURN, OP_0, OP_1, OP_16, OP_1NEGATE, 0xb1, 0xba, 0xfe, 0xff, 2, 0xab, 0xcd,
        ]);
        assert_eq!(
            s.to_asm(),
            "OP_RETURN OP_0 OP_1 OP_16 OP_1NEGATE OP_CHECKLOCKTIMEVERIFY OP_CHECKSIGADD \
             OP_UNKNOWN OP_INVALIDOPCODE abcd"
        );
        // Core stops at a truncated push and appends "[error]".
        assert_eq!(ScriptBuf(vec![OP_DUP, 5, 1, 2]).to_asm(), "OP_DUP [error]");
        assert_eq!(ScriptBuf(vec![OP_PUSHDATA2, 1]).to_asm(), "[error]");
        assert_eq!(ScriptBuf::default().to_asm(), "");
        // Every byte value has a name or is a push.
        for op in 0x4fu8..=0xff {
            assert!(opcode_name(op).starts_with("OP_"), "{op:#x}");
        }
        assert_eq!(opcode_name(0xa9), "OP_HASH160");
        assert_eq!(opcode_name(0xb9), "OP_NOP10");
    }

    #[test]
    fn p2pk_detection() {
        let mut s = ScriptBuf::default();
        s.push_slice(&[0x04; 65]);
        s.push_opcode(OP_CHECKSIG);
        assert_eq!(s.is_p2pk(), Some(&[0x04u8; 65][..]));
        let mut c = ScriptBuf::default();
        c.push_slice(&[0x03; 33]);
        c.push_opcode(OP_CHECKSIG);
        assert!(c.is_p2pk().is_some());
        let mut bad = ScriptBuf::default();
        bad.push_slice(&[0x04; 33]);
        bad.push_opcode(OP_CHECKSIG);
        assert_eq!(bad.is_p2pk(), None);
        assert_eq!(ScriptBuf::new_p2pkh(&HASH).is_p2pk(), None);
    }

    #[test]
    fn codeseparators_removed_only_as_opcodes() {
        let s = ScriptBuf(vec![
            OP_CODESEPARATOR,
            OP_DUP,
            1,
            OP_CODESEPARATOR,
            OP_CODESEPARATOR,
        ]);
        assert_eq!(
            s.without_codeseparators(),
            ScriptBuf(vec![OP_DUP, 1, OP_CODESEPARATOR])
        );
        // A truncated push: Core's `GetOp` stops after the push opcode
        // (and its length bytes), and `SerializeScriptCode` copies only up
        // to there, while its length prefix still counts the whole script
        // minus the separators found.
        let t = ScriptBuf(vec![OP_CODESEPARATOR, 3, OP_CODESEPARATOR]);
        assert_eq!(t.without_codeseparators(), ScriptBuf(vec![3]));
        let mut ser = Vec::new();
        t.serialize_script_code(&mut ser);
        assert_eq!(ser, vec![2, 3], "declares 2 bytes, writes 1");
        let p = ScriptBuf(vec![OP_DUP, OP_PUSHDATA1, 5, 1, 2]);
        assert_eq!(
            p.without_codeseparators(),
            ScriptBuf(vec![OP_DUP, OP_PUSHDATA1, 5])
        );
        let q = ScriptBuf(vec![OP_DUP, OP_PUSHDATA2, 5]);
        assert_eq!(
            q.without_codeseparators(),
            ScriptBuf(vec![OP_DUP, OP_PUSHDATA2])
        );
        let mut ser = Vec::new();
        q.serialize_script_code(&mut ser);
        assert_eq!(ser, vec![3, OP_DUP, OP_PUSHDATA2]);
    }

    #[test]
    fn genesis_coinbase_output_is_pay_to_pubkey() {
        use crate::ledger::encode::Decodable;
        use crate::ledger::tx::Transaction;
        // Source: Bitcoin Core `src/kernel/chainparams.cpp` (CreateGenesisBlock)
        // / rust-bitcoin `blockdata/constants.rs`: the genesis coinbase.
        let hex = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";
        let tx = Transaction::from_hex(hex).unwrap();
        assert_eq!(
            tx.compute_txid().to_string(),
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
        );
        assert!(tx.is_coinbase());
        let pubkey = "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f";
        let spk = &tx.output[0].script_pubkey;
        assert_eq!(spk.to_asm(), format!("{pubkey} OP_CHECKSIG"));
        assert_eq!(spk.is_p2pk().map(hex::encode), Some(pubkey.to_string()));
        assert_eq!(spk.p2pkh_hash(), None);
        // The coinbase script: nBits, the number 4, and The Times headline.
        let sig_asm = tx.input[0].script_sig.to_asm();
        assert!(
            sig_asm.starts_with("ffff001d 04 5468652054696d6573"),
            "{sig_asm}"
        );
    }

    proptest! {
        #[test]
        fn push_slice_reads_back(data in proptest::collection::vec(any::<u8>(), 0..600),
                                 other in proptest::collection::vec(any::<u8>(), 0..80)) {
            let s = ScriptBuf::new_p2pkh_sig(&data, &other);
            prop_assert_eq!(s.parse_p2pkh_sig(), Some((&data[..], &other[..])));
            prop_assert!(!s.to_asm().contains("[error]"));
        }

        #[test]
        fn any_bytes_display_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let s = ScriptBuf(bytes);
            let _ = s.to_asm();
            let _ = s.parse_p2pkh_sig();
            prop_assert!(s.without_codeseparators().len() <= s.len());
        }
    }
}
