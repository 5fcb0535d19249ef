//! SCIM 2.0 provisioning.

mod discovery;
mod filters;
mod groups;
mod tokens;
mod users;

use crate::helpers::{Api, TestServer, op};

/// The instance `acme` with SCIM on, and a client of its staging
/// environment holding a fresh SCIM token.
async fn scim_client(server: &TestServer) -> Api {
    server.create_instance("acme", &["client-accounts", "scim"]).await;
    let token = issue_token(server, "staging");
    server.staging("acme").with_token(&token)
}

/// A new SCIM token of `acme`'s environment `env`.
fn issue_token(server: &TestServer, env: &str) -> String {
    op(server, &["scim-token", "issue", "acme", env]).ok()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
