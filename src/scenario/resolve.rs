//! What a validated [`Scenario`] means for the world builder: one
//! [`NodeSpec`] per node, the initial target, whether to grind, the
//! consensus [`Params`], and a human summary.
//!
//! Targets are computed with `primitive_types::U256` and rounded *down* to
//! compact (`nBits`) precision, so the target a miner grinds against is
//! exactly the one a header can carry (`from_compact(to_compact_lossy(t)) ==
//! t`). For `difficulty_bits: 16` that is `0xffff << 224` (`0x1f00ffff`),
//! the same rounding that makes Bitcoin's difficulty-1 target `0x1d00ffff`.

use primitive_types::U256;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::schema::{Hashrate, Latency, Role, Scenario, Topology, DEFAULT_TARGET_INTERVAL};
use super::validate::{within_hash_limit, AUTO_GRIND_HASHES};
use crate::ledger::{Amount, Params, Target};
use crate::sim::time::SimDuration;

/// One node as the world builder creates it. Full nodes come first (ids
/// `0..`), then light nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// Hashes per second (0 for relays and light nodes).
    pub hashrate_hps: f64,
    /// Index into `network.regions`, if regions are defined.
    pub region: Option<usize>,
    /// What the node does.
    pub role: Role,
}

impl Scenario {
    /// Number of full nodes (`nodes.count` or the length of `nodes.list`).
    pub fn full_node_count(&self) -> usize {
        match (&self.nodes.count, &self.nodes.list) {
            (Some(count), _) => *count as usize,
            (None, Some(list)) => list.len(),
            (None, None) => 0,
        }
    }

    /// Number of nodes, full plus light.
    pub fn node_count(&self) -> usize {
        self.full_node_count() + self.nodes.light as usize
    }

    /// Total hashes per second of all nodes at the start.
    pub fn total_hashrate(&self) -> f64 {
        match (&self.nodes.list, &self.nodes.hashrate) {
            (Some(list), _) => list.iter().map(|n| n.hashrate_hps).sum(),
            (None, Some(h)) => h.total_hps(),
            (None, None) => Hashrate::default().total_hps(),
        }
    }

    /// One spec per node, full nodes then light nodes.
    ///
    /// Uses `rng` for `hashrate: normal` (drawn first, one per full node, in
    /// id order) and for region placement (a shuffle of the largest-remainder
    /// allocation by share over nodes without an explicit region). Pass a
    /// dedicated stream so other draws do not shift.
    pub fn node_specs<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<NodeSpec> {
        let full = self.full_node_count();
        let mut specs = Vec::with_capacity(self.node_count());
        let mut explicit_region: Vec<Option<usize>> = Vec::with_capacity(self.node_count());
        if let Some(list) = &self.nodes.list {
            for n in list {
                let role = n.role.unwrap_or(if n.hashrate_hps > 0.0 {
                    Role::Miner
                } else {
                    Role::Relay
                });
                specs.push(NodeSpec {
                    hashrate_hps: n.hashrate_hps,
                    region: None,
                    role,
                });
                explicit_region.push(
                    n.region
                        .as_ref()
                        .and_then(|name| self.network.regions.iter().position(|r| &r.name == name)),
                );
            }
        } else {
            let hashrate = self.nodes.hashrate.clone().unwrap_or_default();
            for h in spread_hashrate(&hashrate, full, rng) {
                let role = if h > 0.0 { Role::Miner } else { Role::Relay };
                specs.push(NodeSpec {
                    hashrate_hps: h,
                    region: None,
                    role,
                });
                explicit_region.push(None);
            }
        }
        for _ in 0..self.nodes.light {
            specs.push(NodeSpec {
                hashrate_hps: 0.0,
                region: None,
                role: Role::Light,
            });
            explicit_region.push(None);
        }
        self.apply_attacker_shares(&mut specs[..full]);
        if !self.network.regions.is_empty() {
            let unplaced = explicit_region.iter().filter(|r| r.is_none()).count();
            let shares: Vec<f64> = self.network.regions.iter().map(|r| r.share).collect();
            let mut placed = allocate_by_share(&shares, unplaced);
            placed.shuffle(rng);
            let mut placed = placed.into_iter();
            for (spec, explicit) in specs.iter_mut().zip(explicit_region) {
                spec.region = explicit.or_else(|| placed.next());
            }
        }
        specs
    }

    /// Applies `adversaries[].share`: each such attacker gets `share ×
    /// total` hashes per second and the other full nodes are scaled by one
    /// common factor so the total is unchanged (if none of them has
    /// hashrate, they split the rest equally). A node with hashrate becomes
    /// a miner.
    fn apply_attacker_shares(&self, full: &mut [NodeSpec]) {
        let fixed: Vec<(usize, f64)> = self
            .adversaries
            .iter()
            .filter_map(|a| a.share().map(|s| (a.node() as usize, s)))
            .filter(|(n, _)| *n < full.len())
            .collect();
        if fixed.is_empty() {
            return;
        }
        let total: f64 = full.iter().map(|n| n.hashrate_hps).sum();
        let fixed_sum: f64 = fixed.iter().map(|(_, s)| s).sum();
        let is_fixed = |i: usize| fixed.iter().any(|(n, _)| *n == i);
        let others: f64 = full
            .iter()
            .enumerate()
            .filter(|(i, _)| !is_fixed(*i))
            .map(|(_, n)| n.hashrate_hps)
            .sum();
        let rest = (1.0 - fixed_sum).max(0.0) * total;
        let count_others = full.len() - fixed.len();
        for (i, spec) in full.iter_mut().enumerate() {
            if let Some((_, share)) = fixed.iter().find(|(n, _)| *n == i) {
                spec.hashrate_hps = share * total;
            } else if others > 0.0 {
                spec.hashrate_hps *= rest / others;
            } else if count_others > 0 {
                spec.hashrate_hps = rest / count_others as f64;
            }
            if spec.hashrate_hps > 0.0 {
                spec.role = Role::Miner;
            } else if spec.role == Role::Miner {
                spec.role = Role::Relay;
            }
        }
    }

    /// The target of the genesis block and the first retarget window:
    /// `2^(256-bits) - 1` for `difficulty_bits`, else
    /// `2^256 / (target_interval_secs × total_hps) - 1` (at least 1 hash,
    /// i.e. at most `2^256 - 1`); both rounded down to compact precision.
    pub fn initial_target(&self) -> Target {
        Target(round_to_compact(self.initial_target_exact()))
    }

    fn initial_target_exact(&self) -> U256 {
        if let Some(bits) = self.consensus.difficulty_bits {
            return match bits {
                0 => U256::MAX,
                b if b >= 256 => U256::one(),
                b => (U256::one() << (256 - b as usize)) - 1,
            };
        }
        let interval = self
            .consensus
            .target_interval
            .unwrap_or(DEFAULT_TARGET_INTERVAL);
        let expected = interval.as_secs_f64() * self.total_hashrate();
        if expected.is_nan() || expected <= 1.0 {
            return U256::MAX;
        }
        U256::MAX / f64_to_u256(expected.round())
    }

    /// Expected hashes to find one block at the initial target,
    /// `2^256 / (target + 1)`.
    pub fn expected_hashes_per_block(&self) -> f64 {
        expected_hashes(self.initial_target().0)
    }

    /// Expected time between blocks at the start: expected hashes per block
    /// over the total hashrate (`MAX` if there is no hashrate).
    pub fn expected_block_interval(&self) -> SimDuration {
        let total = self.total_hashrate();
        if total.is_nan() || total <= 0.0 {
            return SimDuration::MAX;
        }
        SimDuration::from_secs_f64(self.expected_hashes_per_block() / total)
    }

    /// Whether nonces are really ground: `pow.grind`, with `auto` meaning
    /// "at most 2^24 expected hashes per block".
    pub fn grind_enabled(&self) -> bool {
        self.pow.grind.resolve(within_hash_limit(
            self.expected_hashes_per_block(),
            AUTO_GRIND_HASHES,
        ))
    }

    /// Whether the per-node tip log is written: `metrics.tips`, with `auto`
    /// meaning "at most 1,000 nodes".
    pub fn tips_enabled(&self) -> bool {
        self.metrics.tips.resolve(self.node_count() <= 1_000)
    }

    /// Consensus parameters for every node.
    ///
    /// - `pow_limit` (the easiest target retargeting may reach): with
    ///   retargeting off, the largest compact target (it never matters);
    ///   otherwise 16 × the initial target (two windows of the maximal 4×
    ///   easing), capped at that largest target.
    /// - `pow_target_spacing_secs`: `target_interval`, or for
    ///   `difficulty_bits` the expected interval at the initial hashrate;
    ///   rounded to whole seconds, at least 1.
    /// - `check_pow`: [`Self::grind_enabled`] (hashes are only worth checking
    ///   when nonces were really ground).
    pub fn to_params(&self) -> Params {
        let easiest = round_to_compact(U256::MAX);
        let pow_limit = if self.consensus.retarget_window == 0 {
            easiest
        } else {
            let initial = self.initial_target().0;
            match initial.checked_mul(U256::from(16u8)) {
                Some(t) => round_to_compact(t).min(easiest),
                None => easiest,
            }
        };
        let spacing = match (
            self.consensus.difficulty_bits,
            self.consensus.target_interval,
        ) {
            (None, Some(interval)) => interval,
            _ => self.expected_block_interval(),
        };
        let spacing_secs = spacing.as_secs_f64().round().clamp(1.0, u32::MAX as f64) as u32;
        Params {
            pow_limit: Target(pow_limit),
            pow_target_spacing_secs: spacing_secs,
            retarget_window: self.consensus.retarget_window,
            initial_subsidy: Amount::from_sat_unchecked(self.consensus.subsidy_sats),
            halving_interval: self.consensus.halving_interval,
            max_block_size: usize::try_from(self.consensus.max_block_bytes).unwrap_or(usize::MAX),
            max_future_block_time_secs: 2 * 60 * 60,
            coinbase_maturity: self.consensus.coinbase_maturity,
            check_pow: self.grind_enabled(),
            bip34_height: 0,
        }
    }

    /// A few lines for `sim validate`: name, nodes, topology, stop,
    /// difficulty and expected block interval.
    pub fn summary(&self) -> String {
        let specs_roles = self.role_counts();
        let hashrate_kind = match (&self.nodes.list, &self.nodes.hashrate) {
            (Some(_), _) => "listed".to_string(),
            (None, Some(Hashrate::Equal { .. }) | None) => "equal".to_string(),
            (None, Some(Hashrate::Normal { sd_fraction, .. })) => {
                format!("normal, sd {sd_fraction}×mean")
            }
            (None, Some(Hashrate::Shares { .. })) => "shares".to_string(),
        };
        let mut out = String::new();
        out.push_str(&format!("scenario: {} (seed {})\n", self.name, self.seed));
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        out.push_str(&format!(
            "nodes: {} ({}, {}, {} light), total hashrate {} H/s ({hashrate_kind})\n",
            self.node_count(),
            plural(specs_roles[0], "miner", "miners"),
            plural(specs_roles[1], "relay", "relays"),
            specs_roles[2],
            fmt_num(self.total_hashrate()),
        ));
        let regions = if self.network.regions.is_empty() {
            String::new()
        } else {
            format!(", {} regions", self.network.regions.len())
        };
        let processing = match self.network.control_processing {
            Some(c) => format!(
                ", processing {} per payload and {c} per control message",
                self.network.processing
            ),
            None => String::new(),
        };
        out.push_str(&format!(
            "network: {}, latency {}{regions}{processing}\n",
            topology_text(&self.network.topology),
            latency_text(&self.network.latency),
        ));
        out.push_str(&format!("block relay: {}\n", relay_text(self)));
        out.push_str(&format!("tx relay: {}\n", tx_relay_text(self)));
        let mut stops = Vec::new();
        if let Some(h) = self.stop.height {
            stops.push(format!("height {h}"));
        }
        if let Some(t) = self.stop.time {
            stops.push(format!("time {t}"));
        }
        if let Some(e) = self.stop.events {
            stops.push(format!("{e} events"));
        }
        out.push_str(&format!(
            "stop: {} (whichever first), then settle {}\n",
            stops.join(" or "),
            self.stop.settle
        ));
        let difficulty = match (
            self.consensus.difficulty_bits,
            self.consensus.target_interval,
        ) {
            (Some(bits), _) => format!("difficulty_bits {bits}"),
            (None, Some(t)) => format!("target_interval {t}"),
            (None, None) => format!("target_interval {DEFAULT_TARGET_INTERVAL}"),
        };
        let retarget = match self.consensus.retarget_window {
            0 => "retarget off".to_string(),
            w => format!("retarget every {w} blocks"),
        };
        out.push_str(&format!(
            "consensus: {difficulty}, initial bits {:#010x}, {retarget}\n",
            compact_bits(self.initial_target().0)
        ));
        out.push_str(&format!(
            "expected block interval: {:.3} s ({} hashes per block), grinding {}\n",
            self.expected_block_interval().as_secs_f64(),
            fmt_num(self.expected_hashes_per_block()),
            if self.grind_enabled() { "on" } else { "off" }
        ));
        for a in &self.adversaries {
            let share = a
                .share()
                .map(|s| format!(", hashrate share {s}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "adversary: {} on node {}{share}, from {}\n",
                a.kind_name(),
                a.node(),
                a.start()
            ));
        }
        out
    }

    /// `[miners, relays, light]` without drawing randomness (roles do not
    /// depend on the draws except for zero shares).
    fn role_counts(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        let mut add = |role: Role| {
            counts[match role {
                Role::Miner => 0,
                Role::Relay => 1,
                Role::Light => 2,
            }] += 1
        };
        match (&self.nodes.list, &self.nodes.hashrate) {
            (Some(list), _) => {
                for n in list {
                    add(n.role.unwrap_or(if n.hashrate_hps > 0.0 {
                        Role::Miner
                    } else {
                        Role::Relay
                    }));
                }
            }
            (None, Some(Hashrate::Shares { shares, .. })) => {
                for s in shares {
                    add(if *s > 0.0 { Role::Miner } else { Role::Relay });
                }
            }
            (None, _) => {
                for _ in 0..self.full_node_count() {
                    add(Role::Miner);
                }
            }
        }
        counts[2] += self.nodes.light as usize;
        counts
    }
}

/// Per-node hashrates for `count` nodes.
fn spread_hashrate<R: Rng + ?Sized>(h: &Hashrate, count: usize, rng: &mut R) -> Vec<f64> {
    if count == 0 {
        return Vec::new();
    }
    match h {
        Hashrate::Equal { total_hps } => vec![total_hps / count as f64; count],
        Hashrate::Shares { total_hps, shares } => (0..count)
            .map(|i| total_hps * shares.get(i).copied().unwrap_or(0.0))
            .collect(),
        Hashrate::Normal {
            total_hps,
            sd_fraction,
        } => {
            let mean = total_hps / count as f64;
            let draws: Vec<f64> = match Normal::new(mean, mean * sd_fraction) {
                Ok(dist) => (0..count)
                    .map(|_| {
                        // Truncated above zero by resampling; the cap only
                        // matters for absurd sd_fraction.
                        (0..1_000)
                            .map(|_| dist.sample(rng))
                            .find(|x| *x > 0.0)
                            .unwrap_or(mean)
                    })
                    .collect(),
                Err(_) => vec![mean; count],
            };
            let sum: f64 = draws.iter().sum();
            draws.into_iter().map(|x| x * total_hps / sum).collect()
        }
    }
}

/// Splits `m` items over shares by largest remainder (ties to the lower
/// index); returns one region index per item, grouped by region.
fn allocate_by_share(shares: &[f64], m: usize) -> Vec<usize> {
    let total: f64 = shares.iter().sum();
    if shares.is_empty() || m == 0 || total.is_nan() || total <= 0.0 {
        return vec![0; if shares.is_empty() { 0 } else { m }];
    }
    let quotas: Vec<f64> = shares.iter().map(|s| s / total * m as f64).collect();
    let mut counts: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (quotas[a] - quotas[a].floor(), quotas[b] - quotas[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(m.saturating_sub(assigned)) {
        counts[i] += 1;
    }
    counts
        .iter()
        .enumerate()
        .flat_map(|(i, c)| std::iter::repeat_n(i, *c))
        .collect()
}

/// Rounds down to what a compact target can represent (Bitcoin Core's
/// `GetCompact` followed by `SetCompact`): at most 23 significant mantissa
/// bits starting on a byte boundary.
pub(crate) fn round_to_compact(x: U256) -> U256 {
    let (mantissa, size) = compact_parts(x);
    if size <= 3 {
        U256::from(mantissa) >> (8 * (3 - size))
    } else {
        U256::from(mantissa) << (8 * (size - 3))
    }
}

/// `(mantissa, size in bytes)` as Bitcoin Core's `GetCompact` computes them.
fn compact_parts(x: U256) -> (u32, usize) {
    let mut size = x.bits().div_ceil(8);
    let mut mantissa = if size <= 3 {
        (x.low_u64() << (8 * (3 - size))) as u32
    } else {
        (x >> (8 * (size - 3))).low_u32()
    };
    if mantissa & 0x0080_0000 != 0 {
        mantissa >>= 8;
        size += 1;
    }
    (mantissa, size)
}

/// The compact (`nBits`) encoding of a non-negative target.
fn compact_bits(x: U256) -> u32 {
    let (mantissa, size) = compact_parts(x);
    ((size as u32) << 24) | mantissa
}

/// `2^256 / (target + 1)` as a float.
fn expected_hashes(target: U256) -> f64 {
    2f64.powi(256) / (u256_to_f64(target) + 1.0)
}

fn u256_to_f64(x: U256) -> f64 {
    x.0.iter()
        .enumerate()
        .map(|(i, limb)| *limb as f64 * 2f64.powi(64 * i as i32))
        .sum()
}

/// A float ≥ 1 as a U256 (saturating at `U256::MAX`).
fn f64_to_u256(x: f64) -> U256 {
    if x.is_nan() || x < 1.0 {
        return U256::one();
    }
    if x < 2f64.powi(64) {
        return U256::from(x as u64);
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    if exponent + 53 > 256 {
        return U256::MAX;
    }
    U256::from(mantissa) << exponent as usize
}

fn fmt_num(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e9 || x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

fn topology_text(t: &Topology) -> String {
    match t {
        Topology::FullMesh => "full_mesh".into(),
        Topology::Ring => "ring".into(),
        Topology::RandomRegular { k } => format!("random_regular k={k}"),
        Topology::ErdosRenyi { p } => format!("erdos_renyi p={p}"),
        Topology::SmallWorld { k, beta } => format!("small_world k={k} beta={beta}"),
        Topology::BitcoinOutbound {
            outbound,
            max_inbound,
            distribution,
        } => format!(
            "bitcoin_outbound outbound={outbound} max_inbound={max_inbound} ({})",
            match distribution {
                super::schema::OutboundDistribution::Fixed => "fixed",
                super::schema::OutboundDistribution::Simblock2019 => "simblock_2019",
            }
        ),
        Topology::Edges { list } => format!("edges ({} links)", list.len()),
    }
}

/// One line on how blocks travel (`network.relay`), for `sim validate`.
fn relay_text(s: &Scenario) -> String {
    let r = &s.network.relay;
    let uplink = match s.network.uplink {
        crate::scenario::UplinkMode::Streaming => "",
        crate::scenario::UplinkMode::StopAndWait => {
            "; uplinks stop-and-wait (SimBlock's sender: the next payload when the previous has arrived)"
        }
    };
    if !r.compact {
        return format!("whole blocks (inv, getdata, block) on every hop{uplink}");
    }
    let hb = match r.high_bandwidth_peers {
        0 => "low-bandwidth mode only".to_string(),
        k => format!("up to {k} high-bandwidth peers per node"),
    };
    let mut line = format!(
        "compact blocks (BIP152) between the {:.1}% of nodes that speak it, {hb}",
        r.usage_share * 100.0
    );
    if s.consensus.block_fill_bytes > 0 {
        let p = &r.padding;
        line.push_str(&format!(
            "; padding modelled as SimBlock: {} B cmpctblock, missed by {:.1}% churn nodes with p={} and the other nodes with p={}",
            p.compact_bytes,
            p.churn_share * 100.0,
            p.failure_churn,
            p.failure_control
        ));
    }
    line.push_str(uplink);
    line
}

/// One line on how transactions travel (`workload.relay`,
/// `network.trickle`), for `sim validate`.
fn tx_relay_text(s: &Scenario) -> String {
    match s.workload.relay {
        crate::scenario::TxRelay::Flood => format!(
            "flood (modelled), {} announcement delay per hop",
            s.network.tx_announce_interval
        ),
        crate::scenario::TxRelay::Messages if !s.network.trickle.enabled => format!(
            "messages (inv, getdata, tx), announced to all peers in batches every {}",
            s.network.tx_announce_interval
        ),
        crate::scenario::TxRelay::Messages => {
            let t = &s.network.trickle;
            let cfg = crate::node::trickle::TrickleConfig {
                inbound_interval: t.inbound_interval,
                outbound_interval: t.outbound_interval,
                broadcast_per_s: t.broadcast_per_s,
                broadcast_max: t.broadcast_max,
            };
            format!(
                "messages (inv, getdata, tx), trickled per peer: each outbound peer's timer mean {}, one shared inbound timer mean {}, up to {} txids per inv (+5 per 1,000 queued, at most {})",
                t.outbound_interval,
                t.inbound_interval,
                cfg.broadcast_limit(0),
                t.broadcast_max
            )
        }
    }
}

fn latency_text(l: &Latency) -> String {
    match l {
        Latency::Constant { ms } => format!("constant {ms} ms"),
        Latency::Uniform { min_ms, max_ms } => format!("uniform {min_ms}..{max_ms} ms"),
        Latency::Normal { mean_ms, sd_ms } => format!("normal {mean_ms}±{sd_ms} ms"),
        Latency::Lognormal { mean_ms, sd_ms } => format!("lognormal {mean_ms}±{sd_ms} ms"),
        Latency::Pareto { mean_ms, shape } => format!("pareto mean {mean_ms} ms shape {shape}"),
        Latency::Regions { jitter } => {
            format!("region matrix with {jitter:?} jitter").to_lowercase()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_rounding_matches_bitcoin() {
        // Bitcoin's difficulty-1 target, 0x1d00ffff, is 2^224 - 1 rounded
        // down to compact precision (Bitcoin Core chainparams.cpp powLimit
        // is 2^224 - 1; genesis nBits is 0x1d00ffff).
        let pow_limit = (U256::one() << 224) - 1;
        assert_eq!(compact_bits(pow_limit), 0x1d00ffff);
        assert_eq!(round_to_compact(pow_limit), U256::from(0xffffu32) << 208);
        // Block 100000's nBits 0x1b04864c round-trips exactly.
        let t = U256::from(0x04864cu32) << (8 * (0x1b - 3));
        assert_eq!(round_to_compact(t), t);
        assert_eq!(compact_bits(t), 0x1b04864c);
        assert_eq!(round_to_compact(U256::from(0x12u8)), U256::from(0x12u8));
        assert_eq!(compact_bits(U256::from(0x80u8)), 0x02008000);
    }

    #[test]
    fn float_conversions() {
        assert_eq!(f64_to_u256(1e3), U256::from(1000u32));
        assert_eq!(f64_to_u256(2f64.powi(100)), U256::one() << 100);
        assert_eq!(f64_to_u256(1e300), U256::MAX);
        assert_eq!(u256_to_f64(U256::one() << 200), 2f64.powi(200));
        let e = expected_hashes((U256::one() << 240) - 1);
        assert_eq!(e, 65536.0);
    }

    #[test]
    fn largest_remainder_allocation() {
        assert_eq!(allocate_by_share(&[0.5, 0.5], 3), vec![0, 0, 1]);
        assert_eq!(
            allocate_by_share(&[0.2, 0.8], 10),
            vec![0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
        );
        let v = allocate_by_share(&[0.3316, 0.4998, 0.0090, 0.1177, 0.0224, 0.0195], 1000);
        let count = |r| v.iter().filter(|x| **x == r).count();
        assert_eq!(v.len(), 1000);
        assert_eq!((count(0), count(1), count(2)), (332, 500, 9));
    }
}
