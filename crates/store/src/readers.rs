//! Connections for the hot point reads on SQLite, kept beside sqlx's pool.
//!
//! A SQLite connection in sqlx is a worker thread, and every statement is a
//! hand-off to it and back. The pool adds a third: it pings each connection
//! as it comes back (to flush what a dropped future may have left), so a
//! point read costs two hand-offs where one would do. The reads here are
//! single statements outside any transaction, and the worker stops
//! streaming a statement whose caller went away, so a connection comes back
//! clean without the ping. PostgreSQL reads keep using the pool: its
//! connections can die with the network, and a hand-off there is a round
//! trip anyway.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::db::R;
use crate::map_err;

/// Up to `size` connections taken out of the pool once and reused.
pub(crate) struct Readers {
    idle: Mutex<Vec<AnyConnection>>,
    permits: Semaphore,
}

impl Readers {
    pub(crate) fn new(size: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        }
    }

    /// An idle reader, or a new one from `pool` while fewer than `size`
    /// exist (they are opened on demand, so a quiet server keeps none).
    pub(crate) async fn take<'a>(&'a self, pool: &AnyPool) -> R<Reader<'a>> {
        let permit = self.permits.acquire().await.map_err(|_| map_err(sqlx::Error::PoolClosed))?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => pool.acquire().await.map_err(map_err)?.detach(),
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self,
            _permit: permit,
        })
    }

    /// Closes every idle reader (a SQLite connection that closes last
    /// checkpoints the WAL) and admits no more.
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for conn in idle {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// A reader on loan; it goes back to the idle list when dropped.
pub(crate) struct Reader<'a> {
    conn: Option<AnyConnection>,
    readers: &'a Readers,
    _permit: SemaphorePermit<'a>,
}

impl Deref for Reader<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn.as_ref().expect("a reader holds its connection until dropped")
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_mut().expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.readers.permits.is_closed()
        {
            self.readers.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
    }
}

/// A connection for one read: a reader on SQLite, the pool's on PostgreSQL.
pub(crate) enum ReadConn<'a> {
    Reader(Reader<'a>),
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
}

impl Deref for ReadConn<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Reader(r) => r,
            Self::Pooled(c) => c,
        }
    }
}

impl DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Reader(r) => r,
            Self::Pooled(c) => c,
        }
    }
}

impl crate::SqlStore {
    /// A connection for a hot single-statement read outside a transaction.
    ///
    /// # Errors
    /// `Unavailable` when no connection can be had.
    pub(crate) async fn reader(&self) -> R<ReadConn<'_>> {
        match &self.readers {
            Some(readers) => Ok(ReadConn::Reader(readers.take(&self.pool).await?)),
            None => Ok(ReadConn::Pooled(self.pool.acquire().await.map_err(map_err)?)),
        }
    }
}
