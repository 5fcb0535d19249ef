//! Service users: the accounts platform backends log in with for service tokens.

use crate::clock::Millis;

pub mod auth;
pub mod service;
pub mod store;

/// A service user of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    pub id: String,
    pub env_id: String,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub disabled_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}
