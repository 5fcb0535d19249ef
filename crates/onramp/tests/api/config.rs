//! Configuration through the real binary: flags over the environment (and
//! `_FILE` variables) over the TOML file over defaults, durations, warnings,
//! and the README's table against the declaration.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use onramp::cli::Cli;
use onramp::cli::context::CliResult;
use onramp::config::{command, known_env, parse_duration, resolve, settings, settings_table};
use serde_json::json;

use crate::durability::provision;
use crate::helpers::*;

/// Runs the binary with extra variables; killed (and failing) after a minute.
fn run_env(args: &[&str], envs: &[(&str, &str)]) -> CliRun {
    let mut child = onramp_command()
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn onramp");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("onramp {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    CliRun {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

const FILE_TOKEN: &str = "token-from-the-config-file";
const FILE_VAR_TOKEN: &str = "token-from-a-token-file";
const ENV_TOKEN: &str = "token-from-the-environment";
const FLAG_TOKEN: &str = "token-from-a-flag-on-the-line";

/// ChildServer's health check builds a client before any `Api` installs this.
fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Which of the test tokens opens `/metrics`.
async fn metrics_token(server: &ChildServer) -> &'static str {
    let api = server.api("localhost");
    let mut open = Vec::new();
    for token in [FILE_TOKEN, FILE_VAR_TOKEN, ENV_TOKEN, FLAG_TOKEN] {
        if api.with_token(token).get("/metrics").await.status == 200 {
            open.push(token);
        }
    }
    assert_eq!(open.len(), 1, "exactly one token opens /metrics: {open:?}");
    open[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_comes_from_the_flag_then_the_environment_or_its_file_then_the_config_file() {
    crypto();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write(&dir.path().join("onramp.toml"), &format!("metrics_token = \"{FILE_TOKEN}\"\n"));
    let token_file = write(&dir.path().join("metrics-token"), &format!("{FILE_VAR_TOKEN}\n"));
    let file_var = ("ONRAMP_METRICS_TOKEN_FILE", token_file.as_str());

    let server = ChildServer::start(&data, &["--config", &config]).await;
    assert_eq!(metrics_token(&server).await, FILE_TOKEN);
    drop(server);
    let server = ChildServer::start_with_env(&data, &["--config", &config], &[file_var]).await;
    assert_eq!(
        metrics_token(&server).await,
        FILE_VAR_TOKEN,
        "ONRAMP_METRICS_TOKEN_FILE over the file"
    );
    drop(server);
    let server = ChildServer::start_with_env(&data, &["--config", &config], &[("ONRAMP_METRICS_TOKEN", ENV_TOKEN)]).await;
    assert_eq!(metrics_token(&server).await, ENV_TOKEN, "ONRAMP_METRICS_TOKEN over the file");
    drop(server);
    let server = ChildServer::start_with_env(&data, &["--config", &config, "--metrics-token", FLAG_TOKEN], &[file_var]).await;
    assert_eq!(metrics_token(&server).await, FLAG_TOKEN, "the flag over ONRAMP_METRICS_TOKEN_FILE");
    assert!(!server.log().contains(FILE_VAR_TOKEN) && !server.log().contains(FLAG_TOKEN));
}

#[test]
fn operator_commands_find_the_database_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let config = write(
        &dir.path().join("onramp.toml"),
        &format!("database_url = \"{}\"\n", url("from-file.db")),
    );
    let url_file = write(&dir.path().join("database-url"), &format!("{}\n", url("from-file-var.db")));
    let file_var = ("ONRAMP_DATABASE_URL_FILE", url_file.as_str());
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().unwrap();
    let migrate = |extra: &[&str], envs: &[(&str, &str)], expected: &str| {
        let mut args = vec!["--json", "--data-dir", data_dir, "--config", &config];
        args.extend(extra);
        args.push("migrate");
        run_env(&args, envs).ok();
        assert!(dir.path().join(expected).exists(), "{extra:?} {envs:?} should use {expected}");
        std::fs::remove_file(dir.path().join(expected)).unwrap();
    };
    migrate(&[], &[], "from-file.db");
    migrate(&[], &[file_var], "from-file-var.db");
    let env_url = url("from-env.db");
    migrate(&[], &[("ONRAMP_DATABASE_URL", &env_url)], "from-env.db");
    let flag_url = url("from-flag.db");
    migrate(&["--database-url", &flag_url], &[file_var], "from-flag.db");
    assert!(!dir.path().join("data/onramp.db").exists(), "a database URL wins over the data dir");
}

#[test]
fn a_variable_and_its_file_variable_together_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let url_file = write(&dir.path().join("database-url"), "sqlite://elsewhere.db\n");
    let run = run_env(
        &["--json", "migrate"],
        &[("ONRAMP_DATABASE_URL", "sqlite://x.db"), ("ONRAMP_DATABASE_URL_FILE", &url_file)],
    );
    assert!(!run.success, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "config", "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ONRAMP_DATABASE_URL ") && message.contains("ONRAMP_DATABASE_URL_FILE"),
        "{message}"
    );

    let token_file = write(&dir.path().join("metrics-token"), FILE_VAR_TOKEN);
    let run = run_env(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().to_str().unwrap()],
        &[("ONRAMP_METRICS_TOKEN", ENV_TOKEN), ("ONRAMP_METRICS_TOKEN_FILE", &token_file)],
    );
    assert!(!run.success, "serve should refuse to start");
    assert!(run.stderr.contains("ONRAMP_METRICS_TOKEN_FILE"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(ENV_TOKEN) && !run.stderr.contains(FILE_VAR_TOKEN),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durations_take_sub_second_and_compound_values_from_every_layer() {
    crypto();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let config = write(
        &dir.path().join("onramp.toml"),
        "token_ttl = \"1m 30s\"\naccount_cache_ttl = \"250ms\"\nsession_ttl = 3600\n",
    );
    let server = ChildServer::start_with_env(
        &data,
        &[
            "--config",
            &config,
            "--usage-flush-interval",
            "250ms",
            "--shutdown-timeout",
            "1500ms",
        ],
        &[("ONRAMP_DB_ACQUIRE_TIMEOUT", "750ms"), ("ONRAMP_SETTINGS_TTL", "250ms")],
    )
    .await;
    let api = server.api(&host("acme", "staging"));
    let r = api
        .post("/v1/login/password", &json!({ "username": "svc", "password": SERVICE_PASSWORD }))
        .await;
    r.expect(200);
    assert_eq!(r.json["expires_in"], 90, "token_ttl = \"1m 30s\"");
    let api = api.with_token(r.json["api_token"].as_str().unwrap());
    let session = api.signup("ann@example.com").await;
    let left = parse_rfc3339(session["expires_at"].as_str().unwrap()) - time::OffsetDateTime::now_utc();
    assert!((3500..=3600).contains(&left.whole_seconds()), "a bare number is seconds: {left}");
    assert!(!server.log().contains("unknown ONRAMP_"), "{}", server.log());

    let data_arg = data.to_str().unwrap();
    let run = run_raw(&[
        "serve",
        "--data-dir",
        data_arg,
        "--listen",
        "127.0.0.1:0",
        "--settings-ttl",
        "250 parsecs",
    ]);
    assert!(!run.success);
    assert!(run.stderr.contains("250 parsecs"), "the error shows the value: {}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_onramp_variables_earn_a_warning() {
    crypto();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let run = run_env(
        &["--data-dir", data_arg, "--json", "migrate"],
        &[
            ("ONRAMP_TOKEN_TLL", "5m"),
            ("ONRAMP_TEST_ANYTHING", "1"),
            // Known, and not read by `migrate`.
            ("ONRAMP_METRICS_TOKEN_FILE", "/nonexistent/metrics-token"),
        ],
    );
    run.ok();
    assert!(run.stderr.contains("ONRAMP_TOKEN_TLL"), "{}", run.stderr);
    assert!(!run.stderr.contains("ONRAMP_TEST_ANYTHING"), "{}", run.stderr);
    assert!(!run.stderr.contains("ONRAMP_METRICS_TOKEN_FILE"), "{}", run.stderr);

    let server = ChildServer::start_with_env(&data, &[], &[("ONRAMP_SESION_TTL", "1d")]).await;
    eventually("serve warns", || async {
        let log = server.log();
        (log.contains("unknown ONRAMP_ environment variable") && log.contains("ONRAMP_SESION_TTL")).then_some(())
    })
    .await;
}

#[test]
fn serve_help_lists_every_setting_with_its_variable_and_default() {
    let help = run_raw(&["serve", "--help"]).stdout;
    // One block per option: its flag line and the more indented lines under it.
    let mut blocks: Vec<String> = Vec::new();
    for line in help.lines() {
        let option = line.trim_start();
        if option.starts_with('-') && line.len() - option.len() < 8 {
            blocks.push(String::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    for s in settings() {
        let block = blocks
            .iter()
            .find(|b| b.split_whitespace().next() == Some(format!("--{}", s.flag).as_str()))
            .unwrap_or_else(|| panic!("serve --help does not list --{}:\n{help}", s.flag));
        assert!(block.contains("[default: "), "no default for --{}: {block}", s.flag);
        assert!(block.contains(&format!("[env: {}", s.env)), "no variable for --{}: {block}", s.flag);
        if let Some(file) = s.file_env() {
            assert!(block.contains(&file), "no {file} for --{}: {block}", s.flag);
        }
    }
}

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_readme_settings_table_is_the_declaration() {
    let readme = repo_file("README.md");
    let (begin, end) = ("<!-- settings:begin -->\n", "<!-- settings:end -->");
    let start = readme.find(begin).expect("README marks its settings table") + begin.len();
    let len = readme[start..].find(end).expect("README ends its settings table");
    let expected = settings_table();
    assert!(
        readme[start..start + len] == expected,
        "README's settings table differs from the declaration; it should read:\n\n{expected}"
    );
    // No variable the server does not read (ONRAMP_DEMO_* are the demo's credentials).
    let known = known_env();
    for doc in ["README.md", "docs/deployment.md"] {
        let text = repo_file(doc);
        for (at, _) in text.match_indices("ONRAMP_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let name = name.trim_end_matches('_');
            let allowed = known.iter().any(|k| k == name)
                || ["ONRAMP_TEST_", "ONRAMP_DEMO_"].iter().any(|p| name.starts_with(p))
                || name == "ONRAMP_HASH" // ONRAMP_HASH_* in prose
                || name == "ONRAMP";
            assert!(allowed, "{doc} names {name}, which the server does not read");
        }
    }
}

// ------------------------------------------- in process, without env
fn parse(args: &[&str]) -> CliResult<Cli> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let first = command().try_get_matches_from(args.clone()).expect("valid command line");
    resolve(&first, args)
}

fn with_file(toml: &str, args: &[&str]) -> CliResult<Cli> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onramp.toml");
    std::fs::write(&path, toml).unwrap();
    let mut all = vec!["onramp", "--config", path.to_str().unwrap()];
    all.extend(args);
    parse(&all)
}

fn serve(cli: Cli) -> onramp::cli::serve::ServeArgs {
    match cli.command {
        onramp::cli::Command::Serve(args) => *args,
        other => panic!("not serve: {other:?}"),
    }
}

#[test]
fn durations_are_humantime_or_seconds() {
    assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
    assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
    assert_eq!(parse_duration("30d").unwrap(), Duration::from_secs(2_592_000));
    assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
    assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert!(parse_duration("soon").is_err());
    assert!(parse_duration("m").is_err());
    assert!(parse_duration("").is_err());
}

#[test]
fn every_setting_has_a_flag_variable_and_default_in_the_same_shape() {
    let all = settings();
    assert!(all.len() > 20, "{all:?}");
    for s in &all {
        assert_eq!(s.env, format!("ONRAMP_{}", s.key.to_ascii_uppercase()), "{s:?}");
        assert_eq!(s.flag, s.key.replace('_', "-"), "{s:?}");
        assert!(!s.default.is_empty(), "no default for {s:?}");
        assert!(!s.help.is_empty(), "no help for {s:?}");
    }
    let secrets: Vec<&str> = all.iter().filter(|s| s.secret).map(|s| s.key.as_str()).collect();
    assert_eq!(secrets, ["database_url", "alert_webhook_secret", "metrics_token", "redis_url"]);
    assert!(known_env().contains(&"ONRAMP_METRICS_TOKEN_FILE".to_owned()));
}

#[test]
fn the_file_ranks_below_flags_and_above_defaults() {
    let toml =
        "token_ttl = \"5m\"\nsession_ttl = \"2d\"\nsettings_ttl = \"250ms\"\ndemo = true\nalert_volume_min = 7\nhash_iterations = 3\n";
    let cli = with_file(toml, &["serve", "--token-ttl", "2m"]).unwrap();
    assert_eq!(cli.global.hash_iterations, 3);
    let args = serve(cli);
    assert_eq!(args.token_ttl, Duration::from_secs(120), "the flag wins");
    assert_eq!(args.session_ttl, Duration::from_secs(2 * 86_400));
    assert_eq!(args.settings_ttl, Duration::from_millis(250));
    assert!(args.demo);
    assert_eq!(args.alert_volume_min, 7);
    assert_eq!(args.shutdown_timeout, Duration::from_secs(10), "the default");
    // Server settings in the file do not bother other commands.
    assert!(with_file("token_ttl = \"5m\"", &["migrate"]).is_ok());
}

#[test]
fn file_errors_name_the_key_and_hide_secrets() {
    let e = with_file("listen = \"127.0.0.1:1\"\nbogus = 1", &["migrate"]).unwrap_err();
    assert!(e.message.contains("`bogus`"), "{}", e.message);
    let e = with_file("config = \"other.toml\"", &["migrate"]).unwrap_err();
    assert!(e.message.contains("`config`"), "{}", e.message);
    let e = with_file("session_ttl = \"soon\"", &["serve"]).unwrap_err();
    assert!(e.message.contains("session_ttl") && e.message.contains("soon"), "{}", e.message);
    let e = with_file("rate_limit = [1]", &["serve"]).unwrap_err();
    assert!(e.message.contains("rate_limit"), "{}", e.message);
    let e = with_file("log_format = \"xml\"", &["serve"]).unwrap_err();
    assert!(e.message.contains("log_format"), "{}", e.message);
}

#[test]
fn debug_never_shows_secrets() {
    let cli = parse(&[
        "onramp",
        "--database-url",
        "postgres://u:db-password-1@host/db",
        "serve",
        "--metrics-token",
        "metrics-token-secret-1",
        "--alert-webhook-secret",
        "webhook-secret-value-1",
        "--redis-url",
        "redis://:redis-password-1@host",
    ])
    .unwrap();
    let global = cli.global.clone();
    let shown = format!("{cli:?}");
    let settings = serve(cli).settings(&global).unwrap();
    let shown = format!("{shown}{settings:?}");
    for secret in [
        "db-password-1",
        "metrics-token-secret-1",
        "webhook-secret-value-1",
        "redis-password-1",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn the_generated_table_has_every_setting() {
    let table = settings_table();
    for s in settings() {
        assert!(table.contains(&format!("`--{}`", s.flag)));
    }
    assert!(table.contains("`ONRAMP_METRICS_TOKEN` or `ONRAMP_METRICS_TOKEN_FILE`"));
    assert!(table.contains("| `--token-ttl` | `ONRAMP_TOKEN_TTL` | `15m` |"), "{table}");
}

#[test]
fn trusted_proxies_come_from_repeated_or_comma_separated_values_in_every_layer() {
    let nets = |args: onramp::cli::serve::ServeArgs| args.trusted_proxy.iter().map(ToString::to_string).collect::<Vec<_>>();
    let cli = parse(&[
        "onramp",
        "serve",
        "--trusted-proxy",
        "10.0.0.0/8,192.0.2.7",
        "--trusted-proxy",
        "2001:db8::/32",
    ])
    .unwrap();
    assert_eq!(nets(serve(cli)), ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
    let cli = with_file("trusted_proxy = \"10.0.0.0/8, 172.16.0.0/12\"", &["serve"]).unwrap();
    assert_eq!(nets(serve(cli)), ["10.0.0.0/8", "172.16.0.0/12"]);
    assert!(nets(serve(parse(&["onramp", "serve"]).unwrap())).is_empty(), "none by default");
    let e = with_file("trusted_proxy = \"proxy.internal\"", &["serve"]).unwrap_err();
    assert!(
        e.message.contains("trusted_proxy") && e.message.contains("proxy.internal"),
        "{}",
        e.message
    );
    let run = run_env(&["serve", "--listen", "127.0.0.1:0"], &[("ONRAMP_TRUSTED_PROXY", "10.0.0.0/33")]);
    assert!(!run.success);
    assert!(run.stderr.contains("10.0.0.0/33"), "{}", run.stderr);
}

#[test]
fn the_portal_idle_timeout_comes_from_every_layer_within_bounds() {
    let settings = |cli: Cli| {
        let global = cli.global.clone();
        serve(cli).settings(&global)
    };
    let default = settings(parse(&["onramp", "serve"]).unwrap()).unwrap();
    assert_eq!(
        default.core.portal_idle,
        Duration::from_secs(30 * 60),
        "what the portal used before"
    );
    let flag = settings(parse(&["onramp", "serve", "--portal-idle-timeout", "5m"]).unwrap()).unwrap();
    assert_eq!(flag.core.portal_idle, Duration::from_secs(300));
    assert_eq!(flag.core.console_idle, Duration::from_secs(30 * 60), "the console's is its own");
    let file = settings(with_file("portal_idle_timeout = \"2h\"", &["serve"]).unwrap()).unwrap();
    assert_eq!(file.core.portal_idle, Duration::from_secs(7200));
    for bad in ["30s", "25h"] {
        let err = settings(parse(&["onramp", "serve", "--portal-idle-timeout", bad]).unwrap()).unwrap_err();
        assert!(err.message.contains("portal_idle_timeout"), "{}", err.message);
    }
}

#[test]
fn the_public_scheme_and_port_come_from_every_layer_and_the_demo_sets_its_own() {
    let settings = |cli: Cli| {
        let global = cli.global.clone();
        serve(cli).settings(&global).unwrap()
    };
    let default = settings(parse(&["onramp", "serve"]).unwrap());
    assert_eq!((default.core.public_scheme.as_str(), default.core.public_port), ("https", None));
    let flags = settings(parse(&["onramp", "serve", "--public-scheme", "http", "--public-port", "8443"]).unwrap());
    assert_eq!((flags.core.public_scheme.as_str(), flags.core.public_port), ("http", Some(8443)));
    let file = settings(with_file("public_scheme = \"http\"\npublic_port = 9000", &["serve"]).unwrap());
    assert_eq!((file.core.public_scheme.as_str(), file.core.public_port), ("http", Some(9000)));
    // The demo advertises its own plain-http listener.
    let demo = settings(parse(&["onramp", "serve", "--demo", "--listen", "127.0.0.1:8090"]).unwrap());
    assert_eq!((demo.core.public_scheme.as_str(), demo.core.public_port), ("http", Some(8090)));
    assert!(
        command()
            .try_get_matches_from(["onramp", "serve", "--public-scheme", "ftp"])
            .is_err()
    );
}
