//! `/scim/v2/Users/{id}` over HTTP: SCIM bearer tokens, the SCIM error
//! format on every refusal, and an account as a User resource.

use serde_json::{Value, json};

use crate::helpers::{Api, Resp, TestServer, op};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct World {
    server: TestServer,
    service: Api,
    token: String,
}

async fn world() -> World {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts", "scim"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let service = server.login(&server.staging("acme"), "svc").await;
    let token = super::issue_token(&server, "staging");
    World { server, service, token }
}

#[track_caller]
fn scim_error(r: &Resp, status: u16) -> &Value {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"), "{}", r.text);
    assert_eq!(r.json["schemas"], json!([SCIM_ERROR]), "{}", r.text);
    assert_eq!(r.json["status"], status.to_string(), "status as a string: {}", r.text);
    assert!(r.json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.text);
    &r.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_read_with_a_token_of_its_environment() {
    let w = world().await;
    let created = w.service.signup("ann@example.com").await;
    let id = created["user_id"].as_str().unwrap();
    let scim = w.server.staging("acme").with_token(&w.token);
    let r = scim.get(&format!("/scim/v2/Users/{id}")).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let user = &r.json;
    assert_eq!(user["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
    assert_eq!(
        (user["id"].as_str(), user["userName"].as_str()),
        (Some(id), Some("ann@example.com"))
    );
    assert_eq!(
        user["emails"],
        json!([{ "value": "ann@example.com", "type": "work", "primary": true }])
    );
    assert_eq!(user["active"], true);
    assert_eq!(user["meta"]["resourceType"], "User");
    let location = user["meta"]["location"].as_str().unwrap();
    assert!(
        location.starts_with("https://api.staging.acme.") && location.ends_with(&format!("/scim/v2/Users/{id}")),
        "{location}"
    );
    let version = user["meta"]["version"].as_str().unwrap();
    assert!(version.starts_with("W/\""), "a weak ETag: {version}");
    assert_eq!(r.header("etag"), Some(version));

    // A deactivated account reads as inactive.
    let path = format!("/v1/client/{id}");
    w.service.patch(&path, &json!({ "active": false })).await.expect(200);
    let r = scim.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(r.expect(200).json["active"], false);

    // Unknown and malformed ids are SCIM 404s.
    scim_error(&scim.get("/scim/v2/Users/0195f6a2-7c1e-7000-8000-000000000000").await, 404);
    scim_error(&scim.get("/scim/v2/Users/not-a-uuid").await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_scim_errors() {
    let w = world().await;
    let id = w.service.signup("bob@example.com").await["user_id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    let staging = w.server.staging("acme");

    // No token, a service token, a token of the other environment, a typo.
    let none = staging.without_token().get(&path).await;
    scim_error(&none, 401);
    assert!(
        none.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        none.headers
    );
    scim_error(&w.service.get(&path).await, 401);
    let live = op(&w.server, &["scim-token", "issue", "acme", "production"]).ok();
    scim_error(&staging.with_token(live["token"].as_str().unwrap()).get(&path).await, 401);
    let mut typo = w.token.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'x' { 'y' } else { 'x' });
    scim_error(&staging.with_token(&typo).get(&path).await, 401);

    // A revoked token is refused from the next request on.
    let other = op(&w.server, &["scim-token", "issue", "acme", "staging"]).ok();
    let scim = staging.with_token(other["token"].as_str().unwrap());
    scim.get(&path).await.expect(200);
    op(&w.server, &["scim-token", "revoke", other["id"].as_str().unwrap()]).ok();
    scim_error(&scim.get(&path).await, 401);

    // Without the feature: 403.
    w.server.create_instance("beta", &["client-accounts"]).await;
    let beta = op(&w.server, &["scim-token", "issue", "beta", "staging"]).ok();
    let r = w
        .server
        .staging("beta")
        .with_token(beta["token"].as_str().unwrap())
        .get(&path)
        .await;
    scim_error(&r, 403);

    // Shared layers answer in SCIM's format too: a wrong method, an unknown instance.
    let scim = staging.with_token(&w.token);
    scim_error(&scim.post(&path, &json!({})).await, 405);
    scim_error(&w.server.staging("nobody").with_token(&w.token).get(&path).await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_honours_the_instance_rate_limits() {
    let w = world().await;
    w.server.set_rate_limits("acme", &[("GET /scim/v2/Users/{id}", 2)]).await;
    let id = w.service.signup("cy@example.com").await["user_id"].as_str().unwrap().to_owned();
    let scim = w.server.staging("acme").with_token(&w.token);
    let path = format!("/scim/v2/Users/{id}");
    scim.get(&path).await.expect(200);
    scim.get(&path).await.expect(200);
    let r = scim.get(&path).await;
    scim_error(&r, 429);
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
}

fn ids(r: &Resp) -> Vec<String> {
    r.json["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Okta's test connection and existence check, Entra's probe with a random
/// GUID, and paging in a stable order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_by_page_and_found_by_user_name() {
    let w = world().await;
    let mut all = Vec::new();
    for n in 0..5 {
        all.push(
            w.service.signup(&format!("u{n}@example.com")).await["user_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    all.sort();
    let scim = w.server.staging("acme").with_token(&w.token);

    let r = scim.get("/scim/v2/Users?startIndex=1&count=2").await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(r.json["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    assert_eq!(
        (
            r.json["totalResults"].as_u64(),
            r.json["startIndex"].as_u64(),
            r.json["itemsPerPage"].as_u64()
        ),
        (Some(5), Some(1), Some(2))
    );
    assert_eq!(ids(&r), all[..2]);
    let next = scim.get("/scim/v2/Users?startIndex=3&count=2").await;
    assert_eq!(ids(&next), all[2..4]);
    let rest = scim.get("/scim/v2/Users?startIndex=5&count=500&attributes=userName").await;
    assert_eq!(ids(&rest), all[4..]);
    let beyond = scim.get("/scim/v2/Users?startIndex=9").await;
    assert_eq!((beyond.json["totalResults"].as_u64(), ids(&beyond).len()), (Some(5), 0));
    // startIndex below 1 is 1; count 0 asks for the total only.
    assert_eq!(ids(&scim.get("/scim/v2/Users?startIndex=0&count=1").await), all[..1]);
    let total = scim.get("/scim/v2/Users?count=0").await;
    assert_eq!((total.json["totalResults"].as_u64(), ids(&total).len()), (Some(5), 0));

    // userName eq, case-insensitively; an unknown name finds none.
    let found = scim.get("/scim/v2/Users?filter=userName%20eq%20%22U3@Example.com%22").await;
    assert_eq!(found.expect(200).json["totalResults"], 1);
    assert_eq!(found.json["Resources"][0]["userName"], "u3@example.com");
    let probe = scim
        .get("/scim/v2/Users?filter=userName+eq+%220d6c9f6e-3a5b-4d2a-9c1e-5f2b7a8d9e10%22")
        .await;
    assert_eq!((probe.expect(200).json["totalResults"].as_u64(), ids(&probe).len()), (Some(0), 0));
    for page in ["startIndex=2", "count=0"] {
        let r = scim
            .get(&format!("/scim/v2/Users?filter=userName%20eq%20%22u3@example.com%22&{page}"))
            .await;
        assert_eq!((r.expect(200).json["totalResults"].as_u64(), ids(&r).len()), (Some(1), 0), "{page}");
    }
    let by_id = scim.get(&format!("/scim/v2/Users?filter=id%20eq%20%22{}%22", all[1])).await;
    assert_eq!(ids(&by_id), all[1..2]);

    // Malformed or unsupported filters and bad numbers are SCIM 400s.
    for bad in ["userName%20eq", "nickName%20eq%20%22x%22", "active%20co%20%22u%22"] {
        let r = scim.get(&format!("/scim/v2/Users?filter={bad}")).await;
        assert_eq!(scim_error(&r, 400)["scimType"], "invalidFilter", "{bad}");
    }
    let r = scim.get("/scim/v2/Users?startIndex=abc").await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidValue");
}

async fn patch(scim: &Api, id: &str, body: Value) -> Resp {
    let rb = scim
        .request(reqwest::Method::PATCH, &format!("/scim/v2/Users/{id}"))
        .header("content-type", "application/scim+json")
        .body(body.to_string());
    crate::helpers::send(rb).await
}

fn ops(operations: Value) -> Value {
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations })
}

/// Okta's deactivation, Entra's legacy and `aadOptscim062020` bodies, and
/// deletion, each audited with the token as the actor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_and_entra_patches_change_the_account_and_delete_removes_it() {
    let w = world().await;
    let id = w.service.signup("dee@example.com").await["user_id"].as_str().unwrap().to_owned();
    w.service.signup("taken@example.com").await;
    let scim = w.server.staging("acme").with_token(&w.token);

    // Okta deactivates with a path-less replace; Entra reactivates with "True".
    let r = patch(&scim, &id, ops(json!([{ "op": "replace", "value": { "active": false } }]))).await;
    assert_eq!(r.expect(200).json["active"], false);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let client = w.service.get(&format!("/v1/client/{id}")).await;
    assert_eq!(client.expect(200).json["active"], false, "the same account in the client API");
    let r = patch(&scim, &id, ops(json!([{ "op": "Replace", "path": "active", "value": "True" }]))).await;
    assert_eq!(r.expect(200).json["active"], true);

    // Entra's dotted and URN-prefixed keys; unknown attributes are ignored.
    let r = patch(
        &scim,
        &id,
        ops(json!([{ "op": "Replace", "value": {
            "name.givenName": "Dee", "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName": "Ng",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops", "title": "Lead" } }])),
    )
    .await;
    assert_eq!(r.expect(200).json["name"], json!({ "givenName": "Dee", "familyName": "Ng" }));
    assert_eq!(
        (r.json["title"].as_str(), r.json[ENTERPRISE]["department"].as_str()),
        (Some("Lead"), Some("Ops"))
    );

    // Entra's attribute mappings one path at a time: kept attributes change,
    // a phone is added by its type, the manager given as an id; removes.
    let r = patch(
        &scim,
        &id,
        ops(json!([
            { "op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0100" },
            { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0199" },
            { "op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0101" },
            { "op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales" },
            { "op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "mgr-7" },
            { "op": "Replace", "path": "externalId", "value": "entra-oid-1" },
            { "op": "Replace", "path": "displayName", "value": "Dee Ng" },
            { "op": "Remove", "path": "title" },
        ])),
    )
    .await;
    let user = &r.expect(200).json;
    assert_eq!(
        user["phoneNumbers"],
        json!([{ "type": "work", "value": "+1 555 0101" }, { "type": "mobile", "value": "+1 555 0199" }])
    );
    assert_eq!(user[ENTERPRISE], json!({ "department": "Sales", "manager": { "value": "mgr-7" } }));
    assert_eq!(
        (user["externalId"].as_str(), user["displayName"].as_str()),
        (Some("entra-oid-1"), Some("Dee Ng"))
    );
    assert!(user.get("title").is_none(), "{user}");
    let version = user["meta"]["version"].clone();
    let found = scim.get("/scim/v2/Users?filter=externalId%20eq%20%22entra-oid-1%22").await;
    assert_eq!(
        found.expect(200).json["Resources"][0]["id"],
        id.as_str(),
        "found by the new externalId"
    );
    let r = patch(
        &scim,
        &id,
        ops(json!([{ "op": "Remove", "path": "phoneNumbers[type eq \"mobile\"]" }])),
    )
    .await;
    assert_eq!(
        r.expect(200).json["phoneNumbers"],
        json!([{ "type": "work", "value": "+1 555 0101" }])
    );
    assert_ne!(r.json["meta"]["version"], version, "a change to a kept attribute is a new version");
    let r = patch(
        &scim,
        &id,
        ops(json!([{ "op": "Replace", "path": "title", "value": "x".repeat(1025) }])),
    )
    .await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidValue");

    // An answer as small as asked: only some attributes, or none (204).
    let send_patch = |query: &str, body: Value| {
        let rb = scim
            .request(reqwest::Method::PATCH, &format!("/scim/v2/Users/{id}?{query}"))
            .header("content-type", "application/scim+json")
            .body(body.to_string());
        crate::helpers::send(rb)
    };
    let r = send_patch(
        "attributes=active",
        ops(json!([{ "op": "replace", "path": "nickName", "value": "D" }])),
    )
    .await;
    let mut keys: Vec<&str> = r.expect(200).json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["active", "id", "schemas"]);
    let r = send_patch("attributes=", ops(json!([{ "op": "replace", "path": "nickName", "value": "Dd" }]))).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert!(r.header("etag").is_some_and(|e| e.starts_with("W/")), "the new version still");
    assert_eq!(scim.get(&format!("/scim/v2/Users/{id}")).await.json["nickName"], "Dd");

    // The work email is the userName.
    let r = patch(
        &scim,
        &id,
        ops(json!([{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "dee.ng@example.com" }])),
    )
    .await;
    assert_eq!(r.expect(200).json["userName"], "dee.ng@example.com");

    // Refusals in SCIM's terms, changing nothing.
    let r = patch(
        &scim,
        &id,
        ops(json!([{ "op": "replace", "path": "userName", "value": "taken@example.com" }])),
    )
    .await;
    assert_eq!(scim_error(&r, 409)["scimType"], "uniqueness");
    let r = patch(&scim, &id, ops(json!([{ "op": "replace", "path": "id", "value": "x" }]))).await;
    assert_eq!(scim_error(&r, 400)["scimType"], "mutability");
    let r = patch(
        &scim,
        &id,
        ops(json!([{ "op": "replace", "path": "emails[type eq", "value": "x" }])),
    )
    .await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidPath");
    let r = patch(&scim, &id, ops(json!([{ "op": "replace", "path": "active", "value": "maybe" }]))).await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidValue");
    let r = patch(&scim, &id, json!({ "Operations": "none" })).await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidSyntax");
    let plain = scim
        .request(reqwest::Method::PATCH, &format!("/scim/v2/Users/{id}"))
        .header("content-type", "text/plain")
        .body("x");
    scim_error(&crate::helpers::send(plain).await, 415);
    assert_eq!(
        scim.get(&format!("/scim/v2/Users/{id}")).await.json["userName"],
        "dee.ng@example.com"
    );

    // Deletion, then nothing is there.
    let r = scim.delete(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    scim_error(&scim.get(&format!("/scim/v2/Users/{id}")).await, 404);
    scim_error(&scim.delete(&format!("/scim/v2/Users/{id}")).await, 404);

    let token_id = op(&w.server, &["scim-token", "list", "acme", "staging"]).ok()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit = op(
        &w.server,
        &[
            "audit",
            "list",
            "--platform-id",
            "acme",
            "--environment",
            "staging",
            "--limit",
            "200",
        ],
    )
    .ok();
    let by_token: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == format!("scim_token:{token_id}") && e["target"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        by_token.contains(&"account.updated") && by_token.contains(&"account.deleted"),
        "{by_token:?}"
    );
}

async fn create(scim: &Api, body: &Value) -> Resp {
    let rb = scim
        .request(reqwest::Method::POST, "/scim/v2/Users")
        .header("content-type", "application/scim+json")
        .body(body.to_string());
    crate::helpers::send(rb).await
}

/// Okta's and Entra's create bodies as they document them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_and_entra_create_users() {
    let w = world().await;
    let scim = w.server.staging("acme").with_token(&w.token);
    let okta = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "okta.user@example.com",
        "name": { "givenName": "Okta", "familyName": "User" },
        "emails": [{ "primary": true, "value": "okta.user@example.com", "type": "work" }],
        "displayName": "Okta User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [], "password": "Wide-Open-Sesame-42", "active": true
    });
    let r = create(&scim, &okta).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let user = r.json.clone();
    assert_eq!(r.header("location"), user["meta"]["location"].as_str());
    assert_eq!(
        (&user["userName"], &user["externalId"], &user["displayName"], &user["locale"]),
        (
            &json!("okta.user@example.com"),
            &json!("00ujl29u0le5T6Aj10h7"),
            &json!("Okta User"),
            &json!("en-US")
        )
    );
    assert!(
        user.get("password").is_none() && !r.text.contains("Wide-Open"),
        "never the password"
    );
    // The same account in the client API, and its password works.
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        w.service.get(&format!("/v1/client/{id}")).await.expect(200).json["email"],
        "okta.user@example.com"
    );
    let login = json!({ "email": "okta.user@example.com", "password": "Wide-Open-Sesame-42" });
    w.service.post("/v1/client/login", &login).await.expect(200);

    let entra = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "userName": "Entra.User@example.com", "active": false,
        "emails": [{ "primary": true, "type": "work", "value": "Entra.User@example.com" }],
        "meta": { "resourceType": "User" }, "roles": [],
        "name": { "formatted": "Entra User", "familyName": "User", "givenName": "Entra" },
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Ops", "employeeNumber": "42", "manager": { "value": "m-1" } }
    });
    let r = create(&scim, &entra).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["active"], false);
    assert_eq!(
        r.json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Ops"
    );
    // Without a password no password signs in, not even an empty one.
    let none = json!({ "email": "entra.user@example.com", "password": "" });
    w.service.post("/v1/client/login", &none).await.problem(401, "unauthenticated");
    let guess = json!({ "email": "entra.user@example.com", "password": "!" });
    w.service.post("/v1/client/login", &guess).await.problem(401, "unauthenticated");

    // Found by externalId, and by a GET with what SCIM keeps.
    let found = scim
        .get("/scim/v2/Users?filter=externalId%20eq%20%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22")
        .await;
    assert_eq!(found.expect(200).json["Resources"][0]["userName"], "Entra.User@example.com");
    let again = scim.get(&format!("/scim/v2/Users/{}", r.json["id"].as_str().unwrap())).await;
    assert_eq!(again.json["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(
        again.json["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        "m-1"
    );

    // Duplicates and bad input are refused, creating nothing.
    let name = json!({ "givenName": "Du", "familyName": "Plicate" });
    let r = create(&scim, &json!({ "userName": "OKTA.user@example.com", "name": name })).await;
    assert_eq!(scim_error(&r, 409)["scimType"], "uniqueness");
    let r = create(
        &scim,
        &json!({ "userName": "new@example.com", "name": name, "externalId": "00ujl29u0le5T6Aj10h7" }),
    )
    .await;
    assert_eq!(scim_error(&r, 409)["scimType"], "uniqueness");
    for bad in [
        json!({ "name": { "givenName": "No" } }),
        json!({ "userName": "not an email", "name": name }),
        json!({ "userName": "a@b.co", "name": name, "active": "maybe" }),
        json!([]),
    ] {
        let r = create(&scim, &bad).await;
        assert_eq!(scim_error(&r, 400)["scimType"], "invalidValue", "{bad}");
    }
    let total = scim.get("/scim/v2/Users?count=0").await;
    assert_eq!(total.json["totalResults"], 2);
}

/// `attributes` and `excludedAttributes` on reads, and `/.search`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_carry_the_attributes_asked_for_and_search_takes_a_body() {
    let w = world().await;
    let id = w.service.signup("pat@example.com").await["user_id"].as_str().unwrap().to_owned();
    w.service.signup("quin@example.com").await;
    let scim = w.server.staging("acme").with_token(&w.token);

    let r = scim.get(&format!("/scim/v2/Users/{id}?attributes=userName,name.givenName")).await;
    let keys: Vec<&String> = r.expect(200).json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "name", "schemas", "userName"], "{}", r.text);
    assert_eq!(r.json["name"], json!({ "givenName": "Ann" }));
    let r = scim.get("/scim/v2/Users?excludedAttributes=meta,emails&count=1").await;
    let first = &r.expect(200).json["Resources"][0];
    assert!(
        first.get("meta").is_none() && first.get("emails").is_none() && first["userName"].is_string(),
        "{first}"
    );

    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"quin@example.com\"", "startIndex": 1, "count": 10, "attributes": ["userName"]
    });
    let rb = scim
        .request(reqwest::Method::POST, "/scim/v2/Users/.search")
        .header("content-type", "application/scim+json")
        .body(search.to_string());
    let r = crate::helpers::send(rb).await;
    assert_eq!(r.expect(200).json["totalResults"], 1);
    assert_eq!(r.json["Resources"][0]["userName"], "quin@example.com");
    assert!(r.json["Resources"][0].get("name").is_none());
    let bad = json!({ "filter": "userName eq", "count": "ten" });
    let rb = scim
        .request(reqwest::Method::POST, "/scim/v2/Users/.search")
        .header("content-type", "application/json")
        .body(bad.to_string());
    scim_error(&crate::helpers::send(rb).await, 400);
}

async fn put(scim: &Api, id: &str, body: &Value, if_match: Option<&str>) -> Resp {
    let mut rb = scim
        .request(reqwest::Method::PUT, &format!("/scim/v2/Users/{id}"))
        .header("content-type", "application/scim+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        rb = rb.header("if-match", tag);
    }
    crate::helpers::send(rb).await
}

/// Okta's PUT (often without `active`), and `If-Match` on every change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_replaces_the_user_and_if_match_guards_changes() {
    let w = world().await;
    let scim = w.server.staging("acme").with_token(&w.token);
    let created = create(
        &scim,
        &json!({ "userName": "rae@example.com", "name": { "givenName": "Rae", "familyName": "Ko" }, "externalId": "ok-1",
                 "title": "Chef", "active": false }),
    )
    .await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let other = create(
        &scim,
        &json!({ "userName": "sol@example.com", "name": { "givenName": "Sol", "familyName": "Ve" }, "externalId": "ok-2" }),
    )
    .await;
    assert_eq!(other.status, 201, "{}", other.text);

    // Without `active`: it stays as it was; the kept attributes are replaced.
    let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": "rae.ko@example.com",
                       "name": { "givenName": "Rae", "familyName": "Koh" }, "externalId": "ok-1b", "locale": "fr-FR" });
    let r = put(&scim, &id, &body, None).await;
    r.expect(200);
    assert_eq!(
        (&r.json["userName"], &r.json["name"]["familyName"], &r.json["active"]),
        (&json!("rae.ko@example.com"), &json!("Koh"), &json!(false))
    );
    assert_eq!(
        (&r.json["externalId"], &r.json["locale"], r.json.get("title")),
        (&json!("ok-1b"), &json!("fr-FR"), None)
    );
    let mut active = body.clone();
    active["active"] = json!(true);
    assert_eq!(put(&scim, &id, &active, None).await.expect(200).json["active"], true);

    // Another User's externalId: refused, nothing changed.
    let mut taken = active.clone();
    taken["externalId"] = json!("ok-2");
    taken["userName"] = json!("changed@example.com");
    assert_eq!(scim_error(&put(&scim, &id, &taken, None).await, 409)["scimType"], "uniqueness");
    assert_eq!(
        scim.get(&format!("/scim/v2/Users/{id}")).await.json["userName"],
        "rae.ko@example.com"
    );

    // If-Match: a stale version is 412 for PUT, PATCH and DELETE; the current one or * passes.
    let stale = "W/\"1\"";
    scim_error(&put(&scim, &id, &active, Some(stale)).await, 412);
    let patch = scim
        .request(reqwest::Method::PATCH, &format!("/scim/v2/Users/{id}"))
        .header("content-type", "application/scim+json")
        .header("if-match", stale)
        .body(ops(json!([{ "op": "replace", "path": "active", "value": false }])).to_string());
    scim_error(&crate::helpers::send(patch).await, 412);
    let delete = scim
        .request(reqwest::Method::DELETE, &format!("/scim/v2/Users/{id}"))
        .header("if-match", stale);
    scim_error(&crate::helpers::send(delete).await, 412);
    let now = scim.get(&format!("/scim/v2/Users/{id}")).await;
    let version = now.json["meta"]["version"].as_str().unwrap().to_owned();
    put(&scim, &id, &active, Some(&version)).await.expect(200);
    put(&scim, &id, &active, Some("*")).await.expect(200);
}

/// Two identity providers (or two retries) PATCH with the same `If-Match`
/// at the same moment: the version is checked in the update itself, so
/// exactly one wins and the other is `412`; every change is a new version,
/// even two within one millisecond.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn if_match_lets_one_of_two_racing_changes_through() {
    let w = world().await;
    let id = w.service.signup("race@example.com").await["user_id"].as_str().unwrap().to_owned();
    let scim = w.server.staging("acme").with_token(&w.token);
    for round in 0..5 {
        let now = scim.get(&format!("/scim/v2/Users/{id}")).await;
        let version = now.json["meta"]["version"].as_str().unwrap().to_owned();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let racers = ["Ann", "Bea"].map(|name| {
            let (scim, id, version, barrier) = (scim.clone(), id.clone(), version.clone(), barrier.clone());
            tokio::spawn(async move {
                let body = ops(json!([{ "op": "replace", "path": "name.givenName", "value": format!("{name}{round}") }]));
                let rb = scim
                    .request(reqwest::Method::PATCH, &format!("/scim/v2/Users/{id}"))
                    .header("content-type", "application/scim+json")
                    .header("if-match", version)
                    .body(body.to_string());
                barrier.wait().await;
                crate::helpers::send(rb).await
            })
        });
        let mut statuses = Vec::new();
        let mut versions = Vec::new();
        for racer in racers {
            let r = racer.await.unwrap();
            statuses.push(r.status);
            if r.status == 200 {
                versions.push(r.json["meta"]["version"].as_str().unwrap().to_owned());
            }
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        assert_ne!(versions[0], version, "round {round}");
    }
    // Without If-Match both pass, one after the other, with two versions.
    let body = ops(json!([{ "op": "replace", "path": "nickName", "value": "x" }]));
    let first = patch(&scim, &id, body.clone()).await;
    let second = patch(&scim, &id, body).await;
    assert_ne!(
        first.expect(200).json["meta"]["version"],
        second.expect(200).json["meta"]["version"]
    );
}

/// A PATCH that changes the name and takes another User's `externalId` is
/// refused whole: the account and what SCIM keeps change in one
/// transaction, so the name stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_patch_changes_nothing() {
    let w = world().await;
    let scim = w.server.staging("acme").with_token(&w.token);
    for (email, external_id) in [("ida@example.com", "ext-ida"), ("jo@example.com", "ext-jo")] {
        let body = json!({ "userName": email, "name": { "givenName": "Old", "familyName": "Name" }, "externalId": external_id });
        create(&scim, &body).await.expect(201);
    }
    let jo = scim.get("/scim/v2/Users?filter=userName%20eq%20%22jo@example.com%22").await;
    let jo = jo.json["Resources"][0].clone();
    let id = jo["id"].as_str().unwrap();
    let body = ops(json!([
        { "op": "replace", "path": "name.givenName", "value": "New" },
        { "op": "replace", "path": "title", "value": "Lead" },
        { "op": "replace", "path": "externalId", "value": "ext-ida" },
    ]));
    assert_eq!(scim_error(&patch(&scim, id, body).await, 409)["scimType"], "uniqueness");
    let after = scim.get(&format!("/scim/v2/Users/{id}")).await;
    after.expect(200);
    assert_eq!(after.json["name"]["givenName"], "Old");
    assert_eq!(after.json["externalId"], "ext-jo");
    assert_eq!(after.json.get("title"), None);
    assert_eq!(after.json["meta"]["version"], jo["meta"]["version"], "no new version");
    // The same PATCH without the taken id goes through, both parts at once.
    let body = ops(json!([
        { "op": "replace", "path": "name.givenName", "value": "New" },
        { "op": "replace", "path": "title", "value": "Lead" },
    ]));
    let r = patch(&scim, id, body).await;
    r.expect(200);
    assert_eq!((&r.json["name"]["givenName"], &r.json["title"]), (&json!("New"), &json!("Lead")));
}
