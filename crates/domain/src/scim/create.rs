//! `POST /Users`: a new account from a SCIM User, as Okta and Entra send
//! it. `userName` is the email (the primary `emails` entry must agree, or
//! is taken when `userName` is missing); `password` is optional: without
//! one the account cannot sign in with a password until one is set (a
//! sign-in link still works), and nothing is hashed, so bulk provisioning is
//! not bound by the hasher.

use serde_json::{Map, Value, json};

use crate::accounts::password::check_policy;
use crate::accounts::{Account, Email, NO_PASSWORD, PersonName, parse_name_part};
use crate::audit::{Actor, AuditEvent};
use crate::error::{DomainError, FieldCode, FieldError, Validator};
use crate::events::EventType;
use crate::ids::AccountId;
use crate::infra::hash_queue::Share;
use crate::infra::secret::Secret;
use crate::scim::ENTERPRISE_USER;
use crate::scim::patch_extra::KEPT;
use crate::scim::store::ScimExtra;
use crate::scim::users::ScimUsers;
use crate::store::StoreError;
use crate::tenancy::Tenant;

/// The most text a stored attribute may hold, and all of them together.
const MAX_ATTRIBUTE_CHARS: usize = 1024;
const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
impl ScimUsers {
    /// The account made from `user`, with what SCIM keeps of it.
    ///
    /// # Errors
    /// `Validation` for a missing or bad `userName`, name or password;
    /// `EmailTaken`; `Conflict` for a taken `externalId`; `Overloaded`.
    pub async fn create(&self, tenant: &Tenant, actor: &Actor, user: &Value) -> Result<(Account, ScimExtra), DomainError> {
        let Value::Object(user) = user else {
            return Err(invalid("body", "a User must be a JSON object"));
        };
        let mut v = Validator::default();
        let raw_email = user_name(user);
        let email = v.check(Email::parse("userName", raw_email.as_deref().unwrap_or_default()));
        let name = user.get("name").and_then(Value::as_object);
        let part = |key: &str| name.and_then(|n| n.get(key)).and_then(Value::as_str).unwrap_or_default().to_owned();
        let first_name = v.check(parse_name_part("name.givenName", &part("givenName")));
        let last_name = v.check(parse_name_part("name.familyName", &part("familyName")));
        let password = user.get("password").and_then(Value::as_str).map(|p| Secret::new(p.to_owned()));
        if let Some(password) = &password {
            v.check(check_policy("password", password, raw_email.as_deref()));
        }
        let active = v.check(active(user));
        let extra = v.check(extra(user));
        v.finish()?;
        let (Some(email), Some(first_name), Some(last_name), Some(active), Some(extra)) = (email, first_name, last_name, active, extra)
        else {
            unreachable!("the validator failed on any missing value")
        };
        let env_id = &tenant.env.id;
        if self.store.account_by_email(env_id, &email.normalized()).await?.is_some() {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = match &password {
            Some(password) => self.hasher.hash(&Share::tenant(env_id), password).await?,
            None => NO_PASSWORD.to_owned(),
        };
        let now = self.clock.now_ms();
        let account = Account {
            id: AccountId::generate(),
            env_id: env_id.clone(),
            email: email.as_str().to_owned(),
            name: PersonName { first_name, last_name },
            password_hash,
            partner_id: None,
            active,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::in_tenant(actor, tenant, "account.created", account.id.as_str())
            .with_detail(json!({ "email": account.email, "external_id": extra.external_id }))
            .emit(env_id, EventType::AccountCreated, None, account.event_data());
        self.store.create_scim_user(&account, &extra, &audit).await.map_err(|e| match e {
            StoreError::Conflict("email" | "email_normalized") => DomainError::EmailTaken,
            StoreError::Conflict(_) => DomainError::Conflict("a User with this externalId already exists".into()),
            other => other.into(),
        })?;
        Ok((account, extra))
    }
}

/// `userName`, or else the primary (or work, or only) entry of `emails`.
fn user_name(user: &Map<String, Value>) -> Option<String> {
    if let Some(name) = user.get("userName").and_then(Value::as_str) {
        return Some(name.to_owned());
    }
    let emails: Vec<&Map<String, Value>> = user.get("emails")?.as_array()?.iter().filter_map(Value::as_object).collect();
    let primary = emails.iter().find(|e| is_true(e.get("primary")));
    let work = emails.iter().find(|e| e.get("type").and_then(Value::as_str) == Some("work"));
    let chosen = primary.or(work).or(emails.first())?;
    chosen.get("value").and_then(Value::as_str).map(str::to_owned)
}

/// The `emails` entries besides the one `userName` mirrors (the primary, or
/// work, or first one), as `{value, type, display}` with the strings given:
/// kept and returned, never primary, never used to sign in.
fn other_emails(user: &Map<String, Value>) -> Vec<Value> {
    let Some(emails) = user.get("emails").and_then(Value::as_array) else {
        return Vec::new();
    };
    let entries: Vec<&Map<String, Value>> = emails.iter().filter_map(Value::as_object).collect();
    let mirrored = entries
        .iter()
        .position(|e| is_true(e.get("primary")))
        .or_else(|| entries.iter().position(|e| e.get("type").and_then(Value::as_str) == Some("work")))
        .unwrap_or(0);
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| *i != mirrored && e.get("value").is_some_and(Value::is_string))
        .map(|(_, e)| {
            let kept: Map<String, Value> = ["value", "type", "display"]
                .into_iter()
                .filter_map(|key| e.get(key).filter(|v| v.is_string()).map(|v| (key.to_owned(), v.clone())))
                .collect();
            Value::Object(kept)
        })
        .collect()
}

fn is_true(value: Option<&Value>) -> bool {
    value.is_some_and(|p| p == &Value::Bool(true) || p.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
}

/// `active`, as a boolean or Entra's `"True"`/`"False"`; `true` when absent.
fn active(user: &Map<String, Value>) -> Result<bool, FieldError> {
    match user.get("active") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(FieldError::new("active", FieldCode::InvalidType, "active must be a boolean")),
    }
}

/// `externalId` and the attributes kept, checked for type and length only.
pub(crate) fn extra(user: &Map<String, Value>) -> Result<ScimExtra, FieldError> {
    let external_id = match user.get("externalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_ATTRIBUTE_CHARS => Some(s.clone()),
        Some(_) => {
            return Err(FieldError::new(
                "externalId",
                FieldCode::InvalidType,
                "externalId must be a string of 1 to 1024 characters",
            ));
        }
    };
    let mut attributes = Map::new();
    for key in KEPT.into_iter().chain([ENTERPRISE_USER]) {
        if let Some(value) = user.get(key).filter(|v| !v.is_null()) {
            attributes.insert(key.to_owned(), value.clone());
        }
    }
    let others = other_emails(user);
    if !others.is_empty() {
        attributes.insert("emails".to_owned(), Value::Array(others));
    }
    checked(ScimExtra { external_id, attributes })
}

/// `extra` if its attributes pass the checks of type and length.
///
/// # Errors
/// A field error naming the first attribute too long, or all of them
/// together too large.
pub(crate) fn checked(extra: ScimExtra) -> Result<ScimExtra, FieldError> {
    if extra.external_id.as_ref().is_some_and(|e| e.chars().count() > MAX_ATTRIBUTE_CHARS) {
        return Err(FieldError::new(
            "externalId",
            FieldCode::InvalidLength,
            "externalId must be a string of 1 to 1024 characters",
        ));
    }
    for (key, value) in &extra.attributes {
        check_text(key, value)?;
    }
    if Value::Object(extra.attributes.clone()).to_string().len() > MAX_ATTRIBUTES_BYTES {
        return Err(FieldError::new(
            "body",
            FieldCode::InvalidLength,
            "the User's attributes are too large",
        ));
    }
    Ok(extra)
}

/// Strings at most [`MAX_ATTRIBUTE_CHARS`], in any nesting of lists and objects.
fn check_text(key: &str, value: &Value) -> Result<(), FieldError> {
    match value {
        Value::String(s) if s.chars().count() > MAX_ATTRIBUTE_CHARS => {
            Err(FieldError::new(key, FieldCode::InvalidLength, format!("{key} is too long")))
        }
        Value::Array(items) => items.iter().try_for_each(|i| check_text(key, i)),
        Value::Object(fields) => fields.values().try_for_each(|f| check_text(key, f)),
        _ => Ok(()),
    }
}

fn invalid(field: &str, message: &str) -> DomainError {
    DomainError::Validation(vec![FieldError::new(field, FieldCode::InvalidType, message)])
}
