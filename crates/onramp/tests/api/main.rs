//! Integration tests of the Onramp server: every test starts its own server
//! (in-process on port 0, or the real binary as a child process) with its own
//! data directory, and talks to it over HTTP.

mod helpers;
mod vantage;

mod accounts;
mod alert_settings;
mod audit;
mod auth;
mod backup;
mod bad_input;
mod batch;
mod cli;
mod clients;
mod concurrency;
mod config;
mod connections;
mod console;
mod copy;
mod docs;
mod durability;
mod errors;
mod events;
mod hashing;
mod idempotency;
mod integration;
mod isolation;
mod login_throttle;
mod metrics;
mod nodes;
mod oauth;
mod openapi;
mod pages;
mod partners;
mod portal;
mod proxies;
mod rate_limit;
mod redis_faults;
mod retention;
mod same_ids;
mod schema;
mod scim;
mod secrets;
mod statements;
mod tokenauth;
mod usage;
mod usage_charts;
mod webhooks;
