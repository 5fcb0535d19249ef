//! Attribute paths (`attrPath` of RFC 7644 §3.4.2.2): an optional schema
//! URN, an attribute name and at most one sub-attribute.

use std::fmt;

use super::path::PathError;

/// The core User schema (RFC 7643 §4.1).
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema (RFC 7643 §4.2).
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Schemas spelled canonically when a path names them in any casing, so that
/// callers can compare with `==` against the constants above.
const KNOWN_SCHEMAS: [&str; 3] = [CORE_USER, CORE_GROUP, ENTERPRISE_USER];

/// The prefix every core schema shares: attributes of a core schema live at
/// the top level of a resource, not under their URN.
const CORE_PREFIX: &str = "urn:ietf:params:scim:schemas:core:";

/// A normalised attribute path such as `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// Attribute names are case-insensitive in SCIM, so `name` and `sub` are
/// ASCII-lowercased (`name.givenname`); a known schema URN keeps its canonical
/// spelling ([`CORE_USER`], [`CORE_GROUP`], [`ENTERPRISE_USER`]), any other is
/// lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN the attribute was prefixed with, if any.
    pub schema: Option<String>,
    /// The attribute name, lowercased.
    pub name: String,
    /// The sub-attribute name, lowercased.
    pub sub: Option<String>,
}

impl AttrPath {
    /// Parses an attribute path, e.g. a key of Entra's path-less PATCH value
    /// (`"name.givenName"`, `"urn:…:enterprise:2.0:User:department"`).
    ///
    /// # Errors
    /// [`PathError::Invalid`] when the text is not `[URN ":"] name ["." sub]`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        if text.len() > super::MAX_INPUT_BYTES {
            return Err(PathError::TooLong {
                max: super::MAX_INPUT_BYTES,
            });
        }
        parse_attr_path(text).map_err(|reason| PathError::Invalid { reason })
    }

    /// A path without schema or sub-attribute, e.g. `userName`.
    pub fn simple(name: &str) -> Self {
        Self {
            schema: None,
            name: name.to_ascii_lowercase(),
            sub: None,
        }
    }

    /// Whether the path is `attr` (any casing) with no schema prefix, or
    /// prefixed with a core schema, and has no sub-attribute.
    pub fn is(&self, name: &str) -> bool {
        self.is_core() && self.sub.is_none() && self.name.eq_ignore_ascii_case(name)
    }

    /// Whether the path is `attr.sub` (any casing) of a core schema.
    pub fn is_sub(&self, name: &str, sub: &str) -> bool {
        self.is_core() && self.name.eq_ignore_ascii_case(name) && self.sub.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(sub))
    }

    /// Whether the attribute lives at the top level of a resource: no schema
    /// prefix, or a core schema's.
    pub fn is_core(&self) -> bool {
        self.schema.as_deref().is_none_or(is_core_schema)
    }

    /// This path's attribute with `sub` as its sub-attribute (the full path of
    /// an attribute named inside a value filter `emails[type eq "work"]`).
    pub fn with_sub(&self, sub: &str) -> Self {
        Self {
            schema: self.schema.clone(),
            name: self.name.clone(),
            sub: Some(sub.to_ascii_lowercase()),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Whether `schema` is one of SCIM's core schemas (any casing).
pub(crate) fn is_core_schema(schema: &str) -> bool {
    schema.get(..CORE_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(CORE_PREFIX))
}

/// Parses `[URN ":"] ATTRNAME ["." ATTRNAME]`; the error is a reason safe to
/// show a client.
pub(crate) fn parse_attr_path(text: &str) -> Result<AttrPath, &'static str> {
    // A URN holds dots ("2.0") but the attribute after its last colon is the
    // only place a sub-attribute can be.
    let (schema, rest) = match text.rfind(':') {
        Some(at) => (Some(normalise_schema(&text[..at])?), &text[at + 1..]),
        None => (None, text),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    check_name(name)?;
    if let Some(sub) = sub {
        if sub.contains('.') {
            return Err("an attribute path has at most one sub-attribute");
        }
        check_name(sub)?;
    }
    Ok(AttrPath {
        schema,
        name: name.to_ascii_lowercase(),
        sub: sub.map(str::to_ascii_lowercase),
    })
}

/// Checks `ATTRNAME = ALPHA *(nameChar)`, with `$` allowed as RFC 7643 §2.1
/// does so that `members.$ref` can be named.
pub(crate) fn check_name(name: &str) -> Result<(), &'static str> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$')) {
        Ok(())
    } else {
        Err("an attribute name starts with a letter and holds only letters, digits, `-`, `_` and `$`")
    }
}

fn normalise_schema(schema: &str) -> Result<String, &'static str> {
    let valid = schema.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        && schema.len() > 4
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_'))
        && !schema.contains("::");
    if !valid {
        return Err("a schema prefix is a URN such as `urn:ietf:params:scim:schemas:core:2.0:User`");
    }
    Ok(KNOWN_SCHEMAS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(schema))
        .map_or_else(|| schema.to_ascii_lowercase(), |known| (*known).to_owned()))
}
