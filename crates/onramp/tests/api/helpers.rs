//! The test harness, one file per kind of tool: in-process servers and the
//! usual fixture (`server`), HTTP clients and problem checks (`client`),
//! JWT tools (`jwt`), the binary as a child process (`process`), partner
//! clients and fixtures (`partners`), and the parking store for races.

#![allow(dead_code)]

mod client;
pub mod contract;
mod jwt;
pub mod parking;
mod partners;
mod process;
mod server;

pub use client::{Api, Resp, assert_problem_shape, eventually, login_token, now_secs, parse_rfc3339, send, signup_body};
pub use jwt::{b64, compact_jws, jwt_parts, sign_eddsa, unb64};
pub use partners::{ALL_SCOPES, PartnerApi, PartnerWorld, active_partner_key, partner_signup_body, query_param};
pub use process::{
    ChildServer, CliRun, cli, cli_with_stdin, create_acme_with_cli, fails_with, onramp_command, op, run_raw, run_with_umask,
};
pub use server::{
    CLIENT_PASSWORD, EVENTUALLY, Fixture, METRICS_TOKEN, SERVICE_PASSWORD, TestServer, host, master_key_file, pid, test_settings,
};
