//! OAuth 2.0 at `/oauth/`: the token endpoint (RFC 6749, client-credentials
//! grant, RFC 9068 access tokens), introspection (RFC 7662) and revocation
//! (RFC 7009), with the server's metadata (RFC 8414, OpenID Connect
//! Discovery) under `/.well-known/`.
//!
//! These endpoints speak OAuth's wire format, not ours (CONVENTIONS §7):
//! form-encoded requests, `{error, error_description}` errors. Errors the
//! shared layers answer on these paths (rate limits, body limits, unknown
//! routes) are rewritten into that format by [`oauth_errors`]. They are not
//! in the OpenAPI document, whose problem format they do not follow; the
//! README describes them.

mod client;
mod code;
mod discovery;
mod errors;
mod form;
mod token;
mod userinfo;

use axum::Router;
use axum::routing::{get, post};

pub use errors::{OAuthResponse, oauth_errors};

use crate::state::AppState;

/// Where every OAuth endpoint lives.
pub const BASE: &str = "/oauth";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(discovery::metadata))
        .route("/.well-known/openid-configuration", get(discovery::metadata))
        .route("/oauth/token", post(token::token))
        .route("/oauth/introspect", post(token::introspect))
        .route("/oauth/revoke", post(token::revoke))
        .route("/oauth/userinfo", get(userinfo::userinfo).post(userinfo::userinfo_post))
}
