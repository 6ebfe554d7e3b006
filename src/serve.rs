//! The HTTP server: a read-only web explorer of a finished run (`sim serve
//! DIR`), built on axum and tokio.
//!
//! Routes (see [`router`]):
//! - pages: `/` (overview and fork tree), `/blocks`, `/block/{hash}`,
//!   `/tx/{txid}`, `/address/{address}`, `/node/{n}`, `/search?q=`;
//! - JSON under `/api/…` ([`api`]), described by the OpenAPI document at
//!   `/api/openapi.json` (derived from the handlers and the
//!   [`crate::store::view`] types with utoipa);
//! - `/static/…`: the stylesheet and script, embedded in the binary (no CDN,
//!   no build step).
//!
//! Unknown pages answer 404 with a page, malformed parameters 400 (JSON
//! `{"error": …}` under `/api/`); nothing is ever written: the database is
//! opened read-only and immutable. No route serves a private key (the run's
//! database holds none). Handlers take an [`Explorer`] state and run their
//! SQLite look-ups on tokio's blocking pool, so the live lab can mount the
//! same routes next to its own.

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;

pub mod api;
pub mod assets;
pub mod live;
pub mod pages;
pub mod state;
pub mod svg;

pub use state::Explorer;

/// Error starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The run's database could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Binding or serving failed.
    #[error("{addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        source: std::io::Error,
    },
}

/// Every route of the explorer over `state`.
pub fn router(state: Explorer) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api", api::routes())
        .merge(assets::routes())
        .fallback(pages::not_found_fallback)
        .with_state(state)
}

/// Opens `dir`'s database and serves the explorer on `listener` until
/// `shutdown` completes.
pub async fn serve(
    dir: &Path,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let state = Explorer::open(dir)?;
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io { addr, source })
}
