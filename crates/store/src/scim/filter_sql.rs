//! A resolved SCIM filter ([`Query`]) as one SQL condition over
//! `accounts a LEFT JOIN scim_users s`, with its values bound, never spliced.
//!
//! Every condition it writes is true or false, never NULL (each comparison
//! first requires its column to be present), so `not (…)` negates exactly
//! as the filter evaluator does: an absent attribute matches only `ne`.
//! Case-insensitive strings compare through `LOWER` on both sides; orderings
//! use code point order (`COLLATE "C"` on PostgreSQL, SQLite's default).

use onramp_domain::accounts::canonical_email;
use onramp_domain::scim::CompareOp;
use onramp_domain::scim::query::{Attributes, Kind, Literal, Query};
use onramp_domain::scim::users::UserAttr;

use crate::Backend;

/// A value to bind, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Where a User attribute is read: the account's row, or one element of
/// `emails` (the primary one is the account's email; the others are kept
/// in `s.attributes`, never primary).
#[derive(Clone, Copy)]
enum Scope {
    Row,
    PrimaryEmail,
    KeptEmail,
}

/// Writes conditions, numbering placeholders from `first`.
pub(crate) struct Writer {
    backend: Backend,
    first: usize,
    pub(crate) binds: Vec<Bind>,
}

impl Writer {
    pub(crate) fn new(backend: Backend, first: usize) -> Self {
        Self {
            backend,
            first,
            binds: Vec::new(),
        }
    }

    /// The condition `query` stands for.
    pub(crate) fn users(&mut self, query: &Query<UserAttr>) -> String {
        self.condition(query, Scope::Row)
    }

    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.first + self.binds.len() - 1)
    }

    fn condition(&mut self, query: &Query<UserAttr>, scope: Scope) -> String {
        match query {
            Query::All(operands) => self.joined(operands, " AND ", scope),
            Query::Any(operands) => self.joined(operands, " OR ", scope),
            Query::Not(inner) => format!("NOT ({})", self.condition(inner, scope)),
            Query::Present(attr) => self.present(*attr, scope),
            Query::Compare { attr, op, value } => self.compare(*attr, *op, value, scope),
            Query::Within { query, .. } => {
                // `emails` is the only multi-valued User attribute.
                let primary = self.condition(query, Scope::PrimaryEmail);
                let kept = self.condition(query, Scope::KeptEmail);
                format!("(({primary}) OR EXISTS (SELECT 1 FROM {} WHERE {kept}))", self.kept_emails())
            }
        }
    }

    fn joined(&mut self, operands: &[Query<UserAttr>], separator: &str, scope: Scope) -> String {
        let parts: Vec<String> = operands.iter().map(|q| format!("({})", self.condition(q, scope))).collect();
        format!("({})", parts.join(separator))
    }

    /// The elements of the kept `emails` list, as rows named `j`.
    fn kept_emails(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "json_each(s.attributes, '$.emails') j",
            Backend::Postgres => {
                "jsonb_array_elements(CASE WHEN jsonb_typeof(s.attributes::jsonb -> 'emails') = 'array' \
                 THEN s.attributes::jsonb -> 'emails' ELSE '[]'::jsonb END) AS j(e)"
            }
        }
    }

    /// The SQL expression of `attr` in `scope`.
    fn column(&self, attr: UserAttr, scope: Scope) -> String {
        let json = |object: &str, key: &str| match self.backend {
            Backend::Sqlite => format!("json_extract({object}, '$.{key}')"),
            Backend::Postgres => format!("({object}::jsonb ->> '{key}')"),
        };
        let element = |key: &str| match self.backend {
            Backend::Sqlite => format!("json_extract(j.value, '$.{key}')"),
            Backend::Postgres => format!("(j.e ->> '{key}')"),
        };
        match (attr, scope) {
            (UserAttr::EmailValue, Scope::PrimaryEmail) => "a.email".into(),
            (UserAttr::EmailType, Scope::PrimaryEmail) => "'work'".into(),
            (UserAttr::EmailPrimary, Scope::PrimaryEmail) => "1".into(),
            (UserAttr::EmailValue, Scope::KeptEmail) => element("value"),
            (UserAttr::EmailType, Scope::KeptEmail) => element("type"),
            (UserAttr::EmailPrimary, Scope::KeptEmail) => "0".into(),
            (UserAttr::UserName, _) => "a.email".into(),
            (UserAttr::Id, _) => "a.id".into(),
            (UserAttr::ExternalId, _) => "s.external_id".into(),
            (UserAttr::GivenName, _) => "a.first_name".into(),
            (UserAttr::FamilyName, _) => "a.last_name".into(),
            (UserAttr::DisplayName, _) => json("s.attributes", "displayName"),
            (UserAttr::Active, _) => "a.active".into(),
            (UserAttr::Created, _) => "a.created_at".into(),
            (UserAttr::LastModified, _) => "a.updated_at".into(),
            // Resolution only ever puts `emails` in a `Within`.
            (UserAttr::Emails, _) | (UserAttr::EmailValue | UserAttr::EmailType | UserAttr::EmailPrimary, Scope::Row) => "NULL".into(),
        }
    }

    fn present(&mut self, attr: UserAttr, scope: Scope) -> String {
        let column = self.column(attr, scope);
        match attr.kind() {
            Kind::Text { .. } => format!("({column} IS NOT NULL AND {column} <> '')"),
            _ => format!("({column} IS NOT NULL)"),
        }
    }

    fn compare(&mut self, attr: UserAttr, op: CompareOp, value: &Literal, scope: Scope) -> String {
        let column = self.column(attr, scope);
        if op == CompareOp::Ne {
            // Absent matches `ne`: the negation of a guarded `eq`.
            return format!("NOT ({})", self.compare(attr, CompareOp::Eq, value, scope));
        }
        let test = match value {
            Literal::Bool(b) => format!("{column} = {}", self.bind(Bind::Int(i64::from(*b)))),
            Literal::Instant(ms) => format!("{column} {} {}", symbol(op), self.bind(Bind::Int(*ms))),
            Literal::Text(text) if attr == UserAttr::UserName && op == CompareOp::Eq && matches!(scope, Scope::Row) => {
                // The unique index holds the canonical form.
                return format!("a.email_normalized = {}", self.bind(Bind::Text(canonical_email(text))));
            }
            Literal::Text(text) => {
                let case_exact = matches!(attr.kind(), Kind::Text { case_exact: true });
                self.text(&column, op, text, case_exact)
            }
        };
        format!("({column} IS NOT NULL AND {test})")
    }

    fn text(&mut self, column: &str, op: CompareOp, text: &str, case_exact: bool) -> String {
        let collate = match self.backend {
            Backend::Postgres => " COLLATE \"C\"",
            Backend::Sqlite => "",
        };
        if op.is_substring() {
            return self.substring(column, op, text, case_exact);
        }
        let mark = self.bind(Bind::Text(text.to_owned()));
        let (left, right) = if case_exact {
            (column.to_owned(), mark)
        } else {
            (format!("LOWER({column})"), format!("LOWER({mark})"))
        };
        format!("{left}{collate} {} {right}", symbol(op))
    }

    fn substring(&mut self, column: &str, op: CompareOp, text: &str, case_exact: bool) -> String {
        if !case_exact {
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = match op {
                CompareOp::Sw => format!("{escaped}%"),
                CompareOp::Ew => format!("%{escaped}"),
                _ => format!("%{escaped}%"),
            };
            let mark = self.bind(Bind::Text(pattern));
            return format!("LOWER({column}) LIKE LOWER({mark}) ESCAPE '\\'");
        }
        // SQLite's LIKE ignores ASCII case: case-exact tests compare substrings.
        let mark = self.bind(Bind::Text(text.to_owned()));
        match op {
            CompareOp::Sw => format!("substr({column}, 1, length({mark})) = {mark}"),
            CompareOp::Ew => {
                format!("(length({column}) >= length({mark}) AND substr({column}, length({column}) - length({mark}) + 1) = {mark})")
            }
            _ => match self.backend {
                Backend::Sqlite => format!("instr({column}, {mark}) > 0"),
                Backend::Postgres => format!("strpos({column}, {mark}) > 0"),
            },
        }
    }
}

fn symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Ne => "<>",
        _ => "=",
    }
}
