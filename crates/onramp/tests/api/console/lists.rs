//! The Instances and Partners lists: a page at a time (`?limit=`, a
//! "Next" link carrying the filters and the cursor) and filtered
//! (instances by platform id or name, partners by name and status).

use onramp_domain::audit::Actor;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::service::NewInstance;

use super::*;

/// The `href` of the page's "Next" link, unescaped.
fn next(html: &str) -> Option<String> {
    let end = html.find("\">Next</a>")?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(html[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

/// The platform ids linked from an instances page, in order.
fn instance_ids(html: &str) -> Vec<String> {
    html.split("<a href=\"/instances/")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

/// The partner names linked from a partners page, in order.
fn partner_names(html: &str) -> Vec<String> {
    html.split("<a href=\"/partners/")
        .skip(1)
        .filter_map(|s| s.split_once("\">").map(|(_, rest)| rest[..rest.find('<').unwrap()].to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_are_listed_a_page_at_a_time_and_found_by_id_or_name() {
    let server = server_with_operator("support").await;
    for id in ["acme", "acme-two", "bolt", "core"] {
        server.create_instance(id, &[]).await;
    }
    let new = NewInstance {
        platform_id: "zeta".into(),
        name: "ACME Holdings 50%_off".into(),
        region: "eu".into(),
        app_url: "https://app.zeta.example".into(),
    };
    server.core.tenancy().create_instance(&Actor::operator(), new).await.unwrap();
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;

    let all = browser.get("/instances").await;
    all.expect(200);
    assert_eq!(instance_ids(&all.text), ["acme", "acme-two", "bolt", "core", "zeta"]);
    assert!(next(&all.text).is_none(), "one page at 50");
    // Its label names neither field of the create form ("Platform id", "Name").
    assert!(all.text.contains(">Search instances</label>"));

    // Two a page: Next until the end, nothing repeated or skipped.
    let mut seen = Vec::new();
    let mut url = "/instances?limit=2".to_owned();
    loop {
        let page = browser.get(&url).await;
        page.expect(200);
        let ids = instance_ids(&page.text);
        assert!(ids.len() <= 2);
        seen.extend(ids);
        match next(&page.text) {
            Some(link) => {
                assert!(link.contains("limit=2"), "{link}");
                url = link;
            }
            None => break,
        }
    }
    assert_eq!(seen, ["acme", "acme-two", "bolt", "core", "zeta"]);

    // A substring of the id or the name, any case; the filter rides along.
    let found = browser.get("/instances?q=ACM&limit=2").await;
    assert_eq!(instance_ids(&found.text), ["acme", "acme-two"]);
    let link = next(&found.text).expect("a third match");
    assert!(link.contains("q=ACM"), "{link}");
    assert_eq!(instance_ids(&browser.get(&link).await.text), ["zeta"]);
    assert!(found.text.contains("value=\"ACM\""), "the filter stays in its field");
    assert_eq!(instance_ids(&browser.get("/instances?q=holdings").await.text), ["zeta"]);
    // LIKE's wildcards are plain characters.
    assert_eq!(instance_ids(&browser.get("/instances?q=50%25_").await.text), ["zeta"]);
    let none = browser.get("/instances?q=%25%25%25x").await;
    assert!(instance_ids(&none.text).is_empty() && none.text.contains("No instance matches."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_are_listed_a_page_at_a_time_by_status_and_name() {
    let server = server_with_operator("admin").await;
    server.create_instance("acme", &["partners"]).await;
    for name in ["Shop One", "Shop Two", "Other Co", "Shop Three"] {
        server.create_partner("acme", "staging", name, PartnerStatus::Pending).await;
    }
    server
        .create_partner("acme", "production", "Shop Live", PartnerStatus::Active)
        .await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;

    let pending = browser.get("/partners").await;
    pending.expect(200);
    assert_eq!(partner_names(&pending.text), ["Shop One", "Shop Two", "Other Co", "Shop Three"]);
    assert!(pending.text.contains("awaiting approval (4)") && pending.text.contains("active (1)"));
    assert!(pending.text.contains(">Search partners</label>"));

    let first = browser.get("/partners?status=pending&limit=3").await;
    assert_eq!(partner_names(&first.text), ["Shop One", "Shop Two", "Other Co"]);
    let link = next(&first.text).expect("a second page");
    assert!(link.contains("status=pending") && link.contains("limit=3"), "{link}");
    let second = browser.get(&link).await;
    assert_eq!(partner_names(&second.text), ["Shop Three"]);
    assert!(next(&second.text).is_none());

    // By name (any case), within the chosen status; the tabs keep the name.
    let shops = browser.get("/partners?status=pending&q=sHoP&limit=2").await;
    assert_eq!(partner_names(&shops.text), ["Shop One", "Shop Two"]);
    let link = next(&shops.text).unwrap();
    assert!(link.contains("q=sHoP"), "{link}");
    assert_eq!(partner_names(&browser.get(&link).await.text), ["Shop Three"]);
    assert!(
        shops.text.contains("href=\"/partners?status=active&#38;q=sHoP\""),
        "the tabs keep the name"
    );
    let active = browser.get("/partners?status=active&q=shop").await;
    assert_eq!(partner_names(&active.text), ["Shop Live"]);
    let none = browser.get("/partners?status=suspended&q=shop").await;
    assert!(partner_names(&none.text).is_empty());
    assert!(none.text.contains("No partners suspended or rejected whose name contains “shop”."));
}
