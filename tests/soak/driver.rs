//! The browser side of the soak: sessions that each send a page of parallel requests, one per
//! audience plus a second one for the first audience (so that concurrent requests needing one
//! token meet), then the next page's first request with the cookies the first page returned. At most [`CONNECTIONS`] requests are in flight at once over all sessions; every
//! `503` the contract allows (`session_busy`, `session_store_unavailable`) is retried, never
//! counted as lost.

use super::support::{cookie_header_from, set_cookies};
use futures_util::future::join_all;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Client connections in flight at once, over every session and gateway.
pub const CONNECTIONS: usize = 64;
/// Sessions in progress at once (each sends 3 to 5 requests at once).
const SESSIONS_AT_ONCE: usize = 16;
/// How often one request is retried after an allowed `503` before the soak gives up on it.
const RETRIES: usize = 300;
/// The pause before such a retry (the gateway says `Retry-After: 1`; a shorter pause keeps the
/// soak within its time budget and only adds pressure).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The most requests of the next page, each sent while the previous answer set a cookie.
const ACKS: usize = 4;

/// The route paths, one per audience: `/api/<i>/x`.
pub const AUDIENCES: [&str; 5] = [
    "https://a.example",
    "https://b.example",
    "https://c.example",
    "https://d.example",
    "https://e.example",
];

/// One browser session: which gateway it talks to, the audiences its page needs, its jar.
pub struct Browser {
    pub gateway: usize,
    /// The refresh-token family the provider minted for this session.
    pub family: u64,
    pub audiences: Vec<usize>,
    pub jar: Mutex<HashMap<String, String>>,
    pub lost: Mutex<Option<String>>,
}

impl Browser {
    /// Session `i` of `gateways`: 2, 3 or 4 audiences in turn, starting at a different one;
    /// `refresh_token` is the one its session was minted with.
    pub fn new(i: usize, gateways: usize, refresh_token: &str, cookie: &str) -> Browser {
        let k = 2 + i % 3;
        let first = (i / 3) % AUDIENCES.len();
        let jar = cookie
            .split("; ")
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        Browser {
            gateway: i % gateways,
            family: family_of(refresh_token).expect("a minted refresh token"),
            audiences: (0..k).map(|j| (first + j) % AUDIENCES.len()).collect(),
            jar: Mutex::new(jar),
            lost: Mutex::new(None),
        }
    }

    /// The `Cookie` header the browser sends now.
    pub fn header(&self) -> String {
        let jar = self.jar.lock().expect("jar");
        jar.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Applies `Set-Cookie` values in arrival order, as a browser does.
    fn apply(&self, set_cookie: &[String]) {
        let mut jar = self.jar.lock().expect("jar");
        for sc in set_cookie {
            let header = cookie_header_from(std::slice::from_ref(sc));
            let name = sc.split('=').next().unwrap_or_default().trim().to_owned();
            match header.split_once('=') {
                Some((_, value)) => jar.insert(name, value.to_owned()),
                None => jar.remove(&name),
            };
        }
    }
}

/// What the soak counted, over all sessions.
#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub busy: AtomicU64,
    pub store_unavailable: AtomicU64,
    /// Requests sent again after the connection failed before an answer (reset, closed).
    pub resent: AtomicU64,
    pub sessions_done: AtomicUsize,
    /// Answers the contract does not allow here (status and error code), with their count.
    pub unexpected: Mutex<HashMap<String, u64>>,
}

impl Counters {
    fn unexpected(&self, what: String) {
        *self
            .unexpected
            .lock()
            .expect("counters")
            .entry(what)
            .or_default() += 1;
    }
}

/// The load generator: one HTTP client, the connection bound, the gateways' base URLs.
pub struct Driver {
    pub http: reqwest::Client,
    pub bases: Vec<String>,
    pub counters: Counters,
    limit: Semaphore,
}

impl Driver {
    pub fn new(bases: Vec<String>) -> Arc<Driver> {
        Arc::new(Driver {
            http: super::support::client(),
            bases,
            counters: Counters::default(),
            limit: Semaphore::new(CONNECTIONS),
        })
    }

    /// Runs every browser's two waves, [`SESSIONS_AT_ONCE`] sessions at a time.
    pub async fn run(self: &Arc<Self>, browsers: &[Arc<Browser>]) {
        futures_util::stream::iter(browsers.iter().cloned())
            .for_each_concurrent(SESSIONS_AT_ONCE, |b| {
                let driver = self.clone();
                async move {
                    // The page: one request per audience and a second one for the first, all at
                    // once. Then the next page's first request, with the cookies the page got.
                    let first = b.audiences[0];
                    let page = b.audiences.iter().chain([&first]);
                    join_all(page.map(|a| driver.request(&b, *a))).await;
                    // Until an answer sets no cookie: the browser has acknowledged the latest
                    // state, which the latest-state map may then evict (a browser that leaves
                    // earlier keeps its entry for 24 hours, docs/operations.md#memory).
                    for _ in 0..ACKS {
                        if !driver.request(&b, first).await {
                            break;
                        }
                    }
                    driver.counters.sessions_done.fetch_add(1, Ordering::SeqCst);
                }
            })
            .await;
    }

    /// What to say when the soak overran `limit`.
    pub fn overdue(&self, limit: Duration) -> String {
        let c = &self.counters;
        format!(
            "the soak took longer than {limit:?}: {} sessions done, {} requests",
            c.sessions_done.load(Ordering::SeqCst),
            c.requests.load(Ordering::SeqCst)
        )
    }

    /// One GET of `/api/<audience>/x` with the browser's current cookies, retried after the
    /// `503`s the contract allows; a `401` marks the session lost. True when the final answer
    /// is a `200` that set a cookie.
    async fn request(&self, b: &Browser, audience: usize) -> bool {
        let url = format!("{}/api/{audience}/x", self.bases[b.gateway]);
        for _ in 0..RETRIES {
            let permit = self.limit.acquire().await.expect("semaphore");
            let sent = self
                .http
                .get(&url)
                .header("cookie", b.header())
                .send()
                .await;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let resp = match sent {
                Ok(r) => r,
                // A kept-alive connection the gateway closed as the request went out: a
                // browser sends a GET again on a new connection.
                Err(e) if e.is_request() && !e.is_timeout() => {
                    drop(permit);
                    self.counters.resent.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(e) => {
                    self.counters.unexpected(format!("transport: {e:?}"));
                    return false;
                }
            };
            let status = resp.status().as_u16();
            let set = set_cookies(&resp);
            b.apply(&set);
            let body = resp.bytes().await.unwrap_or_default();
            drop(permit);
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_default();
            match (status, code.as_str()) {
                (200, _) => return !set.is_empty(),
                (503, "session_busy") => self.counters.busy.fetch_add(1, Ordering::Relaxed),
                (503, "session_store_unavailable") => {
                    (self.counters.store_unavailable).fetch_add(1, Ordering::Relaxed)
                }
                (401, _) => {
                    *b.lost.lock().expect("lost") = Some(format!("{status} {code}"));
                    return false;
                }
                _ => {
                    self.counters.unexpected(format!("{status} {code}"));
                    return false;
                }
            };
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        self.counters
            .unexpected(format!("still 503 after {RETRIES} tries"));
        false
    }
}

/// The peak resident set of process `pid` (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// Token-endpoint calls per refresh-token family (`rt-<family>-<suffix>`, one family per
/// session), from the provider's record of every call.
pub fn calls_per_family(calls: &[super::support::TokenCall]) -> HashMap<u64, usize> {
    let mut per = HashMap::new();
    for call in calls {
        if let Some(f) = call.field("refresh_token").and_then(family_of) {
            *per.entry(f).or_default() += 1;
        }
    }
    per
}

/// The family of a refresh token the mock provider issued.
fn family_of(refresh_token: &str) -> Option<u64> {
    refresh_token.split('-').nth(1)?.parse().ok()
}

/// CPU seconds (user + system) process `pid` has used so far.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // The fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = (fields.get(11..13).unwrap_or_default())
        .iter()
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}
