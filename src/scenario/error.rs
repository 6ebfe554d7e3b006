//! [`ScenarioError`]: every way a scenario can be rejected, each displayed as
//! ONE line that says where (file, line, column, or the `--set` key), which
//! field (a path like `network.regions[2].share`), and what is wrong.
//!
//! Formats:
//! - `<file>:<line>:<column>: <field path>: <message>` when the position is
//!   known;
//! - `<file>: <field path>: <message>` when it is not (e.g. a default value);
//! - `--set <key>: <message>` when the value came from a `--set` override;
//! - semantic errors end with `, allowed: <range>`.

use std::fmt;

/// Where a problem is: a place in the scenario file, or a `--set` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In the file (or text) named `source`, at a 1-based line and column
    /// when known.
    File {
        /// File name as given by the caller.
        source: String,
        /// 1-based `(line, column)`, when known.
        position: Option<(usize, usize)>,
    },
    /// In the value of a `--set key=value` override.
    Set {
        /// The override's key path.
        key: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                source,
                position: Some((line, column)),
            } => write!(f, "{source}:{line}:{column}"),
            Origin::File {
                source,
                position: None,
            } => f.write_str(source),
            Origin::Set { key } => write!(f, "--set {}", printable(key)),
        }
    }
}

/// Why a scenario was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file could not be read.
    #[error("{source_name}: cannot read scenario: {message}")]
    Read {
        /// The path as given.
        source_name: String,
        /// The operating system's reason.
        message: String,
    },
    /// The text is not valid YAML (or has duplicate keys).
    #[error("{origin}: yaml syntax error: {}", printable(message))]
    Syntax {
        /// Where the parser stopped.
        origin: Origin,
        /// The parser's message.
        message: String,
    },
    /// A `--set key=value` override is malformed or cannot be applied.
    #[error("--set {}: {}", printable(key), printable(message))]
    Override {
        /// The key path (or the whole argument when it has no `=`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A key that is not part of the scenario schema (or an unknown `kind`).
    #[error("{origin}: {}: {}", printable(path), printable(message))]
    UnknownField {
        /// Where the key is.
        origin: Origin,
        /// Field path of the unknown key.
        path: String,
        /// Names the key, suggests the nearest known one, lists the known ones.
        message: String,
    },
    /// A value of the wrong type or shape (serde's message).
    #[error("{origin}: {}{}", path_prefix(path), printable(message))]
    Type {
        /// Where the value is.
        origin: Origin,
        /// Field path of the value (empty for the top level).
        path: String,
        /// What was expected.
        message: String,
    },
    /// A well-typed value outside its allowed range, or inconsistent with
    /// another field.
    #[error(
        "{origin}: {}: {}, allowed: {allowed}",
        printable(path),
        printable(message)
    )]
    Invalid {
        /// Where the value is.
        origin: Origin,
        /// Field path of the value.
        path: String,
        /// What is wrong.
        message: String,
        /// The allowed range or form.
        allowed: String,
    },
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{}: ", printable(path))
    }
}

impl ScenarioError {
    /// The field path the error is about, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ScenarioError::UnknownField { path, .. }
            | ScenarioError::Type { path, .. }
            | ScenarioError::Invalid { path, .. } => Some(path),
            ScenarioError::Override { key, .. } => Some(key),
            ScenarioError::Read { .. } | ScenarioError::Syntax { .. } => None,
        }
    }

    /// The `--set` key the error came from: the key of a malformed or
    /// inapplicable override, or of the override whose value holds the
    /// problem. `None` for errors located in the file.
    pub fn set_key(&self) -> Option<&str> {
        match self {
            ScenarioError::Override { key, .. } => Some(key),
            ScenarioError::UnknownField { origin, .. }
            | ScenarioError::Type { origin, .. }
            | ScenarioError::Invalid { origin, .. } => match origin {
                Origin::Set { key } => Some(key),
                Origin::File { .. } => None,
            },
            ScenarioError::Read { .. } | ScenarioError::Syntax { .. } => None,
        }
    }

    /// Whether the error is about a field at a place in the scenario file
    /// (an unknown key, a wrong type, a value out of range); a read or
    /// syntax error is not.
    pub fn is_field_in_file(&self) -> bool {
        match self {
            ScenarioError::UnknownField { origin, .. }
            | ScenarioError::Type { origin, .. }
            | ScenarioError::Invalid { origin, .. } => matches!(origin, Origin::File { .. }),
            _ => false,
        }
    }

    /// The one line without its origin (the part after `--set KEY: ` or
    /// `FILE:LINE:COLUMN: `), and without the field path where that path
    /// only repeats the `--set` key; a field inside an overridden value
    /// (`timeline[1].offline` under `--set timeline=…`) stays named.
    pub fn detail(&self) -> String {
        let field = |path: &str| {
            if self.set_key() == Some(path) {
                String::new()
            } else {
                format!("{}: ", printable(path))
            }
        };
        match self {
            ScenarioError::Read { message, .. } => format!("cannot read scenario: {message}"),
            ScenarioError::Syntax { message, .. } => {
                format!("yaml syntax error: {}", printable(message))
            }
            ScenarioError::Override { message, .. } => printable(message),
            ScenarioError::UnknownField { path, message, .. } => {
                format!("{}{}", field(path), printable(message))
            }
            ScenarioError::Type { path, message, .. } if path.is_empty() => printable(message),
            ScenarioError::Type { path, message, .. } => {
                format!("{}{}", field(path), printable(message))
            }
            ScenarioError::Invalid {
                path,
                message,
                allowed,
                ..
            } => format!("{}{}, allowed: {allowed}", field(path), printable(message)),
        }
    }

    /// The 1-based line in the scenario file, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Syntax { origin, .. }
            | ScenarioError::UnknownField { origin, .. }
            | ScenarioError::Type { origin, .. }
            | ScenarioError::Invalid { origin, .. } => match origin {
                Origin::File {
                    position: Some((line, _)),
                    ..
                } => Some(*line),
                _ => None,
            },
            ScenarioError::Read { .. } | ScenarioError::Override { .. } => None,
        }
    }
}

/// A `--set` argument as typed, with control characters (a newline in the
/// key, say) escaped so the error stays one line.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Collapses a message to one line (serde and libyaml messages rarely, but
/// possibly, contain newlines).
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_one_line_with_position() {
        let e = ScenarioError::Invalid {
            origin: Origin::File {
                source: "a.yaml".into(),
                position: Some((5, 3)),
            },
            path: "consensus.difficulty_bits".into(),
            message: "300 is out of range".into(),
            allowed: "1..=255".into(),
        };
        assert_eq!(
            e.to_string(),
            "a.yaml:5:3: consensus.difficulty_bits: 300 is out of range, allowed: 1..=255"
        );
        assert_eq!(e.line(), Some(5));
        let e = ScenarioError::Type {
            origin: Origin::Set {
                key: "nodes.count".into(),
            },
            path: String::new(),
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "--set nodes.count: bad");
        assert_eq!(e.line(), None);
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }

    #[test]
    fn detail_drops_the_origin_and_a_path_that_repeats_the_set_key() {
        let set = |key: &str| Origin::Set { key: key.into() };
        let file = Origin::File {
            source: "a.yaml".into(),
            position: Some((2, 1)),
        };
        let invalid = |origin: Origin, path: &str| ScenarioError::Invalid {
            origin,
            path: path.into(),
            message: "0 is too small".into(),
            allowed: "1..=255".into(),
        };
        let e = invalid(set("nodes.count"), "nodes.count");
        assert_eq!(e.set_key(), Some("nodes.count"));
        assert!(!e.is_field_in_file());
        assert_eq!(e.detail(), "0 is too small, allowed: 1..=255");
        // A field inside the overridden value stays named.
        let e = invalid(set("timeline"), "timeline[1].at");
        assert_eq!(
            e.detail(),
            "timeline[1].at: 0 is too small, allowed: 1..=255"
        );
        assert_eq!(e.to_string(), format!("--set timeline: {}", e.detail()));
        let e = invalid(file.clone(), "nodes.count");
        assert_eq!(e.set_key(), None);
        assert!(e.is_field_in_file());
        assert_eq!(e.to_string(), format!("a.yaml:2:1: {}", e.detail()));
        let e = ScenarioError::Type {
            origin: file,
            path: String::new(),
            message: "expected a mapping".into(),
        };
        assert_eq!(e.to_string(), format!("a.yaml:2:1: {}", e.detail()));
        let e = ScenarioError::Override {
            key: "nodes.count".into(),
            message: "value is not valid YAML".into(),
        };
        assert_eq!(e.set_key(), Some("nodes.count"));
        assert_eq!(e.detail(), "value is not valid YAML");
        let e = ScenarioError::Syntax {
            origin: Origin::File {
                source: "a.yaml".into(),
                position: None,
            },
            message: "did not find expected key".into(),
        };
        assert!(!e.is_field_in_file());
        assert_eq!(e.to_string(), format!("a.yaml: {}", e.detail()));
    }

    /// Found by the `set_override` fuzz target: a `--set` argument with a
    /// newline and no `=` gave a two-line error.
    #[test]
    fn set_arguments_with_control_characters_stay_one_line() {
        let e = crate::scenario::Scenario::from_yaml_str(
            "name: a\nstop: {height: 1}\nnodes: {count: 1}\n",
            "a.yaml",
            &["ns\n".to_string(), "x".into()],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "--set ns\\n: expected `key.path=value`, e.g. `--set nodes.count=10`"
        );
        // The second finding: newlines inside the key part of `k=v`.
        let arg = "\n\noffeind:\n\noffeind: 2s er-0xsO= -0}]".to_string();
        let e = crate::scenario::Scenario::from_yaml_str(
            "name: a\nstop: {height: 1}\nnodes: {count: 1}\n",
            "a.yaml",
            &[arg],
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains('\n'), "{e}");
    }
}
