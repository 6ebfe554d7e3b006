//! The known keys of every section, checked on the parsed YAML value before
//! deserializing, so a typo gets an error that names its full path, the
//! section, the nearest known key ("did you mean") and the known keys.
//!
//! serde's own `deny_unknown_fields` message has neither a path nor a
//! suggestion, so this table mirrors [`super::schema`]; a unit test in
//! `scenario.rs` checks that the two agree in both directions.
//!
//! The walk also drops null-valued known keys (`consensus:` with nothing
//! under it), so an empty section means "all defaults".

use serde_yaml::Value;

use super::error::{one_line, ScenarioError};
use super::locate::{Context, FieldPath, Seg};
use super::schema::{Adversary, Hashrate, Latency, Topology};

/// The expected shape of a YAML value.
pub(crate) enum Shape {
    /// Any scalar (types are left to serde).
    Leaf,
    /// A string from a fixed set.
    Word(&'static [&'static str]),
    /// A mapping with these fields.
    Struct(&'static [(&'static str, Shape)]),
    /// A mapping whose `kind` picks the fields; the label names the union in
    /// messages ("topology kind"); the function deserializes the value into
    /// its enum (serde_yaml loses the path inside internally tagged enums,
    /// so their type errors are caught here, where the path is known).
    Tagged(
        &'static str,
        &'static [(&'static str, &'static [(&'static str, Shape)])],
        TypeCheck,
    ),
    /// A list of values of one shape.
    Seq(&'static Shape),
}

/// Deserializes a value into a schema type; `Err` carries serde's message.
pub(crate) type TypeCheck = fn(&Value) -> Result<(), String>;

fn type_check<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
    serde_yaml::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

use Shape::{Leaf, Seq, Struct, Tagged, Word};

pub(crate) const SCENARIO: Shape = Struct(&[
    ("name", Leaf),
    ("seed", Leaf),
    (
        "stop",
        Struct(&[
            ("height", Leaf),
            ("time", Leaf),
            ("events", Leaf),
            ("settle", Leaf),
        ]),
    ),
    (
        "consensus",
        Struct(&[
            ("difficulty_bits", Leaf),
            ("target_interval", Leaf),
            ("retarget_window", Leaf),
            ("subsidy_sats", Leaf),
            ("halving_interval", Leaf),
            ("max_block_bytes", Leaf),
            ("coinbase_maturity", Leaf),
            ("block_fill_bytes", Leaf),
        ]),
    ),
    ("pow", Struct(&[("grind", Leaf)])),
    ("network", NETWORK),
    ("nodes", NODES),
    (
        "workload",
        Struct(&[
            ("wallets", Leaf),
            ("payments_per_s", Leaf),
            ("initial_balance_sats", Leaf),
            ("fee_rate_sat_per_byte", Leaf),
            ("watch", Word(&["none", "light"])),
            ("relay", Word(&["messages", "flood"])),
        ]),
    ),
    ("mempool", Struct(&[("max_bytes", Leaf)])),
    ("timeline", Seq(&TIMELINE_EVENT)),
    (
        "metrics",
        Struct(&[("balance_interval", Leaf), ("tips", Leaf)]),
    ),
    ("adversaries", Seq(&ADVERSARY)),
]);

const STUBBORN: Shape = Struct(&[("lead", Leaf), ("equal_fork", Leaf), ("trail", Leaf)]);

const INVALID_KINDS: Shape = Seq(&Word(&[
    "bad_signature",
    "double_spend_tx",
    "bad_pow",
    "bad_bits",
    "bad_merkle_root",
    "inflated_coinbase",
    "oversize_block",
    "unknown_parent_flood",
]));

const ADVERSARY: Shape = Tagged(
    "adversary kind",
    &[
        (
            "selfish",
            &[
                ("node", Leaf),
                ("gamma", Leaf),
                ("stubborn", STUBBORN),
                ("start", Leaf),
                ("share", Leaf),
            ],
        ),
        (
            "double_spend",
            &[
                ("node", Leaf),
                ("merchant_wallet", Leaf),
                ("confirmations", Leaf),
                ("give_up_behind", Leaf),
                ("premine", Leaf),
                ("amount_sats", Leaf),
                ("start", Leaf),
                ("share", Leaf),
            ],
        ),
        (
            "eclipse",
            &[
                ("node", Leaf),
                ("victim", Leaf),
                ("withhold", Leaf),
                ("delay", Leaf),
                (
                    "double_spend",
                    Struct(&[
                        ("merchant_wallet", Leaf),
                        ("confirmations", Leaf),
                        ("give_up_behind", Leaf),
                        ("amount_sats", Leaf),
                    ]),
                ),
                ("start", Leaf),
                ("share", Leaf),
            ],
        ),
        (
            "majority",
            &[
                ("node", Leaf),
                ("depth", Leaf),
                ("withhold", Leaf),
                ("start", Leaf),
                ("share", Leaf),
            ],
        ),
        (
            "invalid_data",
            &[
                ("node", Leaf),
                ("interval", Leaf),
                ("kinds", INVALID_KINDS),
                ("start", Leaf),
                ("share", Leaf),
            ],
        ),
    ],
    type_check::<Adversary>,
);

const NETWORK: Shape = Struct(&[
    (
        "topology",
        Tagged(
            "topology kind",
            &[
                ("full_mesh", &[]),
                ("ring", &[]),
                ("random_regular", &[("k", Leaf)]),
                ("erdos_renyi", &[("p", Leaf)]),
                ("small_world", &[("k", Leaf), ("beta", Leaf)]),
                (
                    "bitcoin_outbound",
                    &[
                        ("outbound", Leaf),
                        ("max_inbound", Leaf),
                        ("distribution", Word(&["fixed", "simblock_2019"])),
                    ],
                ),
                ("edges", &[("list", Leaf)]),
            ],
            type_check::<Topology>,
        ),
    ),
    (
        "latency",
        Tagged(
            "latency kind",
            &[
                ("constant", &[("ms", Leaf)]),
                ("uniform", &[("min_ms", Leaf), ("max_ms", Leaf)]),
                ("normal", &[("mean_ms", Leaf), ("sd_ms", Leaf)]),
                ("lognormal", &[("mean_ms", Leaf), ("sd_ms", Leaf)]),
                ("pareto", &[("mean_ms", Leaf), ("shape", Leaf)]),
                (
                    "regions",
                    &[("jitter", Word(&["pareto", "constant", "lognormal"]))],
                ),
            ],
            type_check::<Latency>,
        ),
    ),
    (
        "bandwidth",
        Struct(&[("up_mbps", Leaf), ("down_mbps", Leaf)]),
    ),
    (
        "regions",
        Seq(&Struct(&[
            ("name", Leaf),
            ("share", Leaf),
            ("up_mbps", Leaf),
            ("down_mbps", Leaf),
            ("latency_ms", Leaf),
        ])),
    ),
    ("processing", Leaf),
    ("control_processing", Leaf),
    ("uplink", Word(&["streaming", "stop_and_wait"])),
    (
        "relay",
        Struct(&[
            ("compact", Leaf),
            ("high_bandwidth_peers", Leaf),
            ("usage_share", Leaf),
            (
                "padding",
                Struct(&[
                    ("compact_bytes", Leaf),
                    ("churn_share", Leaf),
                    ("failure_control", Leaf),
                    ("failure_churn", Leaf),
                ]),
            ),
        ]),
    ),
    (
        "validation",
        Struct(&[("per_block", Leaf), ("per_tx", Leaf)]),
    ),
    ("tx_announce_interval", Leaf),
    (
        "trickle",
        Struct(&[
            ("enabled", Leaf),
            ("inbound_interval", Leaf),
            ("outbound_interval", Leaf),
            ("broadcast_per_s", Leaf),
            ("broadcast_max", Leaf),
        ]),
    ),
]);

const NODES: Shape = Struct(&[
    ("count", Leaf),
    (
        "hashrate",
        Tagged(
            "hashrate kind",
            &[
                ("equal", &[("total_hps", Leaf)]),
                ("normal", &[("total_hps", Leaf), ("sd_fraction", Leaf)]),
                ("shares", &[("total_hps", Leaf), ("shares", Leaf)]),
            ],
            type_check::<Hashrate>,
        ),
    ),
    ("light", Leaf),
    (
        "list",
        Seq(&Struct(&[
            ("hashrate_hps", Leaf),
            ("region", Leaf),
            ("role", Word(&["miner", "relay", "light"])),
        ])),
    ),
]);

const TIMELINE_EVENT: Shape = Struct(&[
    ("at", Leaf),
    ("partition", Leaf),
    ("heal", Word(&["all"])),
    ("offline", Leaf),
    ("online", Leaf),
    ("hashrate", Struct(&[("node", Leaf), ("hps", Leaf)])),
]);

/// Checks every key of `value` against `shape`, dropping null-valued known
/// keys so their defaults apply.
pub(crate) fn check(
    value: &mut Value,
    shape: &Shape,
    path: &FieldPath,
    ctx: &Context<'_>,
) -> Result<(), ScenarioError> {
    match (shape, value) {
        (Struct(fields), Value::Mapping(map)) => check_fields(map, fields, &[], path, ctx),
        (Tagged(label, variants, type_check), Value::Mapping(map)) => {
            let kind_path = path.key("kind");
            let known_kinds = variants.iter().map(|(k, _)| *k).collect::<Vec<_>>();
            let kind = match map.get("kind") {
                Some(Value::String(kind)) => kind.clone(),
                Some(_) => {
                    return Err(ScenarioError::Invalid {
                        origin: ctx.origin(&kind_path, false),
                        path: kind_path.to_string(),
                        message: format!("{label} must be a name"),
                        allowed: known_kinds.join(", "),
                    })
                }
                None => {
                    return Err(ScenarioError::Invalid {
                        origin: ctx.origin(path, false),
                        path: kind_path.to_string(),
                        message: format!("missing `kind` ({label})"),
                        allowed: known_kinds.join(", "),
                    })
                }
            };
            let Some((_, fields)) = variants.iter().find(|(k, _)| *k == kind) else {
                return Err(ScenarioError::UnknownField {
                    origin: ctx.origin(&kind_path, false),
                    path: kind_path.to_string(),
                    message: format!(
                        "unknown {label} `{kind}`; {}known kinds: {}",
                        did_you_mean(&kind, &known_kinds),
                        known_kinds.join(", ")
                    ),
                });
            };
            check_fields(map, fields, &["kind"], path, ctx)?;
            let whole = Value::Mapping(map.clone());
            type_check(&whole).map_err(|message| type_error(&whole, path, &message, ctx))
        }
        (Seq(elem), Value::Sequence(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                check(item, elem, &path.index(i), ctx)?;
            }
            Ok(())
        }
        (Word(words), Value::String(s)) if !words.contains(&s.as_str()) => {
            Err(ScenarioError::Invalid {
                origin: ctx.origin(path, false),
                path: path.to_string(),
                message: format!(
                    "unknown value `{s}`{}",
                    match did_you_mean(s, words).as_str() {
                        "" => String::new(),
                        hint => format!(" ({})", hint.trim_end()),
                    }
                ),
                allowed: words.join(", "),
            })
        }
        // Anything else is a type question for serde.
        _ => Ok(()),
    }
}

fn check_fields(
    map: &mut serde_yaml::Mapping,
    fields: &[(&'static str, Shape)],
    extra: &[&'static str],
    path: &FieldPath,
    ctx: &Context<'_>,
) -> Result<(), ScenarioError> {
    let known = extra
        .iter()
        .copied()
        .chain(fields.iter().map(|(name, _)| *name))
        .collect::<Vec<_>>();
    map.retain(|k, v| {
        !(v.is_null()
            && k.as_str()
                .is_some_and(|k| fields.iter().any(|(n, _)| *n == k)))
    });
    for (key, value) in map.iter_mut() {
        let name = match key {
            Value::String(s) => s.clone(),
            other => {
                let shown = serde_yaml::to_string(other).unwrap_or_default();
                return Err(ScenarioError::UnknownField {
                    origin: ctx.origin(path, false),
                    path: path.to_string(),
                    message: format!(
                        "key `{}` is not a name; known fields: {}",
                        shown.trim(),
                        known.join(", ")
                    ),
                });
            }
        };
        let Some((_, shape)) = fields.iter().find(|(n, _)| *n == name) else {
            if extra.contains(&name.as_str()) {
                continue;
            }
            let field_path = path.key(&name);
            let section = if path.0.is_empty() {
                "the top level".to_string()
            } else {
                path.to_string()
            };
            return Err(ScenarioError::UnknownField {
                origin: ctx.origin(&field_path, true),
                path: field_path.to_string(),
                message: format!(
                    "unknown field `{name}` in {section}; {}known fields: {}",
                    did_you_mean(&name, &known),
                    known.join(", ")
                ),
            });
        };
        check(value, shape, &path.key(&name), ctx)?;
    }
    Ok(())
}

/// A type error from serde about the value at `path` (`value` is that value,
/// `message` serde's text). The path is made as precise as serde's message
/// allows: "missing field `x`" names field `x`; otherwise, when exactly one
/// scalar below `path` is the one the message quotes, the error is about it
/// (serde_yaml reports errors raised after a value was read, and errors
/// inside internally tagged enums, at the enclosing mapping).
pub(crate) fn type_error(
    value: &Value,
    path: &FieldPath,
    message: &str,
    ctx: &Context<'_>,
) -> ScenarioError {
    let message = one_line(message);
    let path = match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        Some(field) => path.key(field),
        None => {
            let mut found = Vec::new();
            quoted_leaves(value, path, &message, &mut found);
            if found.len() == 1 {
                found.remove(0)
            } else {
                path.clone()
            }
        }
    };
    ScenarioError::Type {
        origin: ctx.origin(&path, false),
        path: path.to_string(),
        message,
    }
}

/// Paths of the scalars below `path` that `message` quotes the way serde
/// does (`string "x"`, `` `x` ``, `integer `5``, `boolean `true``).
fn quoted_leaves(value: &Value, path: &FieldPath, message: &str, found: &mut Vec<FieldPath>) {
    let quoted = match value {
        Value::String(s) => {
            message.contains(&format!("\"{s}\"")) || message.contains(&format!("`{s}`"))
        }
        Value::Number(n) => message.contains(&format!("`{n}`")),
        Value::Bool(b) => message.contains(&format!("`{b}`")),
        Value::Mapping(map) => {
            for (k, v) in map {
                if let Some(k) = k.as_str() {
                    quoted_leaves(v, &path.key(k), message, found);
                }
            }
            false
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                quoted_leaves(v, &path.index(i), message, found);
            }
            false
        }
        Value::Null | Value::Tagged(_) => false,
    };
    if quoted {
        found.push(path.clone());
    }
}

/// Descends `value` along `path`; `None` if the path is not there.
pub(crate) fn value_at<'v>(value: &'v Value, path: &FieldPath) -> Option<&'v Value> {
    path.0.iter().try_fold(value, |node, seg| match seg {
        Seg::Key(k) => node.get(k.as_str()),
        Seg::Index(i) => node.get(*i),
    })
}

/// `"did you mean `x`? "` for the closest candidate, if it is close enough,
/// else the empty string.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(word, c), *c))
        .chain(
            candidates
                .iter()
                .map(|c| (strsim::jaro_winkler(word, c) - 0.25, *c)),
        )
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, c)) if score >= 0.55 => format!("did you mean `{c}`? "),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["difficulty_bits", "target_interval", "retarget_window"];
        assert_eq!(
            did_you_mean("dificulty_bits", &known),
            "did you mean `difficulty_bits`? "
        );
        assert_eq!(
            did_you_mean("target_intervall", &known),
            "did you mean `target_interval`? "
        );
        assert_eq!(did_you_mean("colour", &known), "");
        assert_eq!(
            did_you_mean("topolgy", &["topology", "latency", "bandwidth"]),
            "did you mean `topology`? "
        );
        assert_eq!(
            did_you_mean("fullmesh", &["full_mesh", "ring", "edges"]),
            "did you mean `full_mesh`? "
        );
    }
}
