//! Usage charts as inline SVG, drawn on the server: no script, nothing from
//! a CDN, and nothing the page's CSP (`style-src 'self'`, no inline styles)
//! refuses — colours are SVG presentation attributes, text and axes take
//! `currentColor` so they follow the page's light or dark text colour.
//!
//! The same numbers go in a table beneath ([`table_rows`]) for screen
//! readers, and in a CSV download ([`csv`]).

mod axis;
mod table;

use std::fmt::{self, Write};

use onramp_domain::usage::buckets::{Granularity, UsageBucket};

pub use table::{UsageTableRow, csv, table_rows, total_row};

/// A rendered chart (or its "no requests" notice): HTML to put in a page
/// as it is, e.g. `{{ chart|safe }}` in an askama template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart(String);

impl Chart {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every piece of text in it is escaped.
impl askama::filters::HtmlSafe for Chart {}

/// What an empty range shows instead of a chart.
pub const NO_REQUESTS: &str = "No requests in this period.";

/// One stacked class: its legend name, its fill and class names, its count.
struct Series {
    name: &'static str,
    class: &'static str,
    /// Mid-tone fills (Okabe–Ito, told apart with colour-blindness too)
    /// that read on a light and a dark background alike.
    fill: &'static str,
    count: fn(&UsageBucket) -> i64,
}

/// Bottom to top.
const SERIES: [Series; 4] = [
    Series {
        name: "2xx",
        class: "chart-ok",
        fill: "#009e73",
        count: |b| b.ok,
    },
    Series {
        name: "4xx",
        class: "chart-4xx",
        fill: "#e69f00",
        count: |b| b.client_errors,
    },
    Series {
        name: "429",
        class: "chart-429",
        fill: "#cc79a7",
        count: |b| b.limited,
    },
    Series {
        name: "5xx",
        class: "chart-5xx",
        fill: "#d55e00",
        count: |b| b.server_errors,
    },
];

// Geometry, in viewBox units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// "requests per hour" and the like.
pub fn unit(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Minute => "requests per minute",
        Granularity::Hour => "requests per hour",
        Granularity::Day => "requests per day",
    }
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One decimal at most: `12.5`, `40`.
fn num(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// The totals in words, for the accessible name.
fn summary(title: &str, buckets: &[UsageBucket], granularity: Granularity) -> String {
    let sum = |f: fn(&UsageBucket) -> i64| axis::grouped(buckets.iter().map(f).sum());
    let first = buckets.first().map_or(0, |b| b.start);
    let last = buckets.last().map_or(0, |b| b.start);
    format!(
        "{title}: {} requests from {} to {} UTC, {}: {} 2xx, {} 4xx, {} 429, {} 5xx",
        sum(|b| b.total),
        axis::full_label(first, granularity),
        axis::full_label(last, granularity),
        unit(granularity),
        sum(|b| b.ok),
        sum(|b| b.client_errors),
        sum(|b| b.limited),
        sum(|b| b.server_errors),
    )
}

/// The legend, as HTML beneath the chart (it wraps on narrow screens).
fn legend(out: &mut String) {
    out.push_str("<ul class=\"chart-legend\">");
    for s in &SERIES {
        let _ = write!(
            out,
            "<li><svg class=\"chart-swatch\" width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" aria-hidden=\"true\" focusable=\"false\"><rect class=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/></svg>{}</li>",
            s.class, s.fill, s.name
        );
    }
    out.push_str("</ul>");
}

/// The y axis: grid lines at round values, their labels, and the unit.
fn y_axis(out: &mut String, ticks: &[i64], granularity: Granularity) {
    let top = *ticks.last().unwrap_or(&1) as f64;
    let plot_h = HEIGHT - TOP - BOTTOM;
    out.push_str("<g class=\"chart-axis\">");
    for t in ticks {
        let y = num(HEIGHT - BOTTOM - (*t as f64 / top) * plot_h);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"currentColor\" stroke-opacity=\"{}\"/>\
             <text x=\"{}\" y=\"{y}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
            WIDTH - RIGHT,
            if *t == 0 { "0.6" } else { "0.15" },
            LEFT - 6.0,
            axis::compact(*t),
        );
    }
    let _ = write!(
        out,
        "<text class=\"chart-unit\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text></g>",
        num(TOP + plot_h / 2.0),
        unit(granularity)
    );
}

/// The bars and the x-axis labels. Hour and day bars each carry a tooltip
/// of their counts; minute bars (up to 1,440 a day, under a pixel wide)
/// are drawn as one path per class instead, without tooltips, to keep the
/// page small: the table beneath carries the numbers.
fn bars(out: &mut String, buckets: &[UsageBucket], granularity: Granularity, top: i64) {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / buckets.len() as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let dense = granularity == Granularity::Minute;
    let mut paths: [String; 4] = Default::default();
    let starts: Vec<i64> = buckets.iter().map(|b| b.start).collect();
    let labels = axis::time_labels(&starts, granularity);
    for (i, (b, label)) in buckets.iter().zip(labels).enumerate() {
        let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
        if !dense {
            let _ = write!(
                out,
                "<g><title>{} UTC: {} requests ({} 2xx, {} 4xx, {} 429, {} 5xx)</title>",
                axis::full_label(b.start, granularity),
                axis::grouped(b.total),
                axis::grouped(b.ok),
                axis::grouped(b.client_errors),
                axis::grouped(b.limited),
                axis::grouped(b.server_errors),
            );
        }
        let mut base = 0;
        for (s, path) in SERIES.iter().zip(paths.iter_mut()) {
            let count = (s.count)(b);
            if count <= 0 {
                continue;
            }
            let y0 = HEIGHT - BOTTOM - base as f64 / top as f64 * plot_h;
            base += count;
            let y1 = HEIGHT - BOTTOM - base as f64 / top as f64 * plot_h;
            let height = (y0 - y1).max(0.5);
            if dense {
                let _ = write!(path, "M{} {}h{}v{}h-{}z", num(x), num(y1), num(bar_w), num(height), num(bar_w));
            } else {
                let _ = write!(
                    out,
                    "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                    s.class,
                    num(x),
                    num(y1),
                    num(bar_w),
                    num(height),
                    s.fill
                );
            }
        }
        if !dense {
            out.push_str("</g>");
        }
        if let Some(label) = label {
            let _ = write!(
                out,
                "<text class=\"chart-time\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                num(x + bar_w / 2.0),
                num(HEIGHT - BOTTOM + 16.0),
                escape(&label)
            );
        }
    }
    for (s, path) in SERIES.iter().zip(paths) {
        if !path.is_empty() {
            let _ = write!(out, "<path class=\"{}\" fill=\"{}\" d=\"{path}\"/>", s.class, s.fill);
        }
    }
}

/// `buckets` (oldest first, one per step, as the usage service returns
/// them) as stacked bars of 2xx, 4xx, 429 and 5xx, with a y axis of round
/// values and its unit, UTC time labels, a legend, and an accessible name
/// summarising the totals. A range without requests renders
/// [`NO_REQUESTS`] in a `<p class="chart-empty">` instead.
pub fn stacked_bars(buckets: &[UsageBucket], granularity: Granularity, title: &str) -> Chart {
    let max = buckets.iter().map(|b| b.total).max().unwrap_or(0);
    if max <= 0 {
        return Chart(format!("<p class=\"chart-empty\">{NO_REQUESTS}</p>"));
    }
    let ticks = axis::ticks(max);
    let top = *ticks.last().unwrap_or(&max);
    let label = escape(&summary(title, buckets, granularity));
    let mut out = String::with_capacity(512 + buckets.len() * 120);
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{label}\" fill=\"currentColor\" font-family=\"system-ui, sans-serif\" font-size=\"12\">\
         <title>{label}</title>"
    );
    y_axis(&mut out, &ticks, granularity);
    bars(&mut out, buckets, granularity, top);
    let _ = write!(out, "</svg><figcaption>{}", escape(title));
    legend(&mut out);
    out.push_str("</figcaption></figure>");
    Chart(out)
}

#[cfg(test)]
mod tests;
