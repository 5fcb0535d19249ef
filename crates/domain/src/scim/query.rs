//! A [`Filter`] resolved against one resource type's attributes: every path
//! named, every value checked and typed, so that the store only translates
//! (`GET /Users?filter=…` becomes one SQL query, not a scan in memory).
//!
//! Resolution follows the evaluator's rules ([`Filter::matches`]): names in
//! any casing, core schema prefixes allowed, a multi-valued attribute
//! compared as a whole standing for its `value`, `eq null` meaning absent.
//! What cannot be answered exactly — an attribute not listed, an operator
//! that makes no sense for the attribute's type (`gt` on a boolean, `co` on
//! a date), a value of the wrong type — is refused, so a client never gets
//! a silently wrong page.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::attr_path::AttrPath;
use super::filter::{CompValue, CompareOp, Filter};
use crate::clock::Millis;

/// A resolved filter over the attributes `A` of one resource type.
#[derive(Debug, Clone, PartialEq)]
pub enum Query<A> {
    All(Vec<Query<A>>),
    Any(Vec<Query<A>>),
    Not(Box<Query<A>>),
    /// The attribute has a value that is not null or empty (`pr`).
    Present(A),
    /// `attr op value`; an absent attribute matches only `ne`.
    Compare {
        attr: A,
        op: CompareOp,
        value: Literal,
    },
    /// Some element of the multi-valued `attr` matches `query`, whose
    /// attributes are `attr`'s sub-attributes.
    Within {
        attr: A,
        query: Box<Query<A>>,
    },
}

/// A comparison's value, typed as its attribute is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Bool(bool),
    /// A date-time, in milliseconds since the epoch.
    Instant(Millis),
}

/// What an attribute holds, which decides the operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string; `case_exact` strings compare case-sensitively.
    Text {
        case_exact: bool,
    },
    Bool,
    Instant,
    /// A multi-valued complex attribute; compared as a whole through its
    /// `value` sub-attribute.
    Multi,
}

/// The attributes of a resource type a filter may name.
pub trait Attributes: Copy + Sized {
    /// The attribute `path` names at the top level of a filter: either a
    /// plain attribute or a sub-attribute of a multi-valued one (`(Some(emails),
    /// email value)` for `emails.value`).
    fn resolve(path: &AttrPath) -> Option<(Option<Self>, Self)>;
    /// The sub-attribute `name` of the multi-valued `parent`.
    fn sub(parent: Self, name: &str) -> Option<Self>;
    fn kind(self) -> Kind;
    /// The names a filter may use, for the error message.
    fn supported() -> &'static str;
}

/// Why a filter cannot be answered; the message is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl<A: Attributes> Query<A> {
    /// Resolves `filter` against the attributes `A`.
    ///
    /// # Errors
    /// [`Unsupported`] for an attribute not in `A`, or an operator or value
    /// that does not fit the attribute's type.
    pub fn resolve(filter: &Filter) -> Result<Self, Unsupported> {
        match filter {
            Filter::And(operands) => Ok(Query::All(operands.iter().map(Self::resolve).collect::<Result<_, _>>()?)),
            Filter::Or(operands) => Ok(Query::Any(operands.iter().map(Self::resolve).collect::<Result<_, _>>()?)),
            Filter::Not(inner) => Ok(Query::Not(Box::new(Self::resolve(inner)?))),
            Filter::Present(path) => {
                let (parent, attr) = top(path)?;
                Ok(within(parent, present(attr)))
            }
            Filter::Compare { path, op, value } => {
                let (parent, attr) = top(path)?;
                Ok(within(parent, compare(path, attr, *op, value)?))
            }
            Filter::ValuePath { attr: path, filter } => {
                let (None, attr) = top::<A>(path)? else {
                    return Err(not_multi(path));
                };
                if attr.kind() != Kind::Multi {
                    return Err(not_multi(path));
                }
                Ok(Query::Within {
                    attr,
                    query: Box::new(resolve_sub(attr, filter)?),
                })
            }
        }
    }
}

/// A value filter's inside, whose names are `parent`'s sub-attributes.
fn resolve_sub<A: Attributes>(parent: A, filter: &Filter) -> Result<Query<A>, Unsupported> {
    let sub = |path: &AttrPath| A::sub(parent, &path.name).ok_or_else(|| unknown::<A>(path));
    match filter {
        Filter::And(operands) => Ok(Query::All(
            operands.iter().map(|f| resolve_sub(parent, f)).collect::<Result<_, _>>()?,
        )),
        Filter::Or(operands) => Ok(Query::Any(
            operands.iter().map(|f| resolve_sub(parent, f)).collect::<Result<_, _>>()?,
        )),
        Filter::Not(inner) => Ok(Query::Not(Box::new(resolve_sub(parent, inner)?))),
        Filter::Present(path) => Ok(present(sub(path)?)),
        Filter::Compare { path, op, value } => compare(path, sub(path)?, *op, value),
        // The parser refuses value paths inside value paths.
        Filter::ValuePath { attr, .. } => Err(not_multi(attr)),
    }
}

fn top<A: Attributes>(path: &AttrPath) -> Result<(Option<A>, A), Unsupported> {
    A::resolve(path).ok_or_else(|| unknown::<A>(path))
}

/// Wraps a comparison of a sub-attribute in "some element matches".
fn within<A: Attributes>(parent: Option<A>, query: Query<A>) -> Query<A> {
    match parent {
        Some(attr) => Query::Within {
            attr,
            query: Box::new(query),
        },
        None => query,
    }
}

fn present<A: Attributes>(attr: A) -> Query<A> {
    match attr.kind() {
        Kind::Multi => match A::sub(attr, "value") {
            Some(value) => Query::Within {
                attr,
                query: Box::new(Query::Present(value)),
            },
            None => Query::Present(attr),
        },
        _ => Query::Present(attr),
    }
}

fn compare<A: Attributes>(path: &AttrPath, attr: A, op: CompareOp, value: &CompValue) -> Result<Query<A>, Unsupported> {
    if attr.kind() == Kind::Multi {
        // `emails co "@x"` compares the elements' `value`.
        let inner = A::sub(attr, "value").ok_or_else(|| not_multi(path))?;
        return Ok(Query::Within {
            attr,
            query: Box::new(compare(path, inner, op, value)?),
        });
    }
    if let CompValue::Null = value {
        return match op {
            CompareOp::Eq => Ok(Query::Not(Box::new(Query::Present(attr)))),
            CompareOp::Ne => Ok(Query::Present(attr)),
            _ => Err(bad_op(path, op)),
        };
    }
    let literal = match (attr.kind(), value) {
        (Kind::Text { .. }, CompValue::String(s)) => Literal::Text(s.clone()),
        (Kind::Bool, CompValue::Bool(b)) if matches!(op, CompareOp::Eq | CompareOp::Ne) => Literal::Bool(*b),
        (Kind::Bool, CompValue::Bool(_)) => return Err(bad_op(path, op)),
        (Kind::Instant, CompValue::String(s)) if !op.is_substring() => Literal::Instant(instant(path, s)?),
        (Kind::Instant, CompValue::String(_)) => return Err(bad_op(path, op)),
        (kind, other) => {
            return Err(Unsupported(format!(
                "`{path}` compares with {}, not {}",
                match kind {
                    Kind::Bool => "true or false",
                    Kind::Instant => "an RFC 3339 date-time string",
                    _ => "a string",
                },
                other.kind()
            )));
        }
    };
    Ok(Query::Compare { attr, op, value: literal })
}

fn instant(path: &AttrPath, text: &str) -> Result<Millis, Unsupported> {
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        Unsupported(format!(
            "`{path}` compares with an RFC 3339 date-time such as \"2026-01-31T12:00:00Z\""
        ))
    })?;
    Ok(Millis::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(Millis::MAX))
}

fn unknown<A: Attributes>(path: &AttrPath) -> Unsupported {
    Unsupported(format!(
        "filtering on `{path}` is not supported; filters may name {}",
        A::supported()
    ))
}

fn not_multi(path: &AttrPath) -> Unsupported {
    Unsupported(format!(
        "`{path}` is not a multi-valued attribute a value filter `[...]` can look into"
    ))
}

fn bad_op(path: &AttrPath, op: CompareOp) -> Unsupported {
    Unsupported(format!("`{op}` does not apply to `{path}`"))
}
