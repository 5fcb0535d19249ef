//! The console's templates.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::error::DomainError;
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

/// `path?k=v&…` of the pairs whose value is not empty, percent-encoded: a
/// list's link to its next page, with its filters.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect();
    if encoded.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", encoded.join("&"))
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

/// What a form shows in place for an error the operator can fix: invalid
/// input, a taken name. `None` for anything else.
pub fn refusal(e: &DomainError) -> Option<String> {
    match e {
        DomainError::Validation(fields) => Some(fields.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; ")),
        DomainError::Conflict(why) => Some(why.clone()),
        DomainError::EmailTaken => Some("An account with this email already exists.".into()),
        _ => None,
    }
}

/// The page of an error no form field explains.
pub fn domain_failure(e: &DomainError) -> Response {
    match e {
        DomainError::NotFound(what) => problem_page(StatusCode::NOT_FOUND, "Not found", &format!("No such {what}.")),
        DomainError::Forbidden(why) => problem_page(StatusCode::FORBIDDEN, "Not allowed", why),
        DomainError::UnknownInstance => problem_page(StatusCode::NOT_FOUND, "Not found", "No such instance."),
        _ => match refusal(e) {
            Some(why) => problem_page(StatusCode::BAD_REQUEST, "Not changed", &why),
            None => {
                tracing::error!(error = %e, "console action failed");
                problem_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Try again",
                    "The console could not complete this just now.",
                )
            }
        },
    }
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
