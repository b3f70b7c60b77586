//! `components/tls`: TLS on the gateway's listener in Kubernetes. Added to the default
//! kustomization (in a copy, with `server.tls` uncommented as the component says), it renders a
//! cert-manager `Certificate` whose Secret is mounted (never by `subPath`, which would not see
//! renewals) where `routes.yaml` reads the certificate, and the result passes the schemas and
//! `tokengate check` with real files at those paths' names.

use super::{dummy_env, named, of_kind, render_text, root};
use crate::support::gateway::run_cli;
use serde_json::Value;
use std::process::Command;

const COMMENTED: &str =
    "  # tls: { cert: /etc/tokengate-tls/tls.crt, key: /etc/tokengate-tls/tls.key }";

#[test]
fn the_tls_component_mounts_the_certificate_the_config_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("kubernetes");
    let status = Command::new("cp")
        .arg("-r")
        .arg(root().join("deploy/kubernetes"))
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    let edit = |file: &str, from: &str, to: &str| {
        let path = copy.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{file} has {from:?}");
        std::fs::write(&path, text.replace(from, to)).expect("write");
    };
    edit(
        "kustomization.yaml",
        "  - components/redis\n",
        "  - components/redis\n  - components/tls\n",
    );
    edit(
        "gateway/routes.yaml",
        COMMENTED,
        &COMMENTED.replace("# ", ""),
    );
    let text = render_text(copy.to_str().expect("UTF-8 path"));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("rendered YAML parses");

    let cert = named(&docs, "Certificate", "tokengate-gateway");
    let secret = cert["spec"]["secretName"].as_str().expect("secretName");
    let pod = &named(&docs, "Deployment", "tokengate")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["secret"]["secretName"] == secret)
        .expect("the Certificate's Secret is a volume");
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("and is mounted");
    assert!(
        mount["subPath"].is_null(),
        "a subPath mount never sees renewals"
    );
    let at = mount["mountPath"].as_str().expect("mountPath");
    let routes = of_kind(&docs, "ConfigMap")[0]["data"]["routes.yaml"]
        .as_str()
        .expect("routes.yaml")
        .to_owned();
    let tls_line = format!("  tls: {{ cert: {at}/tls.crt, key: {at}/tls.key }}");
    assert!(
        routes.contains(&tls_line),
        "routes.yaml reads the mounted files"
    );

    // The rendering is valid, and the config passes check once the files exist.
    let rendered = dir.path().join("rendered.yaml");
    std::fs::write(&rendered, &text).expect("write");
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--quiet", "-k", super::OLDEST_KUBERNETES])
        .arg(&rendered)
        .output()
        .expect("kubernetes-validate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let made = rcgen::generate_simple_self_signed(vec!["app.example.com".to_owned()])
        .expect("certificate");
    std::fs::write(dir.path().join("tls.crt"), made.cert.pem()).expect("write");
    std::fs::write(dir.path().join("tls.key"), made.signing_key.serialize_pem()).expect("write");
    let local = routes.replace(at, dir.path().to_str().expect("UTF-8 path"));
    let (status, stdout, stderr) = run_cli(&["check"], Some(&local), &dummy_env("redis"));
    assert!(status.success(), "{stdout}{stderr}");
}
