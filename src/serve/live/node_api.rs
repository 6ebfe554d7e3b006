//! The ancestors' node API, on every simulated full node: the routes the
//! Python teaching blockchains answered on ports 5000–5002, with forklab's
//! real data (hashes as reversed hex, amounts in satoshis).
//!
//! Node *i* answers on its own port (`--node-port` + *i*) at `/chain`,
//! `/height`, … and on the main server under `/node/<i>/…`; both are the
//! same [`router`]. Reads are answered from the node's own view (its active
//! chain, its UTXO set, its mempool). What changes the run (a transaction,
//! `/mine`, `/nodes/register`, `/nodes/resolve`) is a [`LiveAction`]
//! applied at the session's current simulated time and recorded.
//!
//! Errors are `{"error": "…"}`: 400 for a malformed request or a rejected
//! transaction (with Bitcoin Core's reject reason), 404 for what this node
//! does not know, 409 when the run cannot take the input now (ended,
//! offline node, mining stopped), 503 once the session has ended.

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::session::{Gone, Happening, Lab, Session};
use crate::ledger::encode::{Decodable, Encodable};
use crate::ledger::{Address, Block, BlockHash, Transaction, Txid};
use crate::serve::api::ApiError;
use crate::sim::SimDuration;
use crate::store::view::ErrorBody;
use crate::world::{LiveAction, LiveError};

/// How long `/nodes/resolve` waits, in simulated time, for the peers'
/// answers before it reports (it answers as soon as the tip moves).
pub const RESOLVE_WINDOW: SimDuration = SimDuration::from_secs(10);

/// The most wall time `/nodes/resolve` waits (the lab may be paused).
const RESOLVE_WALL: Duration = Duration::from_secs(15);

/// A node's API state: the session and which node.
#[derive(Clone)]
pub struct NodeApi {
    lab: Lab,
    node: u32,
}

impl From<Gone> for ApiError {
    fn from(e: Gone) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: e.to_string(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    /// 413 for a body over the cap, 400 for every other malformed body
    /// (missing content type, bad JSON, wrong field types).
    fn from(e: JsonRejection) -> ApiError {
        ApiError {
            status: if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                e.status()
            } else {
                StatusCode::BAD_REQUEST
            },
            message: e.body_text(),
        }
    }
}

/// The HTTP status of an input the run refused.
pub fn live_error(e: LiveError) -> ApiError {
    let status = match e {
        LiveError::Ended
        | LiveError::Offline(_)
        | LiveError::MiningStopped
        | LiveError::FloodRelay => StatusCode::CONFLICT,
        LiveError::UnknownNode { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError {
        status,
        message: e.to_string(),
    }
}

/// The routes of node `node`'s API (mounted at `/` on its own port and at
/// `/node/<node>` on the main server).
pub fn router(lab: Lab, node: u32) -> Router {
    Router::new()
        .route("/chain", get(chain))
        .route("/height", get(height))
        .route("/balance", get(balance))
        .route("/block_info", get(block_info))
        .route("/transactions", get(transactions))
        .route("/transactions/new", post(new_transaction))
        .route("/utxos", get(utxos))
        .route("/history", get(history))
        .route("/mine", get(mine).post(mine))
        .route("/nodes", get(nodes))
        .route("/nodes/register", post(register))
        .route("/nodes/resolve", get(resolve))
        .route("/openapi.json", get(openapi))
        .with_state(NodeApi { lab, node })
}

/// A block header and its txids.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiBlock {
    /// Block hash (reversed hex, as Bitcoin shows it).
    pub hash: String,
    /// Height.
    pub height: u32,
    /// Header version.
    pub version: i32,
    /// Parent's hash.
    pub prev_blockhash: String,
    /// Merkle root of the txids.
    pub merkle_root: String,
    /// Timestamp (Unix seconds).
    pub time: u32,
    /// Compact target, 8 hex digits.
    pub bits: String,
    /// Nonce.
    pub nonce: u32,
    /// Serialized size, bytes.
    pub size: u64,
    /// Txids, coinbase first.
    pub tx: Vec<String>,
}

impl ApiBlock {
    fn of(block: &Block, hash: BlockHash, height: u32) -> ApiBlock {
        let h = &block.header;
        ApiBlock {
            hash: hash.to_string(),
            height,
            version: h.version,
            prev_blockhash: h.prev_blockhash.to_string(),
            merkle_root: h.merkle_root.to_string(),
            time: h.time,
            bits: format!("{:08x}", h.bits.to_consensus()),
            nonce: h.nonce,
            size: block.encode().len() as u64,
            tx: block
                .txdata
                .iter()
                .map(|t| t.compute_txid().to_string())
                .collect(),
        }
    }
}

/// An input: the coin it spends.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiTxIn {
    /// Txid of the spent output (all zeros for a coinbase).
    pub txid: String,
    /// Its index.
    pub vout: u32,
}

/// An output.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiTxOut {
    /// Value, satoshis.
    pub value: u64,
    /// P2PKH address, when the script is one.
    pub address: Option<String>,
}

/// A transaction.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiTx {
    /// Txid.
    pub txid: String,
    /// Size, bytes.
    pub size: u64,
    /// Raw transaction (legacy serialization, hex).
    pub hex: String,
    /// Inputs.
    pub inputs: Vec<ApiTxIn>,
    /// Outputs.
    pub outputs: Vec<ApiTxOut>,
}

impl ApiTx {
    /// The JSON form of `tx`.
    pub fn of(tx: &Transaction) -> ApiTx {
        let bytes = tx.encode();
        ApiTx {
            txid: tx.compute_txid().to_string(),
            size: bytes.len() as u64,
            hex: hex::encode(&bytes),
            inputs: tx
                .input
                .iter()
                .map(|i| ApiTxIn {
                    txid: i.previous_output.txid.to_string(),
                    vout: i.previous_output.vout,
                })
                .collect(),
            outputs: tx
                .output
                .iter()
                .map(|o| ApiTxOut {
                    value: o.value.to_sat(),
                    address: Address::from_script(&o.script_pubkey).map(|a| a.to_string()),
                })
                .collect(),
        }
    }
}

/// `GET /chain`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ChainAnswer {
    /// The node's active chain, genesis first.
    pub chain: Vec<ApiBlock>,
    /// Number of blocks (height + 1).
    pub length: u32,
}

/// `GET /height`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct HeightAnswer {
    /// Always 0 (success), as the ancestors answered.
    pub code: u32,
    /// Height of the node's tip.
    pub value: u32,
}

/// `GET /balance`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BalanceAnswer {
    /// The address.
    pub address: String,
    /// Its confirmed balance on this node's active chain, satoshis.
    pub balance: u64,
}

/// `GET /block_info`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BlockInfoAnswer {
    /// The header and txids.
    #[serde(flatten)]
    pub block: ApiBlock,
    /// Whether the block is on this node's active chain.
    pub on_active_chain: bool,
    /// Confirmations on this node (0 if off its active chain).
    pub confirmations: u32,
    /// The transactions in full.
    pub transactions: Vec<ApiTx>,
}

/// `GET /transactions`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MempoolAnswer {
    /// Number of transactions.
    pub count: u32,
    /// The node's mempool, by txid.
    pub transactions: Vec<ApiTx>,
}

/// An unspent output.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiUtxo {
    /// Txid.
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// Value, satoshis.
    pub value: u64,
    /// Spent by a transaction in this node's mempool already.
    pub spent_in_mempool: bool,
}

/// `GET /utxos`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct UtxosAnswer {
    /// The address.
    pub address: String,
    /// Its confirmed unspent outputs on this node's active chain.
    pub utxos: Vec<ApiUtxo>,
}

/// A transaction touching an address.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct HistoryEntry {
    /// Txid.
    pub txid: String,
    /// Height of its block on this node's active chain (`None`: in the mempool).
    pub height: Option<u32>,
    /// Satoshis the address received in it.
    pub received: u64,
    /// Satoshis the address spent in it (its coins used as inputs).
    pub spent: u64,
}

/// `GET /history`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct HistoryAnswer {
    /// The address.
    pub address: String,
    /// Transactions paying or spending it, oldest first, the mempool last.
    pub transactions: Vec<HistoryEntry>,
}

/// A peer.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiPeer {
    /// Node id.
    pub id: u32,
    /// Its API's base URL (absent if it has no port of its own).
    pub url: Option<String>,
}

/// `GET /nodes`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct NodesAnswer {
    /// This node's id.
    pub node: u32,
    /// Whether it is online.
    pub online: bool,
    /// Its peers.
    pub nodes: Vec<ApiPeer>,
}

/// `POST /transactions/new`: a raw signed transaction, or a payment the
/// lab signs for one of the scenario's own wallets.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewTx {
    /// A signed transaction (legacy serialization, hex).
    pub hex: Option<String>,
    /// Paying address (one of the scenario's wallets).
    pub sender: Option<String>,
    /// Paid address.
    pub recipient: Option<String>,
    /// Satoshis to pay.
    pub amount: Option<u64>,
}

/// An accepted transaction.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct TxAnswer {
    /// What happened.
    pub message: String,
    /// The transaction's id.
    pub txid: String,
    /// Simulated seconds at which it was accepted.
    pub at_s: f64,
}

/// `GET /mine`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MineAnswer {
    /// What happened.
    pub message: String,
    /// The new block.
    pub block: ApiBlock,
    /// Simulated seconds at which it was found.
    pub at_s: f64,
}

/// `POST /nodes/register`.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Peers to add: base URLs of node APIs (`http://127.0.0.1:5001`) or
    /// node ids (`"1"`).
    pub nodes: Vec<String>,
}

/// The answer to `POST /nodes/register`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RegisterAnswer {
    /// What happened.
    pub message: String,
    /// The node's peers now.
    pub total_nodes: Vec<ApiPeer>,
}

/// A reorg, as `/nodes/resolve` reports it.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ApiReorg {
    /// Blocks disconnected.
    pub depth: u32,
    /// Tip before.
    pub old_tip: String,
    /// Tip after.
    pub new_tip: String,
}

/// `GET /nodes/resolve`.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ResolveAnswer {
    /// "Our chain was replaced" or "Our chain is authoritative".
    pub message: String,
    /// Whether the tip changed.
    pub replaced: bool,
    /// Tip before.
    pub old_tip: String,
    /// Tip after.
    pub new_tip: String,
    /// Height after.
    pub height: u32,
    /// The reorgs on the way (empty when the chain was only extended).
    pub reorgs: Vec<ApiReorg>,
    /// Simulated seconds the node waited for its peers.
    pub waited_s: f64,
}

/// `?address=`.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct AddressQuery {
    /// A P2PKH address.
    pub address: String,
}

/// `?height=` or `?hash=`.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct BlockQuery {
    /// Height on this node's active chain.
    pub height: Option<u32>,
    /// Block hash (64 hex digits).
    pub hash: Option<String>,
}

fn parse_address(s: &str) -> Result<Address, ApiError> {
    s.parse::<Address>()
        .map_err(|e| ApiError::bad(format!("address: {e}")))
}

fn not_full(node: u32) -> ApiError {
    ApiError::not_found(format!("node {node} is not a full node of this run"))
}

/// Runs `f` over node `node`'s state on the session thread.
async fn read<T: Send + 'static>(
    st: &NodeApi,
    f: impl FnOnce(&Session, &crate::node::full::FullNode) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let node = st.node;
    st.lab
        .call(move |s| match s.world.full_node(node) {
            Some(full) => f(s, full),
            None => Err(not_full(node)),
        })
        .await?
}

/// The node's active chain.
#[utoipa::path(get, path = "/chain", responses((status = 200, body = ChainAnswer)))]
pub async fn chain(State(st): State<NodeApi>) -> Result<Json<ChainAnswer>, ApiError> {
    read(&st, |_, full| {
        let c = &full.chain;
        let chain: Vec<ApiBlock> = (0..=c.height())
            .filter_map(|h| c.info_at_height(h))
            .map(|i| ApiBlock::of(&i.block, i.hash, i.height))
            .collect();
        Ok(ChainAnswer {
            length: chain.len() as u32,
            chain,
        })
    })
    .await
    .map(Json)
}

/// The height of the node's tip.
#[utoipa::path(get, path = "/height", responses((status = 200, body = HeightAnswer)))]
pub async fn height(State(st): State<NodeApi>) -> Result<Json<HeightAnswer>, ApiError> {
    read(&st, |_, full| {
        Ok(HeightAnswer {
            code: 0,
            value: full.chain.height(),
        })
    })
    .await
    .map(Json)
}

/// An address's balance as this node sees it.
#[utoipa::path(get, path = "/balance", params(AddressQuery), responses(
    (status = 200, body = BalanceAnswer), (status = 400, body = ErrorBody)))]
pub async fn balance(
    State(st): State<NodeApi>,
    q: Result<Query<AddressQuery>, QueryRejection>,
) -> Result<Json<BalanceAnswer>, ApiError> {
    let Query(q) = q?;
    let addr = parse_address(&q.address)?;
    read(&st, move |_, full| {
        Ok(BalanceAnswer {
            address: addr.to_string(),
            balance: full.chain.balance(&addr.pubkey_hash).to_sat(),
        })
    })
    .await
    .map(Json)
}

/// A block by height (on the active chain) or hash, with its transactions.
#[utoipa::path(get, path = "/block_info", params(BlockQuery), responses(
    (status = 200, body = BlockInfoAnswer), (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn block_info(
    State(st): State<NodeApi>,
    q: Result<Query<BlockQuery>, QueryRejection>,
) -> Result<Json<BlockInfoAnswer>, ApiError> {
    let Query(q) = q?;
    let hash = match (&q.height, &q.hash) {
        (None, Some(h)) => Some(
            crate::serve::api::check_hash("hash", h)?
                .parse::<BlockHash>()
                .map_err(|e| ApiError::bad(format!("hash: {e}")))?,
        ),
        (Some(_), None) => None,
        _ => return Err(ApiError::bad("give exactly one of ?height= and ?hash=")),
    };
    let height = q.height;
    read(&st, move |_, full| {
        let c = &full.chain;
        let hash = match (hash, height) {
            (Some(h), _) => h,
            (None, Some(h)) => c.block_at_height(h).ok_or_else(|| {
                ApiError::not_found(format!(
                    "no block at height {h} on this node's chain (its tip is at {})",
                    c.height()
                ))
            })?,
            (None, None) => unreachable!("checked above"),
        };
        let info = c.info(&hash).ok_or_else(|| {
            ApiError::not_found(format!("block {hash} is not known to this node"))
        })?;
        let on = c.is_on_active_chain(&hash);
        Ok(BlockInfoAnswer {
            block: ApiBlock::of(&info.block, hash, info.height),
            on_active_chain: on,
            confirmations: if on { c.height() - info.height + 1 } else { 0 },
            transactions: info.block.txdata.iter().map(ApiTx::of).collect(),
        })
    })
    .await
    .map(Json)
}

/// The node's mempool.
#[utoipa::path(get, path = "/transactions", responses((status = 200, body = MempoolAnswer)))]
pub async fn transactions(State(st): State<NodeApi>) -> Result<Json<MempoolAnswer>, ApiError> {
    read(&st, |_, full| {
        let mut ids = full.mempool.txids();
        ids.sort_unstable();
        let transactions: Vec<ApiTx> = ids
            .iter()
            .filter_map(|t| full.mempool.get(t))
            .map(|t| ApiTx::of(t))
            .collect();
        Ok(MempoolAnswer {
            count: transactions.len() as u32,
            transactions,
        })
    })
    .await
    .map(Json)
}

/// An address's unspent outputs as this node sees them.
#[utoipa::path(get, path = "/utxos", params(AddressQuery), responses(
    (status = 200, body = UtxosAnswer), (status = 400, body = ErrorBody)))]
pub async fn utxos(
    State(st): State<NodeApi>,
    q: Result<Query<AddressQuery>, QueryRejection>,
) -> Result<Json<UtxosAnswer>, ApiError> {
    let Query(q) = q?;
    let addr = parse_address(&q.address)?;
    read(&st, move |_, full| {
        Ok(UtxosAnswer {
            address: addr.to_string(),
            utxos: full
                .chain
                .utxos_of(&addr.pubkey_hash)
                .into_iter()
                .map(|(op, v)| ApiUtxo {
                    txid: op.txid.to_string(),
                    vout: op.vout,
                    value: v.to_sat(),
                    spent_in_mempool: full.mempool.spends(&op),
                })
                .collect(),
        })
    })
    .await
    .map(Json)
}

/// Transactions paying or spending an address on this node's active chain
/// and in its mempool.
#[utoipa::path(get, path = "/history", params(AddressQuery), responses(
    (status = 200, body = HistoryAnswer), (status = 400, body = ErrorBody)))]
pub async fn history(
    State(st): State<NodeApi>,
    q: Result<Query<AddressQuery>, QueryRejection>,
) -> Result<Json<HistoryAnswer>, ApiError> {
    let Query(q) = q?;
    let addr = parse_address(&q.address)?;
    read(&st, move |_, full| {
        let script = addr.script_pubkey();
        let c = &full.chain;
        // Outputs to the address, by outpoint, to value the spends.
        let mut paid: std::collections::BTreeMap<(Txid, u32), u64> = Default::default();
        let mut out = Vec::new();
        let mut look = |tx: &Transaction, height: Option<u32>| {
            let txid = tx.compute_txid();
            let spent: u64 = tx
                .input
                .iter()
                .filter_map(|i| paid.get(&(i.previous_output.txid, i.previous_output.vout)))
                .sum();
            let mut received = 0;
            for (k, o) in tx.output.iter().enumerate() {
                if o.script_pubkey == script {
                    received += o.value.to_sat();
                    paid.insert((txid, k as u32), o.value.to_sat());
                }
            }
            if received > 0 || spent > 0 {
                out.push(HistoryEntry {
                    txid: txid.to_string(),
                    height,
                    received,
                    spent,
                });
            }
        };
        for h in 0..=c.height() {
            if let Some(i) = c.info_at_height(h) {
                for tx in &i.block.txdata {
                    look(tx, Some(h));
                }
            }
        }
        let mut ids = full.mempool.txids();
        ids.sort_unstable();
        for t in ids {
            if let Some(tx) = full.mempool.get(&t) {
                look(tx, None);
            }
        }
        Ok(HistoryAnswer {
            address: addr.to_string(),
            transactions: out,
        })
    })
    .await
    .map(Json)
}

fn peers(s: &Session, node: u32) -> Vec<ApiPeer> {
    let mut p = s.world.peers_of(node).to_vec();
    p.sort_unstable();
    p.into_iter()
        .map(|id| ApiPeer {
            id,
            url: s.info.node_urls.get(id as usize).cloned().flatten(),
        })
        .collect()
}

/// The node's peers.
#[utoipa::path(get, path = "/nodes", responses((status = 200, body = NodesAnswer)))]
pub async fn nodes(State(st): State<NodeApi>) -> Result<Json<NodesAnswer>, ApiError> {
    let node = st.node;
    read(&st, move |s, _| {
        Ok(NodesAnswer {
            node,
            online: s.world.is_online(node),
            nodes: peers(s, node),
        })
    })
    .await
    .map(Json)
}

/// Submits a transaction to this node: a raw signed one (`hex`), or a
/// payment the lab builds and signs for one of the scenario's wallets
/// (`sender`, `recipient`, `amount`). 201 when the node accepts it; 400
/// with Bitcoin Core's reject reason when it refuses it.
#[utoipa::path(post, path = "/transactions/new", request_body = NewTx, responses(
    (status = 201, body = TxAnswer), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
    (status = 413, body = ErrorBody)))]
pub async fn new_transaction(
    State(st): State<NodeApi>,
    body: Result<Json<NewTx>, JsonRejection>,
) -> Result<(StatusCode, Json<TxAnswer>), ApiError> {
    let Json(body) = body?;
    let node = st.node;
    enum Want {
        Raw(Transaction),
        Pay(Address, Address, u64),
    }
    let want = match (&body.hex, &body.sender, &body.recipient, body.amount) {
        (Some(hex), None, None, None) => Want::Raw(
            Transaction::from_hex(hex).map_err(|e| ApiError::bad(format!("hex: {e}")))?,
        ),
        (None, Some(s), Some(r), Some(a)) => Want::Pay(
            parse_address(s).map_err(|e| ApiError::bad(format!("sender: {}", e.message)))?,
            parse_address(r).map_err(|e| ApiError::bad(format!("recipient: {}", e.message)))?,
            a,
        ),
        _ => {
            return Err(ApiError::bad(
                "give either \"hex\" (a signed transaction) or \"sender\", \"recipient\" and \"amount\"",
            ))
        }
    };
    st.lab
        .call(move |s| {
            let tx = match want {
                Want::Raw(tx) => tx,
                Want::Pay(from, to, amount) => {
                    let Some(w) = s.wallet_index(&from) else {
                        return Err(ApiError {
                            status: StatusCode::FORBIDDEN,
                            message: format!("the lab signs only for the scenario's own wallets, and {from} is not one: sign it yourself (sim wallet send) and post its hex"),
                        });
                    };
                    let full = s.world.full_node(node).ok_or_else(|| not_full(node))?;
                    let coins: Vec<_> = full
                        .chain
                        .utxos_of(&from.pubkey_hash)
                        .into_iter()
                        .filter(|(op, _)| !full.mempool.spends(op))
                        .collect();
                    let rate = s.world.config().fee_rate_sat_per_byte;
                    crate::workload::build_spend(
                        &s.world.wallets()[w].key,
                        &coins,
                        &to.script_pubkey(),
                        amount,
                        rate,
                    )
                    .map_err(|e| ApiError::bad(e.to_string()))?
                }
            };
            let txid = tx.compute_txid();
            let happened = s
                .apply(LiveAction::SubmitTx {
                    node,
                    tx: std::sync::Arc::new(tx),
                })
                .map_err(live_error)?;
            let id = txid.to_string();
            for h in &happened {
                match h {
                    Happening::TxAccepted { node: n, txid, t } if *n == node && *txid == id => {
                        return Ok(TxAnswer {
                            message: format!("Transaction will be added to a block mined on node {node}'s chain"),
                            txid: id,
                            at_s: *t,
                        })
                    }
                    Happening::TxRejected {
                        node: n,
                        txid,
                        reason,
                        ..
                    } if *n == node && *txid == id => return Err(ApiError::bad(reason.clone())),
                    _ => {}
                }
            }
            Err(ApiError::bad("the node neither accepted nor rejected the transaction"))
        })
        .await?
        .map(|a| (StatusCode::CREATED, Json(a)))
}

/// This node finds its next block now (at a teaching difficulty the nonce
/// is really ground) and relays it.
#[utoipa::path(get, path = "/mine", responses(
    (status = 200, body = MineAnswer), (status = 409, body = ErrorBody)))]
pub async fn mine(State(st): State<NodeApi>) -> Result<Json<MineAnswer>, ApiError> {
    let node = st.node;
    st.lab
        .call(move |s| {
            let happened = s.apply(LiveAction::Mine { node }).map_err(live_error)?;
            let Some((hash, t)) = happened.iter().find_map(|h| match h {
                Happening::Mined {
                    node: n, hash, t, ..
                } if *n == node => Some((hash.clone(), *t)),
                _ => None,
            }) else {
                return Err(ApiError {
                    status: StatusCode::CONFLICT,
                    message: format!("node {node} did not produce a block"),
                });
            };
            let hash: BlockHash = hash
                .parse()
                .expect("a mined block's hash prints and parses");
            let full = s.world.full_node(node).ok_or_else(|| not_full(node))?;
            let info = full
                .chain
                .info(&hash)
                .expect("the miner holds the block it just mined");
            Ok(MineAnswer {
                message: "New Block Forged".into(),
                block: ApiBlock::of(&info.block, hash, info.height),
                at_s: t,
            })
        })
        .await?
        .map(Json)
}

/// Adds peer links to this node (by node API URL or node id); both ends
/// then exchange tips.
#[utoipa::path(post, path = "/nodes/register", request_body = RegisterBody, responses(
    (status = 201, body = RegisterAnswer), (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    (status = 413, body = ErrorBody)))]
pub async fn register(
    State(st): State<NodeApi>,
    body: Result<Json<RegisterBody>, JsonRejection>,
) -> Result<(StatusCode, Json<RegisterAnswer>), ApiError> {
    let Json(body) = body?;
    if body.nodes.is_empty() {
        return Err(ApiError::bad("nodes: give at least one node (URL or id)"));
    }
    if body.nodes.len() > 1000 {
        return Err(ApiError::bad("nodes: at most 1000 at once"));
    }
    let node = st.node;
    st.lab
        .call(move |s| {
            let mut ids = Vec::new();
            for n in &body.nodes {
                ids.push(resolve_peer(s, n)?);
            }
            for peer in ids {
                s.apply(LiveAction::Connect { node, peer })
                    .map_err(live_error)?;
            }
            Ok(RegisterAnswer {
                message: "New nodes have been added".into(),
                total_nodes: peers(s, node),
            })
        })
        .await?
        .map(|a| (StatusCode::CREATED, Json(a)))
}

/// A node named by id (`"2"`) or by its API's URL.
fn resolve_peer(s: &Session, text: &str) -> Result<u32, ApiError> {
    let t = text.trim().trim_end_matches('/');
    if let Ok(id) = t.parse::<u32>() {
        return Ok(id);
    }
    if let Some(id) = s
        .info
        .node_urls
        .iter()
        .position(|u| u.as_deref().is_some_and(|u| u.trim_end_matches('/') == t))
    {
        return Ok(id as u32);
    }
    // `…:PORT` matching a node's port, whatever the host was written as.
    let port = t.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
    if let Some(port) = port {
        if let Some(id) = s.info.node_urls.iter().position(|u| {
            u.as_deref()
                .and_then(|u| u.rsplit(':').next())
                .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
                == Some(port)
        }) {
            return Ok(id as u32);
        }
    }
    Err(ApiError::not_found(format!(
        "{:?} names no node of this lab (give a node id or a URL from GET /nodes)",
        text.chars().take(100).collect::<String>()
    )))
}

/// Asks every peer for its tip, waits for their answers (up to
/// [`RESOLVE_WINDOW`] of simulated time) and says whether this node's
/// chain was replaced.
#[utoipa::path(get, path = "/nodes/resolve", responses(
    (status = 200, body = ResolveAnswer), (status = 409, body = ErrorBody)))]
pub async fn resolve(State(st): State<NodeApi>) -> Result<Json<ResolveAnswer>, ApiError> {
    let node = st.node;
    let mut events = st.lab.events.subscribe();
    let (old, start) = st
        .lab
        .call(move |s| {
            let old = s.tip_of(node).ok_or_else(|| not_full(node))?;
            s.apply(LiveAction::AskTips { node }).map_err(live_error)?;
            Ok::<_, ApiError>((old, s.clock))
        })
        .await??;
    let deadline = start + RESOLVE_WINDOW;
    let mut reorgs = Vec::new();
    let wall = tokio::time::Instant::now() + RESOLVE_WALL;
    let (tip, height, now) = loop {
        let (tip, height, now, done) = st
            .lab
            .call(move |s| {
                let (tip, height) = s.tip_of(node).expect("checked a full node above");
                (tip, height, s.clock, s.world.is_done())
            })
            .await?;
        while let Ok(json) = events.try_recv() {
            if let Ok(Happening::Reorg {
                node: n,
                depth,
                old_tip,
                new_tip,
                ..
            }) = serde_json::from_str::<HappeningIn>(&json).map(HappeningIn::into)
            {
                if n == node {
                    reorgs.push(ApiReorg {
                        depth,
                        old_tip,
                        new_tip,
                    });
                }
            }
        }
        if tip != old.0 || now >= deadline || done || tokio::time::Instant::now() >= wall {
            break (tip, height, now);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let replaced = tip != old.0;
    Ok(Json(ResolveAnswer {
        message: if replaced {
            "Our chain was replaced".into()
        } else {
            "Our chain is authoritative".into()
        },
        replaced,
        old_tip: old.0.to_string(),
        new_tip: tip.to_string(),
        height,
        reorgs,
        waited_s: now.saturating_duration_since(start).as_secs_f64(),
    }))
}

/// Reads back the reorgs of the event stream.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum HappeningIn {
    Reorg {
        node: u32,
        depth: u32,
        old_tip: String,
        new_tip: String,
    },
    #[serde(other)]
    Other,
}

impl From<HappeningIn> for Happening {
    fn from(h: HappeningIn) -> Happening {
        match h {
            HappeningIn::Reorg {
                node,
                depth,
                old_tip,
                new_tip,
            } => Happening::Reorg {
                t: 0.0,
                node,
                depth,
                old_tip,
                new_tip,
                height: 0,
            },
            HappeningIn::Other => Happening::Lab {
                t: 0.0,
                what: String::new(),
            },
        }
    }
}

/// The node API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "forklab node API",
        description = "The API every simulated full node of a forklab live lab answers (`sim serve FILE`), on its own port and under /node/<i>/ on the main server."
    ),
    paths(
        chain,
        height,
        balance,
        block_info,
        transactions,
        new_transaction,
        utxos,
        history,
        mine,
        nodes,
        register,
        resolve
    ),
    components(schemas(ErrorBody))
)]
pub struct NodeApiDoc;

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(NodeApiDoc::openapi())
}
