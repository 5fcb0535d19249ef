//! A chart's numbers as table rows (the HTML table beneath each chart) and
//! as CSV (its download).

use std::fmt::Write;

use onramp_domain::clock::rfc3339;
use onramp_domain::usage::buckets::{Granularity, UsageBucket};

use super::axis;

/// One row of a usage table: columns **2xx**, **4xx**, **429**, **5xx**,
/// **Total**. Askama escapes the strings; the numbers are plain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageTableRow {
    /// The bucket's start in full, UTC: `2024-11-28 14:00` or `2024-11-28`;
    /// "Total" in [`total_row`].
    pub label: String,
    /// RFC 3339 start, for `<time datetime="…">` (empty in [`total_row`]).
    pub start: String,
    /// `2xx` and `3xx` answers.
    pub ok: i64,
    /// `4xx` other than `429`.
    pub client_errors: i64,
    pub limited: i64,
    pub server_errors: i64,
    pub total: i64,
}

/// One row per bucket, oldest first.
pub fn table_rows(buckets: &[UsageBucket], granularity: Granularity) -> Vec<UsageTableRow> {
    buckets
        .iter()
        .map(|b| UsageTableRow {
            label: axis::full_label(b.start, granularity),
            start: rfc3339(b.start),
            ok: b.ok,
            client_errors: b.client_errors,
            limited: b.limited,
            server_errors: b.server_errors,
            total: b.total,
        })
        .collect()
}

/// The sums over `buckets`, labelled "Total" (a table's footer row).
pub fn total_row(buckets: &[UsageBucket]) -> UsageTableRow {
    let sum = |f: fn(&UsageBucket) -> i64| buckets.iter().map(f).sum();
    UsageTableRow {
        label: "Total".into(),
        start: String::new(),
        ok: sum(|b| b.ok),
        client_errors: sum(|b| b.client_errors),
        limited: sum(|b| b.limited),
        server_errors: sum(|b| b.server_errors),
        total: sum(|b| b.total),
    }
}

/// `start,2xx,4xx,429,5xx,total` and one line per bucket, the start in
/// RFC 3339 UTC; CRLF line ends (RFC 4180). Only digits and timestamps, so
/// nothing needs quoting.
pub fn csv(buckets: &[UsageBucket]) -> String {
    let mut out = String::with_capacity(32 + buckets.len() * 48);
    out.push_str("start,2xx,4xx,429,5xx,total\r\n");
    for b in buckets {
        let _ = write!(
            out,
            "{},{},{},{},{},{}\r\n",
            rfc3339(b.start),
            b.ok,
            b.client_errors,
            b.limited,
            b.server_errors,
            b.total
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-11-28T14:00:00Z.
    const AT: i64 = 1_732_802_400_000;

    fn bucket(start: i64) -> UsageBucket {
        UsageBucket {
            start,
            ok: 7,
            client_errors: 2,
            limited: 3,
            server_errors: 1,
            total: 13,
        }
    }

    #[test]
    fn rows_are_labelled_in_utc_and_sum_in_the_total_row() {
        let buckets = [bucket(AT), UsageBucket::empty(AT + 3_600_000)];
        let rows = table_rows(&buckets, Granularity::Hour);
        assert_eq!(rows[0].label, "2024-11-28 14:00");
        assert_eq!(rows[0].start, "2024-11-28T14:00:00Z");
        assert_eq!(rows[1].label, "2024-11-28 15:00");
        assert_eq!((rows[0].limited, rows[1].total), (3, 0));
        let total = total_row(&buckets);
        assert_eq!(total.label, "Total");
        assert_eq!(
            (total.ok, total.client_errors, total.limited, total.server_errors, total.total),
            (7, 2, 3, 1, 13)
        );
        assert_eq!(table_rows(&buckets, Granularity::Day)[0].label, "2024-11-28");
    }

    #[test]
    fn csv_has_the_header_and_one_line_per_bucket() {
        let text = csv(&[bucket(AT), UsageBucket::empty(AT + 86_400_000)]);
        assert_eq!(
            text,
            "start,2xx,4xx,429,5xx,total\r\n2024-11-28T14:00:00Z,7,2,3,1,13\r\n2024-11-29T14:00:00Z,0,0,0,0,0\r\n"
        );
        assert_eq!(csv(&[]), "start,2xx,4xx,429,5xx,total\r\n");
    }
}
