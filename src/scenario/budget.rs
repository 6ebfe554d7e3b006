//! What a run will cost before it starts: an estimate of its memory and of
//! its work, checked against the machine so that a scenario beyond the
//! laptop is refused in a second instead of swapping for an hour.
//!
//! The estimate ([`Scenario::estimate`]) is a sum of parts, each tied to the
//! scenario field that drives it, so a refusal names the field to change:
//!
//! | part | field | memory | work (events) |
//! |---|---|---|---|
//! | nodes | `nodes.count` / `nodes.list` / `nodes.light` | [`BYTES_PER_NODE`] each | |
//! | links | `network.topology` | [`BYTES_PER_LINK`] each | |
//! | wallets | `workload.wallets` | [`BYTES_PER_WALLET`] each | [`EVENTS_PER_WALLET`] each (keys, genesis outputs) |
//! | blocks | the stop (`stop.height` / `stop.time`) | [`BYTES_PER_NODE_BLOCK`] per node per block, plus the block | nodes + links per block |
//! | payments | `workload.payments_per_s` | per payment, per node | one per node per payment |
//! | balance samples | `metrics.balance_interval` | | one per wallet per sample |
//! | invalid items | `adversaries[i].interval` | | one per peer per tick |
//!
//! Blocks are counted at the initial expected interval over the expected
//! simulated time to the stop (plus `stop.settle`); a `stop.events` caps the
//! work and the block count. The per-item figures were measured with
//! `/usr/bin/time -f %M` (peak resident memory) on `three_nodes.yaml` grown
//! one dimension at a time (10,000 and 100,000 nodes on a ring; 10,000 and
//! 100,000 wallets; 10,000 nodes to height 3 and 50) and are rounded up; an
//! event cost ~6.5 µs of one core in those runs. The estimate is meant to
//! be within a small factor, not exact: it catches the scenario that needs
//! 50 GB or a week, not the one that needs 1.2 GB instead of 1 GB.
//!
//! [`Estimate::check`] refuses, as a [`ScenarioError::Invalid`] naming the
//! largest part's field, when the memory estimate exceeds the memory
//! available ([`available_memory`]) or the work exceeds [`MAX_WORK_EVENTS`];
//! `force` (the CLI's `--force`) skips both checks.

use super::error::{Origin, ScenarioError};
use super::schema::{Adversary, Scenario, Topology};

/// Memory per node (state, peers, chain index), bytes.
pub const BYTES_PER_NODE: f64 = 3_200.0;
/// Memory per peer link, bytes.
pub const BYTES_PER_LINK: f64 = 64.0;
/// Memory per wallet (keys, coins, balance rows), bytes.
pub const BYTES_PER_WALLET: f64 = 4_600.0;
/// Memory per node per block (what each node knows of each block: its
/// chain index entry, active-chain and undo pointers, the block's arrival
/// record), bytes. Measured as the slope between
/// `simblock_compare_10k.yaml` and `simblock_compare_100k.yaml` (peak
/// RSS 219 MB and 1,168 MB: 10.5 KB per node with 100 blocks and eight
/// links), less the per-node and per-link figures, and rounded up.
pub const BYTES_PER_NODE_BLOCK: f64 = 80.0;
/// Memory per payment, plus [`BYTES_PER_NODE_PAYMENT`] per node, bytes.
pub const BYTES_PER_PAYMENT: f64 = 600.0;
/// Memory per payment per node (mempools, known-transaction tracks), bytes.
pub const BYTES_PER_NODE_PAYMENT: f64 = 16.0;
/// Memory of an empty run (binary, allocator, tables), bytes.
pub const BASE_BYTES: f64 = 32.0 * 1024.0 * 1024.0;
/// Work of creating one wallet (a key pair and its genesis coins), in
/// events: ~0.5 ms.
pub const EVENTS_PER_WALLET: f64 = 80.0;
/// The most work a run may be estimated to need without `--force`: 5e7
/// events, roughly five minutes of one core at the measured ~6.5 µs an
/// event.
pub const MAX_WORK_EVENTS: f64 = 5e7;

/// One part of an estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The scenario field that drives it.
    pub field: String,
    /// Bytes (memory parts) or events (work parts).
    pub amount: f64,
    /// What is counted, in words.
    pub what: String,
}

/// What a run is expected to cost (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Expected simulated seconds, settle included (infinite when only
    /// `stop.events` bounds the run).
    pub sim_time_s: f64,
    /// Expected blocks mined.
    pub blocks: f64,
    /// Memory parts, bytes.
    pub memory: Vec<Part>,
    /// Work parts, events.
    pub work: Vec<Part>,
}

impl Estimate {
    /// Total estimated peak memory, bytes.
    pub fn memory_bytes(&self) -> f64 {
        BASE_BYTES + self.memory.iter().map(|p| p.amount).sum::<f64>()
    }

    /// Total estimated work, events.
    pub fn work_events(&self) -> f64 {
        self.work.iter().map(|p| p.amount).sum()
    }

    /// Refuses the run when the memory estimate exceeds `available` bytes
    /// (when known) or the work exceeds [`MAX_WORK_EVENTS`], unless `force`.
    /// The error names `source`, the largest part's field and `--force`.
    pub fn check(
        &self,
        source: &str,
        available: Option<u64>,
        force: bool,
    ) -> Result<(), ScenarioError> {
        if force {
            return Ok(());
        }
        let origin = Origin::File {
            source: source.to_string(),
            position: None,
        };
        let largest = |parts: &[Part]| {
            parts
                .iter()
                .max_by(|a, b| a.amount.total_cmp(&b.amount))
                .cloned()
        };
        let memory = self.memory_bytes();
        if let (Some(avail), Some(top)) = (available, largest(&self.memory)) {
            if memory > avail as f64 {
                return Err(ScenarioError::Invalid {
                    origin,
                    path: top.field.clone(),
                    message: format!(
                        "the run needs an estimated {} of memory ({} of it for {}), more than the {} available",
                        bytes(memory),
                        bytes(top.amount),
                        top.what,
                        bytes(avail as f64)
                    ),
                    allowed: "an estimate within the available memory (make the scenario smaller), or --force".into(),
                });
            }
        }
        let work = self.work_events();
        if let Some(top) = largest(&self.work) {
            if work.is_nan() || work > MAX_WORK_EVENTS {
                return Err(ScenarioError::Invalid {
                    origin,
                    path: top.field.clone(),
                    message: format!(
                        "the run needs an estimated {work:.2e} events of work ({:.2e} of them for {}), more than the bound of {MAX_WORK_EVENTS:.0e} (about five minutes of one core)",
                        top.amount, top.what
                    ),
                    allowed: "an estimate within the bound (a shorter stop, longer intervals, fewer wallets or nodes), or --force".into(),
                });
            }
        }
        Ok(())
    }

    /// One line for `sim validate`.
    pub fn describe(&self) -> String {
        format!(
            "estimated peak memory {}, work ~{:.2e} events, {:.0} blocks",
            bytes(self.memory_bytes()),
            self.work_events(),
            self.blocks
        )
    }
}

/// `1.5 GB`-style sizes (powers of 1024).
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut x = b;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if !x.is_finite() {
        return "an unbounded amount".into();
    }
    format!("{x:.1} {}", UNITS[unit])
}

impl Scenario {
    /// The estimate of a validated scenario (see the module docs).
    pub fn estimate(&self) -> Estimate {
        let full = self.full_node_count() as f64;
        let light = self.nodes.light as f64;
        let nodes = full + light;
        let links = links(&self.network.topology, full) + light * 2.0;
        let wallets = self.workload.wallets as f64;
        let hashes = self.expected_hashes_per_block();
        let interval = hashes / self.total_hashrate();
        let stop = &self.stop;
        let by_height = stop.height.map(|h| h as f64 * interval);
        let by_time = stop.time.map(|t| t.as_secs_f64());
        let mining_s = match (by_height, by_time) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => f64::INFINITY,
        };
        let sim_time_s = mining_s + stop.settle.as_secs_f64();
        let events_cap = stop.events.map_or(f64::INFINITY, |e| e as f64);
        let mut blocks = (mining_s / interval).min(events_cap);
        if let Some(h) = stop.height {
            blocks = blocks.min(h as f64 * 1.5 + 10.0);
        }
        let stop_field = match (by_height, by_time) {
            (Some(a), Some(b)) if b < a => "stop.time",
            (Some(_), _) => "stop.height",
            (None, Some(_)) => "stop.time",
            (None, None) => "stop.events",
        };
        let payments = (self.workload.payments_per_s * mining_s).min(events_cap);
        let block_bytes = (self.consensus.block_fill_bytes as f64).max(1_000.0);
        let nodes_field = if self.nodes.list.is_some() {
            "nodes.list"
        } else {
            "nodes.count"
        };
        let memory = vec![
            part(nodes_field, nodes * BYTES_PER_NODE, "the nodes"),
            part("network.topology", links * BYTES_PER_LINK, "the links"),
            part(
                "workload.wallets",
                wallets * BYTES_PER_WALLET,
                "the wallets",
            ),
            part(
                stop_field,
                blocks * (nodes * BYTES_PER_NODE_BLOCK + block_bytes),
                &format!("~{blocks:.0} blocks known to {nodes:.0} nodes"),
            ),
            part(
                "workload.payments_per_s",
                payments * (BYTES_PER_PAYMENT + nodes * BYTES_PER_NODE_PAYMENT),
                &format!("~{payments:.0} payments"),
            ),
        ];
        let samples = sim_time_s / self.metrics.balance_interval.as_secs_f64();
        let mut work = vec![
            part(
                "workload.wallets",
                wallets * EVENTS_PER_WALLET,
                "creating the wallets",
            ),
            part(
                stop_field,
                blocks * (nodes + links),
                &format!("relaying ~{blocks:.0} blocks"),
            ),
            part(
                "workload.payments_per_s",
                payments * nodes,
                &format!("relaying ~{payments:.0} payments"),
            ),
            part(
                "metrics.balance_interval",
                samples * wallets.max(1.0),
                &format!("~{samples:.2e} balance samples"),
            ),
        ];
        let degree = if full > 0.0 { 2.0 * links / nodes } else { 0.0 };
        for (i, a) in self.adversaries.iter().enumerate() {
            if let Adversary::InvalidData {
                interval, start, ..
            } = a
            {
                let ticks = (sim_time_s - start.as_secs_f64()).max(0.0) / interval.as_secs_f64();
                work.push(part(
                    &format!("adversaries[{i}].interval"),
                    ticks * (degree + 1.0),
                    &format!("~{ticks:.2e} invalid items"),
                ));
            }
        }
        for p in &mut work {
            p.amount = p.amount.min(events_cap.max(wallets * EVENTS_PER_WALLET));
        }
        Estimate {
            sim_time_s,
            blocks,
            memory,
            work,
        }
    }
}

fn part(field: &str, amount: f64, what: &str) -> Part {
    Part {
        field: field.to_string(),
        amount,
        what: what.to_string(),
    }
}

/// Expected number of peer links among `n` full nodes.
fn links(t: &Topology, n: f64) -> f64 {
    match t {
        Topology::FullMesh => n * (n - 1.0) / 2.0,
        Topology::Ring => n,
        Topology::RandomRegular { k } => n * *k as f64 / 2.0,
        Topology::ErdosRenyi { p } => p * n * (n - 1.0) / 2.0,
        Topology::SmallWorld { k, .. } => n * *k as f64 / 2.0,
        Topology::BitcoinOutbound { outbound, .. } => n * *outbound as f64,
        Topology::Edges { list } => list.len() as f64,
    }
}

/// The memory this process may still use, bytes: the smaller of the
/// system's available memory (`MemAvailable` in `/proc/meminfo`) and the
/// address-space limit (`RLIMIT_AS`, from `/proc/self/limits`) less what the
/// process has already mapped. `None` where neither can be read (not Linux).
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo.as_deref().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max address space"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|soft| soft.parse::<u64>().ok());
    let mapped = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024);
    let room = limit.map(|l| l.saturating_sub(mapped));
    match (available, room) {
        (Some(a), Some(r)) => Some(a.min(r)),
        (a, r) => a.or(r),
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    fn est(sets: &[&str]) -> super::Estimate {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::from_yaml_str(
            "name: b\nstop: { height: 10 }\nnodes: { count: 4 }\nworkload: { wallets: 4 }\n",
            "b.yaml",
            &sets,
        )
        .unwrap()
        .estimate()
    }

    #[test]
    fn small_runs_pass_and_big_ones_name_their_field() {
        let small = est(&[]);
        assert!(small.memory_bytes() < 64.0 * 1024.0 * 1024.0);
        small.check("b.yaml", Some(1 << 30), false).unwrap();
        let big = est(&["nodes.count=1000000", "network.topology={kind: ring}"]);
        let e = big.check("b.yaml", Some(1 << 30), false).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("b.yaml: nodes.count: the run needs an estimated"),
            "{e}"
        );
        assert!(e.contains("--force"), "{e}");
        big.check("b.yaml", Some(1 << 30), true).unwrap();
        let e = est(&["workload.wallets=1000000"])
            .check("b.yaml", None, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("workload.wallets: the run needs an estimated"),
            "{e}"
        );
        let e = est(&[
            "workload.wallets=100000",
            "metrics.balance_interval=1s",
            "stop={time: 6h}",
        ])
        .check("b.yaml", None, false)
        .unwrap_err()
        .to_string();
        assert!(e.contains("metrics.balance_interval"), "{e}");
    }

    #[test]
    fn reads_this_machine() {
        if cfg!(target_os = "linux") {
            assert!(super::available_memory().is_some_and(|b| b > 0));
        }
    }
}
