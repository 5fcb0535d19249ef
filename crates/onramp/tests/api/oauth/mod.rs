//! OAuth 2.0: discovery, the JWKS with both algorithms, client secrets,
//! the client-credentials grant (driven by the `oauth2` crate as an
//! independent client, and by hand for every error case), RFC 9068 access
//! tokens on the existing API, introspection and revocation.

mod authorize;
mod client_credentials;
mod code;
mod discovery;
mod errors;
mod oidc_client;
mod revocation;
mod secrets;

use std::time::Duration;

use base64::Engine as _;
use onramp_domain::audit::Actor;
use onramp_domain::tenancy::EnvKind;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// A server with instance `acme` (client accounts), service user `svc`
/// (roles `service` and `reports`) in staging with one client secret, and
/// `svc` in production with its own.
pub struct OAuthFx {
    pub server: TestServer,
    /// acme/staging, without a token.
    pub api: Api,
    pub client_id: String,
    pub secret: String,
    pub prod_client_id: String,
    pub prod_secret: String,
}

impl OAuthFx {
    pub async fn new() -> Self {
        let server = TestServer::start().await;
        server.create_instance("acme", &["client-accounts"]).await;
        server.create_service_user("acme", "staging", "svc", &["service", "reports"]).await;
        server.create_service_user("acme", "production", "svc", &[]).await;
        let (client_id, secret) = add_secret(&server, EnvKind::Staging, None).await;
        let (prod_client_id, prod_secret) = add_secret(&server, EnvKind::Production, None).await;
        Self {
            api: server.staging("acme"),
            server,
            client_id,
            secret,
            prod_client_id,
            prod_secret,
        }
    }

    /// `POST path` form-encoded, with HTTP Basic client authentication.
    pub async fn basic(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        form(&self.api, path, params, Some((&self.client_id, &self.secret))).await
    }

    /// `POST path` form-encoded, with the client's credentials in the body.
    pub async fn post_auth(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        let mut all = vec![("client_id", self.client_id.as_str()), ("client_secret", self.secret.as_str())];
        all.extend_from_slice(params);
        form(&self.api, path, &all, None).await
    }

    /// An access token of the client-credentials grant (asserting 200).
    pub async fn access_token(&self, scope: Option<&str>) -> String {
        let mut params = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            params.push(("scope", scope));
        }
        let r = self.basic("/oauth/token", &params).await;
        r.expect(200);
        r.json["access_token"].as_str().expect("access_token").to_owned()
    }
}

/// A client secret for `svc` in `env` through the core: `(client_id, secret)`.
pub async fn add_secret(server: &TestServer, env: EnvKind, expires_in: Option<Duration>) -> (String, String) {
    let issued = server
        .core
        .oauth()
        .add_secret(&Actor::operator(), &pid("acme"), env, "svc", expires_in)
        .await
        .expect("add secret");
    (issued.secret.client_id(), issued.client_secret.expose().to_owned())
}

/// The form encoding of `params`.
pub fn encode(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `POST path` with `params` form-encoded and, if given, HTTP Basic credentials.
pub async fn form(api: &Api, path: &str, params: &[(&str, &str)], basic: Option<(&str, &str)>) -> Resp {
    raw(
        api,
        path,
        "application/x-www-form-urlencoded",
        encode(params),
        basic.map(basic_header),
    )
    .await
}

/// `Basic base64(id:secret)`, the id and secret form-urlencoded first (RFC 6749 §2.3.1).
pub fn basic_header((id, secret): (&str, &str)) -> String {
    let pair = format!(
        "{}:{}",
        utf8_percent_encode(id, NON_ALPHANUMERIC),
        utf8_percent_encode(secret, NON_ALPHANUMERIC)
    );
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// `POST path` with this body, content type and `Authorization` header.
pub async fn raw(api: &Api, path: &str, content_type: &str, body: String, authorization: Option<String>) -> Resp {
    let mut rb = api
        .without_token()
        .request(Method::POST, path)
        .header("content-type", content_type)
        .body(body);
    if let Some(value) = authorization {
        rb = rb.header("authorization", value);
    }
    send(rb).await
}

/// Asserts an RFC 6749 §5.2 error: status, `error`, a description, JSON,
/// `Cache-Control: no-store`, and no problem document.
#[track_caller]
pub fn oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json["error"], error, "{}", r.text);
    assert!(
        r.json["error_description"].as_str().is_some_and(|d| !d.is_empty()),
        "error_description: {}",
        r.text
    );
    let mut keys: Vec<&String> = r.json.as_object().expect("a JSON object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["error", "error_description"], "{}", r.text);
    assert!(
        r.header("content-type").unwrap_or_default().starts_with("application/json"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

/// The JWKS of acme/staging.
pub async fn jwks(api: &Api) -> Vec<Value> {
    let r = api.without_token().get("/.well-known/jwks.json").await;
    r.expect(200);
    r.json["keys"].as_array().expect("keys").clone()
}
