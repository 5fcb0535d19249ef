//! The `path` of a PATCH operation (RFC 7644 §3.5.2):
//! `PATH = attrPath / valuePath [subAttr]`, e.g. `name.givenName`,
//! `emails[type eq "work"].value`, `members[value eq "2819c223"]`.

use std::fmt;

use super::MAX_INPUT_BYTES;
use super::attr_path::{AttrPath, check_name, parse_attr_path};
use super::filter::{Filter, FilterError};

/// A parsed PATCH path.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// `active`, `name.givenName`, `members`,
    /// `urn:…:enterprise:2.0:User:manager.value`.
    Attr(AttrPath),
    /// `attr[filter]` or `attr[filter].sub`: the values of the multi-valued
    /// `attr` that match `filter` (whose paths are sub-attributes of `attr`),
    /// or their sub-attribute `sub` (lowercased). `attr` has no sub-attribute.
    Filtered {
        attr: AttrPath,
        filter: Filter,
        sub: Option<String>,
    },
}

/// Why a PATCH path was refused; every message is safe to show the client.
/// The SCIM layer answers `400` with `scimType` `invalidPath`, or
/// `invalidFilter` for [`PathError::Filter`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("the path is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("invalid path: {reason}")]
    Invalid { reason: &'static str },
    /// The filter between the brackets is malformed; its columns count from
    /// the character after `[`.
    #[error("invalid filter inside `[...]`: {0}")]
    Filter(FilterError),
}

impl PatchPath {
    /// Parses a PATCH operation's `path`.
    ///
    /// # Errors
    /// [`PathError::Filter`] when the filter in brackets is malformed,
    /// another [`PathError`] for anything else that is not a path.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        if text.len() > MAX_INPUT_BYTES {
            return Err(PathError::TooLong { max: MAX_INPUT_BYTES });
        }
        let text = text.trim();
        let Some(open) = text.find('[') else {
            return AttrPath::parse(text).map(PatchPath::Attr);
        };
        // Only `.sub` may follow the closing bracket, so the last `]` closes
        // it even when a string in the filter holds a `]`.
        let close = text.rfind(']').filter(|&close| close > open).ok_or(PathError::Invalid {
            reason: "a value filter `[` needs its closing `]`",
        })?;
        let attr = parse_attr_path(text[..open].trim_end()).map_err(|reason| PathError::Invalid { reason })?;
        if attr.sub.is_some() {
            return Err(PathError::Invalid {
                reason: "a value filter `[...]` follows an attribute, not a sub-attribute",
            });
        }
        let filter = Filter::parse_value_filter(&text[open + 1..close]).map_err(PathError::Filter)?;
        let sub = match text[close + 1..].trim_start() {
            "" => None,
            rest => {
                let name = rest.strip_prefix('.').ok_or(PathError::Invalid {
                    reason: "only `.` and a sub-attribute name may follow `]`",
                })?;
                check_name(name).map_err(|reason| PathError::Invalid { reason })?;
                Some(name.to_ascii_lowercase())
            }
        };
        Ok(PatchPath::Filtered { attr, filter, sub })
    }

    /// The attribute the path starts from (`emails` for
    /// `emails[type eq "work"].value`).
    pub fn attr(&self) -> &AttrPath {
        match self {
            PatchPath::Attr(attr) | PatchPath::Filtered { attr, .. } => attr,
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(attr) => write!(f, "{attr}"),
            PatchPath::Filtered { attr, filter, sub } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(sub) = sub {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}
