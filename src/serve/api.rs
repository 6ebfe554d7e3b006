//! The explorer's JSON API under `/api/`, and its OpenAPI document.
//!
//! Every answer is a [`crate::store::view`] type; errors are
//! `{"error": "…"}` with 400 (malformed parameter), 404 (well-formed but not
//! in this run) or 500 (the database failed).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::Explorer;
use crate::store::view::*;
use crate::store::StoreError;

/// An error answer: status and one-line message.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// 400 with `message`.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.to_string(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> ApiError {
        ApiError::bad(e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

/// Checks a 64-hex-digit hash or txid (returned lowercased).
pub fn check_hash(what: &str, s: &str) -> Result<String, ApiError> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(ApiError::bad(format!(
            "{what} must be 64 hexadecimal digits, got {:?}",
            s.chars().take(80).collect::<String>()
        )))
    }
}

/// Checks a Base58Check P2PKH address.
pub fn check_address(s: &str) -> Result<(), ApiError> {
    s.parse::<crate::ledger::Address>()
        .map(|_| ())
        .map_err(|e| ApiError::bad(format!("address: {e}")))
}

/// Parameters of `/api/blocks`.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct BlocksQuery {
    /// Lowest height (default: 99 below `to`, at least 0).
    pub from: Option<u32>,
    /// Highest height (default: the highest block of the run); at most
    /// 1,000 heights are listed.
    pub to: Option<u32>,
}

/// Parameters of `/api/search`.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A block hash, txid, address, main-chain height, or `node N`.
    pub q: String,
}

/// The run at a glance.
#[utoipa::path(get, path = "/api/overview", responses(
    (status = 200, body = Overview), (status = 500, body = ErrorBody)))]
pub async fn overview(State(x): State<Explorer>) -> Result<Json<Overview>, ApiError> {
    Ok(Json(x.with(|s| s.overview()).await?))
}

/// Every block in mining order (the fork tree).
#[utoipa::path(get, path = "/api/tree", responses(
    (status = 200, body = Vec<BlockBrief>), (status = 500, body = ErrorBody)))]
pub async fn tree(State(x): State<Explorer>) -> Result<Json<Vec<BlockBrief>>, ApiError> {
    Ok(Json(x.with(|s| s.all_blocks()).await?))
}

/// Resolves `/api/blocks`' range against the run.
pub async fn block_range(x: &Explorer, q: &BlocksQuery) -> Result<(u32, u32), ApiError> {
    let top = x
        .with(|s| {
            s.connection()
                .query_row("SELECT COALESCE(MAX(height), 0) FROM blocks", [], |r| {
                    r.get::<_, u32>(0)
                })
                .map_err(|source| StoreError::Sql {
                    path: s.path().to_path_buf(),
                    source,
                })
        })
        .await?;
    let to = q.to.unwrap_or(top);
    let from = q.from.unwrap_or(to.saturating_sub(99));
    if from > to {
        return Err(ApiError::bad(format!("from ({from}) is above to ({to})")));
    }
    Ok((from, to))
}

/// Blocks by height range, main and stale.
#[utoipa::path(get, path = "/api/blocks", params(BlocksQuery), responses(
    (status = 200, body = BlockList), (status = 400, body = ErrorBody),
    (status = 500, body = ErrorBody)))]
pub async fn blocks(
    State(x): State<Explorer>,
    q: Result<Query<BlocksQuery>, QueryRejection>,
) -> Result<Json<BlockList>, ApiError> {
    let Query(q) = q?;
    let (from, to) = block_range(&x, &q).await?;
    Ok(Json(x.with(move |s| s.blocks(from, to)).await?))
}

/// A block by hash: header, transactions, arrivals.
#[utoipa::path(get, path = "/api/block/{hash}",
    params(("hash" = String, Path, description = "block hash, 64 hex digits")),
    responses((status = 200, body = BlockView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn block(
    State(x): State<Explorer>,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let Path(hash) = hash?;
    let hash = check_hash("block hash", &hash)?;
    let h = hash.clone();
    x.with(move |s| s.block(&h))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("block {hash} is not in this run")))
}

/// A transaction by txid: inputs with signature verdicts, outputs, blocks.
#[utoipa::path(get, path = "/api/tx/{txid}",
    params(("txid" = String, Path, description = "transaction id, 64 hex digits")),
    responses((status = 200, body = TxView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn tx(
    State(x): State<Explorer>,
    txid: Result<Path<String>, PathRejection>,
) -> Result<Json<TxView>, ApiError> {
    let Path(txid) = txid?;
    let txid = check_hash("txid", &txid)?;
    let t = txid.clone();
    x.with(move |s| s.tx(&t))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("tx {txid} is in no block of this run")))
}

/// An address: balance, unspent outputs, history.
#[utoipa::path(get, path = "/api/address/{address}",
    params(("address" = String, Path, description = "P2PKH address (Base58Check)")),
    responses((status = 200, body = AddressView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn address(
    State(x): State<Explorer>,
    addr: Result<Path<String>, PathRejection>,
) -> Result<Json<AddressView>, ApiError> {
    let Path(addr) = addr?;
    check_address(&addr)?;
    let a = addr.clone();
    x.with(move |s| s.address(&a))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!("address {addr} is never paid on the main chain"))
        })
}

/// A node: peers, blocks mined, reorgs, tip changes.
#[utoipa::path(get, path = "/api/node/{node}",
    params(("node" = u32, Path, description = "node id")),
    responses((status = 200, body = NodeView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn node(
    State(x): State<Explorer>,
    node: Result<Path<u32>, PathRejection>,
) -> Result<Json<NodeView>, ApiError> {
    let Path(node) = node?;
    x.with(move |s| s.node(node))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("node {node} is not in this run")))
}

/// Where a search term leads.
#[utoipa::path(get, path = "/api/search", params(SearchQuery), responses(
    (status = 200, body = SearchHit), (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn search(
    State(x): State<Explorer>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchHit>, ApiError> {
    let Query(q) = q?;
    if q.q.trim().is_empty() {
        return Err(ApiError::bad("q is empty"));
    }
    let term = q.q.clone();
    x.with(move |s| s.search(&term))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("nothing in this run matches {:?}", q.q)))
}

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "forklab run explorer",
        description = "Read-only JSON view of one finished forklab run: its blocks (main chain and stale), transactions, addresses and nodes. Hashes and txids are reversed hex, amounts satoshis, times simulated seconds."
    ),
    paths(overview, tree, blocks, block, tx, address, node, search),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API route (see /api/openapi.json)")
}

/// The `/api` routes (to be nested under `/api`).
pub fn routes() -> Router<Explorer> {
    Router::new()
        .route("/overview", get(overview))
        .route("/tree", get(tree))
        .route("/blocks", get(blocks))
        .route("/block/{hash}", get(block))
        .route("/tx/{txid}", get(tx))
        .route("/address/{address}", get(address))
        .route("/node/{node}", get(node))
        .route("/search", get(search))
        .route("/openapi.json", get(openapi))
        .fallback(api_not_found)
}
