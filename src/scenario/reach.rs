//! Whether a run can end: checks that refuse a scenario whose stop could
//! never come, or whose end the world could not report.
//!
//! - With only `stop.height`, the expected time to that height at the
//!   initial difficulty must fit in [`MAX_EXPECTED_SIM_TIME`] (a hashrate of
//!   `1e-300` H/s, or `difficulty_bits: 255` at 1 H/s, would otherwise run
//!   until simulated time overflows, sampling balances all the way).
//! - With only `stop.height`, some hashrate must be online after the last
//!   timeline event: a timeline that takes every miner offline or sets every
//!   hashrate to 0 leaves a stop that may never come.
//! - At least one full node must be online when the timeline ends: the run's
//!   main chain is read from an online full node.
//!
//! The timeline is replayed in time order (file order among equal times), so
//! the event named in an error is the one that took the last node offline
//! (or the last hashrate away) for good.

use super::error::ScenarioError;
use super::schema::{Role, Scenario};
use crate::sim::RngStreams;

/// The longest expected simulated time to `stop.height` accepted when no
/// `stop.time` or `stop.events` bounds the run: 100 years (simulated time is
/// counted in nanoseconds in 64 bits, so it ends after ~584 years).
pub const MAX_EXPECTED_SIM_TIME_S: f64 = 100.0 * 365.25 * 86_400.0;

/// [`MAX_EXPECTED_SIM_TIME_S`] as words for messages.
const MAX_EXPECTED_SIM_TIME: &str = "100 years";

/// `bad(path, message, allowed)` builds the error naming `path`.
type Bad<'a> = &'a dyn Fn(&str, &str, &str) -> ScenarioError;

/// Runs the checks above on a scenario that passed every other check.
pub(crate) fn check(s: &Scenario, bad: Bad<'_>) -> Result<(), ScenarioError> {
    let height_only = s.stop.time.is_none() && s.stop.events.is_none();
    if let (true, Some(height)) = (height_only, s.stop.height) {
        let interval = s.expected_hashes_per_block() / s.total_hashrate();
        let expected = interval * height as f64;
        if expected.is_nan() || expected > MAX_EXPECTED_SIM_TIME_S {
            return Err(bad(
                "stop.height",
                &format!(
                    "height {height} would take ~{} of simulated time (expected block interval {} at {:.3e} H/s and {:.3e} hashes per block), so the run would never end",
                    years(expected),
                    seconds(interval),
                    s.total_hashrate(),
                    s.expected_hashes_per_block()
                ),
                &format!(
                    "an expected time to the stop under {MAX_EXPECTED_SIM_TIME}: more hashrate, a lower difficulty, or a stop.time"
                ),
            ));
        }
    }
    timeline(s, height_only, bad)
}

fn timeline(s: &Scenario, height_only: bool, bad: Bad<'_>) -> Result<(), ScenarioError> {
    if s.timeline.is_empty() {
        return Ok(());
    }
    let specs = s.node_specs(&mut RngStreams::new(s.seed).stream("nodes", 0));
    let mut hps: Vec<f64> = specs.iter().map(|n| n.hashrate_hps).collect();
    let full: Vec<bool> = specs.iter().map(|n| n.role != Role::Light).collect();
    let mut online = vec![true; specs.len()];
    let mut order: Vec<usize> = (0..s.timeline.len()).collect();
    order.sort_by_key(|&i| s.timeline[i].at);
    // The event after which no full node (no hashrate) was online, while
    // that lasts.
    let mut dark: Option<usize> = None;
    let mut no_hashrate: Option<usize> = None;
    for i in order {
        let e = &s.timeline[i];
        if let Some(ids) = &e.offline {
            for &id in ids {
                online[id as usize] = false;
            }
        }
        if let Some(ids) = &e.online {
            for &id in ids {
                online[id as usize] = true;
            }
        }
        if let Some(h) = &e.hashrate {
            hps[h.node as usize] = h.hps;
        }
        let any_full = (0..specs.len()).any(|n| full[n] && online[n]);
        dark = if any_full { None } else { dark.or(Some(i)) };
        let any_hash = (0..specs.len()).any(|n| online[n] && hps[n] > 0.0);
        no_hashrate = if any_hash {
            None
        } else {
            no_hashrate.or(Some(i))
        };
    }
    if let Some(i) = dark {
        return Err(bad(
            &action_path(s, i),
            "takes the last online full node offline and none comes back, so no full node could report the run's chain at the end",
            "at least one full node online at the end of the timeline",
        ));
    }
    if let (true, Some(i), Some(height)) = (height_only, no_hashrate, s.stop.height) {
        return Err(bad(
            &action_path(s, i),
            &format!(
                "leaves no hashrate online for good, so stop.height {height} may never be reached"
            ),
            "some hashrate online after the last timeline event, or a stop.time or stop.events",
        ));
    }
    Ok(())
}

/// `timeline[i].<action>` for event `i` (validated: exactly one action).
fn action_path(s: &Scenario, i: usize) -> String {
    let e = &s.timeline[i];
    match e.actions_set().first() {
        Some(&"hashrate") => format!("timeline[{i}].hashrate.hps"),
        Some(action) => format!("timeline[{i}].{action}"),
        None => format!("timeline[{i}]"),
    }
}

fn years(secs: f64) -> String {
    let y = secs / (365.25 * 86_400.0);
    if y.is_finite() {
        format!("{y:.3e} years")
    } else {
        "forever".to_string()
    }
}

fn seconds(secs: f64) -> String {
    if secs.is_finite() {
        format!("{secs:.3e} s")
    } else {
        "infinite".to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    fn load(extra: &str, sets: &[&str]) -> Result<Scenario, String> {
        let text = format!("name: r\nstop: {{ height: 5 }}\nnodes: {{ count: 3 }}\n{extra}");
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::from_yaml_str(&text, "r.yaml", &sets).map_err(|e| e.to_string())
    }

    #[test]
    fn unreachable_heights_are_refused() {
        let e = load("", &["nodes.hashrate={kind: equal, total_hps: 1e-300}"]).unwrap_err();
        assert!(e.contains("stop.height") && e.contains("never end"), "{e}");
        let e = load(
            "consensus: { difficulty_bits: 255 }\n",
            &["nodes.hashrate={kind: equal, total_hps: 1}"],
        )
        .unwrap_err();
        assert!(e.starts_with("r.yaml:2:"), "{e}");
        // A time stop bounds the run, so the same difficulty is fine.
        load("consensus: { difficulty_bits: 255 }\n", &["stop.time=1h"]).unwrap();
    }

    #[test]
    fn a_timeline_must_leave_a_full_node_and_hashrate() {
        let e = load(
            "timeline: [{ at: 1m, offline: [0, 1, 2] }]\n",
            &["stop={time: 5m}"],
        )
        .unwrap_err();
        assert!(
            e.contains("timeline[0].offline") && e.contains("last online full node"),
            "{e}"
        );
        // Coming back later is fine.
        load(
            "timeline: [{ at: 2m, online: [1] }, { at: 1m, offline: [0, 1, 2] }]\n",
            &["stop={time: 5m}"],
        )
        .unwrap();
        let e = load(
            "timeline:\n  - { at: 1m, hashrate: { node: 0, hps: 0 } }\n  - { at: 1m, offline: [1, 2] }\n",
            &[],
        )
        .unwrap_err();
        assert!(
            e.contains("timeline[1].offline") && e.contains("stop.height 5"),
            "{e}"
        );
        load(
            "timeline:\n  - { at: 1m, hashrate: { node: 0, hps: 0 } }\n  - { at: 1m, offline: [1, 2] }\n",
            &["stop.time=1h"],
        )
        .unwrap();
    }
}
