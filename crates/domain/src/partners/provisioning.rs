//! Accounts created by partners, and one-time sign-in links to them.

use std::sync::Arc;

use serde_json::json;

mod batch;
pub use batch::BatchItem;

use crate::accounts::password::check_policy;
use crate::accounts::service::{AccountChanges, Accounts, OpenedSession};
use crate::accounts::{Account, Email, PersonName, parse_name_part};
use crate::app::Page;
use crate::audit::{Actor, ActorKind, AuditEvent};
use crate::clock::{Clock, Millis};
use crate::error::{DomainError, FieldCode, FieldError, Validator};
use crate::events::EventType;
use crate::ids::AccountId;
use crate::infra::hash_ceiling::CostCeiling;
use crate::infra::hash_queue::Share;
use crate::infra::hashing::PasswordHasher;
use crate::infra::legacy_hash::classify;
use crate::infra::secret::{Secret, random_token, token_hash};
use crate::partners::Partner;
use crate::signin_links::{LoginToken, Redeemed};
use crate::store::Store;
use crate::tenancy::Tenant;

/// Where a sign-in link sends the person when none is asked for.
pub const DEFAULT_REDIRECT: &str = "/admin/purchase-plan";
const LINK_TOKEN_PREFIX: &str = "onr_link_";

/// What a partner sends to create an account.
#[derive(Debug, Clone)]
pub struct PartnerSignup {
    pub email: String,
    pub password: Secret,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub redirect: Option<String>,
}

/// A one-time sign-in link; the URL carries the only copy of its token.
#[derive(Debug, Clone)]
pub struct SignInLink {
    pub account_id: AccountId,
    pub url: Secret,
    pub expires_at: Millis,
}

/// A relative path on the platform, returned with its dot segments
/// resolved. Refused: anything that is or could become a way off the
/// platform once a browser or the platform's app decodes and normalises it
/// (`//evil.com`, `/.//evil.com`, `/%2F%2Fevil.com`, backslashes, full-width
/// or other look-alike slashes, control characters).
///
/// # Errors
/// `invalid_redirect` on `field`.
pub fn parse_redirect(field: &str, raw: &str) -> Result<String, FieldError> {
    normalized_redirect(raw).ok_or_else(|| {
        FieldError::new(
            field,
            FieldCode::InvalidRedirect,
            format!("{field} must be a path on the platform starting with a single '/'"),
        )
    })
}

fn normalized_redirect(raw: &str) -> Option<String> {
    if !raw.starts_with('/') || raw.len() > 2048 || !stays_on_the_platform(raw) {
        return None;
    }
    // The URL parser resolves dot segments (and treats `\` as `/`, as
    // browsers do); a host other than the base's means the path left.
    let base = url::Url::parse("https://platform.invalid/").expect("valid base");
    let joined = base.join(raw).ok()?;
    if joined.host_str() != Some("platform.invalid") || joined.port().is_some() {
        return None;
    }
    let path = &joined[url::Position::BeforePath..];
    // Decoded (twice over, for `%252F`) and resolved again, it must still
    // be one path on the platform.
    let mut decoded = joined.path().to_owned();
    for _ in 0..3 {
        decoded = percent_encoding::percent_decode_str(&decoded).decode_utf8().ok()?.into_owned();
    }
    let resolved = base.join(&decoded.replace('%', "%25")).ok()?;
    (stays_on_the_platform(&decoded) && resolved.host_str() == Some("platform.invalid") && !path.starts_with("//")).then(|| path.to_owned())
}

/// No character that a browser or an app could read as a second slash, a
/// backslash or a break in the URL.
fn stays_on_the_platform(path: &str) -> bool {
    const SLASH_LOOKALIKES: [char; 8] = [
        '\u{FF0F}', '\u{FF3C}', '\u{2215}', '\u{2216}', '\u{2044}', '\u{29F8}', '\u{29F9}', '\u{FE68}',
    ];
    !path.starts_with("//")
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace() || SLASH_LOOKALIKES.contains(&c))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode_component(raw: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(raw, RESERVED).to_string()
}

fn optional_name(v: &mut Validator, field: &str, raw: Option<&str>) -> String {
    match raw {
        Some(name) => v.check(parse_name_part(field, name)).unwrap_or_default(),
        None => String::new(),
    }
}

/// Accounts created and managed by partners, and their sign-in links.
pub struct Provisioning {
    store: Arc<dyn Store>,
    hasher: Arc<PasswordHasher>,
    accounts: Arc<Accounts>,
    clock: Arc<dyn Clock>,
}

impl Provisioning {
    pub(crate) fn new(store: Arc<dyn Store>, hasher: Arc<PasswordHasher>, accounts: Arc<Accounts>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            hasher,
            accounts,
            clock,
        }
    }

    /// Creates an account owned by `partner` and a one-time sign-in link to it.
    ///
    /// # Errors
    /// `Validation` for bad input, `EmailTaken` for a duplicate email.
    pub async fn partner_create_account(
        &self,
        tenant: &Tenant,
        partner: &Partner,
        actor: &Actor,
        input: PartnerSignup,
    ) -> Result<SignInLink, DomainError> {
        let mut v = Validator::default();
        let email = v.check(Email::parse("primaryEmail", &input.email));
        v.check(check_policy("password", &input.password, Some(input.email.trim())));
        let first_name = optional_name(&mut v, "firstName", input.first_name.as_deref());
        let last_name = optional_name(&mut v, "lastName", input.last_name.as_deref());
        let redirect = input.redirect.as_deref().map(|r| v.check(parse_redirect("redirect", r)));
        v.finish()?;
        let (Some(email), redirect) = (email, redirect.flatten().unwrap_or_else(|| DEFAULT_REDIRECT.to_owned())) else {
            unreachable!()
        };
        if self.store.account_by_email(&tenant.env.id, &email.normalized()).await?.is_some() {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = self
            .hasher
            .hash(&Share::partner(&tenant.env.id, &partner.id), &input.password)
            .await?;
        let now = self.clock.now_ms();
        let account = Account {
            id: AccountId::generate(),
            env_id: tenant.env.id.clone(),
            email: email.as_str().to_owned(),
            name: PersonName { first_name, last_name },
            password_hash,
            partner_id: Some(partner.id.clone()),
            active: true,
            created_at: now,
            updated_at: now,
        };
        let (token, link) = self.new_link(tenant, &account.id, redirect, now);
        let audit = AuditEvent::in_tenant(actor, tenant, "account.created", account.id.as_str())
            .with_detail(json!({ "email": account.email, "partner_id": partner.id }))
            .emit(&tenant.env.id, EventType::AccountCreated, Some(&partner.id), account.event_data());
        self.store.create_account(&account, None, Some(&token), &audit).await?;
        Ok(link)
    }

    fn new_link(&self, tenant: &Tenant, account_id: &AccountId, redirect: String, now: Millis) -> (LoginToken, SignInLink) {
        let token = random_token(LINK_TOKEN_PREFIX, 43);
        let expires_at = (now + tenant.instance.login_link_ttl_secs() * 1000) / 1000 * 1000;
        let url = tenant
            .instance
            .link_template()
            .replace("{app_url}", &tenant.instance.app_url)
            .replace("{token}", &token)
            .replace("{redirect}", &encode_component(&redirect));
        let record = LoginToken {
            token_hash: token_hash(&token),
            env_id: tenant.env.id.clone(),
            account_id: account_id.clone(),
            redirect,
            created_at: now,
            expires_at,
        };
        (
            record,
            SignInLink {
                account_id: account_id.clone(),
                url: Secret::new(url),
                expires_at,
            },
        )
    }

    /// A fresh sign-in link to one of the partner's accounts.
    ///
    /// # Errors
    /// `NotFound("account")` unless the partner created the account.
    pub async fn partner_login_link(
        &self,
        tenant: &Tenant,
        partner: &Partner,
        id: &AccountId,
        redirect: Option<&str>,
    ) -> Result<SignInLink, DomainError> {
        let account = self.partner_account(tenant, partner, id).await?;
        let redirect = match redirect {
            Some(r) => parse_redirect("redirect", r).map_err(|e| DomainError::Validation(vec![e]))?,
            None => DEFAULT_REDIRECT.to_owned(),
        };
        let (token, link) = self.new_link(tenant, &account.id, redirect, self.clock.now_ms());
        self.store.create_login_token(&token).await?;
        Ok(link)
    }

    /// One of the partner's accounts; any other id is `NotFound`.
    ///
    /// # Errors
    /// `NotFound("account")`.
    pub async fn partner_account(&self, tenant: &Tenant, partner: &Partner, id: &AccountId) -> Result<Account, DomainError> {
        let account = self.accounts.account(tenant, id).await?;
        if account.partner_id.as_ref() == Some(&partner.id) {
            Ok(account)
        } else {
            Err(DomainError::NotFound("account"))
        }
    }

    /// The partner's accounts by id.
    ///
    /// # Errors
    /// `Validation` for a bad cursor.
    pub async fn partner_accounts(
        &self,
        tenant: &Tenant,
        partner: &Partner,
        email: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Account>, DomainError> {
        self.accounts.list(tenant, Some(&partner.id), email, cursor, limit).await
    }

    /// Edits one of the partner's accounts.
    ///
    /// # Errors
    /// `NotFound`, `Validation`, `EmailTaken`.
    pub async fn partner_update_account(
        &self,
        tenant: &Tenant,
        partner: &Partner,
        actor: &Actor,
        id: &AccountId,
        changes: AccountChanges,
    ) -> Result<Account, DomainError> {
        let account = self.partner_account(tenant, partner, id).await?;
        self.accounts.update_account(tenant, actor, &account.id, changes).await
    }

    /// Deletes one of the partner's accounts.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn partner_delete_account(
        &self,
        tenant: &Tenant,
        partner: &Partner,
        actor: &Actor,
        id: &AccountId,
    ) -> Result<(), DomainError> {
        let account = self.partner_account(tenant, partner, id).await?;
        self.accounts.delete_account(tenant, actor, &account.id).await
    }

    /// Redeems a sign-in link for a session (once, even under concurrency).
    ///
    /// # Errors
    /// `InvalidGrant` for an unknown or used link, `TokenExpired`,
    /// `AccountDisabled` for a live link of a deactivated account.
    pub async fn exchange_login_token(&self, tenant: &Tenant, token: &str) -> Result<(OpenedSession, String), DomainError> {
        if !token.starts_with(LINK_TOKEN_PREFIX) || token.len() > 128 {
            return Err(DomainError::InvalidGrant("the sign-in token is unknown"));
        }
        // The account is the link's: the store fills it in as it redeems the link.
        let (session, opened) = self.accounts.new_session(&tenant.env.id, &AccountId::new(""));
        let nobody = Actor::new(ActorKind::Client(None), None);
        let audit = AuditEvent::in_tenant(&nobody, tenant, "signin_link.redeemed", "").emit(
            &tenant.env.id,
            EventType::SigninLinkRedeemed,
            None,
            json!({}),
        );
        match self
            .store
            .redeem_login_token(&tenant.env.id, &token_hash(token), self.clock.now_ms(), &session, &audit)
            .await?
        {
            Redeemed::Ok { account_id, redirect } => Ok((
                OpenedSession {
                    user_id: account_id,
                    ..opened
                },
                redirect,
            )),
            Redeemed::Unknown => Err(DomainError::InvalidGrant("the sign-in token is unknown")),
            Redeemed::AlreadyUsed => Err(DomainError::InvalidGrant("the sign-in token was already used")),
            Redeemed::Expired => Err(DomainError::TokenExpired),
            Redeemed::AccountDisabled => Err(DomainError::AccountDisabled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_platform() {
        assert!(parse_redirect("redirect", "/admin/purchase-plan?x=1").is_ok());
        for bad in [
            "https://evil.com",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil",
            "javascript:alert(1)",
            "",
            "/a b",
            "/\u{0}",
            "/.//evil.com",
            "/./\\evil.com",
            "/a/..//evil.com",
            "/%2F%2Fevil.com",
            "/%2f/evil.com",
            "/%252F%252Fevil.com",
            "/%5Cevil.com",
            "/\u{FF0F}\u{FF0F}evil.com",
            "/\u{FF0F}evil.com",
            "/%EF%BC%8Fevil.com",
            "/%09/evil.com",
        ] {
            assert!(parse_redirect("redirect", bad).is_err(), "{bad:?}");
        }
        for (given, stored) in [
            ("/admin/./purchase-plan", "/admin/purchase-plan"),
            ("/a/b/../c?x=%2F#top", "/a/c?x=%2F#top"),
            ("/caf%C3%A9", "/caf%C3%A9"),
        ] {
            assert_eq!(parse_redirect("redirect", given).unwrap(), stored);
        }
    }

    #[test]
    fn encodes_components() {
        assert_eq!(
            encode_component("/admin/purchase-plan?a=b&c"),
            "%2Fadmin%2Fpurchase-plan%3Fa%3Db%26c"
        );
    }
}
