//! `${VAR}` replacement: defaults, escapes, every missing name, and bare `$NAME` detection.

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

#[test]
fn bare_references_are_found_outside_braces_only() {
    for text in ["$HOME/x", "a $_X", "${A}$B", "$$HOME", "x-$y"] {
        assert!(has_bare_reference(text), "{text}");
    }
    for text in [
        "${HOME}/x",
        "$${HOME}",
        "$ 5",
        "$1",
        "price: 5$",
        "a$",
        "${A:-$}",
        "",
    ] {
        assert!(!has_bare_reference(text), "{text}");
    }
}
