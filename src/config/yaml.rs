//! The generic YAML tree the config walk reads. `serde-saphyr` does the YAML parsing (syntax,
//! anchors, duplicate keys, input limits); this module only keeps the result in a shape that
//! remembers the *order* of mapping keys, so errors can be reported in document order and an
//! unknown key can be named with its full path. (`serde_json::Value` would sort the keys.)

use super::problems::ConfigError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One YAML node. Scalars keep the type YAML gave them; the walk decides what it accepts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order. Non-string keys are kept in their textual form.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A short name of the node's type, for "expected a string, got a list" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

/// Parses a YAML document into a [`Node`]. A syntax error becomes one [`ConfigError`] for the
/// document (empty path) that names the line and column; the parser's source snippet is left
/// out, so a line holding a secret is never echoed.
///
/// Type inference is narrowed to what a config author means: only `true`/`false` are booleans
/// (YAML 1.1 made `yes`, `no`, `on`, `y` booleans: `name: no` would not be a name), and
/// `0123` or `1_000` stay strings instead of silently becoming other numbers.
pub(crate) fn parse(text: &str) -> Result<Node, ConfigError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| ConfigError {
        path: String::new(),
        // The user formatter drops the hints meant for programmers ("set ... in Options") and
        // ends with "at line L, column C".
        message: format!(
            "YAML error: {}",
            e.render_with_formatter(&serde_saphyr::UserMessageFormatter)
        ),
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(i128::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(i128::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        i128::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            entries.push((key_text(&key), value));
        }
        Ok(Node::Map(entries))
    }
}

/// The text of a mapping key. Config keys are plain words; anything else only needs a readable
/// form for the "unknown key" error it will cause.
fn key_text(key: &Node) -> String {
    match key {
        Node::Str(s) => s.clone(),
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(x) => x.to_string(),
        Node::Seq(_) | Node::Map(_) => "<complex key>".to_owned(),
    }
}

#[cfg(test)]
mod tests;
