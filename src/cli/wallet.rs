//! `sim wallet send|balance|history`: a wallet that is a real HTTP client
//! of a live lab's node API (`sim serve FILE`).
//!
//! `send` fetches the sender's unspent outputs from the node, builds and
//! signs the transaction here ([`forklab::workload::build_spend`]): the key
//! never leaves this process. It posts only the raw hex.

use forklab::ledger::keys::PrivateKey;
use forklab::ledger::Address;
use forklab::serve::live::node_api::{BalanceAnswer, HistoryAnswer, TxAnswer, UtxosAnswer};
use serde_json::Value;

use super::{outln, CliError, CliResult};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

fn base(node: &str) -> Result<String, CliError> {
    let n = node.trim_end_matches('/');
    if !(n.starts_with("http://") || n.starts_with("https://")) {
        return Err(CliError::input(format!(
            "--node {node}: give the node API's URL, e.g. http://127.0.0.1:5000"
        )));
    }
    Ok(n.to_string())
}

/// The body of an answer, or the node's `{"error"}` as a CLI error.
fn answer<T: serde::de::DeserializeOwned>(
    what: &str,
    r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<T, CliError> {
    let mut r = r.map_err(|e| CliError::other(format!("{what}: cannot reach the node: {e}")))?;
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .read_to_string()
        .map_err(|e| CliError::other(format!("{what}: reading the answer: {e}")))?;
    if (200..300).contains(&status) {
        serde_json::from_str(&body)
            .map_err(|e| CliError::other(format!("{what}: not a node API answer: {e}")))
    } else {
        let msg = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(body);
        Err(CliError::other(format!(
            "{what}: the node answered {status}: {msg}"
        )))
    }
}

fn address(s: &str, what: &str) -> Result<Address, CliError> {
    s.parse::<Address>()
        .map_err(|e| CliError::input(format!("{what} {s}: {e}")))
}

/// `sim wallet send`.
pub fn send(node: &str, wif: &str, to: &str, amount: u64, fee_rate: u64) -> CliResult {
    let node = base(node)?;
    let key =
        PrivateKey::from_wif(wif.trim()).map_err(|e| CliError::input(format!("--wif: {e}")))?;
    let to = address(to, "--to")?;
    let from = Address::p2pkh(&key.public_key());
    let a = agent();
    let utxos: UtxosAnswer = answer(
        "GET /utxos",
        a.get(&format!("{node}/utxos"))
            .query("address", from.to_string())
            .call(),
    )?;
    let mut coins = Vec::new();
    for u in utxos.utxos.iter().filter(|u| !u.spent_in_mempool) {
        let txid = u
            .txid
            .parse()
            .map_err(|e| CliError::other(format!("GET /utxos: txid {}: {e}", u.txid)))?;
        coins.push((
            forklab::ledger::OutPoint { txid, vout: u.vout },
            forklab::ledger::Amount::from_sat_unchecked(u.value),
        ));
    }
    let tx = forklab::workload::build_spend(&key, &coins, &to.script_pubkey(), amount, fee_rate)
        .map_err(|e| CliError::input(format!("{from}: {e}")))?;
    let hex = {
        use forklab::ledger::encode::Encodable;
        hex::encode(tx.encode())
    };
    let sent: TxAnswer = answer(
        "POST /transactions/new",
        a.post(&format!("{node}/transactions/new"))
            .send_json(serde_json::json!({ "hex": hex })),
    )?;
    outln!("{}", sent.txid);
    outln!(
        "sent {amount} sats from {from} to {to} ({} bytes, {} inputs); {} at simulated {:.1} s",
        hex.len() / 2,
        tx.input.len(),
        sent.message,
        sent.at_s
    );
    Ok(())
}

/// `sim wallet balance`.
pub fn balance(node: &str, addr: &str) -> CliResult {
    let node = base(node)?;
    let addr = address(addr, "address")?;
    let b: BalanceAnswer = answer(
        "GET /balance",
        agent()
            .get(&format!("{node}/balance"))
            .query("address", addr.to_string())
            .call(),
    )?;
    outln!(
        "{} sats ({})",
        b.balance,
        forklab::ledger::Amount::from_sat_unchecked(b.balance)
    );
    Ok(())
}

/// `sim wallet history`.
pub fn history(node: &str, addr: &str) -> CliResult {
    let node = base(node)?;
    let addr = address(addr, "address")?;
    let h: HistoryAnswer = answer(
        "GET /history",
        agent()
            .get(&format!("{node}/history"))
            .query("address", addr.to_string())
            .call(),
    )?;
    if h.transactions.is_empty() {
        outln!("no transactions for {addr} on this node");
    }
    for t in &h.transactions {
        let at = match t.height {
            Some(h) => format!("height {h:>5}"),
            None => "mempool     ".to_string(),
        };
        outln!("{at}  {}  +{} -{} sats", t.txid, t.received, t.spent);
    }
    Ok(())
}
