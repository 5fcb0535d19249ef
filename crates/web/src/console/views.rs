//! The console's templates.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::operators::sessions::Console;

use crate::views::render;

/// What the navigation of a signed-in page shows.
pub struct Nav {
    pub csrf: String,
    pub email: String,
    pub role: &'static str,
    pub current: &'static str,
}

impl Nav {
    pub fn new(console: &Console, csrf: String, current: &'static str) -> Self {
        Self {
            csrf,
            email: console.operator.email.clone(),
            role: console.operator.role.as_str(),
            current,
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct Message<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page that only says something (a refused form, a missing page).
pub fn problem_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(status, &Message { title, message })
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignIn {
    pub csrf: String,
    pub error: Option<String>,
    pub email: String,
}

#[derive(Template)]
#[template(path = "console/code.html")]
pub struct Code {
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/enrol.html")]
pub struct Enrol {
    pub csrf: String,
    pub error: Option<String>,
    /// Made by the server (the `qrcode` crate): no user input in it.
    pub qr: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "console/recovery.html")]
pub struct Recovery {
    pub codes: Vec<String>,
}
