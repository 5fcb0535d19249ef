//! The partner portal: portal users through the core (`team`), and over
//! HTTP: applying and approval, keys and the API calls they make showing
//! in the usage (`flow`), partner isolation and CSRF (`isolation`),
//! invitations (`invitations`), alerts and accounts (`pages`), the
//! optional authenticator (`second_factor`), and nothing but the status
//! page before approval (`gate`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use onramp_domain::audit::Actor;
use onramp_domain::ids::PartnerId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::infra::throttle::LoginSource;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::portal::NewApplication;
use onramp_domain::tenancy::Tenant;

use crate::helpers::{Resp, TestServer, host};
use crate::pages::Browser;

mod cli;
mod flow;
mod gate;
mod invitations;
mod isolation;
mod pages;
mod scopes;
mod second_factor;
mod team;

pub(crate) const PASSWORD: &str = "Portal-person-pw-1";

pub(crate) fn application(company: &str, email: &str) -> NewApplication {
    NewApplication {
        company: company.into(),
        contact_name: "Ann Example".into(),
        email: email.into(),
        intended_use: "Provision shop accounts".into(),
        password: Secret::new(PASSWORD.into()),
    }
}

pub(crate) async fn tenant(server: &TestServer, platform_id: &str, env: &str) -> Arc<Tenant> {
    server.core.tenancy().resolve_host(&host(platform_id, env)).await.unwrap()
}

pub(crate) fn source() -> LoginSource {
    LoginSource::Direct(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// A browser on `acme`'s staging host.
pub(crate) fn browser(server: &TestServer) -> Browser {
    Browser::new(server.staging("acme"))
}

/// `acme` with the partner API (and accounts, which it provisions).
pub(crate) async fn server() -> TestServer {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts", "partners"]).await;
    server
}

/// Applies through the form; the browser is signed in to the status page.
pub(crate) async fn apply(b: &mut Browser, company: &str, email: &str) {
    b.get("/partners/apply").await.expect(200);
    let r = b
        .post(
            "/partners/apply",
            &[
                ("csrf", &b.csrf()),
                ("company", company),
                ("contact_name", "Ann Example"),
                ("email", email),
                ("intended_use", "Provision shop accounts"),
                ("password", PASSWORD),
            ],
        )
        .await;
    r.expect(303);
    assert_eq!(r.header("location"), Some("/partners/status"));
}

/// The partner named `company` (of any environment).
pub(crate) async fn partner_named(server: &TestServer, company: &str) -> PartnerId {
    let partners = server.core.partners().list(None).await.unwrap();
    partners.into_iter().find(|p| p.name == company).expect("the partner").id
}

/// The operator approves the partner named `company`.
pub(crate) async fn approve(server: &TestServer, company: &str) -> PartnerId {
    let id = partner_named(server, company).await;
    server
        .core
        .partners()
        .set_partner_status(&Actor::operator(), &id, PartnerStatus::Active)
        .await
        .unwrap();
    id
}

/// Signs in through the form.
pub(crate) async fn sign_in(b: &mut Browser, email: &str, password: &str) -> Resp {
    b.get("/partners/sign-in").await.expect(200);
    b.post(
        "/partners/sign-in",
        &[("csrf", &b.csrf()), ("email", email), ("password", password)],
    )
    .await
}

/// Creates a key on the keys page; returns `(key_id, key)` as shown once.
pub(crate) async fn create_key(b: &mut Browser, scopes: &[&str]) -> (String, String) {
    b.get("/partners/keys").await.expect(200);
    let csrf = b.csrf();
    let mut form = vec![("csrf", csrf.as_str()), ("expires_in", "90")];
    form.extend(scopes.iter().map(|s| (*s, "on")));
    let r = b.post("/partners/keys", &form).await;
    r.expect(200);
    let key = element_text(&r.text, "new-key");
    assert!(r.text.contains(r#"data-copy="new-key""#), "a copy button beside the key");
    let start = r.text.find("<strong>key_").expect("the key id") + "<strong>".len();
    let key_id = r.text[start..start + r.text[start..].find('<').unwrap()].to_owned();
    (key_id, key)
}

/// The text of the element with this id.
pub(crate) fn element_text(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let open = start + html[start..].find('>').unwrap() + 1;
    html[open..open + html[open..].find('<').unwrap()].trim().to_owned()
}
