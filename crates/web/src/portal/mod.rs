//! The partner portal, on each environment's public host under
//! `/partners/`: a company applies, waits for the operator's approval, then
//! its people manage their keys, read their usage, tune their alerts, look
//! up the accounts they created and bring in their team; each person may
//! protect their sign-in with an authenticator app (`security`). The staging
//! portal is the sandbox, production's is live; a partner is one
//! environment's, and so are its people.
//!
//! Everything a page shows or changes is the signed-in person's partner's:
//! the domain takes the partner from the session, never from the request.

mod accounts;
mod alerts;
mod entry;
mod keys;
mod security;
mod session;
mod team;
mod usage;
mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::WebState;

/// Every page of the portal; the pages' router adds the security headers
/// and the state.
pub fn router() -> Router<WebState> {
    Router::new()
        .route("/partners", get(entry::home))
        .route("/partners/", get(entry::home))
        .route("/partners/apply", get(entry::apply_form).post(entry::apply))
        .route("/partners/sign-in", get(entry::sign_in_form).post(entry::sign_in))
        .route("/partners/sign-in/code", get(security::code_form).post(security::code))
        .route("/partners/sign-out", post(entry::sign_out))
        .route("/partners/status", get(entry::status))
        .route("/partners/invite/{token}", get(entry::invite_form).post(entry::accept))
        .route("/partners/keys", get(keys::list).post(keys::create))
        .route("/partners/keys/{key_id}/rotate", post(keys::rotate))
        .route("/partners/keys/{key_id}/revoke", post(keys::revoke))
        .route("/partners/usage", get(usage::page))
        .route("/partners/usage.csv", get(usage::csv))
        .route("/partners/alerts", get(alerts::list).post(alerts::save))
        .route("/partners/accounts", get(accounts::list))
        .route("/partners/team", get(team::list).post(team::invite))
        .route("/partners/team/{id}/remove", post(team::remove))
        .route("/partners/security", get(security::page))
        .route("/partners/security/enrol", get(security::enrol_form).post(security::enrol))
        .route("/partners/security/disable", post(security::disable))
}
