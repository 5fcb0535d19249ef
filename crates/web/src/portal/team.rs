//! Team: the partner's portal users; invite someone (the one-time link is
//! shown once: the server sends no email), remove someone (not oneself).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use onramp_domain::ids::PortalUserId;
use onramp_domain::infra::client::Scheme;
use onramp_domain::portal::Member;
use serde::Deserialize;

use super::session::{Approved, PortalCsrf, PortalForm, PortalTenant};
use super::views::{Frame, Nav, failure, refusal, when};
use crate::WebState;
use crate::pages::CsrfOnly;
use crate::views::{redirect, render};

pub struct TeamRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub joined: String,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "portal/team.html")]
struct Team {
    frame: Frame,
    nav: Nav,
    error: Option<String>,
    /// The link just made, shown once, and to whom.
    invitation: Option<String>,
    invited: String,
    members: Vec<TeamRow>,
}

/// The scheme and host the request came to: invitation links point there.
pub struct Origin(String);

impl axum::extract::FromRequestParts<WebState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &WebState) -> Result<Self, Self::Rejection> {
        let scheme = match parts.extensions.get::<Scheme>().copied().unwrap_or_default() {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        Ok(Self(format!("{scheme}://{host}")))
    }
}

async fn page(
    state: &WebState,
    tenant: &PortalTenant,
    member: &Member,
    csrf: String,
    error: Option<String>,
    invitation: Option<(String, String)>,
) -> Response {
    let users = match state.core.portal().team(member).await {
        Ok(users) => users,
        Err(e) => return failure(tenant, &e),
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let (invitation, invited) = invitation.map_or((None, String::new()), |(link, email)| (Some(link), email));
    let page = Team {
        frame: Frame::of(tenant),
        nav: Nav::new(member, csrf, "team"),
        error,
        invitation,
        invited,
        members: users
            .into_iter()
            .map(|u| TeamRow {
                me: u.id == member.user.id,
                id: u.id.into_string(),
                email: u.email,
                name: u.name,
                joined: when(u.created_at),
            })
            .collect(),
    };
    render(status, &page)
}

pub async fn list(State(state): State<WebState>, tenant: PortalTenant, Approved(member): Approved, csrf: PortalCsrf) -> Response {
    page(&state, &tenant, &member, csrf.value, None, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

csrf_field!(InviteForm);

pub async fn invite(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    Origin(origin): Origin,
    PortalForm(form): PortalForm<InviteForm>,
) -> Response {
    match state.core.portal().invite_teammate(&member, &form.email).await {
        Ok(made) => {
            let link = format!("{origin}{}", made.url_path.expose());
            page(&state, &tenant, &member, form.csrf, None, Some((link, made.invitation.email))).await
        }
        Err(e) => match refusal(&e) {
            Some(why) => page(&state, &tenant, &member, form.csrf, Some(why), None).await,
            None => failure(&tenant, &e),
        },
    }
}

pub async fn remove(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(member): Approved,
    Path(id): Path<String>,
    PortalForm(_): PortalForm<CsrfOnly>,
) -> Response {
    match state.core.portal().remove(&member, &PortalUserId::new(id)).await {
        Ok(_) => redirect("/partners/team"),
        Err(e) => failure(&tenant, &e),
    }
}
