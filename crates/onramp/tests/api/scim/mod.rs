//! SCIM 2.0 provisioning.

mod discovery;
mod filters;
mod tokens;
mod users;
