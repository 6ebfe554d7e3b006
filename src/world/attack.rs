//! Adversaries in the world: building them, and calling them.
//!
//! An attacker is a node ([`AttackerNode`] in `adversary/node.rs`: a public
//! full node, a private branch and a strategy behind the same
//! `handle(input, ctx, outbox)` as an honest node); the world carries out its
//! outputs like any node's (`World::carry_out`). What is left here is the
//! world's part:
//!
//! - genesis coins for double spenders ([`adv::DOUBLE_SPEND_COINS`] fresh
//!   coins) and invalid-data senders (one coin), after the wallets' outputs;
//! - eclipse: the victim's peers become the attacker alone, and the victim
//!   leaves every other peer list; a merchant attacked through an eclipse is
//!   homed on the victim, and a plain double-spend merchant never on the
//!   attacker;
//! - explicit γ: a fixed set of honest miners, chosen in node-id order,
//!   greedily keeping the cumulative hashrate closest to γ of the honest
//!   total (so equal miners give `round(γ·n)/n`; the achieved value is the
//!   summary's `gamma_effective`). Those nodes call
//!   [`Chainstate::prefer_on_tie`] on every attacker block they accept, so
//!   in a tie between equal-work tips they mine on the attacker's block;
//!   the others keep the first seen;
//! - the start of each attacker (an [`Event::Adversary`] at its `start`,
//!   handed to its node as [`Input::AdversaryTick`]); the merchant's node's
//!   tip changes, handed to the double spender as [`Input::MerchantTip`];
//! - calling an attacker: its node record, its state, and the merchant's
//!   chain (an oracle) borrowed together ([`World::call_attacker`]);
//! - at the end, one `attacks.csv` row per attempt.
//!
//! Honest nodes also score their peers ([`crate::node::score`]) on every
//! rejected block or transaction and drop the link both ways at the
//! threshold; that lives in `node/relay.rs`, next to the rejections.
//!
//! # Approximations
//!
//! - Private blocks carry only the attack's own transactions (the conflicting
//!   transaction, or the eclipsed payment), not the mempool: attacker
//!   revenue is counted in blocks, fees are ignored.
//! - An active attacker does not relay honest blocks, except an eclipse
//!   attacker to its non-victim peers (and to the victim `delay` late).
//! - Blocks an eclipsed victim mines on the attacker's private branch join
//!   that private branch.

use rand::Rng;

use super::{Config, Event, Kind, Node, NodeIdx, Role, World};
use crate::adversary::attacker::Attacker;
use crate::adversary::double_spend::{DoubleSpend, DoubleSpendParams};
use crate::adversary::eclipse::Eclipse;
use crate::adversary::invalid_data::InvalidData;
use crate::adversary::majority::Majority;
use crate::adversary::node::AttackerNode;
use crate::adversary::selfish::{Selfish, Stubbornness};
use crate::adversary::{self as adv, Adversary, RaceView};
use crate::ledger::chainstate::Chainstate;
use crate::ledger::keys::PrivateKey;
use crate::ledger::{Amount, OutPoint, ScriptBuf, TxOut, Txid};
use crate::metrics::AttackerInfo;
use crate::net::topology::NodeId;
use crate::node::io::{Ctx, Input, Outbox};
use crate::scenario::schema::Adversary as Spec;
use crate::sim::{RngStreams, SimTime};
/// What must exist before genesis: an attacker's key and its coins.
pub(super) struct AdvPlan {
    key: PrivateKey,
    script: ScriptBuf,
    coins: u32,
    coin_value: u64,
}

impl AdvPlan {
    /// The genesis outputs endowing this attacker.
    pub(super) fn genesis_outputs(&self) -> impl Iterator<Item = TxOut> + '_ {
        (0..self.coins).map(|_| TxOut {
            value: Amount::from_sat_unchecked(self.coin_value),
            script_pubkey: self.script.clone(),
        })
    }
}

/// Keys (stream `attacker-keys`, one draw per adversary) and coins of
/// every adversary, in scenario order.
pub(super) fn plan(cfg: &Config, streams: &RngStreams) -> Vec<AdvPlan> {
    cfg.adversaries
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let mut material = [0u8; 32];
            streams
                .stream("attacker-keys", i as u64)
                .fill(&mut material);
            let key = PrivateKey::derive(&material);
            let script = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
            let (coins, coin_value) = match spec {
                Spec::DoubleSpend { amount_sats, .. } => (
                    adv::DOUBLE_SPEND_COINS,
                    adv::attacker_coin_value(*amount_sats),
                ),
                Spec::Eclipse {
                    double_spend: Some(t),
                    ..
                } => (
                    adv::DOUBLE_SPEND_COINS,
                    adv::attacker_coin_value(t.amount_sats),
                ),
                Spec::InvalidData { .. } => (1, adv::INVALID_DATA_COIN_SATS),
                _ => (0, 0),
            };
            AdvPlan {
                key,
                script,
                coins,
                coin_value,
            }
        })
        .collect()
}

/// The strategy for a scenario entry.
fn strategy(spec: &Spec) -> Box<dyn Adversary> {
    match spec {
        Spec::Selfish { stubborn, .. } => Box::new(Selfish::new(Stubbornness {
            lead: stubborn.lead,
            equal_fork: stubborn.equal_fork,
            trail: stubborn.trail,
        })),
        Spec::DoubleSpend {
            confirmations,
            give_up_behind,
            premine,
            ..
        } => Box::new(DoubleSpend::new(DoubleSpendParams {
            confirmations: *confirmations,
            give_up_behind: *give_up_behind,
            premine: *premine,
        })),
        Spec::Eclipse {
            withhold,
            delay,
            double_spend,
            ..
        } => Box::new(Eclipse::new(
            *withhold,
            *delay,
            double_spend.as_ref().map(|t| DoubleSpendParams {
                confirmations: t.confirmations,
                give_up_behind: t.give_up_behind,
                premine: 0,
            }),
        )),
        Spec::Majority {
            depth, withhold, ..
        } => Box::new(Majority::new(*depth, *withhold)),
        Spec::InvalidData {
            interval, kinds, ..
        } => Box::new(InvalidData::new(*interval, kinds.clone())),
    }
}

impl World {
    /// Builds every adversary: coins, eclipse links, merchant homes, the γ
    /// set; schedules each one's start.
    pub(super) fn install_adversaries(&mut self, plans: Vec<AdvPlan>, first_vout: u32) {
        if plans.is_empty() {
            return;
        }
        let genesis_txid = self.genesis.txdata[0].compute_txid();
        let mut vout = first_vout;
        let specs = self.cfg.adversaries.clone();
        let attackers: Vec<NodeIdx> = specs.iter().map(|s| s.node()).collect();
        for (ai, (spec, plan)) in specs.iter().zip(plans).enumerate() {
            let node = spec.node();
            let coins = (0..plan.coins)
                .map(|k| {
                    (
                        OutPoint {
                            txid: genesis_txid,
                            vout: vout + k,
                        },
                        Amount::from_sat_unchecked(plan.coin_value),
                    )
                })
                .collect();
            vout += plan.coins;
            let mut rt = Attacker::new(node, strategy(spec), plan.key, coins);
            let mut gamma_effective = None;
            match spec {
                Spec::DoubleSpend {
                    merchant_wallet,
                    confirmations,
                    amount_sats,
                    ..
                } => {
                    let w = *merchant_wallet as usize;
                    if self.wallets[w].home == node {
                        // The merchant must not watch the chain through the
                        // attacker's own node.
                        if let Some(other) = self.full_node_other_than(&attackers) {
                            self.wallets[w].home = other;
                        }
                    }
                    rt.set_merchant(
                        self.wallets[w].home,
                        self.wallets[w].script_pubkey.clone(),
                        *amount_sats,
                        *confirmations,
                        false,
                    );
                }
                Spec::Eclipse {
                    victim,
                    double_spend,
                    ..
                } => {
                    self.eclipse_links(node, *victim);
                    rt.set_victim(*victim);
                    if let Some(t) = double_spend {
                        let w = t.merchant_wallet as usize;
                        self.wallets[w].home = *victim;
                        rt.set_merchant(
                            *victim,
                            self.wallets[w].script_pubkey.clone(),
                            t.amount_sats,
                            t.confirmations,
                            true,
                        );
                    }
                }
                Spec::Selfish { gamma: Some(g), .. } => {
                    gamma_effective = Some(self.choose_gamma_set(*g, &attackers));
                }
                _ => {}
            }
            self.metrics.adversary(AttackerInfo {
                index: ai as u32,
                node,
                kind: spec.kind_name().to_string(),
                start_s: spec.start().as_secs_f64(),
                gamma_effective,
                endowment_sats: self.adversary_endowment(spec),
            });
            self.queue
                .schedule(
                    SimTime::ZERO + spec.start(),
                    Event::Adversary { index: ai as u32 },
                )
                .expect("adversary start times are not in the past at the start");
            // Every input of the node now goes through its attacker node
            // (honest until its start tick switches the behaviour on).
            self.nodes[node as usize].adv = Some(ai as u16);
            self.adversaries.push(rt);
        }
    }

    fn adversary_endowment(&self, spec: &Spec) -> u64 {
        match spec {
            Spec::DoubleSpend { amount_sats, .. } => adv::attacker_endowment(*amount_sats),
            Spec::Eclipse {
                double_spend: Some(t),
                ..
            } => adv::attacker_endowment(t.amount_sats),
            Spec::InvalidData { .. } => adv::INVALID_DATA_COIN_SATS,
            _ => 0,
        }
    }

    /// The lowest-numbered full node that is not an attacker.
    fn full_node_other_than(&self, attackers: &[NodeIdx]) -> Option<NodeIdx> {
        (0..self.nodes.len() as NodeIdx)
            .find(|i| self.nodes[*i as usize].spec.role != Role::Light && !attackers.contains(i))
    }

    /// The attacker takes every peer slot of the victim.
    fn eclipse_links(&mut self, attacker: NodeIdx, victim: NodeIdx) {
        let old = std::mem::take(&mut self.nodes[victim as usize].peers);
        for p in old {
            self.nodes[p as usize].peers.retain(|x| *x != victim);
        }
        self.nodes[victim as usize].peers = vec![attacker];
        let peers = &mut self.nodes[attacker as usize].peers;
        if !peers.contains(&victim) {
            peers.push(victim);
        }
        self.note_hint_addrs(attacker);
        self.note_hint_addrs(victim);
    }

    /// Marks the honest miners of the γ set (see the module docs); returns
    /// the share of honest hashrate they hold.
    fn choose_gamma_set(&mut self, gamma: f64, attackers: &[NodeIdx]) -> f64 {
        if self.gamma_nodes.is_empty() {
            self.gamma_nodes = vec![false; self.nodes.len()];
        }
        let honest: Vec<(usize, f64)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| {
                n.spec.role != Role::Light
                    && n.spec.hashrate_hps > 0.0
                    && !attackers.contains(&(*i as NodeIdx))
            })
            .map(|(i, n)| (i, n.spec.hashrate_hps))
            .collect();
        let total: f64 = honest.iter().map(|(_, h)| h).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let target = gamma * total;
        let mut cum = 0.0;
        for (i, h) in honest {
            if (cum + h - target).abs() < (cum - target).abs() {
                cum += h;
                self.gamma_nodes[i] = true;
            }
        }
        cum / total
    }

    /// Total genesis endowment of every attacker.
    pub(super) fn attackers_endowment(&self) -> u64 {
        self.cfg
            .adversaries
            .iter()
            .map(|s| self.adversary_endowment(s))
            .sum()
    }

    /// Hands `input` to attacker `a` (at node `i`) as an
    /// [`AttackerNode`]: its public full node, its state, its peer list,
    /// whether it is online, and the oracle of its merchant's chain.
    #[inline(never)]
    pub(super) fn call_attacker(&mut self, i: NodeIdx, a: usize, input: Input, out: &mut Outbox) {
        let online = self.partitions.is_online(NodeId(i));
        let mut ctx = Ctx::new(
            i,
            self.queue.now(),
            &self.node_cfg,
            &mut self.cache,
            &mut self.known,
            &mut self.scores,
            &self.oracles,
        );
        let attacker = &mut self.adversaries[a];
        let (node, merchant_chain) = split_merchant(&mut self.nodes, i, attacker.merchant_home());
        let Node { kind, peers, .. } = node;
        let Kind::Full(full) = kind else {
            return; // validation keeps attackers on full nodes
        };
        let mut node = AttackerNode {
            full,
            attacker,
            peers,
            online,
            merchant_chain,
        };
        node.handle(input, &mut ctx, out);
    }

    /// Node `i` changed tip: tell double spenders whose merchant it hosts.
    #[inline(never)]
    pub(super) fn merchant_tip_changed(&mut self, i: NodeIdx) {
        for a in 0..self.adversaries.len() {
            if self.adversaries[a].merchant_home() == Some(i) {
                let node = self.adversaries[a].node();
                self.call(node, Input::MerchantTip);
            }
        }
    }

    /// The race of attacker `a` now (read at the end of the run).
    fn race_view(&mut self, a: usize) -> RaceView {
        let i = self.adversaries[a].node();
        let attacker = &mut self.adversaries[a];
        let (node, merchant_chain) = split_merchant(&mut self.nodes, i, attacker.merchant_home());
        let Node { kind, peers, .. } = node;
        let Kind::Full(full) = kind else {
            return RaceView::default();
        };
        AttackerNode {
            full,
            attacker,
            peers,
            online: true,
            merchant_chain,
        }
        .race_view()
    }

    /// Closes the books on attempts ([`Attacker::attack_rows`]) into
    /// `attacks.csv`.
    pub(super) fn finish_attacks(&mut self, confirmed: &std::collections::HashSet<Txid>) {
        for a in 0..self.adversaries.len() {
            let view = self.race_view(a);
            for row in self.adversaries[a].attack_rows(a as u32, &view, confirmed) {
                self.metrics.attack(row);
            }
        }
    }
}

/// Node `i` (mutable) and, when `home` is another full node, its chain.
fn split_merchant(
    nodes: &mut [Node],
    i: NodeIdx,
    home: Option<NodeIdx>,
) -> (&mut Node, Option<&Chainstate>) {
    fn chain(n: &Node) -> Option<&Chainstate> {
        match &n.kind {
            Kind::Full(full) => Some(&full.chain),
            Kind::Light(_) => None,
        }
    }
    let (i, h) = match home {
        Some(h) if h != i => (i as usize, h as usize),
        _ => return (&mut nodes[i as usize], None),
    };
    if h < i {
        let (lo, hi) = nodes.split_at_mut(i);
        (&mut hi[0], chain(&lo[h]))
    } else {
        let (lo, hi) = nodes.split_at_mut(h);
        (&mut lo[i], chain(&hi[0]))
    }
}
