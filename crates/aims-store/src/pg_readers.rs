//! PostgreSQL connections for the hottest reads (a token check with a list page, a record or a
//! trace, each one statement). sqlx's pool tests every connection it takes back with a round
//! trip to the server, as many round trips as the read itself; these connections go back
//! without one. A connection is handed back only after its statement completed, so none
//! returns mid-conversation: one whose request was cancelled, or whose statement failed, is
//! closed with its guard. A connection idle for a while is tested before use, and a failure
//! of the connection itself closes the idle ones too (they are likely broken alike, by a
//! restart of the server).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::StoreResult;

/// At most this many read connections are open at once; further reads wait for one.
const MAX_CONNECTIONS: usize = 16;

/// A connection idle for longer is tested with a round trip before it is used.
pub(crate) const TEST_AFTER_IDLE: Duration = Duration::from_secs(30);

type Idle = Arc<Mutex<Vec<(PgConnection, Instant)>>>;

#[derive(Clone)]
pub struct PgReaders {
    pub(crate) pipelined: crate::pg_pipelined::PgPipelined,
    options: Arc<PgConnectOptions>,
    idle: Idle,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for PgReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReaders").field("available", &self.permits.available_permits()).finish()
    }
}

/// A read connection in use; [`PgReader::finish`] hands it back.
struct PgReader {
    connection: PgConnection,
    home: Idle,
    _permit: OwnedSemaphorePermit,
}

impl PgReaders {
    pub fn new(options: PgConnectOptions, pipelined: crate::pg_pipelined::PgPipelined) -> Self {
        Self { pipelined, options: Arc::new(options), idle: Arc::default(), permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)) }
    }

    /// An idle connection, or a new one when none is idle (or the idle one failed its test).
    async fn take(&self) -> StoreResult<PgReader> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let tested = match idle {
            Some((connection, since)) if since.elapsed() <= TEST_AFTER_IDLE => Some(connection),
            Some((mut connection, _)) => connection.ping().await.is_ok().then_some(connection),
            None => None,
        };
        let connection = match tested {
            Some(connection) => connection,
            None => self.options.connect().await?,
        };
        Ok(PgReader { connection, home: self.idle.clone(), _permit: permit })
    }

    /// Runs one read; once more, on a new connection, when the connection itself failed (a
    /// restart of the server breaks every idle one). Reads are safe to repeat.
    pub async fn read<T, F>(&self, run: F) -> StoreResult<T>
    where
        F: for<'c> Fn(&'c mut PgConnection) -> Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>,
    {
        let mut reader = self.take().await?;
        let outcome = run(reader.connection()).await;
        if !outcome.as_ref().is_err_and(connection_failed) {
            return reader.finish(outcome);
        }
        let _ = reader.finish(outcome);
        let mut reader = self.take().await?;
        let outcome = run(reader.connection()).await;
        reader.finish(outcome)
    }

    /// Closes the idle connections and refuses new reads.
    pub async fn close(&self) {
        self.pipelined.close();
        self.permits.close();
        let idle: Vec<(PgConnection, Instant)> = self.idle.lock().map(|mut idle| std::mem::take(&mut *idle)).unwrap_or_default();
        for (connection, _) in idle {
            let _ = connection.close().await;
        }
    }
}

impl PgReader {
    /// The connection, to run one statement on.
    fn connection(&mut self) -> &mut PgConnection {
        &mut self.connection
    }

    /// The outcome of the statement run on [`PgReader::connection`]: on success the connection
    /// goes back; when the connection itself failed, the idle ones are closed too.
    fn finish<T>(self, outcome: Result<T, sqlx::Error>) -> StoreResult<T> {
        let Ok(mut idle) = self.home.lock() else { return Ok(outcome?) };
        match outcome {
            Ok(value) => {
                idle.push((self.connection, Instant::now()));
                Ok(value)
            }
            Err(error) => {
                if connection_failed(&error) {
                    idle.clear();
                }
                Err(error.into())
            }
        }
    }
}

/// Whether an error broke the connection itself rather than the statement: a failure of the
/// socket or the protocol, or the server ending the session (SQLSTATE class 08, connection
/// exception, or 57, operator intervention: `terminating connection due to administrator
/// command` on a restart).
pub(crate) fn connection_failed(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
        _ => false,
    }
}
