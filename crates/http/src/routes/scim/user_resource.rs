//! The User resource of an account, serialized straight from the account
//! and what SCIM keeps of it. A listing is most of SCIM's traffic (every
//! Okta and Entra sync starts with a `userName eq` filter), and building a
//! `serde_json::Value` tree first cost about a sixth of such a request; the
//! tree is built only when `attributes`/`excludedAttributes` must cut it.

use onramp_domain::accounts::Account;
use onramp_domain::clock::rfc3339;
use onramp_domain::scim::projection::Projection;
use onramp_domain::scim::store::ScimExtra;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::BASE;

pub(super) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The attributes the account itself answers; a kept attribute of the same
/// name never replaces them.
const CORE: [&str; 8] = ["schemas", "id", "externalId", "userName", "name", "emails", "active", "meta"];

/// An account as a SCIM User; `origin` is the environment's API origin
/// (`https://api…`), for `meta.location`.
pub struct UserResource<'a> {
    pub origin: &'a str,
    pub account: &'a Account,
    pub extra: &'a ScimExtra,
}

/// A User as answered: whole, or cut to what a projection asks for.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Shaped<'a> {
    Whole(UserResource<'a>),
    Cut(Value),
}

impl<'a> UserResource<'a> {
    /// The resource shaped by `projection`.
    pub fn shaped(self, projection: &Projection) -> Shaped<'a> {
        if projection.is_all() {
            return Shaped::Whole(self);
        }
        let mut value = self.to_value();
        projection.apply(&mut value);
        Shaped::Cut(value)
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The account's `W/"…"` version (its `updated_at`).
pub fn version(account: &Account) -> String {
    format!("W/\"{}\"", account.updated_at)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Name<'a> {
    given_name: &'a str,
    family_name: &'a str,
}

/// The account's email (primary, `work`), then the kept others (not primary).
struct Emails<'a>(&'a Account, Option<&'a Value>);

impl Serialize for Emails<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        seq.serialize_element(&serde_json::json!({ "value": self.0.email, "type": "work", "primary": true }))?;
        for other in self.1.and_then(Value::as_array).into_iter().flatten() {
            let mut other = other.clone();
            if let Some(fields) = other.as_object_mut() {
                fields.insert("primary".into(), Value::Bool(false));
            }
            seq.serialize_element(&other)?;
        }
        seq.end()
    }
}

struct Meta<'a>(&'a UserResource<'a>);

impl Serialize for Meta<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0.account;
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("resourceType", "User")?;
        map.serialize_entry("created", &rfc3339(a.created_at))?;
        map.serialize_entry("lastModified", &rfc3339(a.updated_at))?;
        map.serialize_entry("location", &format!("{}{BASE}/Users/{}", self.0.origin, a.id))?;
        map.serialize_entry("version", &version(a))?;
        map.end()
    }
}

impl Serialize for UserResource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (a, kept) = (self.account, &self.extra.attributes);
        let mut map = s.serialize_map(None)?;
        if kept.contains_key(ENTERPRISE) {
            map.serialize_entry("schemas", &[USER_SCHEMA, ENTERPRISE])?;
        } else {
            map.serialize_entry("schemas", &[USER_SCHEMA])?;
        }
        map.serialize_entry("id", &a.id)?;
        if let Some(external_id) = &self.extra.external_id {
            map.serialize_entry("externalId", external_id)?;
        }
        map.serialize_entry("userName", &a.email)?;
        let name = Name {
            given_name: &a.name.first_name,
            family_name: &a.name.last_name,
        };
        map.serialize_entry("name", &name)?;
        map.serialize_entry("emails", &Emails(a, kept.get("emails")))?;
        map.serialize_entry("active", &a.active)?;
        for (key, value) in kept.iter().filter(|(k, _)| !CORE.contains(&k.as_str())) {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("meta", &Meta(self))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use onramp_domain::accounts::PersonName;
    use serde_json::json;

    use super::*;

    fn account() -> Account {
        Account {
            id: "0193a0e0-0000-7000-8000-000000000001".into(),
            env_id: "env".into(),
            email: "ann@example.com".into(),
            name: PersonName {
                first_name: "Ann".into(),
                last_name: "Lee".into(),
            },
            password_hash: String::new(),
            partner_id: None,
            active: false,
            created_at: 0,
            updated_at: 1_000,
        }
    }

    #[test]
    fn a_user_with_kept_attributes_is_the_document_scim_expects() {
        let account = account();
        let kept = json!({
            "emails": [{ "value": "ann@home.example", "type": "home" }],
            "title": "Chef",
            ENTERPRISE: { "department": "Ops" },
            "userName": "a kept attribute never replaces the account's",
        });
        let extra = ScimExtra {
            external_id: Some("ext-1".into()),
            attributes: kept.as_object().unwrap().clone(),
        };
        let resource = UserResource {
            origin: "https://api.acme.example.com",
            account: &account,
            extra: &extra,
        };
        let expected = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "id": "0193a0e0-0000-7000-8000-000000000001",
            "externalId": "ext-1",
            "userName": "ann@example.com",
            "name": { "givenName": "Ann", "familyName": "Lee" },
            "emails": [
                { "value": "ann@example.com", "type": "work", "primary": true },
                { "value": "ann@home.example", "type": "home", "primary": false },
            ],
            "active": false,
            "title": "Chef",
            ENTERPRISE: { "department": "Ops" },
            "meta": {
                "resourceType": "User",
                "created": "1970-01-01T00:00:00Z",
                "lastModified": "1970-01-01T00:00:01Z",
                "location": "https://api.acme.example.com/scim/v2/Users/0193a0e0-0000-7000-8000-000000000001",
                "version": "W/\"1000\"",
            },
        });
        assert_eq!(resource.to_value(), expected);
        // Whole, it is written without a tree, to the same document.
        let whole = serde_json::to_string(&resource.shaped(&Projection::default())).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&whole).unwrap(), expected);
    }

    #[test]
    fn a_user_without_kept_attributes_has_one_schema_and_one_email() {
        let account = account();
        let extra = ScimExtra::default();
        let value = UserResource {
            origin: "http://x",
            account: &account,
            extra: &extra,
        }
        .to_value();
        assert_eq!(value["schemas"], json!([USER_SCHEMA]));
        assert_eq!(value["emails"].as_array().map(Vec::len), Some(1));
        assert_eq!(value.get("externalId"), None);
    }
}
