//! The real binary as a child process: CLI runs and `onramp serve`.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::Api;
use super::server::TestServer;

/// Flags that make argon2 cheap in child processes.
pub const CHEAP_HASH_FLAGS: [&str; 6] = ["--hash-memory-kib", "1024", "--hash-iterations", "1", "--hash-parallelism", "1"];

/// The real binary, without any `ONRAMP_*` variables of the test environment.
pub fn onramp_command() -> Command {
    without_test_env(Command::new(env!("CARGO_BIN_EXE_onramp")))
}

/// The real binary run under `umask` (through `sh`), e.g. `000` to show
/// that the modes of the files it creates do not depend on the umask.
pub fn onramp_command_with_umask(umask: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &format!("umask {umask} && exec \"$0\" \"$@\""), env!("CARGO_BIN_EXE_onramp")]);
    without_test_env(cmd)
}

fn without_test_env(mut cmd: Command) -> Command {
    for (name, _) in std::env::vars() {
        if name.starts_with("ONRAMP_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// The result of one CLI invocation.
#[derive(Debug)]
pub struct CliRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    fn from(output: Output) -> Self {
        Self {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Stdout as exactly one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not exactly one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts success and returns the JSON document.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert!(self.success, "command failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self.json()
    }
}

/// Runs `onramp --data-dir <dir> --json <args>` with cheap hashing.
/// `onramp --json <args>` on a running test server's database (its data
/// dir, or its PostgreSQL database and master key file).
pub fn op(server: &TestServer, args: &[&str]) -> CliRun {
    let url = &server.settings.database_url;
    let key = server.dir.path().join("master.key").display().to_string();
    let mut all: Vec<&str> = Vec::new();
    if url.starts_with("postgres") {
        all.extend(["--database-url", url.as_str(), "--master-key-file", key.as_str()]);
    }
    all.extend(args);
    cli(server.dir.path(), &all)
}

/// The command failed, printing an error with this code and a message.
#[track_caller]
pub fn fails_with(run: &CliRun, code: &str) {
    assert!(!run.success, "should have failed: {}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], code, "{doc}");
    assert!(doc["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{doc}");
}

pub fn cli(data_dir: &Path, args: &[&str]) -> CliRun {
    cli_with_stdin(data_dir, args, None)
}

pub fn cli_with_stdin(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> CliRun {
    use std::io::Write as _;
    let mut cmd = onramp_command();
    cmd.arg("--data-dir").arg(data_dir).arg("--json").args(CHEAP_HASH_FLAGS).args(args);
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("spawn onramp");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    CliRun::from(child.wait_with_output().expect("onramp runs"))
}

/// Runs the binary with exactly these arguments (no data dir, no --json).
/// A run that has not ended after a minute (e.g. a server that was expected
/// to refuse to start) is killed and counts as a failure of the test.
pub fn run_raw(args: &[&str]) -> CliRun {
    run_to_end(onramp_command(), args)
}

/// Like [`run_raw`], under `umask`.
pub fn run_with_umask(umask: &str, args: &[&str]) -> CliRun {
    run_to_end(onramp_command_with_umask(umask), args)
}

fn run_to_end(mut command: Command, args: &[&str]) -> CliRun {
    use std::io::Read as _;
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn onramp");
    let (mut out, mut err) = (child.stdout.take().expect("stdout"), child.stderr.take().expect("stderr"));
    let readers = (
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            s
        }),
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = err.read_to_end(&mut s);
            s
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("onramp {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (readers.0.join().expect("stdout reader"), readers.1.join().expect("stderr reader"));
    CliRun::from(Output { status, stdout, stderr })
}

/// `onramp serve` as a child process; killed (SIGKILL) when dropped.
pub struct ChildServer {
    pub child: Child,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl ChildServer {
    /// Starts `serve` on a free port and waits until `/healthz` answers.
    pub async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[]).await
    }

    /// Like [`ChildServer::start`], with extra environment variables.
    pub async fn start_with_env(data_dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::spawn(data_dir, extra, envs, None).await
    }

    /// Like [`ChildServer::start`], run under `umask`.
    pub async fn start_with_umask(data_dir: &Path, extra: &[&str], umask: &str) -> Self {
        Self::spawn(data_dir, extra, &[], Some(umask)).await
    }

    async fn spawn(data_dir: &Path, extra: &[&str], envs: &[(&str, &str)], umask: Option<&str>) -> Self {
        for attempt in 0..5 {
            let port = free_port();
            static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::fs::create_dir_all(data_dir).expect("data dir");
            let log = data_dir.join(format!("serve-{n}-{attempt}.log"));
            let log_file = File::create(&log).expect("log file");
            let listen = format!("127.0.0.1:{port}");
            let child = umask
                .map_or_else(onramp_command, onramp_command_with_umask)
                .arg("serve")
                .arg("--data-dir")
                .arg(data_dir)
                .args(["--listen", &listen])
                .args(CHEAP_HASH_FLAGS)
                .args(["--settings-ttl", "1s"])
                .args(extra)
                .envs(envs.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log_file))
                .spawn()
                .expect("spawn onramp serve");
            let mut server = Self {
                child,
                addr: listen.parse().expect("addr"),
                data_dir: data_dir.to_owned(),
                log,
            };
            if server.wait_healthy().await {
                return server;
            }
            // Most likely the port was taken between picking and binding: try another.
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
        panic!("onramp serve did not start");
    }

    async fn wait_healthy(&mut self) -> bool {
        // A filtered run may reach here before any in-process server installed it.
        onramp::webhook::install_crypto_provider();
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("onramp serve exited early with {status}:\n{}", self.log());
                return false;
            }
            if let Ok(r) = client.get(format!("http://{}/healthz", self.addr)).send().await
                && r.status().is_success()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn api(&self, host: &str) -> Api {
        Api::new(self.addr, host)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, like `kill -9`.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit after SIGTERM:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `onramp instance create acme` (the instance most suites use) through the
/// real CLI; returns its JSON document.
pub fn create_acme_with_cli(data: &Path) -> Value {
    cli(
        data,
        &[
            "instance",
            "create",
            "acme",
            "--name",
            "Acme",
            "--region",
            "za",
            "--app-url",
            "https://app.acme.example",
        ],
    )
    .ok()
}
