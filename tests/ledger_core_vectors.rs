//! The ledger against Bitcoin Core's published test vectors
//! (`src/test/data/{sighash,script_tests,tx_valid}.json`; copies and source
//! in `tests/data/README.md`):
//!
//! - every `sighash.json` case: the legacy signature hash of random
//!   transactions and scripts, `OP_CODESEPARATOR`s and truncated pushes
//!   included;
//! - every `script_tests.json` case the ledger's two spendable templates can
//!   express (a P2PK or P2PKH lock, a `script_sig` of one or two pushes, no
//!   witness): every case Core accepts (under any flags: flags only add
//!   rules) must verify, and every case Core rejects under consensus flags
//!   only (none, or `P2SH`, which does not touch these locks) must fail;
//! - every `tx_valid.json` transaction whose inputs all spend P2PK or P2PKH
//!   outputs with such script_sigs (and legacy serialization): every input
//!   verifies.
//!
//! Each test counts what it ran and fails if that count falls, so a parser
//! change cannot make it pass by skipping.

use forklab::ledger::script::{opcode_name, opcodes, Instruction};
use forklab::ledger::sighash::{legacy_sighash, verify_input};
use forklab::ledger::{Amount, Decodable, OutPoint, ScriptBuf, Transaction, TxIn, TxOut, Txid};

fn json(name: &str) -> Vec<serde_json::Value> {
    let path = format!("{}/tests/data/core/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("vector file");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Core's `ParseScript` (`src/core_read.cpp`) for the tokens the vectors
/// use: decimal numbers (as `CScriptNum` pushes), `0x…` raw bytes,
/// `'…'` strings, and opcode names with or without `OP_`. `None` for a
/// token it does not know.
fn parse_script(asm: &str) -> Option<ScriptBuf> {
    let mut s = ScriptBuf::default();
    for tok in asm.split_whitespace() {
        if let Some(hex) = tok.strip_prefix("0x") {
            s.0.extend_from_slice(&hex::decode(hex).ok()?);
        } else if tok.len() >= 2 && tok.starts_with('\'') && tok.ends_with('\'') {
            s.push_slice(&tok.as_bytes()[1..tok.len() - 1]);
        } else if let Ok(n) = tok.parse::<i64>() {
            match n {
                0 => s.push_opcode(opcodes::OP_0),
                -1 => s.push_opcode(opcodes::OP_1NEGATE),
                1..=16 => s.push_opcode(opcodes::OP_1 + (n as u8 - 1)),
                _ => s.push_slice(&script_num(n)),
            }
        } else {
            let name = if tok.starts_with("OP_") {
                tok.to_string()
            } else {
                format!("OP_{tok}")
            };
            let op = (0u8..=0xff).find(|&op| {
                op > opcodes::OP_PUSHDATA4 && opcode_name(op) == name && name != "OP_UNKNOWN"
            })?;
            s.push_opcode(op);
        }
    }
    Some(s)
}

/// `CScriptNum::serialize`: minimal little-endian sign-magnitude.
fn script_num(n: i64) -> Vec<u8> {
    let neg = n < 0;
    let mut abs = n.unsigned_abs();
    let mut out = Vec::new();
    while abs > 0 {
        out.push((abs & 0xff) as u8);
        abs >>= 8;
    }
    if out.last().is_some_and(|b| b & 0x80 != 0) {
        out.push(if neg { 0x80 } else { 0 });
    } else if neg {
        *out.last_mut().unwrap() |= 0x80;
    }
    out
}

/// Whether the ledger's templates cover this lock and unlock: P2PK with one
/// push, P2PKH with two.
fn expressible(script_sig: &ScriptBuf, script_pubkey: &ScriptBuf) -> bool {
    let pushes: Option<Vec<&[u8]>> = script_sig
        .instructions()
        .map(|i| match i {
            Ok(Instruction::Push(d)) => Some(d),
            _ => None,
        })
        .collect();
    let Some(pushes) = pushes else { return false };
    let ops: Vec<_> = script_pubkey.instructions().collect();
    let p2pk = matches!(
        ops.as_slice(),
        [
            Ok(Instruction::Push(_)),
            Ok(Instruction::Op(opcodes::OP_CHECKSIG))
        ]
    );
    (p2pk && pushes.len() == 1) || (script_pubkey.p2pkh_hash().is_some() && pushes.len() == 2)
}

#[test]
fn sighash_json_every_case() {
    let mut ran = 0;
    for case in json("sighash.json") {
        let case = case.as_array().unwrap();
        if case.len() != 5 {
            continue; // the header line
        }
        let tx = Transaction::from_hex(case[0].as_str().unwrap()).unwrap();
        let script = ScriptBuf(hex::decode(case[1].as_str().unwrap()).unwrap());
        let input = case[2].as_u64().unwrap() as usize;
        let hash_type = case[3].as_i64().unwrap() as i32 as u32;
        let mut got = legacy_sighash(&tx, input, &script, hash_type);
        got.reverse(); // Core prints uint256 reversed
        assert_eq!(
            hex::encode(got),
            case[4].as_str().unwrap(),
            "sighash.json case {ran}: script {}",
            case[1]
        );
        ran += 1;
    }
    assert_eq!(ran, 500, "sighash.json has 500 cases");
}

/// Core's `BuildCreditingTransaction` / `BuildSpendingTransaction`
/// (`src/test/script_tests.cpp`).
fn credit_and_spend(script_sig: ScriptBuf, script_pubkey: ScriptBuf) -> (Transaction, ScriptBuf) {
    let credit = Transaction {
        version: 1,
        input: vec![TxIn {
            previous_output: OutPoint::NULL,
            script_sig: ScriptBuf(vec![opcodes::OP_0, opcodes::OP_0]),
            sequence: u32::MAX,
        }],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: script_pubkey.clone(),
        }],
        lock_time: 0,
    };
    let spend = Transaction {
        version: 1,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: credit.compute_txid(),
                vout: 0,
            },
            script_sig,
            sequence: u32::MAX,
        }],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::default(),
        }],
        lock_time: 0,
    };
    (spend, script_pubkey)
}

#[test]
fn script_tests_json_p2pk_and_p2pkh_under_consensus_flags() {
    let mut ran = 0;
    let mut ok = 0;
    let mut hybrid = 0;
    for case in json("script_tests.json") {
        let case = case.as_array().unwrap();
        if case.len() < 4 || !case[0].is_string() {
            continue; // comments, and witness cases (first element an array)
        }
        let flags = case[2].as_str().unwrap();
        let expected_ok = case[3].as_str().unwrap() == "OK";
        let consensus_flags = flags.split(',').all(|f| matches!(f, "" | "NONE" | "P2SH"));
        // Flags only add rules, so what passes with more flags passes under
        // consensus; a failure says something only under consensus flags.
        if !expected_ok && !consensus_flags {
            continue;
        }
        let (Some(sig), Some(spk)) = (
            parse_script(case[0].as_str().unwrap()),
            parse_script(case[1].as_str().unwrap()),
        ) else {
            continue;
        };
        if !expressible(&sig, &spk) {
            continue;
        }
        let (tx, lock) = credit_and_spend(sig, spk);
        let got = verify_input(&tx, 0, &lock);
        assert_eq!(
            got.is_ok(),
            expected_ok,
            "script_tests.json {:?}: got {got:?}",
            case.last().unwrap()
        );
        ran += 1;
        ok += usize::from(expected_ok);
        let comment = case.last().unwrap().as_str().unwrap_or("");
        if comment.contains("hybrid") {
            hybrid += 1;
        }
    }
    // Counts of the shipped file (a change in the parser or the filter that
    // drops cases fails here).
    assert_eq!(
        (ran, ok, hybrid),
        (RAN, OK, HYBRID),
        "(cases run, expected OK, hybrid)"
    );
}

const RAN: usize = 15;
const OK: usize = 11;
const HYBRID: usize = 1;

#[test]
fn tx_valid_json_p2pk_and_p2pkh_inputs_verify() {
    let mut ran = 0;
    let mut inputs = 0;
    for case in json("tx_valid.json") {
        let case = case.as_array().unwrap();
        if case.len() != 3 || !case[0].is_array() {
            continue;
        }
        let Ok(tx) = Transaction::from_hex(case[1].as_str().unwrap()) else {
            continue; // segwit serialization: not a legacy transaction
        };
        let mut prevouts = Vec::new();
        for p in case[0].as_array().unwrap() {
            let p = p.as_array().unwrap();
            let txid: Txid = p[0].as_str().unwrap().parse().unwrap();
            let vout = p[1].as_i64().unwrap() as u32;
            let Some(spk) = parse_script(p[2].as_str().unwrap()) else {
                prevouts.clear();
                break;
            };
            prevouts.push((OutPoint { txid, vout }, spk));
        }
        let locks: Option<Vec<&ScriptBuf>> = tx
            .input
            .iter()
            .map(|i| {
                prevouts
                    .iter()
                    .find(|(o, _)| *o == i.previous_output)
                    .map(|(_, s)| s)
            })
            .collect();
        let Some(locks) = locks else { continue };
        if tx.input.is_empty()
            || !tx
                .input
                .iter()
                .zip(&locks)
                .all(|(i, l)| expressible(&i.script_sig, l))
        {
            continue;
        }
        for (i, lock) in locks.iter().enumerate() {
            assert_eq!(
                verify_input(&tx, i, lock),
                Ok(()),
                "tx_valid.json {} input {i}",
                tx.compute_txid()
            );
            inputs += 1;
        }
        ran += 1;
    }
    assert_eq!((ran, inputs), (TX_RAN, TX_INPUTS), "(transactions, inputs)");
}

const TX_RAN: usize = 8;
const TX_INPUTS: usize = 16;
