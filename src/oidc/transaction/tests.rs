use super::*;

#[test]
fn pkce_s256_matches_rfc7636_appendix_b() {
    assert_eq!(
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn generated_values_have_the_expected_shape() {
    let tx = Transaction::new("/x".into(), 100);
    assert!(plausible_state(&tx.state));
    assert_eq!(tx.code_verifier.len(), 43);
    assert_ne!(tx.state, tx.nonce);
    assert!(!tx.expired(100 + TRANSACTION_TTL_SECS - 1));
    assert!(tx.expired(100 + TRANSACTION_TTL_SECS));
}

#[test]
fn implausible_states_are_refused() {
    assert!(!plausible_state(""));
    assert!(!plausible_state("a;b=c"));
    assert!(!plausible_state(&"a".repeat(200)));
}

#[test]
fn step_up_parameters_are_checked() {
    assert_eq!(StepUp::parse(None, None), Ok(None));
    let s = StepUp::parse(Some("urn:mfa gold"), Some("0")).expect("valid");
    assert_eq!(
        s,
        Some(StepUp {
            acr_values: Some("urn:mfa gold".into()),
            max_age: Some(0)
        })
    );
    for bad in [
        "",
        "a  b",
        "a\"b",
        "x\u{7f}",
        "caf\u{e9}",
        "a b c d e f g h i",
    ] {
        assert_eq!(StepUp::parse(Some(bad), None), Err("acr_values"), "{bad:?}");
    }
    assert_eq!(
        StepUp::parse(Some(&"a".repeat(300)), None),
        Err("acr_values")
    );
    for bad in ["-1", "1.5", "", "abc", "99999999999", "+3"] {
        assert_eq!(StepUp::parse(None, Some(bad)), Err("max_age"), "{bad:?}");
    }
}

#[test]
fn a_step_up_holds_only_with_the_acr_and_auth_time_asked_for() {
    let s = StepUp {
        acr_values: Some("urn:mfa gold".into()),
        max_age: Some(300),
    };
    assert_eq!(s.satisfied_by(Some("gold"), Some(1000), 1200, 0), Ok(()));
    assert_eq!(
        s.satisfied_by(Some("silver"), Some(1000), 1200, 0),
        Err("acr")
    );
    assert_eq!(s.satisfied_by(None, Some(1000), 1200, 0), Err("acr"));
    assert_eq!(
        s.satisfied_by(Some("gold"), Some(800), 1200, 0),
        Err("auth_time")
    );
    assert_eq!(s.satisfied_by(Some("gold"), Some(800), 1200, 100), Ok(()));
    assert_eq!(
        s.satisfied_by(Some("gold"), None, 1200, 60),
        Err("auth_time")
    );
    let acr_only = StepUp {
        acr_values: Some("gold".into()),
        max_age: None,
    };
    assert_eq!(acr_only.satisfied_by(Some("gold"), None, 1200, 0), Ok(()));
}

#[test]
fn the_authorization_url_carries_the_step_up() {
    let config = crate::config::parse_str(
        r#"
server: { listen: "127.0.0.1:8080", public_url: "http://127.0.0.1:8080" }
provider: { issuer: "http://127.0.0.1:1/", client_id: gw, client_secret: s }
session: { keys: ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"] }
routes: [{ name: a, path_prefix: /a, upstream: "http://127.0.0.1:9" }]
"#,
        &|_| None,
    )
    .expect("a valid config");
    let mut tx = Transaction::new("/".into(), 1);
    tx.step_up = StepUp::parse(Some("urn:mfa"), Some("60")).expect("valid");
    let endpoint = Url::parse("http://op.example/auth").expect("a URL");
    let url = authorization_url(&endpoint, &config, &tx);
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.contains(&("acr_values".into(), "urn:mfa".into())));
    assert!(q.contains(&("max_age".into(), "60".into())));
    let plain = Transaction::new("/".into(), 1);
    let url = authorization_url(&endpoint, &config, &plain);
    assert!(!url.as_str().contains("acr_values") && !url.as_str().contains("max_age"));
}
