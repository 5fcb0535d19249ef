//! SCIM 2.0 provisioning (RFC 7643 / 7644): identity providers such as
//! Okta and Microsoft Entra ID create, update, deactivate and group the
//! accounts of an environment, authenticated by the environment's SCIM
//! bearer tokens.
//!
//! The filter language of `GET /Users?filter=…` and the `path` of PATCH
//! operations are parsed here into typed trees, with an evaluator of filters
//! over a resource's JSON. The store translates a [`Filter`] into its
//! queries; the HTTP layer maps [`FilterError`] to `400 invalidFilter` and
//! [`PathError`] to `400 invalidPath` (`invalidFilter` for
//! [`PathError::Filter`]). Both parsers bound their input
//! ([`MAX_INPUT_BYTES`], [`MAX_DEPTH`]) and answer every string with a value
//! or an error, never a panic.

pub mod create;
pub mod groups;
pub mod groups_patch;
pub mod patch;
pub mod patch_extra;
pub mod projection;
pub mod query;
pub mod replace;
pub mod store;
pub mod tokens;
pub mod users;

mod attr_path;
mod eval;
mod filter;
mod lexer;
mod parser;
mod path;

pub use attr_path::{AttrPath, CORE_GROUP, CORE_USER, ENTERPRISE_USER};
pub use eval::{CaseExact, CoreCaseExact};
pub use filter::{CompValue, CompareOp, Filter, FilterError};
pub use path::{PatchPath, PathError};

/// The longest filter or path accepted, in bytes: far above what Okta or
/// Entra send, low enough that parsing stays cheap.
pub const MAX_INPUT_BYTES: usize = 8 * 1024;

/// How deeply `(`, `not (` and `[` may nest: real filters nest two or three
/// levels; the bound keeps recursion far from the stack's end.
pub const MAX_DEPTH: usize = 32;

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod proptests;
