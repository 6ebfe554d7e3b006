//! The explorer's HTML pages, rendered on the server with maud (escaped by
//! construction) from the same look-ups as the JSON API; figures are inline
//! SVG ([`super::svg`]), so no page needs a script.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::api::{self, ApiError, BlocksQuery, SearchQuery};
use super::{svg, Explorer};
use crate::store::view::*;

/// A page answering with an error status.
pub struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}
impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        PageError(e.into())
    }
}
impl From<PathRejection> for PageError {
    fn from(e: PathRejection) -> Self {
        PageError(e.into())
    }
}
impl From<QueryRejection> for PageError {
    fn from(e: QueryRejection) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Bad request",
            _ => "Error",
        };
        let body = html! {
            p.error #error-message { (self.0.message) }
            p { a href="/" { "Back to the overview" } }
        };
        (self.0.status, layout(title, body)).into_response()
    }
}

type PageResult = Result<Markup, PageError>;

/// The page frame: header with navigation and search, then `body`.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · forklab explorer" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header {
                    a href="/" { "forklab explorer" }
                    a href="/" { "Overview" }
                    a href="/blocks" { "Blocks" }
                    form action="/search" method="get" role="search" {
                        input #search name="q" type="search" aria-label="search"
                            placeholder="block hash, txid, address, height or node N";
                        button type="submit" { "Search" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn hash_link(kind: &str, h: &str) -> Markup {
    html! { a.hash href=(format!("/{kind}/{h}")) { (h) } }
}

fn sats(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main_tag(main: bool) -> Markup {
    if main {
        html! { span.tag.main { "main chain" } }
    } else {
        html! { span.tag.stale { "stale" } }
    }
}

fn miner_cell(m: Option<i64>) -> Markup {
    match m {
        Some(m) => html! {
            span.swatch style=(format!("background:{}", svg::miner_colour(Some(m)))) {}
            a href=(format!("/node/{m}")) { "node " (m) }
        },
        None => html! { span.muted { "genesis" } },
    }
}

fn block_table(blocks: &[BlockBrief]) -> Markup {
    html! {
        table #blocks {
            thead { tr {
                th.num { "height" } th { "hash" } th { "miner" } th.num { "found (s)" }
                th.num { "txs" } th.num { "bytes" } th { "chain" }
            } }
            tbody {
                @for b in blocks {
                    tr.stale[!b.main_chain] {
                        td.num { (b.height) }
                        td { (hash_link("block", &b.hash)) }
                        td { (miner_cell(b.miner)) }
                        td.num { (format!("{:.1}", b.time_s)) }
                        td.num { (b.txs) }
                        td.num { (sats(b.size_bytes)) }
                        td { (main_tag(b.main_chain)) }
                    }
                }
            }
        }
    }
}

fn legend(blocks: &[BlockBrief]) -> Markup {
    let mut miners: Vec<i64> = blocks.iter().filter_map(|b| b.miner).collect();
    miners.sort_unstable();
    miners.dedup();
    let shown = miners.len().min(12);
    html! {
        p.legend {
            @for m in &miners[..shown] {
                span { span.swatch style=(format!("background:{}", svg::miner_colour(Some(*m)))) {} "node " (m) }
            }
            @if miners.len() > shown { span.muted { "… " (miners.len()) " miners (colours repeat)" } }
            span { span.swatch style="background:#fff; border-style:dashed" {} "stale (dashed, pale)" }
        }
    }
}

/// `/`: the run at a glance and its fork tree.
pub async fn overview(State(x): State<Explorer>) -> PageResult {
    let (o, tree) = x.with(|s| Ok((s.overview()?, s.all_blocks()?))).await?;
    let recent: Vec<BlockBrief> = {
        let mut v: Vec<BlockBrief> = tree.iter().rev().take(10).cloned().collect();
        v.sort_by_key(|b| std::cmp::Reverse(b.height));
        v
    };
    Ok(layout(
        &format!("Run {}", o.name),
        html! {
            table.kv #overview {
                tr { th { "scenario" } td { (o.name) } }
                tr { th { "seed" } td { (o.seed) } }
                tr { th { "nodes" } td { (o.nodes) } }
                tr { th { "main-chain height" } td #height { (o.main_chain_height) } }
                tr { th { "final tip" } td { (hash_link("block", &o.final_tip)) } }
                tr { th { "blocks mined" } td { (o.blocks_mined) " (" (o.stale_blocks) " stale)" } }
                tr { th { "transactions" } td { (o.transactions) } }
                tr { th { "payments" } td { (o.payments) " (" (o.payments_confirmed) " confirmed)" } }
                tr { th { "reorgs" } td { (o.reorgs) } }
                tr { th { "events" } td { (o.events) } }
                tr { th { "event digest" } td { code { (o.event_digest) } } }
                tr { th { "proof of work" } td { @if o.pow_ground { "ground (nonces searched)" } @else { "modelled (nonces not searched)" } } }
                tr #block-relay {
                    th { "block relay" }
                    td { (o.block_relay.mode_words()) br; span.muted { (o.block_relay.note) } }
                }
                @if let Some(m) = o.block_relay.modelled_words() {
                    tr #block-relay-modelled { th { "modelled, not computed" } td { (m) } }
                }
                tr { th { "forklab" } td { (o.forklab_version) } }
            }
            h2 { "Fork tree" }
            p.muted { "Heights left to right; the final main chain on the top row, stale branches below. Click a block." }
            (legend(&tree))
            div.figure #fork-tree { (PreEscaped(svg::fork_tree(&tree, None))) }
            h2 { "Latest blocks" }
            (block_table(&recent))
            p { a href="/blocks" { "All blocks" } }
        },
    ))
}

/// `/blocks?from=&to=`: blocks by height, stale ones included.
pub async fn blocks(
    State(x): State<Explorer>,
    q: Result<Query<BlocksQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = q?;
    let (from, to) = api::block_range(&x, &q).await?;
    let list = x.with(move |s| s.blocks(from, to)).await?;
    let mut rows = list.blocks.clone();
    rows.reverse();
    let span = list.to - list.from + 1;
    Ok(layout(
        &format!("Blocks at heights {}–{}", list.from, list.to),
        html! {
            nav.pager {
                @if list.from > 0 {
                    a href=(format!("/blocks?from={}&to={}", list.from.saturating_sub(span), list.from - 1)) { "← lower" }
                }
                a href=(format!("/blocks?from={}&to={}", list.to + 1, list.to + span)) { "higher →" }
            }
            (block_table(&rows))
        },
    ))
}

/// `/block/{hash}`.
pub async fn block(
    State(x): State<Explorer>,
    hash: Result<Path<String>, PathRejection>,
) -> PageResult {
    let Path(hash) = hash?;
    let hash = api::check_hash("block hash", &hash)?;
    let h = hash.clone();
    let (b, tree, nodes) = x
        .with(move |s| {
            let b = s.block(&h)?;
            let tree = if b.is_some() {
                s.all_blocks()?
            } else {
                Vec::new()
            };
            Ok((b, tree, s.overview()?.nodes))
        })
        .await?;
    let b = b.ok_or_else(|| ApiError::not_found(format!("block {hash} is not in this run")))?;
    let x = &b.brief;
    Ok(layout(
        &format!("Block {}", x.height),
        html! {
            table.kv #block {
                tr { th { "hash" } td.hash #block-hash { (x.hash) } }
                tr { th { "chain" } td { (main_tag(x.main_chain)) @if x.main_chain { " " (b.confirmations) " confirmations" } } }
                tr { th { "height" } td { (x.height) } }
                tr { th { "miner" } td { (miner_cell(x.miner)) } }
                tr { th { "found at" } td { (format!("{:.3}", x.time_s)) " s (simulated)" } }
                tr { th { "parent" } td { (hash_link("block", &x.parent)) } }
                tr { th { "children" } td { @for c in &b.children { (hash_link("block", c)) br; } } }
                tr { th { "version" } td { (b.version) } }
                tr { th { "Merkle root" } td.hash { (b.merkle_root) } }
                tr { th { "header time" } td { (b.header_time) } }
                tr { th { "bits" } td { code { (b.bits) } } }
                tr { th { "target" } td.hash { (b.target) } }
                tr { th { "work" } td { code { "0x" (b.work) } } }
                tr { th { "nonce" } td { (b.nonce) } }
                tr { th { "size" } td { (sats(x.size_bytes)) " bytes" } }
                tr { th { "fees" } td { (sats(b.fees_sats)) " sats" } }
                tr { th { "header (hex)" } td { code #header-hex { (b.header_hex) } br; span.muted { "decode with " code { "sim header HEX" } } } }
            }
            h2 { "Transactions (" (b.transactions.len()) ")" }
            table #txs {
                thead { tr { th { "#" } th { "txid" } th.num { "bytes" } th.num { "out (sats)" } th.num { "fee (sats)" } } }
                tbody {
                    @for (i, t) in b.transactions.iter().enumerate() {
                        tr {
                            td.num { (i) }
                            td { (hash_link("tx", &t.txid)) @if t.coinbase { " " span.tag.main { "coinbase" } } }
                            td.num { (sats(t.size_bytes)) }
                            td.num { (sats(t.value_out_sats)) }
                            td.num { @match t.fee_sats { Some(f) => (sats(f)), None => "–" } }
                        }
                    }
                }
            }
            h2 { "Propagation" }
            @match &b.arrivals {
                None => p.muted { "Arrival times were not recorded for this run (more nodes than the database's arrivals limit)." },
                Some(a) => {
                    p { (a.len()) " of " (nodes) " nodes had this block by the end of the run." }
                    div.figure #propagation { (PreEscaped(svg::propagation(&a.iter().map(|r| r.delay_ms).collect::<Vec<_>>(), nodes))) }
                    details {
                        summary { "Arrival at each node" }
                        table #arrivals {
                            thead { tr { th.num { "node" } th.num { "ms after found" } } }
                            tbody { @for r in a { tr { td.num { a href=(format!("/node/{}", r.node)) { (r.node) } } td.num { (format!("{:.3}", r.delay_ms)) } } } }
                        }
                    }
                }
            }
            h2 { "In the fork tree" }
            div.figure { (PreEscaped(svg::fork_tree(&tree, Some(&x.hash)))) }
        },
    ))
}

/// `/tx/{txid}`.
pub async fn tx(
    State(x): State<Explorer>,
    txid: Result<Path<String>, PathRejection>,
) -> PageResult {
    let Path(txid) = txid?;
    let txid = api::check_hash("txid", &txid)?;
    let t = txid.clone();
    let t = x
        .with(move |s| s.tx(&t))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("tx {txid} is in no block of this run")))?;
    const HEX_SHOWN: usize = 4_000;
    Ok(layout(
        "Transaction",
        html! {
            table.kv #tx {
                tr { th { "txid" } td.hash #txid { (t.txid) } }
                tr { th { "kind" } td { @if t.coinbase { "coinbase" } @else { "payment" } } }
                tr { th { "size" } td { (sats(t.size_bytes)) " bytes" } }
                tr { th { "value out" } td { (sats(t.value_out_sats)) " sats" } }
                tr { th { "fee" } td { @match t.fee_sats { Some(f) => { (sats(f)) " sats" }, None => "–" } } }
                tr { th { "confirmed in" } td {
                    @match (&t.block, t.height) {
                        (Some(b), Some(h)) => { (hash_link("block", b)) " at height " (h) ", " (t.confirmations) " confirmations" },
                        _ => span.bad { "not on the final main chain" },
                    }
                } }
                tr { th { "in blocks" } td { @for h in &t.blocks { (hash_link("block", &h.hash)) " " (main_tag(h.main_chain)) br; } } }
            }
            h2 { "Inputs (" (t.inputs.len()) ")" }
            table #inputs {
                thead { tr { th { "#" } th { "spends" } th { "from" } th.num { "sats" } th { "signature" } } }
                tbody { @for i in &t.inputs { tr {
                    td.num { (i.vin) }
                    td { @if i.sig_valid.is_none() { span.muted { "new coins (coinbase)" } } @else { (hash_link("tx", &i.prev_txid)) ":" (i.prev_vout) } }
                    td { @match &i.address { Some(a) => (hash_link("address", a)), None => "–" } }
                    td.num { @match i.value_sats { Some(v) => (sats(v)), None => "–" } }
                    td { @match (i.sig_valid, &i.sig_error) {
                        (None, _) => "–",
                        (Some(true), _) => span.ok { "valid" },
                        (Some(false), e) => span.bad { "invalid: " (e.clone().unwrap_or_default()) },
                    } }
                } } }
            }
            h2 { "Outputs (" (t.outputs.len()) ")" }
            table #outputs {
                thead { tr { th { "#" } th.num { "sats" } th { "to" } th { "spent by" } } }
                tbody { @for o in &t.outputs { tr {
                    td.num { (o.vout) }
                    td.num { (sats(o.value_sats)) }
                    td { @match &o.address { Some(a) => (hash_link("address", a)), None => code { (o.script_asm) } } }
                    td { @match &o.spent_by { Some(s) => (hash_link("tx", s)), None => span.muted { "unspent" } } }
                } } }
            }
            h2 { "Raw transaction (hex)" }
            p.muted { "Decode with " code { "sim tx HEX" } "." @if t.hex.len() > HEX_SHOWN { " The first " (HEX_SHOWN) " of " (t.hex.len()) " hex digits are shown; the whole is in " code { "/api/tx/" (t.txid) } "." } }
            div.hex #tx-hex { (t.hex.get(..HEX_SHOWN).unwrap_or(&t.hex)) }
        },
    ))
}

/// `/address/{address}`.
pub async fn address(
    State(x): State<Explorer>,
    addr: Result<Path<String>, PathRejection>,
) -> PageResult {
    let Path(addr) = addr?;
    api::check_address(&addr)?;
    let a = addr.clone();
    let a = x.with(move |s| s.address(&a)).await?.ok_or_else(|| {
        ApiError::not_found(format!("address {addr} is never paid on the main chain"))
    })?;
    Ok(layout(
        "Address",
        html! {
            table.kv #address {
                tr { th { "address" } td.hash #addr { (a.address) } }
                tr { th { "wallet" } td { @match a.wallet { Some(w) => { "workload wallet " (w) }, None => "–" } } }
                tr { th { "received" } td { (sats(a.received_sats)) " sats" } }
                tr { th { "spent" } td { (sats(a.spent_sats)) " sats" } }
                tr { th { "balance" } td #balance { (sats(a.balance_sats)) " sats" } }
            }
            h2 { "Balance over time" }
            div.figure { (PreEscaped(svg::balance(&a.history))) }
            h2 { "Unspent outputs (" (a.utxos.len()) ")" }
            table #utxos {
                thead { tr { th { "output" } th.num { "sats" } th.num { "height" } } }
                tbody { @for u in &a.utxos { tr { td { (hash_link("tx", &u.txid)) ":" (u.vout) } td.num { (sats(u.value_sats)) } td.num { (u.height) } } } }
            }
            h2 { "History (" (a.history.len()) " transactions)" }
            table #history {
                thead { tr { th.num { "height" } th.num { "time (s)" } th { "txid" } th.num { "received" } th.num { "spent" } th.num { "balance" } } }
                tbody { @for h in &a.history { tr {
                    td.num { a href=(format!("/block/{}", h.block)) { (h.height) } }
                    td.num { (format!("{:.1}", h.time_s)) }
                    td { (hash_link("tx", &h.txid)) }
                    td.num { (sats(h.received_sats)) }
                    td.num { (sats(h.spent_sats)) }
                    td.num { (sats(h.balance_sats)) }
                } } }
            }
        },
    ))
}

/// `/node/{n}`.
pub async fn node(State(x): State<Explorer>, node: Result<Path<u32>, PathRejection>) -> PageResult {
    let Path(node) = node?;
    let n = x
        .with(move |s| s.node(node))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("node {node} is not in this run")))?;
    Ok(layout(
        &format!("Node {}", n.node),
        html! {
            table.kv #node {
                tr { th { "role" } td { (n.role) } }
                @if !n.region.is_empty() { tr { th { "region" } td { (n.region) } } }
                tr { th { "hashrate" } td { (n.hashrate_hps) " H/s" } }
                tr { th { "final tip" } td { (hash_link("block", &n.final_tip)) " at height " (n.final_height) } }
                tr { th { "peers (" (n.peers.len()) ")" } td #peers { @for p in &n.peers { a href=(format!("/node/{p}")) { (p) } " " } } }
            }
            h2 { "Blocks mined (" (n.mined.len()) ")" }
            (block_table(&n.mined))
            h2 { "Reorgs (" (n.reorgs.len()) ")" }
            table #reorgs {
                thead { tr { th.num { "time (s)" } th.num { "depth" } th.num { "height" } th { "new tip" } } }
                tbody { @for r in &n.reorgs { tr {
                    td.num { (format!("{:.1}", r.time_s)) } td.num { (r.depth) }
                    td.num { (r.old_height) " → " (r.new_height) } td { (hash_link("block", &r.new_tip)) }
                } } }
            }
            h2 { "Tip history" }
            @match &n.tips {
                None => p.muted { "Tip changes were not recorded for this run (metrics.tips)." },
                Some(t) => table #tips {
                    thead { tr { th.num { "time (s)" } th.num { "height" } th { "tip" } } }
                    tbody { @for c in t { tr { td.num { (format!("{:.1}", c.time_s)) } td.num { (c.height) } td { (hash_link("block", &c.tip)) } } } }
                },
            }
        },
    ))
}

/// `/search?q=`: redirects to what the term names.
pub async fn search(
    State(x): State<Explorer>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = q?;
    let term = q.q.clone();
    if term.trim().is_empty() {
        return Err(ApiError::bad("type a block hash, txid, address, height or node N").into());
    }
    let hit = x.with(move |s| s.search(&term)).await?;
    match hit {
        Some(h) => Ok(Redirect::to(&format!("/{}/{}", h.kind, h.key)).into_response()),
        None => Err(ApiError::not_found(format!("nothing in this run matches {:?}", q.q)).into()),
    }
}

/// Any unknown path: the 404 page, or JSON `{"error": …}` for a path under
/// `/api` that the nested API router does not see (`/api/` itself).
pub async fn not_found_fallback(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("there is no such API route; see /api/openapi.json")
            .into_response();
    }
    PageError::from(ApiError::not_found(
        "there is no such page in this explorer",
    ))
    .into_response()
}

/// The page routes.
pub fn routes() -> Router<Explorer> {
    Router::new()
        .route("/", get(overview))
        .route("/blocks", get(blocks))
        .route("/block/{hash}", get(block))
        .route("/tx/{txid}", get(tx))
        .route("/address/{address}", get(address))
        .route("/node/{node}", get(node))
        .route("/search", get(search))
}
