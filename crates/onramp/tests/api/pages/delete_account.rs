//! `/account/delete`: a person deletes their own account with their
//! password; sessions, grants and apps go with it, and the password check
//! is the login throttle's, shared with the password-change page.

use onramp_domain::audit::Actor;
use onramp_domain::ids::AccountId;
use reqwest::Method;
use serde_json::json;

use super::{Browser, CHALLENGE, World, world};
use crate::helpers::{CLIENT_PASSWORD, send};

const PAGE: &str = "/account/delete";

/// Ann grants Dev's app "Shop" and registers an app of her own with a key,
/// which Dev grants. Returns Ann's id and her app's key.
async fn ann_connected_and_developing(w: &World) -> (AccountId, String) {
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let id_of = async |email: &str| {
        core.accounts().list(&tenant, None, Some(email), None, 1).await.unwrap().items[0]
            .id
            .clone()
    };
    let (ann, dev) = (id_of("ann@example.com").await, id_of("dev@example.com").await);
    let integration = core.integration();
    let shop = integration.vendor_app(&tenant, &w.app_id.as_str().into()).await.unwrap();
    integration
        .authorize(&tenant, &ann, &Actor::account(&ann), &shop, CHALLENGE)
        .await
        .unwrap();
    let origins = ["https://ann.example.com".to_owned()];
    let own = integration
        .register_app(&tenant, &ann, &Actor::account(&ann), "Ann's app", &origins)
        .await
        .unwrap();
    let (_, key) = integration
        .reset_vendor_key(&tenant, &ann, &Actor::account(&ann), &own.id)
        .await
        .unwrap();
    integration
        .authorize(&tenant, &dev, &Actor::account(&dev), &own, CHALLENGE)
        .await
        .unwrap();
    (ann, key.expose().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_ones_account_ends_its_sessions_grants_and_apps() {
    let w = world().await;
    let (ann_id, ann_key) = ann_connected_and_developing(&w).await;
    let vendor = w.fx.server.staging("acme").without_token();
    let read = async |key: &str, user: &AccountId| {
        let path = format!("/v1/integration/users/{user}");
        send(vendor.request(Method::GET, &path).header("x-api-key", key)).await.status
    };
    assert_eq!(read(&w.key, &ann_id).await, 200);
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let mut elsewhere = Browser::new(w.fx.server.staging("acme"));
    elsewhere.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    assert!(b.get("/account").await.text.contains("href=\"/account/delete\""));

    let form = b.get(PAGE).await;
    form.expect(200);
    assert!(form.text.contains("ann@example.com") && form.text.contains("Delete my account"));
    b.post(PAGE, &[("current_password", CLIENT_PASSWORD)]).await.expect(403);
    let csrf = b.csrf();
    let wrong = b.post(PAGE, &[("csrf", &csrf), ("current_password", "not-my-password")]).await;
    wrong.expect(400);
    assert!(wrong.text.contains("The password is wrong."), "{}", wrong.text);
    elsewhere.get("/account").await.expect(200);

    let session = b.cookie("onramp_session").unwrap();
    let done = b.post(PAGE, &[("csrf", &csrf), ("current_password", CLIENT_PASSWORD)]).await;
    done.expect(303);
    assert_eq!(done.header("location"), Some("/account/deleted"));
    assert!(Browser::set_cookie(&done, "onramp_session").contains("Max-Age=0"));
    let confirmation = b.get("/account/deleted").await;
    confirmation.expect(200);
    assert!(confirmation.text.contains("Account deleted"));

    // Every session ended, here and elsewhere, also for the API.
    b.get("/account").await.expect(303);
    elsewhere.get("/account").await.expect(303);
    let verify = json!({ "client_token": session });
    w.fx.staging
        .post("/v1/client/sessions/verify", &verify)
        .await
        .problem(401, "unauthenticated");
    // Her grant ended and her app with its key is gone; Dev's app works on.
    assert_eq!(read(&w.key, &ann_id).await, 404);
    assert_eq!(read(&ann_key, &ann_id).await, 401);
    let login = json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD });
    w.fx.staging.post("/v1/client/login", &login).await.problem(401, "unauthenticated");
    let dev = json!({ "email": "dev@example.com", "password": CLIENT_PASSWORD });
    w.fx.staging.post("/v1/client/login", &dev).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_on_the_delete_page_are_throttled_like_logins() {
    let w = world().await;
    let mut thief = Browser::new(w.fx.server.staging("acme"));
    thief.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    // The password page and the delete page count into one throttle.
    thief.get("/account").await.expect(200);
    for i in 0..2 {
        let guess = format!("guess-{i}");
        let form = [("current_password", guess.as_str()), ("new_password", "a-Brand-new-passphrase-42")];
        let csrf = thief.csrf();
        let r = thief.post("/account/password", &[&form[..], &[("csrf", &csrf)]].concat()).await;
        r.expect(400);
    }
    thief.get(PAGE).await.expect(200);
    let csrf = thief.csrf();
    for i in 2..5 {
        let guess = format!("guess-{i}");
        let r = thief.post(PAGE, &[("csrf", &csrf), ("current_password", &guess)]).await;
        r.expect(400);
    }
    // The sixth attempt waits, right password or not, and nothing is deleted.
    let r = thief.post(PAGE, &[("csrf", &csrf), ("current_password", CLIENT_PASSWORD)]).await;
    r.expect(429);
    assert!(r.text.contains("Too many attempts"), "{}", r.text);
    thief.get("/account").await.expect(200);
    // Once the backoff has passed, the account is still there to sign in to.
    w.fx.server.clock.advance(std::time::Duration::from_secs(2));
    let login = json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD });
    w.fx.staging.post("/v1/client/login", &login).await.expect(200);
}
