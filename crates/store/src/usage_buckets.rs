//! Usage summed per bucket, route or key in SQL, for charts. Each flush
//! also adds its counts to `usage_hours` (migration 0014), and ranges of
//! whole hours are summed from there: a 30-day chart reads 720 rows per key,
//! route and class instead of 43,200 minutes.

use std::collections::BTreeMap;

use onramp_domain::clock::Millis;
use onramp_domain::ids::{EnvId, KeyId, PartnerId};
use onramp_domain::usage::UsageRow;
use onramp_domain::usage::buckets::{Granularity, UsageBucket, UsageDimension, UsageFilter, UsageTotals};
use sqlx::{AnyConnection, AnyPool};

use crate::db::{R, Record, Sql};

const HOUR: Millis = 3_600_000;

/// An hour's row: environment, key, route, class, hour.
type HourKey<'r> = (&'r str, &'r str, &'r str, &'r str, Millis);

/// Adds `rows` to their hours (within the flush's transaction), one upsert
/// per hour, key, route and class.
pub(crate) async fn add_hours(c: &mut AnyConnection, rows: &[UsageRow]) -> R<()> {
    // partner, count, limited
    let mut hours: BTreeMap<HourKey<'_>, (&str, i64, i64)> = BTreeMap::new();
    for r in rows {
        let hour = r.minute - r.minute.rem_euclid(HOUR);
        let key = (
            r.env_id.as_str(),
            r.key_id.as_str(),
            r.route.as_str(),
            r.status_class.as_str(),
            hour,
        );
        let entry = hours.entry(key).or_insert((r.partner_id.as_str(), 0, 0));
        entry.1 += r.count;
        entry.2 += r.limited;
    }
    for ((env_id, key_id, route, class, hour), (partner_id, count, limited)) in hours {
        sqlx::query(
            "INSERT INTO usage_hours (env_id, key_id, partner_id, route, status_class, hour, count, limited)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (env_id, key_id, route, status_class, hour)
             DO UPDATE SET count = usage_hours.count + excluded.count, limited = usage_hours.limited + excluded.limited",
        )
        .bind(env_id)
        .bind(key_id)
        .bind(partner_id)
        .bind(route)
        .bind(class)
        .bind(hour)
        .bind(count)
        .bind(limited)
        .run(&mut *c)
        .await?;
    }
    Ok(())
}

/// The table and time column to sum `[from, to)` from: the hours when the
/// range is whole hours and no bucket is finer than an hour, else the
/// minutes.
fn source(from: Millis, to: Millis, granularity: Granularity) -> (&'static str, &'static str) {
    if granularity != Granularity::Minute && from.rem_euclid(HOUR) == 0 && to.rem_euclid(HOUR) == 0 {
        ("usage_hours", "hour")
    } else {
        ("usage_minutes", "minute")
    }
}

/// The four classes and the total, each a BIGINT (PostgreSQL sums BIGINTs
/// as NUMERIC). `limited` is counted within the `4xx` rows, so it is taken
/// out of `client_errors` for the classes to add up to the total.
const SUMS: &str = "CAST(SUM(CASE WHEN status_class IN ('2xx', '3xx') THEN count ELSE 0 END) AS BIGINT) AS ok,
     CAST(SUM(CASE WHEN status_class = '4xx' THEN count - limited ELSE 0 END) AS BIGINT) AS client_errors,
     CAST(SUM(limited) AS BIGINT) AS limited,
     CAST(SUM(CASE WHEN status_class = '5xx' THEN count ELSE 0 END) AS BIGINT) AS server_errors,
     CAST(SUM(count) AS BIGINT) AS total";

#[derive(sqlx::FromRow)]
struct BucketRow {
    start: i64,
    ok: i64,
    client_errors: i64,
    limited: i64,
    server_errors: i64,
    total: i64,
}

impl Record for BucketRow {
    type Domain = UsageBucket;
    fn into_domain(self) -> R<UsageBucket> {
        Ok(UsageBucket {
            start: self.start,
            ok: self.ok,
            client_errors: self.client_errors,
            limited: self.limited,
            server_errors: self.server_errors,
            total: self.total,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TotalsRow {
    label: String,
    ok: i64,
    client_errors: i64,
    limited: i64,
    server_errors: i64,
    total: i64,
}

impl Record for TotalsRow {
    type Domain = UsageTotals;
    fn into_domain(self) -> R<UsageTotals> {
        Ok(UsageTotals {
            label: self.label,
            ok: self.ok,
            client_errors: self.client_errors,
            limited: self.limited,
            server_errors: self.server_errors,
            total: self.total,
        })
    }
}

/// `WHERE` over the time range (`$1`, `$2`) and each filter that is given,
/// and its values from `$3` on. Only the given filters appear: `($n IS NULL
/// OR col = $n)` would keep the planner from the partner index.
fn conditions<'f>(time: &str, filter: &'f UsageFilter) -> (String, Vec<&'f str>) {
    let given = [
        ("env_id", filter.env_id.as_ref().map(EnvId::as_str)),
        ("partner_id", filter.partner_id.as_ref().map(PartnerId::as_str)),
        ("key_id", filter.key_id.as_ref().map(KeyId::as_str)),
        ("route", filter.route.as_deref()),
    ];
    let mut sql = format!("WHERE {time} >= $1 AND {time} < $2");
    let mut values = Vec::new();
    for (column, value) in given {
        if let Some(value) = value {
            values.push(value);
            sql.push_str(&format!(" AND {column} = ${}", values.len() + 2));
        }
    }
    (sql, values)
}

/// Buckets start at multiples of their length from the epoch: UTC hours and
/// days. Integer arithmetic on the millisecond column works the same on
/// SQLite and PostgreSQL (times are never negative).
pub(crate) async fn buckets(
    pool: &AnyPool,
    filter: &UsageFilter,
    from: Millis,
    to: Millis,
    granularity: Granularity,
) -> R<Vec<UsageBucket>> {
    let step = granularity.millis();
    let (table, time) = source(from, to, granularity);
    let (condition, values) = conditions(time, filter);
    let sql = format!(
        "SELECT CAST({time} - {time} % {step} AS BIGINT) AS start, {SUMS}
         FROM {table} {condition}
         GROUP BY {time} - {time} % {step} ORDER BY start"
    );
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
    for value in values {
        statement = statement.bind(value);
    }
    statement.all::<BucketRow, _>(pool).await
}

pub(crate) async fn totals(pool: &AnyPool, filter: &UsageFilter, from: Millis, to: Millis, by: UsageDimension) -> R<Vec<UsageTotals>> {
    let column = match by {
        UsageDimension::Route => "route",
        UsageDimension::Key => "key_id",
    };
    let (table, time) = source(from, to, Granularity::Hour);
    let (condition, values) = conditions(time, filter);
    let sql = format!("SELECT {column} AS label, {SUMS} FROM {table} {condition} GROUP BY {column}");
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
    for value in values {
        statement = statement.bind(value);
    }
    statement.all::<TotalsRow, _>(pool).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_filters_become_conditions() {
        let all = UsageFilter::default();
        let (sql, values) = conditions("minute", &all);
        assert_eq!(sql, "WHERE minute >= $1 AND minute < $2");
        assert!(values.is_empty());
        let filter = UsageFilter {
            partner_id: Some("p".into()),
            route: Some("GET /x".into()),
            ..UsageFilter::default()
        };
        let (sql, values) = conditions("hour", &filter);
        assert_eq!(sql, "WHERE hour >= $1 AND hour < $2 AND partner_id = $3 AND route = $4");
        assert_eq!(values, vec!["p", "GET /x"]);
    }

    #[test]
    fn whole_hours_are_summed_from_the_hours() {
        assert_eq!(source(3 * HOUR, 27 * HOUR, Granularity::Hour), ("usage_hours", "hour"));
        assert_eq!(source(3 * HOUR, 27 * HOUR, Granularity::Day), ("usage_hours", "hour"));
        assert_eq!(source(3 * HOUR, 27 * HOUR + 60_000, Granularity::Hour), ("usage_minutes", "minute"));
        assert_eq!(source(60_000, 2 * HOUR, Granularity::Hour), ("usage_minutes", "minute"));
        // Minute buckets need the minutes, whole hours or not.
        assert_eq!(source(3 * HOUR, 27 * HOUR, Granularity::Minute), ("usage_minutes", "minute"));
    }
}
