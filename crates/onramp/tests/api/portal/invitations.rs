//! Bringing in a team: a teammate's or the operator's invitation link sets
//! a password once, within 7 days; removing someone ends their session;
//! nobody removes themselves.

use std::time::Duration;

use onramp_domain::audit::Actor;

use super::{PASSWORD, apply, approve, browser, element_text, server, sign_in};
use crate::pages::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_link_works_once_and_removal_signs_the_person_out() {
    let server = server().await;
    let mut ann = browser(&server);
    apply(&mut ann, "Acme Ltd", "ann@acme.example").await;
    approve(&server, "Acme Ltd").await;
    ann.get("/partners/team").await.expect(200);
    let r = ann
        .post("/partners/team", &[("csrf", &ann.csrf()), ("email", "bob@acme.example")])
        .await;
    r.expect(200);
    assert!(r.text.contains(r#"data-copy="invite-link""#));
    let link = element_text(&r.text, "invite-link");
    let path = link
        .strip_prefix(&format!("http://{}", super::host("acme", "staging")))
        .unwrap_or_else(|| panic!("{link}"));
    let path = path.split_once('/').map(|(port, rest)| {
        assert!(port.starts_with(':'), "the host and port the request came to");
        format!("/{rest}")
    });
    let path = path.expect("a path");
    assert!(path.starts_with("/partners/invite/onr_inv_"), "{path}");
    assert!(!ann.get("/partners/team").await.text.contains(&path), "shown once");

    let mut bob = browser(&server);
    let page = bob.get(&path).await;
    page.expect(200);
    assert!(page.text.contains("Join Acme Ltd") && page.text.contains("bob@acme.example"));
    bob.post(&path, &[("csrf", &bob.csrf()), ("password", "short")]).await.expect(400);
    let r = bob.post(&path, &[("csrf", &bob.csrf()), ("password", "Bobs-own-password-1")]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
    bob.get("/partners/keys").await.expect(200);
    // Used: the link is dead, for anyone.
    let mut eve = browser(&server);
    let dead = eve.get(&path).await;
    dead.expect(404);
    assert!(dead.text.contains("Invitation not valid"));

    // Nobody removes themselves; Ann removes Bob, whose session ends.
    let team = ann.get("/partners/team").await;
    assert!(team.text.contains("bob@acme.example"));
    let me = server
        .core
        .portal()
        .users_of(&super::partner_named(&server, "Acme Ltd").await)
        .await
        .unwrap();
    let (ann_id, bob_id) = (me[0].id.clone(), me[1].id.clone());
    ann.post(&format!("/partners/team/{ann_id}/remove"), &[("csrf", &ann.csrf())])
        .await
        .expect(403);
    let r = ann.post(&format!("/partners/team/{bob_id}/remove"), &[("csrf", &ann.csrf())]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/team"));
    assert_eq!(
        bob.get("/partners/keys").await.expect(303).header("location"),
        Some("/partners/sign-in")
    );
    sign_in(&mut bob, "bob@acme.example", "Bobs-own-password-1").await.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_invitation_expires_after_seven_days() {
    let server = server().await;
    let mut ann = browser(&server);
    apply(&mut ann, "Acme Ltd", "ann@acme.example").await;
    let partner = super::partner_named(&server, "Acme Ltd").await;
    // The operator may invite to a pending partner: the person sees its status.
    let early = server
        .core
        .portal()
        .invite(&Actor::operator(), &partner, "cy@acme.example")
        .await
        .unwrap();
    let late = server
        .core
        .portal()
        .invite(&Actor::operator(), &partner, "di@acme.example")
        .await
        .unwrap();
    let mut cy = browser(&server);
    cy.get(early.url_path.expose()).await.expect(200);
    let r = cy
        .post(early.url_path.expose(), &[("csrf", &cy.csrf()), ("password", "Cys-own-password-1")])
        .await;
    r.expect(303);
    assert_eq!(
        cy.get("/partners/keys").await.expect(303).header("location"),
        Some("/partners/status")
    );

    let mut di = browser(&server);
    di.get(late.url_path.expose()).await.expect(200);
    server.clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    let r = di
        .post(late.url_path.expose(), &[("csrf", &di.csrf()), ("password", "Dis-own-password-1")])
        .await;
    r.expect(404);
    assert!(r.text.contains("Invitation not valid"));
    let r = Browser::new(server.staging("acme")).get(late.url_path.expose()).await;
    r.expect(404);
    sign_in(&mut di, "di@acme.example", "Dis-own-password-1").await.expect(401);
    sign_in(&mut ann, "ann@acme.example", PASSWORD).await.expect(303);
}
