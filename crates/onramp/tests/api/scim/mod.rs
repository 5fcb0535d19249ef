//! SCIM 2.0 provisioning.

mod discovery;
mod tokens;
mod users;
