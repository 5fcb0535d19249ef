//! The schema as the database reports it, for the tests that hold the two
//! migration folders and `onramp copy`'s table list to one another.

use std::collections::BTreeMap;

use crate::db::{R, Record, Sql};
use crate::{Backend, SqlStore};

/// Tables and their column names (sorted), without sqlx's own bookkeeping table.
pub type Schema = BTreeMap<String, Vec<String>>;

#[derive(sqlx::FromRow)]
struct ColumnRow {
    table_name: String,
    column_name: String,
}

impl Record for ColumnRow {
    type Domain = (String, String);
    fn into_domain(self) -> R<Self::Domain> {
        Ok((self.table_name, self.column_name))
    }
}

impl SqlStore {
    /// Every table of the connected database with its columns.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn schema(&self) -> R<Schema> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name AS table_name, c.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name
                 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'"
            }
        };
        let mut schema = Schema::new();
        for (table, column) in sqlx::query(sql).all::<ColumnRow, _>(&self.pool).await? {
            schema.entry(table).or_default().push(column);
        }
        schema.values_mut().for_each(|columns| columns.sort());
        Ok(schema)
    }
}

/// The tables and columns `onramp copy` moves, in the same shape.
pub fn copied_schema() -> Schema {
    crate::copy::tables()
        .map(|(table, columns)| {
            let mut names: Vec<String> = columns.iter().map(|(name, _)| (*name).to_owned()).collect();
            names.sort();
            ((*table).to_owned(), names)
        })
        .collect()
}
