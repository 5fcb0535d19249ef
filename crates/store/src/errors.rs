//! The one place database errors become `StoreError`s.

use onramp_domain::store::StoreError;
use sqlx::error::ErrorKind;

/// Which duplicated value a unique-constraint message is about. SQLite names
/// the columns ("UNIQUE constraint failed: accounts.env_id, accounts.email_normalized"),
/// PostgreSQL the constraint ("accounts_env_id_email_normalized_key"); both
/// contain the column names matched here.
fn duplicated(message: &str) -> &'static str {
    const COLUMNS: [(&str, &str); 6] = [
        ("email_normalized", "email"),
        ("username", "username"),
        ("hostname", "hostname"),
        ("instances.platform_id", "platform_id"),
        ("instances_pkey", "platform_id"),
        ("kid", "kid"),
    ];
    COLUMNS.iter().find(|(col, _)| message.contains(col)).map_or("id", |(_, what)| what)
}

/// Maps a sqlx error to the storage port's error.
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => StoreError::Conflict(duplicated(db.message())),
        sqlx::Error::Database(db) if db.message().contains("database is locked") => StoreError::Unavailable(db.message().to_owned()),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(e.to_string()),
    }
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
}
