//! SCIM 2.0 provisioning.

mod tokens;
