//! `GET /oauth/authorize` (OpenID Connect Core §3.1.2): the authorization
//! endpoint of the code flow, on the popup's sign-in and consent screens and
//! its grant. The client and its redirect URI are checked first: until both
//! check out the page shows an error and sends no one anywhere (RFC 6749
//! §4.1.2.1); after that every error goes back to the client as `error=…`.
//! Every answer to the client, code or error, names the issuer (`iss`,
//! RFC 9207) against mix-up attacks.

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use onramp_domain::accounts::Account;
use onramp_domain::audit::Actor;
use onramp_domain::ids::AppId;
use onramp_domain::infra::secret::Secret;
use onramp_domain::integration::VendorApp;
use onramp_domain::integration::oidc::{CodeBinding, challenge_is_s256, parse_scope};
use onramp_domain::partners::provisioning::encode_component;
use onramp_domain::tenancy::Tenant;
use serde::Deserialize;

use super::sign_in::{login_error, login_page};
use crate::WebState;
use crate::cookies::Cookies;
use crate::extract::{CsrfCheck, CsrfToken, PageTenant, SignedIn, Visitor, WebForm, csrf_failed};
use crate::views::{self, message, redirect, render};

const PATH: &str = "/oauth/authorize";

/// The authorization request's parameters, all optional so that each
/// missing one gets its own answer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
    max_age: Option<String>,
}

/// A request whose client and redirect URI checked out.
struct Client {
    app: VendorApp,
    redirect_uri: String,
    state: Option<String>,
    /// This environment's issuer, sent back as `iss`.
    issuer: String,
}

/// A request that checked out whole.
struct Checked {
    client: Client,
    params: AuthorizeParams,
    scope: String,
    prompt: Option<String>,
    max_age_ms: Option<i64>,
}

impl Checked {
    /// The parameters to carry through a form, as they came.
    fn hidden(&self) -> Vec<(String, String)> {
        let p = &self.params;
        [
            ("response_type", &p.response_type),
            ("client_id", &p.client_id),
            ("redirect_uri", &p.redirect_uri),
            ("scope", &p.scope),
            ("state", &p.state),
            ("nonce", &p.nonce),
            ("code_challenge", &p.code_challenge),
            ("code_challenge_method", &p.code_challenge_method),
            ("prompt", &p.prompt),
            ("login_hint", &p.login_hint),
            ("max_age", &p.max_age),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
        .collect()
    }

    /// Back to this endpoint after signing in: the person just did, so a
    /// `prompt=login` is satisfied and must not ask again.
    fn again_after_login(&self) -> String {
        let query: Vec<String> = self
            .hidden()
            .into_iter()
            .filter(|(k, v)| !(k == "prompt" && v == "login"))
            .map(|(k, v)| format!("{k}={}", encode_component(&v)))
            .collect();
        format!("{PATH}?{}", query.join("&"))
    }
}

/// `303` to the client's redirect URI with `pairs` (and its `state` and
/// our `iss`) added to the query it may already have.
fn to_client(client: &Client, pairs: &[(&str, &str)]) -> Response {
    let mut query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", encode_component(v))).collect();
    if let Some(state) = &client.state {
        query.push(format!("state={}", encode_component(state)));
    }
    query.push(format!("iss={}", encode_component(&client.issuer)));
    let sep = if client.redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{}{sep}{}", client.redirect_uri, query.join("&"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn error_to_client(client: &Client, error: &str, description: &str) -> Response {
    to_client(client, &[("error", error), ("error_description", description)])
}

/// The client and its redirect URI, or the error page that sends no one anywhere.
async fn check_client(state: &WebState, tenant: &Tenant, p: &AuthorizeParams) -> Result<Client, Response> {
    let fail = |text: &str| message(&tenant.instance.name, StatusCode::BAD_REQUEST, "Cannot sign in", text);
    let Some(client_id) = p.client_id.as_deref().map(AppId::from) else {
        return Err(fail("The request names no client (client_id)."));
    };
    let Ok(app) = state.core.integration().vendor_app(tenant, &client_id).await else {
        return Err(fail("This app is not registered with this platform."));
    };
    let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
    if !app.redirect_uris.contains(&redirect_uri) {
        let text = format!(
            "The app “{}” did not register this redirect URI; nothing was shared. Its developer can add it on the developers page.",
            app.name
        );
        return Err(fail(&text));
    }
    Ok(Client {
        app,
        redirect_uri,
        state: p.state.clone().filter(|s| !s.is_empty()),
        issuer: state.core.tenancy().issuer(tenant),
    })
}

/// The whole request; the errors past the client's check go back to it.
async fn check(state: &WebState, tenant: &Tenant, p: AuthorizeParams) -> Result<Checked, Response> {
    let client = check_client(state, tenant, &p).await?;
    let bad = |client: &Client, error: &str, text: &str| error_to_client(client, error, text);
    if p.response_type.as_deref() != Some("code") {
        return Err(bad(&client, "unsupported_response_type", "only response_type=code is supported"));
    }
    let challenge = p.code_challenge.as_deref().unwrap_or_default();
    if p.code_challenge_method.as_deref() != Some("S256") || !challenge_is_s256(challenge) {
        let text = "PKCE is required: code_challenge with code_challenge_method=S256";
        return Err(bad(&client, "invalid_request", text));
    }
    let Some(scope) = parse_scope(p.scope.as_deref().unwrap_or_default()) else {
        return Err(bad(&client, "invalid_scope", "scope must be among openid, email and profile"));
    };
    let prompt = p.prompt.clone().filter(|s| !s.is_empty());
    let prompts: Vec<&str> = prompt.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty()).collect();
    let known = prompts.iter().all(|s| ["none", "login", "consent"].contains(s));
    if !known || (prompts.contains(&"none") && prompts.len() > 1) {
        return Err(bad(&client, "invalid_request", "prompt must be none, login or consent"));
    }
    let max_age_ms = match p.max_age.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<u32>() {
            Ok(secs) => Some(i64::from(secs) * 1000),
            Err(_) => return Err(bad(&client, "invalid_request", "max_age must be a number of seconds")),
        },
    };
    let short = |v: &Option<String>| v.as_deref().is_none_or(|s| s.len() <= 512);
    if !short(&p.nonce) || !short(&p.state) || !short(&p.login_hint) {
        return Err(bad(
            &client,
            "invalid_request",
            "state, nonce and login_hint are at most 512 characters",
        ));
    }
    Ok(Checked {
        client,
        params: p,
        scope,
        prompt,
        max_age_ms,
    })
}

fn prompts(c: &Checked, which: &str) -> bool {
    c.prompt.as_deref().is_some_and(|p| p.split(' ').any(|s| s == which))
}

async fn issue(state: &WebState, tenant: &Tenant, me: &SignedIn, c: &Checked) -> Response {
    let binding = CodeBinding {
        redirect_uri: c.client.redirect_uri.clone(),
        scope: c.scope.clone(),
        nonce: c.params.nonce.clone().filter(|n| !n.is_empty()),
        auth_time: me.signed_in_at,
    };
    let challenge = c.params.code_challenge.as_deref().unwrap_or_default();
    let actor = Actor::account(&me.account.id);
    let integration = state.core.integration();
    match integration
        .authorize_oidc(tenant, &me.account.id, &actor, &c.client.app, challenge, binding)
        .await
    {
        Ok(code) => to_client(&c.client, &[("code", code.expose())]),
        Err(e) => {
            tracing::warn!(error = %e, "no authorization code");
            error_to_client(&c.client, "temporarily_unavailable", "try again shortly")
        }
    }
}

/// The sign-in and consent forms end in a redirect to the client, which
/// CSP's `form-action` checks too: its origin joins `'self'` there.
fn leaving_for_client(mut response: Response, c: &Checked) -> Response {
    let origin = url::Url::parse(&c.client.redirect_uri).map(|u| u.origin().ascii_serialization());
    let policy = crate::security::CSP.replace("form-action 'self'", &format!("form-action 'self' {}", origin.unwrap_or_default()));
    if let Ok(value) = header::HeaderValue::from_str(&policy) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

fn login(tenant: &Tenant, csrf: String, c: &Checked, error: Option<(StatusCode, String)>, email: String) -> Response {
    let (status, error) = error.map_or((StatusCode::OK, None), |(status, text)| (status, Some(text)));
    let page = login_page(tenant, csrf, error, email, "/oauth/authorize/login", c.hidden());
    leaving_for_client(render(status, &page), c)
}

fn consent(tenant: &Tenant, csrf: String, account: &Account, c: &Checked) -> Response {
    let page = views::Consent {
        platform: tenant.instance.name.clone(),
        csrf,
        app_name: c.client.app.name.clone(),
        email: account.email.clone(),
        action: "/oauth/authorize/decision",
        hidden: c.hidden(),
    };
    leaving_for_client(render(StatusCode::OK, &page), c)
}

pub async fn start(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: Option<SignedIn>,
    csrf: CsrfToken,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let checked = match check(&state, &tenant, params).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let now = state.core.integration().now_ms();
    let me = me.filter(|me| !prompts(&checked, "login") && checked.max_age_ms.is_none_or(|max| now - me.signed_in_at <= max));
    let Some(me) = me else {
        if prompts(&checked, "none") {
            return error_to_client(&checked.client, "login_required", "the person is not signed in");
        }
        let hint = checked.params.login_hint.clone().unwrap_or_default();
        let page = login(&tenant, csrf.value(), &checked, None, hint);
        return (csrf, page).into_response();
    };
    let granted = state
        .core
        .integration()
        .grant_of(&tenant, &me.account.id, &checked.client.app.id)
        .await;
    match granted {
        // Consent is remembered, as for the popup.
        Ok(Some(_)) if !prompts(&checked, "consent") => issue(&state, &tenant, &me, &checked).await,
        Ok(_) if prompts(&checked, "none") => {
            error_to_client(&checked.client, "consent_required", "the person has not granted this app access")
        }
        Ok(_) => {
            let page = consent(&tenant, csrf.value(), &me.account, &checked);
            (csrf, page).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "grant not read");
            error_to_client(&checked.client, "temporarily_unavailable", "try again shortly")
        }
    }
}

/// A form posted from these pages: the request it carries is checked before
/// its CSRF token, as for the popup.
pub struct AuthorizeForm<T> {
    checked: Checked,
    csrf: String,
    form: T,
}

#[derive(Deserialize)]
struct Posted<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
    #[serde(flatten)]
    params: AuthorizeParams,
}

impl<T: serde::de::DeserializeOwned + Send> FromRequest<WebState> for AuthorizeForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let tenant = PageTenant::from_request_parts(&mut parts, state).await?;
        let csrf = CsrfCheck::from_request_parts(&mut parts, state).await?;
        let WebForm(posted) = WebForm::<Posted<T>>::from_request(Request::from_parts(parts, body), state).await?;
        let checked = check(state, &tenant, posted.params).await?;
        if !csrf.accepts(&posted.csrf) {
            return Err(csrf_failed(&tenant));
        }
        Ok(Self {
            checked,
            csrf: posted.csrf,
            form: posted.fields,
        })
    }
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

pub async fn sign_in(
    State(state): State<WebState>,
    tenant: PageTenant,
    visitor: Visitor,
    cookies: Cookies,
    AuthorizeForm { checked, csrf, form }: AuthorizeForm<Credentials>,
) -> Response {
    let accounts = state.core.accounts();
    match accounts
        .client_login(&tenant, &form.email, &Secret::new(form.password), visitor.login_source())
        .await
    {
        Ok(session) => (cookies.open_session(&session), redirect(&checked.again_after_login())).into_response(),
        Err(e) => login(&tenant, csrf, &checked, Some(login_error(&e)), form.email),
    }
}

#[derive(Deserialize)]
pub struct Decision {
    decision: String,
}

pub async fn decide(
    State(state): State<WebState>,
    tenant: PageTenant,
    me: Option<SignedIn>,
    AuthorizeForm { checked, form, .. }: AuthorizeForm<Decision>,
) -> Response {
    let Some(me) = me else {
        return redirect(&checked.again_after_login());
    };
    if form.decision == "allow" {
        issue(&state, &tenant, &me, &checked).await
    } else {
        error_to_client(&checked.client, "access_denied", "the person declined")
    }
}
