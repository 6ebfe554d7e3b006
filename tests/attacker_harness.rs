//! The attacker node without a `World`: an [`AttackerNode`] (node 0) and
//! two honest full nodes (1 and 2), driven input by input in the style of
//! `tests/relay_harness.rs`, asserting on what the attacker decided.
//!
//! The harness does the world's part plainly: a block mined privately
//! ([`Output::MinedPrivately`]) is booked as an attacker's block and handed
//! back ([`Input::OwnPrivateBlock`]); honest blocks are mined by node 1 or 2
//! and handed to the attacker as `block` messages.

mod common;

use std::rc::Rc;

use forklab::adversary::attacker::Attacker;
use forklab::adversary::double_spend::{DoubleSpend, DoubleSpendParams};
use forklab::adversary::invalid_data::InvalidData;
use forklab::adversary::node::AttackerNode;
use forklab::adversary::selfish::Selfish;
use forklab::adversary::{Adversary, InvalidKind};
use forklab::ledger::chainstate::BlockCache;
use forklab::ledger::keys::PrivateKey;
use forklab::ledger::{Amount, Block, BlockHash, OutPoint, ScriptBuf, TxOut};
use forklab::node::full::FullNode;
use forklab::node::io::{Ctx, Input, NodeConfig, Observation, Oracles, Outbox, Output, Timer};
use forklab::node::known::Known;
use forklab::node::msg::{Msg, NodeIdx};
use forklab::node::score::PeerScores;
use forklab::sim::{SimDuration, SimTime};

use common::lab;

const COIN: u64 = 100_000_000;

/// The attacker (node 0), two honest nodes, and the world's shared state.
struct Lab {
    cfg: NodeConfig,
    cache: BlockCache,
    known: Known,
    scores: PeerScores,
    genesis: Rc<Block>,
    /// Full nodes 0 (the attacker's public node), 1 and 2.
    full: Vec<FullNode>,
    attacker: Attacker,
    peers: Vec<NodeIdx>,
    online: bool,
    now: SimTime,
}

impl Lab {
    /// An attacker running `strategy`, owning two genesis coins.
    fn new(strategy: Box<dyn Adversary>) -> Lab {
        let params = lab::params();
        let key = PrivateKey::from_seed(99);
        let script = ScriptBuf::new_p2pkh(&key.public_key().pubkey_hash());
        let outputs = (0..2)
            .map(|_| TxOut {
                value: Amount::from_sat_unchecked(COIN),
                script_pubkey: script.clone(),
            })
            .collect();
        let genesis = lab::genesis(&params, outputs);
        let mut cache = BlockCache::new();
        let full = lab::full_nodes(3, &genesis, &params, &mut cache);
        let txid = genesis.txdata[0].compute_txid();
        let coins = (0..2)
            .map(|vout| (OutPoint { txid, vout }, Amount::from_sat_unchecked(COIN)))
            .collect();
        Lab {
            cfg: lab::node_config(params),
            cache,
            known: Known::new(3, 3),
            scores: PeerScores::with_nodes(3),
            genesis,
            full,
            attacker: Attacker::new(0, strategy, key, coins),
            peers: vec![1, 2],
            online: true,
            now: SimTime::ZERO,
        }
    }

    fn oracles(&self) -> Oracles {
        lab::oracles(&self.genesis, false)
    }

    /// Hands `input` to the attacker; returns what it decided, with the
    /// world's round trip for privately mined blocks done in place.
    fn attack(&mut self, input: Input) -> Vec<Output> {
        self.now += SimDuration::from_secs(10);
        let oracles = self.oracles();
        let mut out = Outbox::new();
        let (attacker_full, rest) = self.full.split_at_mut(1);
        let merchant_chain = self
            .attacker
            .merchant_home()
            .map(|h| &rest[h as usize - 1].chain);
        let mut ctx = Ctx::new(
            0,
            self.now,
            &self.cfg,
            &mut self.cache,
            &mut self.known,
            &mut self.scores,
            &oracles,
        );
        AttackerNode {
            full: &mut attacker_full[0],
            attacker: &mut self.attacker,
            peers: &self.peers,
            online: self.online,
            merchant_chain,
        }
        .handle(input, &mut ctx, &mut out);
        let mut outputs = Vec::new();
        for o in out.drain() {
            if let Output::MinedPrivately { block, hash, .. } = &o {
                self.known.register_mined(*hash, true);
                let back = Input::OwnPrivateBlock {
                    block: block.clone(),
                    hash: *hash,
                };
                outputs.push(o);
                outputs.extend(self.attack(back));
            } else {
                outputs.push(o);
            }
        }
        outputs
    }

    /// Honest node `i` handles `input`.
    fn honest(&mut self, i: NodeIdx, input: Input) -> Vec<Output> {
        let oracles = self.oracles();
        let mut out = Outbox::new();
        let mut ctx = Ctx::new(
            i,
            self.now,
            &self.cfg,
            &mut self.cache,
            &mut self.known,
            &mut self.scores,
            &oracles,
        );
        self.full[i as usize].handle(input, &mut ctx, &mut out);
        out.drain().collect()
    }

    /// Honest node `i` mines a block on its tip (booked and accepted).
    fn honest_block(&mut self, i: NodeIdx) -> (Rc<Block>, BlockHash) {
        let mined = self
            .honest(i, Input::MiningTimer { txs: None })
            .into_iter()
            .find_map(|o| match o {
                Output::Mined { block, hash, .. } => Some((block, hash)),
                _ => None,
            })
            .expect("the mining timer yields a block");
        self.known.register_mined(mined.1, false);
        let (block, hash) = mined.clone();
        self.honest(i, Input::OwnBlock { block, hash });
        mined
    }

    /// The attacker receives `block` from node `from`.
    fn block_from(&mut self, from: NodeIdx, block: &Rc<Block>) -> Vec<Output> {
        let hash = block.block_hash();
        let size = block.size() as u32;
        self.attack(Input::Message {
            from,
            msg: Msg::Block(block.clone(), hash, size),
        })
    }

    /// The attacker mines privately; returns the block.
    fn mine(&mut self) -> (Rc<Block>, Vec<Output>) {
        let outs = self.attack(Input::MiningTimer { txs: None });
        let block = outs
            .iter()
            .find_map(|o| match o {
                Output::MinedPrivately { block, .. } => Some(block.clone()),
                _ => None,
            })
            .expect("an active private miner mines privately");
        (block, outs)
    }
}

/// The block hashes announced (`inv` to every peer) in `outs`.
fn announced(outs: &[Output]) -> Vec<Vec<BlockHash>> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Announce { hashes, skip: None } => Some(hashes.to_vec()),
            _ => None,
        })
        .collect()
}

fn published(outs: &[Output]) -> Option<u32> {
    outs.iter().find_map(|o| match o {
        Output::Published { height } => Some(*height),
        _ => None,
    })
}

fn tick(lab: &mut Lab) -> Vec<Output> {
    lab.attack(Input::AdversaryTick { mining: true })
}

#[test]
fn before_its_start_an_attacker_mines_in_public() {
    let mut lab = Lab::new(Box::new(Selfish::default()));
    let outs = lab.attack(Input::MiningTimer { txs: None });
    assert!(
        outs.iter().any(|o| matches!(o, Output::Mined { .. })),
        "an honest block, booked and announced as any: {outs:?}"
    );
    assert!(!outs
        .iter()
        .any(|o| matches!(o, Output::MinedPrivately { .. })));
}

#[test]
fn selfish_withholds_a_block_and_matches_a_competitor() {
    let mut lab = Lab::new(Box::new(Selfish::default()));
    let on = tick(&mut lab);
    assert!(
        matches!(on[..], [Output::MiningRate { .. }]),
        "switching on forks a private branch and mines on it: {on:?}"
    );
    let (private, outs) = lab.mine();
    assert!(announced(&outs).is_empty(), "a lead of one is withheld");
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::Observe(Observation::BlockArrived { from: None, .. })
    )));
    // An honest block at the same height: the attacker publishes its own
    // (a tie race) and does not pass the competitor on.
    let (honest, _) = lab.honest_block(1);
    let outs = lab.block_from(1, &honest);
    let relay = outs
        .iter()
        .position(|o| matches!(o, Output::AttackerRelay { from: Some(1), .. }))
        .expect("the public node leaves relaying to the strategy");
    assert_eq!(announced(&outs[relay..]), vec![vec![private.block_hash()]]);
    assert_eq!(published(&outs), Some(1));
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Send { .. })),
        "a selfish miner never relays honest blocks: {outs:?}"
    );
}

#[test]
fn selfish_with_a_lead_of_two_overrides_the_honest_block() {
    let mut lab = Lab::new(Box::new(Selfish::default()));
    tick(&mut lab);
    let (a, _) = lab.mine();
    let (b, outs) = lab.mine();
    assert!(announced(&outs).is_empty(), "a lead of two is withheld");
    assert_eq!(b.header.prev_blockhash, a.block_hash());
    let (honest, _) = lab.honest_block(1);
    let outs = lab.block_from(1, &honest);
    assert_eq!(
        announced(&outs),
        vec![vec![a.block_hash(), b.block_hash()]],
        "lead 2, honest finds one: publish everything and win"
    );
    assert_eq!(published(&outs), Some(2));
}

#[test]
fn selfish_adopts_a_longer_public_chain() {
    let mut lab = Lab::new(Box::new(Selfish::default()));
    tick(&mut lab);
    let (honest, _) = lab.honest_block(1);
    let outs = lab.block_from(1, &honest);
    assert!(announced(&outs).is_empty());
    assert!(outs.iter().any(|o| matches!(o, Output::MiningRate { .. })));
    let (next, _) = lab.mine();
    assert_eq!(
        next.header.prev_blockhash,
        honest.block_hash(),
        "after adopting, the private branch grows on the public tip"
    );
}

#[test]
fn a_withheld_block_is_served_on_request_and_a_child_of_it_joins_the_private_branch() {
    let mut lab = Lab::new(Box::new(Selfish::default()));
    tick(&mut lab);
    let (private, _) = lab.mine();
    let hash = private.block_hash();
    let outs = lab.attack(Input::Message {
        from: 2,
        msg: Msg::GetBlocks(Rc::from(vec![hash])),
    });
    assert!(
        matches!(&outs[..], [Output::Send { to: 2, msg: Msg::Block(_, h, _) }] if *h == hash),
        "{outs:?}"
    );
    // Node 2 mines on the private block it was given: its child joins the
    // private branch, not the public chain (which lacks the parent).
    let size = private.size() as u32;
    lab.honest(
        2,
        Input::Message {
            from: 0,
            msg: Msg::Block(private.clone(), hash, size),
        },
    );
    let (child, _) = lab.honest_block(2);
    assert_eq!(child.header.prev_blockhash, hash);
    let outs = lab.block_from(2, &child);
    assert!(!outs
        .iter()
        .any(|o| matches!(o, Output::AttackerRelay { .. } | Output::Observe(_))));
    assert!(outs.iter().any(|o| matches!(o, Output::MiningRate { .. })));
    let (next, _) = lab.mine();
    assert_eq!(next.header.prev_blockhash, child.block_hash());
}

#[test]
fn a_double_spender_pays_the_merchant_and_mines_the_conflict() {
    let mut lab = Lab::new(Box::new(DoubleSpend::new(DoubleSpendParams {
        confirmations: 2,
        give_up_behind: 3,
        premine: 0,
    })));
    let merchant = ScriptBuf::new_p2pkh(&PrivateKey::from_seed(7).public_key().pubkey_hash());
    lab.attacker
        .set_merchant(1, merchant.clone(), COIN / 2, 2, false);
    let outs = tick(&mut lab);
    let payment = outs
        .iter()
        .find_map(|o| match o {
            Output::SubmitTo { node: 1, tx, .. } => Some(tx.clone()),
            _ => None,
        })
        .expect("the payment goes to the merchant's node");
    assert_eq!(payment.output[0].script_pubkey, merchant);
    let attempt = lab.attacker.attempt().expect("an attempt runs");
    assert_eq!(attempt.payment, payment.compute_txid());
    let (conflict, _) = lab.attacker.pending()[0].clone();
    assert_eq!(
        conflict.input[0].previous_output,
        payment.input[0].previous_output
    );
    assert_eq!(&conflict.output[0].script_pubkey, lab.attacker.script());
    let (block, _) = lab.mine();
    assert!(
        block
            .txdata
            .iter()
            .any(|t| t.compute_txid() == conflict.compute_txid()),
        "the private block carries the conflicting transaction"
    );
    assert!(lab.attacker.pending().is_empty());
}

#[test]
fn invalid_data_rotates_over_its_peers_and_stays_quiet_offline() {
    let every = SimDuration::from_secs(30);
    let mut lab = Lab::new(Box::new(InvalidData::new(every, vec![InvalidKind::BadPow])));
    let first = tick(&mut lab);
    let second = tick(&mut lab);
    for (outs, to) in [(&first, 1), (&second, 2)] {
        assert!(outs.iter().any(|o| matches!(
            o,
            Output::Observe(Observation::InvalidSent { kind: "bad_pow" })
        )));
        assert!(
            outs.iter()
                .any(|o| matches!(o, Output::Send { to: t, msg: Msg::Block(..) } if *t == to)),
            "{outs:?}"
        );
        assert!(outs.iter().any(|o| matches!(
            o,
            Output::SetTimer { timer: Timer::Adversary, after } if *after == every
        )));
    }
    lab.online = false;
    let offline = tick(&mut lab);
    assert!(
        matches!(&offline[..], [Output::SetTimer { .. }]),
        "{offline:?}"
    );
    // After mining stops the ticks do nothing but set the (ignored) timer.
    lab.online = true;
    let stopped = lab.attack(Input::AdversaryTick { mining: false });
    assert!(matches!(&stopped[..], [Output::SetTimer { .. }]));
}
