//! Scenarios: a YAML file → a validated [`Scenario`].
//!
//! ```yaml
//! name: tiny            # the output directory name
//! stop: { height: 20 }  # or time: 6h, events: 1000000
//! nodes: { count: 3 }   # 1000 H/s shared equally, full mesh, 100 ms links
//! ```
//! is a complete scenario: every other field has a documented default (see
//! [`schema`]). `sim validate FILE` prints [`Scenario::summary`].
//!
//! Loading happens in stages, so that every error is one line naming the
//! file, line, column and field path (see [`ScenarioError`]):
//!
//! 1. parse the text into a `serde_yaml::Value` (YAML syntax errors);
//! 2. apply `--set key.path=value` overrides to that value (`overrides.rs`:
//!    the value is parsed as YAML, missing maps are created);
//! 3. check every key against the known keys of its section, with a "did you
//!    mean" suggestion for typos (`known.rs`);
//! 4. deserialize into the [`schema`] structs (type errors);
//! 5. semantic checks and resolution of defaults ([`validate`]).
//!
//! Positions of errors found after stage 1 are recovered by re-reading the
//! original text down the error's field path (`locate.rs`); a value that
//! came from `--set` is reported as `--set <key>: …` instead.
//!
//! The resolved scenario (defaults filled in, timeline sorted) serializes
//! back to YAML/JSON for the run manifest, and re-loads to an equal value.

pub mod budget;
pub mod error;
mod known;
mod locate;
mod overrides;
mod reach;
mod resolve;
pub mod schema;
pub mod text;
pub mod validate;

use std::path::Path;

use serde_yaml::Value;

pub use error::{printable, Origin, ScenarioError};
pub use resolve::NodeSpec;
pub use schema::{
    Bandwidth, BlockRelay, Consensus, Hashrate, HashrateChange, Heal, Jitter, Latency, Mempool,
    Metrics, Network, NodeEntry, Nodes, OutboundDistribution, PaddingModel, Pow, Region, Role,
    Scenario, Stop, Switch, TimelineAction, TimelineEvent, Topology, Trickle, TxRelay, UplinkMode,
    ValidationCost, Watch, Workload,
};

use error::one_line;
use locate::{Context, FieldPath};
use overrides::Override;

impl Scenario {
    /// Parses, overrides and validates a scenario given as text.
    /// `source_name` names the text in errors (usually its file path);
    /// `overrides` are `key.path=value` strings from `--set`, applied in order.
    pub fn from_yaml_str(
        text: &str,
        source_name: &str,
        overrides: &[String],
    ) -> Result<Scenario, ScenarioError> {
        let sets = overrides
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = Context {
            text,
            source_name,
            overrides: sets
                .iter()
                .map(|o| (o.key.clone(), o.path.clone()))
                .collect(),
        };
        let mut value = parse_value(text, source_name)?;
        if !value.is_mapping() {
            return Err(ScenarioError::Type {
                origin: ctx.origin(&FieldPath::default(), false),
                path: String::new(),
                message: format!(
                    "a scenario is a mapping of sections (name, stop, nodes, …), found {}",
                    overrides::kind_of(&value)
                ),
            });
        }
        for set in &sets {
            set.apply(&mut value)?;
        }
        known::check(&mut value, &known::SCENARIO, &FieldPath::default(), &ctx)?;
        let mut scenario = deserialize(&value, &ctx)?;
        validate::validate(&mut scenario, &ctx)?;
        Ok(scenario)
    }

    /// Reads, overrides and validates a scenario file (errors name `path`).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let text = read_capped(path)?;
        Scenario::from_yaml_str(&text, &path.display().to_string(), overrides)
    }

    /// The scenario as YAML (for the run manifest and `sim validate`).
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("scenario types serialize to YAML")
    }
}

/// Reads a scenario file of at most [`text::MAX_SCENARIO_BYTES`] bytes of
/// UTF-8 (see [`text::read_limited`]).
pub fn read_capped(path: &Path) -> Result<String, ScenarioError> {
    text::read_limited(path, text::MAX_SCENARIO_BYTES).map_err(|message| ScenarioError::Read {
        source_name: path.display().to_string(),
        message,
    })
}

/// Stage 1: text → YAML value (an empty document is an empty mapping).
/// The nesting depth is bounded first, in linear time
/// ([`text::check_depth`]); a duplicate key is reported where it repeats.
fn parse_value(text: &str, source_name: &str) -> Result<Value, ScenarioError> {
    if text.len() as u64 > text::MAX_SCENARIO_BYTES {
        return Err(ScenarioError::Read {
            source_name: source_name.to_string(),
            message: format!(
                "larger than {} bytes, the most a scenario may have",
                text::MAX_SCENARIO_BYTES
            ),
        });
    }
    if let Err(position) = text::check_depth(text) {
        return Err(ScenarioError::Syntax {
            origin: Origin::File {
                source: source_name.to_string(),
                position: Some(position),
            },
            message: format!(
                "nested deeper than {} levels (a scenario needs about 6)",
                text::MAX_DEPTH
            ),
        });
    }
    let syntax = |e: serde_yaml::Error| {
        let position = e.location().map(|l| (l.line(), l.column()));
        let (path, message) = split_serde_message(&e);
        if !path.0.is_empty() {
            // Not a syntax error but a value serde_yaml cannot represent
            // (e.g. an integer beyond 64 bits).
            return ScenarioError::Type {
                origin: Origin::File {
                    source: source_name.to_string(),
                    position,
                },
                path: path.to_string(),
                message,
            };
        }
        let mut message = one_line(&e.to_string());
        if let Some((line, column)) = position {
            // The position is already in front; do not repeat it.
            message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
        }
        ScenarioError::Syntax {
            origin: Origin::File {
                source: source_name.to_string(),
                position,
            },
            message,
        }
    };
    let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
        if e.to_string().contains("duplicate entry") {
            if let Some((position, key)) = text::duplicate_key(text) {
                return ScenarioError::Syntax {
                    origin: Origin::File {
                        source: source_name.to_string(),
                        position: Some(position),
                    },
                    message: format!(
                        "duplicate key `{key}` (it is already set above in the same mapping)"
                    ),
                };
            }
        }
        syntax(e)
    })?;
    value.apply_merge().map_err(syntax)?;
    if value.is_null() {
        value = Value::Mapping(Default::default());
    }
    Ok(value)
}

/// Stage 4: value → structs. The value is written back to YAML text and read
/// with `serde_yaml::from_str`, whose errors carry a field path (it does not
/// track one when deserializing from a `Value`); the path is then refined
/// (see `known::type_error`) and located in the original text.
fn deserialize(value: &Value, ctx: &Context<'_>) -> Result<Scenario, ScenarioError> {
    let text = serde_yaml::to_string(value).map_err(|e| ScenarioError::Type {
        origin: ctx.origin(&FieldPath::default(), false),
        path: String::new(),
        message: one_line(&e.to_string()),
    })?;
    serde_yaml::from_str::<Scenario>(&text).map_err(|e| {
        let (path, message) = split_serde_message(&e);
        let here = known::value_at(value, &path).unwrap_or(value);
        known::type_error(here, &path, &message, ctx)
    })
}

/// Splits serde_yaml's `"<path>: <message> at line L column C"` into the path
/// and the bare message. serde_yaml prints the path only when it is not the
/// root, and a path never contains spaces while every message does.
fn split_serde_message(e: &serde_yaml::Error) -> (FieldPath, String) {
    let mut text = one_line(&e.to_string());
    if let Some(l) = e.location() {
        let suffix = format!(" at line {} column {}", l.line(), l.column());
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_string();
        }
    }
    if let Some((head, rest)) = text.split_once(": ") {
        if !head.contains(' ') {
            if let Some(path) = FieldPath::parse(head) {
                return (path, rest.to_string());
            }
        }
    }
    (FieldPath::default(), text)
}

#[cfg(test)]
mod tests;
