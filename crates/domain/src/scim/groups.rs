//! SCIM Groups (RFC 7643 §4.2) over the groups context: which groups a
//! filter asks for, a group from a POST or PUT body, and the group change a
//! PATCH resolves to (see [`groups_patch`](super::groups_patch)).
//!
//! Members are `{"value": <account id>, ...}`; `display`, `$ref` and `type`
//! are ignored when read (a tolerant reader), as are attributes and schema
//! URNs this server does not keep (Microsoft's group schema URN, `meta`).
//! A member id that is no User of the environment is refused with
//! `invalidValue` on create, PUT and PATCH `add` — Okta and Entra provision
//! a User before they push it into a group, so an unknown id means the two
//! sides disagree, which a silent skip would hide — and ignored by `remove`.

use serde_json::{Map, Value};

use crate::error::{DomainError, FieldCode, FieldError};
use crate::groups::NewGroup;
use crate::groups::service::Groups;
use crate::groups::store::{GroupChange, GroupQuery, MemberOp};
use crate::ids::{AccountId, GroupId};
use crate::scim::groups_patch::GroupEdit;
use crate::scim::query::{Attributes, Kind, Query, Unsupported};
use crate::scim::{AttrPath, CompValue, CompareOp, Filter};
use crate::tenancy::Tenant;

/// The Group attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupAttr {
    /// Compared case-insensitively, as its uniqueness is.
    DisplayName,
    Id,
    ExternalId,
    Created,
    LastModified,
    Members,
    /// A member's account id.
    MemberValue,
    /// A member's email.
    MemberDisplay,
}

impl Attributes for GroupAttr {
    fn resolve(path: &AttrPath) -> Option<(Option<Self>, Self)> {
        if !path.is_core() {
            return None;
        }
        let plain = |attr| Some((None, attr));
        match (path.name.as_str(), path.sub.as_deref()) {
            ("displayname", None) => plain(GroupAttr::DisplayName),
            ("id", None) => plain(GroupAttr::Id),
            ("externalid", None) => plain(GroupAttr::ExternalId),
            ("meta", Some("created")) => plain(GroupAttr::Created),
            ("meta", Some("lastmodified")) => plain(GroupAttr::LastModified),
            ("members", None) => plain(GroupAttr::Members),
            ("members", Some(sub)) => Some((Some(GroupAttr::Members), Self::sub(GroupAttr::Members, sub)?)),
            _ => None,
        }
    }

    fn sub(parent: Self, name: &str) -> Option<Self> {
        match (parent, name.to_ascii_lowercase().as_str()) {
            (GroupAttr::Members, "value") => Some(GroupAttr::MemberValue),
            (GroupAttr::Members, "display") => Some(GroupAttr::MemberDisplay),
            _ => None,
        }
    }

    fn kind(self) -> Kind {
        match self {
            GroupAttr::Id | GroupAttr::ExternalId | GroupAttr::MemberValue => Kind::Text { case_exact: true },
            GroupAttr::Created | GroupAttr::LastModified => Kind::Instant,
            GroupAttr::Members => Kind::Multi,
            GroupAttr::DisplayName | GroupAttr::MemberDisplay => Kind::Text { case_exact: false },
        }
    }

    fn supported() -> &'static str {
        "displayName, id, externalId, members (value, display), meta.created and meta.lastModified"
    }
}

/// The groups `filter` asks for (none: every group).
///
/// # Errors
/// [`Unsupported`] for what this server cannot answer exactly.
pub fn group_query(filter: Option<&Filter>) -> Result<GroupQuery, Unsupported> {
    Ok(GroupQuery {
        filter: filter.map(Query::resolve).transpose()?,
    })
}

/// A member's account id as sent: a UUID in canonical form, or kept as is
/// (it then names no account).
pub(crate) fn member_id(raw: &str) -> AccountId {
    AccountId::parse("value", raw).unwrap_or_else(|_| AccountId::new(raw))
}

/// The member ids of a `members` value: a list of `{"value": …}` (or one).
///
/// # Errors
/// `invalidValue` for an entry without a string `value`.
pub(crate) fn member_ids(value: &Value) -> Result<Vec<AccountId>, String> {
    let entries = match value {
        Value::Array(items) => items.as_slice(),
        Value::Null => &[],
        other => std::slice::from_ref(other),
    };
    entries
        .iter()
        .map(|entry| {
            let id = match entry {
                Value::Object(fields) => get(fields, "value").and_then(Value::as_str),
                _ => None,
            };
            id.map(member_id)
                .ok_or_else(|| "each member is an object with a string `value` (a User id)".to_owned())
        })
        .collect()
}

/// The group a POST or PUT body describes.
///
/// # Errors
/// `Validation` for a missing or bad `displayName`, `externalId` or `members`.
pub fn group_from_body(body: &Value) -> Result<NewGroup, DomainError> {
    let Value::Object(fields) = body else {
        return Err(invalid("body", "a Group must be a JSON object"));
    };
    let display_name = match get(fields, "displayName") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(invalid("displayName", "displayName is required and must be a string")),
    };
    let external_id = match get(fields, "externalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid("externalId", "externalId must be a string")),
    };
    let members = member_ids(get(fields, "members").unwrap_or(&Value::Null)).map_err(|m| invalid("members", &m))?;
    Ok(NewGroup {
        display_name,
        external_id,
        members,
    })
}

/// The change a PUT makes: every attribute replaced, an omitted
/// `externalId` or `members` removed (RFC 7644 §3.5.1).
///
/// # Errors
/// As [`group_from_body`].
pub fn replacement(body: &Value, expected_version: Option<i64>) -> Result<GroupChange, DomainError> {
    let new = group_from_body(body)?;
    Ok(GroupChange {
        expected_version,
        display_name: Some(new.display_name),
        external_id: Some(new.external_id),
        members: vec![MemberOp::Clear, MemberOp::Add(new.members)],
        at: 0,
    })
}

/// The change PATCH edits make. A `remove` whose filter is not
/// `value eq "…"` (or an `or` of those) is evaluated against the members.
///
/// # Errors
/// Storage failures.
pub async fn patch_change(
    groups: &Groups,
    tenant: &Tenant,
    id: &GroupId,
    edits: Vec<GroupEdit>,
    expected_version: Option<i64>,
) -> Result<GroupChange, DomainError> {
    let mut change = GroupChange {
        expected_version,
        ..GroupChange::default()
    };
    let mut members = None;
    for edit in edits {
        match edit {
            GroupEdit::DisplayName(name) => change.display_name = Some(name),
            GroupEdit::ExternalId(external_id) => change.external_id = Some(external_id),
            GroupEdit::Members(op) => change.members.push(op),
            GroupEdit::RemoveWhere(filter) => {
                let ids = match listed_ids(&filter) {
                    Some(ids) => ids,
                    None => {
                        if members.is_none() {
                            members = Some(
                                groups
                                    .members_of(tenant, std::slice::from_ref(id))
                                    .await?
                                    .remove(id)
                                    .unwrap_or_default(),
                            );
                        }
                        let matching = members.iter().flatten().filter(|m| {
                            let value = serde_json::json!({ "value": m.account_id, "display": m.email, "type": "User" });
                            filter.matches(&value)
                        });
                        matching.map(|m| m.account_id.clone()).collect()
                    }
                };
                change.members.push(MemberOp::Remove(ids));
            }
        }
    }
    Ok(change)
}

/// The ids of `value eq "…"`, or of an `or` of such comparisons: the
/// filter Okta sends, answered without reading the members.
fn listed_ids(filter: &Filter) -> Option<Vec<AccountId>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(value),
        } if path.is("value") => Some(vec![member_id(value)]),
        Filter::Or(operands) => operands.iter().map(listed_ids).collect::<Option<Vec<_>>>().map(|l| l.concat()),
        _ => None,
    }
}

/// The member `key` of an object, matched in any casing.
pub(crate) fn get<'v>(fields: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    fields
        .get(key)
        .or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn invalid(field: &str, message: &str) -> DomainError {
    DomainError::Validation(vec![FieldError::new(field, FieldCode::InvalidType, message)])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn query(filter: &str) -> Result<GroupQuery, Unsupported> {
        group_query(Some(&Filter::parse(filter).unwrap()))
    }

    #[test]
    fn filters_resolve_against_group_attributes_or_are_refused() {
        let id = "0195f6a2-7c1e-7000-8000-000000000001";
        for answered in [
            "displayName eq \"Sales\"",
            "displayName co \"S\" or externalId pr",
            "EXTERNALID eq \"x1\"",
            &format!("members.value eq \"{id}\""),
            &format!("members[value eq \"{id}\"]"),
            "members[display ew \"@example.com\"]",
            "meta.lastModified gt \"2026-01-01T00:00:00Z\"",
        ] {
            assert!(query(answered).unwrap().filter.is_some(), "{answered}");
        }
        for refused in [
            "userName eq \"a\"",
            "members.type eq \"x\"",
            "displayName gt 3",
            "meta.created co \"x\"",
        ] {
            assert!(query(refused).is_err(), "{refused}");
        }
        assert_eq!(group_query(None).unwrap(), GroupQuery::default());
    }

    #[test]
    fn bodies_are_read_tolerantly() {
        let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"],
            "displayName": "Sales", "externalId": "e1", "meta": { "resourceType": "Group" },
            "members": [{ "value": "0195F6A2-7C1E-7000-8000-000000000001", "display": "a@b.co", "$ref": null }] });
        let group = group_from_body(&body).unwrap();
        assert_eq!(group.display_name, "Sales");
        assert_eq!(group.members, vec![AccountId::new("0195f6a2-7c1e-7000-8000-000000000001")]);
        assert!(group_from_body(&json!({ "externalId": "x" })).is_err());
        assert!(group_from_body(&json!({ "displayName": "x", "members": ["id"] })).is_err());
        let put = replacement(&json!({ "displayName": "x" }), Some(3)).unwrap();
        assert_eq!(put.external_id, Some(None));
        assert_eq!(put.members, vec![MemberOp::Clear, MemberOp::Add(Vec::new())]);
    }
}
