//! Where each User and Group attribute a filter may name is read in SQL:
//! Users from `accounts a LEFT JOIN scim_users s`, Groups from
//! `account_groups g`.

use onramp_domain::accounts::canonical_email;
use onramp_domain::groups::display_key;
use onramp_domain::scim::groups::GroupAttr;
use onramp_domain::scim::query::Query;
use onramp_domain::scim::users::UserAttr;

use super::filter_sql::{Columns, Scope, Writer};
use crate::Backend;

impl Columns for UserAttr {
    fn column(self, scope: Scope, backend: Backend) -> String {
        let element = |key: &str| match backend {
            Backend::Sqlite => format!("json_extract(j.value, '$.{key}')"),
            Backend::Postgres => format!("(j.e ->> '{key}')"),
        };
        match (self, scope) {
            (UserAttr::EmailValue, Scope::PrimaryEmail) => "a.email".into(),
            (UserAttr::EmailType, Scope::PrimaryEmail) => "'work'".into(),
            (UserAttr::EmailPrimary, Scope::PrimaryEmail) => "1".into(),
            (UserAttr::EmailValue, _) => element("value"),
            (UserAttr::EmailType, _) => element("type"),
            (UserAttr::EmailPrimary, _) => "0".into(),
            (UserAttr::UserName, _) => "a.email".into(),
            (UserAttr::Id, _) => "a.id".into(),
            (UserAttr::ExternalId, _) => "s.external_id".into(),
            (UserAttr::GivenName, _) => "a.first_name".into(),
            (UserAttr::FamilyName, _) => "a.last_name".into(),
            (UserAttr::DisplayName, _) => match backend {
                Backend::Sqlite => "json_extract(s.attributes, '$.displayName')".into(),
                Backend::Postgres => "(s.attributes::jsonb ->> 'displayName')".into(),
            },
            (UserAttr::Active, _) => "a.active".into(),
            (UserAttr::Created, _) => "a.created_at".into(),
            (UserAttr::LastModified, _) => "a.updated_at".into(),
            // Resolution only ever puts `emails` in a `Within`.
            (UserAttr::Emails, _) => "NULL".into(),
        }
    }

    fn indexed_eq(self, scope: Scope, text: &str) -> Option<(&'static str, String)> {
        // The unique index holds the canonical form.
        (self == UserAttr::UserName && scope == Scope::Row).then(|| ("a.email_normalized", canonical_email(text)))
    }

    fn within(w: &mut Writer, _emails: Self, query: &Query<Self>) -> String {
        // `emails` is the only multi-valued User attribute: the primary one
        // or one of the others kept.
        let primary = w.condition(query, Scope::PrimaryEmail);
        let kept = w.condition(query, Scope::KeptEmail);
        let others = match w.backend() {
            Backend::Sqlite => "json_each(s.attributes, '$.emails') j",
            Backend::Postgres => {
                "jsonb_array_elements(CASE WHEN jsonb_typeof(s.attributes::jsonb -> 'emails') = 'array' \
                 THEN s.attributes::jsonb -> 'emails' ELSE '[]'::jsonb END) AS j(e)"
            }
        };
        format!("(({primary}) OR EXISTS (SELECT 1 FROM {others} WHERE {kept}))")
    }
}

impl Columns for GroupAttr {
    fn column(self, _scope: Scope, _backend: Backend) -> String {
        match self {
            // Lowercased when stored; compared values are lowercased alike.
            GroupAttr::DisplayName => "g.display_key".into(),
            GroupAttr::Id => "g.id".into(),
            GroupAttr::ExternalId => "g.external_id".into(),
            GroupAttr::Created => "g.created_at".into(),
            GroupAttr::LastModified => "g.updated_at".into(),
            GroupAttr::MemberValue => "m.account_id".into(),
            GroupAttr::MemberDisplay => "ma.email".into(),
            GroupAttr::Members => "NULL".into(),
        }
    }

    fn indexed_eq(self, _scope: Scope, text: &str) -> Option<(&'static str, String)> {
        (self == GroupAttr::DisplayName).then(|| ("g.display_key", display_key(text)))
    }

    fn within(w: &mut Writer, _members: Self, query: &Query<Self>) -> String {
        let inner = w.condition(query, Scope::Member);
        format!(
            "EXISTS (SELECT 1 FROM group_members m JOIN accounts ma ON ma.env_id = m.env_id AND ma.id = m.account_id \
             WHERE m.env_id = g.env_id AND m.group_id = g.id AND {inner})"
        )
    }
}
