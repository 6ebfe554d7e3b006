//! Static files of the explorer, embedded in the binary at compile time
//! (nothing is fetched from a CDN, nothing needs building).

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::Explorer;

/// The stylesheet: large type, Okabe-Ito palette.
pub const STYLE_CSS: &str = include_str!("../../assets/explorer/style.css");

/// The Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2002),
/// distinguishable with the common colour-vision deficiencies; miners are
/// coloured by `PALETTE[miner % PALETTE.len()]`.
pub const PALETTE: [&str; 7] = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
];

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE_CSS,
    )
}

/// The `/static/…` routes.
pub fn routes() -> Router<Explorer> {
    Router::new().route("/static/style.css", get(style))
}
