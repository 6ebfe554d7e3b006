//! `scenarios/claims/claims.yaml` as the claims tests read it, and the
//! docs as a reader sees them. `tests/claims.rs` measures every claim;
//! `tests/docs_numbers.rs` finds numbers in the docs that no claim quotes.

use std::fs;
use std::path::PathBuf;

use serde::Deserialize;

/// The claims file, relative to the repository.
pub const CLAIMS: &str = "scenarios/claims/claims.yaml";

/// The whole claims file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub runs: Vec<RunSpec>,
    pub claims: Vec<Claim>,
}

/// A run the claims are about.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    pub id: String,
    pub scenario: String,
    #[serde(default)]
    pub set: Vec<String>,
    #[serde(default)]
    pub sweep: Option<SweepSpec>,
}

/// A run that is a sweep.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    pub param: Vec<String>,
    pub seeds: u32,
}

/// One number the docs quote.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// A run id, or `theory` for a closed form.
    pub run: String,
    pub metric: String,
    pub value: f64,
    #[serde(default)]
    pub tolerance: f64,
    /// How the docs write the value: a number with an optional `%` (the
    /// value is a fraction) and unit (` s`, ` ms`, ` blocks`, …).
    pub shown: String,
    /// `shown` = `value` × `scale` (e.g. 0.001 for a `_ms` metric shown in s).
    #[serde(default)]
    pub scale: Option<f64>,
    /// `seed`: the luck of this seed; `average`: a mean over many blocks,
    /// attempts or runs (another seed moves it only within its noise);
    /// `exact`: a closed form.
    pub kind: Kind,
    pub quoted: Vec<Quote>,
}

/// How far a claim's value holds (see [`Claim::kind`]).
#[derive(Deserialize, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Seed,
    Average,
    Exact,
}

/// A sentence of a file that quotes a claim.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    pub file: String,
    pub text: String,
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads and parses [`CLAIMS`].
pub fn load() -> Claims {
    let text = fs::read_to_string(repo().join(CLAIMS)).expect("scenarios/claims/claims.yaml");
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{CLAIMS}: {e}"))
}

/// Which comments of a YAML file a reader takes for its text.
#[derive(Clone, Copy, Debug)]
pub enum YamlComments {
    /// Every comment, wherever it stands.
    All,
    /// The opening comment block only (a scenario's story; comments beside
    /// keys explain settings, not outcomes).
    Opening,
}

/// Text as the reader sees it: a notebook's markdown cells, a YAML file's
/// comments (`yaml` says which), or the file; whitespace runs collapsed to
/// one space.
pub fn readable(file: &str, yaml: YamlComments) -> String {
    let path = repo().join(file);
    let raw = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let text = if file.ends_with(".ipynb") {
        let nb: serde_json::Value = serde_json::from_str(&raw).expect("a notebook is JSON");
        nb["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .filter(|c| c["cell_type"] == "markdown")
            .map(|c| match &c["source"] {
                serde_json::Value::Array(lines) => lines
                    .iter()
                    .map(|l| l.as_str().unwrap_or_default())
                    .collect::<String>(),
                v => v.as_str().unwrap_or_default().to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    } else if file.ends_with(".yaml") {
        match yaml {
            YamlComments::All => raw
                .lines()
                .filter_map(|l| l.split_once('#').map(|(_, c)| c))
                .collect::<Vec<_>>()
                .join("\n"),
            YamlComments::Opening => raw
                .lines()
                .map(str::trim)
                .take_while(|l| l.is_empty() || l.starts_with('#'))
                .filter_map(|l| l.strip_prefix('#'))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    } else {
        raw
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
