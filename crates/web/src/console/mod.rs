//! The operator console: server-rendered pages on a listener of its own
//! (`--admin-listen`), never on the public API port. Operators sign in
//! with email, password and a TOTP code; every action is audited with the
//! operator as actor.

mod accounts;
mod audit;
mod client_secrets;
mod environment;
mod instances;
mod overview;
mod partners;
mod session;
mod sign_in;
mod usage;
mod views;
mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::WebState;

/// Every page of the console, with the pages' security headers.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(overview::page))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-in/code", get(sign_in::code_form).post(sign_in::code))
        .route("/sign-in/enrol", get(sign_in::enrol_form).post(sign_in::enrol))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/instances", get(instances::list::list).post(instances::list::create))
        .route("/instances/{id}", get(instances::detail).post(instances::update))
        .route("/instances/{id}/{env}", get(environment::show))
        .route("/instances/{id}/{env}/service-users", post(environment::create_user))
        .route(
            "/instances/{id}/{env}/service-users/{username}/disable",
            post(environment::disable_user),
        )
        .route(
            "/instances/{id}/{env}/service-users/{username}/reset-password",
            post(environment::reset_password),
        )
        .route("/instances/{id}/{env}/service-users/{username}", get(client_secrets::show))
        .route("/instances/{id}/{env}/service-users/{username}/secrets", post(client_secrets::add))
        .route(
            "/instances/{id}/{env}/service-users/{username}/secrets/{secret}/revoke",
            post(client_secrets::revoke),
        )
        .route("/instances/{id}/{env}/signing-keys/rotate", post(environment::rotate_key))
        .route("/instances/{id}/{env}/apps/{app_id}/suspend", post(environment::suspend_app))
        .route("/instances/{id}/{env}/apps/{app_id}/reinstate", post(environment::reinstate_app))
        .route("/instances/{id}/{env}/accounts", get(accounts::search))
        .route("/instances/{id}/{env}/accounts/{account_id}", get(accounts::show))
        .route(
            "/instances/{id}/{env}/accounts/{account_id}/end-sessions",
            post(accounts::end_sessions),
        )
        .route("/instances/{id}/{env}/accounts/{account_id}/delete", post(accounts::delete))
        .route("/instances/{id}/{env}/webhooks/{endpoint_id}", get(webhooks::show))
        .route("/instances/{id}/{env}/webhooks/{endpoint_id}/resend", post(webhooks::resend))
        .route("/instances/{id}/{env}/webhooks/{endpoint_id}/recover", post(webhooks::recover))
        .route("/partners", get(partners::list))
        .route("/partners/{id}", get(partners::detail))
        .route("/partners/{id}/status", post(partners::actions::status))
        .route("/partners/{id}/keys", post(partners::actions::issue_key))
        .route("/partners/{id}/scopes", post(partners::actions::set_scopes))
        .route("/partners/{id}/invite", post(partners::actions::invite))
        .route(
            "/partners/{id}/contacts/{user_id}/reset-authenticator",
            post(partners::actions::reset_authenticator),
        )
        .route("/partners/{id}/keys/{key_id}/revoke", post(partners::actions::revoke_key))
        .route("/audit", get(audit::page))
        .route("/audit.csv", get(audit::export))
        .route("/static/{file}", get(crate::assets::file))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::security::headers))
        .with_state(state)
}

async fn not_found() -> Response {
    views::problem_page(StatusCode::NOT_FOUND, "Not found", "There is no such page in the console.")
}
