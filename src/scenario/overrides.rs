//! `--set key.path=value` overrides, applied to the parsed YAML value before
//! it is checked and deserialized, so an override is validated exactly like
//! the same value written in the file.
//!
//! - The key is a field path: `nodes.count`, `network.regions[0].share`.
//! - The value is parsed as YAML: `10000` is a number, `10m` a string,
//!   `{height: 5}` a mapping, `[1, 2]` a list, `true` a boolean.
//! - Missing (or null) intermediate mappings are created; an index must
//!   address an existing list element; a path through a scalar or list is an
//!   error naming the path.

use serde_yaml::{Mapping, Value};

use super::error::{one_line, ScenarioError};
use super::locate::{FieldPath, Seg};

/// One parsed `--set` override.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Override {
    /// The key as typed.
    pub key: String,
    /// The key as a path.
    pub path: FieldPath,
    /// The parsed value.
    pub value: Value,
}

impl Override {
    /// Parses `key.path=value`.
    pub fn parse(arg: &str) -> Result<Override, ScenarioError> {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(ScenarioError::Override {
                key: arg.to_string(),
                message: "expected `key.path=value`, e.g. `--set nodes.count=10`".into(),
            });
        };
        let key = key.trim();
        let err = |message: String| ScenarioError::Override {
            key: key.to_string(),
            message,
        };
        let path = FieldPath::parse(key)
            .filter(|p| matches!(p.0.first(), Some(Seg::Key(_))))
            .ok_or_else(|| {
                err("malformed key path: expected names separated by `.`, with optional `[index]`, e.g. `network.regions[0].share`".into())
            })?;
        let value = if value.trim().is_empty() {
            Value::Null
        } else {
            serde_yaml::from_str::<Value>(value).map_err(|e| {
                err(format!(
                    "value is not valid YAML: {}",
                    one_line(&e.to_string())
                ))
            })?
        };
        Ok(Override {
            key: key.to_string(),
            path,
            value,
        })
    }

    /// Writes the value into `root` at the key path.
    pub fn apply(&self, root: &mut Value) -> Result<(), ScenarioError> {
        let segs = self.list_indices(root);
        let segs = &segs;
        let mut node = root;
        for (i, seg) in segs.iter().enumerate() {
            let here = FieldPath(segs[..i].to_vec());
            let what = if i == 0 {
                "the top level".to_string()
            } else {
                format!("`{here}`")
            };
            let err = |message: String| ScenarioError::Override {
                key: self.key.clone(),
                message,
            };
            let last = i + 1 == segs.len();
            match seg {
                Seg::Key(k) => {
                    if node.is_null() {
                        *node = Value::Mapping(Mapping::new());
                    }
                    let Value::Mapping(map) = node else {
                        return Err(err(format!(
                            "{what} is {}, not a mapping, so it has no field `{k}`",
                            kind_of(node)
                        )));
                    };
                    let key = Value::String(k.clone());
                    if last {
                        map.insert(key, self.value.clone());
                        return Ok(());
                    }
                    node = map.entry(key).or_insert(Value::Null);
                }
                Seg::Index(n) => {
                    let Value::Sequence(seq) = node else {
                        return Err(err(format!(
                            "{what} is {}, not a list, so it has no element [{n}]",
                            kind_of(node)
                        )));
                    };
                    let len = seq.len();
                    let Some(elem) = seq.get_mut(*n) else {
                        return Err(err(format!(
                            "{what} has {len} elements, so index [{n}] does not exist"
                        )));
                    };
                    if last {
                        *elem = self.value.clone();
                        return Ok(());
                    }
                    node = elem;
                }
            }
        }
        // An empty path cannot be parsed (the first segment is a key).
        Ok(())
    }
}

impl Override {
    /// The path with every all-digit key that lands on a list read as an
    /// index (`adversaries.0.share` = `adversaries[0].share`, the form
    /// shells and sweep labels find easier).
    fn list_indices(&self, root: &Value) -> Vec<Seg> {
        let mut out = Vec::with_capacity(self.path.0.len());
        let mut node = Some(root);
        for seg in &self.path.0 {
            let seg = match (seg, node) {
                (Seg::Key(k), Some(Value::Sequence(_)))
                    if k.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    k.parse().map(Seg::Index).unwrap_or_else(|_| seg.clone())
                }
                _ => seg.clone(),
            };
            node = node.and_then(|n| match &seg {
                Seg::Key(k) => n.get(k.as_str()),
                Seg::Index(i) => n.get(*i),
            });
            out.push(seg);
        }
        out
    }
}

/// "a number", "a list", … for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(doc: &str, arg: &str) -> Result<Value, ScenarioError> {
        let mut v: Value = serde_yaml::from_str(doc).unwrap();
        Override::parse(arg)?.apply(&mut v)?;
        Ok(v)
    }

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn sets_nested_values_and_creates_maps() {
        let v = apply("nodes: {count: 3}", "nodes.count=10000").unwrap();
        assert_eq!(v, yaml("nodes: {count: 10000}"));
        let v = apply("name: a", "consensus.target_interval=10m").unwrap();
        assert_eq!(v, yaml("{name: a, consensus: {target_interval: 10m}}"));
        let v = apply("stop: {time: 1h}", "stop={height: 5}").unwrap();
        assert_eq!(v, yaml("stop: {height: 5}"));
        let v = apply("consensus:", "consensus.difficulty_bits=12").unwrap();
        assert_eq!(v, yaml("consensus: {difficulty_bits: 12}"));
        let v = apply("r: [{a: 1}, {a: 2}]", "r[1].a=7").unwrap();
        assert_eq!(v, yaml("r: [{a: 1}, {a: 7}]"));
        let v = apply("name: a", "timeline=[]").unwrap();
        assert_eq!(v, yaml("{name: a, timeline: []}"));
        // A numeric key on a list is an index.
        let v = apply("r: [{a: 1}, {a: 2}]", "r.1.a=7").unwrap();
        assert_eq!(v, yaml("r: [{a: 1}, {a: 7}]"));
        let v = apply("r: {0: 1}", "r.0=2").unwrap();
        assert_eq!(v, yaml("r: {0: 1, '0': 2}"));
    }

    #[test]
    fn rejects_bad_overrides() {
        let e = apply("nodes: 3", "nodes.count=1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set nodes.count: `nodes` is a number, not a mapping, so it has no field `count`"
        );
        let e = apply("r: [1]", "r[3]=1").unwrap_err();
        assert!(e.to_string().contains("index [3] does not exist"), "{e}");
        let e = apply("r: {a: 1}", "r[0]=1").unwrap_err();
        assert!(e.to_string().contains("not a list"), "{e}");
        let e = apply("a: 1", "nodes.count").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("--set nodes.count: expected `key.path=value`"));
        let e = apply("a: 1", "a..b=1").unwrap_err();
        assert!(e.to_string().contains("malformed key path"), "{e}");
        let e = apply("a: 1", "stop={height: 5").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--set stop: value is not valid YAML"),
            "{e}"
        );
    }
}
