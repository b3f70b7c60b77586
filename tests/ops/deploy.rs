//! The Kubernetes manifests in `deploy/kubernetes/`: every kustomization rendered (`kubectl
//! kustomize`, no cluster needed) has the properties that keep a deployment safe as applied,
//! every manifest matches the Kubernetes schemas (`kubernetes-validate`, from PyPI, with the
//! schemas it bundles), and the routes.yaml the ConfigMap carries passes `tokengate check`.
//! `scripts/setup.sh` installs `kubernetes-validate`; `kubectl` comes with the machine image.

use crate::support::gateway::run_cli;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Every kustomization meant to be applied, with the session store it must give the gateway.
const VARIANTS: [(&str, &str); 3] = [
    ("deploy/kubernetes", "redis"),
    ("deploy/kubernetes/overlays/external-redis", "redis"),
    ("deploy/kubernetes/overlays/cookie-single-replica", "cookie"),
];

/// The oldest Kubernetes the manifests support (the preStop `sleep` action needs 1.30).
const OLDEST_KUBERNETES: &str = "1.30.0";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `kubectl kustomize <dir>` as YAML text, rendered once per test binary.
fn render_text(dir: &str) -> String {
    static RENDERED: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = RENDERED.get_or_init(Mutex::default);
    if let Some(text) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(dir) {
        return text.clone();
    }
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(root().join(dir))
        .output()
        .expect("kubectl is needed to render the kustomizations (it ships with kustomize)");
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 YAML");
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(dir.to_owned(), text.clone());
    text
}

/// The rendered resources of `dir`.
fn render(dir: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&render_text(dir)).expect("rendered YAML parses")
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    of_kind(docs, kind)
        .into_iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The gateway container's environment: name → literal value ("" when from a Secret).
fn env_of(deployment: &Value) -> Vec<(String, String)> {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .map(|env| {
            env.iter()
                .map(|e| {
                    let name = e["name"].as_str().unwrap_or_default().to_owned();
                    (name, e["value"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn env_value(deployment: &Value, name: &str) -> Option<String> {
    env_of(deployment)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Bytes from a Kubernetes quantity (`256Mi`, `200mb` as Redis writes it).
fn bytes(q: &str) -> u64 {
    let q = q.to_ascii_lowercase();
    let (digits, unit): (String, String) = q.chars().partition(|c| c.is_ascii_digit());
    let n: u64 = digits.parse().expect("a number");
    n * match unit.as_str() {
        "" => 1,
        "ki" => 1 << 10,
        "mi" | "mb" => 1 << 20,
        "gi" | "gb" => 1 << 30,
        other => panic!("unit {other}"),
    }
}

#[test]
fn every_variant_pairs_the_store_with_a_safe_replica_count() {
    for (dir, store) in VARIANTS {
        let docs = render(dir);
        let gw = named(&docs, "Deployment", "tokengate");
        let replicas = gw["spec"]["replicas"].as_u64().expect("replicas set");
        assert_eq!(
            env_value(gw, "TOKENGATE_SESSION_STORE").as_deref(),
            Some(store),
            "{dir}"
        );
        if store == "cookie" {
            assert_eq!(replicas, 1, "{dir}: the cookie store runs one replica");
            assert_eq!(
                gw["spec"]["strategy"]["type"], "Recreate",
                "{dir}: never two cookie-store pods side by side, even in a rollout"
            );
        } else {
            assert!(replicas >= 2, "{dir}: {replicas} replicas");
            assert!(
                env_value(gw, "TOKENGATE_REDIS_URL").is_some(),
                "{dir}: the redis store needs a URL"
            );
        }
        assert!(
            of_kind(&docs, "HorizontalPodAutoscaler").is_empty(),
            "{dir}: nothing scales the gateway behind the store's back"
        );
    }
    // The gateway directory alone decides neither, so they can only come together.
    let docs = render("deploy/kubernetes/gateway");
    let gw = named(&docs, "Deployment", "tokengate");
    assert!(gw["spec"]["replicas"].is_null());
    assert!(env_value(gw, "TOKENGATE_SESSION_STORE").is_none());
}

#[test]
fn no_variant_applies_a_secret() {
    for (dir, _) in VARIANTS {
        assert!(of_kind(&render(dir), "Secret").is_empty(), "{dir}");
    }
    assert!(of_kind(&render("deploy/kubernetes/ingress"), "Secret").is_empty());
    // The example exists, and no kustomization lists it.
    let example = root().join("deploy/kubernetes/secret.example.yaml");
    assert!(example.exists());
    for k in kustomization_files(&root().join("deploy/kubernetes")) {
        let text = std::fs::read_to_string(&k).expect("read kustomization");
        assert!(
            !text
                .lines()
                .any(|l| l.trim().starts_with("- ") && l.contains("secret")),
            "{} lists a Secret",
            k.display()
        );
    }
}

fn kustomization_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(kustomization_files(&path));
        } else if path.file_name().is_some_and(|n| n == "kustomization.yaml") {
            found.push(path);
        }
    }
    found
}

#[test]
fn pods_are_probed_sized_and_spread() {
    for (dir, _) in VARIANTS {
        let docs = render(dir);
        let gw = named(&docs, "Deployment", "tokengate");
        let pod = &gw["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{dir}");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{dir}");
        assert_eq!(c["readinessProbe"]["httpGet"]["port"], "admin", "{dir}");
        assert!(c["startupProbe"].is_object(), "{dir}");
        let keys: Vec<&str> = pod["topologySpreadConstraints"]
            .as_array()
            .expect("topology spread")
            .iter()
            .filter_map(|t| t["topologyKey"].as_str())
            .collect();
        assert!(keys.contains(&"kubernetes.io/hostname"), "{dir}: {keys:?}");
        let image = c["image"].as_str().expect("image");
        let registry = image.split('/').next().unwrap_or_default();
        assert!(
            image.contains('/') && registry.contains('.'),
            "{dir}: {image} names a registry"
        );
        for workload in of_kind(&docs, "Deployment")
            .into_iter()
            .chain(of_kind(&docs, "StatefulSet"))
        {
            assert_requests_are_limits(dir, workload);
        }
    }
}

/// Memory requests equal limits (what the scheduler reserves is what the pod may use); a CPU
/// limit, when there is one, equals the request.
fn assert_requests_are_limits(dir: &str, workload: &Value) {
    let name = &workload["metadata"]["name"];
    for c in workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
    {
        let r = &c["resources"];
        let memory = r["requests"]["memory"].as_str();
        assert!(memory.is_some(), "{dir} {name}: memory request");
        assert_eq!(
            memory,
            r["limits"]["memory"].as_str(),
            "{dir} {name}: memory"
        );
        if !r["limits"]["cpu"].is_null() {
            assert_eq!(
                r["requests"]["cpu"], r["limits"]["cpu"],
                "{dir} {name}: cpu"
            );
        }
    }
}

#[test]
fn the_admin_port_is_on_its_own_service_and_the_ingress_never_reaches_it() {
    for (dir, _) in VARIANTS {
        let docs = render(dir);
        let proxy = named(&docs, "Service", "tokengate");
        let ports: Vec<&Value> = proxy["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .collect();
        assert!(
            ports
                .iter()
                .all(|p| p["targetPort"] != "admin" && p["port"] != 9901),
            "{dir}: {ports:?}"
        );
        let admin = named(&docs, "Service", "tokengate-admin");
        assert_eq!(admin["spec"]["ports"][0]["targetPort"], "admin", "{dir}");
    }
    let docs = render("deploy/kubernetes/ingress");
    let ingress = named(&docs, "Ingress", "tokengate");
    assert!(ingress["spec"]["tls"][0]["secretName"].is_string(), "TLS");
    for rule in ingress["spec"]["rules"].as_array().expect("rules") {
        for path in rule["http"]["paths"].as_array().expect("paths") {
            let backend = &path["backend"]["service"];
            assert_eq!(backend["name"], "tokengate");
            assert_eq!(backend["port"]["name"], "http");
        }
    }
}

#[test]
fn the_config_map_is_hashed_and_its_routes_pass_check() {
    let file = std::fs::read_to_string(root().join("deploy/kubernetes/gateway/routes.yaml"))
        .expect("routes.yaml");
    for (dir, store) in VARIANTS {
        let docs = render(dir);
        let cm = of_kind(&docs, "ConfigMap");
        assert_eq!(cm.len(), 1, "{dir}");
        let name = cm[0]["metadata"]["name"].as_str().expect("name");
        assert!(
            name.starts_with("tokengate-config-") && name.len() > "tokengate-config-".len(),
            "{dir}: {name} carries a content hash"
        );
        let gw = named(&docs, "Deployment", "tokengate");
        assert_eq!(
            gw["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"], name,
            "{dir}: the pods mount the hashed name"
        );
        assert_eq!(cm[0]["data"]["routes.yaml"], file.as_str(), "{dir}");
        let (status, stdout, stderr) = run_cli(&["check"], Some(&file), &dummy_env(store));
        assert!(status.success(), "{dir}: {stdout}{stderr}");
    }
    // Without a store component the gateway does not start, and says why.
    let env = dummy_env("cookie");
    let env: Vec<_> = env
        .into_iter()
        .filter(|(k, _)| *k != "TOKENGATE_SESSION_STORE")
        .collect();
    let (status, stdout, stderr) = run_cli(&["check"], Some(&file), &env);
    assert!(!status.success());
    let said = format!("{stdout}{stderr}");
    assert!(said.contains("TOKENGATE_SESSION_STORE"), "{said}");
}

/// Values of the right shape for every variable the ConfigMap's routes.yaml reads.
fn dummy_env(store: &'static str) -> Vec<(&'static str, &'static str)> {
    const KEY: &str = "dG9rZW5nYXRlLWRlcGxveS10ZXN0LWtleS0zMmJ5dGU";
    vec![
        ("TOKENGATE_CLIENT_ID", "client-id"),
        ("TOKENGATE_CLIENT_SECRET", "client-secret"),
        ("TOKENGATE_SESSION_KEY", KEY),
        ("TOKENGATE_SESSION_KEY_2", KEY),
        ("TOKENGATE_SESSION_STORE", store),
        (
            "TOKENGATE_REDIS_URL",
            "redis://:0123abcd@tokengate-redis:6379",
        ),
    ]
}

#[test]
fn the_bundled_redis_cannot_evict_or_outgrow_its_limit() {
    let docs = render("deploy/kubernetes");
    let redis = named(&docs, "StatefulSet", "tokengate-redis");
    let c = &redis["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let arg = |flag: &str| {
        let at = args.iter().position(|a| *a == flag);
        at.and_then(|i| args.get(i + 1)).copied()
    };
    assert_eq!(arg("--maxmemory-policy"), Some("noeviction"));
    assert_eq!(arg("--appendonly"), Some("yes"));
    assert_eq!(arg("--requirepass"), Some("$(REDIS_PASSWORD)"));
    let maxmemory = bytes(arg("--maxmemory").expect("maxmemory"));
    let limit = bytes(c["resources"]["limits"]["memory"].as_str().expect("limit"));
    assert!(
        limit >= 2 * maxmemory,
        "room for the fork of an append-only-file rewrite: {limit} vs {maxmemory}"
    );
    assert!(
        redis["spec"]["volumeClaimTemplates"][0].is_object(),
        "persistent"
    );
    let policy = named(&docs, "NetworkPolicy", "tokengate-redis");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
            ["app.kubernetes.io/component"],
        "gateway"
    );
    named(&docs, "PodDisruptionBudget", "tokengate-redis");
}

#[test]
fn every_manifest_matches_the_kubernetes_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (k, source) in VARIANTS
        .iter()
        .map(|(d, _)| *d)
        .chain(["deploy/kubernetes/ingress"])
        .enumerate()
    {
        let path = dir.path().join(format!("rendered-{k}.yaml"));
        std::fs::write(&path, render_text(source)).expect("write rendering");
        files.push(path);
    }
    for example in [
        "deploy/kubernetes/secret.example.yaml",
        "deploy/kubernetes/ingress/ingress-nginx-controller.yaml",
    ] {
        files.push(root().join(example));
    }
    for version in [OLDEST_KUBERNETES, "latest"] {
        let mut cmd = Command::new("kubernetes-validate");
        cmd.args(["--strict", "--quiet"]);
        if version != "latest" {
            cmd.args(["-k", version]);
        }
        let out = cmd.args(&files).output().expect(
            "kubernetes-validate is needed (pip install kubernetes-validate; scripts/setup.sh does)",
        );
        assert!(
            out.status.success(),
            "Kubernetes {version}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The `routes.yaml` blocks of a guide: fenced `yaml` blocks whose first line starts with
/// `# routes.yaml`.
fn guide_configs(guide: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(guide)).expect("read the guide");
    let mut configs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```yaml" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        if block
            .first()
            .is_some_and(|l| l.starts_with("# routes.yaml"))
        {
            configs.push(block.join("\n") + "\n");
        }
    }
    configs
}

/// A guide's block that shows only `routes:` (a variant), completed with the other sections of
/// the guide's first, full config.
fn with_sections_of(full: &str, block: &str) -> String {
    if !block.lines().any(|l| l.starts_with("routes:")) || block.contains("\nprovider:") {
        return block.to_owned();
    }
    let head = full.split("\nroutes:").next().unwrap_or(full);
    let routes = block.split("\nroutes:").nth(1).unwrap_or_default();
    format!("{head}\nroutes:{routes}")
}

#[test]
fn the_provider_guides_configs_pass_check() {
    let env = dummy_env("redis");
    for guide in [
        "docs/providers/auth0.md",
        "docs/providers/keycloak.md",
        "docs/providers/okta.md",
    ] {
        let configs = guide_configs(guide);
        assert!(!configs.is_empty(), "{guide} has a routes.yaml");
        for yaml in configs.iter().map(|c| with_sections_of(&configs[0], c)) {
            let (status, stdout, stderr) = run_cli(&["check"], Some(&yaml), &env);
            assert!(status.success(), "{guide}:\n{stdout}{stderr}\n{yaml}");
        }
    }
}

#[path = "deploy/tls.rs"]
mod tls;
