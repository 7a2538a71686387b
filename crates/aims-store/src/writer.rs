//! The SQLite writer: one read-write rusqlite connection per process, taken in turn by each
//! write transaction. sqlx-sqlite hands every statement to a worker thread and back; a create
//! runs about a dozen statements, so those hand-offs cost more than the writes. Here the
//! statements of a transaction run on the calling thread — they never wait, because the
//! transaction took the write lock at `BEGIN IMMEDIATE`. A `BEGIN` that has to wait for another
//! process, and every `COMMIT` (which may write a checkpoint and fsync), go to the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{StoreError, StoreResult};

/// How long a writer waits for another process's write transaction (as the sqlx pool does).
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Writer {
    path: Arc<PathBuf>,
    durability: crate::db::Durability,
    /// Writers of this process queue here, in order, instead of polling SQLite's write lock;
    /// other processes (the CLI) meet the busy timeout.
    connection: Arc<Mutex<Option<Connection>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

impl Writer {
    pub fn new(path: &str, durability: crate::db::Durability) -> Self {
        Self { path: Arc::new(PathBuf::from(path)), durability, connection: Arc::new(Mutex::new(None)) }
    }

    /// Waits for this process's turn to write, then starts a transaction holding the
    /// database's write lock.
    pub async fn begin(&self) -> StoreResult<SqliteTx> {
        let mut turn = self.connection.clone().lock_owned().await;
        if turn.is_none() {
            *turn = Some(open(&self.path, self.durability)?);
        }
        // Another process (the CLI) seldom holds the write lock: try at once, on this thread,
        // and wait for it in the blocking pool only when it does.
        let started = match turn.as_ref() {
            Some(connection) => begin_without_waiting(connection),
            None => Err(rusqlite::Error::InvalidQuery),
        };
        let turn = match started {
            Ok(()) => turn,
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => blocking(turn, begin_immediate).await?,
            Err(e) => return Err(e.into()),
        };
        Ok(SqliteTx { turn: Some(turn) })
    }
}

/// Starts the transaction; one left open by a caller that went away mid-`BEGIN` is rolled back first.
fn begin_immediate(connection: &Connection) -> rusqlite::Result<()> {
    if !connection.is_autocommit() {
        connection.execute_batch("ROLLBACK")?;
    }
    connection.execute_batch("BEGIN IMMEDIATE")
}

/// [`begin_immediate`] with no busy wait: fails at once with `SQLITE_BUSY` when another
/// connection writes.
fn begin_without_waiting(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(Duration::ZERO)?;
    let started = begin_immediate(connection);
    connection.busy_timeout(BUSY_TIMEOUT)?;
    started
}

fn open(path: &Path, durability: crate::db::Durability) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(128);
    // The same settings as the sqlx pool (see `Db::connect`); WAL is a property of the file.
    connection.execute_batch("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000;")?;
    connection.pragma_update(None, "synchronous", durability.pragma())?;
    // Copy the WAL back into the database every 10,000 pages (40 MB) rather than SQLite's
    // 1,000: a checkpoint (and its fsync) ran every ~80 creates, and pages that many writes
    // touch (index leaves, the organisation's row) are now copied once per checkpoint.
    connection.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    Ok(connection)
}

type Turn = OwnedMutexGuard<Option<Connection>>;

/// Runs `work` on the writer connection in the blocking pool, handing the turn back after.
async fn blocking(turn: Turn, work: fn(&Connection) -> rusqlite::Result<()>) -> StoreResult<Turn> {
    let (turn, result) = tokio::task::spawn_blocking(move || {
        let result = match turn.as_ref() {
            Some(connection) => work(connection),
            None => Err(rusqlite::Error::InvalidQuery),
        };
        (turn, result)
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("the SQLite writer stopped: {e}")))?;
    result?;
    Ok(turn)
}

/// An open SQLite write transaction. Dropped without [`SqliteTx::commit`], it rolls back.
pub struct SqliteTx {
    turn: Option<Turn>,
}

impl SqliteTx {
    pub(crate) fn connection(&mut self) -> StoreResult<&Connection> {
        self.turn.as_ref().and_then(|turn| turn.as_ref()).ok_or_else(|| StoreError::Corrupt("the transaction has ended".into()))
    }

    pub async fn commit(mut self) -> StoreResult<()> {
        let Some(turn) = self.turn.take() else { return Ok(()) };
        // A failed COMMIT leaves the transaction open: roll it back before the turn passes on.
        blocking(turn, |connection| {
            connection.execute_batch("COMMIT").inspect_err(|_| {
                let _ = connection.execute_batch("ROLLBACK");
            })
        })
        .await?;
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(connection) = self.turn.as_ref().and_then(|turn| turn.as_ref()) {
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
        }
    }
}
