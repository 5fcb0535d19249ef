//! `/account/developers`: keys shown once after a redirect, apps edited and
//! deleted, and the popup naming an unregistered origin.

use onramp_domain::audit::Actor;
use onramp_domain::ids::{AccountId, AppId};
use reqwest::Method;

use super::{Browser, ORIGIN, World, attribute, connect_path, world};
use crate::helpers::{Api, CLIENT_PASSWORD, pid, send};

const PAGE: &str = "/account/developers";

/// `GET /v1/integration/users/<unknown>` with `key`: 404 for a working key, 401 otherwise.
async fn probe(vendor: &Api, key: &str) -> u16 {
    let path = "/v1/integration/users/00000000-0000-4000-8000-000000000000";
    send(vendor.request(Method::GET, path).header("x-api-key", key)).await.status
}

fn shown_key(html: &str) -> Option<String> {
    let marker = "<code id=\"new-key\">";
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('<').unwrap()].to_owned())
}

fn first_app_id(html: &str) -> String {
    let start = html.find("/account/developers/").unwrap() + "/account/developers/".len();
    html[start..start + 36].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_comes_after_a_redirect_and_is_shown_once() {
    let w = world().await;
    let vendor = w.fx.server.staging("acme").without_token();
    let mut b = Browser::new(w.fx.server.staging("acme"));
    assert_eq!(b.get(PAGE).await.status, 303, "signed-out visitors go to the login page");
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let csrf = b.csrf();
    let bad = b.post(PAGE, &[("csrf", &csrf), ("name", "Local"), ("origins", "ftp://nope")]).await;
    bad.expect(400);
    let app = [("csrf", csrf.as_str()), ("name", "My shop"), ("origins", "http://localhost:3000")];
    b.post(PAGE, &app).await.expect(303);
    let app_id = first_app_id(&b.get(PAGE).await.text);

    let generate = b.post(&format!("{PAGE}/{app_id}/key"), &[("csrf", &csrf)]).await;
    generate.expect(303);
    assert_eq!(generate.header("location"), Some(PAGE));
    assert_eq!(shown_key(&generate.text), None, "the POST's answer carries no key");
    let page = b.get(PAGE).await;
    let key = shown_key(&page.text).expect("the page after the redirect shows the key");
    assert!(page.text.contains("Key id: <code>key_"), "{}", page.text);
    assert!(!page.text.contains(&format!("Key id: <code>{key}")));
    // A reload shows no key and resets nothing: the key still works.
    let reload = b.get(PAGE).await;
    assert_eq!(shown_key(&reload.text), None);
    assert_eq!(probe(&vendor, &key).await, 404);
    // Another session of the same person never sees it either.
    let mut elsewhere = Browser::new(w.fx.server.staging("acme"));
    elsewhere.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    b.post(&format!("{PAGE}/{app_id}/key"), &[("csrf", &csrf)]).await.expect(303);
    assert_eq!(shown_key(&elsewhere.get(PAGE).await.text), None);
    let new_key = shown_key(&b.get(PAGE).await.text).unwrap();
    assert_ne!(new_key, key);
    assert_eq!(probe(&vendor, &key).await, 401, "the old key stops at once");
    assert_eq!(probe(&vendor, &new_key).await, 404);

    // Someone else's app is not there to reset.
    let mut other = Browser::new(w.fx.server.staging("acme"));
    other.sign_in("dev@example.com", CLIENT_PASSWORD).await;
    let other_csrf = other.csrf();
    other
        .post(&format!("{PAGE}/{app_id}/key"), &[("csrf", &other_csrf)])
        .await
        .expect(404);
    assert_eq!(probe(&vendor, &new_key).await, 404);
    // Self sign-up is its own feature; the pages need user-integration.
    b.get("/account/signup").await.expect(403);
    w.fx.server
        .core
        .tenancy()
        .set_features(&Actor::operator(), &pid("acme"), &[], &["user-integration".into()])
        .await
        .unwrap();
    b.get("/account").await.expect(403);
}

/// Ann grants Dev's app access, through the service the popup uses.
async fn ann_grants(w: &World) -> AccountId {
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let ann = core
        .accounts()
        .list(&tenant, None, Some("ann@example.com"), None, 1)
        .await
        .unwrap()
        .items[0]
        .clone();
    let app = core
        .integration()
        .vendor_app(&tenant, &AppId::from(w.app_id.as_str()))
        .await
        .unwrap();
    let challenge = super::CHALLENGE;
    core.integration()
        .authorize(&tenant, &ann.id, &Actor::account(&ann.id), &app, challenge)
        .await
        .unwrap();
    ann.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_are_edited_and_deleted_by_their_owner_only() {
    let w = world().await;
    let vendor = w.fx.server.staging("acme").without_token();
    let ann_id = ann_grants(&w).await;
    let profile = format!("/v1/integration/users/{ann_id}");
    let read_ann = async || send(vendor.request(Method::GET, &profile).header("x-api-key", &w.key)).await.status;
    assert_eq!(read_ann().await, 200);
    let (edit, delete) = (format!("{PAGE}/{}/edit", w.app_id), format!("{PAGE}/{}/delete", w.app_id));

    let mut ann = Browser::new(w.fx.server.staging("acme"));
    ann.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    ann.get(&edit).await.expect(404);
    let token = ann.csrf();
    ann.post(&delete, &[("csrf", &token)]).await.expect(404);

    let mut dev = Browser::new(w.fx.server.staging("acme"));
    dev.sign_in("dev@example.com", CLIENT_PASSWORD).await;
    let form = dev.get(&edit).await;
    form.expect(200);
    assert!(form.text.contains("value=\"Shop\"") && form.text.contains(ORIGIN), "{}", form.text);
    let csrf = dev.csrf();
    let bad = dev
        .post(
            &edit,
            &[("csrf", &csrf), ("name", "Shop 2"), ("origins", "http://shop2.example.com")],
        )
        .await;
    bad.expect(400);
    assert!(
        bad.text.contains("must be an https:// origin") && bad.text.contains("Shop 2"),
        "{}",
        bad.text
    );
    let saved = dev
        .post(
            &edit,
            &[("csrf", &csrf), ("name", "Shop 2"), ("origins", "https://shop2.example.com")],
        )
        .await;
    saved.expect(303);
    let list = dev.get(PAGE).await;
    assert!(
        list.text.contains("Saved “Shop 2”.") && list.text.contains("https://shop2.example.com"),
        "{}",
        list.text
    );
    assert!(!dev.get(PAGE).await.text.contains("Saved “Shop 2”."), "a notice is shown once");
    // The key and Ann's grant stay; the old origin no longer connects.
    assert_eq!(read_ann().await, 200);
    let old = ann.get(&connect_path(&w.app_id, ORIGIN)).await;
    old.expect(400);
    ann.get(&connect_path(&w.app_id, "https://shop2.example.com")).await.expect(200);

    let confirm = dev.get(&delete).await;
    confirm.expect(200);
    assert!(
        confirm.text.contains("Delete “Shop 2”?") && confirm.text.contains("Delete app"),
        "{}",
        confirm.text
    );
    dev.post(&delete, &[("csrf", "")]).await.expect(403);
    let csrf = dev.csrf();
    dev.post(&delete, &[("csrf", &csrf)]).await.expect(303);
    let list = dev.get(PAGE).await;
    assert!(
        list.text.contains("Deleted “Shop 2”") && list.text.contains("No apps yet."),
        "{}",
        list.text
    );
    assert_eq!(read_ann().await, 401, "the key stopped");
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let app_id = AppId::from(w.app_id.as_str());
    assert_eq!(core.integration().grant_of(&tenant, &ann_id, &app_id).await.unwrap(), None);
    assert!(!ann.get("/account/connections").await.text.contains("Shop"));
    dev.post(&delete, &[("csrf", &csrf)]).await.expect(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_popup_names_the_origin_that_is_not_registered_and_the_app() {
    let w = world().await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    let wrong = b.get(&connect_path(&w.app_id, "https://evil.example")).await;
    wrong.expect(400);
    assert!(
        wrong
            .text
            .contains("The site https://evil.example is not registered for the app “Shop”; nothing was shared."),
        "{}",
        wrong.text
    );
    assert!(!wrong.text.contains("connect-result"), "nothing for the opener");
    // What is not an origin is not repeated to the person.
    let junk = b.get(&connect_path(&w.app_id, "Call +1 555 0100 to verify")).await;
    junk.expect(400);
    assert!(
        !junk.text.contains("555") && junk.text.contains("gave no valid origin for the app “Shop”"),
        "{}",
        junk.text
    );
    let ok = b.get(&connect_path(&w.app_id, ORIGIN)).await;
    assert_eq!(attribute(&ok.text, "action"), "/connect/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_uris_and_the_id_token_algorithm_are_set_on_the_developers_page() {
    let w = world().await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let csrf = b.csrf();
    let form = |uris: &'static str, alg: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Oidc shop".to_owned()),
            ("origins", "https://shop.example.com".to_owned()),
            ("redirect_uris", uris.to_owned()),
            ("id_token_alg", alg.to_owned()),
        ]
    };
    let post = async |b: &mut Browser, path: &str, fields: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post(path, &pairs).await
    };
    for (uris, alg, why) in [
        ("http://shop.example.com/cb", "ES256", "must be an https:// URL"),
        ("https://shop.example.com/cb#top", "ES256", "no #fragment"),
        ("/cb", "ES256", "is not an absolute URL"),
        ("https://shop.example.com/cb", "RS256", "choose ES256 or EdDSA"),
    ] {
        let bad = post(&mut b, PAGE, form(uris, alg)).await;
        bad.expect(400);
        assert!(bad.text.contains(why), "{uris} {alg}: {}", bad.text);
    }
    let uris = "https://shop.example.com/callback\nhttp://localhost:3000/cb";
    post(&mut b, PAGE, form(uris, "EdDSA")).await.expect(303);
    let page = b.get(PAGE).await.text;
    assert!(
        page.contains("Redirect URIs: https://shop.example.com/callback, http://localhost:3000/cb")
            && page.contains("ID token signing algorithm: <code>EdDSA</code>"),
        "{page}"
    );
    let app_id = first_app_id(&page);
    let edit = format!("{PAGE}/{app_id}/edit");
    let shown = b.get(&edit).await.text;
    assert!(
        shown.contains("https://shop.example.com/callback\nhttp://localhost:3000/cb</textarea>")
            && shown.contains("<option value=\"EdDSA\" selected>"),
        "{shown}"
    );
    // The form's default is ES256, and an edit may drop every redirect URI.
    post(&mut b, &edit, form("", "")).await.expect(303);
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let app = core.integration().vendor_app(&tenant, &AppId::from(app_id.as_str())).await.unwrap();
    assert!(app.redirect_uris.is_empty());
    assert_eq!(app.id_token_alg.as_str(), "ES256");
    // The card says when there are none.
    let page = b.get(PAGE).await.text;
    assert!(page.contains("Redirect URIs: none"), "{page}");
}
