//! HTTP requests → the explorer's router (every page, `/api/…` route and
//! asset of `sim serve DIR`) over the database of a real three_nodes run.
//! Whatever the method, path, query, headers or body: never a panic, never a
//! 5xx, and every 4xx under `/api/` is JSON `{"error": …}` on one line.
//!
//! Input layout: the first line is `METHOD URI`, the rest is the body.
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request};
use forklab::scenario::Scenario;
use forklab::serve::Explorer;
use forklab::world::{Config, World};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

/// The run every input is asked against, made once per process.
fn explorer() -> &'static (tokio::runtime::Runtime, Explorer) {
    static STATE: OnceLock<(tokio::runtime::Runtime, Explorer)> = OnceLock::new();
    STATE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let scenario = Scenario::load(&root.join("scenarios/three_nodes.yaml"), &[])
            .expect("three_nodes loads");
        let mut world = World::new(Config::from_scenario(&scenario).expect("config"));
        world.run();
        let out = world.finish();
        let dir = std::env::temp_dir().join(format!("forklab-fuzz-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let info = forklab::store::RunInfo {
            forklab_version: env!("CARGO_PKG_VERSION").to_string(),
            name: scenario.name.clone(),
            seed: scenario.seed,
            scenario_json: serde_json::to_string(&scenario).expect("json"),
            pow_ground: true,
            block_relay: forklab::world::output::BlockRelayNote::of(
                &scenario.network.relay,
                scenario.consensus.block_fill_bytes,
            ),
        };
        let digest = out.digest.hex();
        let result = forklab::store::RunResult {
            metrics: &out.metrics,
            events: out.digest.count(),
            event_digest: &digest,
            final_tip: out.final_tip,
            main_chain: &out.main_chain,
        };
        forklab::store::write(&dir.join(forklab::store::CHAIN_SQLITE), &info, &result)
            .expect("database written");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        (runtime, Explorer::open(&dir).expect("database opens"))
    })
}

fuzz_target!(init: {
    // The run is made before the first input, so it is not timed as one.
    explorer();
}, |data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let (method, uri) = head.split_once(' ').unwrap_or(("GET", head));
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let Ok(request) = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let api = request.uri().path().starts_with("/api/");
    let (runtime, state) = explorer();
    let router = forklab::serve::router(state.clone());
    runtime.block_on(async {
        let response = router.oneshot(request).await.expect("infallible");
        let status = response.status();
        assert!(!status.is_server_error(), "{head:?}: {status}");
        if api && status.is_client_error() && status.as_u16() != 405 {
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{head:?}: {status} body is not JSON: {e}"));
            let msg = v["error"].as_str().unwrap_or_else(|| panic!("{head:?}: no error field"));
            assert!(!msg.contains('\n'), "{head:?}: {msg:?}");
        }
    });
});
