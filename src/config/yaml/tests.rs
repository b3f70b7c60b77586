//! The YAML tree: key order, the narrowed scalar types, and syntax errors without snippets.

use super::*;

fn s(v: &str) -> Node {
    Node::Str(v.to_owned())
}

#[test]
fn keeps_key_order_and_scalar_types() {
    let node = parse("b: 1\na: \"x\"\nc: true\nd: ~\ne: [1.5, y]\n").unwrap();
    assert_eq!(
        node,
        Node::Map(vec![
            ("b".into(), Node::Int(1)),
            ("a".into(), s("x")),
            ("c".into(), Node::Bool(true)),
            ("d".into(), Node::Null),
            ("e".into(), Node::Seq(vec![Node::Float(1.5), s("y")])),
        ])
    );
}

#[test]
fn only_true_and_false_are_booleans_and_odd_numbers_stay_text() {
    let node = parse("a: yes\nb: no\nc: 0123\nd: 1_000\ne: False\n").unwrap();
    assert_eq!(
        node,
        Node::Map(vec![
            ("a".into(), s("yes")),
            ("b".into(), s("no")),
            ("c".into(), s("0123")),
            ("d".into(), s("1_000")),
            ("e".into(), Node::Bool(false)),
        ])
    );
}

#[test]
fn hash_inside_quotes_is_data_and_after_space_is_a_comment() {
    let node = parse("a: \"x # y\"\nb: x # y\n").unwrap();
    assert_eq!(
        node,
        Node::Map(vec![("a".into(), s("x # y")), ("b".into(), s("x"))])
    );
}

#[test]
fn syntax_error_names_line_and_column() {
    let err = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
    assert_eq!(err.path, "");
    assert!(err.message.starts_with("YAML error"), "{}", err.message);
    assert!(err.message.contains("line "), "{}", err.message);
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let err = parse("a: 1\na: 2\n").unwrap_err();
    assert!(err.message.contains("line 2"), "{}", err.message);
}

#[test]
fn non_string_keys_get_a_textual_form() {
    let node = parse("1: a\n").unwrap();
    assert_eq!(node, Node::Map(vec![("1".into(), s("a"))]));
}
