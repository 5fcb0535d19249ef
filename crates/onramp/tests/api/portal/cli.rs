//! `onramp partner invite` (the real binary): a one-time link to the
//! partner's portal, which sets the person's password on a running server.

use crate::helpers::{ChildServer, cli, create_acme_with_cli, host, run_raw};
use crate::pages::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_invites_a_contact_who_sets_a_password_and_waits_for_approval() {
    let help = run_raw(&["partner", "invite", "--help"]);
    assert!(help.success && help.stdout.contains("one-time link") && help.stdout.contains("--origin"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_acme_with_cli(&data);
    cli(
        &data,
        &[
            "instance",
            "features",
            "acme",
            "--enable",
            "client-accounts",
            "--enable",
            "partners",
        ],
    )
    .ok();
    let partner = cli(&data, &["partner", "create", "acme", "staging", "Acme Ltd"]).ok();
    let id = partner["id"].as_str().unwrap().to_owned();

    let invited = cli(&data, &["partner", "invite", &id, "Bob@Acme.example"]).ok();
    assert_eq!(invited["email"], "bob@acme.example");
    assert_eq!(invited["partner_id"], id.as_str());
    let path = invited["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/partners/invite/onr_inv_"), "{invited}");
    assert_eq!(
        invited["url"].as_str().unwrap(),
        format!("http://{}:8080{path}", host("acme", "staging"))
    );
    let other = cli(
        &data,
        &[
            "partner",
            "invite",
            &id,
            "cy@acme.example",
            "--origin",
            "https://partners.acme.example/",
        ],
    )
    .ok();
    assert!(
        other["url"]
            .as_str()
            .unwrap()
            .starts_with("https://partners.acme.example/partners/invite/onr_inv_")
    );
    assert!(!cli(&data, &["partner", "invite", &id, "not-an-email"]).success);
    assert!(!cli(&data, &["partner", "invite", "no-such-partner", "dee@acme.example"]).success);

    let server = ChildServer::start(&data, &[]).await;
    let mut bob = Browser::new(server.api(&host("acme", "staging")));
    bob.get(&path).await.expect(200);
    let r = bob.post(&path, &[("csrf", &bob.csrf()), ("password", "Bobs-own-password-1")]).await;
    r.expect(303);
    assert_eq!(
        bob.get("/partners/keys").await.expect(303).header("location"),
        Some("/partners/status")
    );
    assert!(bob.get("/partners/status").await.text.contains("Awaiting approval"));
    // Bob is in: a second invitation of his email is refused.
    let again = cli(&data, &["partner", "invite", &id, "bob@acme.example"]);
    assert!(!again.success);
    assert_eq!(again.json()["error"]["code"], "conflict");
    cli(&data, &["partner", "approve", &id]).ok();
    bob.get("/partners/keys").await.expect(200);
}

#[test]
fn the_operator_sets_a_partners_scopes_and_keys_stay_within_them() {
    let help = run_raw(&["partner", "scopes", "--help"]);
    assert!(help.success, "{}", help.stderr);
    assert!(help.stdout.contains("Set the scopes a partner's keys may have") && help.stdout.contains("webhooks:manage"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_acme_with_cli(&data);
    let partner = cli(&data, &["partner", "create", "acme", "staging", "Acme Ltd"]).ok();
    let id = partner["id"].as_str().unwrap().to_owned();
    assert_eq!(
        partner["allowed_scopes"],
        serde_json::json!(["accounts:write", "accounts:read", "usage:read", "webhooks:manage"]),
        "a new partner may have every scope"
    );

    let set = cli(&data, &["partner", "scopes", &id, "usage:read", "accounts:read", "usage:read"]).ok();
    assert_eq!(set["partner_id"], id.as_str());
    assert_eq!(set["allowed_scopes"], serde_json::json!(["accounts:read", "usage:read"]));
    // Without scopes it only prints them.
    let shown = cli(&data, &["partner", "scopes", &id]).ok();
    assert_eq!(shown["allowed_scopes"], set["allowed_scopes"]);
    let bad = cli(&data, &["partner", "scopes", &id, "admin"]);
    assert!(!bad.success);
    assert!(
        bad.stdout.contains("unknown_scope") || bad.stderr.contains("unknown scope"),
        "{}",
        bad.stdout
    );
    assert!(!cli(&data, &["partner", "scopes", "no-such-partner", "usage:read"]).success);

    // `key issue` stays within them: all allowed ones by default, others refused.
    let refused = cli(&data, &["key", "issue", &id, "--scope", "accounts:write"]);
    assert!(!refused.success);
    assert!(refused.stdout.contains("not allowed for this partner"), "{}", refused.stdout);
    let issued = cli(&data, &["key", "issue", &id]).ok();
    assert_eq!(issued["scopes"], serde_json::json!(["accounts:read", "usage:read"]), "{issued}");
    let audit = cli(&data, &["audit", "list"]).ok().to_string();
    assert_eq!(audit.matches("partner.scopes_changed").count(), 1, "{audit}");
}
