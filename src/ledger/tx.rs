//! Transactions in Bitcoin's legacy serialization.
//!
//! Layout (all integers little-endian):
//! `version:i32 | n_in:varint | inputs | n_out:varint | outputs | lock_time:u32`,
//! an input being `prev txid:32 | vout:u32 | script_sig:var_bytes | sequence:u32`
//! and an output `value:u64 | script_pubkey:var_bytes`. The txid is `sha256d`
//! of exactly these bytes, so real Bitcoin (non-segwit) transactions decode to
//! their real txids. Scripts are kept as raw bytes ([`ScriptBuf`]); the ledger
//! only knows how to lock to and spend P2PKH (see [`crate::ledger::script`]).
//!
//! Coinbase transactions carry their block height first in `script_sig`
//! (BIP34), which keeps coinbase txids unique.

use std::fmt;

use sha2::{Digest, Sha256};

use super::amount::Amount;
use super::encode::{
    var_bytes_len, varint_len, write_var_bytes, write_varint, Decodable, DecodeError, Encodable,
    Reader,
};
use super::hash::{sha256, Txid};
use super::script::ScriptBuf;

/// A reference to an output of an earlier transaction.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub struct OutPoint {
    /// Transaction holding the output.
    pub txid: Txid,
    /// Index of the output in that transaction.
    pub vout: u32,
}

impl OutPoint {
    /// The null prevout of a coinbase input (all-zero txid, index `0xffffffff`).
    pub const NULL: OutPoint = OutPoint {
        txid: Txid::ZERO,
        vout: u32::MAX,
    };

    /// Whether this is the coinbase's null prevout.
    pub fn is_null(&self) -> bool {
        *self == Self::NULL
    }
}

impl fmt::Display for OutPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.txid, self.vout)
    }
}

/// A transaction input.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TxIn {
    /// The output being spent.
    pub previous_output: OutPoint,
    /// Unlocking script (for P2PKH: `<sig+hashtype> <pubkey>`).
    pub script_sig: ScriptBuf,
    /// Sequence number (`0xffffffff` = final).
    pub sequence: u32,
}

/// A transaction output.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct TxOut {
    /// Value in satoshis (range-checked by validation, not by decoding).
    pub value: Amount,
    /// Locking script.
    pub script_pubkey: ScriptBuf,
}

/// A Bitcoin transaction (legacy, non-segwit serialization).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Transaction {
    /// Transaction version.
    pub version: i32,
    /// Inputs.
    pub input: Vec<TxIn>,
    /// Outputs.
    pub output: Vec<TxOut>,
    /// Lock time.
    pub lock_time: u32,
}

impl Transaction {
    /// Computes the txid: `sha256d` of the serialization (hashes every call;
    /// a long script is hashed where it lies, not copied).
    pub fn compute_txid(&self) -> Txid {
        let mut sink = TxidSink {
            sha: Sha256::new(),
            buf: Vec::with_capacity(self.encoded_len().min(4 * TxidSink::COPY_MAX)),
        };
        self.serialize_into(&mut sink);
        sink.sha.update(&sink.buf);
        Txid::from_byte_array(sha256(&sink.sha.finalize()))
    }

    /// Serialized size in bytes.
    pub fn size(&self) -> usize {
        // Summed from the fields' lengths (checked against the encoding by
        // a property test), so a 500 kB padded coinbase is not serialised
        // just to be measured.
        self.encoded_len()
    }

    /// Whether this is a coinbase: one input spending the null prevout.
    pub fn is_coinbase(&self) -> bool {
        self.input.len() == 1 && self.input[0].previous_output.is_null()
    }

    /// Sum of output values, or `None` on overflow/out of range.
    pub fn total_out(&self) -> Option<Amount> {
        Amount::checked_sum(self.output.iter().map(|o| o.value))
    }

    /// Builds a coinbase for `height` (BIP34: height first in `script_sig`)
    /// paying `value` to `script_pubkey`. `extra_nonce` is appended to the
    /// script so a miner can change the Merkle root when the header nonce
    /// space runs out.
    pub fn new_coinbase(
        height: u32,
        extra_nonce: u64,
        value: Amount,
        script_pubkey: ScriptBuf,
    ) -> Transaction {
        let mut sig = Vec::with_capacity(16);
        push_script_num(&mut sig, height as i64);
        push_script_num(&mut sig, extra_nonce as i64);
        Transaction {
            version: 1,
            input: vec![TxIn {
                previous_output: OutPoint::NULL,
                script_sig: ScriptBuf(sig),
                sequence: u32::MAX,
            }],
            output: vec![TxOut {
                value,
                script_pubkey,
            }],
            lock_time: 0,
        }
    }

    /// The BIP34 height of a coinbase, if its `script_sig` starts with a
    /// minimal push of a non-negative number.
    pub fn coinbase_height(&self) -> Option<u32> {
        if !self.is_coinbase() {
            return None;
        }
        let s = &self.input[0].script_sig.0;
        let first = *s.first()?;
        if first == 0x00 {
            return Some(0);
        }
        if (0x51..=0x60).contains(&first) {
            return Some((first - 0x50) as u32);
        }
        let n = first as usize;
        if n == 0 || n > 4 || s.len() < 1 + n {
            return None;
        }
        let bytes = &s[1..1 + n];
        if bytes[n - 1] & 0x80 != 0 {
            return None;
        }
        let mut v: u32 = 0;
        for (i, b) in bytes.iter().enumerate() {
            v |= (*b as u32) << (8 * i);
        }
        Some(v)
    }
}

/// Pushes a number as a minimal script push (BIP34 encoding of the height).
fn push_script_num(out: &mut Vec<u8>, n: i64) {
    if n == 0 {
        out.push(0x00);
        return;
    }
    if (1..=16).contains(&n) {
        out.push(0x50 + n as u8);
        return;
    }
    let neg = n < 0;
    let mut abs = n.unsigned_abs();
    let mut bytes = Vec::new();
    while abs > 0 {
        bytes.push((abs & 0xff) as u8);
        abs >>= 8;
    }
    if bytes.last().is_some_and(|b| b & 0x80 != 0) {
        bytes.push(if neg { 0x80 } else { 0 });
    } else if neg {
        *bytes.last_mut().expect("n != 0 so at least one byte") |= 0x80;
    }
    out.push(bytes.len() as u8);
    out.extend_from_slice(&bytes);
}

impl Encodable for OutPoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.txid.as_bytes());
        out.extend_from_slice(&self.vout.to_le_bytes());
    }

    fn encoded_len(&self) -> usize {
        36
    }
}

impl Decodable for OutPoint {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(OutPoint {
            txid: Txid(r.array()?),
            vout: r.u32_le()?,
        })
    }
}

impl TxIn {
    fn serialize_into(&self, sink: &mut impl TxSink) {
        self.previous_output.encode_to(sink.buf());
        sink.var_bytes(&self.script_sig.0);
        sink.buf().extend_from_slice(&self.sequence.to_le_bytes());
    }
}

impl Encodable for TxIn {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.serialize_into(out);
    }

    fn encoded_len(&self) -> usize {
        36 + var_bytes_len(&self.script_sig.0) + 4
    }
}

impl Decodable for TxIn {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxIn {
            previous_output: OutPoint::decode_from(r)?,
            script_sig: ScriptBuf(r.var_bytes()?),
            sequence: r.u32_le()?,
        })
    }
}

impl TxOut {
    fn serialize_into(&self, sink: &mut impl TxSink) {
        sink.buf()
            .extend_from_slice(&self.value.to_sat().to_le_bytes());
        sink.var_bytes(&self.script_pubkey.0);
    }
}

impl Encodable for TxOut {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.serialize_into(out);
    }

    fn encoded_len(&self) -> usize {
        8 + var_bytes_len(&self.script_pubkey.0)
    }
}

impl Decodable for TxOut {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxOut {
            value: Amount::from_sat_unchecked(r.u64_le()?),
            script_pubkey: ScriptBuf(r.var_bytes()?),
        })
    }
}

impl Transaction {
    /// The serialization, in order, into `sink` (the one statement of the
    /// layout, for [`Encodable::encode_to`] and [`Transaction::compute_txid`]).
    fn serialize_into(&self, sink: &mut impl TxSink) {
        let out = sink.buf();
        out.extend_from_slice(&self.version.to_le_bytes());
        write_varint(out, self.input.len() as u64);
        for i in &self.input {
            i.serialize_into(sink);
        }
        write_varint(sink.buf(), self.output.len() as u64);
        for o in &self.output {
            o.serialize_into(sink);
        }
        sink.buf().extend_from_slice(&self.lock_time.to_le_bytes());
    }
}

/// Where [`Transaction::serialize_into`] writes: fixed-size fields go to a
/// buffer, scripts are handed over whole, so a sink that hashes
/// ([`TxidSink`]) can read a long script where it lies instead of copying
/// it.
trait TxSink {
    /// The buffer fixed-size fields are appended to.
    fn buf(&mut self) -> &mut Vec<u8>;
    /// Takes a script as var-bytes (its CompactSize length, then the bytes).
    fn var_bytes(&mut self, b: &[u8]);
}

impl TxSink for Vec<u8> {
    fn buf(&mut self) -> &mut Vec<u8> {
        self
    }

    fn var_bytes(&mut self, b: &[u8]) {
        write_var_bytes(self, b);
    }
}

/// Hashes a serialization as it is written: scripts up to
/// [`TxidSink::COPY_MAX`] bytes are buffered with the fields around them,
/// longer ones (a padded coinbase's 535 kB `OP_RETURN`) go to SHA-256
/// directly, so computing a txid never copies a long script.
struct TxidSink {
    sha: Sha256,
    buf: Vec<u8>,
}

impl TxidSink {
    const COPY_MAX: usize = 1024;
}

impl TxSink for TxidSink {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    fn var_bytes(&mut self, b: &[u8]) {
        if b.len() <= Self::COPY_MAX {
            write_var_bytes(&mut self.buf, b);
        } else {
            write_varint(&mut self.buf, b.len() as u64);
            self.sha.update(&self.buf);
            self.buf.clear();
            self.sha.update(b);
        }
    }
}

impl Encodable for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.serialize_into(out);
    }

    fn encoded_len(&self) -> usize {
        4 + varint_len(self.input.len() as u64)
            + self.input.iter().map(TxIn::encoded_len).sum::<usize>()
            + varint_len(self.output.len() as u64)
            + self.output.iter().map(TxOut::encoded_len).sum::<usize>()
            + 4
    }
}

impl Decodable for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.i32_le()?;
        let n_in = r.length(41)?;
        let mut input = Vec::with_capacity(n_in);
        for _ in 0..n_in {
            input.push(TxIn::decode_from(r)?);
        }
        let n_out = r.length(9)?;
        let mut output = Vec::with_capacity(n_out);
        for _ in 0..n_out {
            output.push(TxOut::decode_from(r)?);
        }
        let lock_time = r.u32_le()?;
        Ok(Transaction {
            version,
            input,
            output,
            lock_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed txid is `sha256d` of the encoding, for scripts kept
    /// in the buffer and scripts hashed in place (either side of
    /// `TxidSink::COPY_MAX`, in inputs and outputs, up to a padded
    /// coinbase's 535 kB).
    #[test]
    fn txid_hashes_the_encoding_for_every_script_length() {
        let m = TxidSink::COPY_MAX;
        for (sig, outs) in [
            (0, vec![25]),
            (m, vec![m, m]),
            (m + 1, vec![m - 1, m + 1, 3]),
            (100, vec![535_000, 25]),
            (70_000, vec![]),
        ] {
            let tx = Transaction {
                version: 1,
                input: vec![TxIn {
                    previous_output: OutPoint::NULL,
                    script_sig: ScriptBuf((0..sig).map(|i| i as u8).collect()),
                    sequence: 0xffff_fffe,
                }],
                output: outs
                    .iter()
                    .map(|&n| TxOut {
                        value: Amount::from_sat_unchecked(n as u64),
                        script_pubkey: ScriptBuf(vec![0x6a; n]),
                    })
                    .collect(),
                lock_time: 7,
            };
            assert_eq!(
                tx.compute_txid(),
                Txid::hash(&tx.encode()),
                "{sig} {outs:?}"
            );
        }
    }

    #[test]
    fn coinbase_height_round_trips() {
        for h in [
            0u32,
            1,
            16,
            17,
            127,
            128,
            255,
            256,
            100_000,
            840_000,
            0x7fff_ffff,
        ] {
            let cb = Transaction::new_coinbase(h, 7, Amount::ZERO, ScriptBuf(vec![]));
            assert!(cb.is_coinbase());
            assert_eq!(cb.coinbase_height(), Some(h), "height {h}");
            let bytes = cb.encode();
            assert_eq!(Transaction::decode(&bytes).unwrap(), cb);
            assert_eq!(cb.size(), bytes.len());
        }
    }

    #[test]
    fn size_matches_the_encoding_across_varint_widths() {
        // Script lengths at every CompactSize boundary (1, 3 and 5 bytes).
        for len in [0usize, 0xfc, 0xfd, 0xffff, 0x1_0000, 535_000] {
            let mut tx = Transaction::new_coinbase(1, 0, Amount::ZERO, ScriptBuf(vec![]));
            tx.output.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf(vec![0x6a; len]),
            });
            tx.input[0].script_sig = ScriptBuf(vec![1; len.min(100)]);
            let bytes = tx.encode();
            assert_eq!(tx.size(), bytes.len(), "script of {len} bytes");
            assert_eq!(tx.encoded_len(), bytes.len());
            assert_eq!(bytes.capacity(), bytes.len(), "encode allocates once");
        }
    }
}
