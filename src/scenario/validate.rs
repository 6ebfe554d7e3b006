//! Semantic checks on a deserialized [`Scenario`]: ranges, cross-field rules
//! and references. Each error names the field path and the allowed range.
//!
//! Validation also *resolves* the scenario, so the manifest records what
//! actually ran: a missing `consensus.target_interval`/`difficulty_bits`
//! becomes `target_interval: 10m`, a `nodes.count` without `hashrate` gets
//! the default equal split, and the timeline is sorted by `at` (stable, so
//! events at the same instant keep their file order). Checks run before the
//! sort, so `timeline[i]` in an error is the position in the file.

use std::collections::BTreeSet;

use super::error::ScenarioError;
use super::locate::{Context, FieldPath};
use super::schema::{
    Adversary, Hashrate, Latency, Role, Scenario, Switch, Topology, DEFAULT_TARGET_INTERVAL,
};
use crate::ledger::Amount;
use crate::net::link::LinkError;
use crate::sim::time::SimDuration;

/// Most nodes (full plus light) a scenario may have.
pub const MAX_NODES: u32 = 1_000_000;
/// Most nodes a `full_mesh` topology may have (n² links).
pub const MAX_FULL_MESH_NODES: u32 = 2_000;
/// Most expected hashes per block with `pow.grind: true` (2^28, see
/// [`within_hash_limit`]).
pub const MAX_GRIND_HASHES: f64 = 268_435_456.0;
/// Most expected hashes per block for `pow.grind: auto` to grind (2^24, see
/// [`within_hash_limit`]).
pub const AUTO_GRIND_HASHES: f64 = 16_777_216.0;

/// Whether `hashes` expected per block is within `limit`, allowing 1e-4
/// relative slack: rounding a target to compact precision makes
/// `difficulty_bits: 24` need 2^24 × 1.00002 hashes, and it should still
/// count as 2^24.
pub fn within_hash_limit(hashes: f64, limit: f64) -> bool {
    hashes <= limit * (1.0 + 1e-4)
}
/// Shortest `metrics.balance_interval`: each sample visits every wallet.
pub const MIN_BALANCE_INTERVAL: SimDuration = SimDuration::from_secs(1);
/// Shortest `adversaries[].interval` of an `invalid_data` attacker: each tick
/// builds an invalid item, sends it to every peer and each peer validates it.
pub const MIN_INVALID_DATA_INTERVAL: SimDuration = SimDuration::from_millis(100);
/// Smallest `consensus.retarget_window` other than 0 (off). A window of 1
/// measures no block interval at all (Bitcoin Core's rule, kept here, times
/// the window from its first block to its last, so `window - 1` intervals):
/// the measured timespan is 0, clamped to a quarter of the target, and the
/// difficulty would quadruple at every block.
pub const MIN_RETARGET_WINDOW: u32 = 2;
/// Largest accepted total hashrate, H/s (Bitcoin in 2024: ~7e20).
const MAX_TOTAL_HPS: f64 = 1e30;
/// Tolerance of "shares sum to 1".
const SHARE_TOLERANCE: f64 = 1e-6;

/// Checks and resolves `s` in place.
pub(crate) fn validate(s: &mut Scenario, ctx: &Context<'_>) -> Result<(), ScenarioError> {
    let v = Checker { ctx };
    v.name(s)?;
    v.stop(s)?;
    v.consensus(s)?;
    v.nodes(s)?;
    let n = s.node_count();
    v.network(s, n)?;
    v.workload(s)?;
    v.timeline(s, n)?;
    v.adversaries(s)?;
    if s.mempool.max_bytes == 0 {
        return Err(v.bad("mempool.max_bytes", "must not be 0", ">= 1 byte"));
    }
    if s.metrics.balance_interval < MIN_BALANCE_INTERVAL {
        return Err(v.bad(
            "metrics.balance_interval",
            &format!(
                "{} is too short: every sample visits every wallet, so the samples would outnumber everything else the run does",
                s.metrics.balance_interval
            ),
            ">= 1s (a simulated day is then 86400 samples)",
        ));
    }
    let hashes = s.expected_hashes_per_block();
    if s.pow.grind == Switch::On && !within_hash_limit(hashes, MAX_GRIND_HASHES) {
        return Err(v.bad(
            "pow.grind",
            &format!(
                "`true` would grind ~{hashes:.3e} hashes per block (far too slow)"
            ),
            "`true` only up to 2^28 expected hashes per block (difficulty_bits <= 28); use `auto` or `false`",
        ));
    }
    super::reach::check(s, &|path, message, allowed| v.bad(path, message, allowed))?;
    s.timeline.sort_by_key(|e| e.at);
    Ok(())
}

struct Checker<'c, 'a> {
    ctx: &'c Context<'a>,
}

impl Checker<'_, '_> {
    fn bad(&self, path: &str, message: &str, allowed: &str) -> ScenarioError {
        let field = FieldPath::parse(path).expect("validation paths are well formed");
        ScenarioError::Invalid {
            origin: self.ctx.origin(&field, false),
            path: path.to_string(),
            message: message.to_string(),
            allowed: allowed.to_string(),
        }
    }

    fn name(&self, s: &Scenario) -> Result<(), ScenarioError> {
        const ALLOWED: &str = "1 to 100 of letters, digits, `_` and `-`";
        if s.name.is_empty() {
            return Err(self.bad("name", "is empty", ALLOWED));
        }
        if let Some(c) = s
            .name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(self.bad(
                "name",
                &format!("`{}` contains `{c}` (the name is a directory name)", s.name),
                ALLOWED,
            ));
        }
        if s.name.len() > 100 {
            return Err(self.bad("name", "is longer than 100 characters", ALLOWED));
        }
        Ok(())
    }

    fn stop(&self, s: &Scenario) -> Result<(), ScenarioError> {
        let st = &s.stop;
        if st.height.is_none() && st.time.is_none() && st.events.is_none() {
            return Err(self.bad(
                "stop",
                "no stop condition",
                "at least one of stop.height, stop.time, stop.events",
            ));
        }
        if st.height == Some(0) {
            return Err(self.bad("stop.height", "0 would stop before the first block", ">= 1"));
        }
        if st.events == Some(0) {
            return Err(self.bad("stop.events", "must not be 0", ">= 1"));
        }
        if st.time == Some(SimDuration::ZERO) {
            return Err(self.bad(
                "stop.time",
                "must not be 0",
                "a positive duration such as `6h`",
            ));
        }
        Ok(())
    }

    fn consensus(&self, s: &mut Scenario) -> Result<(), ScenarioError> {
        let c = &mut s.consensus;
        match (c.difficulty_bits, c.target_interval) {
            (Some(_), Some(_)) => {
                return Err(self.bad(
                    "consensus.target_interval",
                    "both difficulty_bits and target_interval are set",
                    "exactly one of consensus.difficulty_bits or consensus.target_interval",
                ))
            }
            (None, None) => c.target_interval = Some(DEFAULT_TARGET_INTERVAL),
            _ => {}
        }
        if let Some(bits) = c.difficulty_bits {
            if !(1..=255).contains(&bits) {
                return Err(self.bad(
                    "consensus.difficulty_bits",
                    &format!("{bits} is out of range"),
                    "1..=255",
                ));
            }
        }
        if c.retarget_window == 1 {
            return Err(self.bad(
                "consensus.retarget_window",
                "1 measures no block interval (Bitcoin's rule times a window from its first block to its last), so the difficulty would quadruple at every block",
                "0 (retargeting off) or >= 2 (Bitcoin uses 2016)",
            ));
        }
        if c.target_interval == Some(SimDuration::ZERO) {
            return Err(self.bad(
                "consensus.target_interval",
                "must not be 0",
                "a positive duration such as `10m`",
            ));
        }
        if !(1_000..=1_000_000_000).contains(&c.max_block_bytes) {
            return Err(self.bad(
                "consensus.max_block_bytes",
                &format!("{} is out of range", c.max_block_bytes),
                "1000..=1000000000",
            ));
        }
        if c.block_fill_bytes > c.max_block_bytes {
            return Err(self.bad(
                "consensus.block_fill_bytes",
                &format!(
                    "{} exceeds max_block_bytes {}",
                    c.block_fill_bytes, c.max_block_bytes
                ),
                "0..=consensus.max_block_bytes",
            ));
        }
        if c.subsidy_sats > Amount::MAX_MONEY.to_sat() {
            return Err(self.bad(
                "consensus.subsidy_sats",
                &format!("{} is more than all bitcoin", c.subsidy_sats),
                "0..=2100000000000000",
            ));
        }
        Ok(())
    }

    fn nodes(&self, s: &mut Scenario) -> Result<(), ScenarioError> {
        let regions: Vec<&str> = s.network.regions.iter().map(|r| r.name.as_str()).collect();
        let nodes = &mut s.nodes;
        let full = match (&nodes.count, &nodes.list) {
            (Some(_), Some(_)) => {
                return Err(self.bad(
                    "nodes.list",
                    "both nodes.count and nodes.list are set",
                    "either nodes.count (with nodes.hashrate) or nodes.list",
                ))
            }
            (None, None) => {
                return Err(self.bad(
                    "nodes",
                    "no nodes",
                    "nodes.count (1..=1000000) or nodes.list",
                ))
            }
            (Some(count), None) => {
                let count = *count;
                if !(1..=MAX_NODES).contains(&count) {
                    return Err(self.bad(
                        "nodes.count",
                        &format!("{count} is out of range"),
                        "1..=1000000",
                    ));
                }
                let hashrate = nodes.hashrate.get_or_insert_with(Hashrate::default);
                let total = hashrate.total_hps();
                if !(total > 0.0 && total <= MAX_TOTAL_HPS) {
                    return Err(self.bad(
                        "nodes.hashrate.total_hps",
                        &format!("{total} is out of range"),
                        "> 0 and <= 1e30 hashes per second",
                    ));
                }
                match hashrate {
                    Hashrate::Equal { .. } => {}
                    Hashrate::Normal { sd_fraction, .. } => {
                        if !(0.0..=10.0).contains(sd_fraction) {
                            return Err(self.bad(
                                "nodes.hashrate.sd_fraction",
                                &format!("{sd_fraction} is out of range"),
                                "0..=10",
                            ));
                        }
                    }
                    Hashrate::Shares { shares, .. } => {
                        if shares.len() != count as usize {
                            return Err(self.bad(
                                "nodes.hashrate.shares",
                                &format!("has {} shares for {count} nodes", shares.len()),
                                "one share per node (length == nodes.count)",
                            ));
                        }
                        self.shares("nodes.hashrate.shares", shares.iter().copied())?;
                    }
                }
                count
            }
            (None, Some(list)) => {
                if nodes.hashrate.is_some() {
                    return Err(self.bad(
                        "nodes.hashrate",
                        "is set together with nodes.list",
                        "nodes.hashrate only with nodes.count; give each list entry its hashrate_hps",
                    ));
                }
                if list.is_empty() || list.len() > MAX_NODES as usize {
                    return Err(self.bad(
                        "nodes.list",
                        &format!("has {} entries", list.len()),
                        "1..=1000000 entries",
                    ));
                }
                for (i, node) in list.iter().enumerate() {
                    let h = node.hashrate_hps;
                    if !(0.0..=MAX_TOTAL_HPS).contains(&h) {
                        return Err(self.bad(
                            &format!("nodes.list[{i}].hashrate_hps"),
                            &format!("{h} is out of range"),
                            ">= 0 and <= 1e30 hashes per second",
                        ));
                    }
                    if let Some(region) = &node.region {
                        if !regions.contains(&region.as_str()) {
                            return Err(self.bad(
                                &format!("nodes.list[{i}].region"),
                                &format!("unknown region `{region}`"),
                                &region_names(&regions),
                            ));
                        }
                    }
                    match (node.role, h > 0.0) {
                        (Some(Role::Miner), false) => {
                            return Err(self.bad(
                                &format!("nodes.list[{i}].role"),
                                "a miner needs hashrate_hps > 0",
                                "role miner with hashrate_hps > 0, or relay/light with 0",
                            ))
                        }
                        (Some(role @ (Role::Relay | Role::Light)), true) => {
                            return Err(self.bad(
                                &format!("nodes.list[{i}].role"),
                                &format!("a {} node cannot have hashrate_hps {h}", role_name(role)),
                                "role miner with hashrate_hps > 0, or relay/light with 0",
                            ))
                        }
                        _ => {}
                    }
                }
                let total: f64 = list.iter().map(|n| n.hashrate_hps).sum();
                if !(total > 0.0 && total <= MAX_TOTAL_HPS) {
                    return Err(self.bad(
                        "nodes.list",
                        &format!("total hashrate {total} is out of range"),
                        "at least one node with hashrate_hps > 0, total <= 1e30",
                    ));
                }
                list.len() as u32
            }
        };
        if nodes.light > MAX_NODES || full as u64 + nodes.light as u64 > MAX_NODES as u64 {
            return Err(self.bad(
                "nodes.light",
                &format!("{full} full plus {} light nodes is too many", nodes.light),
                "full plus light nodes <= 1000000",
            ));
        }
        Ok(())
    }

    /// Each share in [0, 1], summing to 1 ± 1e-6.
    fn shares(&self, path: &str, shares: impl Iterator<Item = f64>) -> Result<(), ScenarioError> {
        let mut sum = 0.0;
        for (i, x) in shares.enumerate() {
            if !(0.0..=1.0).contains(&x) {
                return Err(self.bad(
                    &format!("{path}[{i}]"),
                    &format!("{x} is out of range"),
                    "0..=1",
                ));
            }
            sum += x;
        }
        if (sum - 1.0).abs() > SHARE_TOLERANCE {
            return Err(self.bad(
                path,
                &format!("shares sum to {sum}, not 1"),
                "shares summing to 1 (within 1e-6)",
            ));
        }
        Ok(())
    }

    fn network(&self, s: &Scenario, n: usize) -> Result<(), ScenarioError> {
        let net = &s.network;
        self.topology(&net.topology, n)?;
        self.mbps("network.bandwidth.up_mbps", net.bandwidth.up_mbps)?;
        self.mbps("network.bandwidth.down_mbps", net.bandwidth.down_mbps)?;
        let count = net.regions.len();
        if count > 1_000 {
            return Err(self.bad(
                "network.regions",
                &format!("has {count} regions"),
                "at most 1000",
            ));
        }
        let mut names = BTreeSet::new();
        for (i, r) in net.regions.iter().enumerate() {
            let at = format!("network.regions[{i}]");
            if r.name.is_empty() {
                return Err(self.bad(&format!("{at}.name"), "is empty", "a non-empty unique name"));
            }
            if !names.insert(r.name.as_str()) {
                return Err(self.bad(
                    &format!("{at}.name"),
                    &format!("region `{}` is defined twice", r.name),
                    "a non-empty unique name",
                ));
            }
            self.mbps(&format!("{at}.up_mbps"), r.up_mbps)?;
            self.mbps(&format!("{at}.down_mbps"), r.down_mbps)?;
            if r.latency_ms.len() != count {
                return Err(self.bad(
                    &format!("{at}.latency_ms"),
                    &format!("has {} entries for {count} regions", r.latency_ms.len()),
                    "one latency per region, in the order of network.regions",
                ));
            }
            for (j, ms) in r.latency_ms.iter().enumerate() {
                self.ms(&format!("{at}.latency_ms[{j}]"), *ms)?;
            }
        }
        if count > 0 {
            // Checked after the per-region checks so a bad share is named.
            for (i, r) in net.regions.iter().enumerate() {
                if !(0.0..=1.0).contains(&r.share) {
                    return Err(self.bad(
                        &format!("network.regions[{i}].share"),
                        &format!("{} is out of range", r.share),
                        "0..=1",
                    ));
                }
            }
            let sum: f64 = net.regions.iter().map(|r| r.share).sum();
            if (sum - 1.0).abs() > SHARE_TOLERANCE {
                return Err(self.bad(
                    "network.regions",
                    &format!("region shares sum to {sum}, not 1"),
                    "shares summing to 1 (within 1e-6)",
                ));
            }
        }
        // After the regions' own checks, so a bad region is named first.
        self.latency(&net.latency, !net.regions.is_empty())?;
        self.block_relay(&net.relay)?;
        self.trickle(&net.trickle)
    }

    fn trickle(&self, t: &super::Trickle) -> Result<(), ScenarioError> {
        let hour = SimDuration::from_secs(3600);
        for (path, d, core) in [
            ("network.trickle.inbound_interval", t.inbound_interval, "5s"),
            (
                "network.trickle.outbound_interval",
                t.outbound_interval,
                "2s",
            ),
        ] {
            if d > hour {
                return Err(self.bad(
                    path,
                    &format!("{d} is out of range"),
                    &format!("0s..=1h (Bitcoin Core uses {core})"),
                ));
            }
        }
        if !(1..=1000).contains(&t.broadcast_per_s) {
            return Err(self.bad(
                "network.trickle.broadcast_per_s",
                &format!("{} is out of range", t.broadcast_per_s),
                "1..=1000 (Bitcoin Core uses 7)",
            ));
        }
        // Core: INVENTORY_BROADCAST_MAX <= MAX_PEER_TX_ANNOUNCEMENTS (5,000).
        if !(1..=5000).contains(&t.broadcast_max) {
            return Err(self.bad(
                "network.trickle.broadcast_max",
                &format!("{} is out of range", t.broadcast_max),
                "1..=5000 (Bitcoin Core uses 1000)",
            ));
        }
        Ok(())
    }

    fn block_relay(&self, r: &super::BlockRelay) -> Result<(), ScenarioError> {
        if r.high_bandwidth_peers > 8 {
            return Err(self.bad(
                "network.relay.high_bandwidth_peers",
                &format!("{} is out of range", r.high_bandwidth_peers),
                "0..=8 (Bitcoin Core uses 3)",
            ));
        }
        self.probability("network.relay.usage_share", r.usage_share)?;
        let p = &r.padding;
        if p.compact_bytes > 4_000_000 {
            return Err(self.bad(
                "network.relay.padding.compact_bytes",
                &format!("{} is out of range", p.compact_bytes),
                "0..=4000000",
            ));
        }
        self.probability("network.relay.padding.churn_share", p.churn_share)?;
        self.probability("network.relay.padding.failure_control", p.failure_control)?;
        self.probability("network.relay.padding.failure_churn", p.failure_churn)
    }

    fn topology(&self, t: &Topology, n: usize) -> Result<(), ScenarioError> {
        let n64 = n as u64;
        match t {
            Topology::FullMesh => {
                if n > MAX_FULL_MESH_NODES as usize {
                    return Err(self.bad(
                        "network.topology.kind",
                        &format!(
                            "full_mesh with {n} nodes would need {} links",
                            n64 * (n64 - 1) / 2
                        ),
                        "full_mesh up to 2000 nodes; use `kind: bitcoin_outbound` (or random_regular) for larger networks",
                    ));
                }
            }
            Topology::Ring => {}
            Topology::RandomRegular { k } => {
                let k = *k as u64;
                if k == 0 || k >= n64 {
                    return Err(self.bad(
                        "network.topology.k",
                        &format!("k = {k} with {n} nodes"),
                        "1 <= k < number of nodes",
                    ));
                }
                if (k * n64) % 2 == 1 {
                    return Err(self.bad(
                        "network.topology.k",
                        &format!(
                            "k = {k} with {n} nodes: n·k is odd, so no {k}-regular graph exists"
                        ),
                        "n·k even (make k or the number of nodes even)",
                    ));
                }
            }
            Topology::ErdosRenyi { p } => {
                self.probability("network.topology.p", *p)?;
                let links = p * (n as f64) * (n as f64 - 1.0) / 2.0;
                let cap = MAX_FULL_MESH_NODES as f64 * (MAX_FULL_MESH_NODES as f64 - 1.0) / 2.0;
                if links > cap {
                    return Err(self.bad(
                        "network.topology.p",
                        &format!("p = {p} with {n} nodes gives ~{links:.0} links"),
                        "p·n·(n-1)/2 <= 1999000 links; use `kind: bitcoin_outbound` for large networks",
                    ));
                }
            }
            Topology::SmallWorld { k, beta } => {
                let k = *k as u64;
                if k < 2 || k % 2 == 1 || k >= n64 {
                    return Err(self.bad(
                        "network.topology.k",
                        &format!("k = {k} with {n} nodes"),
                        "k even, 2 <= k < number of nodes",
                    ));
                }
                self.probability("network.topology.beta", *beta)?;
            }
            Topology::BitcoinOutbound {
                outbound,
                max_inbound,
                ..
            } => {
                let o = *outbound as u64;
                if o == 0 || (n64 > 1 && o >= n64) {
                    return Err(self.bad(
                        "network.topology.outbound",
                        &format!("{o} outbound connections with {n} nodes"),
                        "1 <= outbound < number of nodes",
                    ));
                }
                if (*max_inbound as u64) < o {
                    return Err(self.bad(
                        "network.topology.max_inbound",
                        &format!("{max_inbound} is below outbound {o}, so not every connection can be accepted"),
                        "max_inbound >= outbound",
                    ));
                }
            }
            Topology::Edges { list } => {
                for (i, [a, b]) in list.iter().enumerate() {
                    for (j, id) in [a, b].into_iter().enumerate() {
                        if *id as usize >= n {
                            return Err(self.bad(
                                &format!("network.topology.list[{i}][{j}]"),
                                &format!("node {id} does not exist ({n} nodes)"),
                                &node_range(n),
                            ));
                        }
                    }
                    if a == b {
                        return Err(self.bad(
                            &format!("network.topology.list[{i}]"),
                            &format!("edge [{a}, {b}] connects a node to itself"),
                            "two different node ids",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The rules are [`crate::net::link::LatencyModel::validate`]'s (the link layer's, so the
    /// two cannot disagree); this names the field and its line.
    fn latency(&self, l: &Latency, have_regions: bool) -> Result<(), ScenarioError> {
        let p = "network.latency";
        if have_regions && l.model().is_some() {
            return Err(self.bad(
                &format!("{p}.kind"),
                "network.regions is set, but only `kind: regions` uses it",
                "`kind: regions` with network.regions, or no network.regions",
            ));
        }
        let Some(model) = l.model() else {
            if !have_regions {
                return Err(self.bad(
                    &format!("{p}.kind"),
                    "`regions` latency needs network.regions",
                    "a network.regions list, or another latency kind",
                ));
            }
            return Ok(());
        };
        model.validate().map_err(|e| match e {
            LinkError::InvalidValue {
                field,
                value,
                requirement,
            } => self.bad(
                &format!("{p}.{field}"),
                &format!("{value} ms is out of range"),
                &format!("{} ms", requirement.inequality()),
            ),
            LinkError::MinAboveMax { min_ms, max_ms } => self.bad(
                &format!("{p}.max_ms"),
                &format!("max_ms {max_ms} is below min_ms {min_ms}"),
                "min_ms <= max_ms",
            ),
            LinkError::ParetoShape { shape } => self.bad(
                &format!("{p}.shape"),
                &format!("{shape} is out of range (the mean would not exist)"),
                "> 1 (SimBlock uses 5)",
            ),
            other => self.bad(p, &other.to_string(), "a valid latency model"),
        })
    }

    fn ms(&self, path: &str, ms: f64) -> Result<(), ScenarioError> {
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(self.bad(path, &format!("{ms} ms is out of range"), ">= 0 ms"));
        }
        Ok(())
    }

    fn mbps(&self, path: &str, mbps: f64) -> Result<(), ScenarioError> {
        if !(mbps > 0.0 && mbps.is_finite()) {
            return Err(self.bad(
                path,
                &format!("{mbps} Mbit/s is out of range"),
                "> 0 Mbit/s",
            ));
        }
        Ok(())
    }

    fn probability(&self, path: &str, p: f64) -> Result<(), ScenarioError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(self.bad(path, &format!("{p} is not a probability"), "0..=1"));
        }
        Ok(())
    }

    fn workload(&self, s: &Scenario) -> Result<(), ScenarioError> {
        let w = &s.workload;
        if w.wallets > MAX_NODES {
            return Err(self.bad(
                "workload.wallets",
                &format!("{} is out of range", w.wallets),
                "0..=1000000",
            ));
        }
        if !(w.payments_per_s >= 0.0 && w.payments_per_s <= 1e6) {
            return Err(self.bad(
                "workload.payments_per_s",
                &format!("{} is out of range", w.payments_per_s),
                "0..=1000000 payments per second",
            ));
        }
        if w.payments_per_s > 0.0 && w.wallets < 2 {
            return Err(self.bad(
                "workload.wallets",
                &format!("{} wallets cannot pay each other", w.wallets),
                ">= 2 wallets when payments_per_s > 0",
            ));
        }
        let total = (w.wallets as u128) * (w.initial_balance_sats as u128);
        if total > Amount::MAX_MONEY.to_sat() as u128 {
            return Err(self.bad(
                "workload.initial_balance_sats",
                &format!(
                    "{} wallets × {} sats is more than all bitcoin",
                    w.wallets, w.initial_balance_sats
                ),
                "wallets × initial_balance_sats <= 2100000000000000",
            ));
        }
        if w.fee_rate_sat_per_byte > 100_000 {
            return Err(self.bad(
                "workload.fee_rate_sat_per_byte",
                &format!("{} is out of range", w.fee_rate_sat_per_byte),
                "0..=100000 sat/byte",
            ));
        }
        if w.relay == super::TxRelay::Flood && !s.adversaries.is_empty() {
            return Err(self.bad(
                "workload.relay",
                "flood relay has no per-node mempools, which adversaries need",
                "messages when the scenario has adversaries",
            ));
        }
        Ok(())
    }

    fn adversaries(&self, s: &Scenario) -> Result<(), ScenarioError> {
        let full = s.full_node_count();
        let wallets = s.workload.wallets;
        let mut attackers = BTreeSet::new();
        let mut share_sum = 0.0;
        let mut endowment = (wallets as u128) * (s.workload.initial_balance_sats as u128);
        for (i, a) in s.adversaries.iter().enumerate() {
            let at = format!("adversaries[{i}]");
            let node = a.node();
            if node as usize >= full {
                return Err(self.bad(
                    &format!("{at}.node"),
                    &format!("node {node} is not a full node ({full} full nodes)"),
                    &node_range(full),
                ));
            }
            if !attackers.insert(node) {
                return Err(self.bad(
                    &format!("{at}.node"),
                    &format!("node {node} is already an attacker"),
                    "one adversary per node",
                ));
            }
            if let Some(share) = a.share() {
                if !(0.0..1.0).contains(&share) {
                    return Err(self.bad(
                        &format!("{at}.share"),
                        &format!("{share} is out of range"),
                        "0 <= share < 1",
                    ));
                }
                share_sum += share;
                if share_sum >= 1.0 {
                    return Err(self.bad(
                        &format!("{at}.share"),
                        &format!("attacker shares sum to {share_sum}"),
                        "attacker shares summing to less than 1 (honest nodes keep the rest)",
                    ));
                }
                if full < 2 {
                    return Err(self.bad(
                        &format!("{at}.share"),
                        "needs at least one other full node to hold the rest of the hashrate",
                        "at least 2 full nodes",
                    ));
                }
            } else if let Some(list) = &s.nodes.list {
                let needs_hashrate = !matches!(a, Adversary::InvalidData { .. });
                if needs_hashrate && list[node as usize].hashrate_hps <= 0.0 {
                    return Err(self.bad(
                        &format!("{at}.node"),
                        &format!("attacker node {node} has no hashrate"),
                        "a node with hashrate_hps > 0, or set the attacker's `share`",
                    ));
                }
            }
            let mut ds = |merchant: u32, z: u32, give_up: u32, amount: u64, path: &str| {
                if merchant >= wallets {
                    return Err(self.bad(
                        &format!("{path}.merchant_wallet"),
                        &format!("wallet {merchant} does not exist ({wallets} wallets)"),
                        "a wallet id < workload.wallets",
                    ));
                }
                if z == 0 {
                    return Err(self.bad(
                        &format!("{path}.confirmations"),
                        "must not be 0",
                        ">= 1",
                    ));
                }
                if give_up == 0 {
                    return Err(self.bad(
                        &format!("{path}.give_up_behind"),
                        "must not be 0",
                        ">= 1",
                    ));
                }
                if !(1..=Amount::MAX_MONEY.to_sat()).contains(&amount) {
                    return Err(self.bad(
                        &format!("{path}.amount_sats"),
                        &format!("{amount} is out of range"),
                        "1..=2100000000000000",
                    ));
                }
                endowment += crate::adversary::attacker_endowment(amount) as u128;
                if endowment > Amount::MAX_MONEY.to_sat() as u128 {
                    return Err(self.bad(
                        &format!("{path}.amount_sats"),
                        &format!(
                            "the attacker's genesis coins ({} × ({amount} + fee) sats) and the wallets hold more than all bitcoin",
                            crate::adversary::DOUBLE_SPEND_COINS
                        ),
                        "a smaller amount_sats",
                    ));
                }
                Ok(())
            };
            match a {
                Adversary::Selfish { gamma, .. } => {
                    if let Some(g) = gamma {
                        self.probability(&format!("{at}.gamma"), *g)?;
                    }
                }
                Adversary::DoubleSpend {
                    merchant_wallet,
                    confirmations,
                    give_up_behind,
                    amount_sats,
                    premine,
                    ..
                } => {
                    if *premine > 1 {
                        return Err(self.bad(
                            &format!("{at}.premine"),
                            &format!("{premine} is not a supported pre-mine"),
                            "0 or 1",
                        ));
                    }
                    ds(
                        *merchant_wallet,
                        *confirmations,
                        *give_up_behind,
                        *amount_sats,
                        &at,
                    )?
                }
                Adversary::Eclipse {
                    victim,
                    double_spend,
                    ..
                } => {
                    if *victim as usize >= full || *victim == node {
                        return Err(self.bad(
                            &format!("{at}.victim"),
                            &format!("node {victim} cannot be the victim"),
                            &format!("a full node other than the attacker ({})", node_range(full)),
                        ));
                    }
                    if let Some(t) = double_spend {
                        ds(
                            t.merchant_wallet,
                            t.confirmations,
                            t.give_up_behind,
                            t.amount_sats,
                            &format!("{at}.double_spend"),
                        )?;
                    }
                }
                Adversary::Majority { depth, .. } => {
                    if *depth == 0 {
                        return Err(self.bad(&format!("{at}.depth"), "must not be 0", ">= 1"));
                    }
                }
                Adversary::InvalidData {
                    interval, kinds, ..
                } => {
                    if *interval < MIN_INVALID_DATA_INTERVAL {
                        return Err(self.bad(
                            &format!("{at}.interval"),
                            &format!("{interval} is too short: every tick sends an invalid item to every peer, which validates it"),
                            ">= 100ms (default 30s)",
                        ));
                    }
                    endowment += crate::adversary::INVALID_DATA_COIN_SATS as u128;
                    if endowment > Amount::MAX_MONEY.to_sat() as u128 {
                        return Err(self.bad(
                            "workload.initial_balance_sats",
                            "the wallets and the attacker's genesis coin hold more than all bitcoin",
                            "wallets × initial_balance_sats + 1 BTC <= 2100000000000000",
                        ));
                    }
                    if kinds.is_empty() {
                        return Err(self.bad(
                            &format!("{at}.kinds"),
                            "is empty",
                            "at least one kind (omit the field for all kinds)",
                        ));
                    }
                }
            }
        }
        // A victim must not be an attacker itself.
        for (i, a) in s.adversaries.iter().enumerate() {
            if let Adversary::Eclipse { victim, .. } = a {
                if attackers.contains(victim) {
                    return Err(self.bad(
                        &format!("adversaries[{i}].victim"),
                        &format!("node {victim} is an attacker"),
                        "an honest full node",
                    ));
                }
            }
        }
        Ok(())
    }

    fn timeline(&self, s: &Scenario, n: usize) -> Result<(), ScenarioError> {
        const ACTIONS: &str = "exactly one of partition, heal, offline, online, hashrate";
        for (i, e) in s.timeline.iter().enumerate() {
            let at = format!("timeline[{i}]");
            let set = e.actions_set();
            match set.len() {
                0 => return Err(self.bad(&at, "event has no action", ACTIONS)),
                1 => {}
                _ => {
                    return Err(self.bad(
                        &format!("{at}.{}", set[1]),
                        &format!("event has several actions ({})", set.join(", ")),
                        ACTIONS,
                    ))
                }
            }
            let check_ids = |field: &str, ids: &[u32]| -> Result<(), ScenarioError> {
                for (j, id) in ids.iter().enumerate() {
                    if *id as usize >= n {
                        return Err(self.bad(
                            &format!("{at}.{field}[{j}]"),
                            &format!("node {id} does not exist ({n} nodes)"),
                            &node_range(n),
                        ));
                    }
                }
                Ok(())
            };
            if let Some(groups) = &e.partition {
                if groups.is_empty() {
                    return Err(self.bad(
                        &format!("{at}.partition"),
                        "has no groups",
                        "a list of node-id groups, e.g. [[0], [1, 2]]",
                    ));
                }
                let mut seen = BTreeSet::new();
                for (g, group) in groups.iter().enumerate() {
                    let field = format!("partition[{g}]");
                    if group.is_empty() {
                        return Err(self.bad(
                            &format!("{at}.{field}"),
                            "group is empty",
                            "non-empty groups of node ids",
                        ));
                    }
                    check_ids(&field, group)?;
                    for (j, id) in group.iter().enumerate() {
                        if !seen.insert(*id) {
                            return Err(self.bad(
                                &format!("{at}.{field}[{j}]"),
                                &format!("node {id} is in two groups"),
                                "disjoint groups",
                            ));
                        }
                    }
                }
            }
            if let Some(ids) = &e.offline {
                check_ids("offline", ids)?;
            }
            if let Some(ids) = &e.online {
                check_ids("online", ids)?;
            }
            if let Some(h) = &e.hashrate {
                if h.node as usize >= n {
                    return Err(self.bad(
                        &format!("{at}.hashrate.node"),
                        &format!("node {} does not exist ({n} nodes)", h.node),
                        &node_range(n),
                    ));
                }
                if !(h.hps >= 0.0 && h.hps <= MAX_TOTAL_HPS) {
                    return Err(self.bad(
                        &format!("{at}.hashrate.hps"),
                        &format!("{} is out of range", h.hps),
                        ">= 0 and <= 1e30 hashes per second",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn node_range(n: usize) -> String {
    format!("node ids 0..={}", n.saturating_sub(1))
}

fn region_names(regions: &[&str]) -> String {
    if regions.is_empty() {
        "a name from network.regions (none are defined)".to_string()
    } else {
        format!("one of {}", regions.join(", "))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Miner => "miner",
        Role::Relay => "relay",
        Role::Light => "light",
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    const BASE: &str = "\
name: a
stop: { height: 5 }
nodes: { count: 4 }
workload: { wallets: 3 }
";

    fn check(adversaries: &str) -> Result<Scenario, String> {
        let text = format!("{BASE}adversaries:\n{adversaries}");
        Scenario::from_yaml_str(&text, "t.yaml", &[]).map_err(|e| e.to_string())
    }

    #[test]
    fn adversaries_parse_with_defaults() {
        let s = check("  - { kind: selfish, node: 0 }\n  - { kind: double_spend, node: 1, merchant_wallet: 2 }\n").unwrap();
        assert_eq!(s.adversaries.len(), 2);
        assert_eq!(s.adversaries[1].kind_name(), "double_spend");
        let s = check("  - { kind: invalid_data, node: 3 }\n").unwrap();
        match &s.adversaries[0] {
            crate::scenario::schema::Adversary::InvalidData {
                kinds, interval, ..
            } => {
                assert_eq!(kinds.len(), 8);
                assert_eq!(interval.as_secs_f64(), 30.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn adversary_errors_name_the_field() {
        let cases = [
            ("  - { kind: selfish, node: 4 }\n", "adversaries[0].node"),
            (
                "  - { kind: selfish, node: 0 }\n  - { kind: majority, node: 0 }\n",
                "already an attacker",
            ),
            ("  - { kind: selfish, node: 0, gamma: 1.5 }\n", "adversaries[0].gamma"),
            ("  - { kind: selfish, node: 0, share: 1.0 }\n", "adversaries[0].share"),
            (
                "  - { kind: selfish, node: 0, share: 0.6 }\n  - { kind: majority, node: 1, share: 0.5 }\n",
                "shares sum",
            ),
            (
                "  - { kind: double_spend, node: 0, merchant_wallet: 3 }\n",
                "adversaries[0].merchant_wallet",
            ),
            (
                "  - { kind: double_spend, node: 0, merchant_wallet: 1, confirmations: 0 }\n",
                "adversaries[0].confirmations",
            ),
            (
                "  - { kind: double_spend, node: 0, merchant_wallet: 1, premine: 2 }\n",
                "adversaries[0].premine",
            ),
            ("  - { kind: eclipse, node: 0, victim: 0 }\n", "adversaries[0].victim"),
            (
                "  - { kind: eclipse, node: 0, victim: 1, double_spend: { merchant_wallet: 9 } }\n",
                "adversaries[0].double_spend.merchant_wallet",
            ),
            (
                "  - { kind: eclipse, node: 0, victim: 1 }\n  - { kind: selfish, node: 1 }\n",
                "is an attacker",
            ),
            ("  - { kind: majority, node: 0, depth: 0 }\n", "adversaries[0].depth"),
            ("  - { kind: invalid_data, node: 0, kinds: [] }\n", "adversaries[0].kinds"),
            ("  - { kind: invalid_data, node: 0, interval: 0s }\n", "adversaries[0].interval"),
            ("  - { kind: selfsh, node: 0 }\n", "did you mean `selfish`"),
            ("  - { kind: invalid_data, node: 0, kinds: [bad_pw] }\n", "did you mean `bad_pow`"),
            ("  - { kind: selfish, node: 0, stubborn: { leed: true } }\n", "did you mean `lead`"),
        ];
        for (yaml, want) in cases {
            let e = check(yaml).expect_err(yaml);
            assert!(e.contains(want), "{yaml}: {e}");
        }
    }

    #[test]
    fn share_rescales_the_other_nodes() {
        let s = check("  - { kind: selfish, node: 1, share: 0.4 }\n").unwrap();
        let mut rng = rand::rngs::mock::StepRng::new(0, 1);
        let specs = s.node_specs(&mut rng);
        let total: f64 = specs.iter().map(|n| n.hashrate_hps).sum();
        assert!((total - 1000.0).abs() < 1e-9);
        assert!((specs[1].hashrate_hps - 400.0).abs() < 1e-9);
        for i in [0, 2, 3] {
            assert!((specs[i].hashrate_hps - 200.0).abs() < 1e-9);
        }
        // The numeric-key form of an override reaches the list element.
        let text = format!("{BASE}adversaries:\n  - {{ kind: selfish, node: 1 }}\n");
        let s =
            Scenario::from_yaml_str(&text, "t.yaml", &["adversaries.0.share=0.25".into()]).unwrap();
        assert_eq!(s.adversaries[0].share(), Some(0.25));
    }
}
