//! A partner's own accounts: listing, reading, editing, deleting; others' are not found.

use super::*;

// ------------------------------------------------------------ managing accounts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_list_their_own_accounts_page_by_page() {
    let w = PartnerWorld::new().await;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(account_id(&w.partner.create_account(&format!("user{n}@example.com")).await));
    }
    // Accounts of others are not listed.
    w.service.signup("client@example.com").await;
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    let theirs = account_id(&other.create_account("theirs@example.com").await);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/partners/accounts?limit=2&cursor={c}"),
            None => "/v1/partners/accounts?limit=2".to_owned(),
        };
        let r = w.partner.get(&path).await;
        r.expect(200);
        pages += 1;
        let data = r.json["data"].as_array().expect("data");
        assert!(data.len() <= 2);
        for a in data {
            for field in ["accountId", "primaryEmail", "firstName", "lastName", "createdAt", "updatedAt"] {
                assert!(a.get(field).is_some(), "{field} in {a}");
            }
            seen.push(a["accountId"].as_str().unwrap().to_owned());
        }
        assert!(r.json.get("nextCursor").is_some(), "nextCursor is always present: {}", r.text);
        assert!(r.json.get("next_cursor").is_none(), "the partner API uses camelCase: {}", r.text);
        match r.json["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "every account once, in id order");
    assert_eq!(other.all_account_ids().await, [theirs]);

    // Filter by email, case-insensitively.
    let r = w.partner.get("/v1/partners/accounts?email=USER3%40Example.com").await;
    r.expect(200);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.json["data"][0]["accountId"], created[3].as_str());
    assert_eq!(r.json["nextCursor"], Value::Null);
    // Another partner's or a client's email finds nothing.
    for email in ["theirs%40example.com", "client%40example.com"] {
        let r = w.partner.get(&format!("/v1/partners/accounts?email={email}")).await;
        r.expect(200);
        assert_eq!(r.json["data"], json!([]));
    }
    // Out-of-range limits and malformed cursors.
    for bad in ["limit=0", "limit=201", "limit=x", "cursor=not-a-uuid", "bogus=1"] {
        let r = w.partner.get(&format!("/v1/partners/accounts?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_problem_shape(&r);
    }
    let r = w.partner.get("/v1/partners/accounts?limit=200").await;
    r.expect(200);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_read_edit_and_delete_their_accounts() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    w.partner.create_account("taken@example.com").await;
    w.service.signup("client@example.com").await;
    let one = format!("/v1/partners/accounts/{id}");

    let before = w.partner.get(&one).await;
    before.expect(200);
    let new_password = "new-Passw0rd-for-annie";
    let r = w
        .partner
        .patch(
            &one,
            &json!({ "primaryEmail": "Annie@Example.com", "firstName": "Annie", "lastName": "Smith", "password": new_password }),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["accountId"], id.as_str());
    assert_eq!(r.json["primaryEmail"], "Annie@Example.com");
    assert_eq!(r.json["firstName"], "Annie");
    assert_eq!(r.json["lastName"], "Smith");
    assert_eq!(r.json["createdAt"], before.json["createdAt"]);
    assert!(r.json.get("password").is_none() && !r.text.contains(new_password));
    let got = w.partner.get(&one).await;
    got.expect(200);
    assert_eq!(got.json["primaryEmail"], "Annie@Example.com");
    assert_eq!(got.json["lastName"], "Smith");
    // The new password and email sign in; the old password does not.
    w.service
        .post(
            "/v1/client/login",
            &json!({ "email": "annie@example.com", "password": new_password }),
        )
        .await
        .expect(200);
    let r = w
        .service
        .post(
            "/v1/client/login",
            &json!({ "email": "annie@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);

    // Taken emails, case-insensitively, of partner and client accounts.
    for taken in ["TAKEN@example.com", "client@EXAMPLE.com"] {
        let r = w.partner.patch(&one, &json!({ "primaryEmail": taken })).await;
        r.problem(409, "email_taken");
    }
    // Invalid changes name their fields, in camelCase.
    let invalid = [
        (json!({ "primaryEmail": "nope" }), "validation_failed", "primaryEmail"),
        (json!({ "password": "short" }), "validation_failed", "password"),
        (json!({ "firstName": "" }), "validation_failed", "firstName"),
        (json!({ "email": "x@example.com" }), "unknown_field", "email"),
    ];
    for (body, code, field) in invalid {
        let r = w.partner.patch(&one, &body).await;
        r.problem(400, code);
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.text);
    }
    let r = w.partner.get(&one).await;
    assert_eq!(r.json["primaryEmail"], "Annie@Example.com", "failed PATCHes change nothing");
    assert_eq!(r.json["firstName"], "Annie");

    // Fresh sign-in links: with a redirect, with an empty JSON object, with no body at all.
    let r = w
        .partner
        .post(&format!("{one}/login-link"), &json!({ "redirect": "/courses/1" }))
        .await;
    r.expect(201);
    assert_eq!(r.json["message"], "Login link created");
    assert_eq!(r.json["data"]["accountId"], id.as_str());
    let t1 = check_link_data(&r.json["data"], APP_LINK, "&redirect=%2Fcourses%2F1", 15 * 60);
    let r = w.partner.post(&format!("{one}/login-link"), &json!({})).await;
    r.expect(201);
    let t2 = check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);
    let r = w.partner.post_empty(&format!("{one}/login-link")).await;
    r.expect(201);
    let t3 = check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);
    assert!(t1 != t2 && t2 != t3 && t1 != t3, "every link is fresh");
    w.partner
        .post(&format!("{one}/login-link"), &json!({ "bogus": 1 }))
        .await
        .problem(400, "unknown_field");
    let r = w.exchange(&t1).await;
    r.expect(200);
    assert_eq!(r.json["user_id"], id.as_str());
    assert_eq!(r.json["redirect"], "/courses/1");

    // Delete: 204, then gone everywhere.
    let r = w.partner.delete(&one).await;
    r.expect(204);
    assert!(r.text.is_empty(), "a 204 has no body: {}", r.text);
    w.partner.get(&one).await.problem(404, "not_found");
    w.partner.delete(&one).await.problem(404, "not_found");
    w.partner.patch(&one, &json!({ "firstName": "X" })).await.problem(404, "not_found");
    w.partner.post_empty(&format!("{one}/login-link")).await.problem(404, "not_found");
    w.service.get(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    assert!(!w.partner.all_account_ids().await.contains(&id));
    // Links to a deleted account no longer work.
    let r = w.exchange(&t2).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The email is free again.
    w.partner.create_account("annie@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_of_others_are_not_found() {
    let w = PartnerWorld::new().await;
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    let theirs = account_id(&other.create_account("theirs@example.com").await);
    let client = w.service.signup("client@example.com").await["user_id"].as_str().unwrap().to_owned();
    let mine = account_id(&w.partner.create_account("mine@example.com").await);
    let ids = [
        theirs.clone(),
        client.clone(),
        "not-a-uuid".to_owned(),
        uuid::Uuid::now_v7().to_string(),
        "%20".to_owned(),
    ];
    for id in &ids {
        let one = format!("/v1/partners/accounts/{id}");
        w.partner.get(&one).await.problem(404, "not_found");
        w.partner
            .patch(
                &one,
                &json!({ "primaryEmail": "hijack@example.com", "password": "hijacked-Passw0rd!" }),
            )
            .await
            .problem(404, "not_found");
        w.partner.post_empty(&format!("{one}/login-link")).await.problem(404, "not_found");
        w.partner
            .post(&format!("{one}/login-link"), &json!({ "redirect": "/x" }))
            .await
            .problem(404, "not_found");
        w.partner.delete(&one).await.problem(404, "not_found");
    }
    // Nothing happened to them.
    let r = other.get(&format!("/v1/partners/accounts/{theirs}")).await;
    r.expect(200);
    assert_eq!(r.json["primaryEmail"], "theirs@example.com");
    let r = w.service.get(&format!("/v1/client/{client}")).await;
    r.expect(200);
    assert_eq!(r.json["email"], "client@example.com");
    w.service
        .post(
            "/v1/client/login",
            &json!({ "email": "client@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
    // And the other partner cannot reach ours.
    other.get(&format!("/v1/partners/accounts/{mine}")).await.problem(404, "not_found");
    assert_eq!(w.partner.all_account_ids().await, [mine]);
}
