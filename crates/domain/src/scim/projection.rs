//! `attributes` and `excludedAttributes` (RFC 7644 §3.9): which attributes
//! of a resource an answer carries. `id` and `schemas` are always returned.
//! Names are case-insensitive, may name a sub-attribute (`name.givenName`)
//! or an extension's attribute by its URN
//! (`urn:…:enterprise:2.0:User:department`), or a whole extension.

use serde_json::{Map, Value};

use crate::scim::{AttrPath, PathError};

/// Always in an answer, whatever was asked.
const ALWAYS: [&str; 2] = ["id", "schemas"];

/// Which attributes to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    include: Vec<Name>,
    exclude: Vec<Name>,
}

/// An attribute as the projection names it: a top-level key (core or a
/// whole extension), an extension's attribute, and maybe a sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    /// The extension's URN when the attribute lives in one.
    extension: Option<String>,
    attr: String,
    sub: Option<String>,
}

impl Projection {
    /// From the two parameters' values, each a comma-separated list.
    ///
    /// # Errors
    /// [`PathError`] for a name that is not an attribute path.
    pub fn parse(attributes: &[String], excluded: &[String]) -> Result<Self, PathError> {
        Ok(Self {
            include: names(attributes)?,
            exclude: names(excluded)?,
        })
    }

    /// Whether it asks for nothing but what is always returned.
    pub fn is_all(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether an answer carries the top-level attribute `name` (at least in
    /// part), so that what it leaves out need not be read at all
    /// (`excludedAttributes=members` on a group of thousands).
    pub fn includes(&self, name: &str) -> bool {
        if ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            return true;
        }
        let top = |n: &Name| n.extension.as_deref().unwrap_or(&n.attr).eq_ignore_ascii_case(name);
        if !self.include.is_empty() && !self.include.iter().any(top) {
            return false;
        }
        !self.exclude.iter().any(|n| n.whole() && top(n))
    }

    /// Keeps what the projection asks for in `resource` (a JSON object).
    pub fn apply(&self, resource: &mut Value) {
        let Value::Object(fields) = resource else { return };
        if !self.include.is_empty() {
            let kept: Map<String, Value> = fields
                .iter()
                .filter_map(|(key, value)| self.included(key, value).map(|v| (key.clone(), v)))
                .collect();
            *fields = kept;
        }
        for name in &self.exclude {
            remove(fields, name);
        }
    }

    /// The part of `key`'s value that `include` keeps, if any.
    fn included(&self, key: &str, value: &Value) -> Option<Value> {
        if ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(key)) {
            return Some(value.clone());
        }
        let asked: Vec<&Name> = self
            .include
            .iter()
            .filter(|n| n.extension.as_deref().unwrap_or(&n.attr).eq_ignore_ascii_case(key))
            .collect();
        if asked.is_empty() {
            return None;
        }
        // The whole attribute, or only the sub-attributes (or extension
        // attributes) asked for.
        if asked.iter().any(|n| n.whole()) {
            return Some(value.clone());
        }
        let Value::Object(inner) = value else {
            return Some(value.clone());
        };
        let parts: Map<String, Value> = inner
            .iter()
            .filter(|(k, _)| asked.iter().any(|n| n.inner().is_some_and(|i| i.eq_ignore_ascii_case(k))))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(Value::Object(parts))
    }
}

impl Name {
    /// Names a whole top-level key.
    fn whole(&self) -> bool {
        self.extension.is_none() && self.sub.is_none()
    }

    /// The name inside the top-level key: a core attribute's sub-attribute,
    /// or an extension's attribute.
    fn inner(&self) -> Option<&str> {
        match &self.extension {
            Some(_) => Some(&self.attr),
            None => self.sub.as_deref(),
        }
    }
}

fn remove(fields: &mut Map<String, Value>, name: &Name) {
    let top = name.extension.as_deref().unwrap_or(&name.attr);
    if ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(top)) && name.whole() {
        return;
    }
    let Some(key) = fields.keys().find(|k| k.eq_ignore_ascii_case(top)).cloned() else {
        return;
    };
    match name.inner() {
        None => {
            fields.remove(&key);
        }
        Some(inner) => {
            if let Some(Value::Object(obj)) = fields.get_mut(&key)
                && let Some(k) = obj.keys().find(|k| k.eq_ignore_ascii_case(inner)).cloned()
            {
                obj.remove(&k);
            }
        }
    }
}

fn names(values: &[String]) -> Result<Vec<Name>, PathError> {
    let mut out = Vec::new();
    for raw in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        out.push(name(raw)?);
    }
    Ok(out)
}

/// A whole extension (`urn:…:enterprise:2.0:User`) is a top-level key; any
/// other name is an attribute path.
fn name(raw: &str) -> Result<Name, PathError> {
    if raw.to_ascii_lowercase().starts_with("urn:") && raw.rsplit(':').next().is_some_and(|last| last.eq_ignore_ascii_case("User")) {
        return Ok(Name {
            extension: None,
            attr: raw.to_owned(),
            sub: None,
        });
    }
    let path = AttrPath::parse(raw)?;
    let extension = path.schema.clone().filter(|_| !path.is_core());
    Ok(Name {
        extension,
        attr: path.name.clone(),
        sub: path.sub.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "a@b.co",
            "name": { "givenName": "A", "familyName": "B" }, "active": true, "meta": { "resourceType": "User" },
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Ops", "employeeNumber": "7" }
        })
    }

    fn project(include: &[&str], exclude: &[&str]) -> Value {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut u = user();
        Projection::parse(&owned(include), &owned(exclude)).unwrap().apply(&mut u);
        u
    }

    #[test]
    fn attributes_keep_what_is_asked_and_id_and_schemas() {
        let u = project(&["userName", "NAME.givenName"], &[]);
        assert_eq!(
            u,
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "a@b.co", "name": { "givenName": "A" } })
        );
        let u = project(&["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"], &[]);
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            json!({ "department": "Ops" })
        );
        assert!(u.get("userName").is_none());
        let u = project(&["userName,active"], &[]);
        assert_eq!((u["active"].clone(), u.get("name")), (json!(true), None));
    }

    #[test]
    fn excluded_attributes_drop_what_is_named_but_never_id() {
        let u = project(
            &[],
            &[
                "name.familyName",
                "meta",
                "id",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ],
        );
        assert_eq!(u["name"], json!({ "givenName": "A" }));
        assert!(u.get("meta").is_none() && u.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").is_none());
        assert_eq!(u["id"], "u1");
        assert_eq!(
            project(&[], &["members"]),
            user(),
            "an attribute the resource lacks changes nothing"
        );
        assert!(Projection::parse(&["a[b".into()], &[]).is_err());
    }

    #[test]
    fn includes_tells_whether_an_attribute_is_answered() {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let p = |i: &[&str], e: &[&str]| Projection::parse(&owned(i), &owned(e)).unwrap();
        assert!(p(&[], &[]).includes("members"));
        assert!(!p(&[], &["Members"]).includes("members"));
        assert!(p(&[], &["members.display"]).includes("members"));
        assert!(!p(&["displayName"], &[]).includes("members"));
        assert!(p(&["members.value"], &[]).includes("members"));
        assert!(p(&[], &["id"]).includes("id"));
    }
}
