//! `GET /Users?filter=…` answered in SQL: every filter of a table gives the
//! Users the filter evaluator picks from the same resources (and a count
//! written by hand), on SQLite and PostgreSQL; filters the server cannot
//! answer exactly are `400 invalidFilter`, never a 5xx.

use std::collections::BTreeSet;

use onramp_domain::scim::Filter;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::helpers::{Api, TestServer};

async fn scim_api() -> (TestServer, Api) {
    let server = TestServer::start().await;
    let scim = super::scim_client(&server).await;
    (server, scim)
}

fn people() -> Vec<Value> {
    let user = |email: &str, given: &str, family: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "name": { "givenName": given, "familyName": family },
        })
    };
    let mut ann = user("ann@example.com", "Ann", "Lee");
    ann["externalId"] = json!("ext-ANN");
    ann["displayName"] = json!("Ann Lee");
    ann["emails"] = json!([
        { "value": "ann@example.com", "type": "work", "primary": true },
        { "value": "ann.home@example.org", "type": "home" },
    ]);
    let mut bob = user("bob@example.com", "Bob", "Marsh");
    bob["externalId"] = json!("ext-bob");
    bob["active"] = json!(false);
    let mut cy = user("cy_1%@corp.example.net", "Cyrille", "Zed");
    cy["displayName"] = json!("");
    cy["emails"] = json!([
        { "value": "cy@other.example.org", "type": "other" },
        { "value": "cy_1%@corp.example.net", "type": "work" },
    ]);
    let dee = user("Dee@Example.COM", "dee", "Lee");
    vec![ann, bob, cy, dee]
}

/// (filter, how many of the four people it picks).
const ANSWERED: &[(&str, usize)] = &[
    ("userName eq \"ANN@example.com\"", 1),
    ("username Eq \"dee@example.com\"", 1),
    ("userName ne \"ann@example.com\"", 3),
    ("userName co \"EXAMPLE.com\"", 3),
    ("userName sw \"cy_1%\"", 1),
    ("userName sw \"cy_\"", 1),
    ("userName sw \"c%\"", 0),
    ("userName ew \".net\"", 1),
    ("userName gt \"b\"", 3),
    ("userName le \"bob@example.com\"", 2),
    ("externalId eq \"ext-bob\"", 1),
    ("externalId eq \"EXT-BOB\"", 0),
    ("externalId sw \"ext-\"", 2),
    ("externalId co \"ANN\"", 1),
    ("externalId co \"ann\"", 0),
    ("externalId pr", 2),
    ("externalId eq null", 2),
    ("not (externalId pr)", 2),
    ("externalId ne \"ext-bob\"", 3),
    ("name.givenName eq \"ann\"", 1),
    ("name.familyName eq \"lee\"", 2),
    ("name.familyName eq \"Lee\" and name.givenName sw \"D\"", 1),
    ("name.familyName eq \"Lee\" or active eq false", 3),
    ("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName ew \"ille\"", 1),
    ("displayName eq \"ann lee\"", 1),
    ("displayName pr", 1),
    ("displayName ne \"Ann Lee\"", 3),
    ("active eq true", 3),
    ("active eq false", 1),
    ("active ne true", 1),
    ("active pr", 4),
    ("meta.created gt \"2000-01-01T00:00:00Z\"", 4),
    ("meta.created lt \"2000-01-01T00:00:00Z\"", 0),
    (
        "meta.lastModified ge \"2000-01-01T00:00:00+02:00\" and meta.lastModified le \"2999-12-31T23:59:59Z\"",
        4,
    ),
    ("emails co \"example.org\"", 2),
    ("emails.value eq \"ann.home@example.org\"", 1),
    ("emails[type eq \"work\"]", 4),
    ("emails[type eq \"work\" and value co \"corp\"]", 1),
    ("emails[type eq \"home\"].value ew \".org\"", 1),
    ("emails[not (type eq \"work\")]", 2),
    ("emails[primary eq true and value sw \"bob\"]", 1),
    ("emails[primary eq false]", 2),
    ("emails.type eq \"other\"", 1),
    ("emails pr", 4),
    ("not (emails co \"example.org\") and not (userName eq \"dee@example.com\")", 1),
    ("(userName sw \"a\" or userName sw \"b\") and not (active eq false)", 1),
];

/// Filters this server refuses: unknown attributes, wrong types and
/// operators, malformed text.
const REFUSED: &[&str] = &[
    "title eq \"x\"",
    "name eq \"x\"",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"x\"",
    "active gt false",
    "active eq \"true\"",
    "active co \"t\"",
    "meta.created co \"2020\"",
    "meta.created gt \"yesterday\"",
    "userName eq 5",
    "userName gt true",
    "name[givenName eq \"x\"]",
    "emails[display eq \"x\"]",
    "userName eq",
    "userName zz \"x\"",
    "(userName eq \"x\"",
    "emails[type eq \"work\"",
];

fn query(params: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect();
    pairs.join("&")
}

async fn list(scim: &Api, filter: &str) -> crate::helpers::Resp {
    scim.get(&format!("/scim/v2/Users?{}", query(&[("filter", filter), ("count", "200")])))
        .await
}

fn ids_of(resources: &Value) -> BTreeSet<String> {
    resources
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_picks_what_the_evaluator_picks() {
    let (_server, scim) = scim_api().await;
    for person in people() {
        scim.post("/scim/v2/Users", &person).await.expect(201);
    }
    let everyone = scim.get("/scim/v2/Users?count=200").await;
    let everyone = everyone.expect(200).json["Resources"].as_array().unwrap().clone();
    assert_eq!(everyone.len(), 4);
    let kept = everyone.iter().find(|u| u["userName"] == "ann@example.com").unwrap();
    assert_eq!(
        kept["emails"],
        json!([
            { "value": "ann@example.com", "type": "work", "primary": true },
            { "value": "ann.home@example.org", "type": "home", "primary": false },
        ]),
        "the emails besides the primary one are kept"
    );
    for (text, picks) in ANSWERED {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected: BTreeSet<String> = everyone
            .iter()
            .filter(|u| filter.matches(u))
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(expected.len(), *picks, "the evaluator on `{text}`");
        let r = list(&scim, text).await;
        assert_eq!(r.status, 200, "{text}: {}", r.text);
        assert_eq!(ids_of(&r.json["Resources"]), expected, "{text}");
        assert_eq!(r.json["totalResults"], *picks, "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_it_cannot_answer_are_invalid_filter() {
    let (_server, scim) = scim_api().await;
    scim.post("/scim/v2/Users", &people()[0]).await.expect(201);
    for text in REFUSED {
        let r = list(&scim, text).await;
        assert_eq!(r.status, 400, "{text}: {}", r.text);
        assert_eq!(r.json["scimType"], "invalidFilter", "{text}: {}", r.text);
        let search = scim.post("/scim/v2/Users/.search", &json!({ "filter": text })).await;
        assert_eq!(search.status, 400, "{text}: {}", search.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_listing_pages_in_id_order() {
    let (_server, scim) = scim_api().await;
    for i in 0..7 {
        let body = json!({ "userName": format!("p{i}@example.com"), "name": { "givenName": "P", "familyName": "Q" } });
        scim.post("/scim/v2/Users", &body).await.expect(201);
    }
    scim.post(
        "/scim/v2/Users",
        &json!({ "userName": "x@else.org", "name": { "givenName": "X", "familyName": "Y" } }),
    )
    .await
    .expect(201);
    let filter = "userName ew \"@example.com\"";
    let page = |start: u32| {
        let scim = scim.clone();
        async move {
            let params = query(&[("filter", filter), ("startIndex", &start.to_string()), ("count", "3")]);
            let r = scim.get(&format!("/scim/v2/Users?{params}")).await;
            r.expect(200);
            r.json
        }
    };
    let mut seen = Vec::new();
    for start in [1, 4, 7] {
        let body = page(start).await;
        assert_eq!(body["totalResults"], 7);
        assert_eq!(body["startIndex"], start);
        seen.extend(
            body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "a stable order: by id");
}

/// (filter, how many of the three groups it picks).
const GROUPS_ANSWERED: &[(&str, usize)] = &[
    ("displayName eq \"SALES\"", 1),
    ("displayName sw \"s\"", 2),
    ("displayName co \"port\" or externalId eq \"g-ops\"", 2),
    ("externalId pr", 2),
    ("not (externalId pr)", 1),
    ("members pr", 2),
    ("not (members pr)", 1),
    ("members[display ew \"@example.com\"]", 2),
    ("members.display eq \"BO@EXAMPLE.ORG\"", 1),
    ("members[display sw \"ann\"] and members[display sw \"bo\"]", 1),
    ("meta.created gt \"2000-01-01T00:00:00Z\"", 3),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_filters_pick_what_the_evaluator_picks() {
    let (_server, scim) = scim_api().await;
    let mut ids = Vec::new();
    for email in ["ann@example.com", "bo@example.org", "cy@example.com"] {
        let body = json!({ "userName": email, "name": { "givenName": "A", "familyName": "B" } });
        ids.push(
            scim.post("/scim/v2/Users", &body).await.expect(201).json["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let member = |i: usize| json!({ "value": ids[i] });
    for group in [
        json!({ "displayName": "Sales", "externalId": "g-sales", "members": [member(0), member(1)] }),
        json!({ "displayName": "Support", "members": [member(2)] }),
        json!({ "displayName": "Ops", "externalId": "g-ops" }),
    ] {
        scim.post("/scim/v2/Groups", &group).await.expect(201);
    }
    let everyone = scim.get("/scim/v2/Groups?count=200").await;
    let everyone = everyone.expect(200).json["Resources"].as_array().unwrap().clone();
    assert_eq!(everyone.len(), 3);
    let member_of_sales = format!("members.value eq \"{}\"", ids[1]);
    let table = GROUPS_ANSWERED
        .iter()
        .map(|(f, n)| ((*f).to_owned(), *n))
        .chain([(member_of_sales, 1)]);
    for (text, picks) in table {
        let filter = Filter::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected: BTreeSet<String> = everyone
            .iter()
            .filter(|g| filter.matches(g))
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(expected.len(), picks, "the evaluator on `{text}`");
        let r = scim.get(&format!("/scim/v2/Groups?{}", query(&[("filter", &text)]))).await;
        assert_eq!(r.status, 200, "{text}: {}", r.text);
        assert_eq!(ids_of(&r.json["Resources"]), expected, "{text}");
        assert_eq!(r.json["totalResults"], picks, "{text}");
    }
}
