//! What admins do to a partner: approve, suspend, reject an application
//! with a reason; set the scopes its keys may have; issue (within those)
//! and revoke keys.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::Response;
use onramp_domain::error::DomainError;
use onramp_domain::ids::{KeyId, PartnerId};
use onramp_domain::partners::PartnerStatus;
use serde::Deserialize;

use super::{DetailQuery, Shown, detail_page};
use crate::WebState;
use crate::console::session::{Admin, ConsoleForm};
use crate::console::views::{domain_failure, problem_page};
use crate::extract::{CsrfOnly, ScopeBoxes};
use crate::views::redirect;

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

csrf_field!(StatusForm);

pub async fn status(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<StatusForm>,
) -> Response {
    let (partners, actor, id) = (state.core.partners(), console.actor(), PartnerId::new(id));
    let done = match form.action.as_str() {
        "approve" => partners
            .set_partner_status(&actor, &id, PartnerStatus::Active)
            .await
            .map(|_| "approved"),
        "suspend" => partners
            .set_partner_status(&actor, &id, PartnerStatus::Suspended)
            .await
            .map(|_| "suspended"),
        "reject" => partners.reject_application(&actor, &id, &form.reason).await.map(|_| "rejected"),
        _ => Err(DomainError::Forbidden("unknown action")),
    };
    match done {
        Ok(done) => redirect(&format!("/partners/{id}?done={done}")),
        Err(e) => domain_failure(&e),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    scopes: ScopeBoxes,
    #[serde(default)]
    expires_days: String,
}

csrf_field!(KeyForm);

impl KeyForm {
    /// The scopes whose boxes are ticked, one box per scope in `Scope::ALL` order.
    fn scopes(&self) -> Vec<String> {
        self.scopes.names()
    }

    fn expires_in(&self) -> Result<Option<Duration>, String> {
        match self.expires_days.trim() {
            "" => Ok(None),
            raw => match raw.parse::<u64>() {
                Ok(days @ 1..=3650) => Ok(Some(Duration::from_secs(days * 86_400))),
                _ => Err("Expiry must be a whole number of days, 1 to 3650, or empty for never".into()),
            },
        }
    }
}

pub async fn issue_key(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<KeyForm>,
) -> Response {
    let id = PartnerId::new(id);
    let scopes = form.scopes();
    if scopes.is_empty() {
        return problem_page(axum::http::StatusCode::BAD_REQUEST, "Not issued", "Choose at least one scope.");
    }
    let expires_in = match form.expires_in() {
        Ok(e) => e,
        Err(why) => return problem_page(axum::http::StatusCode::BAD_REQUEST, "Not issued", &why),
    };
    match state
        .core
        .partners()
        .issue_api_key(&console.actor(), &id, &scopes, expires_in)
        .await
    {
        Ok(issued) => {
            let shown = Shown {
                notice: Some(format!("Key {} issued.", issued.key.key_id)),
                new_key: Some(issued.secret.expose().to_owned()),
                ..Shown::default()
            };
            detail_page(&state, &console, form.csrf, &id, &DetailQuery::default(), shown).await
        }
        Err(e) => domain_failure(&e),
    }
}

/// The allowance form: one box per scope.
#[derive(Deserialize)]
pub struct ScopesForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    scopes: ScopeBoxes,
}

csrf_field!(ScopesForm);

/// Sets the scopes the partner's keys may have (audited
/// `partner.scopes_changed`); keys are issued within them from then on.
pub async fn set_scopes(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<ScopesForm>,
) -> Response {
    let scopes = form.scopes.names();
    let id = PartnerId::new(id);
    match state.core.partners().set_allowed_scopes(&console.actor(), &id, &scopes).await {
        Ok(_) => redirect(&format!("/partners/{id}?done=scopes")),
        Err(e) => domain_failure(&e),
    }
}

pub async fn revoke_key(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((id, key)): Path<(String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    let key_id = KeyId::new(key);
    // The key must be this partner's: the path names both.
    match state.core.partners().api_keys(&PartnerId::new(id.clone())).await {
        Ok(keys) if keys.iter().any(|k| k.key_id == key_id) => {}
        Ok(_) => return domain_failure(&DomainError::NotFound("api key")),
        Err(e) => return domain_failure(&e),
    }
    match state.core.partners().revoke_api_key(&console.actor(), &key_id).await {
        Ok(_) => redirect(&format!("/partners/{id}?done=revoked")),
        Err(e) => domain_failure(&e),
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

csrf_field!(InviteForm);

/// Invites a contact to the partner's portal: the one-time link (7 days)
/// is shown once, to pass on.
pub async fn invite(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<InviteForm>,
) -> Response {
    let id = PartnerId::new(id);
    let done = async {
        let partner = state.core.partners().partner(&id).await?;
        let invited = state.core.portal().invite(&console.actor(), &id, form.email.trim()).await?;
        let host = state.core.tenancy().host_of(&partner.platform_id, partner.environment);
        Ok::<_, DomainError>(Shown {
            notice: Some(format!(
                "{} is invited: pass the link on; it works once, for 7 days.",
                form.email.trim()
            )),
            invite_link: Some(format!("https://{host}{}", invited.url_path.expose())),
            ..Shown::default()
        })
    };
    match done.await {
        Ok(shown) => detail_page(&state, &console, form.csrf, &id, &DetailQuery::default(), shown).await,
        Err(e) => domain_failure(&e),
    }
}

/// Takes a contact's authenticator away (lost app and recovery codes).
pub async fn reset_authenticator(
    State(state): State<WebState>,
    Admin(console): Admin,
    Path((id, user)): Path<(String, String)>,
    ConsoleForm(_): ConsoleForm<CsrfOnly>,
) -> Response {
    let partner_id = PartnerId::new(id);
    let user_id = onramp_domain::ids::PortalUserId::new(user);
    match state
        .core
        .portal()
        .reset_authenticator(&console.actor(), &partner_id, &user_id)
        .await
    {
        Ok(()) => redirect(&format!("/partners/{partner_id}?done=authenticator_reset")),
        Err(e) => domain_failure(&e),
    }
}
