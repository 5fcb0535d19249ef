//! Malformed and hostile input: every refusal is a problem body, and nothing
//! is stored.

use onramp_domain::audit::AuditFilter;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn raw(api: &Api, path: &str, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    let rb = api.request(Method::POST, path).body(body);
    match content_type {
        Some(ct) => rb.header("content-type", ct),
        None => rb,
    }
}

fn body_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut b = signup_body("ann@example.com");
    f(&mut b);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_refused_and_nothing_is_stored() {
    let fx = Fixture::new().await;
    let api = &fx.staging;
    let signup = "/v1/client/signup";

    // Not JSON.
    for body in ["{", "{\"email\": }", "not json", "", "{\"email\":\"a@b.co\",}"] {
        let r = send(raw(api, signup, Some("application/json"), body)).await;
        r.problem(400, "invalid_json");
    }

    // Deeply nested JSON is refused without harm.
    for nested in ["[".repeat(20_000), format!("{{\"email\":{}", "{\"a\":".repeat(5_000))] {
        let r = send(raw(api, signup, Some("application/json"), nested)).await;
        r.expect(400);
        assert_problem_shape(&r);
    }

    // Wrong types name the field.
    let cases = [
        (body_with(|b| b["email"] = json!(5)), "email"),
        (body_with(|b| b["password"] = json!(["x"])), "password"),
        (body_with(|b| b["name"] = json!("Ann Lee")), "name"),
        (body_with(|b| b["name"]["first_name"] = json!(true)), "name.first_name"),
        (body_with(|b| b["user_id"] = json!(42)), "user_id"),
    ];
    for (body, field) in &cases {
        let r = api.post(signup, body).await;
        r.problem(400, "validation_failed");
        assert_eq!(r.error_fields(), vec![field.to_string()], "{}", r.text);
    }

    // Missing fields name the field.
    let r = api
        .post(signup, &body_with(|b| drop(b.as_object_mut().unwrap().remove("password"))))
        .await;
    r.problem(400, "validation_failed");
    assert_eq!(r.error_fields(), vec!["password"]);
    let r = api
        .post(signup, &body_with(|b| drop(b["name"].as_object_mut().unwrap().remove("last_name"))))
        .await;
    r.problem(400, "validation_failed");
    assert_eq!(r.error_fields(), vec!["name.last_name"]);

    // Unknown fields are named.
    let r = api.post(signup, &body_with(|b| b["nickname"] = json!("annie"))).await;
    r.problem(400, "unknown_field");
    assert_eq!(r.error_fields(), vec!["nickname"]);
    assert!(r.json["detail"].as_str().unwrap().contains("nickname"));
    let r = api.post(signup, &body_with(|b| b["name"]["middle_name"] = json!("Q"))).await;
    r.problem(400, "unknown_field");
    assert_eq!(r.error_fields(), vec!["name.middle_name"]);

    // Not sent as JSON.
    let body = signup_body("ann@example.com").to_string();
    send(raw(api, signup, None, body.clone()))
        .await
        .problem(415, "unsupported_media_type");
    send(raw(api, signup, Some("text/plain"), body.clone()))
        .await
        .problem(415, "unsupported_media_type");
    send(raw(api, signup, Some("application/x-www-form-urlencoded"), "email=a%40b.co"))
        .await
        .problem(415, "unsupported_media_type");
    // JSON with parameters is JSON.
    let r = send(raw(
        api,
        signup,
        Some("application/json; charset=utf-8"),
        body_with(|b| b["email"] = json!(7)).to_string(),
    ))
    .await;
    r.problem(400, "validation_failed");

    // Too large: over 64 KiB, even when it is valid JSON.
    let padding = "x".repeat(70 * 1024);
    let big = body_with(|b| b["name"]["first_name"] = json!(padding)).to_string();
    send(raw(api, signup, Some("application/json"), big))
        .await
        .problem(413, "payload_too_large");
    let big = format!("{}{}", " ".repeat(65 * 1024), signup_body("ann@example.com"));
    send(raw(api, signup, Some("application/json"), big))
        .await
        .problem(413, "payload_too_large");
    // Just under the limit is read (and refused for its content, not its size).
    let near = body_with(|b| b["name"]["first_name"] = json!("y".repeat(60 * 1024))).to_string();
    assert!(near.len() < 64 * 1024);
    send(raw(api, signup, Some("application/json"), near))
        .await
        .problem(400, "validation_failed");

    assert_nothing_stored(&fx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_values_are_refused_with_the_field_and_nothing_is_stored() {
    let fx = Fixture::new().await;
    let api = &fx.staging;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "10 KB first name",
            body_with(|b| b["name"]["first_name"] = json!("a".repeat(10_000))),
            "name.first_name",
        ),
        (
            "101 character last name",
            body_with(|b| b["name"]["last_name"] = json!("é".repeat(101))),
            "name.last_name",
        ),
        (
            "empty first name",
            body_with(|b| b["name"]["first_name"] = json!("")),
            "name.first_name",
        ),
        (
            "blank first name",
            body_with(|b| b["name"]["first_name"] = json!("   ")),
            "name.first_name",
        ),
        (
            "bell in name",
            body_with(|b| b["name"]["first_name"] = json!("An\u{7}n")),
            "name.first_name",
        ),
        (
            "NUL in name",
            body_with(|b| b["name"]["last_name"] = json!("Le\u{0}e")),
            "name.last_name",
        ),
        (
            "newline in name",
            body_with(|b| b["name"]["first_name"] = json!("An\nn")),
            "name.first_name",
        ),
        (
            "escape in name",
            body_with(|b| b["name"]["first_name"] = json!("An\u{1b}[31mn")),
            "name.first_name",
        ),
        (
            "bidi override in name",
            body_with(|b| b["name"]["last_name"] = json!("Lee\u{202E}evil")),
            "name.last_name",
        ),
        (
            "zero width space in name",
            body_with(|b| b["name"]["last_name"] = json!("Le\u{200B}e")),
            "name.last_name",
        ),
        ("invalid email", body_with(|b| b["email"] = json!("not-an-email")), "email"),
        ("email without domain", body_with(|b| b["email"] = json!("ann@")), "email"),
        ("empty email", body_with(|b| b["email"] = json!("")), "email"),
        ("email with NUL", body_with(|b| b["email"] = json!("ann\u{0}@example.com")), "email"),
        (
            "10 KB email",
            body_with(|b| b["email"] = json!(format!("{}@example.com", "a".repeat(10_000)))),
            "email",
        ),
        (
            "255 character email",
            body_with(|b| b["email"] = json!(email_of_length(255))),
            "email",
        ),
        (
            "65 character local part",
            body_with(|b| b["email"] = json!(format!("{}@example.com", "a".repeat(65)))),
            "email",
        ),
        ("short password", body_with(|b| b["password"] = json!("Ab1!xyz")), "password"),
        ("common password", body_with(|b| b["password"] = json!("password123")), "password"),
        (
            "common password in capitals",
            body_with(|b| b["password"] = json!("PASSWORD123")),
            "password",
        ),
        (
            "another common password",
            body_with(|b| b["password"] = json!("qwertyuiop")),
            "password",
        ),
        (
            "password equal to the email",
            body_with(|b| b["password"] = json!("ann@example.com")),
            "password",
        ),
        (
            "password equal to the email, other case",
            body_with(|b| b["password"] = json!("ANN@EXAMPLE.COM")),
            "password",
        ),
        (
            "257 character password",
            body_with(|b| b["password"] = json!("k".repeat(257))),
            "password",
        ),
        (
            "10 KB password",
            body_with(|b| b["password"] = json!("k".repeat(10_000))),
            "password",
        ),
    ];
    for (what, body, field) in &cases {
        let r = api.post("/v1/client/signup", body).await;
        assert_eq!(r.status, 400, "{what}: {}", r.text);
        r.problem(400, "validation_failed");
        assert!(
            r.error_fields().contains(&field.to_string()),
            "{what}: errors should name {field}: {}",
            r.text
        );
        for e in r.json["errors"].as_array().unwrap() {
            assert!(
                e["code"].as_str().is_some_and(|c| !c.is_empty()) && e["message"].is_string(),
                "{what}: {e}"
            );
        }
        let pw = body["password"].as_str().unwrap();
        assert!(
            pw.len() < 8 || !r.text.contains(pw),
            "{what}: the password is echoed back: {}",
            r.text
        );
    }

    // Several problems are reported together.
    let r = api
        .post(
            "/v1/client/signup",
            &json!({ "email": "nope", "name": { "first_name": "", "last_name": "Lee" }, "password": "short" }),
        )
        .await;
    r.problem(400, "validation_failed");
    let fields = r.error_fields();
    for f in ["email", "name.first_name", "password"] {
        assert!(fields.contains(&f.to_owned()), "{f} missing in {fields:?}");
    }

    // The edges that are allowed.
    let ok = body_with(|b| {
        b["password"] = json!("éééééééé");
        b["name"]["first_name"] = json!("é".repeat(100));
        b["email"] = json!(format!("{}@example.com", "a".repeat(64)));
    });
    assert_nothing_stored(&fx).await;
    api.post("/v1/client/signup", &ok).await.expect(201);
    let longest = email_of_length(254);
    let ok = body_with(|b| {
        b["email"] = json!(longest);
        b["password"] = json!("p".repeat(255) + "!");
    });
    let r = api.post("/v1/client/signup", &ok).await;
    r.expect(201);
    let ok = body_with(|b| {
        b["email"] = json!("short.pw@example.com");
        b["password"] = json!("Zq8#mK2p");
    });
    api.post("/v1/client/signup", &ok).await.expect(201);
    // The 256-character password logs in.
    let r = api
        .post("/v1/client/login", &json!({ "email": longest, "password": "p".repeat(255) + "!" }))
        .await;
    r.expect(200);
}

/// A syntactically valid email of exactly `len` characters: a 64-character
/// local part and a domain of labels of at most 63 characters.
fn email_of_length(len: usize) -> String {
    let mut domain = String::new();
    let mut left = len - 65;
    while left > 63 {
        domain.push_str(&format!("{}.", "b".repeat(63)));
        left -= 64;
    }
    assert!(left > 1, "choose another length");
    domain.push_str(&"c".repeat(left));
    let email = format!("{}@{domain}", "a".repeat(64));
    assert_eq!(email.len(), len);
    email
}

async fn assert_nothing_stored(fx: &Fixture) {
    assert!(
        fx.staging.all_account_ids().await.is_empty(),
        "an invalid request stored an account"
    );
    let filter = AuditFilter {
        platform_id: Some("acme".into()),
        environment: Some("staging".into()),
        limit: 1000,
        ..AuditFilter::default()
    };
    let events = fx.server.core.audit().events(&filter).await.expect("audit");
    assert!(
        events.iter().all(|e| !e.action.starts_with("account.")),
        "an invalid request wrote an audit event: {events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_when_sane_and_made_up_otherwise() {
    let fx = Fixture::new().await;
    let api = &fx.staging;
    let get = |id: &str| send(api.request(Method::GET, "/v1/client").header("x-request-id", id));

    let r = get("req-123_abc.DEF:9").await;
    r.expect(200);
    assert_eq!(r.header("x-request-id"), Some("req-123_abc.DEF:9"));

    // An error echoes it in the body too.
    let r = send(
        api.without_token()
            .request(Method::GET, "/v1/client")
            .header("x-request-id", "trace-42"),
    )
    .await;
    r.problem(401, "unauthenticated");
    assert_eq!(r.json["request_id"], "trace-42");

    // Up to 128 characters is kept; more is replaced.
    let long = "r".repeat(128);
    assert_eq!(get(&long).await.header("x-request-id"), Some(long.as_str()));
    // Insane ones are replaced.
    for bad in ["has space", "semi;colon", &"a".repeat(129), &"a".repeat(300), "<script>"] {
        let r = get(bad).await;
        r.expect(200);
        let id = r.header("x-request-id").expect("X-Request-Id");
        assert!(!id.is_empty() && id != bad, "{bad:?} should be replaced, got {id:?}");
    }

    // Every response has one, each different.
    let a = api.get("/v1/client").await;
    let b = api.get("/v1/client").await;
    let (a, b) = (a.header("x-request-id").unwrap(), b.header("x-request-id").unwrap());
    assert!(!a.is_empty() && a != b);
    for r in [
        fx.server.api("unknown.example").get("/v1/client").await,
        fx.server.api("unknown.example").get("/healthz").await,
        api.get("/no/such/path").await,
        api.get("/openapi.json").await,
    ] {
        assert!(
            r.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{} response without X-Request-Id",
            r.status
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods_are_problems() {
    let fx = Fixture::new().await;
    let r = fx.staging.get("/v1/nothing-here").await;
    r.problem(404, "not_found");
    let r = send(
        fx.staging
            .request(Method::PUT, &format!("/v1/client/{}", uuid::Uuid::now_v7()))
            .json(&json!({})),
    )
    .await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_problem_shape(&r);
    let r = send(fx.staging.request(Method::GET, "/v1/login/password")).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_problem_shape(&r);
}
