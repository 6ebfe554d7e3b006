//! Reading a run's `manifest.json` as hostile input, and telling an edited
//! record from a run that really diverged (the library half of `sim
//! replay`; the command itself re-runs the world and prints).
//!
//! [`parse_manifest`] reads at most [`MAX_MANIFEST_BYTES`], reports JSON
//! errors at their line and column in the manifest, and reads the recorded
//! scenario straight from its span of the manifest text (JSON is YAML), so a
//! scenario error names the manifest's own line, not a line of a converted
//! copy. A field of the wrong type is reported at that field's line.
//!
//! A manifest records the SHA-256 of every other file and of itself
//! ([`crate::world::output::manifest_sha256`]): [`Recorded::self_consistent`]
//! says whether the manifest is as `sim run` wrote it. Replay uses it to
//! tell "edited" (the record changed; exit 2) from "diverged" (the same
//! record now gives different events; exit 1).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::scenario::text::{line_column, read_limited};
use crate::scenario::{Scenario, ScenarioError};

/// Largest `manifest.json` accepted, bytes (64 MiB: a run of a billion
/// events records ~250,000 digest checkpoints, about 5 MB).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// Why a manifest cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file cannot be read, is too large or is not UTF-8.
    #[error("{source_name}: cannot read manifest: {message}")]
    Read {
        /// The path as given.
        source_name: String,
        /// Why.
        message: String,
    },
    /// The text is not a JSON object.
    #[error("{source_name}:{line}:{column}: not a run manifest: {message}")]
    Json {
        /// The path as given.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// A field is missing or has the wrong form.
    #[error("{origin}: {field}: {message}")]
    Field {
        /// `file:line:column` of the field (or just the file).
        origin: String,
        /// The field's name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The recorded scenario does not load.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
}

/// What a manifest recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The whole manifest.
    pub value: Value,
    /// The recorded scenario, loaded and validated.
    pub scenario: Scenario,
    /// `seed`.
    pub seed: u64,
    /// `events`.
    pub events: u64,
    /// `event_digest`.
    pub event_digest: String,
    /// `digest_checkpoints`.
    pub checkpoints: Vec<String>,
    /// `checkpoint_every`.
    pub checkpoint_every: u64,
    /// `forklab_version`.
    pub version: String,
    /// `files` (relative path → SHA-256), when recorded.
    pub files: Option<BTreeMap<String, String>>,
    /// `manifest_sha256`, when recorded.
    pub manifest_sha256: Option<String>,
    positions: BTreeMap<String, (usize, usize)>,
    source_name: String,
}

impl Recorded {
    /// `Some(true)` when the manifest's `manifest_sha256` matches its
    /// content, `Some(false)` when it was edited, `None` when the manifest
    /// predates the field.
    pub fn self_consistent(&self) -> Option<bool> {
        self.manifest_sha256
            .as_ref()
            .map(|h| *h == crate::world::output::manifest_sha256(&self.value))
    }

    /// `file:line:column` of a top-level field (just `file` if absent).
    pub fn origin(&self, field: &str) -> String {
        match self.positions.get(field) {
            Some((l, c)) => format!("{}:{l}:{c}", self.source_name),
            None => self.source_name.clone(),
        }
    }
}

/// Reads and parses `path` (see the module docs).
pub fn read_manifest(path: &Path) -> Result<Recorded, ManifestError> {
    let source_name = path.display().to_string();
    let text = read_limited(path, MAX_MANIFEST_BYTES).map_err(|message| ManifestError::Read {
        source_name: source_name.clone(),
        message,
    })?;
    parse_manifest(&text, &source_name)
}

/// Parses a manifest's text; `source_name` names it in errors.
pub fn parse_manifest(text: &str, source_name: &str) -> Result<Recorded, ManifestError> {
    let json_err = |e: serde_json::Error| ManifestError::Json {
        source_name: source_name.to_string(),
        line: e.line(),
        column: e.column(),
        message: crate::scenario::error::one_line(&strip_position(&e.to_string())),
    };
    let raw: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(json_err)?;
    let value: Value = serde_json::from_str(text).map_err(json_err)?;
    let offset = |r: &RawValue| r.get().as_ptr() as usize - text.as_ptr() as usize;
    let positions: BTreeMap<String, (usize, usize)> = raw
        .iter()
        .map(|(k, r)| (k.clone(), line_column(text.as_bytes(), offset(r))))
        .collect();
    let at = |field: &str| match positions.get(field) {
        Some((l, c)) => format!("{source_name}:{l}:{c}"),
        None => source_name.to_string(),
    };
    let bad = |field: &str, message: &str| ManifestError::Field {
        origin: at(field),
        field: field.to_string(),
        message: message.to_string(),
    };
    let get = |field: &str| value.get(field).ok_or_else(|| bad(field, "is missing"));
    let u64_field = |field: &str| {
        get(field)?
            .as_u64()
            .ok_or_else(|| bad(field, "is not a whole number"))
    };
    let str_field = |field: &str| {
        get(field)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(field, "is not a string"))
    };
    // The scenario, read from its own span of the text so that positions
    // are the manifest's: pad it to its line and column.
    let scenario_raw = raw
        .get("scenario")
        .ok_or_else(|| bad("scenario", "is missing"))?;
    if !get("scenario")?.is_object() {
        return Err(bad("scenario", "is not an object"));
    }
    let (line, column) = positions["scenario"];
    let padded = format!(
        "{}{}{}",
        "\n".repeat(line - 1),
        " ".repeat(column - 1),
        scenario_raw.get()
    );
    let scenario = Scenario::from_yaml_str(&padded, source_name, &[])?;
    let checkpoints = get("digest_checkpoints")?
        .as_array()
        .and_then(|a| {
            a.iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| bad("digest_checkpoints", "is not a list of strings"))?;
    let files = match value.get("files") {
        None => None,
        Some(v) => Some(
            v.as_object()
                .and_then(|m| {
                    m.iter()
                        .map(|(k, v)| v.as_str().map(|h| (k.clone(), h.to_string())))
                        .collect::<Option<BTreeMap<_, _>>>()
                })
                .ok_or_else(|| bad("files", "is not a map of file names to SHA-256 digests"))?,
        ),
    };
    let manifest_sha256 = match value.get("manifest_sha256") {
        None => None,
        Some(_) => Some(str_field("manifest_sha256")?),
    };
    Ok(Recorded {
        seed: u64_field("seed")?,
        events: u64_field("events")?,
        event_digest: str_field("event_digest")?,
        checkpoints,
        checkpoint_every: u64_field("checkpoint_every")?,
        version: str_field("forklab_version")?,
        files,
        manifest_sha256,
        scenario,
        value,
        positions,
        source_name: source_name.to_string(),
    })
}

/// serde_json ends messages with ` at line L column C`; the position is
/// printed in front instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The first place two JSON values differ, as a path (`scenario.nodes.count`,
/// `digest_checkpoints[3]`) with both values, or `None` when equal.
pub fn first_difference(recorded: &Value, replayed: &Value) -> Option<(String, String, String)> {
    fn walk(path: String, a: &Value, b: &Value) -> Option<(String, String, String)> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                keys.into_iter().find_map(|k| {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(a), Some(b)) => walk(p, a, b),
                        (a, b) => Some((p, show(a), show(b))),
                    }
                })
            }
            (Value::Array(x), Value::Array(y)) => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (a, b))| walk(format!("{path}[{i}]"), a, b))
                .or_else(|| {
                    (x.len() != y.len()).then(|| {
                        (
                            path.clone(),
                            format!("{} entries", x.len()),
                            format!("{} entries", y.len()),
                        )
                    })
                }),
            _ => (a != b).then(|| (path, show(Some(a)), show(Some(b)))),
        }
    }
    fn show(v: Option<&Value>) -> String {
        match v {
            None => "(absent)".into(),
            Some(v) => {
                let s = v.to_string();
                if s.chars().count() > 80 {
                    format!("{}…", s.chars().take(80).collect::<String>())
                } else {
                    s
                }
            }
        }
    }
    walk(String::new(), recorded, replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "{\n  \"forklab_version\": \"0.1.0\",\n  \"name\": \"t\",\n  \"seed\": 1,\n  \"scenario\": {\n    \"name\": \"t\",\n    \"seed\": 1,\n    \"stop\": {\"height\": 2},\n    \"nodes\": {\"count\": 2}\n  },\n  \"events\": 5,\n  \"event_digest\": \"ab\",\n  \"digest_checkpoints\": [],\n  \"checkpoint_every\": 4096\n}\n";

    #[test]
    fn parses_and_positions_errors_in_the_manifest() {
        let r = parse_manifest(M, "m.json").unwrap();
        assert_eq!(r.scenario.node_count(), 2);
        assert_eq!(r.self_consistent(), None);
        // A bad scenario value is reported at its line in the manifest.
        let bad = M.replace("\"count\": 2", "\"count\": 0");
        let e = parse_manifest(&bad, "m.json").unwrap_err().to_string();
        assert!(
            e.starts_with("m.json:9:24: nodes.count: 0 is out of range"),
            "{e}"
        );
        let bad = M.replace(
            "\"seed\": 1,\n  \"scenario\"",
            "\"seed\": \"x\",\n  \"scenario\"",
        );
        let e = parse_manifest(&bad, "m.json").unwrap_err().to_string();
        assert_eq!(e, "m.json:4:11: seed: is not a whole number");
        let e = parse_manifest("{\n  \"a\": [1,\n}", "m.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.json:3:1: not a run manifest"), "{e}");
    }

    #[test]
    fn names_the_first_difference() {
        let a: Value = serde_json::from_str(r#"{"a": {"b": [1, 2]}, "c": 1}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": {"b": [1, 3]}, "c": 2}"#).unwrap();
        assert_eq!(
            first_difference(&a, &b),
            Some(("a.b[1]".into(), "2".into(), "3".into()))
        );
        assert_eq!(first_difference(&a, &a), None);
    }
}
