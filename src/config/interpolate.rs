//! `${VAR}` substitution in config values. It runs on each string scalar *after* YAML parsing, so
//! a secret that contains `#`, `: ` or a quote can never change the structure of the file, and an
//! error can name the exact field whose variable is missing.
//!
//! Syntax (a subset of the shell's): `${NAME}`, `${NAME:-default}` (the default also applies
//! when the variable is set but empty, as in the shell), and `$${` for a literal `${`. A `$` that
//! is not followed by `{` is kept as is; `$NAME` written the shell's other way is such a `$`, and
//! [`has_bare_reference`] finds it so that `check` can warn.

/// Why one `${...}` could not be replaced. Messages name the variable, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InterpolationError {
    /// `${NAME}` with `NAME` unset and no default.
    Unset(String),
    /// `${` without a closing `}`.
    Unterminated,
    /// `${...}` whose name is empty or has characters other than `[A-Za-z0-9_]`.
    BadName(String),
}

impl std::fmt::Display for InterpolationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpolationError::Unset(name) => write!(
                f,
                "environment variable {name} is not set (and no default given)"
            ),
            InterpolationError::Unterminated => {
                f.write_str("unterminated \"${\" (write \"$${\" for a literal \"${\")")
            }
            InterpolationError::BadName(name) => write!(
                f,
                "invalid environment variable name {name:?} in \"${{...}}\" \
                 (letters, digits and _ only)"
            ),
        }
    }
}

/// Replaces every `${...}` in `text`. All problems are returned, not only the first, so that
/// `"${A}:${B}"` with both unset reports both names.
pub(crate) fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<InterpolationError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                errors.push(InterpolationError::Unterminated);
                rest = "";
                break;
            };
            match substitute(&tail[..end], env) {
                Ok(value) => out.push_str(&value),
                Err(e) => errors.push(e),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// True when `text` has a `$NAME` (a `$` followed by a letter or `_`) outside `${...}` and
/// `$${`: it is kept literally, which is rarely what the author of `$HOME/x` meant.
pub(crate) fn has_bare_reference(text: &str) -> bool {
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            rest = tail.split_once('}').map_or("", |(_, tail)| tail);
        } else {
            let next = after[1..].chars().next();
            if next.is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
                return true;
            }
            rest = &after[1..];
        }
    }
    false
}

/// The value of one `${inner}` expression (`inner` is what stands between the braces).
fn substitute(
    inner: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    let (name, default) = match inner.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (inner, None),
    };
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(InterpolationError::BadName(name.to_owned()));
    }
    match (env(name), default) {
        (Some(value), Some(default)) if value.is_empty() => Ok(default.to_owned()),
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err(InterpolationError::Unset(name.to_owned())),
    }
}

#[cfg(test)]
mod tests;
