//! The explorer over real HTTP: `sim serve DIR --port 0` in a child
//! process, every route asked with a real client (ureq), status codes,
//! content types, JSON shapes, 400 and 404 cases, and a directory left
//! exactly as it was.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use common::{rows, run_to, scratch};
use serde_json::Value;

/// The running explorer; killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["serve", dir.to_str().unwrap(), "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sim serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "explorer of DIR at http://127.0.0.1:PORT/ (Ctrl-C stops it)"
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "loopback by default: {base}"
    );
    Server { child, base }
}

/// Status, content type and body of a GET (no redirects followed).
fn get(s: &Server, path: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut r = agent
        .get(&format!("{}{path}", s.base))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    (status, ct, loc.unwrap_or(body))
}

fn json(s: &Server, path: &str, want: u16) -> Value {
    let (status, ct, body) = get(s, path);
    assert_eq!(status, want, "GET {path}: {body}");
    assert!(ct.starts_with("application/json"), "GET {path}: {ct}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn page(s: &Server, path: &str, want: u16) -> String {
    let (status, ct, body) = get(s, path);
    assert_eq!(status, want, "GET {path}");
    assert!(ct.starts_with("text/html"), "GET {path}: {ct}");
    assert!(body.contains("<!DOCTYPE html>") && body.contains("/static/style.css"));
    body
}

fn error(s: &Server, path: &str, want: u16) -> String {
    let v = json(s, path, want);
    let msg = v["error"].as_str().unwrap_or_else(|| panic!("{path}: {v}"));
    assert!(!msg.is_empty() && !msg.contains('\n'), "{path}: {msg}");
    msg.to_string()
}

/// Every file of `dir` with its length and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        out.insert(
            e.file_name().to_string_lossy().into_owned(),
            (m.len(), m.modified().unwrap()),
        );
    }
    out
}

#[test]
fn every_route_answers_with_its_status_and_shape() {
    let dir = scratch("explorer", "http").join("run");
    run_to("tests/scenarios/small.yaml", &dir, &["--no-charts"]);
    let before = snapshot(&dir);
    let s = serve(&dir);

    // JSON API.
    let o = json(&s, "/api/overview", 200);
    assert_eq!(o["name"], "small");
    assert_eq!(o["main_chain_height"], 30);
    // small.yaml relays compact blocks with no padding: nothing modelled.
    assert_eq!(o["block_relay"]["mode"], "compact");
    assert_eq!(o["block_relay"]["modelled"], serde_json::json!([]));
    let tree = json(&s, "/api/tree", 200);
    let blocks = rows(&dir.join("blocks.csv"));
    assert_eq!(tree.as_array().unwrap().len(), blocks.len());
    let list = json(&s, "/api/blocks?from=3&to=5", 200);
    assert_eq!(
        (list["from"].as_u64(), list["to"].as_u64()),
        (Some(3), Some(5))
    );
    assert!(list["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| (3..=5).contains(&b["height"].as_u64().unwrap())));
    let default = json(&s, "/api/blocks", 200);
    assert!(!default["blocks"].as_array().unwrap().is_empty());

    let tip = o["final_tip"].as_str().unwrap();
    let b = json(&s, &format!("/api/block/{tip}"), 200);
    assert_eq!(b["hash"], tip);
    assert_eq!(b["confirmations"], 1);
    assert_eq!(b["header_hex"].as_str().unwrap().len(), 160);
    assert!(b["arrivals"].as_array().is_some());
    let coinbase = b["transactions"][0]["txid"].as_str().unwrap().to_string();
    let upper = json(&s, &format!("/api/block/{}", tip.to_ascii_uppercase()), 200);
    assert_eq!(upper["hash"], tip);

    let pay = rows(&dir.join("payments.csv"));
    let p = pay.iter().find(|p| p["confirmed"] == "1").unwrap();
    let t = json(&s, &format!("/api/tx/{}", p["txid"]), 200);
    assert_eq!(t["txid"], p["txid"].as_str());
    assert_eq!(t["block"], p["block"].as_str());
    assert_eq!(t["fee_sats"].as_u64().unwrap().to_string(), p["fee_sats"]);
    assert_eq!(t["inputs"][0]["sig_valid"], true);
    assert!(t["hex"].as_str().unwrap().len() > 100);
    let cb = json(&s, &format!("/api/tx/{coinbase}"), 200);
    assert_eq!(cb["coinbase"], true);
    assert!(cb["fee_sats"].is_null());

    let addr = t["outputs"][0]["address"].as_str().unwrap().to_string();
    let a = json(&s, &format!("/api/address/{addr}"), 200);
    assert_eq!(a["address"], addr.as_str());
    assert!(!a["history"].as_array().unwrap().is_empty());
    let n = json(&s, "/api/node/0", 200);
    assert_eq!(n["node"], 0);
    assert!(n["peers"].as_array().unwrap().len() >= 2, "a ring");

    let hit = json(&s, "/api/search?q=7", 200);
    assert_eq!(hit["kind"], "block");
    assert_eq!(
        json(&s, &format!("/api/search?q={}", p["txid"]), 200)["kind"],
        "tx"
    );
    assert_eq!(
        json(&s, &format!("/api/search?q={addr}"), 200)["kind"],
        "address"
    );
    assert_eq!(json(&s, "/api/search?q=node%201", 200)["kind"], "node");

    let api = json(&s, "/api/openapi.json", 200);
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/overview",
        "/api/tree",
        "/api/blocks",
        "/api/block/{hash}",
        "/api/tx/{txid}",
        "/api/address/{address}",
        "/api/node/{node}",
        "/api/search",
    ] {
        assert!(api["paths"].get(p).is_some(), "openapi.json lacks {p}");
    }
    let schemas = &api["components"]["schemas"];
    assert!(
        schemas["Overview"]["required"]
            .as_array()
            .unwrap()
            .contains(&"block_relay".into()),
        "{}",
        schemas["Overview"]
    );
    assert_eq!(
        schemas["BlockRelayView"]["required"],
        serde_json::json!(["mode", "modelled", "note"])
    );

    // 400: malformed parameters, with a JSON message.
    let zeros = "0".repeat(64);
    assert!(error(&s, "/api/block/xyz", 400).contains("64 hexadecimal"));
    error(&s, &format!("/api/block/{}", "g".repeat(64)), 400);
    error(&s, "/api/tx/123", 400);
    error(&s, "/api/address/notanaddress", 400);
    error(&s, "/api/node/abc", 400);
    error(&s, "/api/node/-1", 400);
    error(&s, "/api/blocks?from=x", 400);
    error(&s, "/api/blocks?from=9&to=2", 400);
    error(&s, "/api/blocks?to=99999999999", 400);
    error(&s, "/api/search", 400);
    error(&s, "/api/search?q=", 400);
    // 404: well-formed keys not in the run, unknown routes.
    error(&s, &format!("/api/block/{zeros}"), 404);
    error(&s, &format!("/api/tx/{zeros}"), 404);
    error(&s, "/api/address/1BitcoinEaterAddressDontSendf59kuE", 404);
    error(&s, "/api/node/99", 404);
    error(&s, "/api/search?q=999999", 404);
    error(&s, "/api/nothing", 404);
    // Fuzz finding (http target): the bare API root fell through to the
    // HTML 404 page.
    error(&s, "/api/", 404);
    error(&s, "/api", 404);

    // Pages.
    let home = page(&s, "/", 200);
    assert!(home.contains("id=\"fork-tree\"") && home.contains(tip));
    assert!(home.contains("class=\"tree-block\""));
    assert!(
        home.contains("<tr id=\"block-relay\"><th>block relay</th><td>compact (BIP152)<br>"),
        "overview states the block relay"
    );
    assert!(
        !home.contains("block-relay-modelled"),
        "no modelled line when nothing is modelled"
    );
    let bl = page(&s, "/blocks", 200);
    assert!(bl.contains("id=\"blocks\""));
    page(&s, "/blocks?from=0&to=4", 200);
    let bp = page(&s, &format!("/block/{tip}"), 200);
    assert!(bp.contains(&coinbase) && bp.contains("id=\"propagation\""));
    let tp = page(&s, &format!("/tx/{}", p["txid"]), 200);
    assert!(tp.contains("valid") && tp.contains(&addr));
    let ap = page(&s, &format!("/address/{addr}"), 200);
    assert!(ap.contains("id=\"history\""));
    let np = page(&s, "/node/0", 200);
    assert!(np.contains("id=\"peers\""));
    let (status, _, loc) = get(&s, "/search?q=7");
    assert_eq!(status, 303);
    assert!(loc.starts_with("/block/"), "{loc}");
    let (status, _, loc) = get(&s, &format!("/search?q={addr}"));
    assert_eq!((status, loc), (303, format!("/address/{addr}")));
    let (status, ct, css) = get(&s, "/static/style.css");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/css") && css.contains("font-size"));
    // Error pages.
    assert!(page(&s, "/no/such/page", 404).contains("no such page"));
    page(&s, &format!("/block/{zeros}"), 404);
    page(&s, "/block/xyz", 400);
    page(&s, "/node/abc", 400);
    page(&s, "/search?q=nothing-like-this", 404);

    drop(s);
    assert_eq!(
        snapshot(&dir),
        before,
        "the server wrote to the run directory"
    );
}

#[test]
fn serve_refuses_what_is_not_a_run() {
    let empty = scratch("explorer", "empty");
    let o = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["serve", empty.to_str().unwrap(), "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(
        e.contains("chain.sqlite") && e.trim_end().lines().count() == 1,
        "{e}"
    );
}

#[test]
fn overview_says_what_block_relay_modelled() {
    let base = scratch("explorer", "block_relay");
    let short = ["--no-charts", "--set", "stop={height: 4, settle: 10s}"];
    let padded = base.join("padded");
    let padding = [&short[..], &["--set", "consensus.block_fill_bytes=200000"]].concat();
    run_to("tests/scenarios/small.yaml", &padded, &padding);
    let whole = base.join("whole");
    let off = [&short[..], &["--set", "network.relay.compact=false"]].concat();
    run_to("tests/scenarios/small.yaml", &whole, &off);

    for (dir, modelled) in [(&padded, true), (&whole, false)] {
        let m: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let s = serve(dir);
        let o = json(&s, "/api/overview", 200);
        assert_eq!(o["block_relay"], m["block_relay"], "{dir:?}");
        let home = page(&s, "/", 200);
        let note = m["block_relay"]["note"].as_str().unwrap();
        assert!(home.contains(note), "{dir:?}: the note is on the page");
        if modelled {
            assert_eq!(
                o["block_relay"]["modelled"],
                serde_json::json!(["compact_block_padding"])
            );
            assert!(
                home.contains(
                    "<tr id=\"block-relay-modelled\"><th>modelled, not computed</th>\
                     <td>reconstruction failures of padded blocks (SimBlock's rates)</td></tr>"
                ),
                "the modelled line is shown"
            );
        } else {
            assert_eq!(o["block_relay"]["mode"], "whole_blocks");
            assert!(home.contains("<td>whole blocks (no compact relay)<br>"));
            assert!(!home.contains("block-relay-modelled"));
        }
    }
}
