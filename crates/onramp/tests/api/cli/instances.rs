//! `onramp instance …`: create, list, show, update, features, hosts; a failed update changes nothing.

use super::*;

#[test]
fn instance_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let m = cli(data, &["migrate"]).ok();
    assert_eq!(m["status"], "ok");
    assert!(m["migrations"].is_array());
    // Migrating again is a no-op that still succeeds.
    assert_eq!(cli(data, &["migrate"]).ok()["status"], "ok");

    assert_eq!(cli(data, &["instance", "list"]).ok()["data"], json!([]));
    let created = create_acme_with_cli(data);
    assert_eq!(created["platform_id"], "acme");
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["region"], "za");
    assert_eq!(created["app_url"], "https://app.acme.example");
    assert_eq!(created["features"], json!([]));
    assert_eq!(env_doc(&created, "staging")["host"], "api.staging.acme.localhost");
    assert_eq!(env_doc(&created, "production")["host"], "api.acme.localhost");
    assert_ne!(env_doc(&created, "staging")["id"], env_doc(&created, "production")["id"]);

    fails_with(
        &cli(
            data,
            &[
                "instance",
                "create",
                "acme",
                "--name",
                "Again",
                "--region",
                "za",
                "--app-url",
                "https://x.example",
            ],
        ),
        "conflict",
    );
    fails_with(
        &cli(
            data,
            &[
                "instance",
                "create",
                "Bad_Id!",
                "--name",
                "Bad",
                "--region",
                "za",
                "--app-url",
                "https://x.example",
            ],
        ),
        "validation_failed",
    );
    fails_with(
        &cli(
            data,
            &[
                "instance",
                "create",
                "okid",
                "--name",
                "Ok",
                "--region",
                "za",
                "--app-url",
                "not a url",
            ],
        ),
        "validation_failed",
    );
    cli(
        data,
        &[
            "instance",
            "create",
            "beta",
            "--name",
            "Beta",
            "--region",
            "eu",
            "--app-url",
            "https://beta.example",
        ],
    )
    .ok();

    let list = cli(data, &["instance", "list"]).ok();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["platform_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"acme") && ids.contains(&"beta"));

    let shown = cli(data, &["instance", "show", "acme"]).ok();
    assert_eq!(shown["platform_id"], "acme");
    assert_eq!(shown["name"], "Acme");
    fails_with(&cli(data, &["instance", "show", "nobody"]), "not_found");

    let updated = cli(
        data,
        &[
            "instance",
            "update",
            "acme",
            "--name",
            "Acme Inc",
            "--region",
            "eu",
            "--rate-limit",
            "GET /v1/client/{user_id}=5",
            "--rate-limit",
            "default=100",
            "--cors-origin",
            "staging=https://app.acme.example",
        ],
    )
    .ok();
    assert_eq!(updated["name"], "Acme Inc");
    assert_eq!(updated["region"], "eu");
    assert_eq!(updated["rate_limits"]["GET /v1/client/{user_id}"], 5);
    assert_eq!(updated["rate_limits"]["default"], 100);
    assert_eq!(env_doc(&updated, "staging")["cors_origins"], json!(["https://app.acme.example"]));
    assert_eq!(env_doc(&updated, "production")["cors_origins"], json!([]));
    // Persisted, and N=0 removes an override.
    let updated = cli(
        data,
        &[
            "instance",
            "update",
            "acme",
            "--rate-limit",
            "default=0",
            "--remove-cors-origin",
            "staging=https://app.acme.example",
        ],
    )
    .ok();
    assert!(updated["rate_limits"].get("default").is_none(), "{updated}");
    assert_eq!(updated["rate_limits"]["GET /v1/client/{user_id}"], 5);
    assert_eq!(env_doc(&updated, "staging")["cors_origins"], json!([]));
    assert_eq!(cli(data, &["instance", "show", "acme"]).ok()["name"], "Acme Inc");
    fails_with(
        &cli(data, &["instance", "update", "acme", "--rate-limit", "lots"]),
        "validation_failed",
    );
    fails_with(
        &cli(data, &["instance", "update", "acme", "--cors-origin", "staging=not-an-origin"]),
        "validation_failed",
    );
    fails_with(&cli(data, &["instance", "update", "nobody", "--name", "X"]), "not_found");

    let f = cli(data, &["instance", "features", "acme", "--enable", "client-accounts"]).ok();
    assert_eq!(f["features"], json!(["client-accounts"]));
    let help = run_raw(&["instance", "features", "--help"]);
    for feature in onramp_domain::tenancy::Feature::ALL {
        assert!(help.stdout.contains(feature.as_str()), "--help names {feature:?}:\n{}", help.stdout);
    }
    fails_with(
        &cli(data, &["instance", "features", "acme", "--enable", "no-such-feature"]),
        "validation_failed",
    );
    assert_eq!(
        cli(data, &["instance", "show", "acme"]).ok()["features"],
        json!(["client-accounts"])
    );
    assert_eq!(cli(data, &["instance", "show", "beta"]).ok()["features"], json!([]));
    let f = cli(data, &["instance", "features", "acme", "--disable", "client-accounts"]).ok();
    assert_eq!(f["features"], json!([]));

    let h = cli(data, &["instance", "hosts", "acme", "production", "--add", "accounts.acme.example"]).ok();
    assert_eq!(h["hostnames"], json!(["accounts.acme.example"]));
    assert_eq!(h["environment"], "production");
    assert_eq!(
        cli(data, &["instance", "hosts", "acme", "production"]).ok()["hostnames"],
        json!(["accounts.acme.example"])
    );
    assert_eq!(cli(data, &["instance", "hosts", "acme", "staging"]).ok()["hostnames"], json!([]));
    fails_with(
        &cli(data, &["instance", "hosts", "beta", "staging", "--add", "accounts.acme.example"]),
        "conflict",
    );
    fails_with(
        &cli(data, &["instance", "hosts", "acme", "staging", "--add", "not a host"]),
        "validation_failed",
    );
    let h = cli(
        data,
        &["instance", "hosts", "acme", "production", "--remove", "accounts.acme.example"],
    )
    .ok();
    assert_eq!(h["hostnames"], json!([]));
    assert!(
        !cli(data, &["instance", "hosts", "acme", "qa"]).success,
        "only staging and production exist"
    );

    // Everything the operator did is in the audit log.
    let audit = cli(data, &["audit", "list", "--platform-id", "acme", "--limit", "100"]).ok();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "instance.created",
        "instance.updated",
        "instance.features_changed",
        "environment.updated",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["platform_id"] == "acme" && e["actor"] == "operator")
    );
}

#[test]
fn a_failed_instance_update_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    create_acme_with_cli(data);
    // The origin is invalid, so the command fails as a whole...
    let run = cli(
        data,
        &[
            "instance",
            "update",
            "acme",
            "--name",
            "Renamed",
            "--region",
            "eu",
            "--rate-limit",
            "default=7",
            "--cors-origin",
            "staging=not-an-origin",
        ],
    );
    fails_with(&run, "validation_failed");
    // ...and none of its other changes may have been applied.
    let shown = cli(data, &["instance", "show", "acme"]).ok();
    assert_eq!(shown["name"], "Acme", "a failed update applied part of its changes: {shown}");
    assert_eq!(shown["region"], "za", "{shown}");
    assert!(shown["rate_limits"].get("default").is_none(), "{shown}");
}
