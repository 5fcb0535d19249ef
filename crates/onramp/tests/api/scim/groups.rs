//! `/scim/v2/Groups` over HTTP: the request sequences Okta and Entra
//! document for group push, PUT, DELETE, uniqueness, `If-Match`, paging,
//! the root `/.search`, memberships when accounts go, and the client API's
//! read of groups.

use serde_json::{Value, json};

use crate::helpers::parking::Parking;
use crate::helpers::{Api, Resp, TestServer, op};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const MS_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct World {
    server: TestServer,
    service: Api,
    scim: Api,
}

async fn world_with(server: TestServer) -> World {
    let scim = super::scim_client(&server).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let service = server.login(&server.staging("acme"), "svc").await;
    World { server, service, scim }
}

async fn world() -> World {
    world_with(TestServer::start().await).await
}

impl World {
    async fn user(&self, email: &str) -> String {
        self.service.signup(email).await["user_id"].as_str().unwrap().to_owned()
    }
}

#[track_caller]
fn scim_error(r: &Resp, status: u16) -> &Value {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"), "{}", r.text);
    assert_eq!(r.json["status"], status.to_string(), "{}", r.text);
    &r.json
}

async fn send(scim: &Api, method: reqwest::Method, path: &str, body: Option<&Value>, if_match: Option<&str>) -> Resp {
    let mut rb = scim.request(method, path);
    if let Some(body) = body {
        rb = rb.header("content-type", "application/scim+json").body(body.to_string());
    }
    if let Some(tag) = if_match {
        rb = rb.header("if-match", tag);
    }
    crate::helpers::send(rb).await
}

async fn patch(scim: &Api, id: &str, operations: Value) -> Resp {
    let body = json!({ "schemas": [PATCH_OP], "Operations": operations });
    send(scim, reqwest::Method::PATCH, &format!("/scim/v2/Groups/{id}"), Some(&body), None).await
}

/// The member ids of a Group resource, sorted.
fn members(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no members in {group}"))
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    ids.sort();
    ids
}

fn filter(expression: &str) -> String {
    percent_encoding::utf8_percent_encode(expression, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The actions the environment's audit log holds about `target` by a SCIM token.
fn audited_by_token(server: &TestServer, target: &str) -> Vec<String> {
    let audit = op(
        server,
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
    audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"].as_str().is_some_and(|a| a.starts_with("scim_token:")) && e["target"] == target)
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Okta's group push: the existence check, create with members, rename with
/// `{id, displayName}`, member add and remove by value filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_group_push_replay() {
    let w = world().await;
    let (a, b, c) = (
        w.user("a@example.com").await,
        w.user("b@example.com").await,
        w.user("c@example.com").await,
    );
    let check = w
        .scim
        .get(&format!("/scim/v2/Groups?filter={}", filter("displayName eq \"Eng\"")))
        .await;
    assert_eq!(
        (check.expect(200).json["totalResults"].clone(), check.json["Resources"].clone()),
        (json!(0), json!([]))
    );

    let body = json!({ "schemas": [GROUP], "displayName": "Eng",
        "members": [{ "value": a, "display": "a@example.com" }] });
    let created = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None).await;
    created.expect(201);
    let group = &created.json;
    let id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["schemas"], json!([GROUP]));
    assert_eq!(created.header("location"), group["meta"]["location"].as_str());
    assert!(
        group["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Groups/{id}"))
    );
    assert_eq!(group["meta"]["resourceType"], "Group");
    assert_eq!(created.header("etag"), group["meta"]["version"].as_str());
    let member = &group["members"][0];
    assert_eq!((&member["value"], &member["display"]), (&json!(a), &json!("a@example.com")));
    assert!(member["$ref"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{a}")));

    let renamed = patch(
        &w.scim,
        &id,
        json!([{ "op": "replace", "value": { "id": id, "displayName": "Engineering" } }]),
    )
    .await;
    assert_eq!(renamed.expect(200).json["displayName"], "Engineering");
    assert_ne!(renamed.json["meta"]["version"], group["meta"]["version"]);
    let added = patch(
        &w.scim,
        &id,
        json!([{ "op": "add", "path": "members",
        "value": [{ "value": b, "display": "b@example.com" }, { "value": c, "display": "c@example.com" }] }]),
    )
    .await;
    assert_eq!(members(&added.expect(200).json), sorted(&[&a, &b, &c]));
    let removed = patch(
        &w.scim,
        &id,
        json!([{ "op": "remove", "path": format!("members[value eq \"{a}\"]") }]),
    )
    .await;
    assert_eq!(members(&removed.expect(200).json), sorted(&[&b, &c]));

    // displayName compares without case.
    let found = w
        .scim
        .get(&format!("/scim/v2/Groups?filter={}", filter("displayName eq \"engineering\"")))
        .await;
    assert_eq!(found.expect(200).json["totalResults"], 1);
    assert_eq!(members(&found.json["Resources"][0]), sorted(&[&b, &c]));
    let got = w.scim.get(&format!("/scim/v2/Groups/{id}")).await;
    assert_eq!(got.expect(200).json["displayName"], "Engineering");

    let actions = audited_by_token(&w.server, &id);
    assert!(
        actions.contains(&"group.created".to_owned()) && actions.iter().filter(|a| *a == "group.updated").count() == 3,
        "{actions:?}"
    );
}

/// Entra's group provisioning: lookups without members, create with
/// Microsoft's schema URN, `Add` members, `Remove` with a value list,
/// `Replace` of displayName.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_group_replay() {
    let w = world().await;
    let (a, b) = (w.user("a@example.com").await, w.user("b@example.com").await);
    let lookup = |name: &str| {
        format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={}",
            filter(&format!("displayName eq \"{name}\""))
        )
    };
    assert_eq!(w.scim.get(&lookup("Sales")).await.expect(200).json["totalResults"], 0);

    let body = json!({ "schemas": [GROUP, MS_GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Sales", "members": [], "meta": { "resourceType": "Group" } });
    let created = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None).await;
    created.expect(201);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");

    let r = patch(
        &w.scim,
        &id,
        json!([{ "op": "Add", "path": "members", "value": [{ "value": a }, { "value": b }] }]),
    )
    .await;
    assert_eq!(members(&r.expect(200).json), sorted(&[&a, &b]));
    let r = patch(
        &w.scim,
        &id,
        json!([{ "op": "Remove", "path": "members", "value": [{ "value": a }] }]),
    )
    .await;
    assert_eq!(members(&r.expect(200).json), sorted(&[&b]));
    let r = patch(
        &w.scim,
        &id,
        json!([{ "op": "Replace", "path": "displayName", "value": "Sales EMEA" }]),
    )
    .await;
    assert_eq!(r.expect(200).json["displayName"], "Sales EMEA");

    let found = w.scim.get(&lookup("Sales EMEA")).await;
    assert_eq!(found.expect(200).json["totalResults"], 1);
    let resource = &found.json["Resources"][0];
    assert!(resource.get("members").is_none(), "excludedAttributes=members: {resource}");
    assert_eq!((&resource["id"], &resource["displayName"]), (&json!(id), &json!("Sales EMEA")));
    // PATCH answers honour the projection too.
    let path = format!("/scim/v2/Groups/{id}?excludedAttributes=members");
    let body = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "add", "value": { "externalId": "e2" } }] });
    let r = send(&w.scim, reqwest::Method::PATCH, &path, Some(&body), None).await;
    assert!(
        r.expect(200).json.get("members").is_none() && r.json["externalId"] == "e2",
        "{}",
        r.text
    );
    // `attributes=` given empty asks for nothing: 204, with the new version.
    let path = format!("/scim/v2/Groups/{id}?attributes=");
    let body = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "replace", "path": "externalId", "value": "e3" }] });
    let r = send(&w.scim, reqwest::Method::PATCH, &path, Some(&body), None).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert!(r.header("etag").is_some_and(|tag| tag.starts_with("W/")));
    let body = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "replace", "path": "externalId", "value": "e2" }] });
    send(&w.scim, reqwest::Method::PATCH, &format!("/scim/v2/Groups/{id}"), Some(&body), None)
        .await
        .expect(200);

    // Lookups by externalId and by member, and `replace` of members.
    let by_member = w
        .scim
        .get(&format!("/scim/v2/Groups?filter={}", filter(&format!("members.value eq \"{b}\""))))
        .await;
    assert_eq!(by_member.expect(200).json["totalResults"], 1);
    let r = patch(
        &w.scim,
        &id,
        json!([{ "op": "replace", "path": "members", "value": [{ "value": a, "$ref": null }] }]),
    )
    .await;
    assert_eq!(members(&r.expect(200).json), sorted(&[&a]));
    let by_external = w
        .scim
        .get(&format!("/scim/v2/Groups?filter={}", filter("externalId eq \"e2\"")))
        .await;
    assert_eq!(by_external.expect(200).json["Resources"][0]["id"], json!(id));
    let by_id = w
        .scim
        .get(&format!("/scim/v2/Groups?filter={}", filter(&format!("id eq \"{id}\""))))
        .await;
    assert_eq!(by_id.expect(200).json["totalResults"], 1);
}

/// PUT replaces, DELETE deletes; duplicates, stale versions, read-only
/// attributes and unknown members are refused in SCIM's terms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_delete_and_refusals() {
    let w = world().await;
    let (a, b) = (w.user("a@example.com").await, w.user("b@example.com").await);
    let create = |body: Value| {
        let scim = w.scim.clone();
        async move { send(&scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None).await }
    };
    let first = create(json!({ "displayName": "Ops", "externalId": "x1", "members": [{ "value": a }] })).await;
    first.expect(201);
    let id = first.json["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Groups/{id}");

    // Uniqueness: displayName (in any case) and externalId.
    assert_eq!(
        scim_error(&create(json!({ "displayName": "OPS" })).await, 409)["scimType"],
        "uniqueness"
    );
    assert_eq!(
        scim_error(&create(json!({ "displayName": "Other", "externalId": "x1" })).await, 409)["scimType"],
        "uniqueness"
    );
    let other = create(json!({ "displayName": "Other" })).await;
    other.expect(201);
    let r = patch(
        &w.scim,
        other.json["id"].as_str().unwrap(),
        json!([{ "op": "replace", "path": "displayName", "value": "ops" }]),
    )
    .await;
    assert_eq!(scim_error(&r, 409)["scimType"], "uniqueness");

    // Read-only attributes, bad values, unknown members, bad filters.
    for ops in [
        json!([{ "op": "replace", "path": "id", "value": "x" }]),
        json!([{ "op": "replace", "path": "meta", "value": {} }]),
        json!([{ "op": "replace", "value": { "id": "0195f6a2-7c1e-7000-8000-000000000000" } }]),
    ] {
        assert_eq!(scim_error(&patch(&w.scim, &id, ops).await, 400)["scimType"], "mutability");
    }
    let unknown = json!([{ "op": "add", "path": "members", "value": [{ "value": "0195f6a2-7c1e-7000-8000-000000000000" }] }]);
    assert_eq!(scim_error(&patch(&w.scim, &id, unknown).await, 400)["scimType"], "invalidValue");
    assert_eq!(
        scim_error(
            &create(json!({ "displayName": "New", "members": [{ "value": "nope" }] })).await,
            400
        )["scimType"],
        "invalidValue"
    );
    assert_eq!(scim_error(&create(json!({ "members": [] })).await, 400)["scimType"], "invalidValue");
    let r = patch(&w.scim, &id, json!([{ "op": "remove", "path": "displayName" }])).await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidValue");
    let r = patch(&w.scim, &id, json!([{ "op": "remove", "path": "members[value eq" }])).await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidPath");
    for bad in ["members.type eq \"User\"", "userName eq \"a@example.com\"", "displayName eq"] {
        let r = w.scim.get(&format!("/scim/v2/Groups?filter={}", filter(bad))).await;
        assert_eq!(scim_error(&r, 400)["scimType"], "invalidFilter", "{bad}");
    }
    // Removing a non-member is no error.
    patch(
        &w.scim,
        &id,
        json!([{ "op": "remove", "path": format!("members[value eq \"{b}\"]") }]),
    )
    .await
    .expect(200);

    // If-Match: a stale version is 412 for PUT, PATCH and DELETE.
    let current = w.scim.get(&path).await.json["meta"]["version"].as_str().unwrap().to_owned();
    let put_body = json!({ "schemas": [GROUP], "id": id, "displayName": "Ops Team", "members": [{ "value": b }] });
    let stale = "W/\"1\"";
    scim_error(&send(&w.scim, reqwest::Method::PUT, &path, Some(&put_body), Some(stale)).await, 412);
    let patch_body = json!({ "schemas": [PATCH_OP], "Operations": [{ "op": "replace", "path": "displayName", "value": "Z" }] });
    scim_error(
        &send(&w.scim, reqwest::Method::PATCH, &path, Some(&patch_body), Some(stale)).await,
        412,
    );
    scim_error(&send(&w.scim, reqwest::Method::DELETE, &path, None, Some(stale)).await, 412);

    // PUT with the current version: replaced, the omitted externalId removed.
    let put = send(&w.scim, reqwest::Method::PUT, &path, Some(&put_body), Some(&current)).await;
    put.expect(200);
    assert_eq!((&put.json["displayName"], put.json.get("externalId")), (&json!("Ops Team"), None));
    assert_eq!(members(&put.json), sorted(&[&b]));
    assert_eq!(put.header("etag"), put.json["meta"]["version"].as_str());
    let emptied = send(
        &w.scim,
        reqwest::Method::PUT,
        &path,
        Some(&json!({ "displayName": "Ops Team" })),
        Some("*"),
    )
    .await;
    assert_eq!(emptied.expect(200).json["members"], json!([]));

    // DELETE: 204, then the group is gone; its members are not.
    let r = send(&w.scim, reqwest::Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    scim_error(&w.scim.get(&path).await, 404);
    scim_error(&w.scim.delete(&path).await, 404);
    scim_error(&w.scim.get("/scim/v2/Groups/not-a-uuid").await, 404);
    w.service.get(&format!("/v1/client/{b}")).await.expect(200);
    assert!(audited_by_token(&w.server, &id).contains(&"group.deleted".to_owned()));
}

/// Paging, projections, `/Groups/.search` and the root `/.search`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_projection_and_search() {
    let w = world().await;
    let a = w.user("a@example.com").await;
    let mut ids = Vec::new();
    for name in ["G1", "G2", "G3"] {
        let body = json!({ "displayName": name, "members": [{ "value": a }] });
        let r = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None).await;
        ids.push(r.expect(201).json["id"].as_str().unwrap().to_owned());
    }
    let page = w.scim.get("/scim/v2/Groups?startIndex=1&count=2").await;
    let j = &page.expect(200).json;
    assert_eq!(
        (&j["totalResults"], &j["itemsPerPage"], &j["startIndex"]),
        (&json!(3), &json!(2), &json!(1))
    );
    let next = w.scim.get("/scim/v2/Groups?startIndex=3&count=2").await;
    assert_eq!(next.expect(200).json["itemsPerPage"], 1);
    let mut seen: Vec<Value> = j["Resources"].as_array().unwrap().iter().map(|g| g["id"].clone()).collect();
    seen.push(next.json["Resources"][0]["id"].clone());
    assert_eq!(
        seen,
        ids.iter().map(|i| json!(i)).collect::<Vec<_>>(),
        "a stable order across pages"
    );
    assert_eq!(w.scim.get("/scim/v2/Groups?count=0").await.json["itemsPerPage"], 0);
    assert_eq!(w.scim.get("/scim/v2/Groups?count=5000").await.json["itemsPerPage"], 3);

    let only = w.scim.get("/scim/v2/Groups?attributes=displayName").await;
    let g = &only.expect(200).json["Resources"][0];
    assert!(
        g.get("members").is_none() && g.get("meta").is_none() && g["id"].is_string() && g["displayName"].is_string(),
        "{g}"
    );

    let search = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "displayName eq \"G2\"", "excludedAttributes": ["members"] });
    let r = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups/.search", Some(&search), None).await;
    assert_eq!(r.expect(200).json["Resources"][0]["id"], json!(ids[1]));
    assert!(r.json["Resources"][0].get("members").is_none());

    // The root search: Users, then Groups, paged as one list.
    let root = |body: Value| {
        let scim = w.scim.clone();
        async move { send(&scim, reqwest::Method::POST, "/scim/v2/.search", Some(&body), None).await }
    };
    let all = root(json!({ "count": 3 })).await;
    let j = &all.expect(200).json;
    assert_eq!((&j["totalResults"], &j["itemsPerPage"]), (&json!(4), &json!(3)));
    let kinds: Vec<&str> = j["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["User", "Group", "Group"]);
    let rest = root(json!({ "startIndex": 4, "count": 3 })).await;
    assert_eq!(rest.expect(200).json["Resources"][0]["id"], json!(ids[2]));
    let user = root(json!({ "filter": "userName eq \"a@example.com\"" })).await;
    assert_eq!(
        (&user.expect(200).json["totalResults"], &user.json["Resources"][0]["id"]),
        (&json!(1), &json!(a))
    );
    let group = root(json!({ "filter": format!("id eq \"{}\"", ids[0]) })).await;
    assert_eq!(group.expect(200).json["Resources"][0]["displayName"], "G1");
    assert_eq!(
        scim_error(&root(json!({ "filter": "title co \"x\"" })).await, 400)["scimType"],
        "invalidFilter"
    );
}

/// Deleting an account (client API or SCIM) removes its memberships.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_removes_its_memberships() {
    let w = world().await;
    let (a, b, c) = (
        w.user("a@example.com").await,
        w.user("b@example.com").await,
        w.user("c@example.com").await,
    );
    let body = json!({ "displayName": "All", "members": [{ "value": a }, { "value": b }, { "value": c }] });
    let id = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None)
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.service.delete(&format!("/v1/client/{a}")).await.expect(204);
    let r = w.scim.delete(&format!("/scim/v2/Users/{b}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let group = w.scim.get(&format!("/scim/v2/Groups/{id}")).await;
    assert_eq!(members(&group.expect(200).json), sorted(&[&c]));
    let counted = w.service.get(&format!("/v1/groups/{id}")).await;
    assert_eq!(counted.expect(200).json["member_count"], 1);
}

/// The client API: groups, a group, its members, an account's groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_users_read_groups() {
    let w = world().await;
    let (a, b) = (w.user("a@example.com").await, w.user("b@example.com").await);
    let mut ids = Vec::new();
    for (name, members) in [("Beta", vec![&a, &b]), ("Alpha", vec![&a])] {
        let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
        let body = json!({ "displayName": name, "externalId": format!("ext-{name}"), "members": members });
        let r = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None).await;
        ids.push(r.expect(201).json["id"].as_str().unwrap().to_owned());
    }
    let first = w.service.get("/v1/groups?limit=1").await;
    let j = &first.expect(200).json;
    assert_eq!(
        j["data"][0],
        json!({ "id": ids[0], "display_name": "Beta", "external_id": "ext-Beta", "member_count": 2 })
    );
    let cursor = j["next_cursor"].as_str().unwrap();
    let second = w.service.get(&format!("/v1/groups?limit=1&cursor={cursor}")).await;
    assert_eq!(second.expect(200).json["data"][0]["id"], json!(ids[1]));
    assert_eq!(second.json["next_cursor"], Value::Null);

    let one = w.service.get(&format!("/v1/groups/{}", ids[1])).await;
    assert_eq!(one.expect(200).json["member_count"], 1);
    let page = w.service.get(&format!("/v1/groups/{}/members?limit=1", ids[0])).await;
    let first_member = page.expect(200).json["data"][0].clone();
    let next = page.json["next_cursor"].as_str().unwrap().to_owned();
    let rest = w.service.get(&format!("/v1/groups/{}/members?limit=1&cursor={next}", ids[0])).await;
    let mut seen = vec![first_member, rest.expect(200).json["data"][0].clone()];
    seen.sort_by_key(|m| m["user_id"].as_str().unwrap().to_owned());
    let mut expected = vec![
        json!({ "user_id": a, "email": "a@example.com" }),
        json!({ "user_id": b, "email": "b@example.com" }),
    ];
    expected.sort_by_key(|m| m["user_id"].as_str().unwrap().to_owned());
    assert_eq!(seen, expected);
    assert_eq!(rest.json["next_cursor"], Value::Null);

    let account = w.service.get(&format!("/v1/client/{a}")).await;
    assert_eq!(
        account.expect(200).json["groups"],
        json!([{ "id": ids[1], "display_name": "Alpha" }, { "id": ids[0], "display_name": "Beta" }])
    );
    assert_eq!(account.json["email"], "a@example.com");

    // A rename and a removal show on the next read (the account's groups
    // are cached; a change forgets them).
    let rename = json!([{ "op": "replace", "path": "displayName", "value": "Alef" }]);
    patch(&w.scim, &ids[1], rename).await.expect(200);
    let groups = &w.service.get(&format!("/v1/client/{a}")).await.json["groups"];
    assert_eq!(groups[0]["display_name"], "Alef", "{groups}");
    let leave = json!([{ "op": "remove", "path": format!("members[value eq \"{a}\"]") }]);
    patch(&w.scim, &ids[0], leave).await.expect(200);
    let groups = &w.service.get(&format!("/v1/client/{a}")).await.json["groups"];
    assert_eq!(groups, &json!([{ "id": ids[1], "display_name": "Alef" }]));

    w.service
        .get("/v1/groups/0195f6a2-7c1e-7000-8000-000000000000")
        .await
        .problem(404, "not_found");
    w.service.get("/v1/groups/nope/members").await.problem(404, "not_found");
    w.service.get("/v1/groups?limit=0").await.problem(400, "invalid_query");
    w.service.get("/v1/groups?cursor=nope").await.expect(400);
    w.service.get("/v1/groups?sort=name").await.expect(400);
}

/// Groups belong to one environment: the other environment and another
/// instance see nothing, and cannot be made members.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_isolated_per_environment_and_instance() {
    let w = world().await;
    let a = w.user("a@example.com").await;
    let body = json!({ "displayName": "Staff", "members": [{ "value": a }] });
    let id = send(&w.scim, reqwest::Method::POST, "/scim/v2/Groups", Some(&body), None)
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/scim/v2/Groups/{id}");

    let live = op(&w.server, &["scim-token", "issue", "acme", "production"]).ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let production = w.server.production("acme").with_token(&live);
    scim_error(&production.get(&path).await, 404);
    assert_eq!(production.get("/scim/v2/Groups").await.expect(200).json["totalResults"], 0);
    // The same name is free in production.
    let same = send(
        &production,
        reqwest::Method::POST,
        "/scim/v2/Groups",
        Some(&json!({ "displayName": "Staff" })),
        None,
    )
    .await;
    same.expect(201);
    // A staging account is no member for production.
    let r = patch(
        &production,
        same.json["id"].as_str().unwrap(),
        json!([{ "op": "add", "path": "members", "value": [{ "value": a }] }]),
    )
    .await;
    assert_eq!(scim_error(&r, 400)["scimType"], "invalidValue");
    // A staging token on the production host, another instance's token.
    scim_error(
        &w.server.production("acme").with_token(w.scim.token()).get("/scim/v2/Groups").await,
        401,
    );
    w.server.create_instance("beta", &["client-accounts", "scim"]).await;
    let beta = op(&w.server, &["scim-token", "issue", "beta", "staging"]).ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    scim_error(&w.server.staging("acme").with_token(&beta).get(&path).await, 401);
    scim_error(&w.server.staging("beta").with_token(&beta).get(&path).await, 404);

    w.server.create_service_user("acme", "production", "live", &[]).await;
    let live_service = w.server.login(&w.server.production("acme"), "live").await;
    live_service.get(&format!("/v1/groups/{id}")).await.problem(404, "not_found");
    let listed = live_service.get("/v1/groups").await;
    assert_eq!(listed.expect(200).json["data"].as_array().unwrap().len(), 1);
}

/// Two membership changes of one group at once both land: members are rows,
/// not a list rewritten by the last writer. An account deleted while it is
/// being added leaves no membership behind and no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_membership_changes_are_not_lost() {
    let parking = Parking::default();
    let wrapper = parking.wrapper();
    let w = world_with(TestServer::start_with(|s| s.wrap_store = Some(wrapper)).await).await;
    let (a, b, c) = (
        w.user("a@example.com").await,
        w.user("b@example.com").await,
        w.user("c@example.com").await,
    );
    let created = send(
        &w.scim,
        reqwest::Method::POST,
        "/scim/v2/Groups",
        Some(&json!({ "displayName": "Race" })),
        None,
    )
    .await;
    let id = created.json["id"].as_str().unwrap().to_owned();

    let spot = parking.arm("update_group");
    let parked = {
        let (scim, id, a) = (w.scim.clone(), id.clone(), a.clone());
        async move { patch(&scim, &id, json!([{ "op": "add", "path": "members", "value": [{ "value": a }] }])).await }
    };
    let meanwhile = patch(&w.scim, &id, json!([{ "op": "add", "path": "members", "value": [{ "value": b }] }]));
    let (first, second) = spot.run_while_parked(parked, meanwhile).await;
    first.expect(200);
    second.expect(200);
    let group = w.scim.get(&format!("/scim/v2/Groups/{id}")).await;
    assert_eq!(members(&group.expect(200).json), sorted(&[&a, &b]));
    assert_eq!(group.json["meta"]["version"], "W/\"3\"", "each change counted");

    let spot = parking.arm("update_group");
    let parked = {
        let (scim, id, c) = (w.scim.clone(), id.clone(), c.clone());
        async move { patch(&scim, &id, json!([{ "op": "add", "path": "members", "value": [{ "value": c }] }])).await }
    };
    let meanwhile = w.service.delete(&format!("/v1/client/{c}"));
    let (added, deleted) = spot.run_while_parked(parked, meanwhile).await;
    deleted.expect(204);
    added.expect(200);
    let group = w.scim.get(&format!("/scim/v2/Groups/{id}")).await;
    assert_eq!(members(&group.expect(200).json), sorted(&[&a, &b]));
}
