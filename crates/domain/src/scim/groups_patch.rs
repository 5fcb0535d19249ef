//! A Group PATCH (RFC 7644 §3.5.2) as edits, in every form Okta and
//! Microsoft Entra ID send: ops in any case; members `add` with a list,
//! `remove` with `members[value eq "…"]` (Okta) or with `path: "members"`
//! and a value list (Entra), `replace` of `members`; Okta's rename
//! `{"op":"replace","value":{"id":"…","displayName":"…"}}` and Entra's
//! `{"op":"Replace","path":"displayName","value":"…"}`. Attributes Onramp
//! does not keep are ignored; `id` and `meta` are read-only.

use serde_json::Value;

use crate::groups::store::MemberOp;
use crate::ids::GroupId;
use crate::scim::groups::member_ids;
use crate::scim::patch::{PatchError, PatchRequest};
use crate::scim::{AttrPath, Filter, PatchPath};

/// One change a PATCH operation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupEdit {
    DisplayName(String),
    /// `None` removes it.
    ExternalId(Option<String>),
    Members(MemberOp),
    /// Removes the members that match (`members[filter]`).
    RemoveWhere(Filter),
}

/// The edits the operations ask for, in order, on the group `id`.
///
/// # Errors
/// [`PatchError`] for the first operation that cannot be applied.
pub fn group_edits(request: &PatchRequest, id: &GroupId) -> Result<Vec<GroupEdit>, PatchError> {
    let mut edits = Vec::new();
    for op in &request.operations {
        let kind = op.op.to_ascii_lowercase();
        let path = op.path.as_deref().filter(|p| !p.trim().is_empty());
        match kind.as_str() {
            "add" | "replace" => {
                let replace = kind == "replace";
                let value = op
                    .value
                    .as_ref()
                    .ok_or_else(|| PatchError::Syntax(format!("`{}` needs a value", op.op)))?;
                match path {
                    Some(path) => match parse(path)? {
                        PatchPath::Attr(attr) => set(&mut edits, &attr, value, replace, id)?,
                        PatchPath::Filtered { attr, .. } => {
                            read_only(&attr)?;
                            if attr.is("members") {
                                return Err(PatchError::Path(format!(
                                    "`{}` with `{path}`: add or replace `members` with a list of {{\"value\": …}}",
                                    op.op
                                )));
                            }
                        }
                    },
                    None => {
                        let Value::Object(fields) = value else {
                            return Err(PatchError::Value("a path-less operation needs an object value".into()));
                        };
                        for (key, value) in fields {
                            let attr = AttrPath::parse(key).map_err(|e| PatchError::Path(e.to_string()))?;
                            // A tolerant reader: a body's `meta` and `schemas` say nothing to change.
                            if !(attr.is("meta") || attr.is("schemas")) {
                                set(&mut edits, &attr, value, replace, id)?;
                            }
                        }
                    }
                }
            }
            "remove" => {
                let path = path.ok_or_else(|| PatchError::Syntax("`remove` needs a path".into()))?;
                remove(&mut edits, parse(path)?, op.value.as_ref())?;
            }
            other => return Err(PatchError::Syntax(format!("unknown op `{other}`: add, replace or remove"))),
        }
    }
    Ok(edits)
}

fn parse(path: &str) -> Result<PatchPath, PatchError> {
    PatchPath::parse(path).map_err(|e| PatchError::Path(e.to_string()))
}

/// `add` or `replace` of one attribute.
fn set(edits: &mut Vec<GroupEdit>, attr: &AttrPath, value: &Value, replace: bool, id: &GroupId) -> Result<(), PatchError> {
    if !attr.is_core() {
        return Ok(()); // an extension's attribute: not kept
    }
    if attr.is("id") {
        // Okta's rename sends the group's own id alongside the new name.
        if value.as_str() == Some(id.as_str()) {
            return Ok(());
        }
        return Err(PatchError::Mutability("`id` is read-only".into()));
    }
    read_only(attr)?;
    if attr.is("displayName") {
        let name = value
            .as_str()
            .ok_or_else(|| PatchError::Value("displayName must be a string".into()))?;
        edits.push(GroupEdit::DisplayName(name.to_owned()));
    } else if attr.is("externalId") {
        let external_id = match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err(PatchError::Value("externalId must be a string".into())),
        };
        edits.push(GroupEdit::ExternalId(external_id));
    } else if attr.is("members") {
        let ids = member_ids(value).map_err(PatchError::Value)?;
        if replace {
            edits.push(GroupEdit::Members(MemberOp::Clear));
        }
        edits.push(GroupEdit::Members(MemberOp::Add(ids)));
    }
    Ok(())
}

/// `remove`: members (all, a listed few, or those a filter matches), the
/// external id; `displayName` is required.
fn remove(edits: &mut Vec<GroupEdit>, path: PatchPath, value: Option<&Value>) -> Result<(), PatchError> {
    read_only(path.attr())?;
    match path {
        PatchPath::Filtered { attr, filter, sub } if attr.is("members") => {
            if sub.is_some() {
                return Err(PatchError::Path("remove `members[…]` itself, not one of its sub-attributes".into()));
            }
            edits.push(GroupEdit::RemoveWhere(filter));
        }
        PatchPath::Attr(attr) if attr.is("members") => match value {
            // Entra: `{"op":"Remove","path":"members","value":[{"value":"…"}]}`.
            Some(value) if !value.is_null() => {
                edits.push(GroupEdit::Members(MemberOp::Remove(member_ids(value).map_err(PatchError::Value)?)));
            }
            _ => edits.push(GroupEdit::Members(MemberOp::Clear)),
        },
        PatchPath::Attr(attr) if attr.is("externalId") => edits.push(GroupEdit::ExternalId(None)),
        PatchPath::Attr(attr) if attr.is("displayName") => {
            return Err(PatchError::Value("displayName is required and cannot be removed".into()));
        }
        _ => {} // not kept: nothing to remove
    }
    Ok(())
}

fn read_only(attr: &AttrPath) -> Result<(), PatchError> {
    if attr.is_core() && (attr.name.eq_ignore_ascii_case("id") || attr.name.eq_ignore_ascii_case("meta")) {
        return Err(PatchError::Mutability(format!("`{}` is read-only", attr.name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::AccountId;

    const GROUP: &str = "0195f6a2-7c1e-7000-8000-0000000000aa";
    const A: &str = "0195f6a2-7c1e-7000-8000-000000000001";
    const B: &str = "0195f6a2-7c1e-7000-8000-000000000002";

    fn edits(ops: Value) -> Result<Vec<GroupEdit>, PatchError> {
        let request =
            serde_json::from_value(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops })).unwrap();
        group_edits(&request, &GroupId::new(GROUP))
    }

    fn ids(list: &[&str]) -> Vec<AccountId> {
        list.iter().map(|s| AccountId::new(*s)).collect()
    }

    #[test]
    fn okta_bodies() {
        let rename = edits(json!([{ "op": "replace", "value": { "id": GROUP, "displayName": "New" } }])).unwrap();
        assert_eq!(rename, vec![GroupEdit::DisplayName("New".into())]);
        let add = edits(json!([{ "op": "add", "path": "members", "value": [{ "value": A, "display": "a@b.co" }] }])).unwrap();
        assert_eq!(add, vec![GroupEdit::Members(MemberOp::Add(ids(&[A])))]);
        let remove = edits(json!([{ "op": "remove", "path": format!("members[value eq \"{A}\"]") }])).unwrap();
        assert!(matches!(&remove[..], [GroupEdit::RemoveWhere(_)]));
        let replace = edits(json!([{ "op": "replace", "path": "members", "value": [{ "value": B }] }])).unwrap();
        assert_eq!(
            replace,
            vec![GroupEdit::Members(MemberOp::Clear), GroupEdit::Members(MemberOp::Add(ids(&[B])))]
        );
    }

    #[test]
    fn entra_bodies() {
        let add = edits(json!([{ "op": "Add", "path": "members", "value": [{ "value": A }, { "value": B }] }])).unwrap();
        assert_eq!(add, vec![GroupEdit::Members(MemberOp::Add(ids(&[A, B])))]);
        let remove = edits(json!([{ "op": "Remove", "path": "members", "value": [{ "value": A }] }])).unwrap();
        assert_eq!(remove, vec![GroupEdit::Members(MemberOp::Remove(ids(&[A])))]);
        let rename = edits(json!([{ "op": "Replace", "path": "displayName", "value": "x" }])).unwrap();
        assert_eq!(rename, vec![GroupEdit::DisplayName("x".into())]);
        let ext = edits(
            json!([{ "op": "Replace", "path": "externalId", "value": "e" }, { "op": "add", "value": { "externalId": null, "meta": {} } }]),
        )
        .unwrap();
        assert_eq!(ext, vec![GroupEdit::ExternalId(Some("e".into())), GroupEdit::ExternalId(None)]);
        assert_eq!(
            edits(json!([{ "op": "remove", "path": "members" }])).unwrap(),
            vec![GroupEdit::Members(MemberOp::Clear)]
        );
        assert!(
            edits(json!([{ "op": "add", "path": "urn:x:custom:attr", "value": 1 }]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn refusals_say_why() {
        let err = |ops| edits(ops).unwrap_err();
        assert!(matches!(
            err(json!([{ "op": "replace", "path": "id", "value": "x" }])),
            PatchError::Mutability(_)
        ));
        assert!(matches!(
            err(json!([{ "op": "replace", "value": { "id": "other" } }])),
            PatchError::Mutability(_)
        ));
        assert!(matches!(
            err(json!([{ "op": "remove", "path": "meta" }])),
            PatchError::Mutability(_)
        ));
        assert!(matches!(
            err(json!([{ "op": "remove", "path": "displayName" }])),
            PatchError::Value(_)
        ));
        assert!(matches!(err(json!([{ "op": "copy", "path": "members" }])), PatchError::Syntax(_)));
        assert!(matches!(
            err(json!([{ "op": "add", "path": "members", "value": ["x"] }])),
            PatchError::Value(_)
        ));
        assert!(matches!(
            err(json!([{ "op": "remove", "path": "members[value eq" }])),
            PatchError::Path(_)
        ));
    }
}
