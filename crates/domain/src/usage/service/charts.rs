//! Usage summed per minute, hour or day for the console's and portal's charts. The
//! store sums in SQL (a 30-day chart reads one row per bucket, not one per
//! minute); the gaps are filled here.

use crate::clock::Millis;
use crate::error::DomainError;
use crate::usage::buckets::{Granularity, UsageBucket, UsageDimension, UsageFilter, UsagePeriod, UsageSeries, UsageTotals, dense};
use crate::usage::service::{Usage, check_range};

impl Usage {
    /// Requests per bucket matching `filter`, for every bucket that overlaps
    /// `[from, to)` (whole buckets), oldest first, empty ones included.
    ///
    /// `filter` is not checked against the caller: see [`UsageFilter`].
    ///
    /// # Errors
    /// `Validation` for an empty range or one of more than 10,000 buckets;
    /// storage failures.
    pub async fn usage_buckets(
        &self,
        filter: &UsageFilter,
        from: Millis,
        to: Millis,
        granularity: Granularity,
    ) -> Result<Vec<UsageBucket>, DomainError> {
        check_range(from, to, granularity)?;
        // Whole buckets: the store sums whole hours from its hourly table.
        let (start, end) = (granularity.floor(from), granularity.floor(to - 1) + granularity.millis());
        let sparse = self.store.usage_buckets(filter, start, end, granularity).await?;
        Ok(dense(&sparse, start, end, granularity))
    }

    /// The series of one chart period ending now (the service's clock):
    /// hourly for 24 hours, daily for 7 and 30 days.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn usage_chart(&self, filter: &UsageFilter, period: UsagePeriod) -> Result<UsageSeries, DomainError> {
        let (from, to) = period.range(self.config.clock.now_ms());
        let granularity = period.granularity();
        Ok(UsageSeries {
            period,
            granularity,
            from,
            to,
            buckets: self.usage_buckets(filter, from, to, granularity).await?,
        })
    }

    /// The last 24 hours per minute (1,440 buckets, the current minute
    /// last), summed in SQL from the minute table: the console's overview.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn usage_last_day_by_minute(&self, filter: &UsageFilter) -> Result<UsageSeries, DomainError> {
        let granularity = Granularity::Minute;
        let to = granularity.floor(self.config.clock.now_ms()) + granularity.millis();
        let from = to - 24 * Granularity::Hour.millis();
        Ok(UsageSeries {
            period: UsagePeriod::Last24Hours,
            granularity,
            from,
            to,
            buckets: self.usage_buckets(filter, from, to, granularity).await?,
        })
    }

    /// Requests in `[from, to)` matching `filter`, per route or per key,
    /// busiest first (ties by label). Whole hours (as [`UsagePeriod::range`]
    /// gives) are read from the hourly sums, other ranges from the minutes.
    ///
    /// # Errors
    /// `Validation` for an empty range; storage failures.
    pub async fn usage_breakdown(
        &self,
        filter: &UsageFilter,
        from: Millis,
        to: Millis,
        by: UsageDimension,
    ) -> Result<Vec<UsageTotals>, DomainError> {
        check_range(from, to, Granularity::Day)?;
        let mut totals = self.store.usage_totals(filter, from, to, by).await?;
        totals.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.label.cmp(&b.label)));
        Ok(totals)
    }
}
