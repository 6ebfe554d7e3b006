//! The attacker node: a public full node, a private branch and a strategy
//! behind the same `handle(input, ctx, outbox)` as an honest node.
//!
//! [`AttackerNode`] joins, for one call, what an attacker is made of: its
//! public [`FullNode`] (what it tells and serves its peers; the world keeps
//! it with the other nodes, so everything that reads full nodes' chains —
//! payments, balances, the final tip — reads it as any other), its
//! [`Attacker`] state (strategy, private branch, coins, attempts), and what
//! the world lets it see: its peer list, whether it is online, and an
//! oracle, the chain of the node its double-spend merchant watches.
//!
//! Inputs it takes itself, once its behaviour is on:
//! - [`Input::AdversaryTick`]: the first switches the behaviour on (a
//!   private branch forks from the public chain, [`Adversary::on_start`](super::Adversary::on_start));
//!   later ones run [`Adversary::on_tick`](super::Adversary::on_tick); each sets the next tick;
//! - [`Input::MiningTimer`]: a block on the private branch
//!   ([`Output::MinedPrivately`]; the world books it and hands it back as
//!   [`Input::OwnPrivateBlock`], then [`Adversary::on_mined`](super::Adversary::on_mined) decides);
//! - a `block` whose parent only the private branch has (an eclipsed
//!   victim mining on it): it joins the private branch;
//! - a `getdata` for blocks: served from the public chain and the private
//!   blocks it showed;
//! - [`Input::MerchantTip`]: the strategy's [`Adversary::on_merchant_tip`](super::Adversary::on_merchant_tip).
//!
//! Everything else goes to the public full node; when that node's tip moves
//! because of a peer's blocks it reports [`Output::AttackerRelay`], after
//! which the strategy relays ([`Adversary::relay`](super::Adversary::relay)) and decides
//! ([`Adversary::on_public_tip`](super::Adversary::on_public_tip)). The strategy's [`Action`]s are carried
//! out here, in order, as outputs: publishing feeds the private blocks to
//! the public node and announces them, showing a victim a branch is an
//! `inv` to it, a double-spend attempt submits its payment to the
//! merchant's node ([`Output::SubmitTo`]).
//!
//! The order of outputs is the order of the old world-side execution, so
//! the event stream of every attack scenario is unchanged by the move.

use std::rc::Rc;

use super::attacker::{self, Attacker, Attempt, AttemptRecord};
use super::invalid::{self, AttackerCoin, CraftContext, Crafted};
use super::{Action, InvalidKind, Outcome, RaceView, Relay};
use crate::ledger::chainstate::Chainstate;
use crate::ledger::{Amount, Block, BlockHash};
use crate::node::full::FullNode;
use crate::node::io::{Arrival, Ctx, Input, Late, Observation, Outbox, Output, Timer};
use crate::node::msg::{Msg, NodeIdx};

/// An attacker for one call: its public node, its state, and what the world
/// lets it see (see the module docs).
pub struct AttackerNode<'a> {
    /// The public full node.
    pub full: &'a mut FullNode,
    /// Strategy, private branch, coins, attempts.
    pub attacker: &'a mut Attacker,
    /// The node's peers (the world's links).
    pub peers: &'a [NodeIdx],
    /// Whether the node is online (an offline `invalid_data` attacker
    /// sends nothing).
    pub online: bool,
    /// Oracle: the chain of the node the double-spend merchant watches the
    /// chain through (standing in for what an attacker learns by watching
    /// the merchant), while there is one.
    pub merchant_chain: Option<&'a Chainstate>,
}

impl AttackerNode<'_> {
    /// Handles one input; what the attacker decides goes to `out`, in order.
    pub fn handle(&mut self, input: Input, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let private = self.attacker.private.is_some();
        match input {
            Input::AdversaryTick { mining } => self.on_tick(mining, ctx, out),
            Input::MerchantTip => {
                if self.attacker.attempt.is_some() && private {
                    let view = self.race_view();
                    let actions = self.attacker.strategy.on_merchant_tip(&view);
                    self.execute(actions, ctx, out);
                }
            }
            Input::OwnPrivateBlock { block, hash } => self.own_private_block(block, hash, ctx, out),
            Input::MiningTimer { .. } if private => self.mine_private(ctx, out),
            Input::Message {
                from,
                msg: Msg::Block(block, hash, size),
            } if private => {
                if self.private_child(&block, ctx, out) {
                    ctx.mark_have(&hash);
                } else {
                    let msg = Msg::Block(block, hash, size);
                    self.public(Input::Message { from, msg }, ctx, out);
                }
            }
            Input::Message {
                from,
                msg: Msg::GetBlocks(hashes),
            } if private => self.serve_blocks(from, &hashes, out),
            input => self.public(input, ctx, out),
        }
    }

    /// The race as the attacker sees it now.
    pub fn race_view(&self) -> RaceView {
        let rt = &*self.attacker;
        let mut view = RaceView {
            attempt_open: rt.attempt.is_some(),
            merchant_confirmations: self.merchant_confirmations(),
            ..RaceView::default()
        };
        let Some(private) = &rt.private else {
            return view;
        };
        let race = attacker::race(private, &self.full.chain);
        view.private_len = race.private_len;
        view.public_len = race.public_len;
        view.published = race.published;
        if let (Some(len), false) = (self.merchant_branch_len(), rt.eclipse_ds) {
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

    /// Hands `input` to the public full node; when its tip moved because of
    /// a peer's blocks, the strategy relays and decides right after that
    /// report ([`Output::AttackerRelay`]).
    fn public(&mut self, input: Input, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let start = out.len();
        self.full.handle(input, ctx, out);
        if !self.full.strategy_relays
            || !out.items()[start..]
                .iter()
                .any(|o| matches!(o, Output::AttackerRelay { from: Some(_), .. }))
        {
            return;
        }
        for o in out.split_off(start) {
            let relay = match &o {
                Output::AttackerRelay {
                    from: Some(from),
                    connected,
                } => Some((*from, connected.clone())),
                _ => None,
            };
            out.push(o);
            if let Some((from, connected)) = relay {
                self.public_tip(from, connected, ctx, out);
            }
        }
    }

    /// The public tip moved because of `from`'s blocks (`connected`, oldest
    /// first): relay by policy, then decide.
    fn public_tip(
        &mut self,
        from: NodeIdx,
        connected: Rc<[BlockHash]>,
        ctx: &mut Ctx<'_>,
        out: &mut Outbox,
    ) {
        let victim = self.attacker.victim;
        for &p in self.peers {
            if p == from {
                continue;
            }
            match self.attacker.strategy.relay(Some(p) == victim) {
                Relay::Never => {}
                Relay::Now => out.send(p, Msg::InvBlocks(connected.clone())),
                Relay::Delay(extra) => out.push(Output::SendLate {
                    to: p,
                    late: Box::new(Late {
                        msg: Msg::InvBlocks(connected.clone()),
                        extra,
                    }),
                }),
            }
        }
        let view = self.race_view();
        let actions = self.attacker.strategy.on_public_tip(&view);
        self.execute(actions, ctx, out);
    }

    /// The attacker's timer: switch on, or act periodically; then the next
    /// tick (the world sets it only while the run mines).
    fn on_tick(&mut self, mining: bool, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        if !self.attacker.started {
            self.activate(ctx, out);
        } else if mining {
            let actions = self.attacker.strategy.on_tick();
            self.execute(actions, ctx, out);
        }
        if let Some(every) = self.attacker.strategy.tick_interval() {
            out.push(Output::SetTimer {
                timer: Timer::Adversary,
                after: every,
            });
        }
    }

    /// The behaviour switches on: a private miner forks its private branch
    /// from the public chain (`fork_depth_at_start` blocks below the tip).
    fn activate(&mut self, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        self.attacker.started = true;
        if self.attacker.strategy.mines_privately() {
            let depth = self.attacker.strategy.fork_depth_at_start();
            let chain = &self.full.chain;
            let private = if depth == 0 {
                chain.clone()
            } else {
                // Replay the public chain up to the fork point into a
                // fresh chainstate (validation is memoised in the cache).
                let fork = chain.height().saturating_sub(depth);
                let genesis = chain
                    .info_at_height(0)
                    .expect("a chain has its genesis")
                    .block
                    .clone();
                let mut c = Chainstate::new(genesis, ctx.cfg.params.clone(), ctx.cache);
                let now = ctx.block_time_secs();
                for h in 1..=fork {
                    if let Some(b) = chain.info_at_height(h) {
                        c.accept_block(b.block.clone(), now, ctx.cache)
                            .expect("public chain blocks are valid");
                    }
                }
                c
            };
            let bits = private.next_bits();
            self.attacker.private = Some(private);
            self.full.strategy_relays = true;
            out.push(Output::MiningRate { bits });
        }
        let actions = self.attacker.strategy.on_start();
        self.execute(actions, ctx, out);
    }

    /// The mining timer of an active private miner: a block on the private
    /// tip carrying the attack's own transactions.
    fn mine_private(&mut self, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let Some(private) = &self.attacker.private else {
            return;
        };
        let tip = private.tip_info().clone();
        let picked = self
            .attacker
            .pending
            .iter()
            .map(|(t, fee)| (t.compute_txid(), t.clone(), *fee))
            .collect();
        let block =
            crate::node::miner::assemble_block(self.full, ctx.me(), &tip, picked, ctx.cfg, ctx.now);
        let hash = block.block_hash();
        out.push(Output::MinedPrivately {
            block,
            hash,
            height: tip.height + 1,
        });
    }

    /// A privately mined block, booked by the world: onto the private
    /// branch; the strategy decides what to do with it.
    fn own_private_block(
        &mut self,
        block: Rc<Block>,
        hash: BlockHash,
        ctx: &mut Ctx<'_>,
        out: &mut Outbox,
    ) {
        let now_secs = ctx.block_time_secs();
        let Some(private) = self.attacker.private.as_mut() else {
            return;
        };
        private
            .accept_block(block, now_secs, ctx.cache)
            .expect("an attacker's own block is valid on its branch");
        let bits = private.next_bits();
        let height = private.info(&hash).map(|b| b.height);
        self.attacker.pending.clear();
        ctx.mark_have(&hash);
        out.observe(Observation::BlockArrived {
            hash,
            how: Arrival::Accepted,
            from: None,
            height,
        });
        out.push(Output::MiningRate { bits });
        let view = self.race_view();
        let actions = self.attacker.strategy.on_mined(&view);
        self.execute(actions, ctx, out);
        // A withheld block does not stop the run: `stop.height` is about
        // the public chain (checked when blocks are published).
    }

    /// A block from a peer whose parent only the private branch has (an
    /// eclipsed victim mining on it): it joins the private branch. Returns
    /// true if it did.
    fn private_child(&mut self, block: &Rc<Block>, ctx: &mut Ctx<'_>, out: &mut Outbox) -> bool {
        let now_secs = ctx.block_time_secs();
        let parent = block.header.prev_blockhash;
        if self.full.chain.contains(&parent) {
            return false; // the public chainstate takes it
        }
        let Some(private) = self.attacker.private.as_mut() else {
            return false;
        };
        if !private.contains(&parent) {
            return false;
        }
        let old = private.tip();
        if private
            .accept_block(block.clone(), now_secs, ctx.cache)
            .is_err()
        {
            return false;
        }
        if private.tip() != old {
            out.push(Output::MiningRate {
                bits: private.next_bits(),
            });
            let view = self.race_view();
            let actions = self.attacker.strategy.on_mined(&view);
            self.execute(actions, ctx, out);
        }
        true
    }

    /// A `getdata` for blocks: from the public chain, and the private
    /// blocks it showed from its private branch.
    fn serve_blocks(&self, from: NodeIdx, hashes: &[BlockHash], out: &mut Outbox) {
        let private = self.attacker.private_chain();
        for h in hashes {
            if let Some(info) = self
                .full
                .chain
                .info(h)
                .or_else(|| private.and_then(|p| p.info(h)))
            {
                out.send(from, Msg::Block(info.block.clone(), *h, info.size as u32));
            }
        }
    }

    /// Carries out `actions` in order, against the view at the moment of
    /// the decision.
    fn execute(&mut self, actions: Vec<Action>, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        if actions.is_empty() {
            return;
        }
        let view = self.race_view();
        for action in actions {
            match action {
                Action::Publish { upto } => self.publish(upto, ctx, out),
                Action::ShowVictim { upto } => self.show_victim(upto, ctx, out),
                Action::Adopt => self.adopt(ctx, out),
                Action::RevealPublicToVictim => self.reveal_public(ctx, out),
                Action::StartAttempt => self.start_attempt(ctx, out),
                Action::EndAttempt(outcome) => self.end_attempt(outcome, &view, ctx),
                Action::SendInvalid(kind) => self.send_invalid(kind, ctx, out),
            }
        }
    }

    /// The private blocks from the fork point, oldest first, at most `upto`.
    fn private_branch(&self, upto: u32) -> Vec<Rc<Block>> {
        let view = self.race_view();
        self.attacker.private_branch(view.private_len, upto)
    }

    /// Makes the first `upto` private blocks public: the public node
    /// accepts each (as its own), then they are announced to every peer.
    fn publish(&mut self, upto: u32, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let mut hashes = Vec::new();
        for b in self.private_branch(upto) {
            let hash = b.block_hash();
            if self.full.chain.contains(&hash) {
                continue;
            }
            self.public(Input::OwnBlock { block: b, hash }, ctx, out);
            hashes.push(hash);
        }
        if !hashes.is_empty() {
            let top = self
                .attacker
                .private
                .as_ref()
                .and_then(|p| hashes.last().and_then(|h| p.info(h)).map(|b| b.height));
            out.push(Output::Announce {
                hashes: hashes.into(),
                skip: None,
            });
            if let Some(height) = top {
                out.push(Output::Published { height });
            }
        }
    }

    /// Shows the victim the first `upto` private blocks it has not seen.
    fn show_victim(&mut self, upto: u32, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let Some(victim) = self.attacker.victim else {
            return;
        };
        let Some(last) = self.private_branch(upto).last().map(|b| b.block_hash()) else {
            return;
        };
        let Some(private) = &self.attacker.private else {
            return;
        };
        let path = attacker::unseen_path(private, last, |h| ctx.oracle_holds(victim, h));
        inv_to(victim, path, out);
    }

    /// Shows the victim the public chain it has not seen.
    fn reveal_public(&mut self, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let Some(victim) = self.attacker.victim else {
            return;
        };
        let chain = &self.full.chain;
        let path = attacker::unseen_path(chain, chain.tip(), |h| ctx.oracle_holds(victim, h));
        inv_to(victim, path, out);
    }

    /// Drops the private branch: the private chainstate moves to the public
    /// tip (by feeding it the public blocks when they have more work, else
    /// by copying the public chainstate).
    fn adopt(&mut self, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        let view = self.race_view();
        let now_secs = ctx.block_time_secs();
        let public = &self.full.chain;
        let rt = &mut *self.attacker;
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
                let _ = private.accept_block(b, now_secs, ctx.cache);
            }
        }
        if private.tip() != public.tip() {
            *private = public.clone();
        }
        out.push(Output::MiningRate {
            bits: private.next_bits(),
        });
    }

    /// Starts a double-spend attempt: the payment goes to the merchant's
    /// node, the conflicting transaction into the next private block (an
    /// eclipse double spend swaps them: the victim's private branch carries
    /// the payment, the honest network gets the conflict).
    fn start_attempt(&mut self, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        // The fork point: the private tip, or below it the blocks a
        // pre-mining strategy has already mined.
        let premined = self.race_view().private_len;
        let rt = &mut *self.attacker;
        let (Some(home), Some(merchant)) = (rt.merchant_home, rt.merchant_script.clone()) else {
            return;
        };
        let Some(&(coin, value)) = rt.coins.get(rt.next_coin) else {
            rt.attempt = None;
            return;
        };
        rt.next_coin += 1;
        let fee = Amount::from_sat_unchecked(super::DOUBLE_SPEND_FEE_SATS.min(value.to_sat()));
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
            start: ctx.now,
            payment: payment_txid,
            base,
            base_height,
        });
        rt.attempts_started += 1;
        if rt.eclipse_ds {
            rt.pending = vec![(payment.clone(), fee)];
            let submit = Input::SubmitTx {
                txid: conflict_txid,
                tx: conflict,
            };
            self.public(submit, ctx, out);
        } else {
            rt.pending = vec![(conflict, fee)];
        }
        out.push(Output::SubmitTo {
            node: home,
            txid: payment_txid,
            tx: payment,
        });
    }

    /// Closes the running attempt.
    fn end_attempt(&mut self, outcome: Outcome, view: &RaceView, ctx: &Ctx<'_>) {
        let rt = &mut *self.attacker;
        if let Some(attempt) = rt.attempt.take() {
            rt.records.push(AttemptRecord {
                attempt,
                end: Some(ctx.now),
                outcome,
                private_len: view.private_len,
                public_len: view.public_len,
            });
        }
    }

    /// Sends one crafted invalid item to the next peer in the rotation
    /// (a full node's peers are full nodes: light clients are listed in
    /// its state, not among its peers).
    fn send_invalid(&mut self, kind: InvalidKind, ctx: &mut Ctx<'_>, out: &mut Outbox) {
        if !self.online || self.peers.is_empty() {
            return;
        }
        let now_secs = ctx.block_time_secs();
        let chain = &self.full.chain;
        let rt = &mut *self.attacker;
        let to = self.peers[rt.next_peer % self.peers.len()];
        rt.next_peer += 1;
        rt.seq += 1;
        let mut craft = CraftContext::new(
            &ctx.cfg.params,
            chain.tip_info(),
            rt.script.clone(),
            now_secs,
            rt.seq,
        )
        .with_spent_outpoint(invalid::find_spent_outpoint(chain, 100));
        if let Some(&(outpoint, value)) = rt.coins.first() {
            craft = craft.with_coin(AttackerCoin {
                outpoint,
                value,
                key: rt.key.clone(),
            });
        }
        let Ok(item) = invalid::craft(kind, &craft) else {
            return;
        };
        out.observe(Observation::InvalidSent {
            kind: kind.as_str(),
        });
        match item {
            Crafted::Tx(tx) => {
                let txid = tx.compute_txid();
                out.send(to, Msg::Txs(vec![(txid, Rc::new(tx))]));
            }
            Crafted::Block(b) => push_block(to, b, out),
            Crafted::Blocks(bs) => {
                for b in bs {
                    push_block(to, b, out);
                }
            }
        }
    }

    /// Confirmations of the running attempt's payment at the merchant's
    /// node: only on a chain through the attempt's fork point (a payment
    /// confirmed on a branch that chain does not contain is not the race
    /// the attacker is running).
    fn merchant_confirmations(&self) -> u32 {
        let Some((chain, at)) = self.merchant_chain() else {
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

    /// Blocks on the merchant's chain above the attempt's fork point.
    fn merchant_branch_len(&self) -> Option<u32> {
        self.merchant_chain()
            .map(|(chain, at)| chain.height() - at.base_height)
    }

    /// The merchant's chain during an attempt, if it descends from the
    /// attempt's fork point.
    fn merchant_chain(&self) -> Option<(&Chainstate, &Attempt)> {
        let at = self.attacker.attempt.as_ref()?;
        let chain = self.merchant_chain?;
        (chain.block_at_height(at.base_height) == Some(at.base)).then_some((chain, at))
    }
}

/// An `inv` of `path` to `to`, if there is anything to show.
fn inv_to(to: NodeIdx, path: Vec<BlockHash>, out: &mut Outbox) {
    if !path.is_empty() {
        out.send(to, Msg::InvBlocks(Rc::from(path)));
    }
}

/// A crafted block, pushed unrequested.
fn push_block(to: NodeIdx, b: Rc<Block>, out: &mut Outbox) {
    let hash = b.block_hash();
    let size = b.size() as u32;
    out.send(to, Msg::Block(b, hash, size));
}
