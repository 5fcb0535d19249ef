//! The part of a User PATCH that changes what SCIM keeps beside the account
//! (`externalId`, `displayName`, `title`, `phoneNumbers`, the enterprise
//! extension, …): Entra sends a department change as
//! `{"op":"Replace","path":"urn:…:enterprise:2.0:User:department","value":"Sales"}`,
//! a phone as `phoneNumbers[type eq "work"].value`. Applied to the stored
//! attributes, then checked for type and length as a POST's are.

use serde_json::{Map, Value};

use super::create::checked;
use super::patch::{PatchError, PatchRequest};
use super::store::ScimExtra;
use super::{AttrPath, ENTERPRISE_USER, Filter, PatchPath};

/// The attributes kept at the top level of a User, canonically spelled.
pub(crate) const KEPT: [&str; 8] = [
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "phoneNumbers",
];

/// The enterprise extension's attributes (RFC 7643 §4.3).
const ENTERPRISE_KEPT: [&str; 6] = ["employeeNumber", "costCenter", "organization", "division", "department", "manager"];

/// Applies the operations of `request` that touch kept attributes to
/// `extra`; returns whether anything changed. Operations on the account's
/// own attributes are [`super::patch::user_changes`]'s.
///
/// # Errors
/// [`PatchError`] for a path that cannot be applied.
fn apply(request: &PatchRequest, extra: &mut ScimExtra) -> Result<bool, PatchError> {
    let before = extra.clone();
    for op in &request.operations {
        let verb = op.op.to_ascii_lowercase();
        let path = op.path.as_deref().filter(|p| !p.trim().is_empty());
        match (verb.as_str(), path, &op.value) {
            ("remove", Some(path), _) => remove(extra, path)?,
            ("add" | "replace", Some(path), Some(value)) => set_path(extra, path, value)?,
            ("add" | "replace", None, Some(Value::Object(fields))) => {
                for (key, value) in fields {
                    let attr = AttrPath::parse(key).map_err(|e| PatchError::Path(e.to_string()))?;
                    set(extra, &attr, value);
                }
            }
            // `user_changes` refuses malformed operations.
            _ => {}
        }
    }
    Ok(*extra != before)
}

fn set_path(extra: &mut ScimExtra, path: &str, value: &Value) -> Result<(), PatchError> {
    match PatchPath::parse(path).map_err(|e| PatchError::Path(e.to_string()))? {
        PatchPath::Attr(attr) => set(extra, &attr, value),
        PatchPath::Filtered { attr, filter, sub } => {
            if let Some(key) = kept_key(&attr).filter(|k| *k == "phoneNumbers") {
                set_element(&mut extra.attributes, key, &filter, sub.as_deref(), value);
            }
        }
    }
    Ok(())
}

/// Sets the sub-attribute (or the whole) of the elements of a multi-valued
/// attribute that match `filter`; with none matching, adds one built from
/// the filter's `type eq "…"`, as Entra expects of `phoneNumbers[type eq "mobile"].value`.
fn set_element(attributes: &mut Map<String, Value>, key: &str, filter: &Filter, sub: Option<&str>, value: &Value) {
    let list = attributes.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    let Value::Array(items) = list else { return };
    let mut matched = false;
    for item in items.iter_mut().filter(|i| filter.matches(i)) {
        matched = true;
        put(item, sub, value);
    }
    if !matched {
        let mut item = Value::Object(Map::new());
        if let Filter::Compare {
            path,
            value: super::CompValue::String(kind),
            ..
        } = filter
            && path.name == "type"
        {
            item["type"] = Value::String(kind.clone());
        }
        put(&mut item, sub, value);
        items.push(item);
    }
}

fn put(item: &mut Value, sub: Option<&str>, value: &Value) {
    match (sub, item.as_object_mut()) {
        (Some(sub), Some(fields)) => {
            fields.insert(sub.to_owned(), value.clone());
        }
        (None, Some(fields)) => {
            if let Value::Object(members) = value {
                fields.extend(members.clone());
            }
        }
        (_, None) => {}
    }
}

/// Sets an attribute named by a plain path; one Onramp does not keep is
/// ignored.
fn set(extra: &mut ScimExtra, attr: &AttrPath, value: &Value) {
    if attr.is("externalId") {
        extra.external_id = value.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        return;
    }
    if attr.schema.as_deref() == Some(ENTERPRISE_USER) {
        set_enterprise(extra, &attr.name, attr.sub.as_deref(), value);
        return;
    }
    if let Some(key) = kept_key(attr) {
        match &attr.sub {
            None => extra.attributes.insert(key.to_owned(), value.clone()),
            Some(sub) => {
                let entry = extra.attributes.entry(key).or_insert_with(|| Value::Object(Map::new()));
                put(entry, Some(sub), value);
                None
            }
        };
    } else if attr.schema.is_none() && attr.name.eq_ignore_ascii_case(ENTERPRISE_USER) {
        // A path-less value's key that is the whole extension.
        if let Value::Object(members) = value {
            for (name, value) in members {
                set_enterprise(extra, name, None, value);
            }
        }
    }
}

fn set_enterprise(extra: &mut ScimExtra, name: &str, sub: Option<&str>, value: &Value) {
    let Some(key) = ENTERPRISE_KEPT.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
        return;
    };
    let extension = extra.attributes.entry(ENTERPRISE_USER).or_insert_with(|| Value::Object(Map::new()));
    let Some(fields) = extension.as_object_mut() else { return };
    // Entra sends `manager` as the manager's id itself.
    let value = match (*key, value, sub) {
        ("manager", Value::String(id), None) => serde_json::json!({ "value": id }),
        _ => value.clone(),
    };
    match sub {
        Some(sub) => put(fields.entry(*key).or_insert_with(|| Value::Object(Map::new())), Some(sub), &value),
        None => {
            fields.insert((*key).to_owned(), value);
        }
    }
}

fn remove(extra: &mut ScimExtra, path: &str) -> Result<(), PatchError> {
    let parsed = PatchPath::parse(path).map_err(|e| PatchError::Path(e.to_string()))?;
    let attr = parsed.attr();
    if attr.is("externalId") {
        extra.external_id = None;
    } else if attr.schema.as_deref() == Some(ENTERPRISE_USER) {
        if let Some(fields) = extra.attributes.get_mut(ENTERPRISE_USER).and_then(Value::as_object_mut) {
            fields.retain(|k, _| !k.eq_ignore_ascii_case(&attr.name));
        }
    } else if let Some(key) = kept_key(attr) {
        match &parsed {
            PatchPath::Filtered { filter, .. } => {
                if let Some(Value::Array(items)) = extra.attributes.get_mut(key) {
                    items.retain(|i| !filter.matches(i));
                }
            }
            PatchPath::Attr(_) => {
                extra.attributes.remove(key);
            }
        }
    }
    Ok(())
}

fn kept_key(attr: &AttrPath) -> Option<&'static str> {
    if !attr.is_core() {
        return None;
    }
    KEPT.into_iter().find(|k| k.eq_ignore_ascii_case(&attr.name))
}

/// `extra` after the operations of `request`, checked; `None` when they
/// change none of it.
///
/// # Errors
/// [`PatchError`] for a path that cannot be applied or an attribute too long.
pub fn patched(mut extra: ScimExtra, request: &PatchRequest) -> Result<Option<ScimExtra>, PatchError> {
    if !apply(request, &mut extra)? {
        return Ok(None);
    }
    checked(extra).map(Some).map_err(|e| PatchError::Value(e.message))
}
