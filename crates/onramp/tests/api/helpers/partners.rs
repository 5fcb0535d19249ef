//! The partner API client and the partner fixtures.

use std::time::Duration;

use onramp::startup::ServerSettings;
use onramp_domain::app::Core;
use onramp_domain::audit::Actor;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Api, Resp, all_pages, send};
use super::server::{CLIENT_PASSWORD, TestServer, env_kind, host, pid};

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

    #[track_caller]
    pub fn get(&self, path: &str) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::GET, path))
    }

    #[track_caller]
    pub fn post(&self, path: &str, body: &Value) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::POST, path).json(body))
    }

    /// A POST with no body and no Content-Type at all.
    #[track_caller]
    pub fn post_empty(&self, path: &str) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::POST, path))
    }

    /// A POST with an `Idempotency-Key`.
    #[track_caller]
    pub fn post_idempotent(&self, path: &str, idempotency_key: &str, body: &Value) -> impl Future<Output = Resp> + use<> {
        send(
            self.request(Method::POST, path)
                .header("idempotency-key", idempotency_key)
                .json(body),
        )
    }

    #[track_caller]
    pub fn patch(&self, path: &str, body: &Value) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::PATCH, path).json(body))
    }

    #[track_caller]
    pub fn delete(&self, path: &str) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::DELETE, path))
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
        all_pages(
            async |path| self.get(path).await,
            "/v1/partners/accounts",
            ["accountId", "nextCursor"],
        )
        .await
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
            .create_partner(&Actor::operator(), &pid(platform_id), env_kind(env), name)
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
        partner.id.into()
    }

    /// Issues a key; returns `(key_id, key)`.
    pub async fn issue_key(&self, partner_id: &str, scopes: &[&str], expires_in: Option<Duration>) -> (String, String) {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let issued = self
            .core
            .partners()
            .issue_api_key(&Actor::operator(), &partner_id.into(), &scopes, expires_in)
            .await
            .expect("issue api key");
        (issued.key.key_id.into(), issued.secret.expose().to_owned())
    }
}

/// Every partner key scope.
pub const ALL_SCOPES: [&str; 4] = ["accounts:write", "accounts:read", "usage:read", "webhooks:manage"];

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
    core.tenancy()
        .set_features(&actor, &pid(platform_id), &features, &[])
        .await
        .unwrap();
    let partner = core
        .partners()
        .create_partner(&actor, &pid(platform_id), EnvKind::Staging, name)
        .await
        .unwrap();
    core.partners()
        .set_partner_status(&actor, &partner.id, PartnerStatus::Active)
        .await
        .unwrap();
    let issued = core.partners().issue_api_key(&actor, &partner.id, &[], None).await.unwrap();
    issued.secret.expose().to_owned()
}
