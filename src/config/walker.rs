//! The state of one walk over `routes.yaml`: every problem found so far, every warning, and the
//! reading of string scalars (where `${VAR}` is replaced). The kinds of value a table row can ask
//! for are built on this in `read.rs`. A walker records a problem under its field path and goes
//! on, so one pass finds every problem in the file, in document order.

use super::interpolate::{has_bare_reference, interpolate};
use super::problems::{ConfigError, ConfigWarning};
use super::yaml::Node;

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

    /// The value, if there is one.
    pub(crate) fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Absent | Field::Bad => None,
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

/// Reads nodes and collects every problem and warning, in the order the walk meets them.
pub(crate) struct Walker<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    pub(crate) errors: Vec<ConfigError>,
    pub(crate) warnings: Vec<ConfigWarning>,
}

impl<'e> Walker<'e> {
    pub(crate) fn new(env: &'e dyn Fn(&str) -> Option<String>) -> Self {
        Walker {
            env,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Something that loads but is likely to fail at run time; never fatal.
    pub(crate) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
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

    /// Only the text written in the file is looked at for `$NAME`: a value that comes from the
    /// environment may hold any `$`. The warning never quotes the value (it may be a secret).
    fn interpolated(&mut self, path: &str, s: &str) -> Field<String> {
        if has_bare_reference(s) {
            self.warn(
                path,
                "\"$\" followed by a name is kept as is, not read from the environment: write \
                 ${NAME} for the variable NAME (a value that must contain \"$NAME\" can come \
                 from such a variable)",
            );
        }
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

    /// A scalar that was interpolated if it was a string: how numbers and booleans written as
    /// `"${THREADS:-2}"` are read.
    pub(crate) fn scalar_text(&mut self, path: &str, node: &Node) -> Field<String> {
        match node {
            Node::Int(i) => Field::Value(i.to_string()),
            Node::Float(x) => Field::Value(x.to_string()),
            Node::Bool(b) => Field::Value(b.to_string()),
            other => self.text(path, other),
        }
    }

    /// Applies `parse` to a string that was read, recording its message under `path`.
    pub(crate) fn convert<T>(
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
