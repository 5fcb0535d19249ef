//! Sign-in, sign-up, sign-out and the profile page.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use onramp_domain::DomainError;
use onramp_domain::accounts::service::{AccountChanges, OpenedSession, Signup};
use onramp_domain::audit::Actor;
use onramp_domain::infra::secret::Secret;
use onramp_domain::tenancy::{Feature, Tenant};
use serde::Deserialize;

use super::{WebForm, csrf_failed, message, redirect, signed_in_form, signed_in_page, tenant};
use crate::WebState;
use crate::session::{SESSION_COOKIE, csrf, csrf_ok, set_cookie, signed_in};
use crate::views::{self, render};

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

/// The `Set-Cookie` of a new session.
pub fn session_cookie(headers: &HeaderMap, session: &OpenedSession) -> axum::http::HeaderValue {
    let max_age = (session.expires_at - onramp_domain::clock::now_ms()) / 1000;
    set_cookie(headers, SESSION_COOKIE, session.client_token.expose(), max_age.max(0))
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

pub async fn login_form(State(state): State<WebState>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let (csrf, set) = csrf(&headers);
    let hidden = vec![("next".to_owned(), safe_next(q.next.as_deref()))];
    render(
        StatusCode::OK,
        &login_page(&tenant, csrf, None, String::new(), "/account/login", hidden),
        set.into_iter().collect(),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(state): State<WebState>, headers: HeaderMap, WebForm(form): WebForm<LoginForm>) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if !csrf_ok(&headers, &form.csrf) {
        return csrf_failed(&tenant.instance.name);
    }
    match state.core.client_login(&tenant, &form.email, &Secret::new(form.password)).await {
        Ok(session) => redirect(&safe_next(form.next.as_deref()), vec![session_cookie(&headers, &session)]),
        Err(e) => {
            let (status, text) = login_error(&e);
            let hidden = vec![("next".to_owned(), safe_next(form.next.as_deref()))];
            render(
                status,
                &login_page(&tenant, form.csrf, Some(text), form.email, "/account/login", hidden),
                Vec::new(),
            )
        }
    }
}

pub async fn signup_form(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if !tenant.instance.has(Feature::SelfSignup) {
        return message(
            &tenant.instance.name,
            StatusCode::FORBIDDEN,
            "Sign-up is closed",
            "This platform does not allow creating accounts here.",
        );
    }
    let (csrf, set) = csrf(&headers);
    let page = views::Signup {
        platform: tenant.instance.name.clone(),
        csrf,
        error: None,
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
    };
    render(StatusCode::OK, &page, set.into_iter().collect())
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

pub async fn signup(State(state): State<WebState>, headers: HeaderMap, WebForm(form): WebForm<SignupForm>) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if !tenant.instance.has(Feature::SelfSignup) {
        return message(
            &tenant.instance.name,
            StatusCode::FORBIDDEN,
            "Sign-up is closed",
            "This platform does not allow creating accounts here.",
        );
    }
    if !csrf_ok(&headers, &form.csrf) {
        return csrf_failed(&tenant.instance.name);
    }
    let input = Signup {
        user_id: None,
        email: form.email.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        password: Secret::new(form.password),
    };
    let actor = Actor {
        id: "self-signup".into(),
        request_id: None,
    };
    match state.core.signup(&tenant, &actor, input).await {
        Ok(session) => redirect("/account", vec![session_cookie(&headers, &session)]),
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
            render(StatusCode::BAD_REQUEST, &page, Vec::new())
        }
    }
}

pub async fn logout_form(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let (csrf, set) = csrf(&headers);
    render(
        StatusCode::OK,
        &views::Logout {
            platform: tenant.instance.name.clone(),
            csrf,
        },
        set.into_iter().collect(),
    )
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(State(state): State<WebState>, headers: HeaderMap, WebForm(form): WebForm<CsrfOnly>) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if !csrf_ok(&headers, &form.csrf) {
        return csrf_failed(&tenant.instance.name);
    }
    if let Some((_, token)) = signed_in(&state.core, &tenant, &headers).await {
        let _ = state.core.logout(&tenant, &token).await;
    }
    redirect("/account/login", vec![set_cookie(&headers, SESSION_COOKIE, "", 0)])
}

fn profile_page(
    tenant: &Tenant,
    account: &onramp_domain::accounts::Account,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
) -> views::Account {
    views::Account {
        platform: tenant.instance.name.clone(),
        csrf,
        notice,
        error,
        email: account.email.clone(),
        first_name: account.name.first_name.clone(),
        last_name: account.name.last_name.clone(),
    }
}

pub async fn profile(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (tenant, account) = match signed_in_page(&state, &headers, "/account").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (csrf, set) = csrf(&headers);
    render(
        StatusCode::OK,
        &profile_page(&tenant, &account, csrf, None, None),
        set.into_iter().collect(),
    )
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    csrf: String,
    first_name: String,
    last_name: String,
}

pub async fn update_profile(State(state): State<WebState>, headers: HeaderMap, WebForm(form): WebForm<NameForm>) -> Response {
    let (tenant, account) = match signed_in_form(&state, &headers, &form.csrf, "/account").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let changes = AccountChanges {
        first_name: Some(form.first_name),
        last_name: Some(form.last_name),
        ..AccountChanges::default()
    };
    let actor = Actor {
        id: format!("account:{}", account.id),
        request_id: None,
    };
    match state.core.update_account(&tenant, &actor, &account.id, changes).await {
        Ok(updated) => render(
            StatusCode::OK,
            &profile_page(&tenant, &updated, form.csrf, Some("Your name was saved.".into()), None),
            Vec::new(),
        ),
        Err(e) => render(
            StatusCode::BAD_REQUEST,
            &profile_page(&tenant, &account, form.csrf, None, Some(e.to_string())),
            Vec::new(),
        ),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
}

pub async fn change_password(State(state): State<WebState>, headers: HeaderMap, WebForm(form): WebForm<PasswordForm>) -> Response {
    let (tenant, account) = match signed_in_form(&state, &headers, &form.csrf, "/account").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let current = Secret::new(form.current_password);
    let fail = |text: String| {
        render(
            StatusCode::BAD_REQUEST,
            &profile_page(&tenant, &account, form.csrf.clone(), None, Some(text)),
            Vec::new(),
        )
    };
    if !matches!(state.core.hasher.verify(&current, Some(&account.password_hash)).await, Ok(Some(_))) {
        return fail("The current password is wrong.".into());
    }
    let new = Secret::new(form.new_password);
    let actor = Actor {
        id: format!("account:{}", account.id),
        request_id: None,
    };
    let changes = AccountChanges {
        password: Some(new.clone()),
        ..AccountChanges::default()
    };
    if let Err(e) = state.core.update_account(&tenant, &actor, &account.id, changes).await {
        return fail(e.to_string());
    }
    // The change ended every session, this one too: open a new one.
    match state.core.client_login(&tenant, &account.email, &new).await {
        Ok(session) => {
            let page = profile_page(
                &tenant,
                &account,
                form.csrf.clone(),
                Some("Your password was changed; other sessions were signed out.".into()),
                None,
            );
            render(StatusCode::OK, &page, vec![session_cookie(&headers, &session)])
        }
        Err(_) => redirect("/account/login", Vec::new()),
    }
}
