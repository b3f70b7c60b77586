//! A real `redis-server` per test, for `session.store: redis`: started on a free loopback port
//! without persistence by default (`--save '' --appendonly no`) in its own temporary directory,
//! killed when the handle is dropped. `stop` + `restart` model an outage of a Redis that keeps its
//! data (a dump is written on the way down and loaded on the way up, on the same port); `kill`
//! models one that loses it; `pause`/`resume` freeze the process so that it accepts connections
//! but never answers.
//!
//! Also here: sessions minted straight into Redis with the gateway's own `RedisStore`, and a raw
//! dump of what Redis holds (to prove that no token is readable in it).

use super::{free_port, COOKIE, TEST_KEY};
use redis::AsyncCommands;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokengate::session::codec::KeyRing;
use tokengate::session::model::Session;
use tokengate::session::store::{reference_purpose, RedisStore};

/// The test-only CA that signed the TLS server's certificate (trust it with `SSL_CERT_FILE`).
pub const TEST_CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/keys/redis-ca.pem"
);

/// How long a starting `redis-server` may take to answer `PING`.
const STARTUP_LIMIT: Duration = Duration::from_secs(10);

pub struct RedisServer {
    port: u16,
    /// The TLS listener's port, when TLS is on (the plain port stays open for the harness).
    tls_port: Option<u16>,
    password: Option<String>,
    extra_args: Vec<String>,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// A fresh server without a password.
    pub fn start() -> RedisServer {
        Self::start_with_password(None)
    }

    /// A fresh server that requires `password` (`requirepass`).
    pub fn start_with_password(password: Option<&str>) -> RedisServer {
        let mut extra_args = Vec::new();
        if let Some(pw) = password {
            extra_args.extend(["--requirepass".to_owned(), pw.to_owned()]);
        }
        Self::spawn_new(extra_args, password, None)
    }

    /// A fresh server that also serves TLS (`rediss://`, see [`tls_url`](Self::tls_url)) with
    /// the test-only certificate for `127.0.0.1` signed by [`TEST_CA`].
    pub fn start_tls() -> RedisServer {
        let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/keys");
        let tls_port = free_port();
        let extra_args = vec![
            "--tls-port".to_owned(),
            tls_port.to_string(),
            "--tls-cert-file".to_owned(),
            format!("{keys}/redis-server.pem"),
            "--tls-key-file".to_owned(),
            format!("{keys}/redis-server.key.pem"),
            "--tls-ca-cert-file".to_owned(),
            TEST_CA.to_owned(),
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
        ];
        Self::spawn_new(extra_args, None, Some(tls_port))
    }

    fn spawn_new(
        extra_args: Vec<String>,
        password: Option<&str>,
        tls_port: Option<u16>,
    ) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            tls_port,
            password: password.map(str::to_owned),
            extra_args,
            dir: tempfile::tempdir().expect("redis tempdir"),
            child: None,
        };
        server.spawn();
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>` (no password, db 0).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `rediss://127.0.0.1:<tls port>`; panics unless started with [`start_tls`](Self::start_tls).
    pub fn tls_url(&self) -> String {
        let port = self.tls_port.expect("redis-server started with TLS");
        format!("rediss://127.0.0.1:{port}")
    }

    /// The server's own log (startup, loading the dump, shutdown).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    /// Shuts down after writing a dump (`SHUTDOWN SAVE`), so that [`restart`](Self::restart)
    /// comes back with every session it held: a Redis outage that loses nothing.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self.command(&["SHUTDOWN", "SAVE"]);
        let deadline = Instant::now() + STARTUP_LIMIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not shut down; log:\n{}", self.log());
    }

    /// Kills the server without a dump: everything it held is lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.dir.path().join("dump.rdb"));
    }

    /// Starts the server again on the same port and directory (loading the dump `stop` wrote).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart of a running redis-server");
        self.spawn();
    }

    /// Freezes the process (`SIGSTOP`): connections are accepted by the kernel, never answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a [`pause`](Self::pause)d server.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("redis-server running").id();
        let status = Command::new("kill")
            .arg(sig)
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {sig} {pid} failed");
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("redis.log"))
            .expect("redis log file");
        let log2 = log.try_clone().expect("clone redis log file");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--dbfilename", "dump.rdb"])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .expect("spawn redis-server (Debian package redis-server)");
        self.child = Some(child);
        super::gateway::blocking(|| self.wait_ready());
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("redis-server exited with {status}; log:\n{}", self.log());
            }
            if let Ok(reply) = self.command(&["PING"]) {
                if reply.starts_with("+PONG") {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("redis-server not answering PING; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one command (after `AUTH` when a password is set) in RESP over a plain socket, and
    /// returns the first line of the last reply. Used where no async runtime may be running.
    fn command(&self, args: &[&str]) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut expected = 1;
        if let Some(pw) = &self.password {
            stream.write_all(&resp(&["AUTH", pw]))?;
            expected += 1;
        }
        stream.write_all(&resp(args))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 512];
        while buf.iter().filter(|&&b| b == b'\n').count() < expected {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e),
            }
        }
        let text = String::from_utf8_lossy(&buf).into_owned();
        Ok(text.lines().last().unwrap_or("").to_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL ends a paused (SIGSTOPped) server too.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// The key ring of every test config.
pub fn test_keys() -> KeyRing {
    KeyRing::new(&[TEST_KEY]).expect("key ring")
}

/// Stores `session` in the Redis at `url` as the gateway does at login (with the gateway's own
/// store, so the record format is the real one), and returns the `Cookie` header that refers to
/// it: the sealed session id, exactly what the gateway's login sets.
pub async fn mint_redis_session(url: &str, session: &Session, ttl: Duration) -> String {
    let store = RedisStore::new(url).expect("redis url");
    store
        .save(&test_keys(), session, ttl)
        .await
        .expect("store the session in redis");
    reference_cookie(&session.sid)
}

/// The `Cookie` header referring to session `sid` in redis mode.
pub fn reference_cookie(sid: &str) -> String {
    let sealed = test_keys()
        .seal(&reference_purpose(COOKIE), sid.as_bytes())
        .expect("seal the session id");
    format!("{COOKIE}={sealed}")
}

/// The session record `sid` as the gateway reads it, or `None` when Redis does not hold it.
pub async fn load_record(url: &str, sid: &str) -> Option<Session> {
    RedisStore::new(url)
        .expect("redis url")
        .load(&test_keys(), sid)
        .await
        .expect("redis answers")
}

/// A plain connection to the Redis at `url` (the URL may carry a password and a db).
pub async fn connect(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis")
}

/// Every key with its value as text: strings by `GET`, sets by `SMEMBERS` (sorted), other types
/// by their type name. What an attacker with a copy of the Redis would read.
pub async fn dump(url: &str) -> Vec<(String, String)> {
    let mut c = connect(url).await;
    let mut keys: Vec<String> = c.keys("*").await.expect("KEYS *");
    keys.sort();
    let mut out = Vec::new();
    for k in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&k)
            .query_async(&mut c)
            .await
            .expect("TYPE");
        let value = match kind.as_str() {
            "string" => c.get::<_, String>(&k).await.expect("GET"),
            "set" => {
                let mut members: Vec<String> = c.smembers(&k).await.expect("SMEMBERS");
                members.sort();
                members.join(" ")
            }
            other => format!("<{other}>"),
        };
        out.push((k, value));
    }
    out
}

/// Seconds to live of the key that holds session `sid` (found by its id, whatever the key's
/// prefix), as `TTL` reports it: `-1` without expiry, `-2` when absent.
pub async fn record_ttl(url: &str, sid: &str) -> i64 {
    let mut c = connect(url).await;
    let keys: Vec<String> = c.keys(format!("*{sid}*")).await.expect("KEYS");
    assert_eq!(keys.len(), 1, "one key holds session {sid}: {keys:?}");
    c.ttl(&keys[0]).await.expect("TTL")
}
