//! Field paths (`network.regions[2].share`) and finding where a path is in
//! the original YAML text, so errors found *after* parsing (unknown keys,
//! semantic checks, type errors on the merged value) still name a line.
//!
//! How the position is found: the text is parsed again with a
//! [`DeserializeSeed`] that walks down the path and, on reaching the target,
//! fails with a sentinel error. serde_yaml stamps every error raised inside a
//! `deserialize_*` call with the position of the YAML event being read, so
//! the sentinel comes back carrying the target's line and column. A path that
//! is not in the text (a default, or a value from `--set`) yields `None`.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::Origin;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A field path: keys and indices from the top of the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// Parses `a.b[0].c` (serde_yaml's notation). `None` for empty segments
    /// or a malformed index.
    pub fn parse(text: &str) -> Option<FieldPath> {
        let mut segs = Vec::new();
        if text.is_empty() || text == "." {
            return Some(FieldPath(segs));
        }
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => part.split_at(i),
                None => (part, ""),
            };
            if key.is_empty() && (segs.is_empty() || rest.is_empty()) {
                return None;
            }
            if !key.is_empty() {
                segs.push(Seg::Key(key.to_string()));
            }
            while !rest.is_empty() {
                let close = rest.find(']')?;
                let index = rest[1..close].trim().parse().ok()?;
                segs.push(Seg::Index(index));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return None;
                }
            }
        }
        Some(FieldPath(segs))
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// Whether `prefix` is a prefix of (or equal to) this path.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The sentinel error message that marks "found it".
const FOUND: &str = "\u{1}forklab-locate-found\u{1}";

/// The 1-based `(line, column)` of the value at `path` in `text` — or of the
/// key itself when `want_key` — or `None` when the path is not in the text.
pub(crate) fn locate(text: &str, path: &FieldPath, want_key: bool) -> Option<(usize, usize)> {
    let de = serde_yaml::Deserializer::from_str(text);
    match (Find {
        segs: &path.0,
        want_key,
    })
    .deserialize(de)
    {
        Ok(()) => None,
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| (l.line(), l.column())),
        Err(_) => None,
    }
}

/// Walks down `segs`; fails with [`FOUND`] at the target.
struct Find<'p> {
    segs: &'p [Seg],
    want_key: bool,
}

impl<'de> DeserializeSeed<'de> for Find<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Find<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.segs.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        let Seg::Key(target) = first else {
            return Ok(());
        };
        let want_key = self.want_key && rest.is_empty();
        while let Some(matched) = map.next_key_seed(KeySeed { target, want_key })? {
            if matched {
                return map.next_value_seed(Find {
                    segs: rest,
                    want_key: self.want_key,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.segs.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        let Seg::Index(target) = first else {
            return Ok(());
        };
        for _ in 0..*target {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Find {
            segs: rest,
            want_key: self.want_key,
        })
        .map(|_| ())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag x`): locate the tag's value itself.
        if self.segs.is_empty() {
            return Err(de::Error::custom(FOUND));
        }
        let (_, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

impl Find<'_> {
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.segs.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

/// Reads one mapping key; `true` if it equals the target. With `want_key`,
/// a match fails with [`FOUND`] so the key's own position is reported.
struct KeySeed<'t> {
    target: &'t str,
    want_key: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        if v == self.target {
            if self.want_key {
                return Err(E::custom(FOUND));
            }
            return Ok(true);
        }
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// What an error needs to say where it is: the original text, its name and
/// the `--set` overrides that were applied on top of it.
pub(crate) struct Context<'a> {
    /// The original scenario text.
    pub text: &'a str,
    /// The file name for messages.
    pub source_name: &'a str,
    /// `(key as typed, parsed key path)` of each override, in order.
    pub overrides: Vec<(String, FieldPath)>,
}

impl Context<'_> {
    /// Where the value (or, with `want_key`, the key) at `path` came from:
    /// the last `--set` that covers it, else the deepest part of the path
    /// found in the file, else a `--set` that created something below it.
    pub fn origin(&self, path: &FieldPath, want_key: bool) -> Origin {
        if let Some((key, _)) = self
            .overrides
            .iter()
            .rev()
            .find(|(_, p)| path.starts_with(p))
        {
            return Origin::Set { key: key.clone() };
        }
        let full = locate(self.text, path, want_key);
        let position = full.or_else(|| {
            (0..path.0.len())
                .rev()
                .find_map(|n| locate(self.text, &FieldPath(path.0[..n].to_vec()), false))
        });
        if full.is_none() {
            if let Some((key, _)) = self.overrides.iter().find(|(_, p)| p.starts_with(path)) {
                return Origin::Set { key: key.clone() };
            }
        }
        Origin::File {
            source: self.source_name.to_string(),
            position,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: x\nconsensus:\n  difficulty_bits: 16\nnetwork:\n  regions:\n    - { name: NA, share: 1 }\n    - name: EU\n      share: 0.5\nlist: [1, 2, {a: 3}]\n";

    fn at(path: &str, key: bool) -> Option<(usize, usize)> {
        locate(TEXT, &FieldPath::parse(path).unwrap(), key)
    }

    #[test]
    fn parses_and_prints_paths() {
        for p in ["a", "a.b", "a[0].b", "a[1][2]", "network.regions[10].share"] {
            assert_eq!(FieldPath::parse(p).unwrap().to_string(), p);
        }
        assert_eq!(FieldPath::parse("").unwrap().0.len(), 0);
        for bad in ["a..b", "a[x]", "a[1", ".a", "a[1]b"] {
            assert!(FieldPath::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn finds_values_and_keys() {
        assert_eq!(at("name", false), Some((1, 7)));
        assert_eq!(at("consensus.difficulty_bits", false), Some((3, 20)));
        assert_eq!(at("consensus.difficulty_bits", true), Some((3, 3)));
        assert_eq!(at("network.regions[0].share", false), Some((6, 26)));
        assert_eq!(at("network.regions[1].share", true), Some((8, 7)));
        assert_eq!(at("list[2].a", false), Some((9, 18)));
        assert_eq!(at("list[1]", false), Some((9, 11)));
        assert_eq!(at("consensus.target_interval", false), None);
        assert_eq!(at("network.regions[5]", false), None);
        assert_eq!(at("name.deeper", false), None);
    }

    #[test]
    fn origin_prefers_overrides_then_file() {
        let ctx = Context {
            text: TEXT,
            source_name: "f.yaml",
            overrides: vec![("nodes".into(), FieldPath::parse("nodes").unwrap())],
        };
        let o = ctx.origin(&FieldPath::parse("nodes.count").unwrap(), false);
        assert_eq!(o.to_string(), "--set nodes");
        let o = ctx.origin(
            &FieldPath::parse("consensus.retarget_window").unwrap(),
            false,
        );
        assert_eq!(o.to_string(), "f.yaml:3:3");
        let o = ctx.origin(
            &FieldPath::parse("consensus.difficulty_bits").unwrap(),
            false,
        );
        assert_eq!(o.to_string(), "f.yaml:3:20");
    }
}
