//! The consent popup the SDK opens: `/connect?client_id&origin&state&code_challenge&code_challenge_method=S256`.
//! It checks the app and the origin before anything else, signs the person
//! in if needed, asks for consent once, and posts the result to the opener
//! at the registered origin only.

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onramp_domain::accounts::Account;
use onramp_domain::audit::Actor;
use onramp_domain::ids::AppId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::integration::VendorApp;
use onramp_domain::partners::provisioning::encode_component;
use onramp_domain::tenancy::{Tenant, parse_origin};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::sign_in::{login_error, login_page};
use crate::WebState;
use crate::cookies::Cookies;
use crate::extract::{CsrfCheck, CsrfProtected, CsrfToken, PageTenant, SignedIn, Visitor, WebForm, csrf_failed};
use crate::views::{self, message, redirect, render};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectParams {
    client_id: Option<String>,
    origin: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// A request whose app, origin and PKCE parameters checked out.
struct Checked {
    app: VendorApp,
    origin: String,
    state: String,
    challenge: String,
}

impl Checked {
    fn hidden(&self) -> Vec<(String, String)> {
        vec![
            ("client_id".into(), self.app.id.to_string()),
            ("origin".into(), self.origin.clone()),
            ("state".into(), self.state.clone()),
            ("code_challenge".into(), self.challenge.clone()),
            ("code_challenge_method".into(), "S256".into()),
        ]
    }

    fn query(&self) -> String {
        self.hidden()
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Refuses anything but a registered app at a registered origin with S256 PKCE;
/// such a page sends nothing to anyone.
async fn check(state: &WebState, tenant: &Tenant, p: &ConnectParams) -> Result<Checked, Response> {
    let fail = |text: &str| message(&tenant.instance.name, StatusCode::BAD_REQUEST, "Cannot connect", text);
    let Some(client_id) = p.client_id.as_deref().map(AppId::from) else {
        return Err(fail("The link names no app."));
    };
    let Ok(app) = state.core.integration().vendor_app(tenant, &client_id).await else {
        return Err(fail("This app is not registered with this platform."));
    };
    let origin = p.origin.clone().unwrap_or_default();
    if !app.origins.contains(&origin) {
        return Err(fail(&unregistered_origin(&origin, &app.name)));
    }
    let state_param = p.state.clone().unwrap_or_default();
    let challenge = p.code_challenge.clone().unwrap_or_default();
    let challenge_ok = challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let state_ok = (1..=200).contains(&state_param.len()) && state_param.bytes().all(|b| b.is_ascii_graphic());
    if p.code_challenge_method.as_deref() != Some("S256") || !challenge_ok || !state_ok {
        return Err(fail(
            "The request is malformed (state, code_challenge and code_challenge_method=S256 are required).",
        ));
    }
    Ok(Checked {
        app,
        origin,
        state: state_param,
        challenge,
    })
}

/// What the person is told about an origin the app did not register: which
/// origin, for which app, so the developer can fix it. Only the page says
/// so; the opener gets nothing. Text that is not an origin is not repeated.
fn unregistered_origin(origin: &str, app_name: &str) -> String {
    match parse_origin(origin) {
        Ok(parsed) if parsed == origin => {
            format!("The site {origin} is not registered for the app “{app_name}”; nothing was shared.")
        }
        _ => format!("The page that opened this window gave no valid origin for the app “{app_name}”; nothing was shared."),
    }
}

fn complete(tenant: &Tenant, c: &Checked, code: Option<Secret>, error: &str) -> Response {
    let page = views::Complete {
        platform: tenant.instance.name.clone(),
        origin: c.origin.clone(),
        state: c.state.clone(),
        code: code.map(|s| s.expose().to_owned()).unwrap_or_default(),
        error: error.to_owned(),
    };
    render(StatusCode::OK, &page)
}

async fn grant_and_complete(state: &WebState, tenant: &Tenant, account: &Account, c: &Checked) -> Response {
    let actor = Actor::account(&account.id);
    match state
        .core
        .integration()
        .authorize(tenant, &account.id, &actor, &c.app, &c.challenge)
        .await
    {
        Ok(code) => complete(tenant, c, Some(code), ""),
        Err(e) => message(
            &tenant.instance.name,
            StatusCode::SERVICE_UNAVAILABLE,
            "Cannot connect",
            &e.to_string(),
        ),
    }
}

/// A form posted from the popup. Its app, origin and PKCE parameters are
/// checked before its CSRF token, as for the popup itself.
pub struct PopupForm<T> {
    checked: Checked,
    form: T,
}

/// A popup form: its token and the connect parameters it carries along.
pub trait PopupFields: CsrfProtected {
    /// The app, origin, state and PKCE challenge, as the popup was opened with.
    fn params(&self) -> &ConnectParams;
}

impl<T: DeserializeOwned + PopupFields + Send> FromRequest<WebState> for PopupForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let tenant = PageTenant::from_request_parts(&mut parts, state).await?;
        let csrf = CsrfCheck::from_request_parts(&mut parts, state).await?;
        let WebForm(form) = WebForm::<T>::from_request(Request::from_parts(parts, body), state).await?;
        let checked = check(state, &tenant, form.params()).await?;
        if !csrf.accepts(form.csrf()) {
            return Err(csrf_failed(&tenant));
        }
        Ok(Self { checked, form })
    }
}

pub async fn start(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: Option<SignedIn>,
    csrf: CsrfToken,
    Query(params): Query<ConnectParams>,
) -> Response {
    let checked = match check(&state, &tenant, &params).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Some(me) = me else {
        let page = login_page(&tenant, csrf.value(), None, String::new(), "/connect/login", checked.hidden());
        return (csrf, render(StatusCode::OK, &page)).into_response();
    };
    // Consent is remembered: a second connect for a granted app skips the question.
    if matches!(
        state.core.integration().grant_of(&tenant, &me.account.id, &checked.app.id).await,
        Ok(Some(_))
    ) {
        return grant_and_complete(&state, &tenant, &me.account, &checked).await;
    }
    let page = views::Consent {
        platform: tenant.instance.name.clone(),
        csrf: csrf.value(),
        app_name: checked.app.name.clone(),
        email: me.account.email.clone(),
        action: "/connect/decision",
        hidden: checked.hidden(),
    };
    (csrf, render(StatusCode::OK, &page)).into_response()
}

#[derive(Deserialize)]
pub struct ConnectLogin {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    #[serde(flatten)]
    params: ConnectParams,
}

pub async fn login(
    State(state): State<WebState>,
    tenant: PageTenant,
    visitor: Visitor,
    cookies: Cookies,
    PopupForm { checked, form }: PopupForm<ConnectLogin>,
) -> Response {
    match state
        .core
        .accounts()
        .client_login(&tenant, &form.email, &Secret::new(form.password), visitor.login_source())
        .await
    {
        Ok(session) => (cookies.open_session(&session), redirect(&format!("/connect?{}", checked.query()))).into_response(),
        Err(e) => {
            let (status, text) = login_error(&e);
            render(
                status,
                &login_page(&tenant, form.csrf, Some(text), form.email, "/connect/login", checked.hidden()),
            )
        }
    }
}

#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(flatten)]
    params: ConnectParams,
}

csrf_field!(ConnectLogin, Decision);

impl PopupFields for ConnectLogin {
    fn params(&self) -> &ConnectParams {
        &self.params
    }
}

impl PopupFields for Decision {
    fn params(&self) -> &ConnectParams {
        &self.params
    }
}

pub async fn decide(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: Option<SignedIn>,
    PopupForm { checked, form }: PopupForm<Decision>,
) -> Response {
    let Some(me) = me else {
        return redirect(&format!("/connect?{}", checked.query()));
    };
    if form.decision == "allow" {
        grant_and_complete(&state, &tenant, &me.account, &checked).await
    } else {
        complete(&tenant, &checked, None, "access_denied")
    }
}
