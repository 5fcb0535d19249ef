//! The service-user API (`/v1/webhooks/endpoints…`, role `service`): the
//! environment's own endpoints, their secrets and their validation.

use std::time::Duration;

use onramp_domain::clock::Clock as _;
use onramp_domain::ids::EndpointId;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::webhooks::Owner;
use onramp_domain::webhooks::signature::{signature_header, verify};
use serde_json::{Value, json};

use super::*;

const LIST: &str = "/v1/webhooks/endpoints";

fn path(id: &str) -> String {
    format!("{LIST}/{id}")
}

fn rotate(api: &Api, id: &str) -> impl Future<Output = Resp> + use<> {
    send(api.request(reqwest::Method::POST, &format!("{}/rotate-secret", path(id))))
}

async fn create(api: &Api, body: &Value) -> Value {
    let r = api.post(LIST, body).await;
    r.expect(201);
    r.json.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_users_create_read_update_rotate_and_delete_endpoints() {
    let fx = Fixture::with(test_resolver, &[]).await;
    let api = &fx.staging;
    let events_before = feed(api).await.len();

    let body = json!({ "url": PUBLIC_URL, "description": "Orders", "event_types": ["account.deleted", "partner.created"] });
    let created = create(api, &body).await;
    assert_eq!(
        keys(&created),
        ["created_at", "description", "enabled", "event_types", "id", "secret", "url"]
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(EndpointId::lookup(&id).is_ok(), "{id}");
    assert_eq!(created["url"], PUBLIC_URL);
    assert_eq!(created["description"], "Orders");
    assert_eq!(created["enabled"], true);
    // Kept in documentation order.
    assert_eq!(created["event_types"], json!(["account.deleted", "partner.created"]));
    parse_rfc3339(created["created_at"].as_str().unwrap());
    let first_key = secret_key(&created["secret"]);

    // Read back, listed: the same fields, never the secret.
    let got = api.get(&path(&id)).await;
    got.expect(200);
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(got.json, expected);
    let list = api.get(LIST).await;
    list.expect(200);
    assert_eq!(list.json, json!({ "data": [expected], "next_cursor": null }));

    // Update: every field, and each alone keeps the others.
    let r = api
        .patch(&path(&id), &json!({ "event_types": [], "enabled": false, "description": "" }))
        .await;
    r.expect(200);
    assert_eq!(
        (&r.json["event_types"], &r.json["enabled"], &r.json["description"]),
        (&json!([]), &json!(false), &json!(""))
    );
    assert_eq!(r.json["url"], PUBLIC_URL);
    let r = api.patch(&path(&id), &json!({ "url": "https://Other.Example.com" })).await;
    r.expect(200);
    assert_eq!(r.json["url"], "https://Other.Example.com", "kept as sent");
    assert_eq!(r.json["enabled"], false);
    assert!(r.json.get("secret").is_none());
    assert_eq!(api.patch(&path(&id), &json!({ "enabled": true })).await.json["enabled"], true);

    // Rotation: a new secret, shown once; the previous one signs beside it for 24 hours.
    let r = rotate(api, &id).await;
    r.expect(200);
    assert_eq!(r.json["id"], id.as_str());
    let second_key = secret_key(&r.json["secret"]);
    assert_ne!(first_key, second_key);
    assert!(api.get(&path(&id)).await.json.get("secret").is_none());
    let signing = |after: Duration| {
        let server = &fx.server;
        let id = id.clone();
        async move {
            server.clock.advance(after);
            let env = server.core.tenancy().environment(&pid("acme"), EnvKind::Staging).await.unwrap();
            let webhooks = server.core.webhooks();
            let endpoint = webhooks.get(&env, &Owner::Environment, &EndpointId::new(id)).await.unwrap();
            let now = server.clock.now_ms();
            webhooks.sealer().signing_secrets(&endpoint.id, &endpoint.secrets, now).unwrap()
        }
    };
    let both = signing(Duration::ZERO).await;
    assert_eq!(
        both.iter().map(|s| s.key().to_vec()).collect::<Vec<_>>(),
        [second_key.clone(), first_key]
    );
    let header = signature_header(&both, "evt_1", 1_700_000_000, b"{}");
    for holder in &both {
        assert_eq!(
            verify(holder.expose(), "evt_1", "1700000000", b"{}", &header, 1_700_000_000),
            Ok(())
        );
    }
    let later = signing(Duration::from_secs(24 * 3600 + 1)).await;
    assert_eq!(later.iter().map(|s| s.key().to_vec()).collect::<Vec<_>>(), [second_key]);
    // A day later the service token has expired too.
    let api = &fx.server.login(&fx.server.staging("acme"), "svc").await;

    api.delete(&path(&id)).await.expect(204);
    api.get(&path(&id)).await.problem(404, "not_found");
    api.delete(&path(&id)).await.problem(404, "not_found");
    rotate(api, &id).await.problem(404, "not_found");
    api.get(&path("ep_nonsense")).await.problem(404, "not_found");

    // Audited without secrets; no lifecycle event of its own.
    let audit = endpoint_audit(&fx.server).await;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "webhook_endpoint.created",
            "webhook_endpoint.updated",
            "webhook_endpoint.updated",
            "webhook_endpoint.updated",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.deleted",
        ]
    );
    assert!(
        audit
            .iter()
            .all(|e| e.target == id && e.actor == format!("service_user:{}", fx.staging_user))
    );
    assert_eq!(audit[0].detail["origin"], "https://hooks.example.com");
    assert!(!format!("{audit:?}").contains("whsec_"));
    assert_eq!(feed(api).await.len(), events_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_stored_sealed_never_in_plaintext() {
    let fx = Fixture::with(test_resolver, &[]).await;
    let created = create(&fx.staging, &json!({ "url": PUBLIC_URL })).await;
    let id = created["id"].as_str().unwrap();
    let rotated = rotate(&fx.staging, id).await;
    rotated.expect(200);
    let secrets: Vec<(String, Vec<u8>)> = [&created["secret"], &rotated.json["secret"]]
        .into_iter()
        .map(|s| (s.as_str().unwrap().to_owned(), secret_key(s)))
        .collect();

    let rows = raw_rows(&fx.server.settings.database_url).await;
    assert_eq!(rows.len(), 1);
    let (current, previous) = (&rows[0].0, rows[0].1.as_ref().expect("the previous secret is kept"));
    let mut needles: Vec<Vec<u8>> = vec![b"whsec_".to_vec()];
    for (text, key) in &secrets {
        needles.push(text.as_bytes()["whsec_".len()..].to_vec());
        needles.push(key.clone());
    }
    for (name, column) in [("secret", current), ("previous_secret", previous)] {
        assert!(column.len() >= 12 + 16, "{name}: nonce and tag at least");
        for needle in &needles {
            assert!(!contains(column, needle), "{name} holds a secret in the clear");
        }
    }
    // And nowhere else in the database (its file and log, with SQLite).
    if fx.server.settings.database_url.starts_with("sqlite:") {
        for file in ["onramp.db", "onramp.db-wal"].map(|f| fx.server.dir.path().join(f)) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(needles.iter().all(|n| !contains(&bytes, n)), "{}", file.display());
        }
    }
}

/// `(secret, previous_secret)` of every endpoint row, read behind the server's back.
async fn raw_rows(database_url: &str) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    use sqlx::Row as _;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let rows = sqlx::query("SELECT secret, previous_secret FROM webhook_endpoints")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter().map(|r| (r.get("secret"), r.get("previous_secret"))).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_in_creation_order() {
    let fx = Fixture::with(test_resolver, &[]).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let created = create(&fx.staging, &json!({ "url": format!("{PUBLIC_URL}/{n}") })).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let first = fx.staging.get(&format!("{LIST}?limit=2")).await;
    first.expect(200);
    let page_ids = |r: &Resp| -> Vec<String> {
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page_ids(&first), ids[..2]);
    let cursor = first.json["next_cursor"].as_str().expect("a cursor after a full page");
    let second = fx.staging.get(&format!("{LIST}?limit=2&cursor={cursor}")).await;
    second.expect(200);
    assert_eq!(page_ids(&second), ids[2..]);
    assert_eq!(second.json["next_cursor"], Value::Null);
    // Exactly a page: no cursor to an empty page.
    assert_eq!(fx.staging.get(&format!("{LIST}?limit=3")).await.json["next_cursor"], Value::Null);
    for bad in ["limit=0", "limit=201", "cursor=nonsense", "limit=x", "colour=red"] {
        fx.staging.get(&format!("{LIST}?{bad}")).await.problem(400, "invalid_query");
    }
    // Production has its own endpoints.
    assert_eq!(fx.production.get(LIST).await.json["data"], json!([]));
    fx.production.get(&path(&ids[0])).await.problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_is_a_problem_and_changes_nothing() {
    let fx = Fixture::with(test_resolver, &[]).await;
    let api = &fx.staging;
    let long = "d".repeat(501);
    let cases = [
        (json!({ "url": "not a url" }), "validation_failed", "url", "invalid_url"),
        (
            json!({ "url": "ftp://hooks.example.com/" }),
            "validation_failed",
            "url",
            "invalid_url",
        ),
        (
            json!({ "url": "https://user:pw@hooks.example.com/" }),
            "validation_failed",
            "url",
            "invalid_url",
        ),
        (
            json!({ "url": "https://hooks.example.com/#x" }),
            "validation_failed",
            "url",
            "invalid_url",
        ),
        (
            json!({ "url": PUBLIC_URL, "event_types": ["account.exploded"] }),
            "validation_failed",
            "event_types",
            "unknown_event_type",
        ),
        (
            json!({ "url": PUBLIC_URL, "description": long }),
            "validation_failed",
            "description",
            "invalid_length",
        ),
        (
            json!({ "url": PUBLIC_URL, "description": "a\u{7}b" }),
            "validation_failed",
            "description",
            "invalid_characters",
        ),
        (
            json!({ "url": PUBLIC_URL, "secret": "whsec_mine" }),
            "unknown_field",
            "secret",
            "unknown_field",
        ),
        (json!({ "description": "no url" }), "validation_failed", "url", "required"),
        (
            json!({ "url": PUBLIC_URL, "event_types": "account.created" }),
            "validation_failed",
            "event_types",
            "invalid_type",
        ),
    ];
    for (body, code, field, field_code) in &cases {
        let r = api.post(LIST, body).await;
        r.problem(400, code);
        assert_eq!(r.json["errors"][0]["field"], *field, "{body}: {}", r.text);
        assert_eq!(r.json["errors"][0]["code"], *field_code, "{body}: {}", r.text);
    }
    assert_eq!(api.get(LIST).await.json["data"], json!([]), "nothing was created");

    // An update with bad input leaves the endpoint as it was.
    let created = create(api, &json!({ "url": PUBLIC_URL, "description": "kept" })).await;
    let id = created["id"].as_str().unwrap();
    for (body, _, _, _) in &cases[..7] {
        let r = api.patch(&path(id), body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let r = api.patch(&path(id), &json!({ "url": PUBLIC_URL, "enabled": "no" })).await;
    r.problem(400, "validation_failed");
    let after = api.get(&path(id)).await;
    assert_eq!(
        (&after.json["url"], &after.json["description"], &after.json["enabled"]),
        (&json!(PUBLIC_URL), &json!("kept"), &json!(true))
    );
    let actions: Vec<String> = endpoint_audit(&fx.server).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["webhook_endpoint.created"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_is_refused_in_production_and_allowed_in_staging() {
    let fx = Fixture::with(test_resolver, &[]).await;
    let insecure = json!({ "url": "http://hooks.example.com/in" });
    let r = fx.production.post(LIST, &insecure).await;
    r.problem(400, "validation_failed");
    assert_eq!(r.json["errors"][0]["code"], "invalid_url");
    assert!(r.json["detail"].as_str().unwrap().contains("https://"), "{}", r.text);
    assert_eq!(
        create(&fx.production, &json!({ "url": "https://hooks.example.com/in" })).await["url"],
        "https://hooks.example.com/in"
    );
    let staging = create(&fx.staging, &insecure).await;
    assert_eq!(staging["url"], "http://hooks.example.com/in");
    // Nor can an update bring http:// into production.
    let prod = fx.production.get(LIST).await.json["data"][0]["id"].as_str().unwrap().to_owned();
    fx.production.patch(&path(&prod), &insecure).await.problem(400, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_receives_the_events_from_its_creation_on() {
    let fx = Fixture::with(test_resolver, &[]).await;
    fx.staging.signup("ann@example.com").await;
    let last = feed(&fx.staging).await.last().expect("events so far")["sequence"].as_i64().unwrap();
    assert!(last >= 2, "the service users and the account: {last}");
    let created = create(&fx.staging, &json!({ "url": PUBLIC_URL })).await;
    let env = fx.server.core.tenancy().environment(&pid("acme"), EnvKind::Staging).await.unwrap();
    let id = EndpointId::new(created["id"].as_str().unwrap());
    let endpoint = fx.server.core.webhooks().get(&env, &Owner::Environment, &id).await.unwrap();
    assert_eq!(endpoint.event_cursor, last);
    // Production counts its own events.
    let prod = create(&fx.production, &json!({ "url": PUBLIC_URL })).await;
    let env = fx
        .server
        .core
        .tenancy()
        .environment(&pid("acme"), EnvKind::Production)
        .await
        .unwrap();
    let id = EndpointId::new(prod["id"].as_str().unwrap());
    let endpoint = fx.server.core.webhooks().get(&env, &Owner::Environment, &id).await.unwrap();
    assert_eq!(endpoint.event_cursor, feed(&fx.production).await.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creation_is_idempotent_and_needs_the_service_role() {
    let fx = Fixture::with(test_resolver, &[]).await;
    let body = json!({ "url": PUBLIC_URL });
    let send_keyed = || {
        send(
            fx.staging
                .request(reqwest::Method::POST, LIST)
                .header("idempotency-key", "ep-1")
                .json(&body),
        )
    };
    let first = send_keyed().await;
    first.expect(201);
    let again = send_keyed().await;
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json, "the same endpoint and secret");
    assert_eq!(fx.staging.get(LIST).await.json["data"].as_array().unwrap().len(), 1);

    fx.server.create_service_user("acme", "staging", "reporter", &["reports"]).await;
    let reporter = fx.server.login(&fx.server.staging("acme"), "reporter").await;
    reporter.post(LIST, &body).await.problem(403, "forbidden");
    reporter.get(LIST).await.problem(403, "forbidden");
    fx.staging.without_token().get(LIST).await.problem(401, "unauthenticated");
    // A staging token is no credential in production.
    fx.server
        .production("acme")
        .with_token(fx.staging.token())
        .get(LIST)
        .await
        .problem(401, "unauthenticated");
}
