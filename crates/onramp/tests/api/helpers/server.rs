//! In-process test servers on a random loopback port, each with its own
//! data directory (or PostgreSQL database), and the usual fixture.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use onramp::master_key::MasterKeySource;
use onramp::startup::{Running, ServerSettings};
use onramp_domain::app::{Core, CoreConfig};
use onramp_domain::audit::Actor;
use onramp_domain::infra::hashing::HashCost;
use onramp_domain::infra::master_key::MasterKey;
use onramp_domain::infra::secret::Secret;
use onramp_domain::tenancy::service::{EnvChanges, InstanceChanges, NewInstance};
use onramp_domain::tenancy::{EnvKind, PlatformId};
use tempfile::TempDir;

use super::client::{Api, login_token};

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

/// `dir/master.key`, written with a fresh key unless it exists, as the
/// source of a server's master key: like `--master-key-file`, so it serves
/// a PostgreSQL test database too, and a CLI run with `--data-dir dir`
/// finds the same key.
pub fn master_key_file(dir: &Path) -> MasterKeySource {
    use std::io::Write as _;
    let path = dir.join(onramp::master_key::FILE_NAME);
    if !path.exists() {
        let (_, text) = MasterKey::generate();
        let mut file = onramp_store::files::create_private(&path).expect("master key file");
        file.write_all(text.as_bytes()).expect("write master key");
    }
    MasterKeySource::File(path)
}

/// Settings of an in-process test server on 127.0.0.1:0 with its data in `dir`.
pub fn test_settings(dir: &Path) -> ServerSettings {
    ServerSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        admin_listen: Some("127.0.0.1:0".parse().expect("address")),
        database_url: format!("sqlite://{}/onramp.db?mode=rwc", dir.display()),
        master_key: master_key_file(dir),
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
        connections: onramp::serve::ConnectionLimits::default(),
        usage_flush_interval: Duration::from_millis(200),
        webhook_interval: Duration::from_millis(50),
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

/// A platform id the test knows is valid.
pub fn pid(platform_id: &str) -> PlatformId {
    PlatformId::parse(platform_id).expect("a valid platform id")
}

/// The canonical API host of an environment (base domain `localhost`).
pub fn host(platform_id: &str, env: &str) -> String {
    match env {
        "staging" => format!("api.staging.{platform_id}.localhost"),
        "production" => format!("api.{platform_id}.localhost"),
        other => panic!("no environment {other}"),
    }
}

/// Starts a server whose issuer carries the port it listens on, so that a
/// client that follows the advertised URLs (OpenID Connect discovery)
/// reaches it: a free port is picked first, since the issuer is fixed
/// before the listener binds; if another socket takes the port in between,
/// the next one is tried.
async fn advertising_its_port(settings: &mut ServerSettings) -> Running {
    for _ in 0..20 {
        let free = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
        let port = free.expect("a free port").port();
        settings.listen = SocketAddr::from(([127, 0, 0, 1], port));
        settings.core.public_port = Some(port);
        match onramp::startup::start(settings.clone()).await {
            Ok(running) => return running,
            Err(e) if e.starts_with("cannot listen") => continue,
            Err(e) => panic!("server starts: {e}"),
        }
    }
    panic!("no free port after 20 tries")
}

/// An in-process server with its own data directory.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Where the operator console listens.
    pub admin_addr: Option<SocketAddr>,
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

    /// A server with `tweak`ed settings; `public_port = Some(0)` there means
    /// "the port it listens on" (see [`advertising_its_port`]).
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
        let running = if settings.core.public_port == Some(0) {
            advertising_its_port(&mut settings).await
        } else {
            onramp::startup::start(settings.clone()).await.expect("server starts")
        };
        Self {
            addr: running.addr,
            admin_addr: running.admin_addr,
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

    /// The plaintext seed of a signing key, opened with this server's master
    /// key (tests forge tokens with it).
    pub fn seed_of(&self, key: &onramp_domain::tenancy::signing::SigningKey) -> [u8; 32] {
        let MasterKeySource::File(path) = &self.settings.master_key else {
            panic!("test servers read their master key from a file");
        };
        let master = onramp::master_key::load(path).expect("master key");
        onramp_domain::tenancy::signing::sealed::SeedSealer::new(&master)
            .open(key)
            .expect("the seed opens")
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
                .set_features(&Actor::operator(), &pid(platform_id), &enable, &[])
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
                &pid(platform_id),
                env_kind(env),
                username,
                &roles,
                Some(Secret::new(SERVICE_PASSWORD.into())),
            )
            .await
            .expect("create service user");
        assert!(generated.is_none(), "a given password is not echoed back as generated");
        user.id.into()
    }

    pub async fn set_rate_limits(&self, platform_id: &str, limits: &[(&str, u32)]) {
        let changes = InstanceChanges {
            rate_limits: limits.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect(),
            ..InstanceChanges::default()
        };
        self.core
            .tenancy()
            .update_instance(&Actor::operator(), &pid(platform_id), changes)
            .await
            .expect("update instance");
    }

    pub async fn update_environment(&self, platform_id: &str, env: &str, changes: EnvChanges) {
        self.core
            .tenancy()
            .update_environment(&Actor::operator(), &pid(platform_id), env_kind(env), changes)
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
