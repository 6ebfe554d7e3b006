//! The live lab over real HTTP: `sim serve scenarios/three_nodes.yaml` in a
//! child process, driven through its node API and lab control with a real
//! client (ureq) and the real wallet (`sim wallet send`): payments, `/mine`,
//! a partition, a fork, a heal, `/nodes/resolve`; then stopped, and `sim
//! replay` must reproduce every output file byte for byte from the
//! recorded inputs.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{scratch, sim};
use serde_json::{json, Value};

/// A running live lab; killed on drop.
struct Lab {
    child: Child,
    main: String,
    nodes: Vec<String>,
    students: Vec<(String, String)>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(out: &Path, extra: &[&str]) -> Lab {
    let mut args = vec![
        "serve",
        "scenarios/three_nodes.yaml",
        "--port",
        "0",
        "--node-port",
        "0",
        "--no-charts",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sim serve starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let url = |line: &str| {
        line.split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_string()
    };
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("live lab of three_nodes at "), "{line}");
    let main = url(&line);
    assert!(main.starts_with("http://127.0.0.1:"), "loopback: {main}");
    let mut nodes = Vec::new();
    for i in 0..3 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with(&format!("node {i} API at ")), "{line}");
        nodes.push(url(&line));
    }
    let want: usize = extra
        .iter()
        .position(|a| *a == "--students")
        .map(|i| extra[i + 1].parse().unwrap())
        .unwrap_or(0);
    let mut students = Vec::new();
    for _ in 0..want {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let w: Vec<&str> = line.split_whitespace().collect();
        // "student K: address ADDR WIF KEY (…)"
        assert_eq!((w[2], w[4]), ("address", "WIF"), "{line}");
        students.push((w[3].to_string(), w[5].to_string()));
    }
    // The rest of stdout (the summary) is read after the session ends.
    std::thread::spawn(move || {
        let mut rest = String::new();
        while reader.read_line(&mut rest).unwrap_or(0) > 0 {}
        std::fs::write(std::env::temp_dir().join("forklab-live-test-stdout"), rest).ok();
    });
    Lab {
        child,
        main,
        nodes,
        students,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Status and JSON body of a request.
fn call(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let a = agent();
    let r = match (method, body) {
        ("GET", _) => a.get(url).call(),
        ("POST", Some(b)) => a.post(url).send_json(b),
        ("POST", None) => a.post(url).send_empty(),
        ("DELETE", _) => a.delete(url).call(),
        _ => unreachable!(),
    };
    let mut r = r.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = r.body_mut().read_to_string().unwrap();
    assert!(
        ct.starts_with("application/json"),
        "{method} {url}: {status} {ct}: {text}"
    );
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
    (status, v)
}

fn get(url: &str) -> Value {
    let (s, v) = call("GET", url, None);
    assert_eq!(s, 200, "GET {url}: {v}");
    v
}

fn error(method: &str, url: &str, body: Option<Value>, want: u16) -> String {
    let (s, v) = call(method, url, body);
    assert_eq!(s, want, "{method} {url}: {v}");
    let e = v["error"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(!e.is_empty() && !e.contains('\n'), "{e}");
    e.to_string()
}

#[allow(clippy::disallowed_methods)] // a test's own timeout
fn wait_exit(lab: &mut Lab) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(s) = lab.child.try_wait().unwrap() {
            return s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "sim serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_session_through_the_api_replays_byte_for_byte() {
    let dir = scratch("live_lab", "session");
    let out = dir.join("out");
    let mut lab = start(&out, &["--speed", "30", "--students", "2"]);
    let (m, n) = (lab.main.clone(), lab.nodes.clone());

    // Reads: the ancestors' shapes, on the node's own port and under /node/i/.
    let h = get(&format!("{}/height", n[0]));
    assert_eq!(h["code"], 0);
    let h1 = get(&format!("{m}/node/1/height"));
    assert!(h1["value"].as_u64().is_some());
    let chain = get(&format!("{}/chain", n[0]));
    assert_eq!(
        chain["length"].as_u64().unwrap(),
        chain["chain"].as_array().unwrap().len() as u64
    );
    assert_eq!(chain["chain"][0]["height"], 0);
    let info = get(&format!("{m}/lab/info"));
    let wallet0 = info["wallets"][0].as_str().unwrap().to_string();
    let wallet1 = info["wallets"][1].as_str().unwrap().to_string();
    let (s0, wif0) = lab.students[0].clone();
    let (s1, _) = lab.students[1].clone();
    let text = serde_json::to_string(&info).unwrap();
    assert!(!text.contains(&wif0), "a key is served: {text}");
    let b = get(&format!("{}/balance?address={s0}", n[0]));
    assert_eq!(
        b["balance"], 1_000_000_000u64,
        "students are funded in genesis"
    );

    // A student pays with the real wallet: signed locally, posted as hex.
    let o = sim(&[
        "wallet", "send", "--node", &n[0], "--wif", &wif0, "--to", &s1, "--amount", "250000",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let txid = String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(txid.len(), 64, "{txid}");
    let pool = get(&format!("{}/transactions", n[0]));
    assert!(pool["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["txid"] == txid.as_str()));
    let utxos = get(&format!("{}/utxos?address={s0}", n[0]));
    assert!(utxos["utxos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["spent_in_mempool"] == true));
    // Spending the same coin again: Core's reject reason, 400.
    let o = sim(&[
        "wallet", "send", "--node", &n[0], "--wif", &wif0, "--to", &s1, "--amount", "1000",
    ]);
    assert!(!o.status.success());
    // The lab signs for the scenario's own wallets only.
    let (s, v) = call(
        "POST",
        &format!("{}/transactions/new", n[1]),
        Some(json!({"sender": wallet0, "recipient": wallet1, "amount": 5000})),
    );
    assert_eq!(s, 201, "{v}");
    let lab_txid = v["txid"].as_str().unwrap().to_string();
    error(
        "POST",
        &format!("{}/transactions/new", n[1]),
        Some(json!({"sender": s0, "recipient": wallet1, "amount": 5000})),
        403,
    );
    // A raw transaction spending a coin twice, as the wallet would build it
    // without the mempool check: the node names the conflict.
    let raw = get(&format!("{}/transactions", n[0]))["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] == txid.as_str())
        .unwrap()["hex"]
        .as_str()
        .unwrap()
        .to_string();
    let e = error(
        "POST",
        &format!("{}/transactions/new", n[0]),
        Some(json!({ "hex": raw })),
        400,
    );
    assert_eq!(e, "txn-already-in-mempool");

    // A fork: partition, each side mines, heal, resolve.
    let (s, v) = call(
        "POST",
        &format!("{m}/lab/partition"),
        Some(json!({"groups": [[0], [1, 2]]})),
    );
    assert_eq!(s, 200, "{v}");
    let a = get(&format!("{}/mine", n[0]));
    let (s, bb) = call("POST", &format!("{}/mine", n[1]), None);
    assert_eq!(s, 200, "{bb}");
    assert_eq!(a["message"], "New Block Forged");
    assert_ne!(a["block"]["hash"], bb["block"]["hash"]);
    let info0 = get(&format!(
        "{}/block_info?hash={}",
        n[0],
        a["block"]["hash"].as_str().unwrap()
    ));
    assert_eq!(info0["on_active_chain"], true);
    assert!(
        info0["transactions"][0]["outputs"][0]["value"]
            .as_u64()
            .unwrap()
            >= 5_000_000_000
    );
    let (s, _) = call("POST", &format!("{}/mine", n[2]), None);
    assert_eq!(s, 200);
    let (s, v) = call("POST", &format!("{m}/lab/heal"), None);
    assert_eq!(s, 200, "{v}");
    let r = get(&format!("{}/nodes/resolve", n[0]));
    assert!(
        r["message"].as_str().unwrap().starts_with("Our chain"),
        "{r}"
    );
    let peers = get(&format!("{}/nodes", n[0]));
    assert_eq!(peers["nodes"].as_array().unwrap().len(), 2);
    let (s, v) = call(
        "POST",
        &format!("{}/nodes/register", n[0]),
        Some(json!({"nodes": [n[1].clone()]})),
    );
    assert_eq!(s, 201, "{v}");

    // Bad requests: JSON errors, the session goes on.
    error("GET", &format!("{}/balance?address=nope", n[0]), None, 400);
    error(
        "GET",
        &format!("{}/block_info?height=999999", n[0]),
        None,
        404,
    );
    error("GET", &format!("{}/nowhere", n[0]), None, 404);
    error("DELETE", &format!("{}/height", n[0]), None, 405);
    error(
        "POST",
        &format!("{}/transactions/new", n[0]),
        Some(json!({"hex": "zz"})),
        400,
    );
    error(
        "POST",
        &format!("{m}/lab/partition"),
        Some(json!({"groups": [[0], [0]]})),
        400,
    );
    error(
        "POST",
        &format!("{m}/lab/speed"),
        Some(json!({"speed": -1})),
        400,
    );
    // A 2 MiB body is refused once the first MiB has been read.
    {
        use std::io::{Read, Write};
        let host = n[0].trim_start_matches("http://");
        let mut c = std::net::TcpStream::connect(host).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            c,
            "POST /transactions/new HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            2 << 20
        )
        .unwrap();
        // The server may answer and close before all of this is written.
        let _ = c.write_all(&vec![b' '; (1 << 20) + 65536]);
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "bodies are capped: {answer}"
        );
    }
    let status = get(&format!("{m}/lab/status"));
    assert!(!status["ended"].as_bool().unwrap());
    assert!(status["blocks"].as_array().unwrap().len() >= 4);
    let page = agent()
        .get(&format!("{m}/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("forklab live lab"));

    // Stop, then replay.
    let (s, _) = call("POST", &format!("{m}/lab/stop"), None);
    assert_eq!(s, 202);
    let st = wait_exit(&mut lab);
    assert!(st.success(), "{st:?}");
    let inputs = std::fs::read_to_string(out.join("inputs.jsonl")).unwrap();
    let lines: Vec<Value> = inputs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["input"]["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "submit_tx",
            "submit_tx",
            "submit_tx",
            "partition",
            "mine",
            "mine",
            "mine",
            "heal",
            "ask_tips",
            "connect"
        ],
        "{inputs}"
    );
    assert_eq!(lines.last().unwrap()["stop"], true);
    // Each accepted payment was recorded once.
    for t in [&txid, &lab_txid] {
        let n = lines
            .iter()
            .filter(|l| l["input"]["action"] == "submit_tx")
            .filter(|l| {
                use forklab::ledger::encode::Decodable;
                forklab::ledger::Transaction::from_hex(l["input"]["tx"].as_str().unwrap())
                    .unwrap()
                    .compute_txid()
                    .to_string()
                    == *t
            })
            .count();
        assert!(n >= 1, "{t} not recorded");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"]["inputs.jsonl"].is_string());
    assert_eq!(manifest["live"]["students"], json!([s0, s1]));
    let o = sim(&["replay", out.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(said.starts_with("replay ok:"), "{said}");

    // An edited input is caught.
    let edited = inputs.replacen("\"node\":1", "\"node\":2", 1);
    std::fs::write(out.join("inputs.jsonl"), edited).unwrap();
    let o = sim(&["replay", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn ctrl_c_stops_the_session_and_writes_its_output() {
    let dir = scratch("live_lab", "ctrl_c");
    let out = dir.join("out");
    let mut lab = start(&out, &["--speed", "100"]);
    let n0 = lab.nodes[0].clone();
    let (s, _) = call("POST", &format!("{n0}/mine"), None);
    assert_eq!(s, 200);
    let ok = Command::new("kill")
        .args(["-INT", &lab.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let st = wait_exit(&mut lab);
    assert!(st.success(), "{st:?}");
    let inputs = std::fs::read_to_string(out.join("inputs.jsonl")).unwrap();
    assert!(inputs.starts_with("{\"at_ns\":"), "{inputs}");
    assert!(inputs.trim_end().ends_with("\"stop\":true}"), "{inputs}");
    let o = sim(&["replay", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_run_directory_refuses_live_options() {
    let o = sim(&["serve", "output/none", "--speed", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--speed: only for the live lab"), "{e}");
    let o = sim(&["serve", "scenarios/three_nodes.yaml", "--speed", "0"]);
    assert_eq!(o.status.code(), Some(2));
}
