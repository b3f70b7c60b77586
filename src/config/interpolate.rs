//! `${VAR}` substitution in config values. It runs on each string scalar *after* YAML parsing, so
//! a secret that contains `#`, `: ` or a quote can never change the structure of the file, and an
//! error can name the exact field whose variable is missing.
//!
//! Syntax (a subset of the shell's): `${NAME}`, `${NAME:-default}` (the default also applies
//! when the variable is set but empty, as in the shell), and `$${` for a literal `${`. A `$` that
//! is not followed by `{` is kept as is.

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
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            "SECRET" => Some("s3cr#t: x".into()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, Vec<InterpolationError>> {
        interpolate(text, &env)
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(run("no vars here"), Ok("no vars here".into()));
        assert_eq!(run(""), Ok(String::new()));
    }

    #[test]
    fn replaces_set_variables_anywhere_in_the_value() {
        assert_eq!(run("${A}"), Ok("alpha".into()));
        assert_eq!(run("x-${A}-${A}-y"), Ok("x-alpha-alpha-y".into()));
    }

    #[test]
    fn default_applies_when_unset_or_empty() {
        assert_eq!(run("${NOPE:-2}"), Ok("2".into()));
        assert_eq!(run("${EMPTY:-d}"), Ok("d".into()));
        assert_eq!(run("${A:-d}"), Ok("alpha".into()));
        assert_eq!(run("${NOPE:-}"), Ok(String::new()));
        assert_eq!(run("${NOPE:-a:-b}"), Ok("a:-b".into()));
    }

    #[test]
    fn set_but_empty_without_default_is_empty() {
        assert_eq!(run("${EMPTY}"), Ok(String::new()));
    }

    #[test]
    fn missing_variable_is_named() {
        assert_eq!(
            run("${NOPE}"),
            Err(vec![InterpolationError::Unset("NOPE".into())])
        );
        let msg = InterpolationError::Unset("NOPE".into()).to_string();
        assert_eq!(
            msg,
            "environment variable NOPE is not set (and no default given)"
        );
    }

    #[test]
    fn every_missing_variable_is_reported() {
        assert_eq!(
            run("${X}:${Y}"),
            Err(vec![
                InterpolationError::Unset("X".into()),
                InterpolationError::Unset("Y".into())
            ])
        );
    }

    #[test]
    fn double_dollar_brace_is_a_literal() {
        assert_eq!(run("$${A}"), Ok("${A}".into()));
        assert_eq!(run("a$${b}${A}"), Ok("a${b}alpha".into()));
    }

    #[test]
    fn lone_dollars_are_kept() {
        assert_eq!(run("$A $ $$ x$"), Ok("$A $ $$ x$".into()));
    }

    #[test]
    fn values_are_not_reinterpreted() {
        // A value that itself looks like a reference stays literal: no recursive expansion.
        let env = |_: &str| Some("${A}".to_owned());
        assert_eq!(interpolate("${B}", &env), Ok("${A}".into()));
        assert_eq!(run("${SECRET}"), Ok("s3cr#t: x".into()));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(run("${A"), Err(vec![InterpolationError::Unterminated]));
        assert_eq!(
            run("${}"),
            Err(vec![InterpolationError::BadName(String::new())])
        );
        assert_eq!(
            run("${A-B}"),
            Err(vec![InterpolationError::BadName("A-B".into())])
        );
    }
}
