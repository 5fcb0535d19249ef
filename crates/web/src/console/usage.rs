//! A usage chart with its period links and its table, as the console's
//! partner pages show it; the overview's day of minutes.

use onramp_domain::usage::buckets::{Granularity, UsagePeriod, UsageSeries, coarsen};

use crate::charts::{Chart, UsageTableRow, stacked_bars, table_rows, total_row, unit};

pub struct UsageView {
    pub chart: Chart,
    /// Label, link, current.
    pub periods: Vec<(&'static str, String, bool)>,
    pub caption: String,
    pub bucket_label: &'static str,
    pub rows: Vec<UsageTableRow>,
    pub total: UsageTableRow,
}

impl UsageView {
    /// `link` gives each period's page.
    pub fn of(series: &UsageSeries, what: &str, link: impl Fn(UsagePeriod) -> String) -> Self {
        let title = format!(
            "Requests, {} ({}), {}",
            series.period.label().to_lowercase(),
            unit(series.granularity),
            what
        );
        Self {
            chart: stacked_bars(&series.buckets, series.granularity, &title),
            periods: UsagePeriod::ALL.iter().map(|&p| (p.label(), link(p), p == series.period)).collect(),
            caption: format!("{title}, UTC"),
            bucket_label: if series.granularity == Granularity::Day { "Day" } else { "Hour" },
            rows: table_rows(&series.buckets, series.granularity),
            total: total_row(&series.buckets),
        }
    }

    /// A day of minutes (the overview): the chart per minute, the table
    /// beneath summed per hour (1,440 rows would read badly), as its
    /// caption says.
    pub fn per_minute(series: &UsageSeries, what: &str) -> Self {
        let title = format!("Requests per minute over the last 24 hours, {what}");
        let hours = coarsen(&series.buckets, Granularity::Hour);
        Self {
            chart: stacked_bars(&series.buckets, series.granularity, &title),
            periods: Vec::new(),
            caption: format!("{title}, UTC: the chart is per minute, this table sums it per hour"),
            bucket_label: "Hour",
            rows: table_rows(&hours, Granularity::Hour),
            total: total_row(&series.buckets),
        }
    }
}
