use super::*;

#[test]
fn rust_log_wins_then_tokengate_log_then_info() {
    assert_eq!(filter_directives(Some("warn"), Some("error")), "warn");
    assert_eq!(filter_directives(None, Some("error")), "error");
    assert_eq!(filter_directives(Some("  "), Some("error")), "error");
    assert_eq!(filter_directives(None, None), "info");
}

#[test]
fn a_verbose_default_caps_pingora() {
    assert_eq!(filter_directives(Some("debug"), None), "debug,pingora=info");
    assert_eq!(
        filter_directives(Some("info,tokengate=trace,TRACE"), None),
        "info,tokengate=trace,TRACE,pingora=info"
    );
    assert_eq!(filter_directives(Some("5"), None), "5,pingora=info");
}

#[test]
fn a_quiet_default_is_left_alone() {
    // Appending `pingora=info` here would make pingora *more* verbose than asked.
    assert_eq!(filter_directives(Some("warn"), None), "warn");
    assert_eq!(filter_directives(Some("debug,info"), None), "debug,info");
    // No default level: targets not named are off.
    assert_eq!(
        filter_directives(Some("tokengate=trace"), None),
        "tokengate=trace"
    );
}

#[test]
fn an_explicit_pingora_directive_is_respected() {
    assert_eq!(
        filter_directives(Some("debug,pingora_proxy=debug"), None),
        "debug,pingora_proxy=debug"
    );
}

#[test]
fn every_result_is_a_valid_filter() {
    for input in ["debug", "info,tokengate=trace,TRACE", "warn", "5"] {
        let d = filter_directives(Some(input), None);
        assert!(EnvFilter::try_new(&d).is_ok(), "{d}");
    }
}
