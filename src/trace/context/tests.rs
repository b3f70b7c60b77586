use super::*;

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn parses_a_valid_traceparent() {
    let p = parse_traceparent(VALID.as_bytes()).unwrap();
    assert_eq!(p.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert_eq!(p.parent_id, 0x00f067aa0ba902b7);
    assert_eq!(p.flags, 1);
}

#[test]
fn refuses_malformed_traceparents() {
    let bad = [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
        "00-4bf92f3577b34da6a3ce929d0e0e473--00f067aa0ba902b7-01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    ];
    for b in bad {
        assert_eq!(parse_traceparent(b.as_bytes()), None, "{b}");
    }
}

#[test]
fn reads_a_later_version_as_version_00() {
    let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more";
    assert!(parse_traceparent(later.as_bytes()).is_some());
}

#[test]
fn formats_what_it_parses() {
    let ctx = TraceContext {
        trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
        span_id: 0x00f067aa0ba902b7,
        parent_id: None,
        flags: 1,
        tracestate: None,
    };
    assert_eq!(ctx.traceparent().to_str().unwrap(), VALID);
}

#[test]
fn continues_the_clients_trace_with_a_new_span() {
    let ctx = TraceContext::from_headers(&headers(&[("traceparent", VALID)]));
    assert_eq!(ctx.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
    assert_eq!(ctx.parent_id, Some(0x00f067aa0ba902b7));
    assert_ne!(ctx.span_id, 0x00f067aa0ba902b7);
    assert_ne!(ctx.span_id, 0);
    let sent = ctx.traceparent();
    let back = parse_traceparent(sent.as_bytes()).unwrap();
    assert_eq!(back.trace_id, ctx.trace_id);
    assert_eq!(back.parent_id, ctx.span_id);
}

#[test]
fn keeps_only_the_sampled_flag() {
    let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff";
    assert_eq!(
        TraceContext::from_headers(&headers(&[("traceparent", v)])).flags,
        1
    );
    let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    assert_eq!(
        TraceContext::from_headers(&headers(&[("traceparent", v)])).flags,
        0
    );
}

#[test]
fn malformed_or_repeated_traceparent_starts_a_new_sampled_trace() {
    for h in [
        headers(&[("traceparent", "garbage"), ("tracestate", "a=1")]),
        headers(&[("traceparent", VALID), ("traceparent", VALID)]),
        headers(&[]),
    ] {
        let ctx = TraceContext::from_headers(&h);
        assert_ne!(ctx.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_ne!(ctx.trace_id, 0);
        assert_eq!(ctx.parent_id, None);
        assert_eq!(ctx.flags, SAMPLED);
        assert_eq!(
            ctx.tracestate, None,
            "tracestate only beside a valid traceparent"
        );
    }
}

#[test]
fn a_child_is_a_new_span_of_the_same_trace() {
    let ctx = TraceContext::from_headers(&headers(&[("traceparent", VALID)]));
    let child = ctx.child();
    assert_eq!(child.trace_id, ctx.trace_id);
    assert_eq!(child.parent_id, Some(ctx.span_id));
    assert_ne!(child.span_id, ctx.span_id);
}

#[test]
fn keeps_a_bounded_tracestate() {
    let ctx = TraceContext::from_headers(&headers(&[
        ("traceparent", VALID),
        ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    ]));
    assert_eq!(
        ctx.tracestate.unwrap().to_str().unwrap(),
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );
}

#[test]
fn drops_a_tracestate_past_the_bounds() {
    let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
    assert!(!tracestate_ok(many.join(",").as_bytes()));
    assert!(tracestate_ok(many[..32].join(",").as_bytes()));
    let long = format!("k={}", "v".repeat(MAX_TRACESTATE_BYTES));
    assert!(!tracestate_ok(long.as_bytes()));
    assert!(tracestate_ok(b"a=1,,b=2"));
    assert!(!tracestate_ok(b"=1"));
    assert!(!tracestate_ok(b"novalue"));
    assert!(!tracestate_ok(b" , "));
    let ctx = TraceContext::from_headers(&headers(&[
        ("traceparent", VALID),
        ("tracestate", &many.join(",")),
    ]));
    assert_eq!(ctx.tracestate, None);
}
