//! Usage summed per hour or day for charts and tables: which rows count
//! ([`UsageFilter`]), the bucket sizes ([`Granularity`]), the chart periods
//! ([`UsagePeriod`]) and the sums the store returns ([`UsageBucket`],
//! [`UsageTotals`]).

use crate::clock::Millis;
use crate::ids::{EnvId, KeyId, PartnerId};
use crate::partners::Partner;
use crate::usage::thresholds::MINUTE_MS;

/// Buckets of a usage series. Hours and days start on UTC boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Minute,
    Hour,
    Day,
}

impl Granularity {
    /// The bucket's length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Granularity::Minute => MINUTE_MS,
            Granularity::Hour => 60 * MINUTE_MS,
            Granularity::Day => 24 * 60 * MINUTE_MS,
        }
    }

    /// The start of the bucket holding `at`.
    pub fn floor(self, at: Millis) -> Millis {
        at - at.rem_euclid(self.millis())
    }
}

/// Which usage rows a query counts; a `None` field counts every value.
///
/// Nothing here checks who may see what: a partner's page must build its
/// filter with [`UsageFilter::of_partner`], never from request input alone.
/// With `partner_id` (and `env_id`) set, queries use the
/// `(env_id, partner_id, minute)` index; give the partner with a key too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageFilter {
    pub env_id: Option<EnvId>,
    pub partner_id: Option<PartnerId>,
    pub key_id: Option<KeyId>,
    /// A route template as counted, e.g. `GET /v1/partners/accounts`.
    pub route: Option<String>,
}

impl UsageFilter {
    /// Every row of `partner` (in its own environment).
    pub fn of_partner(partner: &Partner) -> Self {
        Self {
            env_id: Some(partner.env_id.clone()),
            partner_id: Some(partner.id.clone()),
            ..Self::default()
        }
    }

    /// Narrowed to one key.
    pub fn key(mut self, key_id: KeyId) -> Self {
        self.key_id = Some(key_id);
        self
    }

    /// Narrowed to one route template.
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }
}

/// Requests in one bucket, by how they were answered. `client_errors`
/// excludes the `429`s, which are `limited`, so the four classes add up to
/// `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UsageBucket {
    /// Start of the bucket, Unix milliseconds (UTC hour or day boundary).
    pub start: Millis,
    /// `2xx` and `3xx` answers.
    pub ok: i64,
    /// `4xx` answers other than `429`.
    pub client_errors: i64,
    /// `429` answers (rate limited).
    pub limited: i64,
    /// `5xx` answers.
    pub server_errors: i64,
    pub total: i64,
}

impl UsageBucket {
    /// An empty bucket starting at `start`.
    pub fn empty(start: Millis) -> Self {
        Self { start, ..Self::default() }
    }
}

/// What [`UsageTotals`] are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageDimension {
    /// Route template (`GET /v1/partners/accounts`).
    Route,
    /// API key id.
    Key,
}

/// Requests over a whole range for one route or key, classed like
/// [`UsageBucket`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UsageTotals {
    /// The route template or key id.
    pub label: String,
    pub ok: i64,
    pub client_errors: i64,
    pub limited: i64,
    pub server_errors: i64,
    pub total: i64,
}

/// The periods the usage charts offer, each with its bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsagePeriod {
    /// The last 24 hours, hourly (24 buckets, the current hour last).
    Last24Hours,
    /// The last 7 days, daily (7 buckets, today last).
    Last7Days,
    /// The last 30 days, daily (30 buckets, today last).
    Last30Days,
}

impl UsagePeriod {
    pub const ALL: [UsagePeriod; 3] = [UsagePeriod::Last24Hours, UsagePeriod::Last7Days, UsagePeriod::Last30Days];

    /// The short name used in URLs: `24h`, `7d`, `30d`.
    pub fn as_str(self) -> &'static str {
        match self {
            UsagePeriod::Last24Hours => "24h",
            UsagePeriod::Last7Days => "7d",
            UsagePeriod::Last30Days => "30d",
        }
    }

    /// Parses [`UsagePeriod::as_str`]'s names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// A label for people: "Last 24 hours", "Last 7 days", "Last 30 days".
    pub fn label(self) -> &'static str {
        match self {
            UsagePeriod::Last24Hours => "Last 24 hours",
            UsagePeriod::Last7Days => "Last 7 days",
            UsagePeriod::Last30Days => "Last 30 days",
        }
    }

    pub fn granularity(self) -> Granularity {
        match self {
            UsagePeriod::Last24Hours => Granularity::Hour,
            UsagePeriod::Last7Days | UsagePeriod::Last30Days => Granularity::Day,
        }
    }

    fn buckets(self) -> i64 {
        match self {
            UsagePeriod::Last24Hours => 24,
            UsagePeriod::Last7Days => 7,
            UsagePeriod::Last30Days => 30,
        }
    }

    /// `[from, to)` at `now`: whole buckets, the one holding `now` last
    /// (it is still filling).
    pub fn range(self, now: Millis) -> (Millis, Millis) {
        let g = self.granularity();
        let to = g.floor(now) + g.millis();
        (to - self.buckets() * g.millis(), to)
    }
}

/// A period's dense series, as [`crate::usage::service::Usage::usage_chart`]
/// returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSeries {
    pub period: UsagePeriod,
    pub granularity: Granularity,
    /// `[from, to)`, whole buckets.
    pub from: Millis,
    pub to: Millis,
    /// One per bucket of the range, oldest first, empty ones included.
    pub buckets: Vec<UsageBucket>,
}

/// Every bucket of `[floor(from), to)`, oldest first: `sparse`'s where the
/// store had rows, empty ones elsewhere. Buckets outside the range are
/// dropped.
pub(crate) fn dense(sparse: &[UsageBucket], from: Millis, to: Millis, granularity: Granularity) -> Vec<UsageBucket> {
    let step = granularity.millis();
    let start = granularity.floor(from);
    let mut out: Vec<UsageBucket> = (0..)
        .map(|i| start + i * step)
        .take_while(|s| *s < to)
        .map(UsageBucket::empty)
        .collect();
    for b in sparse {
        if b.start < start || b.start % step != start % step {
            continue;
        }
        if let Some(slot) = usize::try_from((b.start - start) / step).ok().and_then(|i| out.get_mut(i)) {
            *slot = *b;
        }
    }
    out
}

/// `buckets` (oldest first) summed into buckets of the coarser
/// `granularity`, oldest first: a day of minutes as 24 hours, for a table
/// beneath a minute chart.
pub fn coarsen(buckets: &[UsageBucket], granularity: Granularity) -> Vec<UsageBucket> {
    let mut out: Vec<UsageBucket> = Vec::new();
    for b in buckets {
        let start = granularity.floor(b.start);
        if out.last().is_none_or(|last| last.start != start) {
            out.push(UsageBucket::empty(start));
        }
        if let Some(sum) = out.last_mut() {
            sum.ok += b.ok;
            sum.client_errors += b.client_errors;
            sum.limited += b.limited;
            sum.server_errors += b.server_errors;
            sum.total += b.total;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const D: i64 = 24 * H;

    #[test]
    fn periods_end_with_the_bucket_holding_now() {
        // 2024-11-28T14:35:00Z
        let now = 1_732_804_500_000;
        let (from, to) = UsagePeriod::Last24Hours.range(now);
        assert_eq!(to, Granularity::Hour.floor(now) + H);
        assert_eq!((to - from) / H, 24);
        assert_eq!(from % H, 0);
        let (from, to) = UsagePeriod::Last30Days.range(now);
        assert_eq!(from % D, 0, "days start at UTC midnight");
        assert_eq!((to - from) / D, 30);
        assert!(from < now && now < to);
        assert_eq!(UsagePeriod::Last7Days.granularity(), Granularity::Day);
        for p in UsagePeriod::ALL {
            assert_eq!(UsagePeriod::parse(p.as_str()), Some(p));
        }
        assert_eq!(UsagePeriod::parse("1y"), None);
    }

    #[test]
    fn minutes_coarsen_into_whole_hours() {
        let start = 1_732_752_000_000 - 30 * 60_000;
        let minutes: Vec<UsageBucket> = (0..120)
            .map(|i| UsageBucket {
                start: start + i * 60_000,
                ok: 1,
                limited: i % 2,
                total: 1 + i % 2,
                ..UsageBucket::default()
            })
            .collect();
        let hours = coarsen(&minutes, Granularity::Hour);
        let got: Vec<(i64, i64, i64)> = hours.iter().map(|h| (h.start, h.ok, h.total)).collect();
        let hour = Granularity::Hour.floor(start);
        assert_eq!(got, [(hour, 30, 45), (hour + H, 60, 90), (hour + 2 * H, 30, 45)]);
        assert!(coarsen(&[], Granularity::Hour).is_empty());
    }

    #[test]
    fn dense_fills_gaps_and_drops_strays() {
        let at = |start, total| UsageBucket {
            start,
            ok: total,
            total,
            ..UsageBucket::default()
        };
        let series = dense(
            &[at(H, 5), at(3 * H, 7), at(9 * H, 1), at(H + 5, 2)],
            30 * 60_000,
            4 * H,
            Granularity::Hour,
        );
        let starts: Vec<_> = series.iter().map(|b| b.start / H).collect();
        assert_eq!(starts, vec![0, 1, 2, 3]);
        let totals: Vec<_> = series.iter().map(|b| b.total).collect();
        assert_eq!(totals, vec![0, 5, 0, 7]);
        assert!(dense(&[], 0, 0, Granularity::Day).is_empty());
    }
}
