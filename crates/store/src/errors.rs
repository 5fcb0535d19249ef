//! The one place database errors become `StoreError`s.

use onramp_domain::store::StoreError;
use sqlx::error::ErrorKind;

/// Which duplicated value a unique-constraint message is about. SQLite names
/// the columns ("UNIQUE constraint failed: accounts.env_id, accounts.email_normalized"),
/// PostgreSQL the constraint ("accounts_env_id_email_normalized_key"); both
/// contain the column names matched here.
fn duplicated(message: &str) -> &'static str {
    const COLUMNS: [(&str, &str); 10] = [
        ("email_normalized", "email"),
        ("operators.email", "email"),
        ("operators_email_key", "email"),
        ("username", "username"),
        ("hostname", "hostname"),
        ("instances.platform_id", "platform_id"),
        ("instances_pkey", "platform_id"),
        ("kid", "kid"),
        ("display_key", "display_name"),
        ("external_id", "external_id"),
    ];
    COLUMNS.iter().find(|(col, _)| message.contains(col)).map_or("id", |(_, what)| what)
}

/// Maps a sqlx error to the storage port's error, keeping it as the cause.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => StoreError::Conflict(duplicated(db.message())),
        sqlx::Error::Database(db) if is_sqlite_busy(db.as_ref()) || is_postgres_going_away(db.as_ref()) => StoreError::unavailable(e),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::unavailable(e),
        _ => StoreError::other(e),
    }
}

/// SQLite's "database is locked" (`SQLITE_BUSY`, any extended code), told
/// by its result code rather than its message: the busy timeout ran out.
fn is_sqlite_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    const SQLITE_BUSY: i32 = 5;
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

/// PostgreSQL telling a session that the server is stopping or unreachable
/// (SQLSTATE class 08, connection exceptions, and 57P01–57P03: admin or crash
/// shutdown, cannot connect now): an outage, answered with 503, not a bug.
fn is_postgres_going_away(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some()
        && db
            .code()
            .is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_duplicate() {
        assert_eq!(
            super::duplicated("UNIQUE constraint failed: accounts.env_id, accounts.email_normalized"),
            "email"
        );
        assert_eq!(super::duplicated("UNIQUE constraint failed: accounts.env_id, accounts.id"), "id");
        assert_eq!(super::duplicated("UNIQUE constraint failed: instances.platform_id"), "platform_id");
    }

    /// A write that waits out the busy timeout is an outage (503), not a bug;
    /// through the `Any` driver, as the store runs.
    #[tokio::test]
    async fn a_locked_sqlite_database_is_unavailable() {
        use onramp_domain::store::StoreError;
        use sqlx::Connection as _;
        let path = std::env::temp_dir().join(format!("onramp-busy-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        sqlx::any::install_default_drivers();
        let mut holder = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&mut holder).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
        let mut waiter = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA busy_timeout = 10").execute(&mut waiter).await.unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (1)").execute(&mut waiter).await.unwrap_err();
        assert!(matches!(super::map_err(e), StoreError::Unavailable(_)));
        let e = sqlx::query("SELECT * FROM missing").execute(&mut waiter).await.unwrap_err();
        assert!(matches!(super::map_err(e), StoreError::Other(_)));
        drop((holder, waiter));
        let _ = std::fs::remove_file(&path);
    }
}
