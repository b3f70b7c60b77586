use super::*;
use std::time::Duration;

#[test]
fn upstream_peers_get_every_timeout() {
    let mut options = PeerOptions::new();
    let limits = LimitsConfig {
        upstream_connect_timeout: Duration::from_millis(1500),
        upstream_read_timeout: Duration::from_secs(7),
        ..LimitsConfig::default()
    };
    upstream_timeouts(&mut options, &limits);
    assert_eq!(
        options.connection_timeout,
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        options.total_connection_timeout,
        Some(Duration::from_millis(1500))
    );
    assert_eq!(options.read_timeout, Some(Duration::from_secs(7)));
    assert_eq!(options.write_timeout, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn the_header_flag_is_set_only_inside_a_deadline_scope() {
    header_complete(); // outside any scope: a no-op, not a panic
    let done = Arc::new(AtomicBool::new(false));
    HEADER_DONE
        .scope(done.clone(), async { header_complete() })
        .await;
    assert!(done.load(Ordering::Acquire));
}
