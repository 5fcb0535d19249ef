use super::*;

/// 2024-11-28T00:00:00Z.
const NOV_28: i64 = 1_732_752_000_000;
const H: i64 = 3_600_000;

/// Checks that `markup` is well-formed XML as far as the chart uses it:
/// every element closed in order, attribute values quoted, text free of a
/// raw `<`, `>` or a bare `&`. Returns the element names in document order.
fn well_formed(markup: &str) -> Vec<String> {
    let mut open: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = markup;
    while let Some(lt) = rest.find('<') {
        check_text(&rest[..lt]);
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "closing </{name}> out of order in {markup}");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name = body.split_whitespace().next().expect("tag name").to_owned();
        check_attributes(&body[name.len()..]);
        names.push(name.clone());
        if !self_closing {
            open.push(name);
        }
    }
    check_text(rest);
    assert!(open.is_empty(), "unclosed elements {open:?}");
    names
}

fn check_text(text: &str) {
    assert!(!text.contains('>'), "raw > in text {text:?}");
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|e| entity.starts_with(e)),
            "bare & in {text:?}"
        );
    }
}

/// ` name="value"` pairs only, values escaped.
fn check_attributes(mut attrs: &str) {
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return;
        }
        let eq = attrs.find("=\"").unwrap_or_else(|| panic!("unquoted attribute in {attrs:?}"));
        let name = &attrs[..eq];
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'), "{name:?}");
        let value_end = attrs[eq + 2..].find('"').expect("closing quote") + eq + 2;
        check_text(&attrs[eq + 2..value_end]);
        attrs = &attrs[value_end + 1..];
    }
}

fn hourly(counts: &[(i64, i64, i64, i64)]) -> Vec<UsageBucket> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &(ok, client_errors, limited, server_errors))| UsageBucket {
            start: NOV_28 - 10 * H + i as i64 * H,
            ok,
            client_errors,
            limited,
            server_errors,
            total: ok + client_errors + limited + server_errors,
        })
        .collect()
}

fn texts(markup: &str) -> Vec<&str> {
    markup
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .and_then(|(_, rest)| rest.split_once("</text>"))
                .map(|(text, _)| text)
        })
        .collect()
}

#[test]
fn a_chart_is_well_formed_with_title_axes_bars_and_legend() {
    let mut counts = vec![(0, 0, 0, 0); 24];
    counts[3] = (120, 10, 40, 2);
    counts[20] = (7, 0, 0, 1);
    let chart = stacked_bars(&hourly(&counts), Granularity::Hour, "Usage of <Shop & Co>").to_string();
    let names = well_formed(&chart);
    assert_eq!(names[..3], ["figure", "svg", "title"]);
    assert!(chart.contains("role=\"img\""));
    assert!(chart.contains("Usage of &lt;Shop &amp; Co&gt;"), "{chart}");
    assert!(!chart.contains("<Shop"));
    assert!(!chart.contains("style="), "no inline styles under the CSP");
    // The accessible name sums the range.
    let label = chart.split("aria-label=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(label.contains("180 requests"), "{label}");
    assert!(label.contains("127 2xx, 10 4xx, 40 429, 3 5xx"), "{label}");
    assert!(label.contains("2024-11-27 14:00 to 2024-11-28 13:00 UTC"), "{label}");
    // Four segments in the busy hour, two in the quiet one, none elsewhere.
    assert_eq!(chart.matches("<rect class=\"chart-").count(), 6 + 4, "bars and legend swatches");
    for class in ["chart-ok", "chart-4xx", "chart-429", "chart-5xx"] {
        assert!(chart.contains(&format!("class=\"{class}\"")), "{class}");
    }
    // The y axis: round ticks up to the busiest bar, and the unit.
    let texts = texts(&chart);
    for tick in ["0", "50", "100", "150", "200"] {
        assert!(texts.contains(&tick), "tick {tick} in {texts:?}");
    }
    assert!(texts.contains(&"requests per hour"));
    // UTC time labels, thinned.
    assert!(
        texts.contains(&"15:00") && texts.contains(&"Nov 28") && !texts.contains(&"14:00"),
        "{texts:?}"
    );
    // The legend names each class.
    for name in ["2xx</li>", "4xx</li>", "429</li>", "5xx</li>"] {
        assert!(chart.contains(name), "{name}");
    }
}

#[test]
fn bars_stack_to_their_total_on_the_axis_scale() {
    // One bar of 100 on an axis to 100: its segments fill the plot height.
    let chart = stacked_bars(&hourly(&[(50, 25, 15, 10)]), Granularity::Hour, "t").to_string();
    let heights: f64 = chart
        .split("<rect class=\"chart-")
        .skip(1)
        .take(4)
        .map(|r| {
            r.split("height=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    assert!((heights - (HEIGHT - TOP - BOTTOM)).abs() < 0.5, "{heights}");
}

#[test]
fn an_empty_range_renders_the_notice_not_a_chart() {
    for buckets in [vec![], hourly(&[(0, 0, 0, 0); 24])] {
        let chart = stacked_bars(&buckets, Granularity::Day, "Usage").to_string();
        assert_eq!(chart, format!("<p class=\"chart-empty\">{NO_REQUESTS}</p>"));
        assert!(!chart.contains("<svg"));
        well_formed(&chart);
    }
    assert!(NO_REQUESTS.to_lowercase().contains("no requests in this period"));
}

#[test]
fn daily_charts_say_per_day_and_label_dates() {
    let buckets: Vec<UsageBucket> = (0..30)
        .map(|i| UsageBucket {
            start: NOV_28 + i * 24 * H,
            ok: i * 1_000,
            total: i * 1_000,
            ..UsageBucket::default()
        })
        .collect();
    let chart = stacked_bars(&buckets, Granularity::Day, "Last 30 days").to_string();
    well_formed(&chart);
    let texts = texts(&chart);
    assert!(texts.contains(&"requests per day"));
    assert!(texts.contains(&"Nov 28") && texts.contains(&"Dec 2"), "{texts:?}");
    assert!(texts.contains(&"30k"), "compact tick labels: {texts:?}");
    assert!(chart.contains("435,000 requests"), "grouped total");
}

#[test]
fn a_day_of_minutes_is_one_path_per_class_and_stays_small() {
    // 1,440 minutes, every one busy with all four classes: the worst case.
    let buckets: Vec<UsageBucket> = (0..1_440)
        .map(|i| UsageBucket {
            start: NOV_28 + i * 60_000,
            ok: 50 + i % 7,
            client_errors: 3,
            limited: 1 + i % 2,
            server_errors: 1,
            total: 50 + i % 7 + 3 + 1 + i % 2 + 1,
        })
        .collect();
    let chart = stacked_bars(&buckets, Granularity::Minute, "Last 24 hours").to_string();
    well_formed(&chart);
    assert_eq!(chart.matches("<path").count(), 4, "one path per class");
    assert_eq!(chart.matches("<rect").count(), 4, "the legend's swatches only");
    assert!(!chart.contains("<g><title>"), "no element per minute");
    assert!(chart.len() < 250_000, "{} bytes", chart.len());
    let texts = texts(&chart);
    assert!(texts.contains(&"requests per minute"));
    assert!(
        texts.contains(&"03:00") && texts.contains(&"Nov 28"),
        "round clock labels: {texts:?}"
    );
    // Quiet minutes draw nothing; a quiet day is the notice.
    let mut quiet = vec![UsageBucket::empty(NOV_28); 1_440];
    quiet[700] = buckets[700];
    let chart = stacked_bars(&quiet, Granularity::Minute, "Last 24 hours").to_string();
    well_formed(&chart);
    assert_eq!(chart.matches("<path").count(), 4);
    let bars: usize = chart
        .split(" d=\"")
        .skip(1)
        .map(|d| d[..d.find('"').unwrap()].matches('M').count())
        .sum();
    assert_eq!(bars, 4, "one minute's four classes");
}

#[test]
fn the_checker_catches_broken_markup() {
    for broken in ["<g><rect/>", "<g></svg>", "<text>a & b</text>", "<rect x=1/>"] {
        assert!(std::panic::catch_unwind(|| well_formed(broken)).is_err(), "{broken}");
    }
}

#[test]
#[ignore = "writes sample charts to $CHART_SAMPLES for a look"]
fn write_samples() {
    let dir = std::env::var("CHART_SAMPLES").unwrap();
    let mut counts = vec![(0, 0, 0, 0); 24];
    for (i, c) in counts.iter_mut().enumerate() {
        *c = (
            100 + 13 * i as i64,
            (i as i64 * 7) % 30,
            if i % 5 == 0 { 40 } else { 0 },
            i as i64 % 3,
        );
    }
    let chart = stacked_bars(&hourly(&counts), Granularity::Hour, "Last 24 hours");
    let svg = chart.as_str().split("<svg").nth(1).unwrap().split("</svg>").next().unwrap();
    std::fs::write(format!("{dir}/hourly.svg"), format!("<svg{svg}</svg>")).unwrap();
    std::fs::write(format!("{dir}/hourly.html"), chart.as_str()).unwrap();
}
