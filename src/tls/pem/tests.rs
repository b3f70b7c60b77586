use super::*;

fn made() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

#[test]
fn a_chain_keeps_its_order_and_every_block() {
    let (a, _) = made();
    let (b, _) = made();
    let both = format!("{a}{b}");
    let certs = certificates(both.as_bytes(), Path::new("chain.pem")).unwrap();
    assert_eq!(certs.len(), 2);
    let first = CertificateDer::from_pem_slice(a.as_bytes()).unwrap();
    assert_eq!(certs[0], first);
}

#[test]
fn a_file_without_a_certificate_names_itself() {
    let (_, key) = made();
    let err = certificates(key.as_bytes(), Path::new("/etc/x.pem")).unwrap_err();
    assert!(err.contains("/etc/x.pem holds no PEM certificate"), "{err}");
    let err = certificates(b"", Path::new("empty.pem")).unwrap_err();
    assert!(err.contains("no PEM certificate"), "{err}");
}

#[test]
fn a_certificate_block_that_is_not_x509_is_refused_not_panicked_on() {
    let bogus = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let err = certificates(bogus.as_bytes(), Path::new("b.pem")).unwrap_err();
    assert!(err.contains("certificate 1 is not a valid X.509"), "{err}");
}

#[test]
fn keys_are_found_and_a_certificate_is_not_a_key() {
    let (cert, key) = made();
    assert!(private_key(key.as_bytes(), Path::new("k.pem")).is_ok());
    let err = private_key(cert.as_bytes(), Path::new("k.pem")).unwrap_err();
    assert!(err.contains("k.pem holds no PEM private key"), "{err}");
}

#[test]
fn the_expiry_is_read() {
    let mut params = rcgen::CertificateParams::new(vec!["x".to_owned()]).unwrap();
    params.not_after = rcgen::date_time_ymd(2031, 1, 2);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    assert_eq!(not_after(cert.der()), Some(1_925_078_400));
}

#[test]
fn reading_is_bounded_and_names_the_file() {
    let err = read(Path::new("/nonexistent/tls.crt")).unwrap_err();
    assert!(err.starts_with("cannot read /nonexistent/tls.crt"), "{err}");
}
