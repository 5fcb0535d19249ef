//! SCIM 2.0 provisioning.

mod discovery;
mod filters;
mod groups;
mod tokens;
mod users;
