//! Sign-in, sign-up and sign-out.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use onramp_domain::DomainError;
use onramp_domain::accounts::service::Signup;
use onramp_domain::audit::{Actor, ActorKind};
use onramp_domain::infra::secret::Secret;
use onramp_domain::tenancy::{Feature, Tenant};
use serde::Deserialize;

use super::CsrfOnly;
use crate::WebState;
use crate::cookies::Cookies;
use crate::extract::{CsrfForm, CsrfToken, PageTenant, SignedIn, Visitor};
use crate::views::{self, message, redirect, render};

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only paths on this site: no scheme, no `//`, no backslash.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.chars().any(char::is_control) => n.to_owned(),
        _ => "/account".to_owned(),
    }
}

/// What a failed sign-in tells the person (one message for unknown email and wrong password).
pub fn login_error(e: &DomainError) -> (StatusCode, String) {
    match e {
        DomainError::LoginThrottled { retry_after } | DomainError::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many attempts. Try again in {} seconds.", retry_after.as_secs().max(1)),
        ),
        DomainError::Overloaded { .. } | DomainError::Unavailable(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "The service is busy. Try again shortly.".into())
        }
        DomainError::Validation(errors) => (
            StatusCode::BAD_REQUEST,
            errors.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" "),
        ),
        // Only reached with the right password, so it tells nothing to
        // someone guessing.
        DomainError::AccountDisabled => (
            StatusCode::FORBIDDEN,
            "This account is deactivated. Contact the platform's support to have it reactivated.".into(),
        ),
        _ => (StatusCode::UNAUTHORIZED, "Wrong email or password.".into()),
    }
}

pub fn login_page(
    tenant: &Tenant,
    csrf: String,
    error: Option<String>,
    email: String,
    action: &'static str,
    hidden: Vec<(String, String)>,
) -> views::Login {
    views::Login {
        platform: tenant.instance.name.clone(),
        csrf,
        error,
        email,
        action,
        hidden,
        signup_open: tenant.instance.has(Feature::SelfSignup),
    }
}

pub async fn login_form(tenant: PageTenant, csrf: CsrfToken, Query(q): Query<Next>) -> Response {
    let hidden = vec![("next".to_owned(), safe_next(q.next.as_deref()))];
    let page = login_page(&tenant, csrf.value(), None, String::new(), "/account/login", hidden);
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<WebState>,
    tenant: PageTenant,
    visitor: Visitor,
    cookies: Cookies,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    match state
        .core
        .accounts()
        .client_login(&tenant, &form.email, &Secret::new(form.password), visitor.login_source())
        .await
    {
        Ok(session) => (cookies.open_session(&session), redirect(&safe_next(form.next.as_deref()))).into_response(),
        Err(e) => {
            let (status, text) = login_error(&e);
            let hidden = vec![("next".to_owned(), safe_next(form.next.as_deref()))];
            render(
                status,
                &login_page(&tenant, form.csrf, Some(text), form.email, "/account/login", hidden),
            )
        }
    }
}

/// The tenant of a host that lets people create accounts (feature
/// `self-signup`); otherwise the answer is a `403` page.
pub struct SignupOpen(PageTenant);

impl FromRequestParts<WebState> for SignupOpen {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let tenant = PageTenant::from_request_parts(parts, state).await?;
        if !tenant.instance.has(Feature::SelfSignup) {
            return Err(message(
                &tenant.instance.name,
                StatusCode::FORBIDDEN,
                "Sign-up is closed",
                "This platform does not allow creating accounts here.",
            ));
        }
        Ok(Self(tenant))
    }
}

pub async fn signup_form(SignupOpen(tenant): SignupOpen, csrf: CsrfToken) -> Response {
    let page = views::Signup {
        platform: tenant.instance.name.clone(),
        csrf: csrf.value(),
        error: None,
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
    };
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    email: String,
    first_name: String,
    last_name: String,
    password: String,
}

csrf_field!(LoginForm, SignupForm);

pub async fn signup(
    State(state): State<WebState>,
    SignupOpen(tenant): SignupOpen,
    cookies: Cookies,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Response {
    let input = Signup {
        user_id: None,
        email: form.email.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        password: Secret::new(form.password),
    };
    let actor = Actor::new(ActorKind::SelfSignup, None);
    match state.core.accounts().signup(&tenant, &actor, input).await {
        Ok(session) => (cookies.open_session(&session), redirect("/account")).into_response(),
        Err(e) => {
            let text = match e {
                DomainError::Validation(errors) => errors.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" "),
                DomainError::EmailTaken => "An account with this email already exists.".into(),
                other => login_error(&other).1,
            };
            let page = views::Signup {
                platform: tenant.instance.name.clone(),
                csrf: form.csrf,
                error: Some(text),
                email: form.email,
                first_name: form.first_name,
                last_name: form.last_name,
            };
            render(StatusCode::BAD_REQUEST, &page)
        }
    }
}

pub async fn logout_form(tenant: PageTenant, csrf: CsrfToken) -> Response {
    let page = views::Logout {
        platform: tenant.instance.name.clone(),
        csrf: csrf.value(),
    };
    (csrf, render(StatusCode::OK, &page)).into_response()
}

pub async fn logout(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: Option<SignedIn>,
    cookies: Cookies,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Response {
    if let Some(me) = me {
        let _ = state.core.accounts().logout(&tenant, me.session_token()).await;
    }
    (cookies.end_session(), redirect("/account/login")).into_response()
}
