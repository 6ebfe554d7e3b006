//! Teaching subcommands: `wallet`, `tx`, `header`.
//!
//! Each command parses its input strictly, calls the ledger library and
//! prints aligned `key: value` lines meant to be read by students next to a
//! block explorer:
//! - `sim wallet new [--seed N] [--uncompressed]` and `sim wallet show <WIF>`:
//!   secret (WIF), public key, P2PKH address;
//! - `sim tx <hex>`: a decoded legacy transaction, each P2PKH input's
//!   signature checked against the P2PKH lock of its own public key (which is
//!   exactly what the spent output locked to, if the input is valid);
//! - `sim header <hex>`: an 80-byte header, its hash, target, difficulty,
//!   work and whether the proof of work holds.
//!
//! Bad input (not hex, wrong length, bad checksum, trailing bytes) is a
//! [`CliError::input`]: one line, exit code 2, never a panic. Output is built
//! in memory and written once, so a closed pipe is an error, not a panic.

use std::fmt::{self, Write as _};
use std::io::Write as _;

use forklab::ledger::block::{Header, HEADER_SIZE};
use forklab::ledger::hash::hash160;
use forklab::ledger::script::opcodes::OP_RETURN;
use forklab::ledger::sighash::{
    verify_p2pkh_input, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE,
};
use forklab::ledger::{
    Address, Decodable, Params, PrivateKey, PublicKey, ScriptBuf, Target, Transaction,
};

use super::{CliError, CliResult};

/// Column at which values start.
const VALUE_COLUMN: usize = 22;

/// Coinbase "heights" at or above this are taken for pre-BIP34 data.
const MAX_PLAUSIBLE_HEIGHT: u32 = 1 << 23;

/// Lines of output, collected before anything is printed.
#[derive(Default)]
struct Out {
    buf: String,
}

impl Out {
    /// `key: value`, the value aligned at [`VALUE_COLUMN`].
    fn kv(&mut self, indent: usize, key: &str, value: impl fmt::Display) {
        let key = format!("{key}:");
        let width = VALUE_COLUMN.saturating_sub(indent + 1).max(key.len());
        // Writing to a String cannot fail.
        let _ = writeln!(self.buf, "{:indent$}{key:<width$} {value}", "");
    }

    /// A heading line.
    fn line(&mut self, indent: usize, text: impl fmt::Display) {
        let _ = writeln!(self.buf, "{:indent$}{text}", "");
    }

    fn print(self) -> CliResult {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(self.buf.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| CliError::other(format!("cannot write output: {e}")))
    }
}

/// Decodes user-supplied hex with a precise one-line error.
fn decode_hex(input: &str, what: &str) -> Result<Vec<u8>, CliError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(CliError::input(format!(
            "{what}: empty input, expected hex"
        )));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(CliError::input(format!(
            "{what}: not hex: character {c:?} at position {i}"
        )));
    }
    if s.len() % 2 != 0 {
        return Err(CliError::input(format!(
            "{what}: odd number of hex digits ({})",
            s.len()
        )));
    }
    hex::decode(s).map_err(|e| CliError::input(format!("{what}: not hex: {e}")))
}

/// Creates a key from the operating system's entropy. Only the CLI edge does
/// this: a fresh wallet must be unpredictable, while simulations derive
/// every key from their seed.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
/// A fresh key from the operating system's randomness.
pub(crate) fn random_key() -> PrivateKey {
    PrivateKey {
        inner: k256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng),
        compressed: true,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn print_key(key: &PrivateKey, out: &mut Out) {
    let pk = key.public_key();
    out.kv(0, "secret (WIF)", key.to_wif());
    out.kv(0, "public key", pk);
    out.kv(
        0,
        "key form",
        if pk.compressed {
            "compressed (33 bytes)"
        } else {
            "uncompressed (65 bytes)"
        },
    );
    out.kv(0, "pubkey hash", hex::encode(pk.pubkey_hash()));
    out.kv(0, "address", Address::p2pkh(&pk));
}

/// `sim wallet new`.
pub fn wallet_new(seed: Option<u64>, uncompressed: bool) -> CliResult {
    let key = match seed {
        Some(s) => PrivateKey::from_seed(s),
        None => random_key(),
    }
    .with_compressed(!uncompressed);
    let mut out = Out::default();
    print_key(&key, &mut out);
    out.kv(
        0,
        "derived from",
        match seed {
            Some(s) => format!("seed {s} (same seed, same key)"),
            None => "operating system randomness".to_string(),
        },
    );
    if seed.is_some() {
        out.line(
            0,
            "warning: a key derived from a seed is deterministic: anyone with the seed has it. For simulations and exercises only, never for real coins.",
        );
    }
    out.print()
}

/// `sim wallet show`.
pub fn wallet_show(wif: &str) -> CliResult {
    if wif.trim().parse::<Address>().is_ok() {
        return Err(CliError::input(format!(
            "{}: that is an address, not a WIF secret; an address is a hash of a public key and gives no key back (sim wallet show takes the secret that `sim wallet new` prints)",
            wif.trim()
        )));
    }
    let key = PrivateKey::from_wif(wif.trim())
        .map_err(|e| CliError::input(format!("invalid WIF: {e}")))?;
    let mut out = Out::default();
    print_key(&key, &mut out);
    out.print()
}

/// A decoding error in words: a length that runs past the end of the
/// input is a truncated transaction (the usual cause: hex cut off when
/// copying), not an absurd length.
fn decode_message(e: &forklab::ledger::encode::DecodeError, total: usize) -> String {
    use forklab::ledger::encode::DecodeError;
    match e {
        DecodeError::TooLarge { at, len } if *len <= 4_000_000 => format!(
            "transaction: truncated: the length at byte {at} says {len} bytes follow, but the input ends after {total} bytes (was the hex cut off?)"
        ),
        DecodeError::UnexpectedEnd { at, needed } => format!(
            "transaction: truncated: the input ends at byte {at} of {total} and {needed} more byte{} are needed (was the hex cut off?)",
            if *needed == 1 { "" } else { "s" }
        ),
        other => format!("not a valid transaction: {other}"),
    }
}

/// The readable text in a coinbase's pushes (miners' messages, e.g. the
/// genesis block's newspaper headline): pushes of 4 or more bytes that are
/// printable ASCII, joined by spaces.
fn coinbase_text(script: &ScriptBuf) -> Option<String> {
    use forklab::ledger::script::Instruction;
    let parts: Vec<String> = script
        .instructions()
        .filter_map(Result::ok)
        .filter_map(|i| match i {
            Instruction::Push(data)
                if data.len() >= 4 && data.iter().all(|b| (0x20..0x7f).contains(b)) =>
            {
                Some(String::from_utf8_lossy(data).into_owned())
            }
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| format!("\"{}\"", parts.join(" ")))
}

/// Names a sighash type byte the way students meet it in documentation.
fn sighash_name(ty: u8) -> String {
    let base = match ty as u32 & 0x1f {
        SIGHASH_NONE => "SIGHASH_NONE".to_string(),
        SIGHASH_SINGLE => "SIGHASH_SINGLE".to_string(),
        1 => "SIGHASH_ALL".to_string(),
        _ => format!("type {ty:#04x}, hashed as SIGHASH_ALL"),
    };
    if ty as u32 & SIGHASH_ANYONECANPAY != 0 {
        format!("{base}|ANYONECANPAY")
    } else {
        base
    }
}

/// `sim tx`.
pub fn tx(hex: &str) -> CliResult {
    let bytes = decode_hex(hex, "transaction")?;
    if bytes.len() >= 6 && bytes[4] == 0 && bytes[5] == 1 {
        return Err(CliError::input(
            "transaction: segwit serialization is not supported (legacy transactions only)",
        ));
    }
    let tx = Transaction::decode(&bytes)
        .map_err(|e| CliError::input(decode_message(&e, bytes.len())))?;

    let mut out = Out::default();
    out.kv(0, "txid", tx.compute_txid());
    out.kv(0, "version", tx.version);
    out.kv(0, "lock_time", tx.lock_time);
    out.kv(0, "size", format!("{} bytes", bytes.len()));
    match tx.total_out() {
        Some(total) => out.kv(0, "total out", format!("{total} ({} sats)", total.to_sat())),
        None => out.kv(0, "total out", "out of range (over 21 million BTC)"),
    }
    out.kv(0, "inputs", tx.input.len());
    for (i, txin) in tx.input.iter().enumerate() {
        if tx.is_coinbase() {
            out.line(2, format!("input {i}: coinbase (new coins, no signature)"));
            // Before BIP34 (block 227,931) coinbases often began with a push
            // of nBits, which reads as a huge "height": no real chain is
            // anywhere near 2^23 blocks, so larger values are not heights.
            match tx.coinbase_height() {
                Some(h) if h < MAX_PLAUSIBLE_HEIGHT => out.kv(4, "height", format!("{h} (BIP34)")),
                _ => out.kv(4, "height", "not encoded (coinbase from before BIP34)"),
            }
            out.kv(4, "script_sig", txin.script_sig.to_asm());
            if let Some(text) = coinbase_text(&txin.script_sig) {
                out.kv(4, "text", text);
            }
            out.kv(4, "sequence", format!("{:#010x}", txin.sequence));
            continue;
        }
        out.line(2, format!("input {i}"));
        out.kv(4, "prevout", txin.previous_output);
        out.kv(4, "sequence", format!("{:#010x}", txin.sequence));
        match txin.script_sig.parse_p2pkh_sig() {
            Some((sig, pubkey_bytes)) => {
                match PublicKey::from_slice(pubkey_bytes) {
                    Ok(pk) => {
                        out.kv(4, "public key", pk);
                        out.kv(4, "address", Address::p2pkh(&pk));
                    }
                    Err(e) => out.kv(
                        4,
                        "public key",
                        format!("{} ({e})", hex::encode(pubkey_bytes)),
                    ),
                }
                let (ty, der) = sig.split_last().map_or((None, sig), |(t, d)| (Some(*t), d));
                out.kv(4, "signature", hex::encode(der));
                if let Some(ty) = ty {
                    out.kv(4, "sighash type", sighash_name(ty));
                }
                // A P2PKH spend is valid only if the spent output locked to
                // hash160(pubkey), so that lock is what we check against.
                let lock = ScriptBuf::new_p2pkh(&hash160(pubkey_bytes));
                match verify_p2pkh_input(&tx, i, &lock) {
                    Ok(()) => out.kv(
                        4,
                        "signature check",
                        "valid (against the P2PKH lock of this key)",
                    ),
                    Err(e) => out.kv(4, "signature check", format!("INVALID: {e}")),
                }
            }
            None => {
                out.kv(4, "script_sig", txin.script_sig.to_asm());
                out.kv(
                    4,
                    "signature check",
                    "not checked (not a P2PKH <sig> <pubkey> script_sig)",
                );
            }
        }
    }
    out.kv(0, "outputs", tx.output.len());
    for (o, txout) in tx.output.iter().enumerate() {
        out.line(2, format!("output {o}"));
        out.kv(
            4,
            "value",
            format!("{} ({} sats)", txout.value, txout.value.to_sat()),
        );
        let spk = &txout.script_pubkey;
        out.kv(4, "script", spk.to_asm());
        if let Some(addr) = Address::from_script(spk) {
            out.kv(4, "type", "P2PKH (pay to public key hash)");
            out.kv(4, "address", addr);
        } else if let Some(key) = spk.is_p2pk() {
            out.kv(4, "type", "P2PK (pay to a bare public key)");
            if PublicKey::from_slice(key).is_ok() {
                out.kv(4, "key's address", Address::from_pubkey_hash(hash160(key)));
            }
        } else if spk.as_bytes().first() == Some(&OP_RETURN) {
            out.kv(4, "type", "OP_RETURN (data, unspendable)");
        } else {
            out.kv(4, "type", "other (forklab cannot spend it)");
        }
    }
    out.print()
}

/// Gregorian date and time (UTC) of a Unix timestamp, ISO 8601
/// (`2009-01-03T18:15:05Z`), by Howard Hinnant's `civil_from_days`.
fn utc_iso8601(unix: u32) -> String {
    let secs = unix as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// A float without trailing zeros: `1`, `1.5`, `55621444139429.57`.
fn trim_float(x: f64) -> String {
    if !x.is_finite() {
        return "infinite".to_string();
    }
    let s = format!("{x:.8}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `sim header`.
pub fn header(hex: &str) -> CliResult {
    let bytes = decode_hex(hex, "header")?;
    if bytes.len() != HEADER_SIZE {
        return Err(CliError::input(format!(
            "header: expected {HEADER_SIZE} bytes ({} hex characters), got {} bytes",
            HEADER_SIZE * 2,
            bytes.len()
        )));
    }
    let header =
        Header::decode(&bytes).map_err(|e| CliError::input(format!("not a valid header: {e}")))?;
    let hash = header.block_hash();

    let mut out = Out::default();
    out.kv(0, "hash", hash);
    out.kv(
        0,
        "version",
        format!("{} ({:#010x})", header.version, header.version),
    );
    out.kv(0, "prev_blockhash", header.prev_blockhash);
    out.kv(0, "merkle_root", header.merkle_root);
    out.kv(
        0,
        "time",
        format!("{} ({})", header.time, utc_iso8601(header.time)),
    );
    out.kv(0, "bits", format!("{:#010x}", header.bits.to_consensus()));
    out.kv(
        0,
        "nonce",
        format!("{} ({:#010x})", header.nonce, header.nonce),
    );
    match Target::from_compact(header.bits) {
        Ok(target) => {
            let max = Params::bitcoin().pow_limit;
            out.kv(0, "target", target.to_be_hex());
            out.kv(
                0,
                "difficulty",
                format!(
                    "{} (relative to Bitcoin's easiest target)",
                    trim_float(target.difficulty_lossy(max))
                ),
            );
            out.kv(0, "work", format!("{} (expected hashes)", target.to_work()));
            out.kv(
                0,
                "hash <= target",
                yes_no(target.is_met_by(hash.as_bytes())),
            );
        }
        Err(e) => {
            out.kv(0, "target", format!("invalid: {e}"));
            out.kv(0, "hash <= target", "no (the target is invalid)");
        }
    }
    out.print()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_by_hand() {
        assert_eq!(utc_iso8601(0), "1970-01-01T00:00:00Z");
        // Genesis block time.
        assert_eq!(utc_iso8601(1_231_006_505), "2009-01-03T18:15:05Z");
        // Leap day and the end of u32.
        assert_eq!(utc_iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_iso8601(u32::MAX), "2106-02-07T06:28:15Z");
    }

    #[test]
    fn hex_errors_are_one_line() {
        for bad in ["", "zz", "abc", "0g"] {
            let e = decode_hex(bad, "transaction").unwrap_err();
            assert_eq!(e.code, 2);
            assert!(!e.message.contains('\n'));
        }
        assert_eq!(decode_hex(" 00ff\n", "x").unwrap(), vec![0, 255]);
    }

    #[test]
    fn floats_and_sighash_names() {
        assert_eq!(trim_float(1.0), "1");
        assert_eq!(trim_float(1.5), "1.5");
        assert_eq!(trim_float(f64::INFINITY), "infinite");
        assert_eq!(sighash_name(0x01), "SIGHASH_ALL");
        assert_eq!(sighash_name(0x83), "SIGHASH_SINGLE|ANYONECANPAY");
        assert_eq!(sighash_name(0x00), "type 0x00, hashed as SIGHASH_ALL");
    }
}
