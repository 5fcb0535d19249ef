//! Lifecycle events: each change emits its event in its own transaction,
//! numbered per environment, readable as a feed by service users (all) and
//! partners (their own).

use std::collections::BTreeMap;

use onramp_domain::audit::Actor;
use onramp_domain::events::EventType;
use onramp_domain::ids::{AccountId, KeyId, PartnerId};
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use serde_json::{Value, json};

use crate::helpers::*;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Every event of the feed at `path`, walking its pages `limit` at a time
/// (the cursor is the last sequence of a page; an empty page ends the walk).
async fn whole_feed(get: impl AsyncFn(&str) -> Resp, path: &str, cursor: &str, limit: u32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = get(&format!("{path}{sep}limit={limit}&after={after}")).await;
        r.expect(200);
        let page = r.json["data"].as_array().expect("data").clone();
        match page.last() {
            Some(last) => {
                assert_eq!(r.json[cursor], last["sequence"], "the cursor is the page's last sequence");
                after = last["sequence"].as_i64().unwrap();
            }
            None => {
                assert!(r.json[cursor].is_null());
                return out;
            }
        }
        out.extend(page);
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_emits_its_event_with_the_documented_fields() {
    let w = PartnerWorld::new().await;
    let core = &w.server.core;
    let operator = Actor::operator();
    let tenant = core.tenancy().resolve_host(&host("acme", "staging")).await.unwrap();
    core.tenancy()
        .set_features(
            &operator,
            &pid("acme"),
            &["client-accounts".into(), "partners".into(), "user-integration".into()],
            &[],
        )
        .await
        .unwrap();

    // Client accounts through the service API.
    let ann = w.service.signup("ann@example.com").await["user_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/client/{ann}");
    w.service
        .patch(&path, &json!({ "name": { "first_name": "Anna" } }))
        .await
        .expect(200);
    w.service
        .patch(&path, &json!({ "password": "a brand new password" }))
        .await
        .expect(200);
    w.service.delete(&path).await.expect(204);
    // A partner's account and the redemption of its link.
    let data = w.partner.create_account("bo@example.com").await;
    let bo = data["accountId"].as_str().unwrap().to_owned();
    let token = query_param(data["completePurchaseUrl"].as_str().unwrap(), "token");
    w.exchange(&token).await.expect(200);
    // Keys: rotated by the partner, the successor revoked by the operator.
    let rotated = w.partner.post_empty("/v1/partners/keys/rotate").await;
    rotated.expect(201);
    let new_key = KeyId::from(rotated.json["keyId"].as_str().unwrap());
    core.partners().revoke_api_key(&operator, &new_key).await.unwrap();
    // Service users, signing keys, apps and grants.
    let other = w.server.create_service_user("acme", "staging", "batch-job", &[]).await;
    core.service_users()
        .disable_service_user(&operator, &pid("acme"), EnvKind::Staging, "batch-job")
        .await
        .unwrap();
    let kid = core
        .tenancy()
        .rotate_signing_key(&operator, &pid("acme"), EnvKind::Staging)
        .await
        .unwrap()[0]
        .kid
        .clone();
    let bo_id = AccountId::from(bo.as_str());
    let integration = core.integration();
    let app = integration
        .register_app(&tenant, &bo_id, &operator, "Shop", &["https://shop.example.com".into()])
        .await
        .unwrap();
    integration.reset_vendor_key(&tenant, &bo_id, &operator, &app.id).await.unwrap();
    integration.authorize(&tenant, &bo_id, &operator, &app, CHALLENGE).await.unwrap();
    integration.revoke_connection(&tenant, &bo_id, &operator, &app.id).await.unwrap();
    integration.delete_app(&tenant, &bo_id, &operator, &app.id).await.unwrap();
    // Last, so the partner's key works until here.
    core.partners()
        .set_partner_status(&operator, &PartnerId::from(w.partner_id.as_str()), PartnerStatus::Suspended)
        .await
        .unwrap();

    let events = whole_feed(async |p| w.service.get(p).await, "/v1/events", "next_cursor", 4).await;
    // Numbered 1, 2, 3… in the order the changes committed.
    let sequences: Vec<i64> = events.iter().map(|e| e["sequence"].as_i64().unwrap()).collect();
    assert_eq!(sequences, (1..=events.len() as i64).collect::<Vec<_>>());
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for t in types(&events) {
        *count.entry(t).or_default() += 1;
    }
    let expected = [
        ("partner.created", 1),
        ("partner.approved", 1),
        ("partner.suspended", 1),
        ("api_key.issued", 1),
        ("api_key.rotated", 1),
        ("api_key.revoked", 1),
        ("service_user.created", 2),
        ("service_user.disabled", 1),
        ("account.created", 2),
        ("account.updated", 1),
        ("account.password_changed", 1),
        ("account.deleted", 1),
        ("signin_link.redeemed", 1),
        ("signing_key.rotated", 1),
        ("app.created", 1),
        ("app.key_reset", 1),
        ("app.deleted", 1),
        ("grant.created", 1),
        ("grant.revoked", 1),
    ];
    assert_eq!(count, expected.into_iter().collect::<BTreeMap<_, _>>(), "{events:#?}");

    for e in &events {
        let t: EventType = e["type"].as_str().unwrap().parse().unwrap();
        let mut keys: Vec<&str> = e["data"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut documented = t.data_fields().to_vec();
        keys.sort_unstable();
        documented.sort_unstable();
        assert_eq!(keys, documented, "{e}");
        assert!(e["id"].as_str().unwrap().starts_with("evt_"), "{e}");
        assert_eq!(
            (e["platform_id"].as_str(), e["environment"].as_str()),
            (Some("acme"), Some("staging"))
        );
        parse_rfc3339(e["timestamp"].as_str().unwrap());
    }
    let find = |t: &str| events.iter().find(|e| e["type"] == t).unwrap();
    assert_eq!(find("account.updated")["data"]["changed"], json!(["name.first_name"]));
    assert_eq!(find("account.password_changed")["data"]["account_id"], ann.as_str());
    assert_eq!(find("account.deleted")["data"]["email"], "ann@example.com");
    let redeemed = find("signin_link.redeemed");
    assert_eq!(redeemed["data"], json!({ "account_id": bo, "partner_id": w.partner_id }));
    assert_eq!(redeemed["actor"], json!({ "type": "account", "id": bo }));
    let by_partner = events.iter().filter(|e| e["type"] == "account.created").nth(1).unwrap();
    assert_eq!(by_partner["data"]["partner_id"], w.partner_id.as_str());
    assert_eq!(by_partner["actor"], json!({ "type": "api_key", "id": w.key_id }));
    assert_eq!(find("account.created")["actor"]["type"], "service_user");
    assert_eq!(find("api_key.rotated")["data"]["new_key_id"], new_key.as_str());
    assert_eq!(find("signing_key.rotated")["data"]["kid"], kid.as_str());
    assert_eq!(find("app.created")["data"], json!({ "app_id": app.id, "account_id": bo }));
    let disabled = find("service_user.disabled");
    assert_eq!(disabled["data"], json!({ "service_user_id": other, "username": "batch-job" }));
    assert_eq!(disabled["actor"], json!({ "type": "operator", "id": null }));
    // No secret in any event: not the key, not a password, not the link.
    let text = serde_json::to_string(&events).unwrap();
    for secret in [w.key.as_str(), CLIENT_PASSWORD, "a brand new password", token.as_str()] {
        assert!(!text.contains(secret), "a secret in the feed");
    }
    // Production has events of its own only.
    w.server.create_service_user("acme", "production", "svc", &[]).await;
    let prod = w.server.login(&w.server.production("acme"), "svc").await;
    let prod_events = prod.get("/v1/events").await;
    prod_events.expect(200);
    assert!(
        prod_events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["environment"] == "production")
    );
}

/// The README's table of event types is the domain's list, field for field.
#[test]
fn the_readme_lists_every_event_type_with_its_fields() {
    let readme = include_str!("../../../../README.md");
    let table = readme
        .split("<!-- events:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- events:end -->").next())
        .expect("the events table in the README");
    let rows: Vec<(&str, Vec<&str>)> = table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let t = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let fields = cells[2].split(", ").map(|f| f.trim_matches('`')).collect();
            Some((t, fields))
        })
        .collect();
    let expected: Vec<(&str, Vec<&str>)> = EventType::ALL.iter().map(|t| (t.as_str(), t.data_fields().to_vec())).collect();
    assert_eq!(rows, expected);
}

/// Makes every `account.created` event fail as it is written, in the
/// transaction of its change.
async fn break_account_events(database_url: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let statements: &[&str] = if database_url.starts_with("postgres") {
        &[
            "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
            "CREATE TRIGGER refuse_event BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.type = 'account.created') EXECUTE FUNCTION refuse_event()",
        ]
    } else {
        &["CREATE TRIGGER refuse_event BEFORE INSERT ON events WHEN NEW.type = 'account.created' BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql)).execute(&pool).await.expect("trigger");
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_rolls_back_leaves_no_event_and_no_gap() {
    let fx = Fixture::new().await;
    let before = fx.staging.get("/v1/events?limit=200").await.json["data"].as_array().unwrap().len();
    break_account_events(&fx.server.settings.database_url).await;
    // The event cannot be written: the signup fails as a whole.
    // (The database refusing a write is a server fault: a 500, which the
    // suite's client would take for a bug, so this one request goes raw.)
    let r = fx
        .staging
        .request(reqwest::Method::POST, "/v1/client/signup")
        .json(&signup_body("ann@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(
        fx.staging.all_account_ids().await.is_empty(),
        "the account rolled back with its event"
    );
    // The next change takes the next number: the failed one used none.
    let tenancy = fx.server.core.tenancy();
    tenancy
        .rotate_signing_key(&Actor::operator(), &pid("acme"), EnvKind::Staging)
        .await
        .unwrap();
    let events = fx.staging.get("/v1/events?limit=200").await.json["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(events.len(), before + 1);
    assert_eq!(events.last().unwrap()["type"], "signing_key.rotated");
    assert_eq!(events.last().unwrap()["sequence"], before as i64 + 1);
    assert!(!types(&events).contains(&"account.created"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_read_only_their_own_events() {
    let w = PartnerWorld::new().await;
    let (other_id, other_key_id, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    let mine = w.partner.create_account("mine@example.com").await["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = other.create_account("theirs@example.com").await["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    w.service.signup("direct@example.com").await;

    let feed = whole_feed(async |p| w.partner.get(p).await, "/v1/partners/events", "nextCursor", 2).await;
    assert_eq!(types(&feed), ["api_key.issued", "account.created"], "{feed:#?}");
    assert_eq!(feed[0]["data"]["key_id"], w.key_id.as_str());
    assert_eq!(feed[1]["data"]["account_id"], mine.as_str());
    let theirs_feed = whole_feed(async |p| other.get(p).await, "/v1/partners/events", "nextCursor", 50).await;
    assert_eq!(types(&theirs_feed), ["api_key.issued", "account.created"]);
    assert_eq!(theirs_feed[0]["data"]["key_id"], other_key_id.as_str());
    assert_eq!(theirs_feed[1]["data"]["account_id"], theirs.as_str());
    assert!(theirs_feed.iter().all(|e| e["data"]["partner_id"] == other_id.as_str()));
    // The type filter, and the service user's view of everything.
    let created = w.partner.get("/v1/partners/events?type=account.created").await;
    assert_eq!(created.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(created.json["nextCursor"], created.json["data"][0]["sequence"]);
    let all = whole_feed(
        async |p| w.service.get(p).await,
        "/v1/events?type=account.created",
        "next_cursor",
        50,
    )
    .await;
    assert_eq!(all.len(), 3);

    // A key without `webhooks:manage` reads no feed.
    let (_, _, narrow) = w.other_partner("staging", PartnerStatus::Active, &["accounts:read"]).await;
    narrow.get("/v1/partners/events").await.problem(403, "forbidden");
    w.partner.api.get("/v1/partners/events").await.problem(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_feed_query_is_refused() {
    let fx = Fixture::new().await;
    for query in [
        "after=abc",
        "after=-1",
        "after=1e3",
        "type=account.exploded",
        "limit=0",
        "limit=201",
        "colour=red",
    ] {
        fx.staging.get(&format!("/v1/events?{query}")).await.problem(400, "invalid_query");
    }
    fx.staging.without_token().get("/v1/events").await.problem(401, "unauthenticated");
    let empty = fx.staging.get("/v1/events?after=999999").await;
    empty.expect(200);
    assert_eq!(empty.json, json!({ "data": [], "next_cursor": null }));
}
