//! PostgreSQL connections that pipeline, for the hottest reads once a token check is
//! remembered (a list page, one record: `page_json::*_if_generation`). Concurrent reads share
//! a few connections, and each sends its statement without waiting for those before it
//! (tokio-postgres queues them on the connection), so a server process takes the next statement
//! without going to sleep in between. One statement per connection at a time, as sqlx sends
//! them, left PostgreSQL's processes waking and sleeping for every read: on a two-core machine
//! the wake-ups, not the reads, bounded the record read (pgbench: 57k statements a second over
//! 16 connections one at a time, 218k over 2 connections pipelining 8 each).
//!
//! A connection that broke (a restart of the server) is replaced, and a read that met a broken
//! one is sent once more on its replacement: reads are safe to repeat.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

use crate::error::{StoreError, StoreResult};

/// Connections shared by all pipelined reads of a process; reads go to them in turn.
const CONNECTIONS: usize = 2;

/// One connection and the statements prepared on it.
struct Connection {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

#[derive(Clone)]
pub struct PgPipelined {
    config: Arc<Config>,
    slots: Arc<Vec<Mutex<Option<Arc<Connection>>>>>,
    next: Arc<AtomicUsize>,
}

impl std::fmt::Debug for PgPipelined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPipelined").field("connections", &CONNECTIONS).finish()
    }
}

impl PgPipelined {
    /// Connections to the database `url` names, opened on first use. Like the sqlx pool's,
    /// they use generic plans (see `Db::connect`).
    pub fn new(url: &str) -> StoreResult<Self> {
        let mut config = Config::from_str(url).map_err(|_| StoreError::BadUrl(crate::db::masked_url(url)))?;
        config.options("-c plan_cache_mode=force_generic_plan");
        let slots = (0..CONNECTIONS).map(|_| Mutex::new(None)).collect();
        Ok(Self { config: Arc::new(config), slots: Arc::new(slots), next: Arc::default() })
    }

    /// Runs one read: `sql` with `params`, prepared once per connection.
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % CONNECTIONS;
        let connection = self.connection(slot).await?;
        match run(&connection, sql, params).await {
            Err(e) if connection.client.is_closed() || connection_failed(&e) => {
                self.forget(slot, &connection);
                Ok(run(&*self.connection(slot).await?, sql, params).await?)
            }
            outcome => Ok(outcome?),
        }
    }

    /// A connection of its own for one long read (a log verification), so that the shared
    /// connections' reads do not queue behind it. It closes when the client is dropped.
    pub async fn dedicated(&self) -> StoreResult<Client> {
        let (client, driver) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!(error = %e, "a dedicated PostgreSQL connection ended");
            }
        });
        Ok(client)
    }

    /// Closes the connections (their tasks end with them).
    pub fn close(&self) {
        for slot in self.slots.iter() {
            if let Ok(mut slot) = slot.lock() {
                slot.take();
            }
        }
    }

    /// The open connection of `slot`, or a new one in its place.
    async fn connection(&self, slot: usize) -> StoreResult<Arc<Connection>> {
        let open = self.slots[slot].lock().ok().and_then(|c| c.clone()).filter(|c| !c.client.is_closed());
        if let Some(connection) = open {
            return Ok(connection);
        }
        let client = self.dedicated().await?;
        let connection = Arc::new(Connection { client, statements: Mutex::default() });
        if let Ok(mut current) = self.slots[slot].lock() {
            *current = Some(connection.clone());
        }
        Ok(connection)
    }

    /// Drops `broken` from `slot` (unless another read replaced it already).
    fn forget(&self, slot: usize, broken: &Arc<Connection>) {
        if let Ok(mut current) = self.slots[slot].lock()
            && current.as_ref().is_some_and(|c| Arc::ptr_eq(c, broken))
        {
            current.take();
        }
    }
}

/// Whether an error broke the connection rather than the statement: the connection closed, or
/// the server ended the session (SQLSTATE class 08, connection exception, or 57, operator
/// intervention: `terminating connection due to administrator command` on a restart), which
/// can reach the read before the connection's task has seen the socket close.
fn connection_failed(error: &tokio_postgres::Error) -> bool {
    error.is_closed() || error.code().is_some_and(|code| code.code().starts_with("08") || code.code().starts_with("57"))
}

async fn run(connection: &Connection, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, tokio_postgres::Error> {
    let cached = connection.statements.lock().ok().and_then(|s| s.get(sql).cloned());
    let statement = match cached {
        Some(statement) => statement,
        None => {
            let statement = connection.client.prepare(sql).await?;
            if let Ok(mut statements) = connection.statements.lock() {
                statements.insert(sql.to_owned(), statement.clone());
            }
            statement
        }
    };
    connection.client.query(&statement, params).await
}
