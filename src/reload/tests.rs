use super::watch::{Debounce, Fingerprint, Poll};
use super::*;
use crate::config::parse_str;
use std::time::{Duration, Instant};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn yaml(listen: &str, upstream: &str) -> String {
    format!(
        r#"server:
  listen: "{listen}"
  public_url: "http://127.0.0.1:8080"
provider:
  issuer: "https://issuer.example.com/"
  client_id: "gw"
  client_secret: "gw-secret"
session:
  keys: ["{KEY}"]
routes:
  - name: orders
    path_prefix: /api/orders
    upstream: "{upstream}"
"#
    )
}

fn parse(text: &str) -> Config {
    parse_str(text, &|_| None).unwrap()
}

fn app_with(text: &str) -> Arc<App> {
    App::new(Loaded::new(parse(text)).unwrap()).unwrap()
}

fn upstream_port(app: &App) -> u16 {
    app.current.load().config.routes[0].upstream.port
}

fn reloads(app: &App, result: &str) -> u64 {
    app.metrics.reloads.with_label_values(&[result]).get()
}

#[test]
fn nothing_restart_bound_changed_between_equal_configs() {
    let a = parse(&yaml("127.0.0.1:8080", "http://127.0.0.1:9101"));
    let b = parse(&yaml("127.0.0.1:8080", "http://127.0.0.1:9999"));
    assert_eq!(restart_required(&a, &b), Vec::<&str>::new());
}

#[test]
fn names_every_restart_bound_field_that_changed() {
    let a = parse(&yaml("127.0.0.1:8080", "http://127.0.0.1:9101"));
    let text = yaml("127.0.0.1:8081", "http://127.0.0.1:9101")
        .replace("https://issuer.example.com/", "https://other.example.com/")
        .replace(
            "  public_url:",
            "  threads: 3\n  admin_listen: \"127.0.0.1:9901\"\n  grace_period: 5s\n  public_url:",
        )
        .replace(
            "session:\n",
            "session:\n  store: redis\n  redis_url: \"redis://127.0.0.1:6379\"\n",
        );
    assert_eq!(
        restart_required(&a, &parse(&text)),
        vec![
            "server.listen",
            "server.admin_listen",
            "server.threads",
            "server.grace_period",
            "provider.issuer",
            "session.store",
            "session.redis_url",
        ]
    );
}

#[test]
fn a_valid_file_is_swapped_in_and_counted() {
    let app = app_with(&yaml("127.0.0.1:8080", "http://127.0.0.1:9101"));
    let before = app.current.load_full();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), yaml("127.0.0.1:8080", "http://127.0.0.1:9202")).unwrap();

    let user = crate::session::model::User {
        sub: "u".into(),
        name: None,
        email: None,
        sid: None,
    };
    let session = crate::session::model::Session::new(user, 1_700_000_000);
    let sealed = before.keys.seal_session("tokengate", &session).unwrap();
    before
        .opened
        .open(&before.keys, "tokengate", sealed)
        .unwrap();
    assert_eq!(before.opened.len(), 1);

    assert!(reload_and_report(&app, file.path(), "test"));
    assert_eq!(upstream_port(&app), 9202);
    // A request that loaded the old config keeps it whole, but the old cache of opened
    // sessions is emptied: nothing would use or expire it any more.
    assert_eq!(before.config.routes[0].upstream.port, 9101);
    assert_eq!(before.opened.len(), 0);
    assert_eq!(
        (
            reloads(&app, RELOAD_SUCCESS),
            reloads(&app, RELOAD_REJECTED)
        ),
        (1, 0)
    );
}

#[test]
fn an_invalid_file_is_rejected_with_its_problems_and_the_old_config_stays() {
    let app = app_with(&yaml("127.0.0.1:8080", "http://127.0.0.1:9101"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), yaml("127.0.0.1:8080", "ftp://127.0.0.1:9202")).unwrap();

    let err = reload(&app, file.path()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("invalid configuration: routes[0].upstream: "),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message:?}");
    assert_eq!(upstream_port(&app), 9101);

    assert!(!reload_and_report(&app, file.path(), "test"));
    assert_eq!(
        (
            reloads(&app, RELOAD_SUCCESS),
            reloads(&app, RELOAD_REJECTED)
        ),
        (0, 1)
    );
}

#[test]
fn a_listener_change_is_rejected_until_a_restart() {
    let app = app_with(&yaml("127.0.0.1:8080", "http://127.0.0.1:9101"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), yaml("127.0.0.1:8081", "http://127.0.0.1:9202")).unwrap();

    let err = reload(&app, file.path()).unwrap_err();
    assert_eq!(err.to_string(), "server.listen changed; restart to apply");
    assert_eq!(upstream_port(&app), 9101);
}

#[test]
fn a_missing_file_is_rejected() {
    let app = app_with(&yaml("127.0.0.1:8080", "http://127.0.0.1:9101"));
    let err = reload(&app, Path::new("/nonexistent/routes.yaml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid configuration: cannot read /nonexistent/routes.yaml"),
        "{err}"
    );
}

fn fp(s: &str) -> Option<Fingerprint> {
    Some(Fingerprint::of(s.as_bytes()))
}

const SETTLE: Duration = Duration::from_millis(300);

#[test]
fn the_loaded_content_never_reloads() {
    let t0 = Instant::now();
    let mut d = Debounce::new(fp("a"), SETTLE);
    assert_eq!(d.observe(fp("a"), t0), Poll::Idle);
    assert_eq!(d.observe(fp("a"), t0 + Duration::from_secs(10)), Poll::Idle);
}

#[test]
fn a_change_reloads_once_it_is_stable() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut d = Debounce::new(fp("a"), SETTLE);
    assert_eq!(d.observe(fp("b"), ms(0)), Poll::Settling);
    assert_eq!(d.observe(fp("b"), ms(299)), Poll::Settling);
    assert_eq!(d.observe(fp("b"), ms(300)), Poll::Reload);
    // Tried once: not again, whatever the result was.
    assert_eq!(d.observe(fp("b"), ms(1_300)), Poll::Idle);
}

#[test]
fn a_file_still_being_written_restarts_the_wait() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut d = Debounce::new(fp("a"), SETTLE);
    assert_eq!(d.observe(fp("b1"), ms(0)), Poll::Settling);
    assert_eq!(d.observe(fp("b2"), ms(200)), Poll::Settling);
    assert_eq!(d.observe(fp("b2"), ms(400)), Poll::Settling);
    assert_eq!(d.observe(fp("b2"), ms(500)), Poll::Reload);
}

#[test]
fn an_unreadable_file_waits_and_a_revert_cancels() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut d = Debounce::new(fp("a"), SETTLE);
    assert_eq!(d.observe(fp("b"), ms(0)), Poll::Settling);
    assert_eq!(d.observe(None, ms(100)), Poll::Idle);
    assert!(!d.settling());
    assert_eq!(d.observe(fp("a"), ms(500)), Poll::Idle);
}

#[test]
fn a_sighup_reload_counts_as_trying_that_content() {
    let t0 = Instant::now();
    let mut d = Debounce::new(fp("a"), SETTLE);
    assert_eq!(d.observe(fp("b"), t0), Poll::Settling);
    d.tried(fp("b"));
    assert!(!d.settling());
    assert_eq!(d.observe(fp("b"), t0 + Duration::from_secs(1)), Poll::Idle);
}

#[test]
fn adding_server_tls_needs_a_restart_and_changing_its_files_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    for name in ["a", "b"] {
        std::fs::write(dir.path().join(format!("{name}.crt")), made.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join(format!("{name}.key")),
            made.signing_key.serialize_pem(),
        )
        .unwrap();
    }
    let base = yaml("127.0.0.1:8080", "http://127.0.0.1:9101")
        .replace("http://127.0.0.1:8080", "https://gw.example.com");
    let with = |name: &str| {
        let d = dir.path().display();
        base.replace(
            "  public_url:",
            &format!(
                "  tls: {{ cert: \"{d}/{name}.crt\", key: \"{d}/{name}.key\" }}\n  public_url:"
            ),
        )
    };
    let plain = parse(&base);
    assert_eq!(
        restart_required(&plain, &parse(&with("a"))),
        vec!["server.tls"]
    );
    assert_eq!(
        restart_required(&parse(&with("a")), &plain),
        vec!["server.tls"]
    );
    assert!(restart_required(&parse(&with("a")), &parse(&with("b"))).is_empty());
}
