//! The OpenAPI document is the public contract: it is snapshotted, so every
//! change to it shows as a diff in review (`snapshots/`), and checked for the
//! mistakes that make strict validators and code generators reject it.
//!
//! After an intended change, accept the new document with
//! `INSTA_UPDATE=always cargo test -p onramp --test api openapi` (or
//! `cargo insta review`) and commit the snapshot.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_the_reviewed_one() {
    let server = TestServer::start().await;
    let r = server.api("localhost").get("/openapi.json").await;
    r.expect(200);
    // Generated once per process, the same on every start: nothing in it may
    // depend on iteration order of hash maps or on the server's settings.
    let again = TestServer::start_with(|s| s.default_rate_limit = 7).await;
    assert_eq!(again.api("localhost").get("/openapi.json").await.text, r.text);
    insta::assert_json_snapshot!("openapi", r.json);
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_well_formed() {
    let server = TestServer::start().await;
    let doc = server.api("localhost").get("/openapi.json").await.json;

    // Every reference points at something the document defines.
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {target}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {target}");
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let at = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{at} has no operationId"));
            assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice");
            // utoipa leaves out a response's description unless it is given;
            // OpenAPI requires one.
            for (status, response) in op["responses"].as_object().unwrap_or_else(|| panic!("{at} has no responses")) {
                let response = match response["$ref"].as_str() {
                    Some(target) => doc.pointer(&target[1..]).unwrap(),
                    None => response,
                };
                assert!(
                    response["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{at} {status} has no description"
                );
            }
            // A parameter is named once per place.
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut seen = BTreeSet::new();
            for p in &params {
                let p = match p["$ref"].as_str() {
                    Some(target) => doc.pointer(&target[1..]).unwrap().clone(),
                    None => p.clone(),
                };
                let key = (p["in"].to_string(), p["name"].to_string().to_ascii_lowercase());
                assert!(seen.insert(key), "{at} declares the parameter {} twice", p["name"]);
            }
        }
    }
}

/// Both code tables of `docs/errors.md` are in the schemas clients generate from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_code_is_in_the_problem_field_schema() {
    let server = TestServer::start().await;
    let doc = server.api("localhost").get("/openapi.json").await.json;
    let codes = doc["components"]["schemas"]["ProblemField"]["properties"]["code"]["enum"]
        .as_array()
        .expect("field code enum");
    assert_eq!(codes.len(), onramp_domain::FieldCode::ALL.len());
    for code in onramp_domain::FieldCode::ALL {
        assert!(codes.iter().any(|c| c == code.as_str()), "{code} missing from ProblemField");
    }
}

/// The suite checks every JSON body it receives against the document
/// (`helpers/contract.rs`); this proves the check catches what it is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_refuses_bodies_that_break_the_document() {
    let fx = Fixture::new().await;
    let account = fx.staging.signup("contract@example.com").await;
    let id = account["user_id"].as_str().expect("user_id");
    let path = format!("/v1/client/{id}");
    let r = fx.staging.get(&path).await;
    r.expect(200);
    let check = |status: u16, body: &Value| contract::check_response("get", &path, status, "application/json", body.to_string().as_bytes());
    assert_eq!(check(200, &r.json), Ok(()));

    let mut no_id = r.json.clone();
    no_id.as_object_mut().expect("object").remove("user_id");
    let mut wrong_type = r.json.clone();
    wrong_type["email"] = Value::from(42);
    for broken in [no_id, wrong_type] {
        let err = check(200, &broken).expect_err("a body that breaks the schema");
        assert!(err.contains("body breaks the OpenAPI document"), "{err}");
    }
    let err = check(418, &r.json).expect_err("an undocumented status");
    assert!(err.contains("status not documented"), "{err}");
    // Paths the document does not describe (pages, deliberate 404s) are the tests' own business.
    assert_eq!(
        contract::check_response("get", "/no/such/path", 404, "application/json", b"{}"),
        Ok(())
    );
}
