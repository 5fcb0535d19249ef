//! Usage summed per hour and day for the charts, over the real store: the
//! sums, the filters, the zero-filled gaps, and a `429` counted as
//! `limited` from a real rate-limited request to the chart's numbers.

use std::time::{Duration, Instant};

use onramp_domain::clock::{Clock, Millis};
use onramp_domain::ids::{EnvId, KeyId};
use onramp_domain::partners::PartnerStatus;
use onramp_domain::store::UsageStore;
use onramp_domain::usage::buckets::{Granularity, UsageBucket, UsageDimension, UsageFilter, UsagePeriod, UsageTotals};
use onramp_domain::usage::{StatusClass, UsageRow};
use onramp_domain::{DomainError, FieldCode};
use onramp_web::charts;

use crate::helpers::{PartnerWorld, TestServer};

const H: Millis = 3_600_000;
const D: Millis = 24 * H;
/// 2024-11-28T00:00:00Z: far from the minutes the servers' own requests count.
const NOV_28: Millis = 1_732_752_000_000;

/// A row of `(environment, partner, key)`.
fn row((env, partner, key): (&str, &str, &str), route: &str, class: StatusClass, minute: Millis, count: i64, limited: i64) -> UsageRow {
    UsageRow {
        key_id: key.into(),
        partner_id: partner.into(),
        env_id: env.into(),
        route: route.into(),
        status_class: class,
        minute,
        count,
        denied: limited,
        limited,
    }
}

/// Partner `p1` in environment `e1` with keys `k1`, `k2`; the same ids in
/// `e2`; another partner `p2` in `e1`.
async fn seed(server: &TestServer) {
    use StatusClass::{ClientError, Redirection, ServerError, Success};
    let (a, b) = ("GET /v1/partners/accounts", "POST /v1/partners/create");
    let rows = [
        // Hour 0: 10 ok + 2 redirects, 5 4xx of which 3 are 429s, 1 5xx.
        row(("e1", "p1", "k1"), a, Success, NOV_28, 10, 0),
        row(("e1", "p1", "k1"), a, Redirection, NOV_28 + 60_000, 2, 0),
        row(("e1", "p1", "k1"), a, ClientError, NOV_28 + 59 * 60_000, 5, 3),
        row(("e1", "p1", "k2"), b, ServerError, NOV_28 + 30 * 60_000, 1, 0),
        // Hour 1: nothing. Hour 2: 4 ok on key k2.
        row(("e1", "p1", "k2"), b, Success, NOV_28 + 2 * H + 60_000, 4, 0),
        // The next day.
        row(("e1", "p1", "k1"), b, Success, NOV_28 + D + 5 * H, 100, 0),
        // Not p1's in e1: its ids in e2, and p2.
        row(("e2", "p1", "k1"), a, Success, NOV_28, 1_000, 0),
        row(("e1", "p2", "k9"), a, Success, NOV_28, 500, 0),
    ];
    server.store.add_usage(&rows).await.unwrap();
}

/// A server that keeps usage for 10 years: the seeded rows are from 2024,
/// and the purge the server runs at start must not race the test for them.
async fn server_keeping_old_usage() -> TestServer {
    TestServer::start_with(|s| s.core.retention.usage = Duration::from_secs(10 * 365 * 86_400)).await
}

fn p1() -> UsageFilter {
    UsageFilter {
        env_id: Some(EnvId::from("e1")),
        partner_id: Some("p1".into()),
        ..UsageFilter::default()
    }
}

fn sums(b: &UsageBucket) -> (i64, i64, i64, i64, i64) {
    (b.ok, b.client_errors, b.limited, b.server_errors, b.total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_sum_the_filtered_rows_and_fill_gaps_with_zeros() {
    let server = server_keeping_old_usage().await;
    seed(&server).await;
    let usage = server.core.usage();

    let hours = usage.usage_buckets(&p1(), NOV_28, NOV_28 + 4 * H, Granularity::Hour).await.unwrap();
    let starts: Vec<Millis> = hours.iter().map(|b| b.start).collect();
    assert_eq!(starts, [NOV_28, NOV_28 + H, NOV_28 + 2 * H, NOV_28 + 3 * H]);
    let got: Vec<_> = hours.iter().map(sums).collect();
    assert_eq!(got, [(12, 2, 3, 1, 18), (0, 0, 0, 0, 0), (4, 0, 0, 0, 4), (0, 0, 0, 0, 0)]);

    // Days; a `from` inside a bucket starts at the bucket.
    let days = usage
        .usage_buckets(&p1(), NOV_28 + 3 * H, NOV_28 + 3 * D, Granularity::Day)
        .await
        .unwrap();
    let got: Vec<_> = days.iter().map(|b| (b.start, b.total)).collect();
    assert_eq!(got, [(NOV_28, 22), (NOV_28 + D, 100), (NOV_28 + 2 * D, 0)]);

    // Key and route filters.
    let k2 = usage
        .usage_buckets(&p1().key(KeyId::from("k2")), NOV_28, NOV_28 + D, Granularity::Day)
        .await
        .unwrap();
    assert_eq!(sums(&k2[0]), (4, 0, 0, 1, 5));
    let route = usage
        .usage_buckets(&p1().route("GET /v1/partners/accounts"), NOV_28, NOV_28 + D, Granularity::Day)
        .await
        .unwrap();
    assert_eq!(sums(&route[0]), (12, 2, 3, 0, 17));
    // Every environment and partner (the console's overview).
    let all = usage
        .usage_buckets(&UsageFilter::default(), NOV_28, NOV_28 + H, Granularity::Hour)
        .await
        .unwrap();
    assert_eq!(all[0].total, 18 + 1_000 + 500);
    // Another environment's rows under the same ids are its own.
    let e2 = UsageFilter {
        env_id: Some("e2".into()),
        ..p1()
    };
    let e2 = usage.usage_buckets(&e2, NOV_28, NOV_28 + H, Granularity::Hour).await.unwrap();
    assert_eq!(sums(&e2[0]), (1_000, 0, 0, 0, 1_000));

    // Per route and per key, busiest first.
    let by_route = usage
        .usage_breakdown(&p1(), NOV_28, NOV_28 + 2 * D, UsageDimension::Route)
        .await
        .unwrap();
    let expect = |label: &str, ok, client_errors, limited, server_errors| UsageTotals {
        label: label.into(),
        ok,
        client_errors,
        limited,
        server_errors,
        total: ok + client_errors + limited + server_errors,
    };
    assert_eq!(
        by_route,
        [
            expect("POST /v1/partners/create", 104, 0, 0, 1),
            expect("GET /v1/partners/accounts", 12, 2, 3, 0)
        ]
    );
    let by_key = usage
        .usage_breakdown(&p1(), NOV_28, NOV_28 + 2 * D, UsageDimension::Key)
        .await
        .unwrap();
    assert_eq!(by_key, [expect("k1", 112, 2, 3, 0), expect("k2", 4, 0, 0, 1)]);

    // Refused ranges.
    for (from, to, granularity, code) in [
        (NOV_28, NOV_28, Granularity::Hour, FieldCode::InvalidRange),
        (NOV_28, NOV_28 + 20 * D, Granularity::Minute, FieldCode::TooManyPoints),
    ] {
        match usage.usage_buckets(&p1(), from, to, granularity).await {
            Err(DomainError::Validation(v)) => assert_eq!(v[0].code, code),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_periods_end_with_the_current_bucket() {
    let server = server_keeping_old_usage().await;
    let now = server.clock.now_ms();
    let minute = now - now % 60_000;
    let rows = [
        row(("e1", "p1", "k1"), "GET /x", StatusClass::Success, minute - 2 * H, 7, 0),
        row(("e1", "p1", "k1"), "GET /x", StatusClass::Success, minute - 3 * D, 11, 0),
        row(("e1", "p1", "k1"), "GET /x", StatusClass::Success, minute - 40 * D, 13, 0),
    ];
    server.store.add_usage(&rows).await.unwrap();
    let usage = server.core.usage();
    for (period, buckets, total) in [
        (UsagePeriod::Last24Hours, 24, 7),
        (UsagePeriod::Last7Days, 7, 18),
        (UsagePeriod::Last30Days, 30, 18),
    ] {
        let before = server.clock.now_ms();
        let series = usage.usage_chart(&p1(), period).await.unwrap();
        let after = server.clock.now_ms();
        assert_eq!(series.buckets.len(), buckets, "{period:?}");
        assert_eq!(series.granularity, period.granularity());
        // (An hour may have begun between the two readings.)
        let range = (series.from, series.to);
        assert!(range == period.range(before) || range == period.range(after), "{period:?}");
        assert!(series.buckets.last().unwrap().start <= now, "the current bucket is last");
        assert_eq!(series.buckets.iter().map(|b| b.total).sum::<i64>(), total, "{period:?}");
    }
}

/// A real request refused with `429` is counted as `limited` (and still
/// as `denied`, which the alerts read), apart from the other `4xx`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_request_is_counted_as_limited_end_to_end() {
    let world = PartnerWorld::new().await;
    let server = &world.server;
    server.set_rate_limits("acme", &[("GET /v1/partners/accounts", 2)]).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(world.partner.get("/v1/partners/accounts").await.status);
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429]);
    world
        .partner
        .get("/v1/partners/accounts/00000000-0000-4000-8000-000000000000")
        .await
        .expect(404);
    let partner = server.core.partners().partner(&world.partner_id.as_str().into()).await.unwrap();
    let filter = UsageFilter::of_partner(&partner).key(KeyId::from(world.key_id.as_str()));
    // The server's own flush may be writing the counts as ours finds none: wait for all 6.
    let series = crate::helpers::eventually("the 6 requests are counted", || async {
        server.core.usage().flush_usage().await.unwrap();
        let series = server.core.usage().usage_chart(&filter, UsagePeriod::Last24Hours).await.unwrap();
        (series.buckets.iter().map(|b| b.total).sum::<i64>() == 6).then_some(series)
    })
    .await;
    let total = charts::total_row(&series.buckets);
    assert_eq!(
        (total.ok, total.client_errors, total.limited, total.server_errors, total.total),
        (2, 1, 3, 0, 6)
    );
    // The detector's count of refusals is unchanged: 429s are denied too.
    let now = server.clock.now_ms();
    let rows = server.store.usage(&partner.env_id, &partner.id, now - H, now + H).await.unwrap();
    let four_xx = |f: fn(&UsageRow) -> i64| {
        rows.iter()
            .filter(|r| r.status_class == StatusClass::ClientError)
            .map(f)
            .sum::<i64>()
    };
    assert_eq!((four_xx(|r| r.count), four_xx(|r| r.denied), four_xx(|r| r.limited)), (4, 3, 3));
    // And the chart and its CSV show them.
    let chart = charts::stacked_bars(&series.buckets, series.granularity, "Usage").to_string();
    assert!(chart.contains("6 requests") && chart.contains("3 429"), "{chart}");
    let csv = charts::csv(&series.buckets);
    assert_eq!(csv.lines().count(), 25);
    assert!(csv.lines().any(|l| l.ends_with(",2,1,3,0,6")), "{csv}");
    // Another partner's filter sees none of it.
    let (other_id, ..) = world.other_partner("staging", PartnerStatus::Active, &[]).await;
    let other = server.core.partners().partner(&other_id.as_str().into()).await.unwrap();
    let series = server
        .core
        .usage()
        .usage_chart(&UsageFilter::of_partner(&other), UsagePeriod::Last24Hours)
        .await
        .unwrap();
    assert!(series.buckets.iter().all(|b| b.total == 0));
}

/// The timing behind BENCHMARKS.md (h): 30 days of minute rows for one
/// partner (2 keys × 2 routes, 4 rows a minute) beside another partner's,
/// then each chart aggregated and rendered. Prints the figures; asserts
/// nothing about time. Run in release:
/// `cargo test --release -p onramp --test api -- --ignored --nocapture usage_chart_timing`
/// (with `ONRAMP_TEST_DATABASE_URL=…` for PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run in release with --nocapture"]
async fn usage_chart_timing() {
    use StatusClass::{ClientError, Success};
    let server = server_keeping_old_usage().await;
    let now = server.clock.now_ms();
    let last = now - now % 60_000;
    let first = Granularity::Day.floor(now) - 29 * D;
    let seeded = Instant::now();
    let mut rows = Vec::new();
    let mut count = 0;
    for minute in (first..=last).step_by(60_000) {
        rows.extend([
            row(("e1", "p1", "k1"), "GET /v1/partners/accounts", Success, minute, 20, 0),
            row(("e1", "p1", "k1"), "POST /v1/partners/create", Success, minute, 3, 0),
            row(("e1", "p1", "k2"), "GET /v1/partners/accounts", Success, minute, 9, 0),
            row(("e1", "p1", "k2"), "GET /v1/partners/accounts", ClientError, minute, 2, 1),
            row(("e1", "p2", "k9"), "GET /v1/partners/accounts", Success, minute, 5, 0),
        ]);
        if rows.len() >= 5_000 {
            count += rows.len();
            server.store.add_usage(&std::mem::take(&mut rows)).await.unwrap();
        }
    }
    count += rows.len();
    server.store.add_usage(&rows).await.unwrap();
    println!("seeded {count} usage rows in {:.1?}", seeded.elapsed());

    let usage = server.core.usage();
    let cases = [
        ("partner, 30 days daily", p1(), UsagePeriod::Last30Days),
        ("partner, 7 days daily", p1(), UsagePeriod::Last7Days),
        ("partner, 24 h hourly", p1(), UsagePeriod::Last24Hours),
        ("partner + key, 30 days", p1().key(KeyId::from("k2")), UsagePeriod::Last30Days),
        (
            "environment, 30 days",
            UsageFilter {
                env_id: Some("e1".into()),
                ..UsageFilter::default()
            },
            UsagePeriod::Last30Days,
        ),
        ("everything, 30 days", UsageFilter::default(), UsagePeriod::Last30Days),
    ];
    for (name, filter, period) in cases {
        let mut times = Vec::new();
        let mut render = Duration::ZERO;
        for _ in 0..11 {
            let started = Instant::now();
            let series = usage.usage_chart(&filter, period).await.unwrap();
            let queried = started.elapsed();
            let chart = charts::stacked_bars(&series.buckets, series.granularity, name);
            let rows = charts::table_rows(&series.buckets, series.granularity);
            let csv = charts::csv(&series.buckets);
            assert!(chart.as_str().contains("<svg") && rows.len() == series.buckets.len() && !csv.is_empty());
            render = started.elapsed() - queried;
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{name}: median {:.1?}, max {:.1?} (render {:.2?})",
            times[times.len() / 2],
            times[times.len() - 1],
            render
        );
    }
    // The console overview: every instance, the last 24 hours per minute
    // (1,440 buckets from the minute table), rendered with its hourly table.
    let (mut times, mut queries) = (Vec::new(), Vec::new());
    for _ in 0..11 {
        let started = Instant::now();
        let series = usage.usage_last_day_by_minute(&UsageFilter::default()).await.unwrap();
        queries.push(started.elapsed());
        let chart = charts::stacked_bars(&series.buckets, series.granularity, "overview");
        let hours = onramp_domain::usage::buckets::coarsen(&series.buckets, Granularity::Hour);
        let rows = charts::table_rows(&hours, Granularity::Hour);
        assert!(series.buckets.len() == 1_440 && chart.as_str().contains("<path") && rows.len() >= 24);
        times.push(started.elapsed());
    }
    times.sort();
    queries.sort();
    println!(
        "everything, 24 h per minute (overview): median {:.1?}, max {:.1?} (query median {:.1?})",
        times[times.len() / 2],
        times[times.len() - 1],
        queries[queries.len() / 2]
    );
    // For comparison, the same 30 days summed from the minutes (a range not
    // on whole hours reads usage_minutes), as it would be without the hours.
    let (from, to) = UsagePeriod::Last30Days.range(now);
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let buckets = server
            .store
            .usage_buckets(&p1(), from + 60_000, to, Granularity::Day)
            .await
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(buckets.len(), 30);
    }
    times.sort();
    println!("partner, 30 days summed from usage_minutes: median {:.1?}", times[times.len() / 2]);
}
