//! Onramp's domain, one module per context: each owns its model (`mod.rs`),
//! its storage role trait (`store.rs`) and its service (`service.rs`).
//! Nothing here knows about HTTP or SQL: the storage layer implements the
//! role traits composed in [`store::Store`], the HTTP layer and the CLI call
//! [`app::Core`]. Infrastructure the services need (password hashing,
//! secrets, login throttling) lives in [`infra`].

pub mod accounts;
pub mod app;
pub mod audit;
pub mod clock;
pub mod error;
pub mod events;
pub mod groups;
pub mod idempotency;
pub mod ids;
pub mod infra;
pub mod integration;
pub mod oauth;
pub mod operators;
pub mod partners;
pub mod portal;
pub mod retention;
pub mod scim;
pub mod secrets;
pub mod service_users;
pub mod signin_links;
pub mod store;
pub mod tenancy;
pub mod usage;
pub mod webhooks;

pub use error::{DomainError, FieldCode, FieldError};
