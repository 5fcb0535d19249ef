//! `PUT /Users/{id}`: the User replaced by the one sent. Okta's wizard-built
//! apps send every change as a PUT, often without `active`: a PUT that
//! omits `active` keeps it as it is, and one without `password` keeps the
//! password. `externalId` and the kept attributes are replaced (omitted
//! means removed).

use serde_json::{Map, Value};

use crate::accounts::Account;
use crate::accounts::service::AccountChanges;
use crate::error::{DomainError, FieldCode, FieldError};
use crate::ids::AccountId;
use crate::infra::secret::Secret;
use crate::scim::create::extra;
use crate::scim::store::ScimExtra;
use crate::scim::users::ScimUsers;
use crate::scim::users::UserQuery;
use crate::tenancy::Tenant;

impl ScimUsers {
    /// Replaces the account's User with `user`, through `update` (the
    /// accounts service's update, so sessions end on deactivation and the
    /// usual events are sent).
    ///
    /// # Errors
    /// `Validation` for bad attributes; `Conflict` for an `externalId` of
    /// another account; what `update` answers.
    pub async fn replace<F, Fut>(
        &self,
        tenant: &Tenant,
        id: &AccountId,
        user: &Value,
        update: F,
    ) -> Result<(Account, ScimExtra), DomainError>
    where
        F: FnOnce(AccountChanges) -> Fut,
        Fut: Future<Output = Result<Account, DomainError>>,
    {
        let Value::Object(user) = user else {
            return Err(invalid("body", "a User must be a JSON object"));
        };
        let extra = extra(user).map_err(|e| DomainError::Validation(vec![e]))?;
        // The unique index decides races; this answers the common case
        // before the account changes.
        if let Some(external_id) = &extra.external_id {
            let query = UserQuery::external_id(external_id);
            let (holders, _) = self.store.scim_users(&tenant.env.id, &query, 0, 1).await?;
            if holders.iter().any(|(a, _)| &a.id != id) {
                return Err(DomainError::Conflict("a User with this externalId already exists".into()));
            }
        }
        // The account and what SCIM keeps of it change in one transaction.
        let changes = AccountChanges {
            scim: Some(extra.clone()),
            ..changes(user)?
        };
        let account = update(changes).await?;
        Ok((account, extra))
    }
}

/// The account fields a full User sets.
fn changes(user: &Map<String, Value>) -> Result<AccountChanges, DomainError> {
    let get = |key: &str| user.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
    let text = |v: Option<&Value>, field: &str| -> Result<Option<String>, DomainError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(field, &format!("{field} must be a string"))),
        }
    };
    let name = get("name").and_then(Value::as_object);
    let part = |key: &str| name.and_then(|n| n.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v));
    let active = match get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => return Err(invalid("active", "active must be a boolean")),
    };
    Ok(AccountChanges {
        email: text(get("userName"), "userName")?,
        first_name: text(part("givenName"), "name.givenName")?,
        last_name: text(part("familyName"), "name.familyName")?,
        password: text(get("password"), "password")?.map(Secret::new),
        active,
        if_version: None,
        scim: None,
    })
}

fn invalid(field: &str, message: &str) -> DomainError {
    DomainError::Validation(vec![FieldError::new(field, FieldCode::InvalidType, message)])
}
