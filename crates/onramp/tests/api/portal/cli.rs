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
