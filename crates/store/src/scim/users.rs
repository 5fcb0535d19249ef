//! `/Users` listings: a page of accounts, each with what SCIM keeps of it,
//! in one query; and how many match, in a second one unless the filter
//! names one account by a unique index.

use std::sync::LazyLock;

use onramp_domain::accounts::Account;
use onramp_domain::ids::EnvId;
use onramp_domain::scim::store::ScimExtra;
use onramp_domain::scim::users::{UserAttr, UserQuery};
use onramp_domain::store::StoreError;

use super::filter_sql::{Writer, bind_all, count};
use crate::SqlStore;
use crate::accounts::{ACCOUNT_COLUMNS, AccountRow};
use crate::db::{R, Record, Sql};

/// The account's columns from `accounts a`, and the SCIM row's.
static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let account: Vec<String> = ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect();
    format!(
        "{}, s.external_id AS scim_external_id, s.attributes AS scim_attributes",
        account.join(", ")
    )
});
const FROM: &str = "accounts a LEFT JOIN scim_users s ON s.env_id = a.env_id AND s.account_id = a.id";

/// The unique lookups' statements, built once: they run on nearly every
/// SCIM request.
fn unique_sql(condition: &str) -> String {
    format!("SELECT {} FROM {FROM} WHERE a.env_id = $1 AND {condition}", *COLUMNS)
}
static BY_USER_NAME: LazyLock<String> = LazyLock::new(|| unique_sql("a.email_normalized = $2"));
static BY_ID: LazyLock<String> = LazyLock::new(|| unique_sql("a.id = $2"));
// Straight to the partial unique index on (env_id, external_id).
static BY_EXTERNAL_ID: LazyLock<String> =
    LazyLock::new(|| unique_sql("a.id = (SELECT account_id FROM scim_users WHERE env_id = $1 AND external_id = $2)"));

#[derive(sqlx::FromRow)]
struct UserRow {
    #[sqlx(flatten)]
    account: AccountRow,
    scim_external_id: Option<String>,
    scim_attributes: Option<String>,
}

impl UserRow {
    fn of_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            account: AccountRow::of_inline(row)?,
            scim_external_id: row.get("scim_external_id")?,
            scim_attributes: row.get("scim_attributes")?,
        })
    }
}

impl Record for UserRow {
    type Domain = (Account, ScimExtra);
    fn into_domain(self) -> R<(Account, ScimExtra)> {
        let account = self.account.into_domain()?;
        let attributes = match self.scim_attributes.as_deref().map(serde_json::from_str) {
            None => serde_json::Map::new(),
            Some(Ok(serde_json::Value::Object(map))) => map,
            Some(_) => return Err(StoreError::other(format!("SCIM attributes of {}", account.id))),
        };
        let extra = ScimExtra {
            external_id: self.scim_external_id,
            attributes,
        };
        Ok((account, extra))
    }
}

pub(super) async fn page(
    store: &SqlStore,
    env_id: &EnvId,
    query: &UserQuery,
    offset: u64,
    limit: u32,
) -> R<(Vec<(Account, ScimExtra)>, u64)> {
    if let Some((attr, value)) = query.unique() {
        return unique(store, env_id, attr, &value, offset, limit).await;
    }
    let mut writer = Writer::new(store.backend, 2);
    let condition = match &query.filter {
        Some(filter) => format!(" AND {}", writer.write(filter)),
        None => String::new(),
    };
    let binds = writer.binds;
    let count_sql = format!("SELECT COUNT(*) FROM {FROM} WHERE a.env_id = $1{condition}");
    let total = count(&store.pool, count_sql, env_id.as_str(), &binds).await?;
    let n = binds.len();
    let page_sql = format!(
        "SELECT {} FROM {FROM} WHERE a.env_id = $1{condition} ORDER BY a.id LIMIT ${} OFFSET ${}",
        *COLUMNS,
        n + 2,
        n + 3
    );
    let page = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)).bind(env_id.as_str()), &binds);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let users = page.bind(i64::from(limit)).bind(offset).all::<UserRow, _>(&store.pool).await?;
    Ok((users, total))
}

/// The one account a unique attribute names (or none), shown on the first
/// page of at least one.
async fn unique(
    store: &SqlStore,
    env_id: &EnvId,
    attr: UserAttr,
    value: &str,
    offset: u64,
    limit: u32,
) -> R<(Vec<(Account, ScimExtra)>, u64)> {
    let sql: &str = match attr {
        UserAttr::UserName => &BY_USER_NAME,
        UserAttr::Id => &BY_ID,
        _ => &BY_EXTERNAL_ID,
    };
    let args: [(&str, &(dyn rusqlite::ToSql + Sync)); 2] = [("$1", &env_id.as_str()), ("$2", &value)];
    let found = match store.inline_row(sql, &args, UserRow::of_inline)? {
        Some(found) => found,
        None => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(env_id.as_str())
                .bind(value)
                .optional::<UserRow, _>(&mut *store.reader().await?)
                .await?
        }
    };
    let total = u64::from(found.is_some());
    let shown = found.filter(|_| offset == 0 && limit > 0);
    Ok((shown.into_iter().collect(), total))
}
