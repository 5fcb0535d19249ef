//! Authorization server metadata (RFC 8414) and OpenID Connect Discovery
//! 1.0: one document per environment, describing exactly what is served.
//! Every field that names something not served yet is optional, so adding
//! an endpoint or a grant means filling its field, nothing else.

use serde::Serialize;

use crate::tenancy::signing::KeyAlg;

/// The client authentication methods of the token, introspection and
/// revocation endpoints.
pub const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The paths of the endpoints, relative to the issuer.
pub const AUTHORIZATION_PATH: &str = "/oauth/authorize";
pub const USERINFO_PATH: &str = "/oauth/userinfo";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const INTROSPECTION_PATH: &str = "/oauth/introspect";
pub const REVOCATION_PATH: &str = "/oauth/revoke";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The metadata document, in the order it is served.
#[derive(Debug, Clone, Serialize)]
pub struct ServerMetadata {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// Required by RFC 8414; empty while no authorization endpoint is served.
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: every authorization response names its issuer (`iss`), so
    /// a client talking to several servers can tell whose code it holds.
    pub authorization_response_iss_parameter_supported: bool,
    /// OpenID Connect: how `sub` is chosen (the same for every client).
    pub subject_types_supported: Vec<String>,
    /// The algorithms of the environment's keys (the JWKS).
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims_supported: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl ServerMetadata {
    /// What an environment whose issuer is `issuer` serves: the
    /// authorization-code flow with PKCE and OpenID Connect, the
    /// client-credentials grant, introspection, revocation and the JWKS.
    pub fn for_issuer(issuer: &str) -> Self {
        let at = |path: &str| format!("{issuer}{path}");
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: Some(at(AUTHORIZATION_PATH)),
            token_endpoint: at(TOKEN_PATH),
            jwks_uri: at(JWKS_PATH),
            userinfo_endpoint: Some(at(USERINFO_PATH)),
            introspection_endpoint: at(INTROSPECTION_PATH),
            revocation_endpoint: at(REVOCATION_PATH),
            scopes_supported: strings(&crate::integration::oidc::OIDC_SCOPES),
            response_types_supported: strings(&["code"]),
            grant_types_supported: strings(&["authorization_code", "client_credentials"]),
            token_endpoint_auth_methods_supported: strings(&CLIENT_AUTH_METHODS),
            introspection_endpoint_auth_methods_supported: strings(&CLIENT_AUTH_METHODS),
            revocation_endpoint_auth_methods_supported: strings(&CLIENT_AUTH_METHODS),
            code_challenge_methods_supported: strings(&["S256"]),
            authorization_response_iss_parameter_supported: true,
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: [KeyAlg::Es256, KeyAlg::EdDsa].iter().map(|a| a.as_str().to_owned()).collect(),
            claims_supported: strings(&[
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "email",
                "email_verified",
                "given_name",
                "family_name",
                "name",
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_is_under_the_issuer() {
        let doc = serde_json::to_value(ServerMetadata::for_issuer("http://api.staging.acme.localhost:8080")).unwrap();
        assert_eq!(doc["token_endpoint"], "http://api.staging.acme.localhost:8080/oauth/token");
        assert_eq!(doc["jwks_uri"], "http://api.staging.acme.localhost:8080/.well-known/jwks.json");
        assert_eq!(
            doc["authorization_endpoint"],
            "http://api.staging.acme.localhost:8080/oauth/authorize"
        );
        assert_eq!(doc["userinfo_endpoint"], "http://api.staging.acme.localhost:8080/oauth/userinfo");
        assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    }
}
