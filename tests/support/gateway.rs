//! Runs the real `tokengate` binary as a child process: config in a temporary directory, output
//! captured to a log file kept for the life of the test (a later test scans it for secrets), and
//! the process killed when the handle is dropped, so a failing test never leaks a gateway.

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a gateway may take to accept connections, or a failing one to exit.
const STARTUP_LIMIT: Duration = Duration::from_secs(20);

pub struct Gateway {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Gateway {
    /// Starts `tokengate run --config <tmp>/routes.yaml` and waits until its listener accepts
    /// TCP. Panics (with the gateway's logs) when it exits or is not up within 20 s.
    pub fn start(yaml: &str) -> Gateway {
        Gateway::start_with(yaml, &["run"], &[])
    }

    /// [`Gateway::start`] with other arguments (e.g. `--log-format json`) and extra environment
    /// variables (e.g. a more verbose `RUST_LOG`).
    pub fn start_with(yaml: &str, args: &[&str], env: &[(&str, &str)]) -> Gateway {
        let port = listen_port(yaml);
        let dir = tempfile::tempdir().expect("tempdir");
        let child = spawn(&dir, yaml, args, env);
        let mut gw = Gateway { child, dir, port };
        blocking(|| gw.wait_ready());
        gw
    }

    /// Runs the gateway with a config that must be rejected; returns its exit status and output.
    /// Panics when it is still running after 20 s (it accepted the config).
    pub fn start_expect_fail(yaml: &str) -> (ExitStatus, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = spawn(&dir, yaml, &["run"], &[]);
        let status = blocking(|| wait_exit(&mut child));
        let logs = std::fs::read_to_string(dir.path().join("gateway.log")).unwrap_or_default();
        match status {
            Some(s) => (s, logs),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("gateway accepted a config it should reject; logs:\n{logs}");
            }
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, to read its memory figures from `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The public origin as configured (`public_url` without a path).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the gateway wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("gateway.log")
    }

    /// The config file the gateway runs from; rewriting it provokes a reload.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("routes.yaml")
    }

    /// Sends the signal `name` (`TERM`, `HUP`, ...) to the gateway process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed: {status}");
    }

    /// Waits up to `limit` for the gateway to exit; `None` when it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let child = &mut self.child;
        blocking(|| {
            let deadline = Instant::now() + limit;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(status);
                }
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    }

    fn wait_ready(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "gateway exited with {status} before listening; logs:\n{}",
                    self.logs()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "gateway not listening on {addr} after 20 s; logs:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the config and spawns the binary with `args` + `--config <file>`, `RUST_LOG=debug`
/// overridden by `env`, both output streams into `<dir>/gateway.log`.
fn spawn(dir: &tempfile::TempDir, yaml: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    let config = dir.path().join("routes.yaml");
    std::fs::write(&config, yaml).expect("write config");
    let log = File::create(dir.path().join("gateway.log")).expect("create log file");
    let log2 = log.try_clone().expect("clone log file");
    Command::new(env!("CARGO_BIN_EXE_tokengate"))
        .args(args)
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "debug")
        .env_remove("TOKENGATE_LOG")
        .env_remove("TOKENGATE_CONFIG")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .envs(env.iter().copied())
        .spawn()
        .expect("spawn tokengate")
}

fn wait_exit(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + STARTUP_LIMIT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The port of `server.listen` in a config text.
fn listen_port(yaml: &str) -> u16 {
    yaml.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("listen:"))
        .and_then(|v| {
            v.trim()
                .trim_matches('"')
                .rsplit(':')
                .next()
                .map(str::to_owned)
        })
        .and_then(|p| p.parse().ok())
        .expect("config has server.listen with a port")
}

/// Runs blocking waits without starving the async test's runtime (the mock servers run on it).
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Runs `tokengate <args>` to completion (for `check` and `keygen`): exit status, stdout,
/// stderr. Bounded by 20 s, because a `check` that started serving would otherwise hang the suite.
pub fn run_cli(
    args: &[&str],
    config_yaml: Option<&str>,
    env: &[(&str, &str)],
) -> (ExitStatus, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokengate"));
    cmd.args(args);
    if let Some(yaml) = config_yaml {
        let config = dir.path().join("routes.yaml");
        std::fs::write(&config, yaml).expect("write config");
        cmd.arg("--config").arg(&config);
    }
    cmd.env_remove("TOKENGATE_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("TOKENGATE_LOG")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::from(File::create(&out_path).expect("stdout file")))
        .stderr(Stdio::from(File::create(&err_path).expect("stderr file")));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run tokengate");
    let status = blocking(|| wait_exit(&mut child));
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    match status {
        Some(s) => (s, stdout, stderr),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`tokengate {args:?}` still running after 20 s; stdout:\n{stdout}\nstderr:\n{stderr}");
        }
    }
}
