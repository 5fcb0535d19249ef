//! A User PATCH (RFC 7644 §3.5.2) as the account changes it asks for, in
//! every form Okta and Microsoft Entra ID send: ops in any case (`Replace`),
//! booleans as `true` or `"True"`, a path (`active`, `name.givenName`,
//! `emails[type eq "work"].value`) or none with a value object whose keys
//! may be dotted (`"name.givenName"`) or URN-prefixed. Attributes Onramp
//! does not keep are ignored (a tolerant reader); read-only ones refused.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::accounts::service::AccountChanges;
use crate::infra::secret::Secret;
use crate::scim::{AttrPath, PatchPath};

/// A PATCH body: `{ "schemas": [PatchOp], "Operations": [...] }`.
#[derive(Debug, Deserialize)]
pub struct PatchRequest {
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<PatchOperation>,
}

/// One operation; `op` in any case.
#[derive(Debug, Deserialize)]
pub struct PatchOperation {
    pub op: String,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// Why a PATCH cannot be applied, as SCIM's `scimType` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// `invalidSyntax`: an unknown op, an op without what it needs.
    Syntax(String),
    /// `invalidPath` (or `invalidFilter` inside brackets).
    Path(String),
    /// `invalidValue`: a value of the wrong type.
    Value(String),
    /// `mutability`: a read-only attribute.
    Mutability(String),
}

/// The account changes the operations ask for, applied in order.
///
/// # Errors
/// [`PatchError`] for the first operation that cannot be applied.
pub fn user_changes(request: &PatchRequest) -> Result<AccountChanges, PatchError> {
    let mut changes = AccountChanges::default();
    for op in &request.operations {
        match op.op.to_ascii_lowercase().as_str() {
            "add" | "replace" => {
                let value = op
                    .value
                    .as_ref()
                    .ok_or_else(|| PatchError::Syntax(format!("`{}` needs a value", op.op)))?;
                match op.path.as_deref().filter(|p| !p.trim().is_empty()) {
                    Some(path) => set_path(&mut changes, path, value)?,
                    None => set_object(&mut changes, value)?,
                }
            }
            "remove" => {
                let path = op
                    .path
                    .as_deref()
                    .ok_or_else(|| PatchError::Syntax("`remove` needs a path".into()))?;
                let attr = PatchPath::parse(path).map_err(|e| PatchError::Path(e.to_string()))?;
                if is_kept(attr.attr()) {
                    return Err(PatchError::Value(format!("`{path}` is required and cannot be removed")));
                }
                read_only(attr.attr())?;
            }
            other => return Err(PatchError::Syntax(format!("unknown op `{other}`: add, replace or remove"))),
        }
    }
    Ok(changes)
}

/// Whether Onramp keeps the attribute (the others are ignored).
fn is_kept(attr: &AttrPath) -> bool {
    ["active", "userName", "password", "emails", "name"]
        .iter()
        .any(|n| attr.is_core() && attr.name.eq_ignore_ascii_case(n))
}

fn read_only(attr: &AttrPath) -> Result<(), PatchError> {
    let fixed = ["id", "meta", "groups"]
        .iter()
        .any(|n| attr.is_core() && attr.name.eq_ignore_ascii_case(n));
    if fixed {
        return Err(PatchError::Mutability(format!("`{}` is read-only", attr.name)));
    }
    Ok(())
}

/// `replace` with a path.
fn set_path(changes: &mut AccountChanges, path: &str, value: &Value) -> Result<(), PatchError> {
    match PatchPath::parse(path).map_err(|e| PatchError::Path(e.to_string()))? {
        PatchPath::Attr(attr) => set_attr(changes, &attr, value),
        PatchPath::Filtered { attr, sub, .. } => {
            // `emails[type eq "work"].value`: the one email Onramp keeps.
            if attr.is("emails") && sub.as_deref().is_none_or(|s| s == "value") {
                let email = match value {
                    Value::Object(o) => o.get("value").cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                };
                changes.email = Some(string("emails", &email)?);
                return Ok(());
            }
            read_only(&attr)
        }
    }
}

/// `replace` without a path: each key of the object, dotted or prefixed.
fn set_object(changes: &mut AccountChanges, value: &Value) -> Result<(), PatchError> {
    let Value::Object(fields) = value else {
        return Err(PatchError::Value("a path-less operation needs an object value".into()));
    };
    for (key, value) in fields {
        let attr = AttrPath::parse(key).map_err(|e| PatchError::Path(e.to_string()))?;
        set_attr(changes, &attr, value)?;
    }
    Ok(())
}

fn set_attr(changes: &mut AccountChanges, attr: &AttrPath, value: &Value) -> Result<(), PatchError> {
    if !attr.is_core() {
        return Ok(()); // an extension's attribute: not kept
    }
    if attr.is("active") {
        changes.active = Some(boolean("active", value)?);
    } else if attr.is("userName") {
        changes.email = Some(string("userName", value)?);
    } else if attr.is("password") {
        changes.password = Some(Secret::new(string("password", value)?));
    } else if attr.is_sub("name", "givenName") {
        changes.first_name = Some(string("name.givenName", value)?);
    } else if attr.is_sub("name", "familyName") {
        changes.last_name = Some(string("name.familyName", value)?);
    } else if attr.is("name") {
        set_name(changes, value)?;
    } else if attr.is("emails") {
        if let Some(email) = primary_email(value) {
            changes.email = Some(email);
        }
    } else {
        read_only(attr)?;
    }
    Ok(())
}

fn set_name(changes: &mut AccountChanges, value: &Value) -> Result<(), PatchError> {
    let Value::Object(name) = value else {
        return Err(PatchError::Value("name must be an object".into()));
    };
    for (key, value) in name {
        if key.eq_ignore_ascii_case("givenName") {
            changes.first_name = Some(string("name.givenName", value)?);
        } else if key.eq_ignore_ascii_case("familyName") {
            changes.last_name = Some(string("name.familyName", value)?);
        }
    }
    Ok(())
}

/// The primary entry of an `emails` list, or the `work` one, or the only one.
fn primary_email(value: &Value) -> Option<String> {
    let list: Vec<&Map<String, Value>> = value.as_array()?.iter().filter_map(Value::as_object).collect();
    let flag = |e: &&&Map<String, Value>| e.get("primary").is_some_and(|p| boolean("primary", p).unwrap_or(false));
    let work = |e: &&&Map<String, Value>| {
        e.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("work"))
    };
    let only = list.first().filter(|_| list.len() == 1);
    let chosen = list.iter().find(flag).or_else(|| list.iter().find(work)).or(only)?;
    chosen.get("value").and_then(Value::as_str).map(str::to_owned)
}

fn string(name: &str, value: &Value) -> Result<String, PatchError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PatchError::Value(format!("{name} must be a string")))
}

/// A JSON boolean, or Entra's `"True"` / `"False"`.
fn boolean(name: &str, value: &Value) -> Result<bool, PatchError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(PatchError::Value(format!("{name} must be a boolean"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn changes(body: Value) -> Result<AccountChanges, PatchError> {
        user_changes(&serde_json::from_value(body).unwrap())
    }

    #[test]
    fn okta_and_entra_bodies_become_account_changes() {
        let okta = changes(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "value": { "active": false } }] }))
        .unwrap();
        assert_eq!(okta.active, Some(false));
        let entra = changes(json!({ "Operations": [{ "op": "Replace", "path": "active", "value": "False" }] })).unwrap();
        assert_eq!(entra.active, Some(false));
        let entra = changes(json!({ "Operations": [{ "op": "Replace", "value": {
            "name.givenName": "Ann", "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName": "Lee",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales", "displayName": "Ann Lee",
            "active": "True" } }] }))
        .unwrap();
        assert_eq!(
            (entra.first_name.as_deref(), entra.last_name.as_deref(), entra.active),
            (Some("Ann"), Some("Lee"), Some(true))
        );
        let mail =
            changes(json!({ "Operations": [{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@b.co" }] })).unwrap();
        assert_eq!(mail.email.as_deref(), Some("a@b.co"));
        let list = changes(json!({ "Operations": [{ "op": "add", "path": "emails",
            "value": [{ "value": "x@b.co", "type": "home" }, { "value": "p@b.co", "primary": "true" }] }] }))
        .unwrap();
        assert_eq!(list.email.as_deref(), Some("p@b.co"));
        let name = changes(json!({ "Operations": [{ "op": "replace", "path": "name", "value": { "givenName": "Bo" } }] })).unwrap();
        assert_eq!((name.first_name.as_deref(), name.last_name), (Some("Bo"), None));
        // Attributes not kept are ignored; removing them is accepted.
        let ignored =
            changes(json!({ "Operations": [{ "op": "remove", "path": "title" }, { "op": "add", "path": "roles", "value": [] }] })).unwrap();
        assert_eq!(ignored, AccountChanges::default());
    }

    #[test]
    fn bad_operations_say_why() {
        let err = |body| changes(body).unwrap_err();
        assert!(matches!(
            err(json!({ "Operations": [{ "op": "move", "path": "active", "value": true }] })),
            PatchError::Syntax(_)
        ));
        assert!(matches!(
            err(json!({ "Operations": [{ "op": "replace", "path": "active" }] })),
            PatchError::Syntax(_)
        ));
        assert!(matches!(
            err(json!({ "Operations": [{ "op": "replace", "path": "active", "value": "maybe" }] })),
            PatchError::Value(_)
        ));
        assert!(matches!(
            err(json!({ "Operations": [{ "op": "replace", "path": "id", "value": "x" }] })),
            PatchError::Mutability(_)
        ));
        assert!(matches!(
            err(json!({ "Operations": [{ "op": "replace", "path": "a[b", "value": "x" }] })),
            PatchError::Path(_)
        ));
        assert!(matches!(
            err(json!({ "Operations": [{ "op": "remove", "path": "userName" }] })),
            PatchError::Value(_)
        ));
    }
}
