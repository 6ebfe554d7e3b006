//! `sim replay DIR --trace` narrates consensus from the nodes' own
//! observations: blocks mined, accepted or rejected, tip changes and
//! reorgs, payments, and messages named as Bitcoin names them.

mod common;

use common::{run_to, sim};

fn trace(dir: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["replay", dir.to_str().unwrap(), "--trace"];
    args.extend_from_slice(extra);
    let o = sim(&args);
    assert!(
        o.status.success(),
        "sim {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn replay_trace_narrates_consensus() {
    let dir = common::scratch("sim_trace", "small").join("run");
    run_to("tests/scenarios/small.yaml", &dir, &["--no-charts"]);
    let out = trace(&dir, &[]);
    let has = |needle: &str| out.lines().any(|l| l.contains(needle));
    // A mined block with its hash, height and parent.
    let mined = out
        .lines()
        .find(|l| l.contains(" mined block ") && l.contains(" height 1 "))
        .unwrap_or_else(|| panic!("no block at height 1 mined:\n{out}"));
    assert!(mined.contains(" parent "), "{mined}");
    let hash = mined
        .split(" mined block ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    assert_eq!(hash.len(), 64, "full block hash: {mined}");
    // Every other full node accepts it, and its tip moves there.
    for n in 0..4 {
        assert!(
            has(&format!("node {n} accepted block {hash} height 1"))
                || mined.contains(&format!("node {n} mined")),
            "node {n} never accepted {hash}"
        );
        assert!(has(&format!("node {n} tip ")), "node {n} tip changes");
    }
    // Messages as Bitcoin names them (blocks travel as BIP152 compact
    // blocks by default).
    for m in [
        "inv block",
        "sendcmpct",
        "getdata cmpctblock",
        ": cmpctblock ",
        "headers x",
        "inv tx",
        "getdata tx",
        ": tx ",
    ] {
        assert!(has(m), "no `{m}` in the trace");
    }
    // Payments with from, to, amount and txid.
    let pay = out
        .lines()
        .find(|l| l.contains("payment: wallet "))
        .expect("a payment");
    assert!(
        pay.contains(" sats, txid ") && pay.contains(" -> wallet "),
        "{pay}"
    );
    assert!(has("replay ok"));
}

#[test]
fn replay_trace_node_shows_what_it_received_sent_and_decided() {
    let dir = common::scratch("sim_trace", "node").join("run");
    run_to("tests/scenarios/small.yaml", &dir, &["--no-charts"]);
    let out = trace(&dir, &["--node", "2"]);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("replay ok"))
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().any(|l| l.contains("node 2 <- node ")),
        "received"
    );
    assert!(lines.iter().any(|l| l.contains("node 2 -> ")), "sent");
    assert!(
        lines.iter().any(|l| l.contains("node 2 accepted block ")),
        "decided"
    );
    assert!(lines.iter().any(|l| l.contains("node 2 tip ")), "decided");
    for l in &lines {
        assert!(
            l.contains("node 2 ") || l.contains("node 2:") || l.contains("submitted to node 2"),
            "a line about another node: {l}"
        );
    }
}

#[test]
fn replay_trace_reports_reorgs_with_depth_and_tips() {
    // Two halves mine apart, then heal: the losing half reorganises.
    let dir = common::scratch("sim_trace", "partition").join("run");
    run_to("tests/scenarios/partition.yaml", &dir, &["--no-charts"]);
    let out = trace(&dir, &[]);
    let reorg = out
        .lines()
        .find(|l| l.contains(" reorg depth "))
        .unwrap_or_else(|| panic!("no reorg narrated"));
    assert!(
        reorg.contains("old tip ") && reorg.contains(" -> new tip "),
        "{reorg}"
    );
}
