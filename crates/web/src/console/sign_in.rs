//! Signing in to the console: email and password, then the authentication
//! code (or, the first time, enrolling an authenticator app), and out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::error::DomainError;
use onramp_domain::infra::secret::Secret;
use onramp_domain::operators::Stage;
use serde::Deserialize;

use super::session::{ConsoleCsrf, ConsoleForm, MaybeConsole};
use super::views::{Code, Enrol, Recovery, SignIn, problem_page};
use crate::WebState;
use crate::extract::{CsrfOnly, Visitor};
use crate::views::{qr_svg, redirect, render};

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

csrf_field!(SignInForm);

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

csrf_field!(CodeForm);

/// The page of a domain error the sign-in forms show in place.
fn refusal(e: &DomainError) -> Option<String> {
    match e {
        DomainError::InvalidCredentials => Some("That did not match. Check it and try again.".into()),
        DomainError::LoginThrottled { .. } => Some("Too many failed attempts: wait a moment, then try again.".into()),
        DomainError::Validation(_) => Some("Enter your email and password.".into()),
        _ => None,
    }
}

fn failure(e: &DomainError) -> Response {
    tracing::error!(error = %e, "console sign-in failed");
    problem_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "The console could not complete this just now.",
    )
}

pub async fn form(found: MaybeConsole, csrf: ConsoleCsrf) -> Response {
    if found.console.is_some_and(|c| c.session.stage == Stage::Complete) {
        return redirect("/");
    }
    let page = SignIn {
        csrf: csrf.value,
        error: None,
        email: String::new(),
    };
    (axum::response::AppendHeaders(csrf.set_cookie), render(StatusCode::OK, &page)).into_response()
}

pub async fn submit(
    State(state): State<WebState>,
    found: MaybeConsole,
    visitor: Visitor,
    ConsoleForm(form): ConsoleForm<SignInForm>,
) -> Response {
    let password = Secret::new(form.password);
    match state.core.operators().sign_in(&form.email, &password, visitor.login_source()).await {
        Ok((token, stage)) => {
            let next = if stage == Stage::Enrol { "/sign-in/enrol" } else { "/sign-in/code" };
            ([found.sign_in_cookie(token)], redirect(next)).into_response()
        }
        Err(e) => match refusal(&e) {
            Some(error) => {
                let page = SignIn {
                    csrf: form.csrf,
                    error: Some(error),
                    email: form.email,
                };
                render(StatusCode::UNAUTHORIZED, &page)
            }
            None => failure(&e),
        },
    }
}

pub async fn code_form(found: MaybeConsole, csrf: ConsoleCsrf) -> Response {
    match found.console.map(|c| c.session.stage) {
        Some(Stage::SecondFactor) => render(
            StatusCode::OK,
            &Code {
                csrf: csrf.value,
                error: None,
            },
        ),
        Some(Stage::Enrol) => redirect("/sign-in/enrol"),
        Some(Stage::Complete) => redirect("/"),
        None => redirect("/sign-in"),
    }
}

pub async fn code(
    State(state): State<WebState>,
    found: MaybeConsole,
    visitor: Visitor,
    ConsoleForm(form): ConsoleForm<CodeForm>,
) -> Response {
    let Some(mut console) = found.console.filter(|c| c.session.stage == Stage::SecondFactor) else {
        return redirect("/sign-in");
    };
    match state
        .core
        .operators()
        .second_factor(&mut console, &form.code, visitor.login_source())
        .await
    {
        Ok(()) => redirect("/"),
        Err(e) => match refusal(&e) {
            Some(error) => render(
                StatusCode::UNAUTHORIZED,
                &Code {
                    csrf: form.csrf,
                    error: Some(error),
                },
            ),
            None => failure(&e),
        },
    }
}

async fn enrol_page(state: &WebState, found: MaybeConsole, csrf: String, error: Option<String>) -> Response {
    let Some(mut console) = found.console else {
        return redirect("/sign-in");
    };
    match console.session.stage {
        Stage::Enrol => {}
        Stage::SecondFactor => return redirect("/sign-in/code"),
        Stage::Complete => return redirect("/"),
    }
    match state.core.operators().enrolment(&mut console).await {
        Ok(secret) => {
            let page = Enrol {
                csrf,
                error: error.clone(),
                qr: qr_svg(&secret.otpauth_url(&console.operator.email)),
                secret: secret.base32(),
            };
            render(
                if error.is_some() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::OK
                },
                &page,
            )
        }
        Err(e) => failure(&e),
    }
}

pub async fn enrol_form(State(state): State<WebState>, found: MaybeConsole, csrf: ConsoleCsrf) -> Response {
    enrol_page(&state, found, csrf.value, None).await
}

pub async fn enrol(
    State(state): State<WebState>,
    found: MaybeConsole,
    visitor: Visitor,
    ConsoleForm(form): ConsoleForm<CodeForm>,
) -> Response {
    let Some(mut console) = found.console.clone().filter(|c| c.session.stage == Stage::Enrol) else {
        return redirect("/sign-in");
    };
    match state
        .core
        .operators()
        .confirm_enrolment(&mut console, &form.code, visitor.login_source())
        .await
    {
        Ok(codes) => render(StatusCode::OK, &Recovery { codes }),
        Err(e) => match refusal(&e) {
            Some(error) => enrol_page(&state, found, form.csrf, Some(error)).await,
            None => failure(&e),
        },
    }
}

pub async fn sign_out(State(state): State<WebState>, found: MaybeConsole, ConsoleForm(_): ConsoleForm<CsrfOnly>) -> Response {
    if let Some(console) = &found.console
        && let Err(e) = state.core.operators().sign_out(console).await
    {
        return failure(&e);
    }
    ([found.sign_out_cookie()], redirect("/sign-in")).into_response()
}
