//! The SCIM filter language (RFC 7644 §3.4.2.2) as a typed tree.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"      ; sub-attributes of attrPath
//! valFilter = attrExp / logExp / *1"not" "(" valFilter ")"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! compValue = false / null / true / number / string   ; JSON literals
//! ```
//! `and` binds tighter than `or`; keywords, operators and attribute names are
//! case-insensitive. Value filters do not nest (RFC 7644 erratum 4690). The
//! form `emails[type eq "work"].value eq "x"` that clients also send is read
//! as `emails[type eq "work" and value eq "x"]`, which means the same.

use std::fmt;

use serde_json::Number;

use super::attr_path::AttrPath;
use super::parser;

/// A parsed filter. `And` and `Or` hold two or more operands each, so a long
/// chain of `and`s stays flat instead of nesting one level per operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "a@b.com"`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `path pr`: the attribute has a non-null, non-empty value.
    Present(AttrPath),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some value of the multi-valued (or complex) `attr`
    /// matches `filter`, whose paths name sub-attributes of `attr` (they have
    /// no schema and no sub-attribute of their own).
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator's keyword, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator named `keyword` in any casing.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(keyword))
    }

    /// Whether the operator orders values (`gt ge lt le`).
    pub fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
    }

    /// Whether the operator matches substrings (`co sw ew`).
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value a filter compares with: a JSON literal.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

impl CompValue {
    /// The value's kind, for errors.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CompValue::Null => "null",
            CompValue::Bool(_) => "a boolean",
            CompValue::Number(_) => "a number",
            CompValue::String(_) => "a string",
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            // serde_json escapes exactly as the filter's strings are read.
            CompValue::String(s) => f.write_str(&serde_json::Value::from(s.as_str()).to_string()),
        }
    }
}

/// Why a filter was refused. Every message is safe to show the client (it
/// echoes at most a short piece of the client's own filter); the SCIM layer
/// answers `400` with `scimType` `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("the filter is empty")]
    Empty,
    #[error("the filter is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("the filter nests parentheses, `not` and `[...]` deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("unexpected {found} at column {column}: expected {expected}")]
    Unexpected {
        column: usize,
        found: String,
        expected: &'static str,
    },
    #[error("unterminated string at column {column}")]
    UnterminatedString { column: usize },
    #[error("invalid string at column {column}: a bad escape or an unescaped control character")]
    InvalidString { column: usize },
    #[error("invalid number at column {column}")]
    InvalidNumber { column: usize },
    #[error("invalid attribute path at column {column}: {reason}")]
    InvalidAttrPath { column: usize, reason: &'static str },
    #[error("`{op}` at column {column} cannot compare with {value}")]
    InvalidComparison { column: usize, op: CompareOp, value: &'static str },
}

impl Filter {
    /// Parses a filter such as `userName eq "bjensen"` or
    /// `emails[type eq "work" and value co "@example.com"]`.
    ///
    /// # Errors
    /// A [`FilterError`] for any text that is not a filter, longer than
    /// [`MAX_INPUT_BYTES`](super::MAX_INPUT_BYTES) or nested deeper than
    /// [`MAX_DEPTH`](super::MAX_DEPTH).
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        parser::parse(text, parser::Scope::Resource)
    }

    /// Parses the filter inside a value path's brackets (`type eq "work"`),
    /// whose paths are plain sub-attribute names.
    ///
    /// # Errors
    /// As [`Filter::parse`], and for a schema prefix, a dotted name or a
    /// nested value path.
    pub fn parse_value_filter(text: &str) -> Result<Self, FilterError> {
        parser::parse(text, parser::Scope::ValueFilter)
    }
}

impl fmt::Display for Filter {
    /// Writes the filter so that it parses back to an equal tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(operands) => write_joined(f, operands, " and ", |op| matches!(op, Filter::And(_) | Filter::Or(_))),
            // `and` binds tighter, so only a nested `or` needs parentheses.
            Filter::Or(operands) => write_joined(f, operands, " or ", |op| matches!(op, Filter::Or(_))),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, operands: &[Filter], separator: &str, needs_parens: impl Fn(&Filter) -> bool) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        if needs_parens(operand) {
            write!(f, "({operand})")?;
        } else {
            write!(f, "{operand}")?;
        }
    }
    Ok(())
}
