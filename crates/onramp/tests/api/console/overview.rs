//! The overview's usage: requests per minute over the last 24 hours of
//! every instance, summed in SQL from the minute table; the table beneath
//! sums them per hour.

use onramp_domain::clock::{Clock as _, Millis};
use onramp_domain::store::UsageStore;
use onramp_domain::usage::{StatusClass, UsageRow};

use super::*;

const MINUTE: Millis = 60_000;

fn row(env: &str, key: &str, class: StatusClass, minute: Millis, count: i64, limited: i64) -> UsageRow {
    UsageRow {
        key_id: key.into(),
        partner_id: "p1".into(),
        env_id: env.into(),
        route: "GET /v1/partners/accounts".into(),
        status_class: class,
        minute,
        count,
        denied: limited,
        limited,
    }
}

/// The `d` attributes of the chart's paths, one per class drawn.
fn paths(html: &str) -> Vec<&str> {
    html.split("<path class=\"")
        .skip(1)
        .map(|p| {
            let d = &p[p.find(" d=\"").unwrap() + 4..];
            &d[..d.find('"').unwrap()]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_charts_requests_per_minute_over_the_last_day_of_all_instances() {
    let server = server_with_operator("admin").await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let now = server.clock.now_ms();
    let this_minute = now - now % MINUTE;
    server
        .store
        .add_usage(&[
            // Two neighbouring minutes of one hour, two instances' environments.
            row("e1", "k1", StatusClass::Success, this_minute - 3 * MINUTE, 7, 0),
            row("e2", "k2", StatusClass::Success, this_minute - 2 * MINUTE, 5, 0),
            row("e2", "k2", StatusClass::ClientError, this_minute - 2 * MINUTE, 4, 3),
            // Twenty hours ago, a 5xx.
            row("e1", "k1", StatusClass::ServerError, this_minute - 20 * 60 * MINUTE, 2, 0),
            // Older than a day: not in the chart.
            row("e1", "k1", StatusClass::Success, this_minute - 24 * 60 * MINUTE, 1_000, 0),
        ])
        .await
        .unwrap();

    let page = browser.get("/").await;
    page.expect(200);
    assert!(page.text.contains("requests per minute"), "the axis unit");
    assert!(page.text.contains("Requests per minute over the last 24 hours, all instances"));
    assert!(
        page.text.contains("the chart is per minute, this table sums it per hour"),
        "the caption says so"
    );
    assert!(
        page.text.contains("18 requests from"),
        "the accessible summary counts the day: {}",
        page.text
    );
    // One bar per busy minute and class: 2xx in three minutes' worth of
    // bars (two minutes), 4xx and 429 in one, 5xx in one.
    let drawn = paths(&page.text);
    let bars: usize = drawn.iter().map(|d| d.matches('M').count()).sum();
    assert_eq!(bars, 2 + 1 + 1 + 1, "{drawn:?}");
    // The table: 24 hours (25 when the day starts mid-hour), with the totals.
    let rows = page.text.matches("<tr><th scope=\"row\"><time").count();
    assert!((24..=25).contains(&rows), "{rows} rows");
    assert!(page.text.contains("<th scope=\"row\">Total</th><td class=\"num\">12</td><td class=\"num\">1</td><td class=\"num\">3</td><td class=\"num\">2</td><td class=\"num\">18</td>"));
    assert!(page.text.contains("<td class=\"num\">18</td>") && !page.text.contains("1,018") && !page.text.contains(">1018<"));
    assert!(page.text.contains("33.3%"), "error share: 6 of 18");
}
