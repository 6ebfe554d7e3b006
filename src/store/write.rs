//! Builds `chain.sqlite` from a finished run (see the [module docs](super)
//! for what keeps the file byte-for-byte deterministic and fast).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::{params, Connection};

use super::schema::{INDEXES, TABLES};
use super::view::BlockRelayView;
use super::{StoreError, ARRIVALS_MAX_NODES, MAX_ASM_CHARS, SCHEMA_VERSION};
use crate::ledger::sighash::verify_p2pkh_input;
use crate::ledger::{Address, BlockHash, Encodable, OutPoint, ScriptBuf, Transaction, Txid};
use crate::metrics::{MinedBlock, Recorder};

/// SQLite page size: 16 KiB keeps the padded megabyte-sized transactions of
/// large runs in fewer overflow pages than the default 4 KiB (measured
/// faster at 10,000 nodes) while a small run's file stays near a megabyte.
const PAGE_SIZE: u32 = 16_384;

/// What a finished run hands the database, as plain values (the store
/// imports nothing above it: the world builds this from its run output).
#[derive(Clone, Copy)]
pub struct RunResult<'a> {
    /// Everything observed.
    pub metrics: &'a Recorder,
    /// Events processed.
    pub events: u64,
    /// The event digest, hex.
    pub event_digest: &'a str,
    /// The best block among honest full nodes at the end.
    pub final_tip: BlockHash,
    /// The final main chain (genesis first).
    pub main_chain: &'a [BlockHash],
}

/// Facts about the run that are not in its [`RunResult`] (from the manifest).
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// forklab version.
    pub forklab_version: String,
    /// Scenario name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// The resolved scenario as JSON.
    pub scenario_json: String,
    /// Whether nonces were ground.
    pub pow_ground: bool,
    /// How blocks were relayed (the manifest's `block_relay`).
    pub block_relay: BlockRelayView,
}

/// What [`write()`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteStats {
    /// Rows in `blocks`.
    pub blocks: u64,
    /// Rows in `transactions`.
    pub transactions: u64,
    /// Rows in `arrivals`.
    pub arrivals: u64,
}

/// Writes the database of `out` to `path` (a new file).
pub fn write(path: &Path, info: &RunInfo, out: &RunResult<'_>) -> Result<WriteStats, StoreError> {
    let sql = |source| StoreError::Sql {
        path: path.to_path_buf(),
        source,
    };
    let _ = std::fs::remove_file(path);
    let mut conn = Connection::open(path).map_err(sql)?;
    // Fixed layout: page size and encoding before the first table; no
    // rollback journal (the file is unpublished until the directory is
    // renamed into place); one writer.
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE}; PRAGMA encoding = 'UTF-8'; \
         PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
         PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = MEMORY; \
         PRAGMA cache_size = -65536; PRAGMA user_version = {SCHEMA_VERSION};"
    ))
    .map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    let stats = fill(&tx, info, out).map_err(sql)?;
    for stmt in INDEXES {
        tx.execute_batch(stmt).map_err(sql)?;
    }
    tx.commit().map_err(sql)?;
    conn.close().map_err(|(_, e)| sql(e))?;
    Ok(stats)
}

/// A transaction as first seen, with where it is on the main chain.
struct TxEntry<'a> {
    txid: Txid,
    tx: &'a Transaction,
    main: Option<(BlockHash, u32)>,
}

/// The asm of `script`, cut after [`MAX_ASM_CHARS`].
fn asm(script: &ScriptBuf) -> String {
    if script.len() * 2 > MAX_ASM_CHARS * 4 {
        // Do not format megabytes of padding only to cut them.
        let head = ScriptBuf(script.as_bytes()[..MAX_ASM_CHARS].to_vec()).to_asm();
        return format!(
            "{}… ({} bytes)",
            head.chars().take(MAX_ASM_CHARS).collect::<String>(),
            script.len()
        );
    }
    let a = script.to_asm();
    if a.chars().count() > MAX_ASM_CHARS {
        format!(
            "{}… ({} bytes)",
            a.chars().take(MAX_ASM_CHARS).collect::<String>(),
            script.len()
        )
    } else {
        a
    }
}

fn address_of(script: &ScriptBuf) -> Option<String> {
    Address::from_script(script).map(|a| a.to_string())
}

fn insert_all(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    rows: impl FnMut(&mut rusqlite::Statement<'_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let t = TABLES
        .iter()
        .find(|t| t.name == table)
        .expect("a table of the schema");
    let mut stmt = tx.prepare(&t.insert_sql())?;
    let mut rows = rows;
    rows(&mut stmt)
}

fn fill(
    db: &rusqlite::Transaction<'_>,
    info: &RunInfo,
    out: &RunResult<'_>,
) -> rusqlite::Result<WriteStats> {
    for t in TABLES {
        db.execute_batch(&t.create_sql())?;
    }
    let m = out.metrics;
    let blocks: Vec<MinedBlock<'_>> = m.mined_blocks().collect();
    let main: HashMap<BlockHash, u32> = out
        .main_chain
        .iter()
        .enumerate()
        .map(|(h, b)| (*b, h as u32))
        .collect();
    let hashes: Vec<BlockHash> = blocks.iter().map(|b| b.block.block_hash()).collect();

    // Every transaction once, in order of first appearance.
    let mut entries: Vec<TxEntry<'_>> = Vec::new();
    let mut index: HashMap<Txid, usize> = HashMap::new();
    for (b, hash) in blocks.iter().zip(&hashes) {
        let on_main = main.get(hash).map(|h| (*hash, *h));
        for (t, txid) in b.block.txdata.iter().zip(b.txids) {
            let i = *index.entry(*txid).or_insert_with(|| {
                entries.push(TxEntry {
                    txid: *txid,
                    tx: t,
                    main: None,
                });
                entries.len() - 1
            });
            if on_main.is_some() {
                entries[i].main = on_main;
            }
        }
    }
    let prevout = |o: &OutPoint| {
        index
            .get(&o.txid)
            .and_then(|i| entries[*i].tx.output.get(o.vout as usize))
    };
    let fee = |t: &Transaction| -> Option<u64> {
        if t.is_coinbase() {
            return None;
        }
        let ins: Option<u64> = t
            .input
            .iter()
            .map(|i| prevout(&i.previous_output).map(|o| o.value.to_sat()))
            .sum();
        let outs: u64 = t.output.iter().map(|o| o.value.to_sat()).sum();
        ins.and_then(|i| i.checked_sub(outs))
    };

    // Spends on the main chain, in chain order.
    let mut main_blocks: Vec<usize> = (0..blocks.len())
        .filter(|i| main.contains_key(&hashes[*i]))
        .collect();
    main_blocks.sort_by_key(|i| main[&hashes[*i]]);
    let mut spent_by: HashMap<OutPoint, (Txid, u32)> = HashMap::new();
    for &bi in &main_blocks {
        for (t, txid) in blocks[bi].block.txdata.iter().zip(blocks[bi].txids) {
            if t.is_coinbase() {
                continue;
            }
            for (vin, i) in t.input.iter().enumerate() {
                spent_by.insert(i.previous_output, (*txid, vin as u32));
            }
        }
    }

    // run
    let node_count = m.node_count();
    let arrivals_on = node_count <= ARRIVALS_MAX_NODES;
    let facts: Vec<(&str, String)> = vec![
        ("format_version", SCHEMA_VERSION.to_string()),
        ("forklab_version", info.forklab_version.clone()),
        ("name", info.name.clone()),
        ("seed", info.seed.to_string()),
        ("events", out.events.to_string()),
        ("event_digest", out.event_digest.to_string()),
        ("final_tip", out.final_tip.to_string()),
        (
            "main_chain_height",
            out.main_chain.len().saturating_sub(1).to_string(),
        ),
        ("nodes", node_count.to_string()),
        ("arrivals", (arrivals_on as u8).to_string()),
        ("tips", (m.records_tips() as u8).to_string()),
        ("pow_ground", (info.pow_ground as u8).to_string()),
        ("block_relay_mode", info.block_relay.mode.clone()),
        ("block_relay_modelled", info.block_relay.modelled.join(",")),
        ("block_relay_note", info.block_relay.note.clone()),
        ("scenario", info.scenario_json.clone()),
    ];
    insert_all(db, "run", |s| {
        for (k, v) in &facts {
            s.execute(params![k, v])?;
        }
        Ok(())
    })?;

    // blocks
    insert_all(db, "blocks", |s| {
        for (id, (b, hash)) in blocks.iter().zip(&hashes).enumerate() {
            let h = &b.block.header;
            let target = h.target().ok();
            let fees: u64 = b.block.txdata.iter().filter_map(&fee).sum();
            s.execute(params![
                id as i64,
                hash.to_string(),
                b.row.parent,
                b.row.height,
                (b.row.miner >= 0).then_some(b.row.miner),
                b.row.time_s,
                main.contains_key(hash) as i64,
                b.block.txdata.len() as i64,
                b.row.size_bytes as i64,
                fees as i64,
                h.version,
                h.merkle_root.to_string(),
                h.time,
                h.bits.to_string(),
                h.nonce,
                target.map(|t| t.to_be_hex()).unwrap_or_default(),
                target
                    .map(|t| format!("{:x}", t.to_work()))
                    .unwrap_or_default(),
                hex::encode(h.to_bytes()),
            ])?;
        }
        Ok(())
    })?;

    // transactions, inputs, outputs
    insert_all(db, "transactions", |s| {
        for (id, e) in entries.iter().enumerate() {
            let raw = e.tx.encode();
            s.execute(params![
                id as i64,
                e.txid.to_string(),
                raw,
                raw.len() as i64,
                e.tx.is_coinbase() as i64,
                e.tx.input.len() as i64,
                e.tx.output.len() as i64,
                e.tx.output.iter().map(|o| o.value.to_sat()).sum::<u64>() as i64,
                fee(e.tx).map(|f| f as i64),
                e.main.map(|(b, _)| b.to_string()),
                e.main.map(|(_, h)| h),
            ])?;
        }
        Ok(())
    })?;
    insert_all(db, "block_txs", |s| {
        for (b, hash) in blocks.iter().zip(&hashes) {
            let hash = hash.to_string();
            for (pos, txid) in b.txids.iter().enumerate() {
                s.execute(params![hash, pos as i64, txid.to_string()])?;
            }
        }
        Ok(())
    })?;
    insert_all(db, "inputs", |s| {
        for e in &entries {
            let txid = e.txid.to_string();
            let coinbase = e.tx.is_coinbase();
            for (vin, i) in e.tx.input.iter().enumerate() {
                let spent = (!coinbase).then(|| prevout(&i.previous_output)).flatten();
                let verdict: Option<Result<(), String>> = (!coinbase).then(|| match spent {
                    Some(o) => verify_p2pkh_input(e.tx, vin, &o.script_pubkey)
                        .map_err(|err| err.to_string()),
                    None => Err("spent output is in no block of the run".to_string()),
                });
                s.execute(params![
                    txid,
                    vin as i64,
                    i.previous_output.txid.to_string(),
                    i.previous_output.vout,
                    spent.map(|o| o.value.to_sat() as i64),
                    spent.and_then(|o| address_of(&o.script_pubkey)),
                    asm(&i.script_sig),
                    verdict.as_ref().map(|v| v.is_ok() as i64),
                    verdict.and_then(|v| v.err()),
                ])?;
            }
        }
        Ok(())
    })?;
    insert_all(db, "outputs", |s| {
        for e in &entries {
            let txid = e.txid.to_string();
            for (vout, o) in e.tx.output.iter().enumerate() {
                let by = spent_by.get(&OutPoint {
                    txid: e.txid,
                    vout: vout as u32,
                });
                s.execute(params![
                    txid,
                    vout as i64,
                    o.value.to_sat() as i64,
                    asm(&o.script_pubkey),
                    address_of(&o.script_pubkey),
                    by.map(|(t, _)| t.to_string()),
                    by.map(|(_, v)| *v),
                ])?;
            }
        }
        Ok(())
    })?;

    // addresses and their history, along the main chain
    let wallets: HashMap<&str, u32> = m
        .balance_rows()
        .iter()
        .map(|r| (r.address.as_str(), r.wallet))
        .collect();
    #[derive(Default)]
    struct Totals {
        received: u64,
        spent: u64,
        utxos: i64,
        txs: i64,
    }
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    insert_all(db, "address_history", |s| {
        for &bi in &main_blocks {
            let b = &blocks[bi];
            let hash = hashes[bi].to_string();
            for (t, txid) in b.block.txdata.iter().zip(b.txids) {
                // Per address: (received, spent) in this transaction.
                let mut moved: BTreeMap<String, (u64, u64, i64)> = BTreeMap::new();
                for o in &t.output {
                    if let Some(a) = address_of(&o.script_pubkey) {
                        let e = moved.entry(a).or_default();
                        e.0 += o.value.to_sat();
                        e.2 += 1;
                    }
                }
                if !t.is_coinbase() {
                    for i in &t.input {
                        if let Some(o) = prevout(&i.previous_output) {
                            if let Some(a) = address_of(&o.script_pubkey) {
                                let e = moved.entry(a).or_default();
                                e.1 += o.value.to_sat();
                                e.2 -= 1;
                            }
                        }
                    }
                }
                for (a, (recv, spent, utxo_delta)) in moved {
                    let tot = totals.entry(a.clone()).or_default();
                    tot.received += recv;
                    tot.spent += spent;
                    tot.utxos += utxo_delta;
                    s.execute(params![
                        a,
                        tot.txs,
                        b.row.height,
                        hash,
                        b.row.time_s,
                        txid.to_string(),
                        recv as i64,
                        spent as i64,
                        tot.received.saturating_sub(tot.spent) as i64,
                    ])?;
                    tot.txs += 1;
                }
            }
        }
        Ok(())
    })?;
    insert_all(db, "addresses", |s| {
        for (a, t) in &totals {
            s.execute(params![
                a,
                wallets.get(a.as_str()),
                t.received as i64,
                t.spent as i64,
                t.received.saturating_sub(t.spent) as i64,
                t.utxos,
                t.txs,
            ])?;
        }
        Ok(())
    })?;

    // the CSVs' rows
    insert_all(db, "payments", |s| {
        for p in m.payment_rows() {
            s.execute(params![
                p.time_s,
                p.from_wallet,
                p.to_wallet,
                p.txid,
                p.amount_sats as i64,
                p.confirmed,
                (!p.block.is_empty()).then_some(&p.block),
                p.height,
                p.fee_sats.map(|f| f as i64),
            ])?;
        }
        Ok(())
    })?;
    insert_all(db, "reorgs", |s| {
        for r in m.reorg_rows() {
            s.execute(params![
                r.node,
                r.time_s,
                r.depth,
                r.old_tip,
                r.new_tip,
                r.old_height,
                r.new_height
            ])?;
        }
        Ok(())
    })?;
    insert_all(db, "tips", |s| {
        for r in m.tip_rows() {
            s.execute(params![r.node, r.time_s, r.tip, r.height])?;
        }
        Ok(())
    })?;
    insert_all(db, "nodes", |s| {
        for n in m.node_rows() {
            s.execute(params![
                n.node,
                n.role,
                n.region,
                n.hashrate_hps,
                n.peers,
                n.blocks_mined,
                n.blocks_main,
                n.reorgs,
                n.deepest_reorg,
                n.final_height,
                n.final_tip
            ])?;
        }
        Ok(())
    })?;
    insert_all(db, "peers", |s| {
        for (node, peers) in m.peer_lists().iter().enumerate() {
            let mut last = None;
            for p in peers {
                if last != Some(p) {
                    s.execute(params![node as i64, p])?;
                }
                last = Some(p);
            }
        }
        Ok(())
    })?;
    let mut arrivals = 0u64;
    if arrivals_on {
        insert_all(db, "arrivals", |s| {
            for (id, b) in blocks.iter().enumerate().skip(1) {
                for (node, ns) in b.arrival_nodes.iter().zip(b.arrival_ns) {
                    s.execute(params![id as i64, node, *ns as f64 / 1e6])?;
                    arrivals += 1;
                }
            }
            Ok(())
        })?;
    }
    Ok(WriteStats {
        blocks: blocks.len() as u64,
        transactions: entries.len() as u64,
        arrivals,
    })
}
