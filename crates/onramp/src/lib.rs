//! The Onramp binary's library half: configuration, startup and the CLI, so
//! integration tests start the server exactly as `onramp serve` does.

pub mod cli;
pub mod config;
pub mod demo;
pub mod master_key;
pub mod redis_limits;
pub mod serve;
pub mod startup;
pub mod webhook;
pub mod webhook_sender;
