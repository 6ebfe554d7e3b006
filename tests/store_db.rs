//! The run's database (`chain.sqlite`) against the run's CSVs, the ledger
//! decoder and itself (determinism), and `sim show` on top of it.

mod common;

use std::fs;
use std::path::Path;

use common::{rows, run_to, scratch, sim, summary};
use forklab::ledger::{Block, Decodable, Header, Transaction};
use rusqlite::Connection;

fn db(dir: &Path) -> Connection {
    Connection::open_with_flags(
        dir.join("chain.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("chain.sqlite opens")
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn database_agrees_with_the_csvs_and_the_ledger() {
    let dir = scratch("store", "agree").join("run");
    run_to("tests/scenarios/small.yaml", &dir, &["--no-charts"]);
    let c = db(&dir);

    // blocks: same rows, same order, same main-chain flags.
    let csv = rows(&dir.join("blocks.csv"));
    let mut s = c
        .prepare("SELECT hash, parent, height, COALESCE(miner, -1), main_chain, txs, size_bytes FROM blocks ORDER BY id")
        .unwrap();
    let got: Vec<[String; 7]> = s
        .query_map([], |r| {
            Ok([
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?.to_string(),
                r.get::<_, i64>(3)?.to_string(),
                r.get::<_, i64>(4)?.to_string(),
                r.get::<_, i64>(5)?.to_string(),
                r.get::<_, i64>(6)?.to_string(),
            ])
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.len(), csv.len(), "one row per blocks.csv row");
    assert!(csv.len() > 30, "the run mined its blocks");
    for (g, r) in got.iter().zip(&csv) {
        let want = [
            &r["hash"],
            &r["parent"],
            &r["height"],
            &r["miner"],
            &r["main_chain"],
            &r["txs"],
            &r["size_bytes"],
        ];
        assert_eq!(g.iter().collect::<Vec<_>>(), want.to_vec());
    }

    // payments: same rows, and the new columns agree.
    let pay = rows(&dir.join("payments.csv"));
    assert!(pay.len() > 10, "the run made payments");
    assert_eq!(count(&c, "SELECT COUNT(*) FROM payments"), pay.len() as i64);
    let sum: u64 = pay
        .iter()
        .map(|p| p["amount_sats"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        count(&c, "SELECT SUM(amount_sats) FROM payments"),
        sum as i64
    );
    let confirmed = pay.iter().filter(|p| p["confirmed"] == "1").count();
    assert!(confirmed > 0);
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM payments WHERE block IS NOT NULL"),
        confirmed as i64
    );
    for p in &pay {
        // A confirmed payment names its block, which is on the main chain
        // at that height and holds the transaction.
        assert_eq!(p["confirmed"] == "1", !p["block"].is_empty(), "{p:?}");
        if !p["block"].is_empty() {
            let (h, main): (i64, i64) = c
                .query_row(
                    "SELECT height, main_chain FROM blocks WHERE hash = ?1",
                    [&p["block"]],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!((h.to_string(), main), (p["height"].clone(), 1));
            let fee: i64 = c
                .query_row(
                    "SELECT fee_sats FROM transactions WHERE txid = ?1 AND block = ?2",
                    [&p["txid"], &p["block"]],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(fee.to_string(), p["fee_sats"]);
            assert!(fee > 0, "payments pay a fee");
        }
    }

    // Value: the main chain's unspent outputs sum to what the run reports,
    // which is what was issued.
    let s = summary(&dir);
    let utxo = count(
        &c,
        "SELECT SUM(o.value_sats) FROM outputs o JOIN transactions t ON t.txid = o.txid \
         WHERE t.block IS NOT NULL AND o.spent_by IS NULL",
    );
    assert_eq!(utxo.to_string(), s["utxo_total_sats"]);
    assert_eq!(s["utxo_total_sats"], s["issued_sats"]);
    // Address balances are those outputs, by address.
    let by_address = count(&c, "SELECT SUM(balance_sats) FROM addresses");
    let no_address = count(
        &c,
        "SELECT COALESCE(SUM(o.value_sats), 0) FROM outputs o JOIN transactions t ON t.txid = o.txid \
         WHERE t.block IS NOT NULL AND o.spent_by IS NULL AND o.address IS NULL",
    );
    assert_eq!(by_address + no_address, utxo);
    // Each address's last history row is its balance.
    let mismatched = count(
        &c,
        "SELECT COUNT(*) FROM addresses a WHERE a.balance_sats != \
         (SELECT balance_sats FROM address_history h WHERE h.address = a.address ORDER BY seq DESC LIMIT 1)",
    );
    assert_eq!(mismatched, 0);
    // Every signature in the run's blocks verifies.
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM inputs WHERE sig_valid = 0"),
        0
    );
    assert!(count(&c, "SELECT COUNT(*) FROM inputs WHERE sig_valid = 1") > 10);

    // Raw hex round-trips through the ledger decoder to the stored ids.
    let mut s = c.prepare("SELECT txid, raw FROM transactions").unwrap();
    let txs: Vec<(String, Vec<u8>)> = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (txid, raw) in &txs {
        let t = Transaction::decode(raw).expect("stored transactions decode");
        assert_eq!(&t.compute_txid().to_string(), txid);
    }
    let mut s = c.prepare("SELECT hash, header_hex FROM blocks").unwrap();
    let heads: Vec<(String, String)> = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (hash, hex) in &heads {
        let h = Header::from_hex(hex).expect("stored headers decode");
        assert_eq!(&h.block_hash().to_string(), hash);
    }
    // Every transaction of every block, in block order, has its raw form.
    let n: i64 = count(&c, "SELECT SUM(txs) FROM blocks");
    assert_eq!(count(&c, "SELECT COUNT(*) FROM block_txs"), n);
    let _ = Block::bitcoin_genesis; // the decoder types above are the ledger's own

    // Arrivals: a small run records one per block and full node that had it.
    assert_eq!(
        c.query_row("SELECT value FROM run WHERE key = 'arrivals'", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap(),
        "1"
    );
    let prop = rows(&dir.join("propagation.csv"));
    let reached: i64 = prop
        .iter()
        .map(|p| p["reached"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(count(&c, "SELECT COUNT(*) FROM arrivals"), reached);
    // reorgs, nodes as in their CSVs.
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM reorgs"),
        rows(&dir.join("reorgs.csv")).len() as i64
    );
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM nodes"),
        rows(&dir.join("nodes.csv")).len() as i64
    );
}

#[test]
fn database_is_byte_identical_and_in_the_manifest() {
    let base = scratch("store", "determinism");
    let (a, b) = (base.join("a"), base.join("b"));
    run_to("tests/scenarios/small.yaml", &a, &["--no-charts"]);
    run_to("tests/scenarios/small.yaml", &b, &["--no-charts"]);
    let (da, db) = (
        fs::read(a.join("chain.sqlite")).unwrap(),
        fs::read(b.join("chain.sqlite")).unwrap(),
    );
    assert!(da.len() > 4096);
    assert!(da == db, "chain.sqlite differs between two runs of seed 7");
    // The manifest lists every file with its SHA-256.
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(a.join("manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_object().expect("manifest.files");
    use sha2::{Digest, Sha256};
    let want = hex::encode(Sha256::digest(&da));
    assert_eq!(files["chain.sqlite"], want.as_str());
    assert!(files.contains_key("blocks.csv") && !files.contains_key("manifest.json"));
    for (name, digest) in files {
        let got = hex::encode(Sha256::digest(fs::read(a.join(name)).unwrap()));
        assert_eq!(digest, got.as_str(), "{name}");
    }
    // --no-db leaves it out.
    let c = base.join("c");
    run_to(
        "tests/scenarios/small.yaml",
        &c,
        &["--no-charts", "--no-db"],
    );
    assert!(!c.join("chain.sqlite").exists());
}

fn stdout(args: &[&str]) -> String {
    let o = sim(args);
    assert!(
        o.status.success(),
        "sim {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn fails_with_2(args: &[&str]) -> String {
    let o = sim(args);
    assert_eq!(o.status.code(), Some(2), "sim {args:?}");
    let e = String::from_utf8(o.stderr).unwrap();
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    e
}

#[test]
fn show_looks_up_blocks_txs_addresses_and_nodes() {
    let dir = scratch("store", "show").join("run");
    run_to("tests/scenarios/small.yaml", &dir, &["--no-charts"]);
    let d = dir.to_str().unwrap();

    // A block by height, as JSON and as text; its header decodes.
    let b: serde_json::Value =
        serde_json::from_str(&stdout(&["show", d, "block", "5", "--json"])).unwrap();
    assert_eq!(b["height"], 5);
    assert_eq!(b["main_chain"], true);
    let hash = b["hash"].as_str().unwrap();
    let text = stdout(&["show", d, "block", hash]);
    assert!(
        text.contains(hash) && text.contains("header hex:"),
        "{text}"
    );
    let header = stdout(&["header", b["header_hex"].as_str().unwrap()]);
    assert!(
        header.contains(hash),
        "sim header gives the same hash: {header}"
    );

    // A payment: show it, decode its hex with `sim tx`, follow its address.
    let pay = rows(&dir.join("payments.csv"));
    let p = pay.iter().find(|p| p["confirmed"] == "1").unwrap();
    let t: serde_json::Value =
        serde_json::from_str(&stdout(&["show", d, "tx", &p["txid"], "--json"])).unwrap();
    assert_eq!(t["block"], p["block"].as_str());
    assert_eq!(t["inputs"][0]["sig_valid"], true);
    let decoded = stdout(&["tx", t["hex"].as_str().unwrap()]);
    assert!(decoded.contains(&p["txid"]), "{decoded}");
    let text = stdout(&["show", d, "tx", &p["txid"]]);
    assert!(text.contains("signature valid"), "{text}");
    let addr = t["outputs"][0]["address"].as_str().unwrap();
    let a: serde_json::Value =
        serde_json::from_str(&stdout(&["show", d, "address", addr, "--json"])).unwrap();
    assert_eq!(a["address"], addr);
    assert!(a["history"].as_array().unwrap().len() >= 2);
    assert!(stdout(&["show", d, "address", addr]).contains("balance:"));

    let n: serde_json::Value =
        serde_json::from_str(&stdout(&["show", d, "node", "0", "--json"])).unwrap();
    assert_eq!(n["node"], 0);
    assert!(!n["peers"].as_array().unwrap().is_empty());
    assert!(stdout(&["show", d, "node", "0"]).contains("blocks mined"));

    // Unknown keys: one line, exit 2.
    let zeros = "0".repeat(63) + "1";
    assert!(fails_with_2(&["show", d, "block", &zeros]).contains("not in this run"));
    fails_with_2(&["show", d, "block", "999999"]);
    fails_with_2(&["show", d, "tx", &zeros]);
    fails_with_2(&["show", d, "address", "1BitcoinEaterAddressDontSendf59kuE"]);
    fails_with_2(&["show", d, "node", "99"]);
    let nodb = scratch("store", "show-nodb");
    fails_with_2(&["show", nodb.to_str().unwrap(), "node", "0"]);
}

#[test]
fn database_keeps_the_manifests_block_relay() {
    let base = scratch("store", "block_relay");
    let short = ["--no-charts", "--set", "stop={height: 5, settle: 10s}"];
    let runs: [(&str, Vec<&str>); 3] = [
        ("compact", vec![]),
        ("padded", vec!["--set", "consensus.block_fill_bytes=200000"]),
        (
            "whole",
            vec![
                "--set",
                "network.relay.compact=false",
                "--set",
                "consensus.block_fill_bytes=200000",
            ],
        ),
    ];
    let mut seen = Vec::new();
    for (name, extra) in &runs {
        let dir = base.join(name);
        run_to(
            "tests/scenarios/small.yaml",
            &dir,
            &[&short[..], &extra[..]].concat(),
        );
        let m: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let want = &m["block_relay"];

        // The raw facts, as a SQL user reads them.
        let c = db(&dir);
        let fact = |k: &str| -> String {
            c.query_row("SELECT value FROM run WHERE key = ?1", [k], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{name}: run.{k}: {e}"))
        };
        assert_eq!(fact("format_version"), "2");
        assert_eq!(fact("block_relay_mode"), want["mode"].as_str().unwrap());
        assert_eq!(fact("block_relay_note"), want["note"].as_str().unwrap());
        let modelled: Vec<&str> = want["modelled"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(fact("block_relay_modelled"), modelled.join(","), "{name}");

        // Read back through the store: the manifest's object, field for field.
        let o = forklab::store::read::Store::open(&dir)
            .unwrap()
            .overview()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&o.block_relay).unwrap(),
            *want,
            "{name}: chain.sqlite's block relay differs from the manifest's"
        );
        seen.push((o.block_relay.mode.clone(), o.block_relay.modelled_words()));
    }
    assert_eq!(
        seen,
        [
            ("compact".to_string(), None),
            (
                "compact".to_string(),
                Some("reconstruction failures of padded blocks (SimBlock's rates)".to_string())
            ),
            ("whole_blocks".to_string(), None),
        ]
    );

    // A database of the previous schema version is refused in one line.
    let old = base.join("old");
    fs::create_dir_all(&old).unwrap();
    fs::copy(base.join("padded/chain.sqlite"), old.join("chain.sqlite")).unwrap();
    Connection::open(old.join("chain.sqlite"))
        .unwrap()
        .execute_batch("PRAGMA user_version = 1")
        .unwrap();
    let e = fails_with_2(&["show", old.to_str().unwrap(), "node", "0"]);
    assert!(
        e.contains("schema version 1, this forklab reads 2")
            && e.contains("run the scenario again"),
        "{e}"
    );
}
