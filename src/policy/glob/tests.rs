use super::Glob;

fn m(pattern: &str, value: &str) -> bool {
    Glob::new(pattern).matches(value)
}

#[test]
fn without_a_star_the_whole_value_must_be_equal() {
    assert!(m("admins", "admins"));
    assert!(!m("admins", "admin"));
    assert!(!m("admins", "admins2"));
    assert!(!m("admins", "Admins"), "case matters");
    assert!(!m("admins", ""));
    assert!(m("", ""));
    assert!(!m("", "x"));
    assert!(!Glob::new("admins").is_wild());
}

#[test]
fn a_star_matches_any_run_of_characters() {
    assert!(m("*@example.com", "alice@example.com"));
    assert!(m("*@example.com", "@example.com"), "the run may be empty");
    assert!(!m("*@example.com", "alice@example.com.evil"));
    assert!(!m("*@example.com", "alice@EXAMPLE.com"));
    assert!(m("team-*", "team-a"));
    assert!(m("team-*", "team-"));
    assert!(!m("team-*", "team"));
    assert!(m("*", ""));
    assert!(m("*", "anything at all"));
    assert!(m("**", "x"));
    assert!(Glob::new("*").is_wild());
}

#[test]
fn middle_pieces_must_appear_in_order_between_prefix_and_suffix() {
    assert!(m("a*b*c", "abc"));
    assert!(m("a*b*c", "axxbyyc"));
    assert!(!m("a*b*c", "acb"));
    assert!(!m("a*c*c", "ac"), "prefix and suffix may not overlap");
    assert!(m("a*c*c", "acc"));
    assert!(m("*b*", "abc"));
    assert!(!m("*b*", "ac"));
    assert!(m("urn:*:mfa", "urn:example:mfa"));
    assert!(!m("urn:*:mfa", "urn:mfa"));
    assert!(m("x*yy*y", "xyyy"));
    assert!(!m("x*yy*y", "xyy"));
}

#[test]
fn prefix_and_suffix_never_share_characters() {
    assert!(!m("ab*ba", "aba"));
    assert!(m("ab*ba", "abba"));
}

#[test]
fn multibyte_text_is_matched_by_characters_not_split_inside_one() {
    assert!(m("*ö*", "Zoë Ström"));
    assert!(m("Zo*", "Zoë"));
    assert!(!m("*é", "e"));
    assert!(m("é*é", "éé"));
    assert!(!m("é*é", "é"));
}

#[test]
fn the_pattern_is_kept_as_written() {
    assert_eq!(Glob::new("a*b").as_str(), "a*b");
}
