//! One router per API family.

pub mod auth;
pub mod clients;
pub mod docs;
pub mod events;
pub mod groups;
pub mod health;
pub mod integration;
pub mod metrics;
pub mod oauth;
pub mod partners;
pub mod scim;
pub mod tokenauth;
pub mod webhooks;
