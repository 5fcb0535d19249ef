//! Instances in the console: admins create and change them (features, rate
//! limits, sign-in links, origins, hostnames); support operators read them.

use onramp_domain::tenancy::{EnvKind, Feature};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_and_edits_an_instance() {
    let server = server_with_operator("admin").await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let page = browser.get("/instances").await;
    page.expect(200);
    for label in ["Platform id", "Name", "Region", "App URL"] {
        assert!(page.text.contains(&format!(">{label}</label>")), "{label}");
    }
    for feature in Feature::ALL {
        assert!(
            page.text.contains(&format!("name=\"{}\"", feature.as_str())),
            "a checkbox for {feature:?}"
        );
    }
    let form = [
        ("csrf", browser.csrf()),
        ("platform_id", "acme".into()),
        ("name", "Acme Learning".into()),
        ("region", "za".into()),
        ("app_url", "https://app.acme.example".into()),
        ("client-accounts", "on".into()),
        ("partners", "on".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = browser.post("/instances", &form).await;
    r.expect(303);
    assert_eq!(r.header("location"), Some("/instances/acme?created=1"));
    let acme = server.core.tenancy().instance(&pid("acme")).await.unwrap();
    assert_eq!(acme.name, "Acme Learning");
    assert!(acme.features.contains(&Feature::ClientAccounts) && acme.features.contains(&Feature::Partners));
    assert!(!acme.features.contains(&Feature::SelfSignup));
    // The same id again is refused in place, and changes nothing.
    let again = browser.post("/instances", &form).await;
    again.expect(400);
    assert!(again.text.contains("already exists"), "{}", again.text);

    let detail = browser.get("/instances/acme").await;
    detail.expect(200);
    let edit = [
        ("csrf", browser.csrf()),
        ("name", "Acme".into()),
        ("region", "eu".into()),
        ("app_url", "https://app.acme.example".into()),
        ("client-accounts", "on".into()),
        ("self-signup", "on".into()),
        ("rate_limits", "default=600\nPOST /v1/client/login=60".into()),
        ("link_template", String::new()),
        ("link_ttl", "600".into()),
        ("origins_staging", "http://localhost:3000".into()),
        ("hosts_staging", String::new()),
        ("origins_production", String::new()),
        ("hosts_production", "api.acme.example".into()),
    ];
    let edit: Vec<(&str, &str)> = edit.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = browser.post("/instances/acme", &edit).await;
    r.expect(303);
    let acme = server.core.tenancy().instance(&pid("acme")).await.unwrap();
    assert_eq!((acme.name.as_str(), acme.region.as_str()), ("Acme", "eu"));
    assert!(acme.features.contains(&Feature::SelfSignup) && !acme.features.contains(&Feature::Partners));
    assert_eq!(acme.rate_limits.get("POST /v1/client/login"), Some(&60));
    assert_eq!(acme.login_link_ttl_secs, Some(600));
    let staging = server.core.tenancy().environment(&pid("acme"), EnvKind::Staging).await.unwrap();
    assert_eq!(staging.cors_origins, ["http://localhost:3000"]);
    let production = server.core.tenancy().environment(&pid("acme"), EnvKind::Production).await.unwrap();
    assert_eq!(production.hostnames, ["api.acme.example"]);

    // Bad input is explained and leaves the settings as they were.
    let mut bad = edit.clone();
    bad[2] = ("region", "Not A Region!");
    let r = browser.post("/instances/acme", &bad).await;
    r.expect(400);
    assert!(r.text.contains("role=\"alert\""));
    assert_eq!(server.core.tenancy().instance(&pid("acme")).await.unwrap().region, "eu");
    let mut bad_limit = edit.clone();
    bad_limit[6] = ("rate_limits", "default=lots");
    browser.post("/instances/acme", &bad_limit).await.expect(400);

    let log = browser.get("/audit?instance=acme").await;
    let operator = server.core.operators().by_email(EMAIL).await.unwrap();
    assert!(log.text.contains(&format!("operator:{}", operator.id)), "the operator is the actor");
    assert!(log.text.contains("instance.created"));
    browser.get("/instances/nowhere").await.expect(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_operators_read_instances_but_change_nothing() {
    let server = server_with_operator("support").await;
    server.create_instance("acme", &["client-accounts"]).await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let list = browser.get("/instances").await;
    list.expect(200);
    assert!(list.text.contains("acme"));
    assert!(!list.text.contains("Create an instance"));
    let detail = browser.get("/instances/acme").await;
    detail.expect(200);
    assert!(detail.text.contains("<fieldset disabled>"));
    let csrf = browser.csrf();
    let r = browser
        .post(
            "/instances",
            &[
                ("csrf", &csrf),
                ("platform_id", "beta"),
                ("name", "Beta"),
                ("region", "eu"),
                ("app_url", "https://b.example"),
            ],
        )
        .await;
    r.expect(403);
    assert!(server.core.tenancy().instance(&pid("beta")).await.is_err());
    let r = browser
        .post(
            "/instances/acme",
            &[
                ("csrf", &csrf),
                ("name", "Renamed"),
                ("region", "za"),
                ("app_url", "https://app.acme.example"),
            ],
        )
        .await;
    r.expect(403);
    assert_eq!(server.core.tenancy().instance(&pid("acme")).await.unwrap().name, "acme platform");
}
