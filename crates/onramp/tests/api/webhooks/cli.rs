//! `onramp webhook …` (the real binary) on a running server's database: the
//! operator sees and changes every endpoint, and the target setting is read
//! from the flag, the environment and the config file alike.

use std::ffi::OsString;
use std::process::Stdio;

use serde_json::json;

use super::*;
use crate::helpers::{PartnerWorld, fails_with, op};

/// A public address the CLI accepts without DNS (it resolves with the system).
const CLI_URL: &str = "https://93.184.215.14/hooks";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_manage_every_endpoint_of_an_environment() {
    let w = PartnerWorld::with(test_resolver).await;
    let s = &w.server;
    let added = op(
        s,
        &[
            "webhook",
            "add",
            "acme",
            "staging",
            CLI_URL,
            "--event",
            "account.created",
            "--event",
            "partner.created",
            "--description",
            "Orders",
        ],
    )
    .ok();
    let own = added["id"].as_str().expect("id").to_owned();
    let first_key = secret_key(&added["secret"]);
    assert_eq!((&added["owner"], &added["partner_id"]), (&json!("environment"), &Value::Null));
    assert_eq!(added["event_types"], json!(["account.created", "partner.created"]));
    assert_eq!(added["url"], CLI_URL);
    // The running server serves it to the environment's service users at once.
    let seen = w.service.get(&format!("/v1/webhooks/endpoints/{own}")).await;
    seen.expect(200);
    assert_eq!(seen.json["description"], "Orders");
    let partners = w
        .partner
        .post("/v1/partners/webhooks/endpoints", &json!({ "url": PUBLIC_URL }))
        .await;
    partners.expect(201);
    let theirs = partners.json["id"].as_str().unwrap().to_owned();

    // The list shows both, with their owners, and no secret.
    let run = op(s, &["webhook", "list", "acme", "staging"]);
    let list = run.ok();
    assert!(!run.stdout.contains("whsec_"), "{}", run.stdout);
    let owners: Vec<(String, Value)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["owner"].as_str().unwrap().to_owned(), e["partner_id"].clone()))
        .collect();
    assert_eq!(
        owners,
        [("environment".into(), Value::Null), ("partner".into(), json!(w.partner_id))]
    );
    assert_eq!(op(s, &["webhook", "list", "acme", "production"]).ok()["data"], json!([]));

    // Any owner's endpoint, within what its owner may receive.
    let updated = op(s, &["webhook", "update", &theirs, "--disable", "--event", "usage.alert"]).ok();
    assert_eq!(
        (&updated["enabled"], &updated["event_types"]),
        (&json!(false), &json!(["usage.alert"]))
    );
    let r = w.partner.get(&format!("/v1/partners/webhooks/endpoints/{theirs}")).await;
    assert_eq!(
        (&r.json["enabled"], &r.json["eventTypes"]),
        (&json!(false), &json!(["usage.alert"]))
    );
    fails_with(
        &op(s, &["webhook", "update", &theirs, "--event", "partner.created"]),
        "validation_failed",
    );
    let updated = op(s, &["webhook", "update", &own, "--all-events", "--url", "https://93.184.215.15/in"]).ok();
    assert_eq!(
        (&updated["event_types"], &updated["url"]),
        (&json!([]), &json!("https://93.184.215.15/in"))
    );

    let rotated = op(s, &["webhook", "rotate-secret", &own]).ok();
    assert_ne!(secret_key(&rotated["secret"]), first_key);
    op(s, &["webhook", "remove", &theirs]).ok();
    w.partner
        .get(&format!("/v1/partners/webhooks/endpoints/{theirs}"))
        .await
        .problem(404, "not_found");
    let actors: Vec<String> = endpoint_audit(s).await.into_iter().map(|e| e.actor).collect();
    assert_eq!(actors.iter().filter(|a| *a == "operator").count(), 5, "{actors:?}");

    // Refusals, with their codes.
    fails_with(
        &op(s, &["webhook", "add", "acme", "staging", "http://127.0.0.1:9/"]),
        "webhook_target_not_allowed",
    );
    fails_with(
        &op(s, &["webhook", "add", "acme", "production", "http://93.184.215.14/"]),
        "validation_failed",
    );
    fails_with(&op(s, &["webhook", "add", "nobody", "staging", CLI_URL]), "not_found");
    fails_with(&op(s, &["webhook", "update", "ep_nonsense", "--disable"]), "not_found");
    fails_with(&op(s, &["webhook", "remove", &theirs]), "not_found");
    let allowed = op(
        s,
        &[
            "--webhook-allow-private-targets",
            "webhook",
            "add",
            "acme",
            "staging",
            "http://127.0.0.1:9/",
        ],
    );
    assert_eq!(allowed.ok()["url"], "http://127.0.0.1:9/");
}

/// Runs the binary with `envs` on `data` (SQLite), as `cli` does.
fn run_with_env(data: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> CliRun {
    let output = onramp_command()
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("onramp runs");
    CliRun {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn the_private_targets_setting_comes_from_the_flag_the_environment_or_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_acme_with_cli(&data);
    let add = ["webhook", "add", "acme", "staging", "http://localhost:9/"];
    fails_with(&run_with_env(&data, &add, &[]), "webhook_target_not_allowed");
    fails_with(
        &run_with_env(&data, &add, &[("ONRAMP_WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")]),
        "webhook_target_not_allowed",
    );
    run_with_env(&data, &add, &[("ONRAMP_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")]).ok();
    // The usual spellings of a true environment variable.
    for yes in ["1", "yes", "on"] {
        run_with_env(&data, &add, &[("ONRAMP_WEBHOOK_ALLOW_PRIVATE_TARGETS", yes)]).ok();
    }
    fails_with(
        &run_with_env(&data, &add, &[("ONRAMP_WEBHOOK_ALLOW_PRIVATE_TARGETS", "0")]),
        "webhook_target_not_allowed",
    );
    let config = dir.path().join("onramp.toml");
    std::fs::write(&config, "webhook_allow_private_targets = true\n").unwrap();
    let config = config.display().to_string();
    let mut with_file = vec!["--config", config.as_str()];
    with_file.extend(add);
    run_with_env(&data, &with_file, &[]).ok();

    // `serve` reads the same setting.
    let data_arg = data.display().to_string();
    let serve_policy = |extra: &[&str]| {
        let mut args: Vec<OsString> = ["onramp", "--data-dir", data_arg.as_str()].map(OsString::from).to_vec();
        args.extend(extra.iter().map(OsString::from));
        args.push("serve".into());
        let first = onramp::config::command()
            .try_get_matches_from(args.clone())
            .expect("valid command line");
        let cli = onramp::config::resolve(&first, args).expect("settings");
        let onramp::cli::Command::Serve(serve) = cli.command else {
            panic!("not serve");
        };
        serve
            .settings(&cli.global)
            .expect("server settings")
            .core
            .webhook_targets
            .allow_private
    };
    assert!(!serve_policy(&[]), "off by default");
    assert!(serve_policy(&["--webhook-allow-private-targets"]));
    assert!(serve_policy(&["--config", config.as_str()]));
}

#[test]
fn every_webhook_command_and_flag_has_help() {
    let root = onramp::config::command();
    let webhook = root.find_subcommand("webhook").expect("onramp webhook");
    assert!(webhook.get_about().is_some());
    let names: Vec<&str> = webhook.get_subcommands().map(|c| c.get_name()).collect();
    let expected = [
        "add",
        "list",
        "update",
        "rotate-secret",
        "remove",
        "deliveries",
        "resend",
        "recover",
    ];
    assert_eq!(names, expected);
    for command in webhook.get_subcommands() {
        assert!(command.get_about().is_some(), "{} has no help", command.get_name());
        for arg in command.get_arguments().filter(|a| !a.is_global_set() && a.get_id() != "help") {
            assert!(
                arg.get_help().is_some(),
                "webhook {} {} has no help",
                command.get_name(),
                arg.get_id()
            );
        }
    }
    let run = run_raw(&["webhook", "update", "--help"]);
    assert!(run.success && run.stdout.contains("--disable"), "{}", run.stdout);
}
