use super::*;

fn pair() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

fn load(cert: &str, key: &str) -> Result<ServerCert, (Part, String)> {
    ServerCert::from_pem(
        cert.as_bytes(),
        Path::new("tls.crt"),
        key.as_bytes(),
        Path::new("tls.key"),
    )
}

#[test]
fn a_matching_pair_loads_with_its_expiry() {
    let (cert, key) = pair();
    let loaded = load(&cert, &key).unwrap();
    assert_eq!(loaded.key.cert.len(), 1);
    // rcgen's default validity runs to the year 4096.
    assert!(loaded.seconds_left(0) > 60 * 365 * 86_400);
}

#[test]
fn a_key_of_another_certificate_is_named_as_a_mismatch() {
    let (cert, _) = pair();
    let (_, other_key) = pair();
    let (part, message) = load(&cert, &other_key).unwrap_err();
    assert_eq!(part, Part::Pair);
    assert!(
        message.contains("tls.key does not match the certificate in tls.crt"),
        "{message}"
    );
}

#[test]
fn each_file_is_blamed_for_its_own_problem() {
    let (cert, key) = pair();
    assert_eq!(load(&key, &key).unwrap_err().0, Part::Cert);
    assert_eq!(load(&cert, &cert).unwrap_err().0, Part::Key);
}

#[test]
fn the_resolver_serves_the_latest_certificate() {
    let (cert, key) = pair();
    let resolver = CertResolver::new(load(&cert, &key).unwrap());
    let first = resolver.current().key.clone();
    let (cert2, key2) = pair();
    resolver.replace(load(&cert2, &key2).unwrap());
    let now = resolver.current().key.clone();
    assert!(!Arc::ptr_eq(&first, &now));
    assert_ne!(first.cert[0], now.cert[0]);
}
