//! The typed reading of YAML nodes, shared by every section of the config. A [`Walker`] reads one
//! node as the kind of value a field expects (interpolating `${VAR}` on the way), records any
//! problem under the field's path and goes on, so one pass finds every problem in the file.

use super::fields;
use super::interpolate::interpolate;
use super::load::ConfigError;
use super::yaml::Node;
use std::time::Duration;

/// The outcome of reading one field. `Bad` means the problem is already recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<T> {
    /// Not in the file, or `null`.
    Absent,
    Bad,
    Value(T),
}

impl<T> Field<T> {
    /// For fields with a default: `None` only when the value was bad.
    pub(crate) fn or(self, default: T) -> Option<T> {
        match self {
            Field::Absent => Some(default),
            Field::Bad => None,
            Field::Value(v) => Some(v),
        }
    }

    /// For optional fields without a default: `None` only when the value was bad.
    pub(crate) fn optional(self) -> Option<Option<T>> {
        match self {
            Field::Absent => Some(None),
            Field::Bad => None,
            Field::Value(v) => Some(Some(v)),
        }
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Bad => Field::Bad,
            Field::Value(v) => Field::Value(f(v)),
        }
    }
}

/// Joins a parent path and a key: `server` + `listen` → `server.listen`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Reads nodes and collects every problem, in the order the walk meets them (document order).
pub(crate) struct Walker<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    pub(crate) errors: Vec<ConfigError>,
}

impl<'e> Walker<'e> {
    pub(crate) fn new(env: &'e dyn Fn(&str) -> Option<String>) -> Self {
        Walker {
            env,
            errors: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// `required` for a missing key, else the value.
    pub(crate) fn required<T>(&mut self, path: &str, field: Field<T>) -> Option<T> {
        match field {
            Field::Absent => {
                self.error(path, "required");
                None
            }
            Field::Bad => None,
            Field::Value(v) => Some(v),
        }
    }

    pub(crate) fn unknown_key(&mut self, path: &str, allowed: &[&str]) {
        self.error(
            path,
            format!("unknown key (expected one of: {})", allowed.join(", ")),
        );
    }

    /// The entries of a mapping; `null` (an empty section) counts as an empty mapping.
    pub(crate) fn entries<'n>(
        &mut self,
        path: &str,
        node: &'n Node,
    ) -> Option<&'n [(String, Node)]> {
        match node {
            Node::Map(entries) => Some(entries),
            Node::Null => Some(&[]),
            other => {
                self.error(path, format!("expected a mapping, got {}", other.kind()));
                None
            }
        }
    }

    /// A string scalar with `${VAR}` replaced. Numbers and booleans are refused rather than
    /// converted, because YAML may already have changed them (`0123`, `1.10`, `yes`).
    pub(crate) fn text(&mut self, path: &str, node: &Node) -> Field<String> {
        match node {
            Node::Null => Field::Absent,
            Node::Str(s) => self.interpolated(path, s),
            other @ (Node::Int(_) | Node::Float(_) | Node::Bool(_)) => {
                self.error(
                    path,
                    format!(
                        "expected a string, got {} (put the value in quotes)",
                        other.kind()
                    ),
                );
                Field::Bad
            }
            other => {
                self.error(path, format!("expected a string, got {}", other.kind()));
                Field::Bad
            }
        }
    }

    fn interpolated(&mut self, path: &str, s: &str) -> Field<String> {
        match interpolate(s, self.env) {
            Ok(v) => Field::Value(v),
            Err(errors) => {
                for e in errors {
                    self.error(path, e.to_string());
                }
                Field::Bad
            }
        }
    }

    /// A string checked and converted by `parse` (one of the `fields` validators).
    pub(crate) fn parsed<T>(
        &mut self,
        path: &str,
        node: &Node,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Field<T> {
        let field = self.text(path, node);
        self.convert(path, field, parse)
    }

    /// A non-empty string (an empty one is an error, not an absent value).
    pub(crate) fn non_empty(&mut self, path: &str, node: &Node) -> Field<String> {
        self.parsed(path, node, |s| {
            if s.is_empty() {
                Err("must not be empty".to_owned())
            } else {
                Ok(s.to_owned())
            }
        })
    }

    /// A scalar that was interpolated if it was a string: how numbers and booleans written as
    /// `"${THREADS:-2}"` are read.
    fn scalar_text(&mut self, path: &str, node: &Node) -> Field<String> {
        match node {
            Node::Int(i) => Field::Value(i.to_string()),
            Node::Float(x) => Field::Value(x.to_string()),
            Node::Bool(b) => Field::Value(b.to_string()),
            other => self.text(path, other),
        }
    }

    /// `true`/`false`, or a string that says so.
    pub(crate) fn boolean(&mut self, path: &str, node: &Node) -> Field<bool> {
        if let Node::Bool(b) = node {
            return Field::Value(*b);
        }
        let field = self.scalar_text(path, node);
        self.convert(path, field, |s| match s.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("expected true or false, got {s:?}")),
        })
    }

    /// An integer in `min..=max`; `expected` describes the range for the message.
    pub(crate) fn integer(
        &mut self,
        path: &str,
        node: &Node,
        min: i128,
        max: i128,
        expected: &str,
    ) -> Field<i128> {
        let field = self.scalar_text(path, node);
        self.convert(path, field, |s| match s.trim().parse::<i128>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!("must be {expected} (got {s:?})")),
        })
    }

    pub(crate) fn duration(&mut self, path: &str, node: &Node) -> Field<Duration> {
        let field = self.scalar_text(path, node);
        self.convert(path, field, fields::duration)
    }

    /// A duration that must not be zero (a zero timeout or lifetime makes everything fail).
    pub(crate) fn positive_duration(&mut self, path: &str, node: &Node) -> Field<Duration> {
        let field = self.scalar_text(path, node);
        self.convert(path, field, |s| {
            let d = fields::duration(s)?;
            if d.is_zero() {
                Err(format!("must be greater than zero (got {s:?})"))
            } else {
                Ok(d)
            }
        })
    }

    /// One of a fixed set of words.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        path: &str,
        node: &Node,
        options: &[(&str, T)],
    ) -> Field<T> {
        let field = self.text(path, node);
        self.convert(path, field, |s| {
            options
                .iter()
                .find(|(name, _)| *name == s)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                    format!("must be one of: {} (got {s:?})", names.join(", "))
                })
        })
    }

    fn convert<T>(
        &mut self,
        path: &str,
        field: Field<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Field<T> {
        match field {
            Field::Value(s) => match parse(&s) {
                Ok(v) => Field::Value(v),
                Err(message) => {
                    self.error(path, message);
                    Field::Bad
                }
            },
            Field::Absent => Field::Absent,
            Field::Bad => Field::Bad,
        }
    }
}
