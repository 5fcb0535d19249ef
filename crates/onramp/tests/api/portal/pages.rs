//! The alerts page (the partner's thresholds, recent alerts, its webhook
//! endpoints) and the accounts page.

use onramp_domain::audit::AuditFilter;

use super::{apply, approve, browser, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_are_the_partners_own_and_audited() {
    let server = server().await;
    let mut b = browser(&server);
    apply(&mut b, "Acme Ltd", "ann@acme.example").await;
    let partner_id = approve(&server, "Acme Ltd").await;
    let page = b.get("/partners/alerts").await;
    page.expect(200);
    assert!(page.text.contains("No alerts yet.") && page.text.contains("No webhook endpoints yet."));
    let form = [
        ("csrf", b.csrf()),
        ("volume_factor", "3".to_owned()),
        ("volume_min", String::new()),
        ("error_share", "0.2".to_owned()),
        ("error_min", String::new()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post("/partners/alerts", &form).await;
    r.expect(200);
    assert!(r.text.contains("Thresholds saved."));
    let partner = server.core.partners().partner(&partner_id).await.unwrap();
    let settings = server.core.usage().alert_settings(&partner).await.unwrap();
    assert_eq!((settings.own.volume_factor, settings.own.error_share), (Some(3.0), Some(0.2)));
    assert_eq!(settings.own.volume_min, None, "empty follows the default");
    let bad = b
        .post(
            "/partners/alerts",
            &[("csrf", &b.csrf()), ("volume_factor", "1000"), ("error_share", "lots")],
        )
        .await;
    bad.expect(400);
    assert!(bad.text.contains("error_share must be a number"));
    let bad = b.post("/partners/alerts", &[("csrf", &b.csrf()), ("volume_factor", "1000")]).await;
    bad.expect(400);
    assert!(bad.text.contains("volume_factor must be between 1.5 and 100"));
    let audit = server
        .core
        .audit()
        .events(&AuditFilter {
            action: Some("alert_settings.updated".into()),
            limit: 5,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert!(audit[0].actor.starts_with("portal_user:"), "{}", audit[0].actor);
}
