//! The live session: one thread owns the [`World`], advances it paced
//! against the wall clock, and runs the HTTP handlers' requests between
//! slices of events.
//!
//! Handlers never touch the world: they send a closure over [`Session`]
//! through a [`Lab`] handle and await its answer, so reads and inputs are
//! serialised with the simulation without locks. An input is applied at the
//! session's current simulated time ([`Session::clock`]) by
//! [`World::inject`] and recorded with that time ([`super::inputs`]).
//!
//! Pacing: while running, the target simulated time is
//! `base_sim + (wall − base_wall) × speed`; each tick the world processes
//! the events up to the target, at most [`SLICE_EVENTS`] of them so the
//! server stays responsive. When it cannot reach the target, the session
//! notes how far behind it fell (reported at the end). Pausing, resuming and
//! changing speed re-base the pacing; they change nothing in the run.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{broadcast, oneshot};

use super::inputs::InputRecord;
use crate::ledger::{Address, BlockHash};
use crate::node::io::{Observation, Output};
use crate::sim::{SimDuration, SimTime};
use crate::world::{LiveAction, LiveError, Narration, World};

/// At most this many events per slice between two looks at the requests.
pub const SLICE_EVENTS: u64 = 20_000;

/// How often the session advances when no request arrives.
const TICK: Duration = Duration::from_millis(20);

/// Something that happened in the run, as the live explorer's event
/// stream (`/lab/events`) and the API's answers report it.
#[derive(Serialize, Clone, Debug, PartialEq, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Happening {
    /// A node found a block.
    Mined {
        /// Simulated seconds.
        t: f64,
        /// The miner.
        node: u32,
        /// Block hash.
        hash: String,
        /// Its parent.
        parent: String,
        /// Height.
        height: u32,
    },
    /// A node's tip moved.
    Tip {
        /// Simulated seconds.
        t: f64,
        /// The node.
        node: u32,
        /// New tip.
        tip: String,
        /// Its height.
        height: u32,
    },
    /// A node switched branches.
    Reorg {
        /// Simulated seconds.
        t: f64,
        /// The node.
        node: u32,
        /// Blocks disconnected.
        depth: u32,
        /// Tip before.
        old_tip: String,
        /// Tip after.
        new_tip: String,
        /// Height after.
        height: u32,
    },
    /// A transaction entered a node's mempool.
    TxAccepted {
        /// Simulated seconds.
        t: f64,
        /// The node.
        node: u32,
        /// The transaction.
        txid: String,
    },
    /// A node refused a transaction.
    TxRejected {
        /// Simulated seconds.
        t: f64,
        /// The node.
        node: u32,
        /// The transaction.
        txid: String,
        /// Bitcoin Core's reject reason.
        reason: String,
    },
    /// A node refused a block.
    BlockRejected {
        /// Simulated seconds.
        t: f64,
        /// The node.
        node: u32,
        /// The block.
        hash: String,
        /// Bitcoin Core's reject reason.
        reason: String,
    },
    /// A live input was applied.
    Input {
        /// Simulated seconds.
        t: f64,
        /// What it was.
        what: String,
    },
    /// The session's pacing changed (pause, resume, speed) or it is ending.
    Lab {
        /// Simulated seconds.
        t: f64,
        /// What changed.
        what: String,
    },
}

impl Happening {
    /// From a node output the world narrates (`None`: not reported).
    fn of(t: SimTime, node: u32, o: &Output) -> Option<Happening> {
        let t = t.as_secs_f64();
        Some(match o {
            Output::Mined {
                block,
                hash,
                height,
            } => Happening::Mined {
                t,
                node,
                hash: hash.to_string(),
                parent: block.header.prev_blockhash.to_string(),
                height: *height,
            },
            Output::Observe(Observation::TipChanged {
                new_tip, height, ..
            }) => Happening::Tip {
                t,
                node,
                tip: new_tip.to_string(),
                height: *height,
            },
            Output::Observe(Observation::Reorg { change, height }) => Happening::Reorg {
                t,
                node,
                depth: change.disconnected.len() as u32,
                old_tip: change.old_tip.to_string(),
                new_tip: change.new_tip.to_string(),
                height: *height,
            },
            Output::Observe(Observation::TxAccepted { txid }) => Happening::TxAccepted {
                t,
                node,
                txid: txid.to_string(),
            },
            Output::Observe(Observation::TxRejected { txid, error }) => Happening::TxRejected {
                t,
                node,
                txid: txid.to_string(),
                reason: error.reject_reason().to_string(),
            },
            Output::Observe(Observation::BlockRejected { hash, error, .. }) => {
                Happening::BlockRejected {
                    t,
                    node,
                    hash: hash.to_string(),
                    reason: error.reject_reason().to_string(),
                }
            }
            _ => return None,
        })
    }
}

/// A request run on the session thread.
pub type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// How handlers reach the session.
#[derive(Clone)]
pub struct Lab {
    tx: mpsc::Sender<Job>,
    /// Every [`Happening`], as JSON, for the event stream.
    pub events: broadcast::Sender<Arc<str>>,
    /// Static facts about the session.
    pub info: Arc<LabInfo>,
}

/// What does not change during a session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabInfo {
    /// Scenario name.
    pub name: String,
    /// Base URL of each full node's own API (`None`: the node has none).
    pub node_urls: Vec<Option<String>>,
    /// Addresses of the scenario's wallets (the lab signs for them).
    pub wallets: Vec<String>,
    /// Addresses of the students' wallets (keys printed once on the
    /// teacher's terminal; never served).
    pub students: Vec<String>,
}

/// The session has stopped: requests are no longer answered.
#[derive(Debug, thiserror::Error)]
#[error("the live session has ended")]
pub struct Gone;

impl Lab {
    /// Runs `f` on the session thread and returns its answer.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> T + Send + 'static,
    ) -> Result<T, Gone> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |s| {
            let _ = reply.send(f(s));
        });
        self.tx.send(job).map_err(|_| Gone)?;
        answer.await.map_err(|_| Gone)
    }

    /// Asks the session to stop (Ctrl-C, `POST /lab/stop`); it records the
    /// stop time and ends.
    pub fn stop(&self) {
        let _ = self.tx.send(Box::new(|s: &mut Session| s.stop = true));
    }
}

/// How a session ended and what it recorded.
pub struct Ended {
    /// The world (to be finished and written out).
    pub world: World,
    /// Every input applied, in order, the stop last when the run was stopped
    /// before its end.
    pub inputs: Vec<InputRecord>,
    /// The furthest the run fell behind the paced target (zero if it kept up).
    pub max_behind: SimDuration,
    /// Whether the run reached its own stop condition.
    pub finished: bool,
}

/// The session state, owned by its thread.
pub struct Session {
    /// The world.
    pub world: World,
    /// The lab's current simulated time: every event at or before it has
    /// been processed (or is being, while behind).
    pub clock: SimTime,
    /// Simulated seconds per wall second.
    pub speed: f64,
    /// Paused: the world does not advance (steps still do).
    pub paused: bool,
    base_wall: Instant,
    base_sim: SimTime,
    /// Inputs applied so far.
    pub inputs: Vec<InputRecord>,
    feed: Arc<Mutex<Vec<Happening>>>,
    events: broadcast::Sender<Arc<str>>,
    /// Furthest behind the target so far.
    pub max_behind: SimDuration,
    /// Set to end the session.
    pub stop: bool,
    /// Static facts.
    pub info: Arc<LabInfo>,
}

/// The wall clock of the pacing (the server layer may read it).
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

impl Session {
    /// Starts the session thread. The thread builds the world with `build`
    /// (a world never leaves the thread it was built on: it shares blocks
    /// and messages by `Rc`), adds the scenario's wallets to `info`, runs
    /// the session, and yields what `finish` makes of the ended session
    /// (writing the output directory happens there, beside the world).
    ///
    /// Returns once the world is built: the handle for handlers and the
    /// thread; `None` if the thread ended before (its panic is in the
    /// handle).
    pub fn spawn<R: Send + 'static>(
        build: impl FnOnce() -> World + Send + 'static,
        speed: f64,
        mut info: LabInfo,
        finish: impl FnOnce(Ended) -> R + Send + 'static,
    ) -> (Option<Lab>, std::thread::JoinHandle<R>) {
        let (tx, rx) = mpsc::channel::<Job>();
        let (events, _) = broadcast::channel(1024);
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Arc<LabInfo>>(1);
        let sender = events.clone();
        let thread = std::thread::Builder::new()
            .name("forklab-live".into())
            .spawn(move || {
                let mut world = build();
                let feed = Arc::new(Mutex::new(Vec::new()));
                let sink = feed.clone();
                world.set_observer(Box::new(move |t, n| {
                    if let Narration::Node(node, o) = n {
                        if let Some(h) = Happening::of(t, node, o) {
                            sink.lock().unwrap_or_else(PoisonError::into_inner).push(h);
                        }
                    }
                }));
                info.wallets = world
                    .wallets()
                    .iter()
                    .map(|w| Address::from_pubkey_hash(w.pubkey_hash).to_string())
                    .collect();
                let info = Arc::new(info);
                let _ = ready_tx.send(info.clone());
                let session = Session {
                    clock: world.now(),
                    world,
                    speed,
                    paused: false,
                    base_wall: wall_now(),
                    base_sim: SimTime::ZERO,
                    inputs: Vec::new(),
                    feed,
                    events: sender,
                    max_behind: SimDuration::ZERO,
                    stop: false,
                    info,
                };
                finish(session.run(rx))
            })
            .expect("the session thread starts");
        let lab = ready_rx.recv().ok().map(|info| Lab { tx, events, info });
        (lab, thread)
    }

    fn run(mut self, rx: mpsc::Receiver<Job>) -> Ended {
        self.rebase();
        loop {
            loop {
                match rx.try_recv() {
                    Ok(job) => job(&mut self),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        self.stop = true;
                        break;
                    }
                }
            }
            if self.stop || self.world.is_done() {
                break;
            }
            self.advance();
            self.publish();
            if self.world.is_done() {
                break;
            }
            match rx.recv_timeout(TICK) {
                Ok(job) => job(&mut self),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => self.stop = true,
            }
        }
        let finished = self.world.is_done();
        if !finished {
            // Stopped before the end: everything at the clock is processed,
            // and replay stops at the same instant.
            self.world.run_until(self.clock, u64::MAX);
            self.inputs.push(InputRecord::stop(self.clock));
        }
        self.emit(Happening::Lab {
            t: self.clock.as_secs_f64(),
            what: if finished {
                "the run reached its stop condition".into()
            } else {
                "the session was stopped".into()
            },
        });
        Ended {
            world: self.world,
            inputs: self.inputs,
            max_behind: self.max_behind,
            finished,
        }
    }

    /// Re-bases the pacing on now (after a pause, a step or a speed change).
    pub fn rebase(&mut self) {
        self.base_wall = wall_now();
        self.base_sim = self.clock;
    }

    /// Advances towards the paced target.
    fn advance(&mut self) {
        if self.paused {
            return;
        }
        let wall = wall_now().duration_since(self.base_wall).as_secs_f64();
        let target = self.base_sim + SimDuration::from_secs_f64(wall * self.speed);
        if target <= self.clock {
            return;
        }
        if self.world.run_until(target, SLICE_EVENTS) {
            self.clock = if self.world.is_done() {
                self.world.now().max(self.clock)
            } else {
                target
            };
        } else {
            self.clock = self.world.now().max(self.clock);
            self.max_behind = self.max_behind.max(target - self.clock);
        }
    }

    /// Sends what happened since the last call to the event stream.
    pub fn publish(&mut self) {
        let new: Vec<Happening> =
            std::mem::take(&mut *self.feed.lock().unwrap_or_else(PoisonError::into_inner));
        for h in new {
            self.emit(h);
        }
    }

    fn emit(&self, h: Happening) {
        if let Ok(json) = serde_json::to_string(&h) {
            // No subscriber is fine.
            let _ = self.events.send(Arc::from(json));
        }
    }

    /// Applies `action` now (at [`Session::clock`]), records it, and returns
    /// what it made happen at once.
    pub fn apply(&mut self, action: LiveAction) -> Result<Vec<Happening>, LiveError> {
        self.publish();
        let what = action.describe();
        let record = action.clone();
        let at = self.world.inject(self.clock, action)?;
        self.clock = at;
        self.inputs.push(InputRecord::input(at, record));
        let happened: Vec<Happening> = self
            .feed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        self.emit(Happening::Input {
            t: at.as_secs_f64(),
            what,
        });
        self.publish();
        Ok(happened)
    }

    /// Steps while paused: one event, or until the next block is mined.
    /// Returns the number of events processed.
    pub fn step(&mut self, until_block: bool) -> u64 {
        let before = self.world.events();
        if until_block {
            let mined = self.world.metrics().mined_blocks().count();
            while !self.world.is_done()
                && self.world.metrics().mined_blocks().count() == mined
                && self.world.events() - before < 10_000_000
            {
                self.world.step(1);
            }
        } else {
            self.world.step(1);
        }
        self.clock = self.world.now().max(self.clock);
        self.rebase();
        self.publish();
        self.world.events() - before
    }

    /// Emits a lab notice (pause, resume, speed).
    pub fn notice(&self, what: String) {
        self.emit(Happening::Lab {
            t: self.clock.as_secs_f64(),
            what,
        });
    }

    /// The address of scenario wallet or student `addr`, if the lab signs
    /// for it (scenario wallets only).
    pub fn wallet_index(&self, addr: &Address) -> Option<usize> {
        self.world
            .wallets()
            .iter()
            .position(|w| w.pubkey_hash == addr.pubkey_hash)
    }

    /// The best block of node `node` (its tip), if it is a full node.
    pub fn tip_of(&self, node: u32) -> Option<(BlockHash, u32)> {
        self.world
            .full_node(node)
            .map(|f| (f.chain.tip(), f.chain.height()))
    }
}
