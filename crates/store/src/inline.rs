//! The hottest point reads on SQLite, run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own, so even a
//! reader (`readers.rs`) costs two thread switches per statement, which on
//! two cores is most of an indexed lookup's cost. The lookups every request
//! makes to authenticate are a few microseconds of SQLite work, so here they
//! run in place, on connections of their own (rusqlite, linked to the same
//! SQLite library as sqlx). They never wait: a connection is opened with no
//! busy timeout and `query_only`, and a read that finds the database busy
//! (or a connection that cannot be opened) returns `None`, so the caller
//! falls back to the asynchronous path, which waits as long as it should.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension as _, Row, ToSql};

use crate::db::{R, Record};

/// Idle connections beyond this many are closed rather than kept.
const KEEP: usize = 8;

pub(crate) struct Inline {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl Inline {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Closes the idle connections; later reads take the asynchronous path.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.execute_batch("PRAGMA query_only = 1; PRAGMA busy_timeout = 0;")?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one): `Some` with its
    /// answer, `None` when the database was busy or could not be opened.
    ///
    /// # Errors
    /// What `read` fails with otherwise, as a storage failure.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> R<Option<T>> {
        if self.closed.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle.map_or_else(|| self.open(), Ok) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!(error = %e, "inline SQLite reader unavailable");
                return Ok(None);
            }
        };
        let outcome = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP && !self.closed.load(Ordering::SeqCst) {
            idle.push(conn);
        }
        drop(idle);
        match outcome {
            Ok(found) => Ok(Some(found)),
            Err(e) if is_busy(&e) => Ok(None),
            Err(e) => Err(onramp_domain::store::StoreError::other(format!("inline read: {e}"))),
        }
    }
}

impl crate::SqlStore {
    /// At most one row of `sql` (with `$n` parameters named in `args`) on
    /// an in-place reader, as `T`'s domain record: `None` when there is no
    /// in-place reader or it could not run, so the caller asks sqlx.
    ///
    /// # Errors
    /// Storage failures and rows that do not map.
    pub(crate) fn inline_row<T: Record>(
        &self,
        sql: &str,
        args: &[(&str, &(dyn ToSql + Sync))],
        row: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> R<Option<Option<T::Domain>>> {
        let Some(inline) = &self.inline else {
            return Ok(None);
        };
        // Logged like sqlx's statements (`RUST_LOG=onramp_store::inline=debug`), so
        // counting a request's statements still sees these.
        tracing::debug!(summary = %summary(sql), "inline statement");
        let found = inline.read(|c| c.prepare_cached(sql)?.query_row(args, row).optional())?;
        found.map(|row| row.map(Record::into_domain).transpose()).transpose()
    }
}

/// The statement's first words, as sqlx summarises statements in its log.
fn summary(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(4).collect();
    format!("{} …", words.join(" "))
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');")
            .unwrap();
        (dir, path, writer)
    }

    fn value(c: &Connection) -> rusqlite::Result<String> {
        c.query_row("SELECT v FROM t", [], |r| r.get(0))
    }

    #[test]
    fn reads_what_another_connection_committed_last() {
        let (_dir, path, writer) = database();
        let inline = Inline::new(path);
        assert_eq!(inline.read(value).unwrap().as_deref(), Some("a"));
        writer.execute("UPDATE t SET v = 'b'", []).unwrap();
        // The same (now idle) connection sees the new value.
        assert_eq!(inline.read(value).unwrap().as_deref(), Some("b"));
    }

    #[test]
    fn a_busy_database_sends_the_caller_elsewhere_at_once() {
        // Rollback-journal mode, where a writer's exclusive lock shuts
        // readers out (in WAL mode it would not).
        let (_dir, path, writer) = database();
        writer.execute_batch("BEGIN EXCLUSIVE; UPDATE t SET v = 'c';").unwrap();
        let inline = Inline::new(path);
        assert_eq!(inline.read(value).unwrap(), None);
        writer.execute_batch("COMMIT").unwrap();
        assert_eq!(inline.read(value).unwrap().as_deref(), Some("c"));
    }

    #[test]
    fn it_refuses_to_write_and_stops_when_closed() {
        let (_dir, path, _writer) = database();
        let inline = Inline::new(path);
        assert!(inline.read(|c| c.execute("DELETE FROM t", [])).is_err(), "query_only");
        inline.close();
        assert_eq!(inline.read(value).unwrap(), None);
    }
}
