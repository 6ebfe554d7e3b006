//! `inputs.jsonl`: every input of a live session with the simulated time it
//! was applied at, one JSON object per line, so `sim replay` re-applies
//! them and reproduces the session.
//!
//! A line is `{"at_ns": N, "input": {"action": …, …}}` (a
//! [`LiveAction`]) or, last, `{"at_ns": N, "stop": true}` when the session
//! was stopped before the scenario's own stop condition. Times are
//! nanoseconds of simulated time, never decreasing. The file is listed in
//! the manifest's `files` like every output file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::sim::SimTime;
use crate::world::LiveAction;

/// The file's name in the output directory.
pub const INPUTS_JSONL: &str = "inputs.jsonl";

/// Largest `inputs.jsonl` read (256 MiB).
pub const MAX_INPUTS_BYTES: u64 = 256 * 1024 * 1024;

/// One line of `inputs.jsonl`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct InputRecord {
    /// Simulated time it was applied at, nanoseconds.
    pub at_ns: u64,
    /// The input (absent on the stop line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<LiveAction>,
    /// The session was stopped here (the last line only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop: bool,
}

impl InputRecord {
    /// An input applied at `at`.
    pub fn input(at: SimTime, action: LiveAction) -> InputRecord {
        InputRecord {
            at_ns: at.as_nanos(),
            input: Some(action),
            stop: false,
        }
    }

    /// The session stopped at `at`.
    pub fn stop(at: SimTime) -> InputRecord {
        InputRecord {
            at_ns: at.as_nanos(),
            input: None,
            stop: true,
        }
    }

    /// The time as a [`SimTime`].
    pub fn at(&self) -> SimTime {
        SimTime::from_nanos(self.at_ns)
    }
}

/// Why an inputs file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// The file cannot be read, is too large or is not UTF-8.
    #[error("{path}: cannot read: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A line is not a valid record.
    #[error("{path}:{line}: {message}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The file's text for `records`.
pub fn to_jsonl(records: &[InputRecord]) -> String {
    let mut s = String::new();
    for r in records {
        s.push_str(&serde_json::to_string(r).expect("an input record serializes"));
        s.push('\n');
    }
    s
}

/// Parses the file's text (`path` names it in errors): every line a
/// record, times never decreasing, a stop only last, nothing without an
/// input or a stop.
pub fn parse(text: &str, path: &str) -> Result<Vec<InputRecord>, InputsError> {
    let mut out: Vec<InputRecord> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |message: String| InputsError::Line {
            path: path.to_string(),
            line: i + 1,
            message,
        };
        if line.trim().is_empty() {
            return Err(bad("empty line".into()));
        }
        let r: InputRecord = serde_json::from_str(line)
            .map_err(|e| bad(crate::scenario::error::one_line(&e.to_string())))?;
        if r.stop == r.input.is_some() {
            return Err(bad(
                "a line holds either an \"input\" or \"stop\": true".into()
            ));
        }
        if let Some(prev) = out.last() {
            if prev.stop {
                return Err(bad("nothing may follow the stop line".into()));
            }
            if r.at_ns < prev.at_ns {
                return Err(bad(format!(
                    "at_ns {} is before the previous line's {}",
                    r.at_ns, prev.at_ns
                )));
            }
        }
        out.push(r);
    }
    Ok(out)
}

/// Reads and parses `path`.
pub fn read(path: &Path) -> Result<Vec<InputRecord>, InputsError> {
    let name = path.display().to_string();
    let text = crate::scenario::text::read_limited(path, MAX_INPUTS_BYTES).map_err(|message| {
        InputsError::Read {
            path: name.clone(),
            message,
        }
    })?;
    parse(&text, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_bad_lines() {
        let recs = vec![
            InputRecord::input(SimTime::from_nanos(5), LiveAction::Mine { node: 1 }),
            InputRecord::input(
                SimTime::from_nanos(9),
                LiveAction::Partition {
                    groups: vec![vec![0], vec![1, 2]],
                },
            ),
            InputRecord::stop(SimTime::from_nanos(9)),
        ];
        let text = to_jsonl(&recs);
        assert!(text.starts_with("{\"at_ns\":5,\"input\":{\"action\":\"mine\",\"node\":1}}\n"));
        let back = parse(&text, "i.jsonl").unwrap();
        assert_eq!(to_jsonl(&back), text);
        let e = parse("{\"at_ns\":5,\"input\":{\"action\":\"mine\",\"node\":1}}\n{\"at_ns\":4,\"stop\":true}\n", "i.jsonl")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "i.jsonl:2: at_ns 4 is before the previous line's 5");
        let e = parse("{\"at_ns\":5,\"input\":{\"action\":\"fly\"}}", "i.jsonl")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("i.jsonl:1: unknown variant `fly`"), "{e}");
        let e = parse("{\"at_ns\":5}", "i.jsonl").unwrap_err().to_string();
        assert!(e.contains("either"), "{e}");
    }
}
