//! The kinds of value a row of a section table can ask for. Each reader has the shape
//! `(walker, field path, node) -> Field<T>`: it checks the node, records any problem under the
//! path and returns the typed value. Plain readers are functions (`read::duration`); readers that
//! need a parameter are built by a function (`read::parsed(fields::socket_addr)`,
//! `read::count(0, 64)`, `read::list("CIDRs", read::parsed(..))`). A nested mapping with fixed
//! keys is a section function, which has the same shape (`provider.login`); a mapping with free
//! keys (a claim → values map) is a reader over `Node::Map` built like [`list`].

use super::fields;
use super::walker::{Field, Walker};
use super::yaml::Node;
use std::time::Duration;

/// A non-empty string (an empty one is an error, not an absent value).
pub(crate) fn non_empty(w: &mut Walker, path: &str, node: &Node) -> Field<String> {
    let field = w.text(path, node);
    w.convert(path, field, |s| {
        if s.is_empty() {
            Err("must not be empty".to_owned())
        } else {
            Ok(s.to_owned())
        }
    })
}

/// A string checked and converted by `parse` (one of the `fields` validators).
pub(crate) fn parsed<T>(
    parse: impl Fn(&str) -> Result<T, String>,
) -> impl Fn(&mut Walker, &str, &Node) -> Field<T> {
    move |w: &mut Walker, path: &str, node: &Node| {
        let field = w.text(path, node);
        w.convert(path, field, &parse)
    }
}

/// `true`/`false`, or a string that says so.
pub(crate) fn boolean(w: &mut Walker, path: &str, node: &Node) -> Field<bool> {
    if let Node::Bool(b) = node {
        return Field::Value(*b);
    }
    let field = w.scalar_text(path, node);
    w.convert(path, field, |s| match s.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, got {s:?}")),
    })
}

/// A whole number in `min..=max`.
pub(crate) fn count(min: usize, max: usize) -> impl Fn(&mut Walker, &str, &Node) -> Field<usize> {
    move |w: &mut Walker, path: &str, node: &Node| {
        let field = w.scalar_text(path, node);
        w.convert(path, field, |s| match s.trim().parse::<usize>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!(
                "must be an integer from {min} to {max} (got {s:?})"
            )),
        })
    }
}

/// `500ms`, `30s`, `5m`, `12h`, `7d`; zero allowed.
pub(crate) fn duration(w: &mut Walker, path: &str, node: &Node) -> Field<Duration> {
    let field = w.scalar_text(path, node);
    w.convert(path, field, fields::duration)
}

/// A duration that must not be zero (a zero timeout or lifetime makes everything fail).
pub(crate) fn positive_duration(w: &mut Walker, path: &str, node: &Node) -> Field<Duration> {
    let field = w.scalar_text(path, node);
    w.convert(path, field, |s| {
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
    options: &'static [(&'static str, T)],
) -> impl Fn(&mut Walker, &str, &Node) -> Field<T> {
    move |w: &mut Walker, path: &str, node: &Node| {
        let field = w.text(path, node);
        w.convert(path, field, |s| {
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
}

/// A list whose items are each read by `item` at `path[i]`; every bad item is reported.
/// `noun` names the items in "expected a list of {noun}". An empty entry (`- ` or `~`) is an
/// error: it is always a mistake, never a way to say "nothing".
pub(crate) fn list<T>(
    noun: &'static str,
    item: impl Fn(&mut Walker, &str, &Node) -> Field<T>,
) -> impl Fn(&mut Walker, &str, &Node) -> Field<Vec<T>> {
    move |w: &mut Walker, path: &str, node: &Node| {
        let items = match node {
            Node::Null => return Field::Absent,
            Node::Seq(items) => items,
            other => {
                w.error(
                    path,
                    format!("expected a list of {noun}, got {}", other.kind()),
                );
                return Field::Bad;
            }
        };
        let mut values = Vec::with_capacity(items.len());
        let mut bad = false;
        for (i, node) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match item(w, &item_path, node) {
                Field::Value(v) => values.push(v),
                Field::Absent => {
                    w.error(&item_path, "must not be empty (got null)");
                    bad = true;
                }
                Field::Bad => bad = true,
            }
        }
        if bad {
            Field::Bad
        } else {
            Field::Value(values)
        }
    }
}
