use super::may_end_session;

#[test]
fn a_login_from_another_site_does_not_end_the_session() {
    for site in ["cross-site", "same-site", "Cross-Site", "bogus"] {
        assert!(!may_end_session(Some(site)), "{site}");
    }
}

#[test]
fn a_login_from_the_gateway_s_own_pages_typed_or_without_the_header_ends_it() {
    for site in [None, Some("same-origin"), Some("none"), Some(" None ")] {
        assert!(may_end_session(site), "{site:?}");
    }
}
