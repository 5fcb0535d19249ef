//! The page templates (askama: compile-time checked, auto-escaped).

use askama::Template;

use crate::flash::NewKey;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Renders a template with a status. Cookies go beside it as response parts.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page that only says something (unknown host, feature off, bad request).
pub fn message(platform: &str, status: StatusCode, title: &str, text: &str) -> Response {
    render(
        status,
        &Message {
            platform: platform.to_owned(),
            title: title.to_owned(),
            message: text.to_owned(),
        },
    )
}

/// A `303 See Other` to a path on this host.
pub fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

/// The QR code of an `otpauth://` URL (setting up an authenticator in the
/// console or the portal), as inline SVG: no script, no image request.
pub fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(e) => {
            tracing::error!(error = %e, "QR code not made");
            String::new()
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login {
    pub platform: String,
    pub csrf: String,
    pub error: Option<String>,
    pub email: String,
    pub action: &'static str,
    pub hidden: Vec<(String, String)>,
    pub signup_open: bool,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct Signup {
    pub platform: String,
    pub csrf: String,
    pub error: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct Account {
    pub platform: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct Logout {
    pub platform: String,
    pub csrf: String,
}

pub struct AppView {
    pub id: String,
    pub name: String,
    pub origins: String,
    pub redirect_uris: String,
    pub id_token_alg: &'static str,
    pub key_id: Option<String>,
}

#[derive(Template)]
#[template(path = "developers.html")]
pub struct Developers {
    pub platform: String,
    pub csrf: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub new_key: Option<NewKey>,
    pub apps: Vec<AppView>,
    pub staging: bool,
}

#[derive(Template)]
#[template(path = "app_edit.html")]
pub struct AppEdit {
    pub platform: String,
    pub csrf: String,
    pub app_id: String,
    pub name: String,
    /// One per line.
    pub origins: String,
    /// One per line.
    pub redirect_uris: String,
    /// Whether ID tokens are signed with EdDSA rather than ES256.
    pub eddsa: bool,
    pub error: Option<String>,
    pub staging: bool,
}

#[derive(Template)]
#[template(path = "app_delete.html")]
pub struct AppDelete {
    pub platform: String,
    pub csrf: String,
    pub app_id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "delete_account.html")]
pub struct DeleteAccount {
    pub platform: String,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
}

pub struct ConnectionView {
    pub app_id: String,
    pub app_name: String,
    pub scopes: String,
    pub granted_at: String,
}

#[derive(Template)]
#[template(path = "connections.html")]
pub struct Connections {
    pub platform: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub items: Vec<ConnectionView>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct Consent {
    pub platform: String,
    pub csrf: String,
    pub app_name: String,
    pub email: String,
    /// Where the decision is posted: the popup's or `/oauth/authorize`'s.
    pub action: &'static str,
    pub hidden: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "complete.html")]
pub struct Complete {
    pub platform: String,
    pub origin: String,
    pub state: String,
    pub code: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    pub platform: String,
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "demo_vendor.html")]
pub struct DemoVendor {
    pub platform: String,
    pub platform_origin: String,
    pub client_id: String,
}
