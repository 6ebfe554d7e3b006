//! Integration tests of the teaching subcommands (`sim wallet`, `sim tx`,
//! `sim header`): run the real binary, check what a student would read and
//! that bad input ends with one `error:` line and exit code 2, never a panic.

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 output")
}

/// Runs a successful command and returns its stdout.
fn ok(args: &[&str]) -> String {
    let out = sim(args);
    assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
    stdout(&out)
}

/// The value of the first `key: value` line with this key.
fn value<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    text.lines()
        .map(str::trim_start)
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
        .trim()
}

/// Asserts a bad-input failure: exit code 2, an `error:` line, no panic.
fn assert_input_error(args: &[&str]) -> String {
    let out = sim(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert!(stdout(&out).is_empty(), "{args:?} printed to stdout");
    err
}

// Block 150007, transaction 7 (two inputs, uncompressed keys); source: the
// shinigami Bitcoin script engine's tests, txid checked below.
const TX_D823F0: &str = "010000000291056d7ab3e99f9506f248783e0801c9039082d7d876dd45a8ab1f0a166226e2000000008c493046022100a3deff7d28eca94e018cfafcf4e705cc6bb56ce1dab83a6377e6e97d28d305d90221008cfc8d40bb8e336f5210a4197760f6b9650ae6ec4682cc1626841d9c87d1b0f20141049305a94c5b8e71d8be2a2d7188d74cb38affc9dc83ab77cc2fedf7c03a82a56175b9c335ce4546a943a2215a9c04757f08c2cc97f731a208ea767119050e0b97ffffffff465345e66a84047bf58a3787456d8023c38e04734c72d7f7039b9220ac503b6e000000008a47304402202ff5fe06ff3ee680e069cd28ff3ed9a60050ba52ed811a739a29b81e3667074602203c0d1b63d0c495ee1b63886e42c2db0c4cb041ce0c957ad7febe0fbcd23498ee014104cc2cb6eb11b7b504e1aa2826cf8ce7568bc757d7f58ab1eaa0b5e6945ccdcc5b111c0c1163a28037b89501e0b83e3fdceb22a2fd80533e5211acac060b17b2a4ffffffff0243190600000000001976a914a2baed4cdeda71053537312ee32cf0ab9f22cf1888acc0451b11000000001976a914f3e0b1ca6d94a95e1f3683ea6f3d2b563ad475e688ac00000000";

// afd9c17f… (three SIGHASH_SINGLE inputs, compressed key); source: Bitcoin
// Core `src/test/data/tx_valid.json`.
const TX_AFD9C1: &str = "010000000370ac0a1ae588aaf284c308d67ca92c69a39e2db81337e563bf40c59da0a5cf63000000006a4730440220360d20baff382059040ba9be98947fd678fb08aab2bb0c172efa996fd8ece9b702201b4fb0de67f015c90e7ac8a193aeab486a1f587e0f54d0fb9552ef7f5ce6caec032103579ca2e6d107522f012cd00b52b9a65fb46f0c57b9b8b6e377c48f526a44741affffffff7d815b6447e35fbea097e00e028fb7dfbad4f3f0987b4734676c84f3fcd0e804010000006b483045022100c714310be1e3a9ff1c5f7cacc65c2d8e781fc3a88ceb063c6153bf950650802102200b2d0979c76e12bb480da635f192cc8dc6f905380dd4ac1ff35a4f68f462fffd032103579ca2e6d107522f012cd00b52b9a65fb46f0c57b9b8b6e377c48f526a44741affffffff3f1f097333e4d46d51f5e77b53264db8f7f5d2e18217e1099957d0f5af7713ee010000006c493046022100b663499ef73273a3788dea342717c2640ac43c5a1cf862c9e09b206fcb3f6bb8022100b09972e75972d9148f2bdd462e5cb69b57c1214b88fc55ca638676c07cfc10d8032103579ca2e6d107522f012cd00b52b9a65fb46f0c57b9b8b6e377c48f526a44741affffffff0380841e00000000001976a914bfb282c70c4191f45b5a6665cad1682f2c9cfdfb88ac80841e00000000001976a9149857cc07bed33a5cf12b9c5e0500b675d500c81188ace0fd1c00000000001976a91443c52850606c872403c0601e69fa34b26f62db4a88ac00000000";

// The genesis block's coinbase; source: Bitcoin Core `chainparams.cpp`.
const TX_GENESIS_COINBASE: &str = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

// The genesis block header; source: Bitcoin Core `chainparams.cpp`.
const GENESIS_HEADER: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

#[test]
fn wallet_new_seed_is_reproducible() {
    let a = ok(&["wallet", "new", "--seed", "7"]);
    let b = ok(&["wallet", "new", "--seed", "7"]);
    assert_eq!(a, b, "same seed, same key");
    let c = ok(&["wallet", "new", "--seed", "8"]);
    assert_ne!(value(&a, "address"), value(&c, "address"));
    assert_ne!(value(&a, "secret (WIF)"), value(&c, "secret (WIF)"));
    assert!(value(&a, "address").starts_with('1'));
    assert!(value(&a, "secret (WIF)").starts_with(['K', 'L']));
    assert_eq!(value(&a, "public key").len(), 66);

    // Same secret, other key form: other WIF, other address.
    let u = ok(&["wallet", "new", "--seed", "7", "--uncompressed"]);
    assert!(value(&u, "secret (WIF)").starts_with('5'));
    assert_eq!(value(&u, "public key").len(), 130);
    assert_ne!(value(&u, "address"), value(&a, "address"));

    // The WIF printed by `new` reads back to the same address.
    let shown = ok(&["wallet", "show", value(&a, "secret (WIF)")]);
    assert_eq!(value(&shown, "address"), value(&a, "address"));
}

#[test]
fn wallet_new_without_seed_is_random() {
    let a = ok(&["wallet", "new"]);
    let b = ok(&["wallet", "new"]);
    assert_ne!(value(&a, "secret (WIF)"), value(&b, "secret (WIF)"));
}

#[test]
fn wallet_show_secret_one_vectors() {
    // Secret key 1 (bitcoin wiki "Wallet import format").
    let c = ok(&[
        "wallet",
        "show",
        "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn",
    ]);
    assert_eq!(value(&c, "address"), "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH");
    assert_eq!(
        value(&c, "public key"),
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    );
    let u = ok(&[
        "wallet",
        "show",
        "5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf",
    ]);
    assert_eq!(value(&u, "address"), "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm");
}

/// `sim tx` on a real transaction: the real txid and every input valid.
fn check_real_tx(hex: &str, txid: &str, n_inputs: usize) -> String {
    let out = ok(&["tx", hex]);
    assert_eq!(value(&out, "txid"), txid);
    let checks: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("signature check:"))
        .map(str::trim)
        .collect();
    assert_eq!(checks.len(), n_inputs, "{out}");
    for c in checks {
        assert!(c.starts_with("valid"), "{c}\n{out}");
    }
    out
}

#[test]
fn tx_real_mainnet_uncompressed_keys() {
    let out = check_real_tx(
        TX_D823F0,
        "d823f0d96563ec214a2342c8637a5775038ca05e56ca069631c96f400ca2f9f7",
        2,
    );
    assert!(out.contains("e22662160a1faba845dd76d8d7829003c901083e7848f206959fe9b37a6d0591:0"));
    assert!(out.contains(
        "OP_DUP OP_HASH160 a2baed4cdeda71053537312ee32cf0ab9f22cf18 OP_EQUALVERIFY OP_CHECKSIG"
    ));
    assert_eq!(value(&out, "version"), "1");
    assert_eq!(value(&out, "lock_time"), "0");
    assert_eq!(
        value(&out, "size"),
        format!("{} bytes", TX_D823F0.len() / 2)
    );
}

#[test]
fn tx_real_mainnet_compressed_key_sighash_single() {
    let out = check_real_tx(
        TX_AFD9C1,
        "afd9c17f8913577ec3509520bd6e5d63e9c0fd2a5f70c787993b097ba6ca9fae",
        3,
    );
    assert!(out.contains("SIGHASH_SINGLE"));
    assert!(out.contains("0.02000000 BTC (2000000 sats)"));
}

#[test]
fn tx_tampered_signature_is_reported_invalid() {
    // Change output 0's value (first byte after the output count): every
    // SIGHASH_ALL signature breaks, yet the transaction still decodes.
    let marker = "0243190600";
    let at = TX_D823F0.find(marker).expect("output section");
    let tampered = format!("{}0244{}", &TX_D823F0[..at], &TX_D823F0[at + 4..]);
    let out = ok(&["tx", &tampered]);
    let invalid = out.lines().filter(|l| l.contains("INVALID")).count();
    assert_eq!(invalid, 2, "{out}");
}

#[test]
fn tx_genesis_coinbase() {
    let out = ok(&["tx", TX_GENESIS_COINBASE]);
    assert_eq!(
        value(&out, "txid"),
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    );
    assert!(out.contains("coinbase"));
    assert!(out.contains("04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f OP_CHECKSIG"));
    assert!(out.contains("50.00000000 BTC (5000000000 sats)"));
}

#[test]
fn header_genesis() {
    let out = ok(&["header", GENESIS_HEADER]);
    assert_eq!(
        value(&out, "hash"),
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
    assert_eq!(
        value(&out, "merkle_root"),
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    );
    assert_eq!(value(&out, "time"), "1231006505 (2009-01-03T18:15:05Z)");
    assert_eq!(value(&out, "bits"), "0x1d00ffff");
    assert_eq!(value(&out, "nonce"), "2083236893 (0x7c2bac1d)");
    assert_eq!(
        value(&out, "target"),
        "00000000ffff0000000000000000000000000000000000000000000000000000"
    );
    assert!(value(&out, "difficulty").starts_with("1 "));
    // Core's chainwork after genesis: 0x100010001 = 4295032833.
    assert!(value(&out, "work").starts_with("4295032833"));
    assert_eq!(value(&out, "hash <= target"), "yes");
}

#[test]
fn header_with_wrong_nonce_fails_pow() {
    let tampered = format!("{}00000000", &GENESIS_HEADER[..152]);
    let out = ok(&["header", &tampered]);
    assert_eq!(value(&out, "hash <= target"), "no");
}

#[test]
fn bad_input_is_one_line_exit_2() {
    let one_line = |args: &[&str]| {
        let err = assert_input_error(args);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        err
    };
    assert!(one_line(&["tx", "zz"]).contains("not hex"));
    assert!(one_line(&["tx", "abc"]).contains("odd"));
    assert!(one_line(&["tx", ""]).contains("empty"));
    one_line(&["tx", "0100"]);
    // A valid transaction followed by one extra byte.
    assert!(one_line(&["tx", &format!("{TX_GENESIS_COINBASE}00")]).contains("trailing"));
    assert!(one_line(&["header", "00"]).contains("80 bytes"));
    assert!(one_line(&["header", &format!("{GENESIS_HEADER}00")]).contains("80 bytes"));
    assert!(one_line(&["header", "xyz"]).contains("not hex"));
    assert!(one_line(&[
        "wallet",
        "show",
        "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWo"
    ])
    .contains("checksum"));
    assert!(one_line(&["wallet", "show", "0OIl"]).contains("base58"));
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    // clap reports usage errors with exit code 2; its message starts with
    // one `error:` line (followed by a usage hint).
    let err = assert_input_error(&["frobnicate"]);
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
    assert_input_error(&["wallet", "new", "--seed", "notanumber"]);
}
