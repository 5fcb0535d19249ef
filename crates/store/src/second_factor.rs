//! The rows of a TOTP second factor, shared by operators and partner-portal
//! people: the last time step accepted (each code signs in once) and the
//! single-use recovery codes. The same statements over each kind's tables.

use sqlx::{AnyConnection, AnyPool, Row as _};

use crate::db::{R, Sql};
use crate::map_err;

/// The tables of one kind of person with a second factor.
pub(crate) struct FactorTables {
    /// Has `id` and `totp_last_step`.
    pub people: &'static str,
    /// Has the owner column and `code_hash`.
    pub codes: &'static str,
    /// The recovery codes' column naming their owner.
    pub owner: &'static str,
}

pub(crate) const OPERATORS: FactorTables = FactorTables {
    people: "operators",
    codes: "operator_recovery_codes",
    owner: "operator_id",
};

pub(crate) const PORTAL_USERS: FactorTables = FactorTables {
    people: "portal_users",
    codes: "portal_recovery_codes",
    owner: "user_id",
};

impl FactorTables {
    /// Accepts time step `step` unless it or a later one was accepted
    /// before. A conditional update, so two nodes given the same code at
    /// once accept it once.
    pub async fn accept_step(&self, pool: &AnyPool, id: &str, step: i64) -> R<bool> {
        let sql = format!(
            "UPDATE {} SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
            self.people
        );
        let moved = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(step).run(pool).await?;
        Ok(moved == 1)
    }

    /// Removes a recovery code; `false` when there was no such code.
    pub async fn use_code(&self, pool: &AnyPool, id: &str, code_hash: &str) -> R<bool> {
        let sql = format!("DELETE FROM {} WHERE {} = $1 AND code_hash = $2", self.codes, self.owner);
        let removed = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(code_hash).run(pool).await?;
        Ok(removed == 1)
    }

    /// How many recovery codes are left.
    pub async fn codes_left(&self, pool: &AnyPool, id: &str) -> R<u32> {
        // COUNT is BIGINT on PostgreSQL, INTEGER on SQLite: cast for the Any driver.
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {} WHERE {} = $1", self.codes, self.owner);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(map_err)?;
        let n: i64 = row.try_get("n").map_err(map_err)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Replaces every recovery code of `id` with `hashes`.
    pub async fn replace_codes(&self, c: &mut AnyConnection, id: &str, hashes: &[String]) -> R<()> {
        let delete = format!("DELETE FROM {} WHERE {} = $1", self.codes, self.owner);
        sqlx::query(sqlx::AssertSqlSafe(delete)).bind(id).run(&mut *c).await?;
        let insert = format!("INSERT INTO {} ({}, code_hash) VALUES ($1, $2)", self.codes, self.owner);
        for hash in hashes {
            sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                .bind(id)
                .bind(hash)
                .run(&mut *c)
                .await?;
        }
        Ok(())
    }
}
