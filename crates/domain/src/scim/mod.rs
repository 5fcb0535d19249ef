//! SCIM 2.0 provisioning (RFC 7643 / 7644): identity providers such as
//! Okta and Microsoft Entra ID create, update, deactivate and group the
//! accounts of an environment, authenticated by the environment's SCIM
//! bearer tokens.

pub mod store;
pub mod tokens;
