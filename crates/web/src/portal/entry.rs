//! Getting in: applying, signing in and out, accepting an invitation, and
//! the status page that is all a pending or suspended partner's people see.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{AppendHeaders, IntoResponse, Response};
use onramp_domain::error::DomainError;
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::portal::{NewApplication, Stage};
use serde::Deserialize;

use super::session::{MaybeMember, PortalCsrf, PortalForm, PortalTenant, Signed, sign_in_cookie, sign_out_cookie};
use super::views::{Frame, failure, problem, refusal};
use crate::WebState;
use crate::extract::Visitor;
use crate::pages::CsrfOnly;
use crate::views::{redirect, render};

#[derive(Deserialize, Default)]
pub struct ApplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    intended_use: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

csrf_field!(ApplyForm, SignInForm, PasswordForm);

#[derive(Template)]
#[template(path = "portal/apply.html")]
struct Apply {
    frame: Frame,
    csrf: String,
    error: Option<String>,
    form: ApplyForm,
}

#[derive(Template)]
#[template(path = "portal/sign_in.html")]
struct SignIn {
    frame: Frame,
    csrf: String,
    error: Option<String>,
    email: String,
    can_apply: bool,
}

#[derive(Template)]
#[template(path = "portal/status.html")]
struct Status {
    frame: Frame,
    csrf: String,
    email: String,
    title: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "portal/invite.html")]
struct Invite {
    frame: Frame,
    csrf: String,
    error: Option<String>,
    partner: String,
    email: String,
    token: String,
}

/// `/partners`: where a visitor belongs.
pub async fn home(found: MaybeMember) -> Response {
    match found.member {
        Some(m) if m.approved() => redirect("/partners/keys"),
        Some(m) if m.signed_in() => redirect("/partners/status"),
        Some(_) => redirect("/partners/sign-in/code"),
        None => redirect("/partners/sign-in"),
    }
}

pub async fn apply_form(tenant: PortalTenant, found: MaybeMember, csrf: PortalCsrf) -> Response {
    if found.member.is_some_and(|m| m.signed_in()) {
        return redirect("/partners");
    }
    let page = Apply {
        frame: Frame::of(&tenant),
        csrf: csrf.value,
        error: None,
        form: ApplyForm::default(),
    };
    (AppendHeaders(csrf.set_cookie), render(StatusCode::OK, &page)).into_response()
}

pub async fn apply(
    State(state): State<WebState>,
    tenant: PortalTenant,
    found: MaybeMember,
    PortalForm(mut form): PortalForm<ApplyForm>,
) -> Response {
    let new = NewApplication {
        company: form.company.clone(),
        contact_name: form.contact_name.clone(),
        email: form.email.clone(),
        intended_use: form.intended_use.clone(),
        password: Secret::new(std::mem::take(&mut form.password)),
    };
    match state.core.portal().apply(&tenant, new).await {
        Ok((token, _)) => ([sign_in_cookie(found.scheme, token)], redirect("/partners/status")).into_response(),
        Err(e) => match refusal(&e) {
            Some(error) => {
                let page = Apply {
                    frame: Frame::of(&tenant),
                    csrf: form.csrf.clone(),
                    error: Some(error),
                    form,
                };
                render(StatusCode::BAD_REQUEST, &page)
            }
            None => failure(&tenant, &e),
        },
    }
}

pub async fn sign_in_form(tenant: PortalTenant, found: MaybeMember, csrf: PortalCsrf) -> Response {
    if found.member.is_some_and(|m| m.signed_in()) {
        return redirect("/partners");
    }
    let page = SignIn {
        frame: Frame::of(&tenant),
        csrf: csrf.value,
        error: None,
        email: String::new(),
        can_apply: true,
    };
    (AppendHeaders(csrf.set_cookie), render(StatusCode::OK, &page)).into_response()
}

pub async fn sign_in(
    State(state): State<WebState>,
    tenant: PortalTenant,
    found: MaybeMember,
    visitor: Visitor,
    PortalForm(form): PortalForm<SignInForm>,
) -> Response {
    let password = Secret::new(form.password);
    match state
        .core
        .portal()
        .sign_in(&tenant, &form.email, &password, visitor.login_source())
        .await
    {
        Ok((token, stage)) => {
            let next = match stage {
                Stage::Complete => "/partners",
                Stage::SecondFactor => "/partners/sign-in/code",
            };
            ([sign_in_cookie(found.scheme, token)], redirect(next)).into_response()
        }
        Err(e) => match refusal(&e) {
            Some(error) => {
                let status = if matches!(e, DomainError::LoginThrottled { .. }) {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::UNAUTHORIZED
                };
                let page = SignIn {
                    frame: Frame::of(&tenant),
                    csrf: form.csrf,
                    error: Some(error),
                    email: form.email,
                    can_apply: true,
                };
                render(status, &page)
            }
            None => failure(&tenant, &e),
        },
    }
}

pub async fn sign_out(
    State(state): State<WebState>,
    tenant: PortalTenant,
    found: MaybeMember,
    PortalForm(_): PortalForm<CsrfOnly>,
) -> Response {
    if let Some(member) = &found.member
        && let Err(e) = state.core.portal().sign_out(member).await
    {
        return failure(&tenant, &e);
    }
    ([sign_out_cookie(found.scheme)], redirect("/partners/sign-in")).into_response()
}

/// All a pending or suspended partner's people see: no navigation, no
/// link to keys, security or the API documentation, only sign-out.
pub async fn status(tenant: PortalTenant, Signed(member): Signed, csrf: PortalCsrf) -> Response {
    let (title, message) = match member.partner.status {
        PartnerStatus::Active => return redirect("/partners/keys"),
        PartnerStatus::Pending => (
            "Awaiting approval",
            format!(
                "Thank you: the application of {} is awaiting approval by the operator of {}. \
                 Once it is approved, this portal gives you your API keys, usage and alerts.",
                member.partner.name, tenant.instance.name
            ),
        ),
        PartnerStatus::Suspended => (
            "Suspended",
            format!(
                "The partner account of {} is suspended: its API keys are refused. Contact the operator of {}.",
                member.partner.name, tenant.instance.name
            ),
        ),
    };
    let page = Status {
        frame: Frame::of(&tenant),
        csrf: csrf.value,
        email: member.user.email,
        title,
        message,
    };
    render(StatusCode::OK, &page)
}

async fn invite_page(state: &WebState, tenant: &PortalTenant, token: String, csrf: String, error: Option<String>) -> Response {
    let invitation = match state.core.portal().invitation(tenant, &token).await {
        Ok(invitation) => invitation,
        Err(DomainError::InvalidGrant(_) | DomainError::TokenExpired) => {
            return problem(
                tenant,
                StatusCode::NOT_FOUND,
                "Invitation not valid",
                "This invitation link is unknown, was used already or expired (links last 7 days). Ask for a new one.",
            );
        }
        Err(e) => return failure(tenant, &e),
    };
    let partner = match state.core.partners().partner(&invitation.partner_id).await {
        Ok(p) => p.name,
        Err(e) => return failure(tenant, &e),
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = Invite {
        frame: Frame::of(tenant),
        csrf,
        error,
        partner,
        email: invitation.email,
        token,
    };
    render(status, &page)
}

pub async fn invite_form(State(state): State<WebState>, tenant: PortalTenant, Path(token): Path<String>, csrf: PortalCsrf) -> Response {
    let page = invite_page(&state, &tenant, token, csrf.value, None).await;
    (AppendHeaders(csrf.set_cookie), page).into_response()
}

pub async fn accept(
    State(state): State<WebState>,
    tenant: PortalTenant,
    found: MaybeMember,
    Path(token): Path<String>,
    PortalForm(form): PortalForm<PasswordForm>,
) -> Response {
    let password = Secret::new(form.password);
    match state.core.portal().accept(&tenant, &token, &password).await {
        Ok(session) => ([sign_in_cookie(found.scheme, session)], redirect("/partners")).into_response(),
        Err(e @ DomainError::Validation(_)) => invite_page(&state, &tenant, token, form.csrf, refusal(&e)).await,
        Err(DomainError::InvalidGrant(_) | DomainError::TokenExpired) => invite_page(&state, &tenant, token, form.csrf, None).await,
        Err(e) => match refusal(&e) {
            Some(error) => invite_page(&state, &tenant, token, form.csrf, Some(error)).await,
            None => failure(&tenant, &e),
        },
    }
}
