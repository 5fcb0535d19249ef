//! Integration tests of the Onramp server: every test starts its own server
//! (in-process on port 0, or the real binary as a child process) with its own
//! data directory, and talks to it over HTTP.

mod helpers;

mod audit;
mod auth;
mod backup;
mod bad_input;
mod batch;
mod cli;
mod clients;
mod concurrency;
mod config;
mod copy;
mod docs;
mod durability;
mod errors;
mod hashing;
mod idempotency;
mod integration;
mod isolation;
mod metrics;
mod nodes;
mod openapi;
mod pages;
mod partners;
mod rate_limit;
mod schema;
mod statements;
mod tokenauth;
mod usage;
