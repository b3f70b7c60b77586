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
