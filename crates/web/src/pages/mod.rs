//! Page handlers, one module per area.

pub mod account;
pub mod app_changes;
pub mod authorize;
pub mod connect;
pub mod connections;
pub mod delete_account;
pub mod developers;
pub mod sign_in;

pub use crate::extract::CsrfOnly;
