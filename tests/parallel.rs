//! Storms of parallel requests of one session (docs/reference.md#concurrency-and-rotation) against
//! a mock token endpoint modelled on Auth0 rotation (each exchange consumes the presented refresh
//! token; presenting a consumed one revokes the family). Each test fails on a naive gateway: one
//! that refreshes per request makes more calls, one that does not re-read the latest state after
//! waiting presents a consumed token (reuse), and one whose responses carry only their own
//! additions loses tokens in a cookie jar.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::*;

const AUDIENCES: [&str; 5] = [
    "https://a.example",
    "https://b.example",
    "https://c.example",
    "https://d.example",
    "https://e.example",
];

/// A gateway with one route per audience: `/api/a` → `https://a.example` with scope `read`...
async fn setup(audiences: usize) -> (MockProvider, EchoUpstream, Gateway) {
    setup_with(audiences, |c| c).await
}

/// [`setup`], with the config adjusted by `adjust`.
async fn setup_with(
    audiences: usize,
    adjust: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> (MockProvider, EchoUpstream, Gateway) {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes: String = AUDIENCES[..audiences]
        .iter()
        .enumerate()
        .map(|(i, aud)| {
            route(
                &format!("r{i}"),
                &format!("/api/{i}"),
                &up.url(),
                &[&format!("audience: \"{aud}\""), "scope: \"read\""],
            )
        })
        .collect();
    let gw = Gateway::start(&adjust(ConfigBuilder::new(&provider, &routes).max_cached(8)).build());
    (provider, up, gw)
}

/// GET with a cookie header: (status, Set-Cookie values in the order they arrived).
async fn get(gw: &Gateway, path: &str, cookie: &str) -> (u16, Vec<String>) {
    let r = client()
        .get(gw.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request");
    (r.status().as_u16(), set_cookies(&r))
}

/// A browser cookie jar: applies `Set-Cookie` values in arrival order.
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn from_header(header: &str) -> Jar {
        let mut jar = Jar::default();
        for pair in header.split("; ") {
            if let Some((n, v)) = pair.split_once('=') {
                jar.0.insert(n.to_owned(), v.to_owned());
            }
        }
        jar
    }

    fn apply(&mut self, set_cookies: &[String]) {
        for sc in set_cookies {
            let first = sc.split(';').next().unwrap_or_default();
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            if value.is_empty() || sc.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// (a) 50 parallel requests, one route, token not cached: exactly one exchange, 50 × 200.
#[tokio::test(flavor = "multi_thread")]
async fn fifty_parallel_requests_make_one_exchange() {
    let (provider, up, gw) = setup(1).await;
    provider.set_fault(Fault::Latency(Duration::from_millis(200)));
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    let results =
        futures_util::future::join_all((0..50).map(|_| get(&gw, "/api/0/x", &cookie))).await;
    assert!(
        results.iter().all(|(s, _)| *s == 200),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(provider.call_count(), 1);
    assert_eq!(provider.reuse_detected(), 0);
    assert_eq!(up.count(), 50);
}

/// (b) 60 parallel requests over 3 audiences: exactly 3 exchanges, no reuse, all 200; a jar
/// that applies every Set-Cookie in arrival order holds all 3 tokens, so a fourth round makes
/// no exchange.
#[tokio::test(flavor = "multi_thread")]
async fn sixty_requests_over_three_audiences_keep_every_token() {
    let (provider, _up, gw) = setup(3).await;
    provider.set_fault(Fault::Latency(Duration::from_millis(100)));
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    let mut jar = Jar::from_header(&cookie);

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let url = gw.url(&format!("/api/{}/x", i % 3));
        let cookie = cookie.clone();
        tasks.spawn(async move {
            let r = client()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("request");
            (r.status().as_u16(), set_cookies(&r))
        });
    }
    let mut statuses = Vec::new();
    // JoinSet yields in completion order: the order the browser would apply the cookies.
    while let Some(done) = tasks.join_next().await {
        let (status, sc) = done.expect("task");
        statuses.push(status);
        jar.apply(&sc);
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(provider.call_count(), 3, "one exchange per audience");
    assert_eq!(provider.reuse_detected(), 0);

    let session = open_cookie_header(&jar.header()).expect("the jar holds a session");
    let mut held: Vec<_> = session
        .extra
        .iter()
        .filter_map(|t| t.audience.clone())
        .collect();
    held.sort();
    assert_eq!(
        held,
        AUDIENCES[..3].to_vec(),
        "a response dropped a token another added"
    );

    provider.clear_fault();
    let round: Vec<_> = futures_util::future::join_all((0..3).map(|i| {
        let (gw, header) = (&gw, jar.header());
        async move { get(gw, &format!("/api/{i}/x"), &header).await }
    }))
    .await;
    assert!(round.iter().all(|(s, sc)| *s == 200 && sc.is_empty()));
    assert_eq!(
        provider.call_count(),
        3,
        "the fourth round made an exchange"
    );
}

/// (d) 8 sessions × 3 audiences in parallel: exactly 24 exchanges, no reuse.
#[tokio::test(flavor = "multi_thread")]
async fn eight_sessions_by_three_audiences_make_24_exchanges() {
    let (provider, _up, gw) = setup(3).await;
    provider.set_fault(Fault::Latency(Duration::from_millis(50)));
    let cookies: Vec<String> = (0..8)
        .map(|_| cookie_for(&session_for(&provider.mint_refresh_token(), "primary")))
        .collect();
    let requests = cookies
        .iter()
        .flat_map(|c| (0..3).flat_map(move |a| (0..4).map(move |_| (a, c.clone()))));
    let results = futures_util::future::join_all(requests.map(|(a, c)| {
        let gw = &gw;
        async move { get(gw, &format!("/api/{a}/x"), &c).await.0 }
    }))
    .await;
    assert_eq!(results.len(), 96);
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    assert_eq!(provider.call_count(), 24);
    assert_eq!(provider.reuse_detected(), 0);
}

/// A cold page needing five audiences, the provider answering in 100 ms. With rotation, the
/// exchanges of one session run one at a time (never two with one refresh token); declared
/// without it (`provider.rotates_refresh_tokens: false`), they overlap. The timings are printed
/// for the record, not asserted (benchmarks judge speed).
#[tokio::test(flavor = "multi_thread")]
async fn declared_without_rotation_a_sessions_exchanges_overlap() {
    for rotation in [true, false] {
        let (provider, _up, gw) = setup_with(5, |c| c.rotates_refresh_tokens(rotation)).await;
        provider.set_rotation(rotation);
        provider.set_fault(Fault::Latency(Duration::from_millis(100)));
        // A first session: nothing is learned from it.
        let warm = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
        assert_eq!(get(&gw, "/api/0/x", &warm).await.0, 200);

        let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
        let started = Instant::now();
        let page = futures_util::future::join_all((0..5).map(|i| {
            let (gw, cookie) = (&gw, &cookie);
            async move { get(gw, &format!("/api/{i}/x"), cookie).await }
        }))
        .await;
        let elapsed = started.elapsed();
        assert!(page.iter().all(|(s, _)| *s == 200));
        assert_eq!(provider.call_count(), 6);
        assert_eq!(provider.reuse_detected(), 0);
        if rotation {
            assert_eq!(
                provider.max_in_flight(),
                1,
                "two exchanges of one rotating refresh token overlapped"
            );
        } else {
            assert!(
                provider.max_in_flight() > 1,
                "exchanges for different audiences did not overlap"
            );
        }
        println!("cold page, 5 audiences, provider 100 ms, rotation={rotation}: {elapsed:?}");
    }
}

/// A provider that rotates only sometimes (here every second exchange, as `oidc-provider` does
/// late in a token's life): one answer without a new refresh token must not let the exchanges
/// of a session overlap, or the next rotation revokes the grant for reuse.
#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_rotates_sometimes_never_sees_a_refresh_token_twice() {
    let (provider, _up, gw) = setup(5).await;
    provider.set_rotate_every(2);
    provider.set_fault(Fault::Latency(Duration::from_millis(100)));
    // A first exchange answered without a new refresh token.
    let first = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    assert_eq!(get(&gw, "/api/0/x", &first).await.0, 200);
    assert_eq!(provider.max_in_flight(), 1);
    // Then a page needing five audiences: the provider rotates on the first of these.
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    let page = futures_util::future::join_all((0..5).map(|i| {
        let (gw, cookie) = (&gw, &cookie);
        async move { get(gw, &format!("/api/{i}/x"), cookie).await.0 }
    }))
    .await;
    assert_eq!(
        provider.reuse_detected(),
        0,
        "a refresh token was presented twice"
    );
    assert_eq!(page, vec![200; 5]);
    assert_eq!(
        provider.max_in_flight(),
        1,
        "exchanges of one session overlapped"
    );
    assert_eq!(provider.call_count(), 6);
}

/// The latest-state map full: 1,000 sessions with rotation, in waves of 50, each sending two
/// requests for two audiences at once (two exchanges, one at a time), then one more request with
/// the cookies it got, as a browser does. The bound holds about 70 slots, so the map is full
/// from the second wave on. No slot that holds an exchange or a state the browser has not
/// presented back may be dropped: no refresh token is presented twice, no session is lost
/// (its next request is 200, or `503 session_busy` while the map is full of slots it must keep).
#[tokio::test(flavor = "multi_thread")]
async fn a_full_latest_state_map_never_costs_a_refresh_token() {
    const SESSIONS: usize = 1000;
    const WAVE: usize = 50;
    let (provider, _up, gw) = setup_with(2, |mut c| {
        // A token-endpoint timeout under load would leave the gateway unsure whether the
        // provider rotated: not what this test is about.
        c.timeout = "20s";
        c.tokens_line("latest_state_max_bytes: 300000")
    })
    .await;
    provider.set_fault(Fault::Latency(Duration::from_millis(20)));
    let mut jars: Vec<Jar> = (0..SESSIONS)
        .map(|_| {
            let rt = provider.mint_refresh_token();
            Jar::from_header(&cookie_for(&session_for(&rt, "primary")))
        })
        .collect();
    // One client for all: building one per request costs more than the request.
    let http = client();
    let mut busy = 0;
    for (wave, chunk) in jars.chunks_mut(WAVE).enumerate() {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, jar) in chunk.iter().enumerate() {
            for a in 0..2 {
                let (url, cookie) = (gw.url(&format!("/api/{a}/x")), jar.header());
                let http = http.clone();
                tasks.spawn(async move {
                    let r = http.get(url).header("cookie", cookie).send().await;
                    let r = r.expect("request");
                    (i, r.status().as_u16(), set_cookies(&r))
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            let (i, status, sc) = done.expect("task");
            assert!(status == 200 || status == 503, "wave {wave}: {status}");
            busy += usize::from(status == 503);
            chunk[i].apply(&sc);
        }
        let next = futures_util::future::join_all(chunk.iter().map(|jar| {
            let request = http.get(gw.url("/api/0/x")).header("cookie", jar.header());
            async move { request.send().await.expect("request").status().as_u16() }
        }))
        .await;
        assert!(
            next.iter().all(|s| *s == 200 || *s == 503),
            "wave {wave}, the next request: {next:?}"
        );
        assert_eq!(
            provider.reuse_detected(),
            0,
            "wave {wave}: a refresh token was presented twice"
        );
    }
    println!("{SESSIONS} sessions, map full: {busy} answers were 503 session_busy");
}
