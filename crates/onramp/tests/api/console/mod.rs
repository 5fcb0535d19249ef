//! The operator console over HTTP, on its own listener: operators from the
//! CLI, sign-in with password and TOTP (enrolled at the first sign-in),
//! recovery codes, replayed codes, CSRF, the idle timeout, sign-out, and
//! the audit log with its filters and CSV export.

use std::time::Duration;

use onramp_domain::clock::Clock as _;
use onramp_domain::infra::totp::TotpSecret;

use crate::helpers::*;
use crate::pages::Browser;

mod environment;
mod instances;
mod lists;
mod overview;
mod partners;
mod scopes;

pub(super) const EMAIL: &str = "ops@example.com";
pub(super) const PASSWORD: &str = "Console-operator-pw-1";

pub(super) async fn server_with_operator(role: &str) -> TestServer {
    server_with_operator_and(role, |_| {}).await
}

/// Creates the operator ([`EMAIL`], [`PASSWORD`]) with `role` on `server`.
pub(super) async fn add_operator(server: &TestServer, role: &str) {
    let role = onramp_domain::operators::OperatorRole::parse(role).unwrap();
    server
        .core
        .operators()
        .create(
            &onramp_domain::audit::Actor::operator(),
            EMAIL,
            role,
            Some(onramp_domain::infra::secret::Secret::new(PASSWORD.to_owned())),
        )
        .await
        .expect("operator created");
}

pub(super) async fn server_with_operator_and(role: &str, tweak: impl FnOnce(&mut onramp::startup::ServerSettings)) -> TestServer {
    let server = TestServer::start_with(tweak).await;
    add_operator(&server, role).await;
    server
}

pub(super) fn console(server: &TestServer) -> Browser {
    Browser::new(Api::new(server.admin_addr.expect("the console listens"), "127.0.0.1"))
}

/// The text of the element with this id.
pub(super) fn element_text(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let open = start + html[start..].find('>').unwrap() + 1;
    html[open..open + html[open..].find('<').unwrap()].trim().to_owned()
}

/// Signs in for the first time: password, enrolment; returns the secret and the recovery codes.
pub(super) async fn first_sign_in(server: &TestServer, browser: &mut Browser) -> (TotpSecret, Vec<String>) {
    browser.get("/sign-in").await.expect(200);
    let r = browser
        .post("/sign-in", &[("csrf", &browser.csrf()), ("email", EMAIL), ("password", PASSWORD)])
        .await;
    r.expect(303);
    assert_eq!(r.header("location"), Some("/sign-in/enrol"));
    // Nothing else opens before enrolment.
    assert_eq!(browser.get("/").await.expect(303).header("location"), Some("/sign-in/enrol"));
    let page = browser.get("/sign-in/enrol").await;
    page.expect(200);
    assert!(page.text.contains("<svg"), "the QR code is inline SVG");
    let secret = TotpSecret::from_base32(&element_text(&page.text, "totp-secret")).expect("a base32 secret");
    let again = browser.get("/sign-in/enrol").await;
    assert_eq!(
        element_text(&again.text, "totp-secret"),
        secret.base32(),
        "a reload shows the same secret"
    );
    let now = server.clock.now_ms();
    let wrong = browser
        .post("/sign-in/enrol", &[("csrf", &browser.csrf()), ("code", "000000")])
        .await;
    wrong.expect(401);
    let r = browser
        .post("/sign-in/enrol", &[("csrf", &browser.csrf()), ("code", &secret.code_at(now))])
        .await;
    r.expect(200);
    let codes: Vec<String> = element_text(&r.text, "recovery-codes").lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn sign_in_with(browser: &mut Browser, code: &str) -> Resp {
    browser.get("/sign-in").await.expect(200);
    let r = browser
        .post("/sign-in", &[("csrf", &browser.csrf()), ("email", EMAIL), ("password", PASSWORD)])
        .await;
    r.expect(303);
    assert_eq!(r.header("location"), Some("/sign-in/code"));
    let page = browser.get("/sign-in/code").await;
    page.expect(200);
    assert!(page.text.contains(">Authentication code</label>"));
    browser.post("/sign-in/code", &[("csrf", &browser.csrf()), ("code", code)]).await
}

pub(super) async fn sign_out(browser: &mut Browser) {
    let r = browser.post("/sign-out", &[("csrf", &browser.csrf())]).await;
    r.expect(303);
    assert_eq!(browser.get("/").await.expect(303).header("location"), Some("/sign-in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_enrols_signs_in_with_codes_once_each_and_signs_out() {
    let server = server_with_operator("admin").await;
    let mut browser = console(&server);
    let (secret, codes) = first_sign_in(&server, &mut browser).await;
    let overview = browser.get("/").await;
    overview.expect(200);
    assert!(overview.text.contains("<h1>Overview</h1>"));
    assert!(overview.text.contains(EMAIL));
    assert!(overview.text.contains("No requests in this period."), "an empty chart says so");
    assert!(overview.text.contains("webhook endpoints failing"));
    sign_out(&mut browser).await;

    // The code that confirmed enrolment does not sign in again.
    let now = server.clock.now_ms();
    sign_in_with(&mut browser, &secret.code_at(now)).await.expect(401);
    // The next step's code does, once.
    server.clock.advance(Duration::from_secs(30));
    let next = secret.code_at(server.clock.now_ms());
    sign_in_with(&mut browser, &next).await.expect(303);
    browser.get("/").await.expect(200);
    sign_out(&mut browser).await;
    sign_in_with(&mut browser, &next).await.expect(401);

    // A recovery code works once, whatever its case and spacing.
    let loose = codes[3].to_uppercase().replace('-', " ");
    sign_in_with(&mut browser, &loose).await.expect(303);
    browser.get("/").await.expect(200);
    sign_out(&mut browser).await;
    sign_in_with(&mut browser, &codes[3]).await.expect(401);
    let operator = server.core.operators().by_email(EMAIL).await.unwrap();
    assert_eq!(server.core.operators().recovery_codes_left(&operator).await.unwrap(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_and_missing_csrf_tokens_are_refused() {
    let server = server_with_operator("support").await;
    server.create_instance("acme", &["client-accounts"]).await;
    let mut browser = console(&server);
    browser.get("/sign-in").await.expect(200);
    let r = browser
        .post(
            "/sign-in",
            &[("csrf", &browser.csrf()), ("email", EMAIL), ("password", "Not-the-password-1")],
        )
        .await;
    r.expect(401);
    assert!(r.text.contains("did not match"));
    let r = browser.post("/sign-in", &[("email", EMAIL), ("password", PASSWORD)]).await;
    r.expect(403);
    let r = browser
        .post("/sign-in", &[("csrf", "forged"), ("email", EMAIL), ("password", PASSWORD)])
        .await;
    r.expect(403);
    assert!(browser.cookie("onramp_console").is_none(), "no session was opened");
    // The console's pages answer on its own listener only.
    let public = Browser::new(server.staging("acme")).get("/sign-in").await;
    public.expect(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_when_idle_and_when_the_operator_is_disabled() {
    let server = server_with_operator("admin").await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    browser.get("/").await.expect(200);
    server.clock.advance(Duration::from_secs(29 * 60));
    browser.get("/").await.expect(200);
    server.clock.advance(Duration::from_secs(29 * 60));
    browser.get("/").await.expect(200);
    server.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(browser.get("/").await.expect(303).header("location"), Some("/sign-in"));

    let mut other = console(&server);
    other.get("/sign-in").await.expect(200);
    let r = other
        .post("/sign-in", &[("csrf", &other.csrf()), ("email", EMAIL), ("password", PASSWORD)])
        .await;
    r.expect(303);
    server
        .core
        .operators()
        .disable(&onramp_domain::audit::Actor::operator(), EMAIL)
        .await
        .unwrap();
    assert_eq!(other.get("/sign-in/code").await.expect(303).header("location"), Some("/sign-in"));
    other.get("/sign-in").await.expect(200);
    let r = other
        .post("/sign-in", &[("csrf", &other.csrf()), ("email", EMAIL), ("password", PASSWORD)])
        .await;
    r.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_pages_and_exports_csv() {
    let server = server_with_operator("admin").await;
    server.create_instance("acme", &["client-accounts"]).await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let operator = server.core.operators().by_email(EMAIL).await.unwrap();

    let page = browser.get("/audit?action=operator.").await;
    page.expect(200);
    for label in ["Instance", "Environment", "Actor", "Action", "From", "To"] {
        assert!(page.text.contains(&format!(">{label}</label>")), "{label}");
    }
    assert!(page.text.contains("operator.signed_in"));
    assert!(page.text.contains("operator.totp_enrolled"));
    assert!(!page.text.contains("instance.created"), "filtered by action prefix");
    let mine = browser.get(&format!("/audit?actor=operator:{}", operator.id)).await;
    assert!(mine.text.contains("operator.signed_in"));
    assert!(!mine.text.contains("operator.created"), "created by the CLI, not by this operator");
    let acme = browser.get("/audit?instance=acme").await;
    assert!(acme.text.contains("instance.created"));
    assert!(!acme.text.contains("operator.signed_in"));
    let future = browser.get("/audit?from=2999-01-01").await;
    assert!(future.text.contains("No events match."));
    let bad = browser.get("/audit?from=yesterday").await;
    bad.expect(400);
    assert!(bad.text.contains("From is not a date"));

    let csv = browser.get("/audit.csv?action=operator.").await;
    csv.expect(200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "id,time,instance,environment,actor,action,target,request_id,detail");
    assert!(lines.iter().any(|l| l.contains(",operator.signed_in,")));
    assert!(lines[1..].iter().all(|l| l.contains(",operator.")), "only the filtered events");
    // Signed out, nothing of the log is served.
    sign_out(&mut browser).await;
    assert_eq!(browser.get("/audit.csv").await.expect(303).header("location"), Some("/sign-in"));
}

#[test]
fn every_operator_command_and_flag_has_help() {
    for args in [
        vec!["operator", "--help"],
        vec!["operator", "create", "--help"],
        vec!["operator", "list", "--help"],
        vec!["operator", "disable", "--help"],
        vec!["operator", "reset-password", "--help"],
    ] {
        let run = run_raw(&args);
        assert!(run.success, "{args:?}: {}", run.stderr);
        assert!(run.stdout.len() > 80, "{args:?} has help: {}", run.stdout);
    }
}

#[test]
fn the_cli_creates_lists_disables_and_resets_operators() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = cli(&data, &["operator", "create", "Ops@Example.com", "--role", "support"]).ok();
    assert_eq!(created["email"], "ops@example.com");
    assert_eq!(created["role"], "support");
    assert_eq!(created["authenticator"], "not enrolled");
    assert!(
        created["password"].as_str().unwrap().len() >= 16,
        "a generated password, shown once"
    );
    let again = cli(&data, &["operator", "create", "ops@example.com"]);
    assert!(!again.success, "the email is taken");
    let listed = cli(&data, &["operator", "list"]).ok();
    assert_eq!(listed["data"][0]["email"], "ops@example.com");
    assert!(listed["data"][0].get("password").is_none());
    let reset = cli_with_stdin(
        &data,
        &["operator", "reset-password", "ops@example.com", "--password-stdin"],
        Some("Another-console-pw-2\n"),
    )
    .ok();
    assert!(reset.get("password").is_none(), "a password read from stdin is not printed");
    let disabled = cli(&data, &["operator", "disable", "ops@example.com"]).ok();
    assert_eq!(disabled["status"], "disabled");
    let missing = cli(&data, &["operator", "disable", "nobody@example.com"]);
    assert!(!missing.success);
    let weak = cli_with_stdin(&data, &["operator", "create", "b@example.com", "--password-stdin"], Some("short\n"));
    assert!(!weak.success, "the password policy applies");
}
