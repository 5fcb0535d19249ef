//! Key rotation and grace periods; key use recorded.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_gives_a_new_key_and_a_grace_period_for_the_old_one() {
    let w = PartnerWorld::new().await;
    let (old_id, old_key) = w.server.issue_key(&w.partner_id, &["accounts:write", "accounts:read"], None).await;
    let old = w.server.staging("acme").with_api_key(&old_key);
    let r = old.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 2 })).await;
    r.expect(201);
    let new_key = r.json["key"].as_str().expect("key").to_owned();
    assert!(new_key.starts_with("onr_test_") && new_key != old_key, "{}", r.text);
    let new_id = r.json["keyId"].as_str().expect("keyId").to_owned();
    assert_ne!(new_id, old_id);
    let mut scopes: Vec<&str> = r.json["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["accounts:read", "accounts:write"], "the old key's scopes: {}", r.text);
    assert_eq!(r.json["previousKeyId"], old_id.as_str());
    let expires = unix_secs(&r.json["previousKeyExpiresAt"]);
    assert!((now_secs() - 1..=now_secs() + 3).contains(&expires), "{}", r.text);
    assert!(!r.text.contains("previous_key_id"), "camelCase fields: {}", r.text);
    // The new key is stored like the old (same scopes, same partner).
    let keys = w
        .server
        .core
        .partners()
        .api_keys(&w.partner_id.as_str().into())
        .await
        .expect("keys");
    let stored_new = keys.iter().find(|k| k.key_id == new_id).expect("new key stored");
    let stored_old = keys.iter().find(|k| k.key_id == old_id).expect("old key stored");
    assert_eq!(stored_new.scopes, stored_old.scopes);
    assert_eq!(r.json["scopes"], json!(stored_old.scopes));
    assert!(
        stored_old.retires_at.is_some(),
        "the old key retires at the end of the grace period"
    );
    assert_eq!(stored_old.expires_at, None, "its issued lifetime is unchanged");

    // Both work during the grace period.
    let new = w.server.staging("acme").with_api_key(&new_key);
    new.create_account("ann@example.com").await;
    old.get("/v1/partners/accounts").await.expect(200);
    // The old one fails after it.
    w.server.clock.advance(Duration::from_millis(2500));
    assert_api_key_challenge(&old.get("/v1/partners/accounts").await);
    assert_api_key_challenge(&old.post("/v1/partners/create", &partner_signup_body("bob@example.com")).await);
    new.get("/v1/partners/accounts").await.expect(200);
    // The new key may rotate in turn.
    new.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 0 }))
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_grace_periods_are_bounded() {
    let w = PartnerWorld::new().await;
    // Zero: the old key fails at once.
    let (_, k0) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api0 = w.server.staging("acme").with_api_key(&k0);
    let r = api0.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 0 })).await;
    r.expect(201);
    assert!((now_secs() - 2..=now_secs() + 1).contains(&unix_secs(&r.json["previousKeyExpiresAt"])));
    assert_api_key_challenge(&api0.get("/v1/partners/accounts").await);
    w.server
        .staging("acme")
        .with_api_key(r.json["key"].as_str().unwrap())
        .get("/v1/partners/accounts")
        .await
        .expect(200);

    // Out of range or malformed: refused, and the key stays as it was.
    let (_, k1) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api1 = w.server.staging("acme").with_api_key(&k1);
    let before = w
        .server
        .core
        .partners()
        .api_keys(&w.partner_id.as_str().into())
        .await
        .unwrap()
        .len();
    for (body, code, field) in [
        (json!({ "gracePeriodSeconds": 700_000 }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "gracePeriodSeconds": 604_801 }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "gracePeriodSeconds": -1 }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "gracePeriodSeconds": "60" }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "grace_period_seconds": 60 }), "unknown_field", "grace_period_seconds"),
    ] {
        let r = api1.post("/v1/partners/keys/rotate", &body).await;
        r.problem(400, code);
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.text);
    }
    assert_eq!(
        w.server
            .core
            .partners()
            .api_keys(&w.partner_id.as_str().into())
            .await
            .unwrap()
            .len(),
        before,
        "no key was issued"
    );
    api1.get("/v1/partners/accounts").await.expect(200);

    // The longest grace period is accepted.
    let r = api1
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 604_800 }))
        .await;
    r.expect(201);
    let expected = now_secs() + 604_800;
    assert!((expected - 5..=expected + 1).contains(&unix_secs(&r.json["previousKeyExpiresAt"])));

    // No body at all, or an empty object: 24 hours.
    for (n, empty_object) in [false, true].into_iter().enumerate() {
        let (_, k) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
        let api = w.server.staging("acme").with_api_key(&k);
        let r = if empty_object {
            api.post("/v1/partners/keys/rotate", &json!({})).await
        } else {
            api.post_empty("/v1/partners/keys/rotate").await
        };
        r.expect(201);
        let expected = now_secs() + 86_400;
        assert!(
            (expected - 5..=expected + 1).contains(&unix_secs(&r.json["previousKeyExpiresAt"])),
            "case {n}: {}",
            r.text
        );
        api.get("/v1/partners/accounts").await.expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_the_scopes_and_expiry_of_the_old_key() {
    let w = PartnerWorld::new().await;
    let (old_id, k) = w
        .server
        .issue_key(&w.partner_id, &["usage:read"], Some(Duration::from_secs(3600)))
        .await;
    let api = w.server.staging("acme").with_api_key(&k);
    // Rotation needs no particular scope.
    let r = api.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 })).await;
    r.expect(201);
    assert_eq!(r.json["scopes"], json!(["usage:read"]));
    let keys = w.server.core.partners().api_keys(&w.partner_id.as_str().into()).await.unwrap();
    let old = keys.iter().find(|k| k.key_id == old_id).unwrap();
    let new = keys.iter().find(|k| k.key_id == r.json["keyId"].as_str().unwrap()).unwrap();
    assert!(
        old.retires_at.is_some() && old.retires_at < new.expires_at,
        "the old key ends with the grace period: {old:?} {new:?}"
    );
    assert_eq!(old.expires_at, new.expires_at, "the new key keeps the issued lifetime");
    let new_expires = unix_secs(&r.json["expiresAt"]);
    let expected = now_secs() + 3600;
    assert!((expected - 10..=expected + 1).contains(&new_expires), "{}", r.text);
    // The new key has no more power than the old: it cannot create accounts either.
    w.server
        .staging("acme")
        .with_api_key(r.json["key"].as_str().unwrap())
        .post("/v1/partners/create", &partner_signup_body("ann@example.com"))
        .await
        .problem(403, "forbidden");
}

/// A key in its grace period that is rotated again (say by whoever leaked
/// it) must not mint more successors: each would survive the revocation of
/// the leaked key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retiring_key_cannot_rotate_again() {
    let w = PartnerWorld::new().await;
    let (_, k) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api = w.server.staging("acme").with_api_key(&k);
    let first = api.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 })).await;
    first.expect(201);
    let before = w
        .server
        .core
        .partners()
        .api_keys(&w.partner_id.as_str().into())
        .await
        .unwrap()
        .len();
    for grace in [60, 0] {
        api.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": grace }))
            .await
            .problem(409, "key_already_rotated");
    }
    assert_eq!(
        w.server
            .core
            .partners()
            .api_keys(&w.partner_id.as_str().into())
            .await
            .unwrap()
            .len(),
        before,
        "no key was minted"
    );
    // The retiring key still works for the rest of its grace period, and
    // its successor may rotate in turn.
    api.get("/v1/partners/accounts").await.expect(200);
    let new = w.server.staging("acme").with_api_key(first.json["key"].as_str().unwrap());
    new.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 }))
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_key_in_its_grace_period_revokes_what_it_minted() {
    let w = PartnerWorld::new().await;
    let (leaked_id, leaked) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let attacker = w.server.staging("acme").with_api_key(&leaked);
    // The holder of a leaked key rotates it, then rotates the successor.
    let r = attacker
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 3600 }))
        .await;
    r.expect(201);
    let second = w.server.staging("acme").with_api_key(r.json["key"].as_str().unwrap());
    let r = second
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 3600 }))
        .await;
    r.expect(201);
    let third = w.server.staging("acme").with_api_key(r.json["key"].as_str().unwrap());
    third.get("/v1/partners/accounts").await.expect(200);

    w.server
        .core
        .partners()
        .revoke_api_key(&onramp_domain::audit::Actor::operator(), &leaked_id.as_str().into())
        .await
        .unwrap();
    for api in [&attacker, &second, &third] {
        assert_api_key_challenge(&api.get("/v1/partners/accounts").await);
    }
    // Other keys of the partner are untouched.
    w.partner.get("/v1/partners/accounts").await.expect(200);
    // Each revoked key is an `api_key.revoked` event: the one named, then
    // the two it minted, in one transaction.
    let feed = w.partner.get("/v1/partners/events?type=api_key.revoked").await;
    let revoked: Vec<&str> = feed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["key_id"].as_str().unwrap())
        .collect();
    let minted: Vec<String> = w.partner.get("/v1/partners/events?type=api_key.rotated").await.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["new_key_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(revoked, [leaked_id.as_str(), minted[0].as_str(), minted[1].as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_key_after_its_grace_period_leaves_its_successor() {
    let w = PartnerWorld::new().await;
    let (old_id, old) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let r = w
        .server
        .staging("acme")
        .with_api_key(&old)
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 }))
        .await;
    r.expect(201);
    let new = w.server.staging("acme").with_api_key(r.json["key"].as_str().unwrap());
    w.server.clock.advance(Duration::from_secs(61));
    w.server
        .core
        .partners()
        .revoke_api_key(&onramp_domain::audit::Actor::operator(), &old_id.as_str().into())
        .await
        .unwrap();
    new.get("/v1/partners/accounts").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_use_is_recorded() {
    let w = PartnerWorld::new().await;
    let (key_id, key) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let find = |keys: Vec<onramp_domain::partners::ApiKey>| keys.into_iter().find(|k| k.key_id == key_id).expect("key");
    let before = find(w.server.core.partners().api_keys(&w.partner_id.as_str().into()).await.unwrap());
    assert!(before.last_used_at.is_none(), "an unused key: {before:?}");
    let start = onramp_domain::clock::now_ms();
    w.server
        .staging("acme")
        .with_api_key(&key)
        .get("/v1/partners/accounts")
        .await
        .expect(200);
    // The request writes nothing itself; the usage flush (200 ms here) does.
    let after = eventually("last_used_at written by the usage flush", || async {
        let key = find(w.server.core.partners().api_keys(&w.partner_id.as_str().into()).await.unwrap());
        key.last_used_at.is_some().then_some(key)
    })
    .await;
    let used = after.last_used_at.expect("last_used_at is recorded");
    assert!(used >= start - 1000 && used <= onramp_domain::clock::now_ms(), "{after:?}");
    // The key itself is never stored.
    assert_ne!(after.key_hash, key);
    assert!(!after.key_hash.contains(&key[9..]));
}
