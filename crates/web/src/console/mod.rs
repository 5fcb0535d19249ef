//! The operator console: server-rendered pages on a listener of its own
//! (`--admin-listen`), never on the public API port. Operators sign in
//! with email, password and a TOTP code; every action is audited with the
//! operator as actor.

mod audit;
mod instances;
mod overview;
mod partners;
mod session;
mod sign_in;
mod usage;
mod views;

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
        .route("/instances", get(instances::list).post(instances::create))
        .route("/instances/{id}", get(instances::detail).post(instances::update))
        .route("/partners", get(partners::list))
        .route("/partners/{id}", get(partners::detail))
        .route("/partners/{id}/status", post(partners::actions::status))
        .route("/partners/{id}/keys", post(partners::actions::issue_key))
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
