//! PostgreSQL connections for the hottest reads (a token check with a list page, a record or a
//! trace, each one statement). sqlx's pool tests every connection it takes back with a round
//! trip to the server, as many round trips as the read itself; these connections go back
//! without one. A connection is handed back only after its statement completed, so none
//! returns mid-conversation: one whose request was cancelled, or whose statement failed, is
//! closed with its guard.

use std::sync::{Arc, Mutex};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::StoreResult;

/// At most this many read connections are open at once; further reads wait for one.
const MAX_CONNECTIONS: usize = 16;

#[derive(Clone)]
pub struct PgReaders {
    options: Arc<PgConnectOptions>,
    idle: Arc<Mutex<Vec<PgConnection>>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for PgReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReaders").field("available", &self.permits.available_permits()).finish()
    }
}

/// A read connection in use; [`PgReader::done`] hands it back.
pub struct PgReader {
    connection: PgConnection,
    home: Arc<Mutex<Vec<PgConnection>>>,
    _permit: OwnedSemaphorePermit,
}

impl PgReaders {
    pub fn new(options: PgConnectOptions) -> Self {
        Self { options: Arc::new(options), idle: Arc::default(), permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)) }
    }

    /// An idle connection, or a new one when none is idle.
    pub async fn take(&self) -> StoreResult<PgReader> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match idle {
            Some(connection) => connection,
            None => self.options.connect().await?,
        };
        Ok(PgReader { connection, home: self.idle.clone(), _permit: permit })
    }

    /// Closes the idle connections and refuses new reads.
    pub async fn close(&self) {
        self.permits.close();
        let idle: Vec<PgConnection> = self.idle.lock().map(|mut idle| std::mem::take(&mut *idle)).unwrap_or_default();
        for connection in idle {
            let _ = connection.close().await;
        }
    }
}

impl PgReader {
    /// The connection, to run one statement on.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.connection
    }

    /// Hands the connection back after a completed statement.
    pub fn done(self) {
        if let Ok(mut idle) = self.home.lock() {
            idle.push(self.connection);
        }
    }
}
