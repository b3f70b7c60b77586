//! A written session always fits the limits reading enforces (docs/reference.md#session-size):
//! with `limits.max_cookie_chunks` smaller than `tokens.max_cached` large tokens need, the least
//! recently used token sets are dropped from the cookie instead of the next request being logged
//! out.

use super::support::*;

const AUDIENCES: [&str; 3] = [
    "https://a.example",
    "https://b.example",
    "https://c.example",
];
/// Each access token is about 5 KB: four chunks hold the session with two of them, not three.
const TOKEN_PADDING: usize = 5000;
const MAX_CHUNKS: usize = 4;

struct Ctx {
    provider: MockProvider,
    _up: EchoUpstream,
    gw: Gateway,
    cfg: ConfigBuilder,
    cookie: String,
    /// The most chunks one answer wrote.
    most_chunks: std::sync::atomic::AtomicUsize,
}

async fn setup() -> Ctx {
    let provider = MockProvider::start().await;
    provider.set_token_padding(TOKEN_PADDING);
    let up = EchoUpstream::start().await;
    let routes: String = ["a", "b", "c"]
        .iter()
        .zip(AUDIENCES)
        .map(|(name, aud)| {
            route(
                name,
                &format!("/{name}"),
                &up.url(),
                &[&format!("audience: \"{aud}\""), "scope: \"read\""],
            )
        })
        .collect();
    let cfg = ConfigBuilder::new(&provider, &routes)
        .with_admin()
        .max_cached(3)
        .limits_line(&format!("max_cookie_chunks: {MAX_CHUNKS}"));
    let gw = Gateway::start(&cfg.build());
    let cookie = cookie_for(&session_for(
        &provider.mint_refresh_token(),
        "primary-token",
    ));
    Ctx {
        provider,
        _up: up,
        gw,
        cfg,
        cookie,
        most_chunks: Default::default(),
    }
}

/// GET `path` with `cookie`; the status, the new `Cookie` header (the old one when the answer
/// set none) and the session it holds.
async fn step(ctx: &Ctx, path: &str, cookie: &str) -> (u16, String) {
    let r = client()
        .get(ctx.gw.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let sc = set_cookies(&r);
    let written = sc.iter().filter(|c| !c.contains("Max-Age=0")).count();
    ctx.most_chunks
        .fetch_max(written, std::sync::atomic::Ordering::Relaxed);
    let next = if sc.is_empty() {
        cookie.to_owned()
    } else {
        cookie_header_from(&sc)
    };
    (status, next)
}

fn audiences(cookie: &str) -> Vec<String> {
    let session = open_cookie_header(cookie).expect("the written cookie opens");
    session
        .extra
        .iter()
        .filter_map(|t| t.audience.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_least_recently_used_token_is_dropped_to_fit_max_cookie_chunks() {
    let ctx = setup().await;
    let (s, c1) = step(&ctx, "/a/1", &ctx.cookie).await;
    assert_eq!(s, 200);
    let (s, c2) = step(&ctx, "/b/1", &c1).await;
    assert_eq!(s, 200);
    assert_eq!(audiences(&c2), [AUDIENCES[0], AUDIENCES[1]]);
    // The third token does not fit beside the other two: `a`, used least recently, goes.
    let (s, c3) = step(&ctx, "/c/1", &c2).await;
    assert_eq!(s, 200);
    // The next request with the written cookie is served from it: `c` without an exchange.
    let (s, c4) = step(&ctx, "/c/2", &c3).await;
    assert_eq!(s, 200, "the written cookie must be readable");
    assert_eq!(audiences(&c3), [AUDIENCES[1], AUDIENCES[2]]);
    assert_eq!(ctx.provider.call_count(), 3);
    // `a` was dropped: exchanged once again, and then it is kept (`b` goes).
    let (s, c5) = step(&ctx, "/a/2", &c4).await;
    assert_eq!(s, 200);
    assert_eq!(ctx.provider.call_count(), 4);
    assert_eq!(audiences(&c5), [AUDIENCES[2], AUDIENCES[0]]);
    let (s, _) = step(&ctx, "/a/3", &c5).await;
    assert_eq!(s, 200);
    assert_eq!(ctx.provider.call_count(), 4);
    assert_eq!(ctx.provider.reuse_detected(), 0);

    let metrics = client()
        .get(ctx.cfg.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tokengate_session_tokens_dropped_total{reason=\"cookie_limit\"} 2"),
        "{metrics}"
    );
    let most = ctx.most_chunks.load(std::sync::atomic::Ordering::Relaxed);
    assert!(most <= MAX_CHUNKS, "an answer wrote {most} chunks");
    let logs = ctx.gw.logs();
    assert!(
        logs.contains("token sets dropped to fit the session cookie"),
        "{logs}"
    );
    assert!(!logs.contains("ppppppppp"), "a token in the log");
}
