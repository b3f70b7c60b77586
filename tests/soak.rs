//! The soak of the concurrency guarantees (docs/reference.md#concurrency-and-rotation) at scale:
//! 10,000 sessions per store, each sending parallel requests for 2–4 audiences and then its next
//! page with the cookies it got, against providers that rotate always or every second exchange,
//! with a latest-state map far smaller than the sessions; with the redis store, Redis restarts
//! midway. Asserted: no refresh token is presented twice, no session is lost, and no session
//! makes more token-endpoint calls than it needs audiences. Printed: one line of figures
//! (docs/operations.md#soak). Run: `cargo test --test soak -- --test-threads=2 --nocapture`.

mod support;

#[path = "soak/driver.rs"]
mod driver;
#[path = "soak/fleet.rs"]
mod fleet;

use driver::{Browser, Driver};
use fleet::{check_state, Report};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::redis_scenario::SEVEN_DAYS;
use support::redis_server::{reference_cookie, test_keys, RedisServer};
use support::*;
use tokengate::session::store::RedisStore;

/// The soak's wall-time bound: on two cores beside other builds a store took 3.5 to 7.5 minutes
/// in a debug build (docs/operations.md#soak).
const WALL_LIMIT: Duration = Duration::from_secs(600);

/// Asserts the guarantees on a finished soak's figures, after printing them.
fn judge(report: &Report, driver: &Driver, lost: &HashMap<String, usize>) {
    println!("{}", report.line());
    let unexpected = driver.counters.unexpected.lock().expect("counters");
    assert!(
        unexpected.is_empty(),
        "answers outside the contract: {unexpected:?}"
    );
    assert_eq!(report.reuse, 0, "a refresh token was presented twice");
    assert_eq!(report.lost, 0, "sessions were lost: {lost:?}");
    assert_eq!(
        (report.calls, report.sessions_over_minimum),
        (report.minimum, 0),
        "token calls beyond one per session and audience"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cookie_sessions_lose_nothing() {
    let (upstream, _up) = fleet::upstream().await;
    let fleets = fleet::start(&upstream, None).await;
    let n = fleet::sessions();
    let browsers: Vec<Arc<Browser>> = (0..n)
        .map(|i| {
            let rt = fleets[i % fleets.len()].provider.mint_refresh_token();
            let cookie = cookie_for(&session_for(&rt, "primary"));
            Arc::new(Browser::new(i, fleets.len(), &rt, &cookie))
        })
        .collect();
    let driver = Driver::new(fleets.iter().map(|f| f.gw.url("")).collect());

    let started = Instant::now();
    let run = tokio::time::timeout(WALL_LIMIT, driver.run(&browsers)).await;
    let secs = started.elapsed().as_secs_f64();
    assert!(run.is_ok(), "{}", driver.overdue(WALL_LIMIT));

    let mut lost: HashMap<String, usize> = HashMap::new();
    for b in &browsers {
        if let Some(why) = check_state(&fleets, b, open_cookie_header(&b.header())) {
            *lost.entry(why).or_default() += 1;
        }
    }
    let count = lost.values().sum();
    let report = Report::collect("cookie", &fleets, &driver, &browsers, count, secs);
    judge(&report, &driver, &lost);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_redis_sessions_lose_nothing_across_a_redis_restart() {
    let redis = RedisServer::start();
    let url = redis.url();
    let (upstream, _up) = fleet::upstream().await;
    let fleets = fleet::start(&upstream, Some(&url)).await;
    let n = fleet::sessions();
    let store = RedisStore::new(&url).expect("redis url");
    let keys = test_keys();
    let mut browsers = Vec::with_capacity(n);
    let mut sids = Vec::with_capacity(n);
    for i in 0..n {
        let rt = fleets[i % fleets.len()].provider.mint_refresh_token();
        let s = session_for(&rt, "primary");
        store.save(&keys, &s, SEVEN_DAYS).await.expect("mint");
        browsers.push(Arc::new(Browser::new(
            i,
            fleets.len(),
            &rt,
            &reference_cookie(&s.sid),
        )));
        sids.push(s.sid);
    }
    let driver = Driver::new(fleets.iter().map(|f| f.gw.url("")).collect());

    // Midway (half the sessions done), Redis shuts down with a dump and comes back on the same
    // port after a second, loading it.
    let watcher = driver.clone();
    let restart = tokio::spawn(async move {
        while watcher.counters.sessions_done.load(Ordering::SeqCst) < n / 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut redis = redis;
        tokio::task::spawn_blocking(move || {
            redis.stop();
            std::thread::sleep(Duration::from_secs(1));
            redis.restart();
            redis
        })
        .await
        .expect("restart redis")
    });

    let started = Instant::now();
    let run = tokio::time::timeout(WALL_LIMIT, driver.run(&browsers)).await;
    let secs = started.elapsed().as_secs_f64();
    assert!(run.is_ok(), "{}", driver.overdue(WALL_LIMIT));
    let _redis = restart.await.expect("the restart happened");

    let mut lost: HashMap<String, usize> = HashMap::new();
    for (b, sid) in browsers.iter().zip(&sids) {
        let state = load(&store, sid).await;
        if let Some(why) = check_state(&fleets, b, state) {
            *lost.entry(why).or_default() += 1;
        }
    }
    let count = lost.values().sum();
    let report = Report::collect("redis", &fleets, &driver, &browsers, count, secs);
    judge(&report, &driver, &lost);
}

/// Session `sid` as Redis holds it, retried while the store's connection recovers from the
/// restart.
async fn load(store: &RedisStore, sid: &str) -> Option<tokengate::session::model::Session> {
    for _ in 0..50 {
        if let Ok(state) = store.load(&test_keys(), sid).await {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("redis does not answer after its restart");
}
