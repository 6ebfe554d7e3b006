//! Lab control (JSON under `/lab/…`) and the live event stream.
//!
//! Pacing controls (`pause`, `resume`, `speed`, `step`) change only how
//! fast the run goes against the wall clock, never what happens, and are
//! not recorded. Network controls (`partition`, `heal`, `offline`,
//! `online`, `hashrate`) are [`LiveAction`]s applied at the session's
//! current simulated time and recorded in `inputs.jsonl`, like the node
//! API's inputs. `GET /lab/events` streams every [`super::session::Happening`]
//! as Server-Sent Events (`data: {json}`), which the live page draws from.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::node_api::live_error;
use super::session::{Lab, LabInfo, Session};
use crate::serve::api::ApiError;
use crate::world::LiveAction;

/// The lab's routes (under `/lab`).
pub fn router(lab: Lab) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/info", get(info))
        .route("/events", get(events))
        .route("/pause", post(pause))
        .route("/resume", post(resume))
        .route("/speed", post(speed))
        .route("/step", post(step))
        .route("/partition", post(partition))
        .route("/heal", post(heal))
        .route("/offline", post(offline))
        .route("/online", post(online))
        .route("/hashrate", post(hashrate))
        .route("/stop", post(stop))
        .with_state(lab)
}

/// A node as the lab shows it.
#[derive(Serialize, Debug)]
pub struct NodeStatus {
    /// Node id.
    pub id: u32,
    /// `full`, `relay`, `light`, … (the scenario's role).
    pub role: String,
    /// Online.
    pub online: bool,
    /// Partition group (0: not partitioned).
    pub group: u32,
    /// Hashes per second now.
    pub hashrate_hps: f64,
    /// Tip height (full nodes).
    pub height: Option<u32>,
    /// Tip hash (full nodes).
    pub tip: Option<String>,
    /// Mempool size (full nodes).
    pub mempool: Option<u32>,
    /// Peers.
    pub peers: Vec<u32>,
    /// This node's API (if it has a port of its own).
    pub url: Option<String>,
}

/// `GET /lab/status`.
#[derive(Serialize, Debug)]
pub struct Status {
    /// Scenario name.
    pub name: String,
    /// Current simulated time, seconds.
    pub clock_s: f64,
    /// Simulated seconds per wall second.
    pub speed: f64,
    /// Paused.
    pub paused: bool,
    /// The run has reached its end.
    pub ended: bool,
    /// Events processed.
    pub events: u64,
    /// Inputs recorded.
    pub inputs: u32,
    /// Highest block mined.
    pub best_height: u32,
    /// Furthest behind the paced target so far, simulated seconds.
    pub behind_s: f64,
    /// Every node.
    pub nodes: Vec<NodeStatus>,
    /// Every block mined so far, in mining order (the fork tree).
    pub blocks: Vec<TreeBlock>,
}

/// A mined block in the fork tree.
#[derive(Serialize, Debug)]
pub struct TreeBlock {
    /// Hash.
    pub hash: String,
    /// Parent.
    pub parent: String,
    /// Height.
    pub height: u32,
    /// Miner (-1 for genesis).
    pub miner: i64,
}

/// The session's status.
pub fn status_of(s: &Session) -> Status {
    let w = &s.world;
    let nodes = (0..w.node_count() as u32)
        .map(|i| {
            let spec = w.node_spec(i).expect("i < node_count");
            let full = w.full_node(i);
            let mut peers = w.peers_of(i).to_vec();
            peers.sort_unstable();
            NodeStatus {
                id: i,
                role: spec.role.name().to_string(),
                online: w.is_online(i),
                group: w.partition_group(i),
                hashrate_hps: spec.hashrate_hps,
                height: full.map(|f| f.chain.height()),
                tip: full.map(|f| f.chain.tip().to_string()),
                mempool: full.map(|f| f.mempool.len() as u32),
                peers,
                url: s.info.node_urls.get(i as usize).cloned().flatten(),
            }
        })
        .collect();
    let blocks = w
        .metrics()
        .mined_blocks()
        .map(|b| TreeBlock {
            hash: b.row.hash.clone(),
            parent: b.row.parent.clone(),
            height: b.row.height,
            miner: b.row.miner,
        })
        .collect();
    Status {
        name: s.info.name.clone(),
        clock_s: s.clock.as_secs_f64(),
        speed: s.speed,
        paused: s.paused,
        ended: w.is_done(),
        events: w.events(),
        inputs: s.inputs.len() as u32,
        best_height: w.best_mined_height(),
        behind_s: s.max_behind.as_secs_f64(),
        nodes,
        blocks,
    }
}

async fn status(State(lab): State<Lab>) -> Result<Json<Status>, ApiError> {
    Ok(Json(lab.call(|s| status_of(s)).await?))
}

async fn info(State(lab): State<Lab>) -> Json<LabInfo> {
    Json((*lab.info).clone())
}

async fn events(
    State(lab): State<Lab>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = lab.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(json) => Some((Ok(Event::default().data(&*json)), rx)),
            // A slow reader misses events; it can re-read /lab/status.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                let note = format!("{{\"kind\":\"lagged\",\"missed\":{n}}}");
                Some((Ok(Event::default().data(note)), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
}

/// The answer to a control.
#[derive(Serialize, Debug)]
pub struct ControlAnswer {
    /// What was done.
    pub message: String,
    /// Simulated seconds now.
    pub clock_s: f64,
}

fn answer(s: &Session, message: String) -> Json<ControlAnswer> {
    Json(ControlAnswer {
        message,
        clock_s: s.clock.as_secs_f64(),
    })
}

async fn pause(State(lab): State<Lab>) -> Result<Json<ControlAnswer>, ApiError> {
    Ok(lab
        .call(|s| {
            s.paused = true;
            s.notice("paused".into());
            answer(s, "paused".into())
        })
        .await?)
}

async fn resume(State(lab): State<Lab>) -> Result<Json<ControlAnswer>, ApiError> {
    Ok(lab
        .call(|s| {
            s.paused = false;
            s.rebase();
            s.notice("resumed".into());
            answer(s, "resumed".into())
        })
        .await?)
}

/// `POST /lab/speed`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SpeedBody {
    /// Simulated seconds per wall second (more than 0, at most 1,000,000).
    pub speed: f64,
}

async fn speed(
    State(lab): State<Lab>,
    body: Result<Json<SpeedBody>, JsonRejection>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let Json(b) = body?;
    if !(b.speed > 0.0 && b.speed <= 1e6) {
        return Err(ApiError::bad(format!(
            "speed: {} is not between 0 (excluded) and 1000000",
            b.speed
        )));
    }
    Ok(lab
        .call(move |s| {
            s.speed = b.speed;
            s.rebase();
            s.notice(format!("speed {}x", b.speed));
            answer(s, format!("speed {}x", b.speed))
        })
        .await?)
}

/// `POST /lab/step`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// `event` (one event, the default) or `block` (until a block is mined).
    #[serde(default)]
    pub until: Option<String>,
}

async fn step(
    State(lab): State<Lab>,
    body: Option<Json<StepBody>>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let until = body.and_then(|b| b.0.until);
    let block = match until.as_deref() {
        None | Some("event") => false,
        Some("block") => true,
        Some(x) => {
            return Err(ApiError::bad(format!(
                "until: {x:?} is neither \"event\" nor \"block\""
            )))
        }
    };
    Ok(lab
        .call(move |s| {
            s.paused = true;
            let n = s.step(block);
            answer(
                s,
                format!("stepped {n} event{}", if n == 1 { "" } else { "s" }),
            )
        })
        .await?)
}

/// `POST /lab/partition`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PartitionBody {
    /// Groups of node ids (unlisted nodes form one more group).
    pub groups: Vec<Vec<u32>>,
}

/// `POST /lab/offline` and `/lab/online`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NodesBody {
    /// Node ids.
    pub nodes: Vec<u32>,
}

/// `POST /lab/hashrate`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HashrateBody {
    /// Node id.
    pub node: u32,
    /// Hashes per second.
    pub hps: f64,
}

async fn act(lab: &Lab, action: LiveAction) -> Result<Json<ControlAnswer>, ApiError> {
    lab.call(move |s| {
        let what = action.describe();
        s.apply(action).map_err(live_error)?;
        Ok(answer(s, what))
    })
    .await?
}

async fn partition(
    State(lab): State<Lab>,
    body: Result<Json<PartitionBody>, JsonRejection>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let Json(b) = body?;
    act(&lab, LiveAction::Partition { groups: b.groups }).await
}

async fn heal(State(lab): State<Lab>) -> Result<Json<ControlAnswer>, ApiError> {
    act(&lab, LiveAction::Heal).await
}

async fn offline(
    State(lab): State<Lab>,
    body: Result<Json<NodesBody>, JsonRejection>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let Json(b) = body?;
    act(&lab, LiveAction::Offline { nodes: b.nodes }).await
}

async fn online(
    State(lab): State<Lab>,
    body: Result<Json<NodesBody>, JsonRejection>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let Json(b) = body?;
    act(&lab, LiveAction::Online { nodes: b.nodes }).await
}

async fn hashrate(
    State(lab): State<Lab>,
    body: Result<Json<HashrateBody>, JsonRejection>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let Json(b) = body?;
    act(
        &lab,
        LiveAction::SetHashrate {
            node: b.node,
            hps: b.hps,
        },
    )
    .await
}

async fn stop(State(lab): State<Lab>) -> Result<(StatusCode, Json<ControlAnswer>), ApiError> {
    let a = lab
        .call(|s| {
            s.stop = true;
            answer(s, "stopping: the output directory is being written".into())
        })
        .await?;
    Ok((StatusCode::ACCEPTED, a))
}
