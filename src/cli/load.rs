//! Loading a scenario for `run`, `validate` and `sweep`, with the errors a
//! newcomer can act on.
//!
//! The library's [`ScenarioError`] says where and what; at the CLI edge this
//! file adds what only the command line knows:
//! - a missing file names the `scenarios/` directory and the nearest file
//!   name there;
//! - a bad `--set` / `--param` names the user's own `KEY=VALUE`, says what
//!   type is expected in words, and for an unknown key suggests the nearest
//!   full key path of the scenario (`difficulty_bits` →
//!   `consensus.difficulty_bits`);
//! - an error located in the file while overrides were given says so, since
//!   the override may be what made that line wrong.

use std::path::{Path, PathBuf};

use forklab::scenario::{printable, Scenario, ScenarioError};

use super::{CliError, ScenarioArgs};

/// Where the shipped scenarios live (relative to the repository root).
const SCENARIOS_DIR: &str = "scenarios";

/// Reads and validates `args.file` with its `--set` overrides plus `extra`
/// (e.g. `seed=N`); errors are [`CliError::input`] lines.
pub fn load(args: &ScenarioArgs, extra: &[String]) -> Result<Scenario, CliError> {
    check_exists(&args.file)?;
    let mut sets = args.sets.clone();
    sets.extend_from_slice(extra);
    Scenario::load(&args.file, &sets)
        .map_err(|e| CliError::input(explain(&e, &args.file, &sets, "--set")))
}

/// A missing scenario file: name the directory of shipped scenarios and the
/// nearest file name.
pub fn check_exists(file: &Path) -> Result<(), CliError> {
    if file.exists() {
        return Ok(());
    }
    let wanted = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(parent) = file.parent().filter(|p| p.is_dir()) {
        dirs.push(parent.to_path_buf());
    }
    dirs.push(PathBuf::from(SCENARIOS_DIR));
    let mut best: Option<(f64, PathBuf)> = None;
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        names.sort();
        for p in names {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let score = strsim::jaro_winkler(&wanted, &stem);
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, p));
            }
        }
    }
    let hint = match best {
        Some((score, p)) if score >= 0.7 => format!("did you mean {}?", p.display()),
        _ => {
            format!("the shipped scenarios are in {SCENARIOS_DIR}/ (see {SCENARIOS_DIR}/README.md)")
        }
    };
    Err(CliError::input(format!(
        "{}: no such scenario file; {hint}",
        file.display()
    )))
}

/// The `KEY=VALUE` argument among `sets` whose key is `key`.
fn argument<'a>(sets: &'a [String], key: &str) -> Option<&'a str> {
    sets.iter()
        .rev()
        .map(String::as_str)
        .find(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == key))
}

/// serde's type names in words a newcomer reads.
fn in_words(message: &str) -> String {
    let mut m = message.to_string();
    for (ty, words) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number of 0 or more"),
        ("expected usize", "expected a whole number of 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
    ] {
        if m.ends_with(ty) {
            m.truncate(m.len() - ty.len());
            m.push_str(words);
        }
    }
    m
}

/// Every full key path of a scenario value (mappings walked, list elements
/// numbered), e.g. `consensus.difficulty_bits`, `adversaries.0.share`.
fn key_paths(v: &serde_yaml::Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (k, child) in m {
                if let Some(k) = k.as_str() {
                    let path = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.push(path.clone());
                    key_paths(child, &path, out);
                }
            }
        }
        serde_yaml::Value::Sequence(seq) => {
            for (i, child) in seq.iter().enumerate() {
                key_paths(child, &format!("{prefix}.{i}"), out);
            }
        }
        _ => {}
    }
}

/// The full key of `file`'s resolved scenario nearest to `key` (same last
/// name first, then string similarity), if one is close.
fn nearest_key(file: &Path, key: &str) -> Option<String> {
    let scenario = Scenario::load(file, &[]).ok()?;
    let value = serde_yaml::to_value(&scenario).ok()?;
    let mut keys = Vec::new();
    key_paths(&value, "", &mut keys);
    let last = key.rsplit('.').next().unwrap_or(key);
    if let Some(k) = keys
        .iter()
        .find(|k| k.rsplit('.').next() == Some(last) && k.as_str() != key)
    {
        return Some(k.clone());
    }
    keys.into_iter()
        .map(|k| (strsim::jaro_winkler(key, &k), k))
        .filter(|(s, _)| *s >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// One line for a scenario error, in terms of what the user typed. `flag`
/// is how the user gave overrides (`--set`, or `--param` for a sweep).
pub fn explain(e: &ScenarioError, file: &Path, sets: &[String], flag: &str) -> String {
    let Some(key) = e.set_key() else {
        let text = e.to_string();
        let user_sets: Vec<&String> = sets.iter().filter(|s| !s.starts_with("seed=")).collect();
        if e.is_field_in_file() && !user_sets.is_empty() {
            let given: Vec<String> = user_sets
                .iter()
                .map(|s| format!("{flag} {}", printable(s)))
                .collect();
            return format!("{text} (with {})", given.join(", "));
        }
        return text;
    };
    let arg = argument(sets, key).unwrap_or(key);
    let rest = e.detail();
    let mut line = format!("{flag} {}: {}", printable(arg), in_words(&rest));
    if let ScenarioError::UnknownField { path, .. } = e {
        if !rest.contains("did you mean") {
            if let Some(k) = nearest_key(file, path) {
                line.push_str(&format!("; did you mean {k}?"));
            }
        } else if let Some(k) = nearest_key(file, path).filter(|k| k.contains('.')) {
            line.push_str(&format!(" (full key: {k})"));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_in_words() {
        assert_eq!(
            in_words("invalid type: string \"abc\", expected u32"),
            "invalid type: string \"abc\", expected a whole number from 0 to 4294967295"
        );
        assert_eq!(in_words("something else"), "something else");
    }

    #[test]
    fn finds_the_users_argument() {
        let sets = vec!["a.b=1".to_string(), "c = 2".to_string()];
        assert_eq!(argument(&sets, "a.b"), Some("a.b=1"));
        assert_eq!(argument(&sets, "c"), Some("c = 2"));
        assert_eq!(argument(&sets, "d"), None);
    }
}
