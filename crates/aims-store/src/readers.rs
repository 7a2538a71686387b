//! Read-only SQLite connections for the hottest read paths. sqlx-sqlite runs each statement on
//! a per-connection worker thread, which costs a thread round trip per statement; here a whole
//! read (token check and page) runs in one blocking call on plain rusqlite connections, with
//! cached prepared statements. WAL mode lets these readers run beside the sqlx writer.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{StoreError, StoreResult};

/// At most this many idle read connections are kept.
const MAX_IDLE: usize = 8;

#[derive(Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("path", &self.path).finish()
    }
}

impl Readers {
    pub fn new(path: &str) -> Self {
        Self { path: Arc::new(PathBuf::from(path)), idle: Arc::new(Mutex::new(Vec::new())) }
    }

    /// Runs `read` on a read-only connection. These are short indexed reads (tens of
    /// microseconds) that never wait for writers in WAL mode, so they run on the calling thread:
    /// handing them to the blocking pool would cost more than the read itself. For the same
    /// reason `read` may borrow its parameters rather than own copies of them.
    pub async fn run<T, F>(&self, read: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
    {
        let connection = self.take()?;
        let result = read(&connection);
        self.give(connection);
        result.map_err(StoreError::from)
    }

    /// [`Readers::run`] in one read transaction: the statements of `read` see one snapshot,
    /// and SQLite takes its read locks once rather than once per statement.
    pub async fn run_in_snapshot<T, F>(&self, read: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
    {
        self.run(move |conn| {
            conn.prepare_cached("BEGIN")?.execute([])?;
            let result = read(conn);
            let ended = conn.prepare_cached("COMMIT").and_then(|mut end| end.execute([]));
            let value = result?;
            ended?;
            Ok(value)
        })
        .await
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        if let Some(connection) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(connection);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(self.path.as_path(), flags)?;
        connection.busy_timeout(Duration::from_secs(15))?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(connection)
    }

    fn give(&self, connection: Connection) {
        // A connection still inside a transaction would serve its old snapshot to later reads.
        if !connection.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(connection);
            }
        }
    }
}

/// [`numbered`] for SQL known at compile time, converted once (at first use) rather than on
/// every request.
macro_rules! sqlite_text {
    ($sql:expr) => {{
        static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| $crate::readers::numbered($sql));
        TEXT.as_str()
    }};
}
pub(crate) use sqlite_text;

/// `$n` placeholders (as the rest of the store writes them) to SQLite's `?n`, so parameters
/// bind by number wherever they appear in the text.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(super::numbered("a = $1 AND json_extract(d, '$.x') = $12"), "a = ?1 AND json_extract(d, '$.x') = ?12");
    }
}
