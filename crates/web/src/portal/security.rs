//! The optional second factor in the portal: the authentication-code step
//! of signing in (for a person with an authenticator), and the Security
//! page where a signed-in person of an approved partner sets an authenticator up (QR code and
//! secret, confirmed with a code, recovery codes shown once) or turns it
//! off (with a current code).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{AppendHeaders, IntoResponse, Response};
use onramp_domain::error::DomainError;
use onramp_domain::portal::Member;
use onramp_domain::tenancy::EnvKind;
use serde::Deserialize;

use super::session::{Approved, MaybeMember, PortalCsrf, PortalForm, PortalTenant};
use super::views::{Frame, Nav, failure};
use crate::WebState;
use crate::extract::Visitor;
use crate::views::{qr_svg, redirect, render};

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

csrf_field!(CodeForm);

#[derive(Template)]
#[template(path = "portal/code.html")]
struct Code {
    frame: Frame,
    csrf: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/security.html")]
struct Security {
    frame: Frame,
    nav: Nav,
    error: Option<String>,
    /// Recovery codes left; `None` without an authenticator.
    enrolled: Option<u32>,
}

#[derive(Template)]
#[template(path = "portal/enrol.html")]
struct Enrol {
    frame: Frame,
    nav: Nav,
    error: Option<String>,
    qr: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "portal/recovery.html")]
struct Recovery {
    frame: Frame,
    nav: Nav,
    codes: Vec<String>,
}

/// What a code form shows in place, and its status; `None` for errors no
/// code explains.
fn code_refusal(e: &DomainError) -> Option<(StatusCode, String)> {
    match e {
        DomainError::InvalidCredentials => Some((
            StatusCode::UNAUTHORIZED,
            "That code did not match, or was used already. Wait for the next code, or use a recovery code.".into(),
        )),
        DomainError::LoginThrottled { .. } => Some((
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts: wait a moment, then try again.".into(),
        )),
        _ => None,
    }
}

pub async fn code_form(tenant: PortalTenant, found: MaybeMember, csrf: PortalCsrf) -> Response {
    match found.member {
        Some(m) if m.signed_in() => redirect("/partners"),
        Some(_) => {
            let page = Code {
                frame: Frame::of(&tenant),
                csrf: csrf.value,
                error: None,
            };
            (AppendHeaders(csrf.set_cookie), render(StatusCode::OK, &page)).into_response()
        }
        None => redirect("/partners/sign-in"),
    }
}

pub async fn code(
    State(state): State<WebState>,
    tenant: PortalTenant,
    found: MaybeMember,
    visitor: Visitor,
    PortalForm(form): PortalForm<CodeForm>,
) -> Response {
    let Some(mut member) = found.member.filter(|m| !m.signed_in()) else {
        return redirect("/partners");
    };
    match state
        .core
        .portal()
        .second_factor(&mut member, &form.code, visitor.login_source())
        .await
    {
        Ok(()) => redirect("/partners"),
        Err(e) => match code_refusal(&e) {
            Some((status, error)) => {
                let page = Code {
                    frame: Frame::of(&tenant),
                    csrf: form.csrf,
                    error: Some(error),
                };
                render(status, &page)
            }
            None => failure(&tenant, &e),
        },
    }
}

async fn security_page(
    state: &WebState,
    tenant: &PortalTenant,
    member: &Member,
    csrf: String,
    error: Option<(StatusCode, String)>,
) -> Response {
    let enrolled = if member.user.has_authenticator() {
        match state.core.portal().recovery_codes_left(member).await {
            Ok(left) => Some(left),
            Err(e) => return failure(tenant, &e),
        }
    } else {
        None
    };
    let (status, error) = error.map_or((StatusCode::OK, None), |(status, why)| (status, Some(why)));
    let page = Security {
        frame: Frame::of(tenant),
        nav: Nav::new(member, csrf, "security"),
        error,
        enrolled,
    };
    render(status, &page)
}

pub async fn page(State(state): State<WebState>, tenant: PortalTenant, Approved(member): Approved, csrf: PortalCsrf) -> Response {
    security_page(&state, &tenant, &member, csrf.value, None).await
}

/// How the person and this environment read in an authenticator app: a
/// person may have a sandbox and a live login.
fn account_label(tenant: &PortalTenant, member: &Member) -> String {
    let env = match tenant.env.kind {
        EnvKind::Staging => "sandbox",
        EnvKind::Production => "live",
    };
    format!("{} ({} partners, {env})", member.user.email, tenant.instance.name)
}

async fn enrol_page(
    state: &WebState,
    tenant: &PortalTenant,
    mut member: Member,
    csrf: String,
    error: Option<(StatusCode, String)>,
) -> Response {
    if member.user.has_authenticator() {
        return redirect("/partners/security");
    }
    let secret = match state.core.portal().enrolment(&mut member).await {
        Ok(secret) => secret,
        Err(e) => return failure(tenant, &e),
    };
    let (status, error) = error.map_or((StatusCode::OK, None), |(status, why)| (status, Some(why)));
    let page = Enrol {
        frame: Frame::of(tenant),
        error,
        qr: qr_svg(&secret.otpauth_url(&account_label(tenant, &member))),
        secret: secret.base32(),
        nav: Nav::new(&member, csrf, "security"),
    };
    render(status, &page)
}

pub async fn enrol_form(State(state): State<WebState>, tenant: PortalTenant, Approved(member): Approved, csrf: PortalCsrf) -> Response {
    enrol_page(&state, &tenant, member, csrf.value, None).await
}

pub async fn enrol(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(mut member): Approved,
    visitor: Visitor,
    PortalForm(form): PortalForm<CodeForm>,
) -> Response {
    match state
        .core
        .portal()
        .confirm_enrolment(&mut member, &form.code, visitor.login_source())
        .await
    {
        Ok(codes) => {
            let page = Recovery {
                frame: Frame::of(&tenant),
                nav: Nav::new(&member, form.csrf, "security"),
                codes,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => match code_refusal(&e) {
            Some(error) => enrol_page(&state, &tenant, member, form.csrf, Some(error)).await,
            None => failure(&tenant, &e),
        },
    }
}

pub async fn disable(
    State(state): State<WebState>,
    tenant: PortalTenant,
    Approved(mut member): Approved,
    visitor: Visitor,
    PortalForm(form): PortalForm<CodeForm>,
) -> Response {
    match state
        .core
        .portal()
        .disable_authenticator(&mut member, &form.code, visitor.login_source())
        .await
    {
        Ok(()) => redirect("/partners/security"),
        Err(e) => match code_refusal(&e) {
            Some(error) => security_page(&state, &tenant, &member, form.csrf, Some(error)).await,
            None => failure(&tenant, &e),
        },
    }
}
