//! Audit events for account changes: who, what, target, environment, request id.

use onramp_domain::audit::AuditFilter;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_changes_are_audited_with_their_request_ids() {
    let fx = Fixture::new().await;
    let api = &fx.staging;

    let r = send(
        api.request(Method::POST, "/v1/client/signup")
            .header("x-request-id", "req-signup-1")
            .json(&signup_body("ann@example.com")),
    )
    .await;
    r.expect(201);
    let id = r.json["user_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/client/{id}");
    send(
        api.request(Method::PATCH, &path)
            .header("x-request-id", "req-patch-1")
            .json(&json!({ "name": { "first_name": "Annie" }, "password": "new-Password-for-ann-1" })),
    )
    .await
    .expect(200);
    // Reads and failed writes are not audited.
    api.get(&path).await.expect(200);
    api.patch(&path, &json!({ "email": "bad" })).await.expect(400);
    let r = send(api.request(Method::DELETE, &path)).await;
    r.expect(204);
    let delete_request_id = r.header("x-request-id").unwrap().to_owned();
    // Production activity is separate.
    fx.production.signup("bob@example.com").await;

    let filter = AuditFilter {
        platform_id: Some("acme".into()),
        environment: Some("staging".into()),
        limit: 100,
        ..AuditFilter::default()
    };
    let events = fx.server.core.audit().events(&filter).await.expect("audit events");
    let account_events: Vec<_> = events.iter().filter(|e| e.action.starts_with("account.")).collect();
    let mut actions: Vec<&str> = account_events.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        vec!["account.created", "account.deleted", "account.updated"],
        "{account_events:?}"
    );
    let actor = format!("service_user:{}", fx.staging_user);
    for e in &account_events {
        assert_eq!(e.target, id);
        assert_eq!(e.environment.as_deref(), Some("staging"));
        assert_eq!(e.platform_id, "acme");
        assert_eq!(e.actor, actor);
        let detail = e.detail.to_string();
        assert!(
            !detail.contains(CLIENT_PASSWORD) && !detail.contains("new-Password-for-ann-1") && !detail.contains("argon2"),
            "secrets in the audit log: {detail}"
        );
    }
    let by_action = |a: &str| account_events.iter().find(|e| e.action == a).unwrap();
    assert_eq!(by_action("account.created").request_id.as_deref(), Some("req-signup-1"));
    assert_eq!(by_action("account.updated").request_id.as_deref(), Some("req-patch-1"));
    assert_eq!(by_action("account.deleted").request_id.as_deref(), Some(delete_request_id.as_str()));
    let changed = &by_action("account.updated").detail["changed"];
    let changed: Vec<&str> = changed
        .as_array()
        .unwrap_or_else(|| panic!("changed fields listed: {changed}"))
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        changed.contains(&"password") && changed.contains(&"name.first_name") && !changed.contains(&"email"),
        "{changed:?}"
    );
    // Newest first.
    let order: Vec<&str> = account_events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(order, vec!["account.deleted", "account.updated", "account.created"]);

    // The production signup is in production's log only.
    let prod = AuditFilter {
        platform_id: Some("acme".into()),
        environment: Some("production".into()),
        limit: 100,
        ..AuditFilter::default()
    };
    let prod_events = fx.server.core.audit().events(&prod).await.expect("audit events");
    assert_eq!(prod_events.iter().filter(|e| e.action == "account.created").count(), 1);
    assert!(prod_events.iter().all(|e| e.target != id));

    // Operator changes are audited too.
    let actor_op = onramp_domain::audit::Actor::operator();
    let core = &fx.server.core;
    let staging = onramp_domain::tenancy::EnvKind::Staging;
    core.tenancy().rotate_signing_key(&actor_op, &pid("acme"), staging).await.unwrap();
    core.service_users()
        .reset_service_user_password(&actor_op, &pid("acme"), staging, "svc", None)
        .await
        .unwrap();
    core.service_users()
        .disable_service_user(&actor_op, &pid("acme"), staging, "svc")
        .await
        .unwrap();
    let all = AuditFilter {
        platform_id: Some("acme".into()),
        environment: None,
        limit: 1000,
        ..AuditFilter::default()
    };
    let all_events = fx.server.core.audit().events(&all).await.expect("audit events");
    for action in [
        "instance.created",
        "instance.features_changed",
        "service_user.created",
        "signing_key.rotated",
        "service_user.password_reset",
        "service_user.disabled",
    ] {
        let e = all_events
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} event"));
        assert_eq!(e.actor, "operator");
        assert!(!e.detail.to_string().contains(SERVICE_PASSWORD), "{e:?}");
    }
}
