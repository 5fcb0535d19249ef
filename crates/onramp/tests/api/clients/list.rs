//! `GET /v1/client`: pages, cursors and their order.

use serde_json::json;

use super::assert_account_body;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_paginates_with_a_cursor() {
    let fx = Fixture::new().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            fx.staging.signup(&format!("user{i}@example.com")).await["user_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/v1/client?limit=2".to_owned();
    loop {
        let r = fx.staging.get(&path).await;
        r.expect(200);
        let data = r.json["data"].as_array().expect("data");
        sizes.push(data.len());
        for a in data {
            assert_account_body(a, &a.to_string());
            seen.push(a["user_id"].as_str().unwrap().to_owned());
        }
        assert!(
            r.json.as_object().unwrap().contains_key("next_cursor"),
            "next_cursor is always present: {}",
            r.text
        );
        match r.json["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/client?limit=2&cursor={c}"),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, created, "every account exactly once, oldest first");

    // Default limit returns everything here, with no next page.
    let r = fx.staging.get("/v1/client").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 5);
    assert!(r.json["next_cursor"].is_null());
    // Exactly a page's worth: no empty extra page.
    let r = fx.staging.get("/v1/client?limit=5").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 5);
    assert!(r.json["next_cursor"].is_null(), "no next page after the last account: {}", r.text);

    // Filter by email, case-insensitively.
    let r = fx.staging.get("/v1/client?email=USER3%40Example.com").await;
    r.expect(200);
    let data = r.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["user_id"], created[3].as_str());
    let r = fx.staging.get("/v1/client?email=nobody%40example.com").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 0);

    // Out of range or malformed.
    for q in ["limit=0", "limit=201", "limit=-1", "limit=abc", "cursor=not-a-cursor"] {
        let r = fx.staging.get(&format!("/v1/client?{q}")).await;
        r.expect(400);
        assert_problem_shape(&r);
    }
    fx.staging.get("/v1/client?limit=200").await.expect(200);
    fx.staging.get("/v1/client?limit=1").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_cover_client_supplied_ids_in_id_order() {
    let fx = Fixture::new().await;
    // Client-chosen ids that sort before and after generated ones, mixed with generated ones.
    let ids = [
        "ffffffff-ffff-4fff-bfff-ffffffffffff",
        "",
        "00000000-0000-4000-8000-000000000001",
        "",
        "7fffffff-ffff-4fff-bfff-ffffffffffff",
    ];
    let mut created = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut body = signup_body(&format!("mixed{i}@example.com"));
        if !id.is_empty() {
            body["user_id"] = json!(id);
        }
        let r = fx.staging.post("/v1/client/signup", &body).await;
        r.expect(201);
        created.push(r.json["user_id"].as_str().unwrap().to_owned());
    }
    // Paging with limit 2 returns every account exactly once.
    let mut seen = Vec::new();
    let mut path = "/v1/client?limit=2".to_owned();
    loop {
        let r = fx.staging.get(&path).await;
        r.expect(200);
        seen.extend(
            r.json["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["user_id"].as_str().unwrap().to_owned()),
        );
        match r.json["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/client?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    sorted_seen.dedup();
    assert_eq!(sorted_seen.len(), created.len(), "every account exactly once: {seen:?}");
    // The documented order: by id (generated UUIDv7 ids sort by creation time).
    let mut by_id = created.clone();
    by_id.sort();
    assert_eq!(seen, by_id, "the list is documented as ordered by id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_defaults_to_fifty() {
    let fx = Fixture::new().await;
    let results = futures::future::join_all((0..51).map(|i| {
        let api = fx.staging.clone();
        async move { api.post("/v1/client/signup", &signup_body(&format!("many{i}@example.com"))).await }
    }))
    .await;
    assert!(results.iter().all(|r| r.status == 201));
    let first = fx.staging.get("/v1/client").await;
    assert_eq!(first.json["data"].as_array().unwrap().len(), 50);
    let cursor = first.json["next_cursor"].as_str().expect("a next page");
    let second = fx.staging.get(&format!("/v1/client?cursor={cursor}")).await;
    assert_eq!(second.json["data"].as_array().unwrap().len(), 1);
    assert!(second.json["next_cursor"].is_null());
}
