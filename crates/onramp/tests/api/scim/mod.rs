//! SCIM 2.0 provisioning.

mod discovery;
mod groups;
mod tokens;
mod users;
