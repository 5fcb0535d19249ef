//! The test harness: servers (in-process and child processes), HTTP clients
//! bound to a Host, fixtures, problem-body checks and JWT tools.

#![allow(dead_code)]

pub mod parking;

use std::fs::File;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use onramp::startup::{Running, ServerSettings};
use onramp_domain::app::{Core, CoreConfig};
use onramp_domain::audit::Actor;
use onramp_domain::infra::hashing::HashCost;
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::tenancy::service::{EnvChanges, InstanceChanges, NewInstance};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Password of the service users the fixtures create.
pub const SERVICE_PASSWORD: &str = "svc-Pa55word-for-tests!";
/// Password of the client accounts the tests sign up.
pub const CLIENT_PASSWORD: &str = "Tr0ub4dor&3-battery";

/// Upper bound for anything that should happen "within about a second":
/// a hang guard, not a speed assertion.
pub const EVENTUALLY: Duration = Duration::from_secs(20);

/// A cheap argon2id cost so tests stay fast.
pub fn cheap_hash() -> HashCost {
    HashCost {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

/// The metrics token of in-process test servers.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// Settings of an in-process test server on 127.0.0.1:0 with its data in `dir`.
pub fn test_settings(dir: &Path) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: format!("sqlite://{}/onramp.db?mode=rwc", dir.display()),
        db_max_connections: 8,
        db_acquire_timeout: Duration::from_secs(5),
        db_statement_timeout: Some(Duration::from_secs(5)),
        core: CoreConfig {
            hash_cost: cheap_hash(),
            settings_ttl: Duration::from_millis(200),
            ..CoreConfig::default()
        },
        default_rate_limit: 1000,
        shutdown_timeout: Duration::from_secs(5),
        usage_flush_interval: Duration::from_millis(200),
        alert_webhook: None,
        metrics_token: Some(onramp_domain::infra::secret::Secret::new(METRICS_TOKEN.into())),
        demo_vendor: None,
        redis_url: None,
        trusted_proxies: Vec::new(),
        wrap_store: None,
    }
}

pub fn env_kind(name: &str) -> EnvKind {
    match name {
        "staging" => EnvKind::Staging,
        "production" => EnvKind::Production,
        other => panic!("no environment {other}"),
    }
}

/// The canonical API host of an environment (base domain `localhost`).
pub fn host(platform_id: &str, env: &str) -> String {
    match env {
        "staging" => format!("api.staging.{platform_id}.localhost"),
        "production" => format!("api.{platform_id}.localhost"),
        other => panic!("no environment {other}"),
    }
}

/// An in-process server with its own data directory.
pub struct TestServer {
    pub addr: SocketAddr,
    pub core: Arc<Core>,
    /// The server's database, for arranging or inspecting rows directly.
    pub store: onramp_store::SqlStore,
    /// The server's clock: tests advance it instead of sleeping for expiry.
    pub clock: onramp_domain::clock::ManualClock,
    pub settings: ServerSettings,
    pub dir: TempDir,
    running: Option<Running>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ServerSettings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = test_settings(dir.path());
        let clock = onramp_domain::clock::ManualClock::default();
        settings.core.clock = Arc::new(clock.clone());
        // With ONRAMP_TEST_DATABASE_URL (a PostgreSQL server), each test gets a database of its own.
        if let Ok(server) = std::env::var("ONRAMP_TEST_DATABASE_URL") {
            let name = format!("onramp_test_{}", uuid::Uuid::new_v4().simple());
            settings.database_url = onramp_store::create_postgres_database(&server, &name).await.expect("test database");
        }
        tweak(&mut settings);
        let running = onramp::startup::start(settings.clone()).await.expect("server starts");
        Self {
            addr: running.addr,
            core: Arc::clone(&running.core),
            store: running.store.clone(),
            clock,
            settings,
            dir,
            running: Some(running),
        }
    }

    /// Stops the server, draining in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// A second core on the same database, as another process (the CLI) would have.
    pub async fn other_process_core(&self) -> Arc<Core> {
        onramp::startup::open_core(&self.settings).await.expect("second core").core
    }

    /// A client that sends its requests to this server with `Host: <host>:<port>`.
    pub fn api(&self, host: &str) -> Api {
        Api::new(self.addr, host)
    }

    pub fn staging(&self, platform_id: &str) -> Api {
        self.api(&host(platform_id, "staging"))
    }

    pub fn production(&self, platform_id: &str) -> Api {
        self.api(&host(platform_id, "production"))
    }

    /// Creates an instance (region `za`) with the given features.
    pub async fn create_instance(&self, platform_id: &str, features: &[&str]) {
        let new = NewInstance {
            platform_id: platform_id.into(),
            name: format!("{platform_id} platform"),
            region: "za".into(),
            app_url: format!("https://app.{platform_id}.example"),
        };
        self.core
            .tenancy()
            .create_instance(&Actor::operator(), new)
            .await
            .expect("create instance");
        if !features.is_empty() {
            let enable: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
            self.core
                .tenancy()
                .set_features(&Actor::operator(), platform_id, &enable, &[])
                .await
                .expect("set features");
        }
    }

    /// Creates a service user with [`SERVICE_PASSWORD`]; returns its id.
    pub async fn create_service_user(&self, platform_id: &str, env: &str, username: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let (user, generated) = self
            .core
            .service_users()
            .create_service_user(
                &Actor::operator(),
                platform_id,
                env_kind(env),
                username,
                &roles,
                Some(Secret::new(SERVICE_PASSWORD.into())),
            )
            .await
            .expect("create service user");
        assert!(generated.is_none(), "a given password is not echoed back as generated");
        user.id
    }

    pub async fn set_rate_limits(&self, platform_id: &str, limits: &[(&str, u32)]) {
        let changes = InstanceChanges {
            rate_limits: limits.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect(),
            ..InstanceChanges::default()
        };
        self.core
            .tenancy()
            .update_instance(&Actor::operator(), platform_id, changes)
            .await
            .expect("update instance");
    }

    pub async fn update_environment(&self, platform_id: &str, env: &str, changes: EnvChanges) {
        self.core
            .tenancy()
            .update_environment(&Actor::operator(), platform_id, env_kind(env), changes)
            .await
            .expect("update environment");
    }

    /// Logs a service user in (asserting 200) and returns an authenticated client.
    pub async fn login(&self, api: &Api, username: &str) -> Api {
        let token = login_token(api, username, SERVICE_PASSWORD).await;
        api.with_token(&token)
    }
}

/// The usual world: instance `acme` with `client-accounts`, a service user
/// `svc` in each environment, and clients logged in on both hosts.
pub struct Fixture {
    pub server: TestServer,
    pub staging: Api,
    pub production: Api,
    pub staging_user: String,
    pub production_user: String,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with(|_| {}, &[]).await
    }

    /// `limits` are set before the first request, so they apply at once.
    pub async fn with(tweak: impl FnOnce(&mut ServerSettings), limits: &[(&str, u32)]) -> Self {
        let server = TestServer::start_with(tweak).await;
        server.create_instance("acme", &["client-accounts"]).await;
        if !limits.is_empty() {
            server.set_rate_limits("acme", limits).await;
        }
        let staging_user = server.create_service_user("acme", "staging", "svc", &[]).await;
        let production_user = server.create_service_user("acme", "production", "svc", &[]).await;
        let staging = server.login(&server.staging("acme"), "svc").await;
        let production = server.login(&server.production("acme"), "svc").await;
        Self {
            server,
            staging,
            production,
            staging_user,
            production_user,
        }
    }
}

/// An HTTP client bound to one Host, optionally with a bearer token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    pub base: String,
    pub host: String,
    pub token: Option<String>,
}

impl Api {
    pub fn new(addr: SocketAddr, host: &str) -> Self {
        // reqwest is built without a default TLS crypto provider (the server installs ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .resolve(host, addr)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            client,
            base: format!("http://{host}:{}", addr.port()),
            host: host.to_owned(),
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn without_token(&self) -> Self {
        Self {
            token: None,
            ..self.clone()
        }
    }

    pub fn token(&self) -> &str {
        self.token.as_deref().expect("a logged-in client")
    }

    /// A request builder with the bearer token (if any) already set.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        send(self.request(Method::DELETE, path)).await
    }

    /// Signs a client up (asserting 201) and returns the response body.
    pub async fn signup(&self, email: &str) -> Value {
        let r = self.post("/v1/client/signup", &signup_body(email)).await;
        r.expect(201);
        r.json
    }

    /// Account ids of every page of `GET /v1/client`.
    pub async fn all_account_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/client?limit=200&cursor={c}"),
                None => "/v1/client?limit=200".to_owned(),
            };
            let r = self.get(&path).await;
            r.expect(200);
            ids.extend(
                r.json["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|a| a["user_id"].as_str().expect("user_id").to_owned()),
            );
            match r.json["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    }
}

pub fn signup_body(email: &str) -> Value {
    json!({ "email": email, "name": { "first_name": "Ann", "last_name": "Lee" }, "password": CLIENT_PASSWORD })
}

/// A response, read completely.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, `Null` when it is not JSON.
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem response with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_problem_shape(self);
        assert_eq!(self.json["code"], code, "problem code; body: {}", self.text);
        self
    }

    /// The `field`s of the problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Every error: `application/problem+json` with type, title, status, code and
/// request_id, and the request id also in `X-Request-Id`.
#[track_caller]
pub fn assert_problem_shape(r: &Resp) {
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/problem+json"), "content type {ct:?}; body: {}", r.text);
    let j = &r.json;
    let code = j["code"].as_str().unwrap_or_else(|| panic!("problem without code: {}", r.text));
    assert!(!code.is_empty());
    let ty = j["type"].as_str().unwrap_or_else(|| panic!("problem without type: {}", r.text));
    assert!(ty.ends_with(code), "type {ty} should name the code {code}");
    assert!(
        j["title"].as_str().is_some_and(|t| !t.is_empty()),
        "problem without title: {}",
        r.text
    );
    assert_eq!(j["status"].as_u64(), Some(u64::from(r.status)), "status in the body: {}", r.text);
    let rid = j["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("problem without request_id: {}", r.text));
    assert!(!rid.is_empty(), "empty request_id");
    assert_eq!(
        r.header("x-request-id"),
        Some(rid),
        "X-Request-Id header should match the body's request_id"
    );
    if r.status == 401 {
        assert!(r.header("www-authenticate").is_some(), "a 401 needs WWW-Authenticate");
    }
}

pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let response = rb.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(status < 500 || status == 503, "server error {status}: {text}");
    Resp {
        status,
        headers,
        text,
        json,
    }
}

/// `POST /v1/login/password`, asserting 200; returns the token.
pub async fn login_token(api: &Api, username: &str, password: &str) -> String {
    let r = api
        .without_token()
        .post("/v1/login/password", &json!({ "username": username, "password": password }))
        .await;
    r.expect(200);
    r.json["api_token"].as_str().expect("api_token").to_owned()
}

/// Retries `check` until it returns `Some`, or panics after [`EVENTUALLY`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Parses an RFC 3339 timestamp, which must be in UTC.
#[track_caller]
pub fn parse_rfc3339(s: &str) -> time::OffsetDateTime {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"));
    assert!(t.offset().is_utc(), "{s:?} is not in UTC");
    t
}

pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// ---------------------------------------------------------------- JWT tools

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap_or_else(|e| panic!("{s:?} is not base64url: {e}"))
}

/// The header and payload of a JWT, decoded without verification.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact token has three parts: {token}");
    let header = serde_json::from_slice(&unb64(parts[0])).expect("header JSON");
    let payload = serde_json::from_slice(&unb64(parts[1])).expect("payload JSON");
    (header, payload)
}

/// A compact JWS of `header` and `claims`; `sign` gets the signing input
/// (`header.payload`) and returns the raw signature.
pub fn compact_jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// Signs arbitrary claims with an Ed25519 seed, with `kid` in the header.
pub fn sign_eddsa(seed: &[u8], kid: Option<&str>, claims: &Value) -> String {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(seed.try_into().expect("a 32-byte Ed25519 seed"));
    let mut header = json!({ "typ": "JWT", "alg": "EdDSA" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    compact_jws(&header, claims, |input| key.sign(input).to_bytes().to_vec())
}

// ------------------------------------------------------- child processes

/// Flags that make argon2 cheap in child processes.
pub const CHEAP_HASH_FLAGS: [&str; 6] = ["--hash-memory-kib", "1024", "--hash-iterations", "1", "--hash-parallelism", "1"];

/// The real binary, without any `ONRAMP_*` variables of the test environment.
pub fn onramp_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_onramp"));
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
    use std::io::Read as _;
    let mut child = onramp_command()
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
        for attempt in 0..5 {
            let port = free_port();
            static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::fs::create_dir_all(data_dir).expect("data dir");
            let log = data_dir.join(format!("serve-{n}-{attempt}.log"));
            let log_file = File::create(&log).expect("log file");
            let listen = format!("127.0.0.1:{port}");
            let child = onramp_command()
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

// ------------------------------------------------------------- partners

/// The usual body of `POST /v1/partners/create` (camelCase, like the partner API).
pub fn partner_signup_body(email: &str) -> Value {
    json!({ "primaryEmail": email, "password": CLIENT_PASSWORD, "firstName": "Ann", "lastName": "Lee" })
}

/// A client of the partner API: requests carry `x-api-key` and no bearer token.
#[derive(Clone)]
pub struct PartnerApi {
    pub api: Api,
    pub key: String,
}

impl PartnerApi {
    pub fn new(api: &Api, key: &str) -> Self {
        Self {
            api: api.without_token(),
            key: key.to_owned(),
        }
    }

    /// A request builder with `x-api-key` already set.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.api.request(method, path).header("x-api-key", &self.key)
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// A POST with no body and no Content-Type at all.
    pub async fn post_empty(&self, path: &str) -> Resp {
        send(self.request(Method::POST, path)).await
    }

    /// A POST with an `Idempotency-Key`.
    pub async fn post_idempotent(&self, path: &str, idempotency_key: &str, body: &Value) -> Resp {
        send(
            self.request(Method::POST, path)
                .header("idempotency-key", idempotency_key)
                .json(body),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        send(self.request(Method::DELETE, path)).await
    }

    /// `POST /v1/partners/create` with [`partner_signup_body`], asserting 201;
    /// returns the response's `data`.
    pub async fn create_account(&self, email: &str) -> Value {
        let r = self.post("/v1/partners/create", &partner_signup_body(email)).await;
        r.expect(201);
        r.json["data"].clone()
    }

    /// Account ids of every page of `GET /v1/partners/accounts`.
    pub async fn all_account_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/partners/accounts?limit=200&cursor={c}"),
                None => "/v1/partners/accounts?limit=200".to_owned(),
            };
            let r = self.get(&path).await;
            r.expect(200);
            ids.extend(
                r.json["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|a| a["accountId"].as_str().expect("accountId").to_owned()),
            );
            match r.json["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    }
}

impl Api {
    /// A partner-API client on this host with this `x-api-key`.
    pub fn with_api_key(&self, key: &str) -> PartnerApi {
        PartnerApi::new(self, key)
    }
}

/// The value of query parameter `name` in a URL (percent-decoding `%XX`).
#[track_caller]
pub fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let raw = query
        .split('&')
        .find_map(|pair| pair.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
        .unwrap_or_else(|| panic!("no query parameter {name} in {url}"));
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .unwrap_or_else(|e| panic!("{name} in {url} is not UTF-8: {e}"))
        .into_owned()
}

impl TestServer {
    /// Creates a partner with this status; returns its id.
    pub async fn create_partner(&self, platform_id: &str, env: &str, name: &str, status: PartnerStatus) -> String {
        let partner = self
            .core
            .partners()
            .create_partner(&Actor::operator(), platform_id, env_kind(env), name)
            .await
            .expect("create partner");
        assert_eq!(partner.status, PartnerStatus::Pending, "a new partner is pending");
        if status != PartnerStatus::Pending {
            self.core
                .partners()
                .set_partner_status(&Actor::operator(), &partner.id, status)
                .await
                .expect("set partner status");
        }
        partner.id
    }

    /// Issues a key; returns `(key_id, key)`.
    pub async fn issue_key(&self, partner_id: &str, scopes: &[&str], expires_in: Option<Duration>) -> (String, String) {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let issued = self
            .core
            .partners()
            .issue_api_key(&Actor::operator(), partner_id, &scopes, expires_in)
            .await
            .expect("issue api key");
        (issued.key.key_id, issued.secret.expose().to_owned())
    }
}

/// Every partner key scope.
pub const ALL_SCOPES: [&str; 3] = ["accounts:write", "accounts:read", "usage:read"];

/// Instance `acme` with `client-accounts` and `partners`, an approved staging
/// partner with a key of every scope, and a staging service user (role
/// `service`) logged in for the client API and sign-in link redemption.
pub struct PartnerWorld {
    pub server: TestServer,
    pub partner_id: String,
    pub key_id: String,
    /// The partner's staging key.
    pub key: String,
    /// A partner-API client with [`PartnerWorld::key`].
    pub partner: PartnerApi,
    /// The staging service user (Bearer token).
    pub service: Api,
    pub service_user: String,
}

impl PartnerWorld {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut ServerSettings)) -> Self {
        let server = TestServer::start_with(tweak).await;
        server.create_instance("acme", &["client-accounts", "partners"]).await;
        let partner_id = server.create_partner("acme", "staging", "Shop", PartnerStatus::Active).await;
        let (key_id, key) = server.issue_key(&partner_id, &ALL_SCOPES, None).await;
        let service_user = server.create_service_user("acme", "staging", "svc", &[]).await;
        let service = server.login(&server.staging("acme"), "svc").await;
        let partner = server.staging("acme").with_api_key(&key);
        Self {
            server,
            partner_id,
            key_id,
            key,
            partner,
            service,
            service_user,
        }
    }

    /// Another partner of `acme` in `env` with this status and these scopes:
    /// `(partner_id, key_id, client)`.
    pub async fn other_partner(&self, env: &str, status: PartnerStatus, scopes: &[&str]) -> (String, String, PartnerApi) {
        let partner_id = self.server.create_partner("acme", env, "Other shop", status).await;
        let (key_id, key) = self.server.issue_key(&partner_id, scopes, None).await;
        let api = self.server.api(&host("acme", env)).with_api_key(&key);
        (partner_id, key_id, api)
    }

    /// `POST /v1/tokenauth/exchange` with the service user's token.
    pub async fn exchange(&self, token: &str) -> Resp {
        self.service.post("/v1/tokenauth/exchange", &json!({ "token": token })).await
    }
}

/// The set-up several suites share: turns on `features` for `platform_id`,
/// creates an approved staging partner named `name` and issues it a key with
/// every scope; returns the key.
pub async fn active_partner_key(core: &Core, platform_id: &str, features: &[&str], name: &str) -> String {
    let actor = Actor::operator();
    let features: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
    core.tenancy().set_features(&actor, platform_id, &features, &[]).await.unwrap();
    let partner = core
        .partners()
        .create_partner(&actor, platform_id, EnvKind::Staging, name)
        .await
        .unwrap();
    core.partners()
        .set_partner_status(&actor, &partner.id, PartnerStatus::Active)
        .await
        .unwrap();
    let issued = core.partners().issue_api_key(&actor, &partner.id, &[], None).await.unwrap();
    issued.secret.expose().to_owned()
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
