//! Every JSON body the suite receives from a documented operation is checked
//! against the OpenAPI document, so the document cannot drift from the
//! server: a field the schema forbids, a missing required one, or a status
//! the operation does not document fails the test that saw it.
//!
//! The document is the reviewed snapshot, which `openapi.rs` proves equal to
//! what `/openapi.json` serves; reading it from disk keeps the check from
//! sending requests of its own (they would count against rate limits and
//! metrics the tests assert on).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let snapshot = include_str!("../snapshots/api__openapi__openapi.snap");
    // An insta snapshot: a `---` header, then the JSON.
    let body = snapshot.splitn(3, "---\n").nth(2).expect("snapshot header");
    serde_json::from_str(body).expect("the OpenAPI snapshot is JSON")
});

type Key = (String, String, String, String);
static VALIDATORS: LazyLock<Mutex<HashMap<Key, Arc<Validator>>>> = LazyLock::new(Mutex::default);

/// How a JSON response of a documented operation breaks the document.
/// Bodies that are not JSON and paths the document does not describe (the
/// pages, deliberate 404s) are left to the tests.
pub fn check_response(method: &str, path: &str, status: u16, content_type: &str, body: &[u8]) -> Result<(), String> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.ends_with("json") {
        return Ok(());
    }
    let Some(template) = operation_path(method, path) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(body);
    let at = format!("{} {path} ({template}) → {status}", method.to_uppercase());
    let Some(response) = documented_response(&template, method, status) else {
        return Err(format!("{at}: status not documented; body: {text}"));
    };
    let Some(schema) = response["content"][media].get("schema") else {
        return Err(format!("{at}: {media} body not documented; body: {text}"));
    };
    let instance: Value = serde_json::from_slice(body).map_err(|e| format!("{at}: {media} body is not JSON: {e}"))?;
    let validator = validator((template, method.to_owned(), status.to_string(), media.to_owned()), schema);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{at}: body breaks the OpenAPI document: {errors:#?}\nbody: {instance}"))
    }
}

/// The document's path template for a concrete path with this method; the
/// one with the most literal segments wins (`/v1/client/signup` over
/// `/v1/client/{user_id}`).
fn operation_path(method: &str, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    DOCUMENT["paths"]
        .as_object()?
        .iter()
        .filter(|(_, item)| item.get(method).is_some())
        .filter_map(|(template, _)| {
            let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
            let matches = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
            matches.then(|| (parts.iter().filter(|p| !p.starts_with('{')).count(), template))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, template)| template.clone())
}

fn documented_response(template: &str, method: &str, status: u16) -> Option<Value> {
    let responses = &DOCUMENT["paths"][template][method]["responses"];
    let response = responses.get(status.to_string()).or_else(|| responses.get("default"))?;
    match response["$ref"].as_str() {
        Some(target) => DOCUMENT.pointer(target.strip_prefix('#')?).cloned(),
        None => Some(response.clone()),
    }
}

fn validator(key: Key, schema: &Value) -> Arc<Validator> {
    let mut cache = VALIDATORS.lock().expect("validator cache");
    let found = cache.entry(key).or_insert_with(|| {
        // The schema's `$ref`s point into the document's components: carry
        // them at the root so they resolve.
        let mut root = json!({ "components": DOCUMENT["components"] });
        if let Value::Object(fields) = schema {
            root.as_object_mut().expect("object").extend(fields.clone());
        }
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema does not compile: {e}"));
        Arc::new(validator)
    });
    Arc::clone(found)
}
