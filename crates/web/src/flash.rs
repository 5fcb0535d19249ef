//! What a POST leaves for the page it redirects to (post/redirect/get): a
//! notice, or a key that must be shown exactly once. The note is stored
//! sealed for the session that made it (`Accounts::leave_flash`) and
//! deleted when the page shows it, so a reload shows nothing and redoes
//! nothing.

use onramp_domain::DomainError;
use onramp_domain::tenancy::Tenant;
use serde::{Deserialize, Serialize};

use crate::WebState;
use crate::extract::SignedIn;

/// A key generated for an app, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewKey {
    pub app: String,
    pub key: String,
}

/// The note itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Flash {
    pub notice: Option<String>,
    pub new_key: Option<NewKey>,
}

impl Flash {
    pub fn notice(text: impl Into<String>) -> Self {
        Self {
            notice: Some(text.into()),
            new_key: None,
        }
    }

    pub fn key(app: String, key: String) -> Self {
        Self {
            notice: None,
            new_key: Some(NewKey { app, key }),
        }
    }
}

/// Leaves `flash` for the session's next page.
///
/// # Errors
/// Storage failures.
pub async fn leave(state: &WebState, tenant: &Tenant, me: &SignedIn, flash: &Flash) -> Result<(), DomainError> {
    let note = serde_json::to_vec(flash).expect("a flash serialises");
    state.core.accounts().leave_flash(tenant, me.session_token(), &note).await
}

/// Takes the session's note, if one waits (it is gone afterwards). A
/// storage failure shows no note rather than no page.
pub async fn take(state: &WebState, tenant: &Tenant, me: &SignedIn) -> Flash {
    match state.core.accounts().take_flash(tenant, me.session_token()).await {
        Ok(Some(note)) => serde_json::from_slice(&note).unwrap_or_default(),
        Ok(None) => Flash::default(),
        Err(e) => {
            tracing::warn!(error = %e, "flash note unreadable");
            Flash::default()
        }
    }
}
