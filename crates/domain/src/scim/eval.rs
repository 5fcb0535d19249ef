//! Evaluates a [`Filter`] against a SCIM resource in its JSON form: the
//! targets of PATCH value paths, and a reference for the store's queries.
//!
//! The rules (RFC 7644 §3.4.2.2, where it decides):
//! - attribute names and schema URNs match JSON keys in any casing; an
//!   extension's attributes are read under its URN key, a core schema's at
//!   the top level;
//! - a multi-valued attribute matches when any of its values does, and a
//!   complex value compared as a whole stands for its `value` sub-attribute
//!   (`emails co "@example.com"`);
//! - strings compare case-insensitively unless [`CaseExact`] says otherwise;
//!   two RFC 3339 date-times compare as instants, other strings in code point
//!   order, numbers numerically; values of different types are never equal;
//! - `pr` needs a value that is not null, `""`, `[]` or `{}`; `eq null`
//!   matches exactly when the attribute is not present;
//! - an absent attribute matches no comparison but `ne`.

use std::cmp::Ordering;

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::attr_path::{AttrPath, is_core_schema};
use super::filter::{CompValue, CompareOp, Filter};

/// Which attributes compare strings case-sensitively (`caseExact` in the
/// schema). Given the full path, e.g. `emails.value` for `value` inside
/// `emails[...]`. Implemented by closures `Fn(&AttrPath) -> bool`.
pub trait CaseExact {
    /// Whether strings of `path` compare case-sensitively.
    fn is_case_exact(&self, path: &AttrPath) -> bool;
}

impl<F: Fn(&AttrPath) -> bool> CaseExact for F {
    fn is_case_exact(&self, path: &AttrPath) -> bool {
        self(path)
    }
}

/// The case-exact attributes of RFC 7643's core User and Group schemas:
/// `id`, `externalId`, `meta.version` and references (`meta.location`,
/// `….$ref`). `userName`, emails and names are not.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreCaseExact;

impl CaseExact for CoreCaseExact {
    fn is_case_exact(&self, path: &AttrPath) -> bool {
        path.is_core()
            && matches!(
                (path.name.as_str(), path.sub.as_deref()),
                ("id" | "externalid", None) | ("meta", Some("version" | "location")) | (_, Some("$ref"))
            )
    }
}

impl Filter {
    /// Whether `resource` matches, with the case-exactness of the core
    /// schemas ([`CoreCaseExact`]).
    pub fn matches(&self, resource: &Value) -> bool {
        self.matches_with(resource, &CoreCaseExact)
    }

    /// Whether `resource` matches, strings comparing case-sensitively where
    /// `case_exact` says so.
    pub fn matches_with(&self, resource: &Value, case_exact: &dyn CaseExact) -> bool {
        Eval { case_exact, parent: None }.filter(self, resource)
    }
}

struct Eval<'a> {
    case_exact: &'a dyn CaseExact,
    /// The attribute whose values a value filter is looking at.
    parent: Option<&'a AttrPath>,
}

impl Eval<'_> {
    fn filter(&self, filter: &Filter, node: &Value) -> bool {
        match filter {
            Filter::And(operands) => operands.iter().all(|f| self.filter(f, node)),
            Filter::Or(operands) => operands.iter().any(|f| self.filter(f, node)),
            Filter::Not(inner) => !self.filter(inner, node),
            Filter::Present(path) => values(path, node).into_iter().any(is_present),
            Filter::Compare { path, op, value } => self.compare(path, *op, value, node),
            Filter::ValuePath { attr, filter } => {
                let Some(value) = lookup(attr, node) else { return false };
                let full = self.full_path(attr);
                let inner = Eval {
                    case_exact: self.case_exact,
                    parent: Some(&full),
                };
                elements(value)
                    .iter()
                    .any(|element| element.is_object() && inner.filter(filter, element))
            }
        }
    }

    /// `path` as the schema knows it: inside a value filter, a sub-attribute
    /// of the filtered attribute.
    fn full_path(&self, path: &AttrPath) -> AttrPath {
        match self.parent {
            Some(parent) => parent.with_sub(&path.name),
            None => path.clone(),
        }
    }

    fn compare(&self, path: &AttrPath, op: CompareOp, value: &CompValue, node: &Value) -> bool {
        let found = values(path, node);
        if let CompValue::Null = value {
            return match op {
                CompareOp::Eq => found.is_empty(),
                CompareOp::Ne => !found.is_empty(),
                _ => false,
            };
        }
        if found.is_empty() {
            return op == CompareOp::Ne;
        }
        let full = self.full_path(path);
        found.into_iter().any(|attr| match attr {
            Value::Object(_) => get_ci(attr, "value")
                .is_some_and(|inner| compare_one(inner, op, value, self.case_exact.is_case_exact(&full.with_sub("value")))),
            _ => compare_one(attr, op, value, self.case_exact.is_case_exact(&full)),
        })
    }
}

/// The value of `path`'s attribute (without its sub-attribute) in `node`.
fn lookup<'v>(path: &AttrPath, node: &'v Value) -> Option<&'v Value> {
    let base = match path.schema.as_deref() {
        Some(schema) if !is_core_schema(schema) => get_ci(node, schema)?,
        _ => node,
    };
    get_ci(base, &path.name)
}

/// Every non-null value `path` names in `node`, multi-valued ones flattened.
fn values<'v>(path: &AttrPath, node: &'v Value) -> Vec<&'v Value> {
    let Some(value) = lookup(path, node) else { return Vec::new() };
    let mut found = Vec::new();
    for element in elements(value) {
        match &path.sub {
            None => found.push(element),
            Some(sub) => found.extend(get_ci(element, sub).map(elements).unwrap_or_default()),
        }
    }
    found.retain(|v| !v.is_null());
    found
}

/// The values of a multi-valued attribute, or the single one.
fn elements(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// The member `key` of an object, matched in any casing.
fn get_ci<'v>(node: &'v Value, key: &str) -> Option<&'v Value> {
    let object = node.as_object()?;
    object
        .get(key)
        .or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_one(attr: &Value, op: CompareOp, value: &CompValue, case_exact: bool) -> bool {
    let ordering = match (attr, value) {
        (Value::String(a), CompValue::String(b)) if op.is_substring() => {
            return if case_exact {
                substring(a, b, op)
            } else {
                substring(&a.to_lowercase(), &b.to_lowercase(), op)
            };
        }
        (Value::String(a), CompValue::String(b)) => compare_strings(a, b, case_exact),
        (Value::Number(a), CompValue::Number(b)) => compare_numbers(a, b),
        (Value::Bool(a), CompValue::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let Some(ordering) = ordering else { return op == CompareOp::Ne };
    match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Ne => ordering.is_ne(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Ge => ordering.is_ge(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Le => ordering.is_le(),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn substring(attr: &str, value: &str, op: CompareOp) -> bool {
    match op {
        CompareOp::Co => attr.contains(value),
        CompareOp::Sw => attr.starts_with(value),
        CompareOp::Ew => attr.ends_with(value),
        _ => false,
    }
}

fn compare_strings(a: &str, b: &str, case_exact: bool) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (date_time(a), date_time(b)) {
        return Some(a.cmp(&b));
    }
    Some(if case_exact {
        a.cmp(b)
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    })
}

/// An RFC 3339 date-time; the cheap shape check spares parsing every string.
fn date_time(s: &str) -> Option<OffsetDateTime> {
    let looks_like_one = s.len() >= 20 && s.as_bytes().get(4) == Some(&b'-');
    looks_like_one.then(|| OffsetDateTime::parse(s, &Rfc3339).ok()).flatten()
}

fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return Some(a.cmp(&b));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}
