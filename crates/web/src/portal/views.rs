//! What every portal page shares: the frame (platform, sandbox or live),
//! the navigation, the message page, and how domain errors read.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use onramp_domain::clock::{Millis, rfc3339};
use onramp_domain::error::DomainError;
use onramp_domain::portal::Member;
use onramp_domain::tenancy::{EnvKind, Tenant};

use crate::views::render;

/// The header of every page.
pub struct Frame {
    pub platform: String,
    /// Staging is the sandbox; production is live.
    pub sandbox: bool,
}

impl Frame {
    pub fn of(tenant: &Tenant) -> Self {
        Self {
            platform: tenant.instance.name.clone(),
            sandbox: tenant.env.kind == EnvKind::Staging,
        }
    }
}

/// The navigation of a signed-in page of an approved partner.
pub struct Nav {
    pub csrf: String,
    pub email: String,
    pub partner: String,
    /// `keys`, `usage`, `alerts`, `accounts`, `team` or `security`.
    pub current: &'static str,
}

impl Nav {
    pub fn new(member: &Member, csrf: String, current: &'static str) -> Self {
        Self {
            csrf,
            email: member.user.email.clone(),
            partner: member.partner.name.clone(),
            current,
        }
    }
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct Message<'a> {
    frame: Frame,
    title: &'a str,
    message: &'a str,
}

/// A page that only says something (a refused form, a missing page).
pub fn problem(tenant: &Tenant, status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &Message {
            frame: Frame::of(tenant),
            title,
            message,
        },
    )
}

/// What a form shows in place for an error its user can fix; `None` for
/// anything else.
pub fn refusal(e: &DomainError) -> Option<String> {
    match e {
        DomainError::Validation(fields) => Some(fields.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; ")),
        DomainError::Conflict(why) => Some(why.clone()),
        DomainError::EmailTaken => Some("A portal user with this email already exists here.".into()),
        DomainError::KeyAlreadyRotated => Some(e.to_string()),
        DomainError::InvalidCredentials => Some("That did not match. Check your email and password and try again.".into()),
        DomainError::LoginThrottled { .. } => Some("Too many failed attempts: wait a moment, then try again.".into()),
        DomainError::Overloaded { .. } => Some("The server is busy: try again in a moment.".into()),
        _ => None,
    }
}

/// The page of an error no form field explains.
pub fn failure(tenant: &Tenant, e: &DomainError) -> Response {
    match e {
        DomainError::NotFound(what) => problem(tenant, StatusCode::NOT_FOUND, "Not found", &format!("No such {what} here.")),
        DomainError::Forbidden(why) => problem(tenant, StatusCode::FORBIDDEN, "Not allowed", why),
        DomainError::PartnerNotApproved(_) => problem(
            tenant,
            StatusCode::FORBIDDEN,
            "Not approved",
            "Your partner account is not approved: the portal opens once the operator approves it.",
        ),
        _ => match refusal(e) {
            Some(why) => problem(tenant, StatusCode::BAD_REQUEST, "Not changed", &why),
            None => {
                tracing::error!(error = %e, "portal action failed");
                problem(
                    tenant,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Try again",
                    "The portal could not complete this just now.",
                )
            }
        },
    }
}

/// A time for a table: `2024-11-28 14:05 UTC`.
pub fn when(at: Millis) -> String {
    let text = rfc3339(at);
    format!("{} UTC", text.get(..16).unwrap_or(&text).replace('T', " "))
}

/// An optional time, or `never`.
pub fn when_or(at: Option<Millis>, none: &str) -> String {
    at.map_or_else(|| none.to_owned(), when)
}
