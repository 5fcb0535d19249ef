//! Keys within what the operator allowed: the portal's key form offers
//! only the partner's allowed scopes, and the server refuses any other
//! with a form error, creating nothing.

use onramp_domain::audit::Actor;

use super::{apply, approve, browser, create_key, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_form_offers_and_takes_only_the_allowed_scopes() {
    let server = server().await;
    let mut b = browser(&server);
    apply(&mut b, "Acme Ltd", "ann@acme.example").await;
    let id = approve(&server, "Acme Ltd").await;
    let keys = b.get("/partners/keys").await;
    for scope in ["accounts:write", "accounts:read", "usage:read", "webhooks:manage"] {
        assert!(
            keys.text.contains(&format!(r#"name="{scope}""#)),
            "every scope offered at first: {scope}"
        );
    }
    let scopes = ["usage:read".to_owned(), "webhooks:manage".to_owned()];
    server
        .core
        .partners()
        .set_allowed_scopes(&Actor::operator(), &id, &scopes)
        .await
        .unwrap();

    let keys = b.get("/partners/keys").await;
    keys.expect(200);
    assert!(keys.text.contains(r#"name="usage:read""#) && keys.text.contains(r#"name="webhooks:manage""#));
    assert!(!keys.text.contains(r#"name="accounts:write""#) && !keys.text.contains(r#"name="accounts:read""#));
    assert!(keys.text.contains("the scopes the operator allows your keys"));

    // A hand-made form with another scope: a clear error, nothing created.
    let r = b
        .post(
            "/partners/keys",
            &[
                ("csrf", &b.csrf()),
                ("accounts:write", "on"),
                ("usage:read", "on"),
                ("expires_in", "90"),
            ],
        )
        .await;
    r.expect(400);
    assert!(
        r.text
            .contains("accounts:write not allowed for this partner (allowed: usage:read, webhooks:manage)"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("id=\"new-key\""));
    assert!(server.core.partners().api_keys(&id).await.unwrap().is_empty(), "no key made");

    let (key_id, _) = create_key(&mut b, &["usage:read"]).await;
    let made = server.core.partners().api_keys(&id).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].key_id.as_str(), key_id);
}
