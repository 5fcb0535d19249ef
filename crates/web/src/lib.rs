//! Onramp's server-rendered pages, on each environment's host: account
//! login/signup/profile, developer apps and keys, connections, the consent
//! popup (`/connect`), the SDK vendors embed (`/sdk/connect.js`) and the
//! partner portal (`/partners/`). Plain
//! HTML with small static CSS and JavaScript served by the binary; no inline
//! scripts, no framing (see `security.rs`).

/// Implements [`CsrfProtected`](crate::extract::CsrfProtected) for forms
/// whose `csrf` field carries the token.
macro_rules! csrf_field {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::extract::CsrfProtected for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}

mod assets;
pub mod charts;
pub mod console;
mod cookies;
mod csrf;
mod demo;
mod extract;
mod flash;
mod pages;
mod portal;
mod scoped_cookies;
mod security;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use onramp_domain::app::Core;
use onramp_domain::ids::AppId;
use onramp_domain::infra::secret::Secret;

/// The demo vendor of `serve --demo`: its app and key live in memory.
#[derive(Clone, Debug)]
pub struct DemoVendor {
    pub app_id: AppId,
    pub key: Secret,
    /// The platform's own origin (where the SDK and popup are served).
    pub platform_origin: String,
}

/// What the pages need.
#[derive(Clone)]
pub struct WebState {
    pub core: Arc<Core>,
    pub demo: Option<DemoVendor>,
    /// The key of the forms' CSRF tokens (HMAC-SHA256): tokens made under
    /// another key, or by another node with its own, are refused.
    pub csrf_key: [u8; 32],
}

/// Every page, asset and the SDK.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/account", get(pages::account::profile))
        .route("/account/login", get(pages::sign_in::login_form).post(pages::sign_in::login))
        .route("/account/signup", get(pages::sign_in::signup_form).post(pages::sign_in::signup))
        .route("/account/logout", get(pages::sign_in::logout_form).post(pages::sign_in::logout))
        .route("/account/profile", post(pages::account::update_profile))
        .route("/account/password", post(pages::account::change_password))
        .route(
            "/account/delete",
            get(pages::delete_account::form).post(pages::delete_account::delete),
        )
        .route("/account/deleted", get(pages::delete_account::deleted))
        .route("/account/developers", get(pages::developers::list).post(pages::developers::create))
        .route("/account/developers/{app_id}/key", post(pages::developers::reset_key))
        .route(
            "/account/developers/{app_id}/edit",
            get(pages::app_changes::edit_form).post(pages::app_changes::edit),
        )
        .route(
            "/account/developers/{app_id}/delete",
            get(pages::app_changes::delete_form).post(pages::app_changes::delete),
        )
        .route("/account/connections", get(pages::connections::list))
        .route("/account/connections/{app_id}/revoke", post(pages::connections::revoke))
        .route("/oauth/authorize", get(pages::authorize::start))
        .route("/oauth/authorize/login", post(pages::authorize::sign_in))
        .route("/oauth/authorize/decision", post(pages::authorize::decide))
        .route("/connect", get(pages::connect::start))
        .route("/connect/login", post(pages::connect::login))
        .route("/connect/decision", post(pages::connect::decide))
        .route("/sdk/connect.js", get(assets::sdk))
        .route("/static/{file}", get(assets::file))
        .route("/demo/vendor", get(demo::page))
        .route("/demo/vendor/exchange", post(demo::exchange))
        .merge(portal::router())
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}
