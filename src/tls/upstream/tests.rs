use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn pair() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

#[test]
fn a_bundle_loads_every_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = pair();
    let (b, _) = pair();
    let path = write(dir.path(), "ca.pem", &format!("{a}{b}"));
    let bundle = CaBundle::load(path.to_str().unwrap()).unwrap();
    assert_eq!(bundle.certs.len(), 2);
    assert!(format!("{bundle:?}").contains("2 certificates"));
}

#[test]
fn different_material_never_shares_a_pool_key() {
    let dir = tempfile::tempdir().unwrap();
    let (a, key_a) = pair();
    let (b, key_b) = pair();
    let ca_a = CaBundle::load(write(dir.path(), "a.pem", &a).to_str().unwrap()).unwrap();
    let ca_b = CaBundle::load(write(dir.path(), "b.pem", &b).to_str().unwrap()).unwrap();
    let client_a = ClientCert::load(
        &write(dir.path(), "ca.crt", &a),
        &write(dir.path(), "ca.key", &key_a),
    )
    .unwrap();
    let client_b = ClientCert::load(
        &write(dir.path(), "cb.crt", &b),
        &write(dir.path(), "cb.key", &key_b),
    )
    .unwrap();
    let keys = [
        group_key(None, None),
        group_key(Some(&ca_a), None),
        group_key(Some(&ca_b), None),
        group_key(None, Some(&client_a)),
        group_key(None, Some(&client_b)),
        group_key(Some(&ca_a), Some(&client_a)),
    ];
    for (i, x) in keys.iter().enumerate() {
        for y in &keys[i + 1..] {
            assert_ne!(x, y);
        }
    }
    assert_eq!(group_key(None, None), 0);
    assert_eq!(
        group_key(Some(&ca_a), None),
        group_key(Some(&ca_a.clone()), None)
    );
}

#[test]
fn a_client_certificate_must_match_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = pair();
    let (_, other_key) = pair();
    let err = ClientCert::load(
        &write(dir.path(), "c.crt", &cert),
        &write(dir.path(), "c.key", &other_key),
    )
    .unwrap_err();
    assert_eq!(err.0, Part::Pair);
    let shown = format!(
        "{:?}",
        ClientCert::load(
            &write(dir.path(), "d.crt", &cert),
            &write(dir.path(), "d.key", &pair().1),
        )
    );
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}
