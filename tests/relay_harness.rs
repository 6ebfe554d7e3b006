//! Relay without a `World`: a few nodes wired by a small harness (in the
//! spirit of quinn's `tests/util.rs` `Pair`) that delivers messages with
//! chosen delays and carries out outputs plainly, so each test can assert
//! on what the nodes decided.
//!
//! The harness carries out outputs without the world's shortcuts: an
//! announcement goes to every peer but the skipped one, whatever the peer
//! holds.

mod common;

use std::rc::Rc;

use forklab::ledger::chainstate::BlockCache;
use forklab::ledger::keys::PrivateKey;
use forklab::ledger::merkle::MerkleProof;
use forklab::ledger::pow::Target;
use forklab::ledger::spv::HeaderChain;
use forklab::ledger::{Amount, Block, BlockHash, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use forklab::node::compact::CompactBlock;
use forklab::node::compact_relay::{CompactConfig, CompactState, PaddingParams};
use forklab::node::full::FullNode;
use forklab::node::io::CompactOutcome;
use forklab::node::io::{Arrival, Ctx, Input, NodeConfig, Observation, Outbox, Output};
use forklab::node::known::Known;
use forklab::node::light::LightNode;
use forklab::node::msg::{MerkleBlockMsg, Msg, NodeIdx};
use forklab::node::score::PeerScores;
use forklab::sim::{SimDuration, SimTime};
use forklab::workload::{self, Wallet};
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;

use common::lab;

/// Each wallet's genesis coin.
const COIN: u64 = 10 * 100_000_000;

enum Node {
    Full(Box<FullNode>),
    Light(Box<LightNode>),
}

/// A message in flight.
struct Flight {
    at: SimTime,
    seq: u64,
    from: NodeIdx,
    to: NodeIdx,
    msg: Msg,
}

/// A few nodes, their links and the messages between them.
struct Net {
    cfg: NodeConfig,
    cache: BlockCache,
    known: Known,
    scores: PeerScores,
    genesis: Rc<Block>,
    nodes: Vec<Node>,
    peers: Vec<Vec<NodeIdx>>,
    /// Link delay (both ways) per ordered pair; `default_delay` otherwise.
    delays: Vec<((NodeIdx, NodeIdx), SimDuration)>,
    default_delay: SimDuration,
    now: SimTime,
    seq: u64,
    flights: Vec<Flight>,
    /// Every output, with the node that produced it.
    log: Vec<(NodeIdx, Output)>,
    /// Every message delivered: (from, to, Bitcoin name).
    delivered: Vec<(NodeIdx, NodeIdx, &'static str)>,
    wallets: Vec<Wallet>,
}

fn name(msg: &Msg) -> &'static str {
    match msg {
        Msg::InvBlocks(_) | Msg::InvTx(_) => "inv",
        Msg::GetBlocks(_) | Msg::GetTx(_) => "getdata",
        Msg::Block(..) => "block",
        Msg::Txs(_) => "tx",
        Msg::NotFound(_) => "notfound",
        Msg::SendTip => "getheaders",
        Msg::Headers(_) => "headers",
        Msg::MerkleBlock { .. } => "merkleblock",
        Msg::SendCmpct { .. } => "sendcmpct",
        Msg::GetCmpct(_) => "getdata",
        Msg::CmpctBlock(..) => "cmpctblock",
        Msg::GetBlockTxn(..) => "getblocktxn",
        Msg::BlockTxn(..) => "blocktxn",
    }
}

impl Net {
    /// `full` full nodes in a full mesh (then `light` light clients, each
    /// attached to node 0 and watching wallet 1), three endowed wallets.
    fn new(full: usize, light: usize) -> Net {
        let params = lab::params();
        let wallets: Vec<Wallet> = (0..3)
            .map(|i| {
                let key = PrivateKey::from_seed(i + 1);
                let pubkey_hash = key.public_key().pubkey_hash();
                Wallet {
                    script_pubkey: ScriptBuf::new_p2pkh(&pubkey_hash),
                    pubkey_hash,
                    key,
                    home: 0,
                }
            })
            .collect();
        let outputs = wallets
            .iter()
            .flat_map(|w| {
                // Two coins per wallet.
                (0..2).map(|_| TxOut {
                    value: Amount::from_sat_unchecked(COIN),
                    script_pubkey: w.script_pubkey.clone(),
                })
            })
            .collect();
        let genesis = lab::genesis(&params, outputs);
        let mut cache = BlockCache::new();
        let n = full + light;
        let mut nodes: Vec<Node> = lab::full_nodes(full, &genesis, &params, &mut cache)
            .into_iter()
            .map(|f| Node::Full(Box::new(f)))
            .collect();
        let mut peers: Vec<Vec<NodeIdx>> = (0..full as u32)
            .map(|i| (0..full as u32).filter(|&p| p != i).collect())
            .collect();
        for l in 0..light {
            let id = (full + l) as NodeIdx;
            let watched = wallets[1].pubkey_hash;
            nodes.push(Node::Light(Box::new(LightNode::new(
                HeaderChain::new(genesis.header, params.clone()),
                watched,
            ))));
            if let Node::Full(f) = &mut nodes[0] {
                f.light_clients.push((id, watched));
            }
            peers.push(vec![0]);
        }
        Net {
            cfg: lab::node_config(params),
            cache,
            known: Known::new(n, full),
            scores: PeerScores::with_nodes(n),
            genesis,
            nodes,
            peers,
            delays: Vec::new(),
            default_delay: SimDuration::from_millis(100),
            now: SimTime::ZERO,
            seq: 0,
            flights: Vec::new(),
            log: Vec::new(),
            delivered: Vec::new(),
            wallets,
        }
    }

    /// Every full node speaks BIP152 with up to `hb` high-bandwidth peers
    /// (no padding model); the `sendcmpct` handshake is run.
    fn compact(&mut self, hb: usize) {
        self.cfg.compact = Some(CompactConfig {
            high_bandwidth_peers: hb,
            padding: PaddingParams {
                compact_bytes: 18_000,
                fill_bytes: 0,
                failure: [0.0, 0.0],
            },
        });
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if let Node::Full(f) = n {
                f.cmpct = CompactState::new(true, false, ChaCha12Rng::seed_from_u64(i as u64));
            }
        }
        for i in 0..self.nodes.len() as NodeIdx {
            if matches!(self.nodes[i as usize], Node::Full(_)) {
                self.call(i, Input::Start);
            }
        }
        self.run();
        self.delivered.clear();
    }

    /// Compact-block outcomes node `i` observed since log index `from`.
    fn outcomes(&self, i: NodeIdx, from: usize) -> Vec<CompactOutcome> {
        self.observed(i, from)
            .into_iter()
            .filter_map(|o| match o {
                Observation::Compact { outcome, .. } => Some(*outcome),
                _ => None,
            })
            .collect()
    }

    fn full(&self, i: NodeIdx) -> &FullNode {
        match &self.nodes[i as usize] {
            Node::Full(f) => f,
            Node::Light(_) => panic!("node {i} is a light client"),
        }
    }

    /// Sets the delay of the link `a` → `b`.
    fn delay(&mut self, a: NodeIdx, b: NodeIdx, d: SimDuration) {
        self.delays.push(((a, b), d));
    }

    /// Hands `input` to node `i` and carries out what it decided.
    fn call(&mut self, i: NodeIdx, input: Input) {
        let mut out = Outbox::new();
        let oracles = lab::oracles(&self.genesis, true);
        let mut ctx = Ctx::new(
            i,
            self.now,
            &self.cfg,
            &mut self.cache,
            &mut self.known,
            &mut self.scores,
            &oracles,
        );
        match &mut self.nodes[i as usize] {
            Node::Full(f) => f.handle(input, &mut ctx, &mut out),
            Node::Light(l) => l.handle(input, &mut ctx, &mut out),
        }
        for o in out.drain() {
            self.carry_out(i, o);
        }
    }

    fn send(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) {
        let d = self
            .delays
            .iter()
            .rev()
            .find(|(k, _)| *k == (from, to))
            .map_or(self.default_delay, |(_, d)| *d);
        self.seq += 1;
        self.flights.push(Flight {
            at: self.now + d,
            seq: self.seq,
            from,
            to,
            msg,
        });
    }

    fn carry_out(&mut self, i: NodeIdx, o: Output) {
        match &o {
            Output::Send { to, msg } => self.send(i, *to, msg.clone()),
            Output::Announce { hashes, skip } => {
                for p in self.peers[i as usize].clone() {
                    if Some(p) != *skip && matches!(self.nodes[p as usize], Node::Full(_)) {
                        self.send(i, p, Msg::InvBlocks(hashes.clone()));
                    }
                }
            }
            Output::AnnounceTxs { txids } => {
                for p in self.peers[i as usize].clone() {
                    self.send(i, p, Msg::InvTx(txids.clone().into()));
                }
            }
            Output::TrickleTxs { to, txids } => {
                self.send(i, *to, Msg::InvTx(txids.clone().into()));
            }
            Output::SendToPeers { msg } => {
                for p in self.peers[i as usize].clone() {
                    self.send(i, p, msg.clone());
                }
            }
            Output::Disconnect { peer } => {
                let peer = *peer;
                self.peers[i as usize].retain(|p| *p != peer);
                self.peers[peer as usize].retain(|p| *p != i);
            }
            Output::Validate { from, block, hash } => {
                // Validation takes no time in the harness.
                let (from, block, hash) = (*from, block.clone(), *hash);
                self.log.push((i, o));
                self.call(i, Input::Reconstructed { from, block, hash });
                return;
            }
            Output::Mined { block, hash, .. } => {
                self.known.register_mined(*hash, false);
                let (block, hash) = (block.clone(), *hash);
                self.log.push((i, o));
                self.call(i, Input::OwnBlock { block, hash });
                return;
            }
            _ => {}
        }
        self.log.push((i, o));
    }

    /// Delivers the next message in flight; returns false when none is left.
    fn step(&mut self) -> bool {
        let Some(k) =
            (0..self.flights.len()).min_by_key(|&k| (self.flights[k].at, self.flights[k].seq))
        else {
            return false;
        };
        let f = self.flights.swap_remove(k);
        self.now = f.at;
        self.delivered.push((f.from, f.to, name(&f.msg)));
        self.call(
            f.to,
            Input::Message {
                from: f.from,
                msg: f.msg,
            },
        );
        true
    }

    fn run(&mut self) {
        while self.step() {}
    }

    /// Node `i` mines a block now (with `txs`, or from its mempool).
    fn mine(&mut self, i: NodeIdx, txs: Option<Vec<(Txid, Rc<Transaction>, Amount)>>) -> BlockHash {
        let before = self.log.len();
        self.call(i, Input::MiningTimer { txs });
        self.log[before..]
            .iter()
            .find_map(|(n, o)| match o {
                Output::Mined { hash, .. } if *n == i => Some(*hash),
                _ => None,
            })
            .expect("the mining timer yields a block")
    }

    /// Observations of node `i` since log index `from`.
    fn observed(&self, i: NodeIdx, from: usize) -> Vec<&Observation> {
        self.log[from..]
            .iter()
            .filter(|(n, _)| *n == i)
            .filter_map(|(_, o)| match o {
                Output::Observe(obs) => Some(obs),
                _ => None,
            })
            .collect()
    }

    /// A payment from wallet `from` (its genesis coin number `coin`) to
    /// wallet `to`, paying `frac` of the coin.
    fn payment(&self, from: usize, coin: u32, to: usize, frac: f64) -> (Txid, Rc<Transaction>) {
        let genesis_txid = self.genesis.txdata[0].compute_txid();
        let outpoint = OutPoint {
            txid: genesis_txid,
            vout: from as u32 * 2 + coin,
        };
        let (tx, _) = workload::build_payment(
            &self.wallets[from],
            &self.wallets[to],
            outpoint,
            Amount::from_sat_unchecked(COIN),
            frac,
            1_000,
        )
        .expect("the coin pays");
        (tx.compute_txid(), Rc::new(tx))
    }
}

#[test]
fn inv_then_getdata_then_block() {
    let mut net = Net::new(2, 0);
    let hash = net.mine(0, None);
    net.run();
    assert_eq!(
        net.delivered,
        vec![(0, 1, "inv"), (1, 0, "getdata"), (0, 1, "block")]
    );
    assert_eq!(net.full(1).chain.tip(), hash);
    assert!(net.observed(1, 0).iter().any(|o| matches!(
        o,
        Observation::BlockArrived { hash: h, how: Arrival::Accepted, from: Some(0), height: Some(_) } if *h == hash
    )));
}

#[test]
fn an_orphan_makes_the_node_request_its_missing_parent() {
    let mut net = Net::new(2, 0);
    net.peers = vec![vec![], vec![]]; // node 0 mines two blocks alone
    let a = net.mine(0, None);
    let b = net.mine(0, None);
    net.peers = vec![vec![1], vec![0]];
    let block_b = net.full(0).chain.get_block(&b).expect("node 0 holds b");
    let size = block_b.size() as u32;
    let before = net.log.len();
    net.send(0, 1, Msg::Block(block_b, b, size));
    net.step();
    let asked: Vec<_> = net.log[before..]
        .iter()
        .filter_map(|(n, o)| match o {
            Output::Send {
                to: 0,
                msg: Msg::GetBlocks(h),
            } if *n == 1 => Some(h.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![vec![a]], "node 1 asks node 0 for b's parent a");
    net.run();
    assert_eq!(net.full(1).chain.tip(), b, "a arrives and b connects");
}

#[test]
fn a_competing_branch_of_equal_work_keeps_the_first_seen() {
    let mut net = Net::new(3, 0);
    // Node 0's block reaches node 2 first (10 ms), node 1's later (500 ms).
    net.delay(0, 2, SimDuration::from_millis(10));
    net.delay(2, 0, SimDuration::from_millis(10));
    net.delay(1, 2, SimDuration::from_millis(500));
    net.delay(2, 1, SimDuration::from_millis(500));
    let a = net.mine(0, None);
    let b = net.mine(1, None);
    assert_ne!(a, b);
    net.run();
    assert_eq!(net.full(2).chain.tip(), a, "first seen wins the tie");
    let tips: Vec<_> = net
        .observed(2, 0)
        .into_iter()
        .filter_map(|o| match o {
            Observation::TipChanged { new_tip, .. } => Some(*new_tip),
            _ => None,
        })
        .collect();
    assert_eq!(tips, vec![a], "the equal-work branch never moves the tip");
    assert!(
        net.full(2).chain.contains(&b),
        "but the competing block is stored"
    );
}

#[test]
fn a_reorg_returns_transactions_to_the_mempool_and_drops_conflicts() {
    let mut net = Net::new(2, 0);
    net.peers = vec![vec![], vec![]]; // two branches grown apart
    let (t1, tx1) = net.payment(0, 0, 1, 0.3);
    let (t3, tx3) = net.payment(2, 0, 1, 0.2);
    // t2 spends t1's coin: the two conflict.
    let (t2, tx2) = net.payment(0, 0, 2, 0.4);
    net.call(0, Input::SubmitTx { txid: t1, tx: tx1 });
    net.call(0, Input::SubmitTx { txid: t3, tx: tx3 });
    let a1 = net.mine(0, None);
    let a1_block = net.full(0).chain.get_block(&a1).unwrap();
    assert_eq!(a1_block.txdata.len(), 3, "a1 carries t1 and t3");
    assert!(net.full(0).mempool.is_empty());
    let fee = Amount::from_sat_unchecked(1_000);
    net.mine(1, Some(vec![(t2, tx2, fee)]));
    let b2 = net.mine(1, None);
    // Node 1's longer branch reaches node 0.
    net.peers = vec![vec![1], vec![0]];
    let before = net.log.len();
    net.call(1, Input::PeersChanged { ask_tips: false });
    net.run();
    assert_eq!(net.full(0).chain.tip(), b2);
    assert!(net.observed(0, before).iter().any(|o| matches!(
        o,
        Observation::Reorg { change, .. } if change.disconnected.len() == 1
    )));
    let pool = &net.full(0).mempool;
    assert!(
        pool.contains(&t3),
        "t3 is valid on the new tip: back in the mempool"
    );
    assert!(
        !pool.contains(&t1),
        "t1 conflicts with t2, confirmed on the new tip: dropped"
    );
}

#[test]
fn an_invalid_block_is_rejected_with_its_reason_not_relayed_and_scored() {
    let mut net = Net::new(3, 0);
    net.peers = vec![vec![], vec![], vec![]];
    let good = net.mine(0, None);
    net.peers = vec![vec![1], vec![0, 2], vec![1]];
    let mut bad = (*net.full(0).chain.get_block(&good).unwrap()).clone();
    // The coinbase claims one satoshi more than subsidy plus fees.
    let v = bad.txdata[0].output[0].value.to_sat();
    bad.txdata[0].output[0].value = Amount::from_sat_unchecked(v + 1);
    bad.header.merkle_root = bad.compute_merkle_root().unwrap();
    let target = Target::from_compact(bad.header.bits).unwrap();
    forklab::ledger::nonce::grind(&mut bad.header, target, u64::MAX).unwrap();
    let hash = bad.block_hash();
    let size = bad.size() as u32;
    let before = net.log.len();
    net.send(0, 1, Msg::Block(Rc::new(bad), hash, size));
    net.run();
    let reasons: Vec<_> = net
        .observed(1, before)
        .into_iter()
        .filter_map(|o| match o {
            Observation::BlockRejected {
                hash: h,
                error,
                from,
            } if *h == hash => Some((error.reject_reason(), *from)),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec![("bad-cb-amount", Some(0))]);
    assert!(
        !net.log[before..]
            .iter()
            .any(|(_, o)| matches!(o, Output::Announce { .. })),
        "the invalid block is not announced"
    );
    assert!(
        net.delivered.iter().all(|(_, to, _)| *to != 2),
        "node 2 hears nothing"
    );
    assert!(
        net.scores.score(1, 0) >= 100,
        "the sender is scored to the threshold"
    );
    assert_eq!(net.peers[1], vec![2], "node 1 dropped the sender");
    assert_ne!(net.full(1).chain.tip(), hash);
}

#[test]
fn a_light_client_accepts_a_real_merkle_proof_and_rejects_a_forged_one() {
    let mut net = Net::new(2, 1);
    let light: NodeIdx = 2;
    let (txid, tx) = net.payment(0, 0, 1, 0.25); // pays wallet 1, watched by the client
    let (other, other_tx) = net.payment(2, 1, 0, 0.25);
    net.call(0, Input::SubmitTx { txid, tx });
    net.call(
        0,
        Input::SubmitTx {
            txid: other,
            tx: other_tx,
        },
    );
    let hash = net.mine(0, None);
    net.run();
    let checks: Vec<_> = net
        .observed(light, 0)
        .into_iter()
        .filter_map(|o| match o {
            Observation::SpvCheck(v) => Some((v.txid, v.block, v.verdict.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        checks,
        vec![(txid, hash, Ok(1))],
        "one real proof, one confirmation"
    );

    // A forged proof: the other transaction's id in the real proof's place.
    let block = net.full(0).chain.info(&hash).unwrap().clone();
    let index = block.txids.iter().position(|t| *t == txid).unwrap();
    let mut forged = MerkleProof::build(&block.txids, index).unwrap();
    forged.txid = other;
    let before = net.log.len();
    net.send(
        0,
        light,
        Msg::MerkleBlock(Box::new(MerkleBlockMsg {
            block: hash,
            proofs: vec![forged],
        })),
    );
    net.run();
    let verdicts: Vec<_> = net
        .observed(light, before)
        .into_iter()
        .filter_map(|o| match o {
            Observation::SpvCheck(v) => Some(v.verdict.is_ok()),
            _ => None,
        })
        .collect();
    assert_eq!(verdicts, vec![false], "the forged proof is rejected");
}

#[test]
fn low_bandwidth_compact_block_is_rebuilt_from_the_mempool() {
    let mut net = Net::new(2, 0);
    net.compact(0);
    assert_eq!(net.full(0).cmpct.peers, vec![1]);
    assert_eq!(net.full(1).cmpct.peers, vec![0]);
    // Both mempools hold the payment the block will carry.
    let (t, tx) = net.payment(0, 0, 1, 0.3);
    net.call(
        0,
        Input::SubmitTx {
            txid: t,
            tx: tx.clone(),
        },
    );
    net.call(1, Input::SubmitTx { txid: t, tx });
    let before = net.log.len();
    let hash = net.mine(0, None);
    net.run();
    assert_eq!(
        net.delivered,
        vec![(0, 1, "inv"), (1, 0, "getdata"), (0, 1, "cmpctblock")],
        "inv, getdata(CMPCT_BLOCK), cmpctblock (low-bandwidth mode only: no sendcmpct(1))"
    );
    assert_eq!(net.full(1).chain.tip(), hash);
    assert_eq!(net.outcomes(1, before), vec![CompactOutcome::Reconstructed]);
}

#[test]
fn missing_transactions_come_by_getblocktxn() {
    let mut net = Net::new(2, 0);
    net.compact(0);
    // Node 1 never saw the second payment.
    let (t1, tx1) = net.payment(0, 0, 1, 0.3);
    let (t2, tx2) = net.payment(2, 0, 1, 0.2);
    net.call(
        0,
        Input::SubmitTx {
            txid: t1,
            tx: tx1.clone(),
        },
    );
    net.call(1, Input::SubmitTx { txid: t1, tx: tx1 });
    net.call(0, Input::SubmitTx { txid: t2, tx: tx2 });
    let before = net.log.len();
    let hash = net.mine(0, None);
    net.run();
    let names: Vec<&str> = net.delivered.iter().map(|d| d.2).collect();
    assert_eq!(
        names[..5],
        ["inv", "getdata", "cmpctblock", "getblocktxn", "blocktxn"]
    );
    assert!(!names.contains(&"block"), "no full block: {names:?}");
    assert_eq!(net.full(1).chain.tip(), hash);
    assert_eq!(
        net.outcomes(1, before),
        vec![CompactOutcome::FetchedTxs {
            txs: 1,
            padding: false
        }]
    );
}

#[test]
fn a_short_id_collision_falls_back_to_the_whole_block() {
    let mut net = Net::new(2, 0);
    net.compact(0);
    net.peers = vec![vec![], vec![]];
    let (t1, tx1) = net.payment(0, 0, 1, 0.3);
    let (t2, tx2) = net.payment(2, 0, 1, 0.2);
    net.call(0, Input::SubmitTx { txid: t1, tx: tx1 });
    net.call(0, Input::SubmitTx { txid: t2, tx: tx2 });
    let hash = net.mine(0, None);
    net.peers = vec![vec![1], vec![0]];
    let block = net.full(0).chain.get_block(&hash).unwrap();
    // Two equal short IDs in the message (Core: READ_STATUS_FAILED).
    let mut cb = CompactBlock::from_block(&block, 7);
    cb.short_ids[1] = cb.short_ids[0];
    let size = 1_000;
    let before = net.log.len();
    net.send(0, 1, Msg::CmpctBlock(Rc::new(cb), hash, size));
    net.run();
    assert_eq!(net.outcomes(1, before), vec![CompactOutcome::FellBack]);
    assert_eq!(
        net.delivered[..3],
        [(0, 1, "cmpctblock"), (1, 0, "getdata"), (0, 1, "block")]
    );
    assert_eq!(net.full(1).chain.tip(), hash);
}

#[test]
fn high_bandwidth_peers_are_the_last_three_that_gave_a_new_block_first() {
    // Nodes 0-3 mine in turn; node 4 hears each block first from its
    // miner, so (as Core's MaybeSetPeerAsAnnouncingHeaderAndIDs) it asks
    // 0, 1, 2 for high-bandwidth relay, then drops 0 for 3.
    let mut net = Net::new(5, 0);
    net.compact(3);
    let mut order = Vec::new();
    for miner in 0..4 {
        let before = net.delivered.len();
        net.mine(miner, None);
        net.run();
        order.push(net.full(4).cmpct.hb_from.clone());
        if miner == 3 {
            let told: Vec<_> = net.delivered[before..]
                .iter()
                .filter(|d| d.0 == 4 && d.2 == "sendcmpct")
                .map(|d| d.1)
                .collect();
            assert_eq!(
                told,
                vec![0, 3],
                "sendcmpct(0) to node 0, sendcmpct(1) to node 3"
            );
        }
    }
    assert_eq!(
        order,
        vec![vec![0], vec![0, 1], vec![0, 1, 2], vec![1, 2, 3]]
    );
    assert!(net.full(3).cmpct.hb_to.contains(&4));
    assert!(!net.full(0).cmpct.hb_to.contains(&4));
    // Node 1 now pushes its next block to node 4 unannounced.
    let before = net.delivered.len();
    let hash = net.mine(1, None);
    net.run();
    let to4: Vec<_> = net.delivered[before..]
        .iter()
        .filter(|d| d.1 == 4)
        .map(|d| (d.0, d.2))
        .collect();
    assert_eq!(to4.first(), Some(&(1, "cmpctblock")), "{to4:?}");
    assert!(!net.delivered[before..].contains(&(4, 1, "getdata")));
    assert_eq!(net.full(4).chain.tip(), hash);
}
