//! Cheap checks on hostile text, done before (or instead of) the YAML
//! parser's own work, so that no file makes `sim` read gigabytes or parse
//! for minutes:
//!
//! - [`read_limited`] reads at most a cap of bytes ([`MAX_SCENARIO_BYTES`]
//!   for scenarios; `/dev/urandom` is refused after 4 MiB, not after 2 GB)
//!   and reports invalid UTF-8 with its line and column;
//! - [`check_depth`] measures the nesting depth of the YAML (flow `[`/`{`
//!   plus block indentation levels) in one linear pass and refuses more than
//!   [`MAX_DEPTH`] levels (the YAML parser's own limit is reached only after
//!   work quadratic in the file's length: a 200 KB file of `[` took 20 s);
//! - [`duplicate_key`] finds the *second* occurrence of a repeated mapping
//!   key (the parser names only the mapping), so the error points at the
//!   line to delete.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Largest scenario file accepted, bytes (4 MiB: a 10,000-node
/// `nodes.list` or a 50,000-edge `topology.list` fits comfortably).
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;

/// Deepest nesting accepted in a scenario (a scenario needs about 6).
pub const MAX_DEPTH: usize = 64;

/// Reads `path` as UTF-8 text of at most `limit` bytes. The error is a
/// message without the file name: `larger than 4194304 bytes …`, `not
/// UTF-8 text: invalid byte at line 3 column 7`, or the system's reason.
pub fn read_limited(path: &Path, limit: u64) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err("is a directory".into());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "larger than {limit} bytes, the most a file of this kind may have"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (line, column) = line_column(e.as_bytes(), at);
        format!(
            "not UTF-8 text: invalid byte 0x{:02x} at line {line} column {column}",
            e.as_bytes()[at]
        )
    })
}

/// The 1-based line and column (in characters) of byte `offset`.
pub fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// Checks that the YAML in `text` nests at most [`MAX_DEPTH`] levels, in
/// one pass; on failure returns the 1-based `(line, column)` where the
/// limit was crossed. Flow collections count one level per open `[`/`{`
/// outside quotes and comments; block structure counts one level per
/// deeper indentation and per `- ` entry marker. It is a bound, not a
/// parser: odd but valid YAML may count a level more than it has.
pub fn check_depth(text: &str) -> Result<(), (usize, usize)> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (l, line) in text.lines().enumerate() {
        let mut chars = line.char_indices().peekable();
        let mut block = 0usize;
        if flow == 0 {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let rest = line[indent..].trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                while indents.last().is_some_and(|&i| i >= indent) {
                    indents.pop();
                }
                indents.push(indent);
                let mut r = rest;
                while let Some(after) = r.strip_prefix("- ").or_else(|| r.strip_prefix("-\t")) {
                    block += 1;
                    r = after.trim_start();
                }
            }
        }
        let base = indents.len() + block;
        if base > MAX_DEPTH {
            return Err((l + 1, 1));
        }
        let mut quote: Option<char> = None;
        let mut prev_space = true;
        while let Some((i, c)) = chars.next() {
            match quote {
                Some('"') => {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        quote = None;
                    }
                }
                Some(_) => {
                    if c == '\'' {
                        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                            chars.next();
                        } else {
                            quote = None;
                        }
                    }
                }
                None => match c {
                    '#' if prev_space => break,
                    '"' | '\''
                        if prev_space
                            || matches!(line[..i].chars().last(), Some('[' | '{' | ',' | ':')) =>
                    {
                        quote = Some(c)
                    }
                    '[' | '{' => {
                        flow += 1;
                        if base + flow > MAX_DEPTH {
                            return Err((l + 1, line[..i].chars().count() + 1));
                        }
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            prev_space = c == ' ' || c == '\t';
        }
    }
    Ok(())
}

/// The `(line, column)` and text of the first mapping key that repeats an
/// earlier key of the same mapping, if any (and if `text` parses that far).
pub fn duplicate_key(text: &str) -> Option<((usize, usize), String)> {
    let de = serde_yaml::Deserializer::from_str(text);
    match DupSeed.deserialize(de) {
        Ok(()) => None,
        Err(e) => {
            let message = e.to_string();
            let key = message.split(FOUND).nth(1)?.to_string();
            e.location().map(|l| ((l.line(), l.column()), key))
        }
    }
}

/// Marks the error [`duplicate_key`] raises: `FOUND<key>FOUND`.
const FOUND: &str = "\u{1}forklab-duplicate\u{1}";

struct DupSeed;

impl<'de> DeserializeSeed<'de> for DupSeed {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(DupVisitor)
    }
}

struct DupVisitor;

impl<'de> Visitor<'de> for DupVisitor {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while map.next_key_seed(KeySeed { seen: &mut seen })?.is_some() {
            map.next_value_seed(DupSeed)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(DupSeed)?.is_some() {}
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (_, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, DupSeed)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(DupVisitor)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads one key as text; a key seen before in this mapping fails with
/// [`FOUND`], which serde_yaml stamps with the key's own position.
struct KeySeed<'s> {
    seen: &'s mut BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl KeySeed<'_> {
    fn key<E: de::Error>(self, key: String) -> Result<(), E> {
        if self.seen.insert(key.clone()) {
            Ok(())
        } else {
            Err(E::custom(format!("{FOUND}{key}{FOUND}")))
        }
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.key(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.key(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.key(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.key(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.key(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.key("null".into())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        DupVisitor.visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        DupVisitor.visit_seq(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_in_one_pass() {
        assert!(check_depth("a: {b: [1, {c: 2}]}\nd:\n  - e: 1\n    f: [x]\n").is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1);
        // The line itself is one level, each `[` one more.
        assert_eq!(check_depth(&deep), Err((1, MAX_DEPTH)));
        let ok = "[".repeat(MAX_DEPTH - 1);
        assert!(check_depth(&ok).is_ok());
        // Brackets in quotes and comments do not count.
        let quoted = format!(
            "a: '{}'\nb: \"{}\" # {}\n",
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        assert!(check_depth(&quoted).is_ok());
        // Block nesting counts too.
        let mut block = String::new();
        for i in 0..=MAX_DEPTH {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        assert_eq!(check_depth(&block), Err((MAX_DEPTH + 1, 1)));
        // A megabyte of `[` is refused at once (linear, not quadratic).
        assert!(check_depth(&"[".repeat(1 << 20)).is_err());
    }

    #[test]
    fn duplicate_keys_are_found_where_they_repeat() {
        let text = "name: a\nnodes:\n  count: 3\n  light: 1\n  count: 4\n";
        assert_eq!(duplicate_key(text), Some(((5, 3), "count".to_string())));
        assert_eq!(
            duplicate_key("a: 1\nb: {c: 1, c: 2}\n"),
            Some(((2, 11), "c".into()))
        );
        assert_eq!(duplicate_key("a: 1\nb: [{c: 1}, {c: 2}]\n"), None);
    }

    #[test]
    fn utf8_errors_have_positions() {
        let dir = std::env::temp_dir().join(format!("forklab-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.yaml");
        std::fs::write(&f, b"name: a\nstop: \xff\n").unwrap();
        let e = read_limited(&f, 100).unwrap_err();
        assert_eq!(e, "not UTF-8 text: invalid byte 0xff at line 2 column 7");
        let e = read_limited(&f, 5).unwrap_err();
        assert!(e.starts_with("larger than 5 bytes"), "{e}");
        assert_eq!(read_limited(&dir, 5).unwrap_err(), "is a directory");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
