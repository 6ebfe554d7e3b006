//! Adversaries inside the world: building them, running their private
//! branches, and carrying out what their strategies decide.
//!
//! The strategies ([`crate::adversary`]) only decide; this module gives them
//! a body. An attacker is an ordinary full node whose `chain` is its
//! *public* view (what it tells and serves its peers). Once its behaviour is
//! on, an attacker that mines privately also owns a second, *private*
//! [`Chainstate`] (sharing the run's block cache): it mines on that one, and
//! a private block only enters the public chainstate, and is announced
//! through the normal inv/getdata path, when the strategy publishes it.
//!
//! Built at the start of a run:
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
//!   the others keep the first seen.
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

use std::sync::Arc;

use rand::Rng;

use super::{Config, Event, Kind, Msg, NodeIdx, Role, World};
use crate::adversary::attacker::{self, Attacker, Attempt, AttemptRecord};
use crate::adversary::double_spend::{DoubleSpend, DoubleSpendParams};
use crate::adversary::eclipse::Eclipse;
use crate::adversary::invalid::{self, AttackerCoin, CraftContext, Crafted};
use crate::adversary::invalid_data::InvalidData;
use crate::adversary::majority::Majority;
use crate::adversary::selfish::{Selfish, Stubbornness};
use crate::adversary::{self as adv, Action, Adversary, Outcome, RaceView, Relay};
use crate::ledger::chainstate::Chainstate;
use crate::ledger::keys::PrivateKey;
use crate::ledger::{Amount, Block, BlockHash, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use crate::metrics::{AttackRow, AttackerInfo};
use crate::net::topology::NodeId;
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
            let mut rt = Attacker {
                node,
                strategy: strategy(spec),
                started: false,
                private: None,
                pending: Vec::new(),
                key: plan.key,
                script: plan.script,
                coins,
                next_coin: 0,
                victim: None,
                merchant_home: None,
                merchant_script: None,
                amount: 0,
                confirmations: 0,
                eclipse_ds: false,
                attempt: None,
                records: Vec::new(),
                attempts_started: 0,
                next_peer: 0,
                seq: 0,
            };
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
                    rt.merchant_home = Some(self.wallets[w].home);
                    rt.merchant_script = Some(self.wallets[w].script_pubkey.clone());
                    rt.amount = *amount_sats;
                    rt.confirmations = *confirmations;
                }
                Spec::Eclipse {
                    victim,
                    double_spend,
                    ..
                } => {
                    self.eclipse_links(node, *victim);
                    rt.victim = Some(*victim);
                    if let Some(t) = double_spend {
                        let w = t.merchant_wallet as usize;
                        self.wallets[w].home = *victim;
                        rt.merchant_home = Some(*victim);
                        rt.merchant_script = Some(self.wallets[w].script_pubkey.clone());
                        rt.amount = t.amount_sats;
                        rt.confirmations = t.confirmations;
                        rt.eclipse_ds = true;
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

    /// An adversary's timer: switch on, or act periodically.
    pub(super) fn adversary_timer(&mut self, a: usize) {
        if !self.adversaries[a].started {
            self.activate(a);
        } else if self.mining {
            let actions = self.adversaries[a].strategy.on_tick();
            self.execute(a, actions);
        }
        if self.mining {
            if let Some(every) = self.adversaries[a].strategy.tick_interval() {
                self.queue
                    .schedule_after(every, Event::Adversary { index: a as u32 });
            }
        }
    }

    fn activate(&mut self, a: usize) {
        let i = self.adversaries[a].node;
        self.adversaries[a].started = true;
        if self.adversaries[a].strategy.mines_privately() {
            let depth = self.adversaries[a].strategy.fork_depth_at_start();
            let Kind::Full(full) = &self.nodes[i as usize].kind else {
                return;
            };
            let private = if depth == 0 {
                full.chain.clone()
            } else {
                // Replay the public chain up to the fork point into a
                // fresh chainstate (validation is memoised in the cache).
                let fork = full.chain.height().saturating_sub(depth);
                let blocks: Vec<Arc<Block>> = (1..=fork)
                    .filter_map(|h| full.chain.info_at_height(h).map(|b| b.block.clone()))
                    .collect();
                let mut c = Chainstate::new(
                    self.genesis.clone(),
                    self.cfg.params.clone(),
                    &mut self.cache,
                );
                let now = self.block_time_secs();
                for b in blocks {
                    c.accept_block(b, now, &mut self.cache)
                        .expect("public chain blocks are valid");
                }
                c
            };
            self.adversaries[a].private = Some(private);
            self.nodes[i as usize].adv = Some(a as u16);
            if let Kind::Full(full) = &mut self.nodes[i as usize].kind {
                full.strategy_relays = true;
            }
            self.reschedule_mining(i);
        }
        let actions = self.adversaries[a].strategy.on_start();
        self.execute(a, actions);
    }

    /// The race as adversary `a` sees it now.
    fn race_view(&self, a: usize) -> RaceView {
        let rt = &self.adversaries[a];
        let mut view = RaceView {
            attempt_open: rt.attempt.is_some(),
            merchant_confirmations: self.merchant_confirmations(a),
            ..RaceView::default()
        };
        let (Some(private), Kind::Full(full)) = (&rt.private, &self.nodes[rt.node as usize].kind)
        else {
            return view;
        };
        let race = attacker::race(private, &full.chain);
        view.private_len = race.private_len;
        view.public_len = race.public_len;
        view.published = race.published;
        if let (Some(len), false) = (self.merchant_branch_len(a), rt.eclipse_ds) {
            // The merchant's node has blocks the attacker has not received
            // yet: decide nothing on its confirmations until the attacker
            // sees them too (it would release into a tie, or race from a
            // stale base).
            if len > view.public_len {
                view.merchant_confirmations = 0;
            }
        }
        view
    }

    /// The merchant's chain during an attempt, if it descends from the
    /// attempt's fork point: the chain and the attempt.
    fn merchant_chain(&self, a: usize) -> Option<(&Chainstate, &Attempt)> {
        let rt = &self.adversaries[a];
        let (Some(at), Some(home)) = (&rt.attempt, rt.merchant_home) else {
            return None;
        };
        let Kind::Full(full) = &self.nodes[home as usize].kind else {
            return None;
        };
        let chain = &full.chain;
        (chain.block_at_height(at.base_height) == Some(at.base)).then_some((chain, at))
    }

    /// Blocks on the merchant's chain above the attempt's fork point.
    fn merchant_branch_len(&self, a: usize) -> Option<u32> {
        self.merchant_chain(a)
            .map(|(chain, at)| chain.height() - at.base_height)
    }

    /// Confirmations of the running attempt's payment at the merchant's
    /// node: only on a chain through the attempt's fork point (a payment
    /// confirmed on a branch that chain does not contain is not the race
    /// the attacker is running).
    fn merchant_confirmations(&self, a: usize) -> u32 {
        let Some((chain, at)) = self.merchant_chain(a) else {
            return 0;
        };
        (at.base_height + 1..=chain.height())
            .find(|h| {
                chain
                    .info_at_height(*h)
                    .is_some_and(|b| b.txids.contains(&at.payment))
            })
            .map_or(0, |h| chain.height() - h + 1)
    }

    /// Runs `actions` of adversary `a` in order, against the view at the
    /// moment of the decision.
    fn execute(&mut self, a: usize, actions: Vec<Action>) {
        if actions.is_empty() {
            return;
        }
        let view = self.race_view(a);
        for action in actions {
            match action {
                Action::Publish { upto } => self.publish(a, upto),
                Action::ShowVictim { upto } => self.show_victim(a, upto),
                Action::Adopt => self.adopt(a),
                Action::RevealPublicToVictim => self.reveal_public(a),
                Action::StartAttempt => self.start_attempt(a),
                Action::EndAttempt(outcome) => self.end_attempt(a, outcome, &view),
                Action::SendInvalid(kind) => self.send_invalid(a, kind),
            }
        }
    }

    /// Active private miner `a` finds a block.
    pub(super) fn mine_private(&mut self, a: usize) {
        let i = self.adversaries[a].node;
        let Some(private) = &self.adversaries[a].private else {
            return;
        };
        let tip = private.tip_info().clone();
        let picked: Vec<(Txid, Arc<Transaction>, Amount)> = self.adversaries[a]
            .pending
            .iter()
            .map(|(t, fee)| (t.compute_txid(), t.clone(), *fee))
            .collect();
        let block = self.assemble_block(i, &tip, picked);
        let hash = block.block_hash();
        let height = tip.height + 1;
        self.record_mined(i, &block, hash, height, true);
        let now_secs = self.block_time_secs();
        let now = self.queue.now();
        let private = self.adversaries[a].private.as_mut().expect("checked above");
        private
            .accept_block(block, now_secs, &mut self.cache)
            .expect("an attacker's own block is valid on its branch");
        self.adversaries[a].pending.clear();
        if let Some(t) = self.known.block_mut(&hash) {
            t.set_have(i);
        }
        self.metrics.block_arrived(now, i, &hash);
        self.reschedule_mining(i);
        let view = self.race_view(a);
        let actions = self.adversaries[a].strategy.on_mined(&view);
        self.execute(a, actions);
        // A withheld block does not stop the run: `stop.height` is about
        // the public chain (checked when blocks are published).
    }

    /// The public tip of active attacker `a` changed because of a peer's
    /// blocks (`connected`, oldest first): relay by policy, then decide.
    pub(super) fn attacker_public_tip(
        &mut self,
        a: usize,
        from: Option<NodeIdx>,
        connected: Arc<[BlockHash]>,
    ) {
        let Some(from) = from else {
            return; // its own publication
        };
        let i = self.adversaries[a].node;
        let victim = self.adversaries[a].victim;
        let peers = self.nodes[i as usize].peers.clone();
        let inv = connected;
        for p in peers {
            if p == from {
                continue;
            }
            match self.adversaries[a].strategy.relay(Some(p) == victim) {
                Relay::Never => {}
                Relay::Now => self.send(i, p, Msg::InvBlocks(inv.clone())),
                Relay::Delay(d) => {
                    let msg = Msg::InvBlocks(inv.clone());
                    let at = self.delivery_time(i, p, &msg) + d;
                    self.metrics.message_sent(msg.kind(), msg.wire_size());
                    self.queue
                        .schedule(
                            at,
                            Event::Deliver {
                                from: i,
                                to: p,
                                msg,
                            },
                        )
                        .expect("delivery is never in the past");
                }
            }
        }
        let view = self.race_view(a);
        let actions = self.adversaries[a].strategy.on_public_tip(&view);
        self.execute(a, actions);
    }

    /// Node `i` changed tip: tell double spenders whose merchant it hosts.
    pub(super) fn merchant_tip_changed(&mut self, i: NodeIdx) {
        for a in 0..self.adversaries.len() {
            let rt = &self.adversaries[a];
            if rt.merchant_home == Some(i) && rt.attempt.is_some() && rt.private.is_some() {
                let view = self.race_view(a);
                let actions = self.adversaries[a].strategy.on_merchant_tip(&view);
                self.execute(a, actions);
            }
        }
    }

    /// Active attacker `a` answers a `getdata` for blocks: from its public
    /// chain, and the private blocks it showed from its private branch.
    pub(super) fn attacker_serve_blocks(&mut self, a: usize, from: NodeIdx, hashes: &[BlockHash]) {
        let i = self.adversaries[a].node;
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let private = self.adversaries[a].private_chain();
        let blocks: Vec<_> = hashes
            .iter()
            .filter_map(|h| {
                full.chain
                    .info(h)
                    .or_else(|| private.and_then(|p| p.info(h)))
                    .map(|i| (i.block.clone(), *h, i.size as u32))
            })
            .collect();
        for (b, h, size) in blocks {
            self.send(i, from, Msg::Block(b, h, size));
        }
    }

    /// A block from a peer whose parent only the attacker's private branch
    /// has (an eclipsed victim mining on it): it joins the private branch.
    /// Returns true if it did.
    pub(super) fn attacker_private_child(&mut self, a: usize, block: &Arc<Block>) -> bool {
        let now_secs = self.block_time_secs();
        let i = self.adversaries[a].node;
        let parent = block.header.prev_blockhash;
        if let Kind::Full(full) = &self.nodes[i as usize].kind {
            if full.chain.contains(&parent) {
                return false; // the public chainstate takes it
            }
        }
        let Some(private) = self.adversaries[a].private.as_mut() else {
            return false;
        };
        if !private.contains(&parent) {
            return false;
        }
        let old = private.tip();
        if private
            .accept_block(block.clone(), now_secs, &mut self.cache)
            .is_err()
        {
            return false;
        }
        if private.tip() != old {
            self.reschedule_mining(i);
            let view = self.race_view(a);
            let actions = self.adversaries[a].strategy.on_mined(&view);
            self.execute(a, actions);
        }
        true
    }

    /// The private blocks from the fork point, oldest first, at most `upto`.
    fn private_branch(&self, a: usize, upto: u32) -> Vec<Arc<Block>> {
        let view = self.race_view(a);
        self.adversaries[a].private_branch(view.private_len, upto)
    }

    fn publish(&mut self, a: usize, upto: u32) {
        let i = self.adversaries[a].node;
        let blocks = self.private_branch(a, upto);
        let mut hashes = Vec::new();
        for b in blocks {
            let hash = b.block_hash();
            let Kind::Full(full) = &self.nodes[i as usize].kind else {
                return;
            };
            if full.chain.contains(&hash) {
                continue;
            }
            self.receive_own_block(i, b, hash);
            hashes.push(hash);
        }
        if !hashes.is_empty() {
            let top = self.adversaries[a]
                .private
                .as_ref()
                .and_then(|p| hashes.last().and_then(|h| p.info(h)).map(|b| b.height));
            self.announce_blocks(i, None, hashes.into());
            if let Some(h) = top {
                self.check_stop_height(h);
            }
        }
    }

    fn show_victim(&mut self, a: usize, upto: u32) {
        let Some(victim) = self.adversaries[a].victim else {
            return;
        };
        let Some(last) = self.private_branch(a, upto).last().map(|b| b.block_hash()) else {
            return;
        };
        let Some(private) = &self.adversaries[a].private else {
            return;
        };
        let path = self.unseen_path(private, last, victim);
        self.inv_to(a, victim, path);
    }

    fn reveal_public(&mut self, a: usize) {
        let Some(victim) = self.adversaries[a].victim else {
            return;
        };
        let i = self.adversaries[a].node;
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let path = self.unseen_path(&full.chain, full.chain.tip(), victim);
        self.inv_to(a, victim, path);
    }

    /// Blocks of `chain`'s active chain up to `tip` that `victim` does not
    /// hold ([`attacker::unseen_path`], read from the victim's known-block
    /// column: the simulator's knowledge, standing in for what the attacker
    /// learnt from the victim's requests).
    fn unseen_path(&self, chain: &Chainstate, tip: BlockHash, victim: NodeIdx) -> Vec<BlockHash> {
        attacker::unseen_path(chain, tip, |h| match self.known.block(h) {
            Some(t) => t.has(victim),
            None => true, // genesis
        })
    }

    fn inv_to(&mut self, a: usize, to: NodeIdx, path: Vec<BlockHash>) {
        if path.is_empty() {
            return;
        }
        let i = self.adversaries[a].node;
        self.send(i, to, Msg::InvBlocks(Arc::from(path)));
    }

    /// Drops the private branch: the private chainstate moves to the public
    /// tip (by feeding it the public blocks when they have more work, else
    /// by copying the public chainstate).
    fn adopt(&mut self, a: usize) {
        let i = self.adversaries[a].node;
        let view = self.race_view(a);
        let now_secs = self.block_time_secs();
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let public = &full.chain;
        let rt = &mut self.adversaries[a];
        rt.pending.clear();
        let Some(private) = rt.private.as_mut() else {
            return;
        };
        if public.chain_work() > private.chain_work() {
            let fork = public.height() - view.public_len;
            for h in fork + 1..=public.height() {
                let b = public
                    .info_at_height(h)
                    .expect("active chain has every height")
                    .block
                    .clone();
                let _ = private.accept_block(b, now_secs, &mut self.cache);
            }
        }
        if private.tip() != public.tip() {
            *private = public.clone();
        }
        self.reschedule_mining(i);
    }

    fn start_attempt(&mut self, a: usize) {
        // The fork point: the private tip, or below it the blocks a
        // pre-mining strategy has already mined.
        let premined = self.race_view(a).private_len;
        let rt = &mut self.adversaries[a];
        let (Some(home), Some(merchant)) = (rt.merchant_home, rt.merchant_script.clone()) else {
            return;
        };
        let Some(&(coin, value)) = rt.coins.get(rt.next_coin) else {
            rt.attempt = None;
            return;
        };
        rt.next_coin += 1;
        let fee = Amount::from_sat_unchecked(adv::DOUBLE_SPEND_FEE_SATS.min(value.to_sat()));
        let (payment, conflict) =
            attacker::double_spend_pair(coin, value, fee, &rt.key, &rt.script, &merchant);
        let payment_txid = payment.compute_txid();
        let conflict_txid = conflict.compute_txid();
        let (base, base_height) = rt
            .private
            .as_ref()
            .and_then(|p| {
                let h = p.height() - premined;
                Some((p.block_at_height(h)?, h))
            })
            .unwrap_or((BlockHash::GENESIS_PREV, 0));
        rt.attempt = Some(Attempt {
            index: rt.attempts_started,
            start: self.queue.now(),
            payment: payment_txid,
            base,
            base_height,
        });
        rt.attempts_started += 1;
        let i = rt.node;
        if rt.eclipse_ds {
            // The victim gets the payment (mined on the private branch it is
            // shown); the honest network gets the conflicting transaction.
            rt.pending = vec![(payment.clone(), fee)];
            self.submit_tx(i, conflict_txid, conflict);
            self.submit_tx(home, payment_txid, payment);
        } else {
            rt.pending = vec![(conflict, fee)];
            self.submit_tx(home, payment_txid, payment);
        }
    }

    fn end_attempt(&mut self, a: usize, outcome: Outcome, view: &RaceView) {
        let now = self.queue.now();
        let rt = &mut self.adversaries[a];
        if let Some(attempt) = rt.attempt.take() {
            rt.records.push(AttemptRecord {
                attempt,
                end: Some(now),
                outcome,
                private_len: view.private_len,
                public_len: view.public_len,
            });
        }
    }

    fn send_invalid(&mut self, a: usize, kind: adv::InvalidKind) {
        let i = self.adversaries[a].node;
        if !self.partitions.is_online(NodeId(i)) {
            return;
        }
        let peers: Vec<NodeIdx> = self.nodes[i as usize]
            .peers
            .iter()
            .copied()
            .filter(|p| self.nodes[*p as usize].spec.role != Role::Light)
            .collect();
        if peers.is_empty() {
            return;
        }
        let now_secs = self.block_time_secs();
        let Kind::Full(full) = &self.nodes[i as usize].kind else {
            return;
        };
        let rt = &mut self.adversaries[a];
        let to = peers[rt.next_peer % peers.len()];
        rt.next_peer += 1;
        rt.seq += 1;
        let mut ctx = CraftContext::new(
            &self.cfg.params,
            full.chain.tip_info(),
            rt.script.clone(),
            now_secs,
            rt.seq,
        )
        .with_spent_outpoint(invalid::find_spent_outpoint(&full.chain, 100));
        if let Some(&(outpoint, value)) = rt.coins.first() {
            ctx = ctx.with_coin(AttackerCoin {
                outpoint,
                value,
                key: rt.key.clone(),
            });
        }
        let Ok(item) = invalid::craft(kind, &ctx) else {
            return;
        };
        self.metrics.invalid_sent();
        match item {
            Crafted::Tx(tx) => {
                let txid = tx.compute_txid();
                self.send(i, to, Msg::Txs(vec![(txid, Arc::new(tx))]));
            }
            Crafted::Block(b) => self.push_block(i, to, b),
            Crafted::Blocks(bs) => {
                for b in bs {
                    self.push_block(i, to, b);
                }
            }
        }
    }

    fn push_block(&mut self, from: NodeIdx, to: NodeIdx, b: Arc<Block>) {
        let hash = b.block_hash();
        let size = b.size() as u32;
        self.send(from, to, Msg::Block(b, hash, size));
    }

    /// Total genesis endowment of every attacker.
    pub(super) fn attackers_endowment(&self) -> u64 {
        self.cfg
            .adversaries
            .iter()
            .map(|s| self.adversary_endowment(s))
            .sum()
    }

    /// Closes the books on attempts: the running ones are unfinished; a
    /// released one succeeded if its payment is not on the final main chain.
    pub(super) fn finish_attacks(&mut self, confirmed: &std::collections::HashSet<Txid>) {
        let views: Vec<RaceView> = (0..self.adversaries.len())
            .map(|a| self.race_view(a))
            .collect();
        for (ai, rt) in self.adversaries.iter_mut().enumerate() {
            let z = rt.confirmations;
            if let Some(attempt) = rt.attempt.take() {
                rt.records.push(AttemptRecord {
                    attempt,
                    end: None,
                    outcome: Outcome::Unfinished,
                    private_len: views[ai].private_len,
                    public_len: views[ai].public_len,
                });
            }
            for r in &rt.records {
                let success =
                    r.outcome == Outcome::Released && !confirmed.contains(&r.attempt.payment);
                self.metrics.attack(AttackRow {
                    adversary: ai as u32,
                    attempt: r.attempt.index,
                    start_s: r.attempt.start.as_secs_f64(),
                    end_s: r.end.map(|t| t.as_secs_f64()),
                    confirmations: z,
                    success: success as u8,
                    outcome: r.outcome.as_str().to_string(),
                    private_len: r.private_len,
                    public_len: r.public_len,
                });
            }
        }
    }
}
