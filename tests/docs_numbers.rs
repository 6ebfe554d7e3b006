//! No number about a shipped scenario reaches the docs without a claim.
//!
//! `tests/claims.rs` checks the numbers listed in
//! `scenarios/claims/claims.yaml`; this test finds the ones that are not
//! listed. It reads what a reader reads — README.md, scenarios/README.md,
//! every shipped scenario's comments, the notebooks' markdown cells — as
//! sentences, and in every sentence that names a shipped scenario (a
//! scenario file's opening comment block — its story; comments beside keys
//! explain settings — names it throughout) and speaks of an outcome (one of
//! [`OUTCOME_WORDS`]: stale, reorg, revenue, share, %, …) it takes each number
//! outside code (`` `…` `` spans and fenced blocks) that stands on its own
//! (not part of a word such as `10m`, `BIP152` or `01_first_run`). Each such
//! number must lie inside
//!
//! - a sentence quoted by a claim in `claims.yaml` for that file (so it is
//!   measured and checked), or
//! - an entry of `scenarios/claims/not_claims.yaml`: a passage of that file
//!   and why its numbers are not claims (a setting of the scenario, a
//!   count of files, a formula's constant, …).
//!
//! A new sentence such as "selfish_mining earns 41% of the blocks" fails
//! here until it is either a claim (and so measured) or explained as a
//! non-claim. An allowlist entry that no longer matches fails too, so the
//! list does not rot.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::claims::{self, readable, repo, YamlComments, CLAIMS};
use serde::Deserialize;

const NOT_CLAIMS: &str = "scenarios/claims/not_claims.yaml";

/// A passage of a file and why its numbers are not claims.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Passage {
    file: String,
    text: String,
    /// Why the numbers in `text` are not claims.
    #[serde(default)]
    why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotClaims {
    not_claims: Vec<Passage>,
}

/// Words that make a sentence about an outcome (what a run measured), not
/// about a setting: a number in a sentence with none of them is an input
/// (a node count, a latency, a seed) and not checked.
const OUTCOME_WORDS: [&str; 24] = [
    "stale",
    "reorg",
    "revenue",
    "share",
    "success",
    "succeed",
    "confirmed",
    "converge",
    "rejected",
    "disconnect",
    "propagat",
    "reach",
    "median",
    "average",
    "mean ",
    "rate",
    "won",
    "lost",
    "depth",
    "deep",
    "attempt",
    "%",
    "fork",
    "orphan",
];

/// The shipped scenarios' names (file stems of `scenarios/*.yaml`).
fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".yaml").map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The files a reader reads about the scenarios.
fn doc_files() -> Vec<String> {
    let mut files = vec!["README.md".to_string(), "scenarios/README.md".to_string()];
    files.extend(
        scenario_names()
            .iter()
            .map(|n| format!("scenarios/{n}.yaml")),
    );
    let mut nbs: Vec<String> = fs::read_dir(repo().join("notebooks"))
        .expect("notebooks/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ipynb"))
        .map(|n| format!("notebooks/{n}"))
        .collect();
    nbs.sort();
    files.extend(nbs);
    files
}

/// Byte ranges of `text` inside code: fenced blocks and inline spans.
fn code_mask(text: &str) -> Vec<bool> {
    let b = text.as_bytes();
    let mut mask = vec![false; b.len()];
    let (mut fenced, mut inline) = (false, false);
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"```") {
            fenced = !fenced;
            mask[i..i + 3].iter_mut().for_each(|m| *m = true);
            i += 3;
            continue;
        }
        if b[i] == b'`' && !fenced {
            inline = !inline;
        }
        mask[i] = fenced || inline || b[i] == b'`';
        i += 1;
    }
    mask
}

/// Sentence spans: split after `.`, `!`, `?` or `:` followed by a space, at
/// list bullets (` - `, ` * `), headings (` #`) and table cells (`|`).
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let cut = match b[i] {
            b'.' | b'!' | b'?' | b':' => {
                b.get(i + 1) == Some(&b' ')
                    && !b.get(i.wrapping_sub(1)).is_some_and(u8::is_ascii_digit)
            }
            b'|' => true,
            b' ' => matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(b'-' | b'*'), Some(b' ')) | (Some(b'#'), _)
            ),
            _ => false,
        };
        if cut {
            out.push((start, i + 1));
            start = i + 1;
        }
        i += 1;
    }
    out.push((start, b.len()));
    out
}

/// Numbers standing on their own in `text[lo..hi]`: `(start, end)` byte
/// spans, with a trailing `%`.
fn numbers(text: &str, lo: usize, hi: usize) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'/';
    let mut out = Vec::new();
    let mut i = lo;
    while i < hi {
        if !b[i].is_ascii_digit() || (i > 0 && (word(b[i - 1]) || b[i - 1] == b'-')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < hi
            && (b[i].is_ascii_digit()
                || ((b[i] == b',' || b[i] == b'.') && i + 1 < hi && b[i + 1].is_ascii_digit()))
        {
            i += 1;
        }
        if i < hi && b[i] == b'%' {
            i += 1;
        }
        let glued = i < hi && (b[i].is_ascii_alphanumeric() || b[i] == b'_');
        if !glued {
            out.push((start, i));
        }
        while i < hi && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
    }
    out
}

/// Byte spans of every occurrence of each passage's text in `doc`.
fn spans(doc: &str, passages: &[&str]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for p in passages {
        let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
        if p.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(k) = doc[from..].find(&p) {
            out.push((from + k, from + k + p.len()));
            from += k + 1;
        }
    }
    out
}

#[test]
fn every_number_about_a_scenario_is_a_claim_or_explained() {
    let claims = claims::load();
    let allow: NotClaims = serde_yaml::from_str(
        &fs::read_to_string(repo().join(NOT_CLAIMS)).expect("not_claims.yaml"),
    )
    .unwrap_or_else(|e| panic!("{NOT_CLAIMS}: {e}"));
    for p in &allow.not_claims {
        assert!(
            p.why.as_deref().is_some_and(|w| !w.trim().is_empty()),
            "{NOT_CLAIMS}: the entry for `{}` in {} says why it is not a claim",
            p.text,
            p.file
        );
    }
    let names = scenario_names();
    let mut unexplained = Vec::new();
    let mut used_allow = BTreeSet::new();
    for file in doc_files() {
        let doc = readable(&file, YamlComments::Opening);
        let own = file
            .strip_prefix("scenarios/")
            .and_then(|f| f.strip_suffix(".yaml"))
            .map(str::to_string);
        let quoted: Vec<&str> = claims
            .claims
            .iter()
            .flat_map(|c| &c.quoted)
            .filter(|q| q.file == file)
            .map(|q| q.text.as_str())
            .collect();
        let covered = spans(&doc, &quoted);
        let allowed: Vec<(usize, (usize, usize))> = allow
            .not_claims
            .iter()
            .enumerate()
            .filter(|(_, p)| p.file == file)
            .flat_map(|(k, p)| {
                spans(&doc, &[p.text.as_str()])
                    .into_iter()
                    .map(move |s| (k, s))
            })
            .collect();
        for (k, p) in allow.not_claims.iter().enumerate() {
            if p.file == file && !allowed.iter().any(|(j, _)| *j == k) {
                unexplained.push(format!(
                    "{NOT_CLAIMS}: `{}` is no longer in {file}: remove or update the entry",
                    p.text
                ));
            }
        }
        let mask = code_mask(&doc);
        for (lo, hi) in sentences(&doc) {
            let sentence = &doc[lo..hi];
            let names_one = own.is_some()
                || names.iter().any(|n| {
                    sentence.match_indices(n.as_str()).any(|(k, _)| {
                        let after = sentence.as_bytes().get(k + n.len());
                        !after.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    })
                });
            let outcome = OUTCOME_WORDS
                .iter()
                .any(|w| sentence.to_lowercase().contains(w));
            if !names_one || !outcome {
                continue;
            }
            for (a, b) in numbers(&doc, lo, hi) {
                if mask[a] {
                    continue;
                }
                let inside = |s: &(usize, usize)| s.0 <= a && b <= s.1;
                if covered.iter().any(inside) {
                    continue;
                }
                if let Some((k, _)) = allowed.iter().find(|(_, s)| inside(s)) {
                    used_allow.insert(*k);
                    continue;
                }
                unexplained.push(format!(
                    "{file}: `{}` in \"{}\"",
                    &doc[a..b],
                    sentence.trim()
                ));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} number(s) about shipped scenarios are neither claims ({CLAIMS}, checked by \
         tests/claims.rs) nor explained in {NOT_CLAIMS}:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}

#[test]
fn the_detector_finds_a_bare_number_and_skips_code_and_words() {
    let doc = "selfish_mining earns 41% of blocks. Run `sim run x --seed 7` with 10m blocks \
               and BIP152; see 01_first_run. It has 8 nodes.";
    let found: Vec<&str> = sentences(doc)
        .into_iter()
        .flat_map(|(lo, hi)| numbers(doc, lo, hi))
        .filter(|(a, _)| !code_mask(doc)[*a])
        .map(|(a, b)| &doc[a..b])
        .collect();
    assert_eq!(found, vec!["41%", "8"]);
    assert_eq!(
        numbers("1,000 nodes and 2.9%.", 0, 21),
        vec![(0, 5), (16, 20)]
    );
}
