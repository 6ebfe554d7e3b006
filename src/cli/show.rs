//! `sim show DIR block|tx|address|node KEY [--json]`: looks a block,
//! transaction, address or node of a finished run up in its `chain.sqlite`.
//!
//! Text by default (aligned `key: value` lines like `sim tx`), `--json` for
//! scripts (the same JSON as the explorer's `/api/…`). The raw header and
//! transaction hex are printed so `sim header` and `sim tx` decode them.
//! An unknown key, a missing database or a malformed key is one line and
//! exit code 2.

use std::fmt::Write as _;
use std::path::Path;

use forklab::store::read::Store;
use forklab::store::view::{AddressView, BlockView, NodeView, TxView};
use forklab::store::StoreError;

use super::{outln, CliError, CliResult};

/// What to show.
#[derive(Debug, Clone)]
pub enum ShowWhat {
    /// A block by hash or main-chain height.
    Block(String),
    /// A transaction by txid.
    Tx(String),
    /// An address.
    Address(String),
    /// A node by id.
    Node(u32),
}

/// Opens a run's database, or says in one line why not (exit 2).
pub fn open(dir: &Path) -> Result<Store, CliError> {
    Store::open(dir).map_err(|e| match e {
        StoreError::Sql { .. } => CliError::other(e),
        _ => CliError::input(e),
    })
}

/// `sim show`.
pub fn show(dir: &Path, what: ShowWhat, json: bool) -> CliResult {
    let store = open(dir)?;
    let text = match what {
        ShowWhat::Block(key) => {
            let hash = if key.len() < 64 && key.bytes().all(|b| b.is_ascii_digit()) {
                let h: u32 = key
                    .parse()
                    .map_err(|_| CliError::input(format!("block {key}: height out of range")))?;
                found(store.main_hash_at(h), || {
                    format!("block {key}: no main-chain block at that height")
                })?
            } else {
                key.to_ascii_lowercase()
            };
            let b = found(store.block(&hash), || {
                format!("block {key}: not in this run")
            })?;
            shown(&b, json, block_text)
        }
        ShowWhat::Tx(txid) => {
            let t = found(store.tx(&txid.to_ascii_lowercase()), || {
                format!("tx {txid}: not in any block of this run")
            })?;
            shown(&t, json, tx_text)
        }
        ShowWhat::Address(addr) => {
            let a = found(store.address(&addr), || {
                format!("address {addr}: never paid on the main chain of this run")
            })?;
            shown(&a, json, address_text)
        }
        ShowWhat::Node(n) => {
            let v = found(store.node(n), || {
                format!("node {n}: no such node in this run")
            })?;
            shown(&v, json, node_text)
        }
    };
    outln!("{}", text.trim_end());
    Ok(())
}

/// A look-up's answer; a database error as such, an unknown key as the
/// one line `missing` says (exit 2).
fn found<T>(
    lookup: Result<Option<T>, StoreError>,
    missing: impl FnOnce() -> String,
) -> Result<T, CliError> {
    lookup
        .map_err(CliError::other)?
        .ok_or_else(|| CliError::input(missing()))
}

/// `view` as JSON (`--json`) or as `text` lines.
fn shown<T: serde::Serialize>(view: &T, json: bool, text: fn(&T) -> String) -> String {
    if json {
        to_json(view)
    } else {
        text(view)
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("views serialize")
}

/// Aligned `key: value` lines.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn kv(&mut self, key: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.0, "{:<20} {value}", format!("{key}:"));
    }
    fn line(&mut self, text: impl std::fmt::Display) {
        let _ = writeln!(self.0, "{text}");
    }
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "-".into())
}

fn block_text(b: &BlockView) -> String {
    let mut o = Lines::default();
    let x = &b.brief;
    o.kv("block", &x.hash);
    o.kv("height", x.height);
    o.kv(
        "main chain",
        if x.main_chain {
            format!("yes, {} confirmations", b.confirmations)
        } else {
            "no (stale)".into()
        },
    );
    o.kv("miner", opt(&x.miner.map(|m| format!("node {m}"))));
    o.kv("found at", format!("{:.3} s", x.time_s));
    o.kv("parent", &x.parent);
    o.kv("children", b.children.join(" "));
    o.kv("version", b.version);
    o.kv("merkle root", &b.merkle_root);
    o.kv("header time", b.header_time);
    o.kv("bits", &b.bits);
    o.kv("nonce", b.nonce);
    o.kv("target", &b.target);
    o.kv("work", format!("0x{}", b.work));
    o.kv("size", format!("{} bytes", x.size_bytes));
    o.kv("fees", format!("{} sats", b.fees_sats));
    o.kv("header hex", &b.header_hex);
    o.line(format!("transactions ({}):", b.transactions.len()));
    for t in &b.transactions {
        o.line(format!(
            "  {} {:>8} bytes  out {} sats  {}",
            t.txid,
            t.size_bytes,
            t.value_out_sats,
            if t.coinbase {
                "coinbase".to_string()
            } else {
                format!("fee {} sats", opt(&t.fee_sats))
            }
        ));
    }
    match &b.arrivals {
        None => o.line("arrivals: not recorded (run above the node limit)"),
        Some(a) => {
            o.line(format!("arrivals ({} nodes, ms after found):", a.len()));
            for r in a {
                o.line(format!("  node {:>6}  {:>10.3} ms", r.node, r.delay_ms));
            }
        }
    }
    o.0
}

fn tx_text(t: &TxView) -> String {
    let mut o = Lines::default();
    o.kv("tx", &t.txid);
    o.kv("size", format!("{} bytes", t.size_bytes));
    o.kv("coinbase", if t.coinbase { "yes" } else { "no" });
    o.kv("value out", format!("{} sats", t.value_out_sats));
    o.kv("fee", opt(&t.fee_sats.map(|f| format!("{f} sats"))));
    match (&t.block, t.height) {
        (Some(b), Some(h)) => {
            o.kv("confirmed in", format!("{b} (height {h})"));
            o.kv("confirmations", t.confirmations);
        }
        _ => o.kv("confirmed in", "- (only in stale blocks)"),
    }
    for h in &t.blocks {
        o.kv(
            "in block",
            format!(
                "{} height {}{}",
                h.hash,
                h.height,
                if h.main_chain { "" } else { " (stale)" }
            ),
        );
    }
    o.line(format!("inputs ({}):", t.inputs.len()));
    for i in &t.inputs {
        let verdict = match (i.sig_valid, &i.sig_error) {
            (None, _) => "coinbase".to_string(),
            (Some(true), _) => "signature valid".to_string(),
            (Some(false), e) => format!("signature INVALID: {}", opt(e)),
        };
        o.line(format!(
            "  #{} {}:{}  {} sats from {}  {verdict}",
            i.vin,
            i.prev_txid,
            i.prev_vout,
            opt(&i.value_sats),
            opt(&i.address)
        ));
    }
    o.line(format!("outputs ({}):", t.outputs.len()));
    for out in &t.outputs {
        o.line(format!(
            "  #{} {} sats to {}  {}",
            out.vout,
            out.value_sats,
            out.address
                .clone()
                .unwrap_or_else(|| out.script_asm.clone()),
            out.spent_by
                .as_ref()
                .map(|s| format!("spent by {s}"))
                .unwrap_or_else(|| "unspent".into())
        ));
    }
    o.kv("hex", &t.hex);
    o.0
}

fn address_text(a: &AddressView) -> String {
    let mut o = Lines::default();
    o.kv("address", &a.address);
    o.kv("wallet", opt(&a.wallet));
    o.kv("received", format!("{} sats", a.received_sats));
    o.kv("spent", format!("{} sats", a.spent_sats));
    o.kv("balance", format!("{} sats", a.balance_sats));
    o.line(format!("unspent outputs ({}):", a.utxos.len()));
    for u in &a.utxos {
        o.line(format!(
            "  {}:{}  {} sats  height {}",
            u.txid, u.vout, u.value_sats, u.height
        ));
    }
    o.line(format!("history ({} transactions):", a.history.len()));
    for h in &a.history {
        o.line(format!(
            "  height {:>6} {:>10.1} s  {}  +{} -{}  balance {}",
            h.height, h.time_s, h.txid, h.received_sats, h.spent_sats, h.balance_sats
        ));
    }
    o.0
}

fn node_text(n: &NodeView) -> String {
    let mut o = Lines::default();
    o.kv("node", n.node);
    o.kv("role", &n.role);
    if !n.region.is_empty() {
        o.kv("region", &n.region);
    }
    o.kv("hashrate", format!("{} H/s", n.hashrate_hps));
    o.kv(
        "final tip",
        format!("{} (height {})", n.final_tip, n.final_height),
    );
    o.kv(
        "peers",
        n.peers
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    );
    o.line(format!("blocks mined ({}):", n.mined.len()));
    for b in &n.mined {
        o.line(format!(
            "  height {:>6} {:>10.1} s  {}{}",
            b.height,
            b.time_s,
            b.hash,
            if b.main_chain { "" } else { "  (stale)" }
        ));
    }
    o.line(format!("reorgs ({}):", n.reorgs.len()));
    for r in &n.reorgs {
        o.line(format!(
            "  {:>10.1} s  depth {}  height {} -> {}  new tip {}",
            r.time_s, r.depth, r.old_height, r.new_height, r.new_tip
        ));
    }
    match &n.tips {
        None => o.line("tip changes: not recorded (metrics.tips)"),
        Some(t) => {
            o.line(format!("tip changes ({}):", t.len()));
            for c in t {
                o.line(format!(
                    "  {:>10.1} s  height {:>6}  {}",
                    c.time_s, c.height, c.tip
                ));
            }
        }
    }
    o.0
}
