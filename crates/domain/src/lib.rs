//! Onramp's domain: tenancy, accounts, sessions, credentials, and the
//! services that operate on them. Nothing here knows about HTTP or SQL: the
//! storage layer implements [`store::Store`], the HTTP layer calls
//! [`services`].

pub mod account;
pub mod audit;
pub mod clock;
pub mod error;
pub mod hashing;
pub mod integration;
pub mod legacy_hash;
pub mod partner;
pub mod password;
pub mod secret;
pub mod services;
pub mod signing;
pub mod store;
pub mod tenancy;
pub mod throttle;
pub mod usage;

pub use error::{DomainError, FieldCode, FieldError};
