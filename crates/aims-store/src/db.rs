//! Connecting to either backend, write transactions, and the macro that runs one piece of
//! sqlx code on whichever pool the URL selected.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};

use crate::error::{StoreError, StoreResult};

/// A connection pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    /// The sqlx pool for reads, plain read-only connections for the hot read paths, and the
    /// process's one writer connection, which write transactions take in turn.
    Sqlite(SqlitePool, crate::readers::Readers, crate::writer::Writer),
    /// The sqlx pool, connections for the hot read paths outside it, and the pool of write
    /// transactions (see [`Db::connect`]).
    Postgres(PgPool, crate::pg_readers::PgReaders, PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _, _) => $body,
            $crate::db::Db::Postgres($pool, _, _) => $body,
        }
    };
}

impl Db {
    /// Opens the database a URL names: `sqlite:PATH`, `sqlite://PATH`, `postgres://…` or
    /// `postgresql://…`. A bare path is taken as a SQLite file.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|_| StoreError::BadUrl(masked_url(url)))?
                // Every query is a short indexed read or write whose plan does not depend on
                // the values bound. Left to choose, PostgreSQL kept re-planning each execution
                // of the list, record and trace queries (a custom plan looked cheaper than the
                // generic one), and planning took longer than running them.
                .options([("plan_cache_mode", "force_generic_plan")]);
            probe_postgres(url, &options).await?;
            let pool =
                PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect_with(options.clone()).await?;
            // Write transactions have a pool of their own: sqlx tests every connection it hands
            // out with a round trip to the server, one in six of a create's. Here one idle for a
            // while is tested; one the server dropped meanwhile fails at BEGIN, and the next is
            // taken (`begin_postgres`). Writes to one organisation queue on its activity chain,
            // so a few connections serve them.
            let writes = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(|connection, meta| {
                    Box::pin(async move {
                        if meta.idle_for > crate::pg_readers::TEST_AFTER_IDLE {
                            sqlx::Connection::ping(connection).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_lazy_with(options.clone());
            return Ok(Db::Postgres(pool, crate::pg_readers::PgReaders::new(options, crate::pg_pipelined::PgPipelined::new(url)?), writes));
        }
        let path = sqlite_path(url).ok_or_else(|| StoreError::BadUrl(masked_url(url)))?;
        let durability = Durability::from_env()?;
        let readers = crate::readers::Readers::new(path);
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // See `Durability`: FULL unless AIMS_SQLITE_SYNCHRONOUS says otherwise.
            .synchronous(durability.sqlx())
            .foreign_keys(true)
            // The CLI and a running server share the file: wait for the writer instead of
            // failing with "database is locked".
            .busy_timeout(Duration::from_secs(15))
            .statement_cache_capacity(256)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(20))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool, readers, crate::writer::Writer::new(path, durability)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(..) => Backend::Postgres,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so two writers never deadlock on a lock upgrade.
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        let (inner, analyze) = match self {
            Db::Sqlite(_, _, writer) => (TxInner::Sqlite(writer.begin().await?), None),
            Db::Postgres(_, _, writes) => (TxInner::Postgres(begin_postgres(writes).await?), Some(writes.clone())),
        };
        Ok(WriteTx { inner, inserted: 0, analyze })
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    /// Refreshes PostgreSQL's planner statistics (ANALYZE), as autovacuum does a while after
    /// many rows changed. Benchmarks call it while they load. Nothing on SQLite.
    pub async fn analyze(&self) -> StoreResult<()> {
        if let Db::Postgres(pool, _, _) = self {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Ok(())
    }

    /// Does at once on PostgreSQL what autovacuum does after a bulk load: VACUUM (which marks
    /// pages all-visible, so index-only scans skip the table) and ANALYZE. Benchmarks call it
    /// after loading, as if autovacuum had run. Nothing on SQLite.
    pub async fn vacuum_analyze(&self) -> StoreResult<()> {
        if let Db::Postgres(pool, _, _) = self {
            sqlx::query("VACUUM (ANALYZE)").execute(pool).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Db::Postgres(_, readers, writes) = self {
            readers.close().await;
            writes.close().await;
        }
        on_pool!(self, pool => pool.close().await)
    }
}

/// How long a first connection to PostgreSQL may take before aims says it got no answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens one connection before the pools are made, so an unreachable server or a refused
/// login is reported at once and by its cause. The pool would retry until its acquire timeout
/// and then only say that it timed out.
async fn probe_postgres(url: &str, options: &PgConnectOptions) -> StoreResult<()> {
    let connect = <sqlx::PgConnection as sqlx::Connection>::connect_with(options);
    let outcome: Result<sqlx::PgConnection, String> = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Err(_) => Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())),
        Ok(result) => result.map_err(|e: sqlx::Error| why_not_connected(&e, options)),
    };
    match outcome {
        Ok(connection) => {
            let _ = sqlx::Connection::close(connection).await;
            Ok(())
        }
        Err(why) => Err(StoreError::Connect { server: masked_url(url), why }),
    }
}

/// The cause of a failed connection in a newcomer's words: refused, no such host, failed
/// authentication, no such role or database; otherwise what the server said.
fn why_not_connected(error: &sqlx::Error, options: &PgConnectOptions) -> String {
    let (host, port) = (options.get_host(), options.get_port());
    match error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection refused (is PostgreSQL running and listening on {host}:{port}?)")
        }
        sqlx::Error::Io(io) => format!("cannot reach {host}:{port}: {io}"),
        sqlx::Error::Tls(e) => format!("TLS to {host}:{port} failed: {e}"),
        sqlx::Error::Database(db) => {
            let role = options.get_username();
            let database = options.get_database().unwrap_or(role);
            match db.code().as_deref() {
                Some("28P01") => format!("authentication failed for role \"{role}\" (wrong password)"),
                Some("28000") if db.message().contains("does not exist") => format!("no such role \"{role}\""),
                Some("28000") => format!("authentication failed for role \"{role}\": {}", db.message()),
                Some("3D000") => format!("no such database \"{database}\""),
                _ => db.message().to_owned(),
            }
        }
        other => other.to_string(),
    }
}

/// A database URL fit to print: its password replaced by `***` (in the user part and in a
/// `password=` parameter).
pub fn masked_url(url: &str) -> String {
    let mut masked = url.to_owned();
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let start = scheme_end + 3 + colon + 1;
                masked.replace_range(start..scheme_end + 3 + at, "***");
            }
        }
    }
    if let Some(query_start) = masked.find('?') {
        let (base, query) = masked.split_at(query_start + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        masked = format!("{base}{}", query.join("&"));
    }
    masked
}

/// `BEGIN` on a pooled PostgreSQL connection. Connections are handed out untested (see
/// [`Db::connect`]): one the server dropped (a restart, a failover) fails here, the pool
/// discards it, and the next one is tried.
async fn begin_postgres(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    let mut attempts = pool.options().get_max_connections() + 1;
    loop {
        match pool.begin().await {
            Err(e) if attempts > 1 && crate::pg_readers::connection_failed(&e) => attempts -= 1,
            outcome => return Ok(outcome?),
        }
    }
}

/// What a SQLite commit waits for before it is acknowledged (`PRAGMA synchronous`), set by
/// `AIMS_SQLITE_SYNCHRONOUS`. In WAL mode both survive a crash of the process; they differ on
/// an OS crash or power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is fsynced before it is acknowledged: a power cut loses nothing that was
    /// acknowledged. The default: the activity log promises that nothing acknowledged is lost.
    Full,
    /// The WAL is fsynced only at checkpoints: a power cut can roll back the last acknowledged
    /// transactions (never corrupt the file or break a chain).
    Normal,
}

/// The environment variable that chooses [`Durability`].
pub const SYNCHRONOUS_ENV: &str = "AIMS_SQLITE_SYNCHRONOUS";

impl Durability {
    /// `full` (the default when unset or empty) or `normal`, in any case; anything else is refused.
    pub fn parse(setting: Option<&str>) -> StoreResult<Self> {
        match setting.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("full") => Ok(Durability::Full),
            Some("normal") => Ok(Durability::Normal),
            Some(other) => Err(StoreError::BadSetting(format!("{SYNCHRONOUS_ENV}: {other:?} is not full or normal"))),
        }
    }

    pub fn from_env() -> StoreResult<Self> {
        Self::parse(std::env::var(SYNCHRONOUS_ENV).ok().as_deref())
    }

    /// The value of `PRAGMA synchronous`.
    pub fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }

    fn sqlx(self) -> SqliteSynchronous {
        match self {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        }
    }
}

pub fn sqlite_path(url: &str) -> Option<&str> {
    let path = match (url.strip_prefix("sqlite://"), url.strip_prefix("sqlite:")) {
        (Some(path), _) | (None, Some(path)) => path,
        (None, None) if url.contains("://") => return None,
        (None, None) => url,
    };
    let path = path.split('?').next()?;
    (!path.is_empty()).then_some(path)
}

/// A write transaction on either backend. Dropped without [`WriteTx::commit`], it rolls back.
pub struct WriteTx {
    pub(crate) inner: TxInner,
    /// Records inserted by this transaction, counted towards [`ANALYZE_EVERY`].
    pub(crate) inserted: u64,
    /// PostgreSQL: where the statistics refresh runs once this transaction has grown the
    /// tables past the next [`ANALYZE_EVERY`].
    analyze: Option<PgPool>,
}

/// PostgreSQL plans from table statistics, which only ANALYZE (or autovacuum, where it runs)
/// refreshes: a table grown from a few rows to thousands since it was last analysed is planned
/// as if it were still small. Every this many records inserted by this process, the tables a
/// create or an import grows are analysed in the background (a sample of at most 30,000 rows
/// each: tens of milliseconds).
const ANALYZE_EVERY: u64 = 1_000;

/// Records inserted by this process on PostgreSQL since it started.
static INSERTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) enum TxInner {
    Sqlite(crate::writer::SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        if let Some(pool) = self.analyze.filter(|_| self.inserted > 0) {
            let before = INSERTED.fetch_add(self.inserted, std::sync::atomic::Ordering::Relaxed);
            if before / ANALYZE_EVERY != (before + self.inserted) / ANALYZE_EVERY {
                let analyze = async move {
                    // Only the planner's estimates depend on it: a failure is logged, not raised.
                    if let Err(e) = sqlx::query("ANALYZE records, record_links, activity_log").execute(&pool).await {
                        tracing::warn!(error = %e, "refreshing planner statistics failed");
                    }
                };
                // A bulk write (an import) waits for it: the command may end right after.
                // Single creates leave it to the background.
                if self.inserted >= ANALYZE_EVERY {
                    analyze.await;
                } else {
                    tokio::spawn(analyze);
                }
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite:aims.db"), Some("aims.db"));
        assert_eq!(sqlite_path("sqlite://data/aims.db"), Some("data/aims.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/a.db"), Some("/tmp/a.db"));
        assert_eq!(sqlite_path("aims.db"), Some("aims.db"));
        assert_eq!(sqlite_path("mysql://x"), None);
        assert_eq!(sqlite_path("sqlite:"), None);
    }

    #[test]
    fn passwords_are_masked() {
        use super::masked_url;
        assert_eq!(masked_url("postgres://u:secret@127.0.0.1:1/x"), "postgres://u:***@127.0.0.1:1/x");
        assert_eq!(
            masked_url("postgresql://u:p%40ss@db/x?password=other&sslmode=require"),
            "postgresql://u:***@db/x?password=***&sslmode=require"
        );
        assert_eq!(masked_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(masked_url("sqlite:aims.db"), "sqlite:aims.db");
    }

    #[test]
    fn durability_settings() {
        use super::Durability;
        assert_eq!(Durability::parse(None).expect("unset"), Durability::Full);
        assert_eq!(Durability::parse(Some(" Normal ")).expect("normal"), Durability::Normal);
        assert_eq!(Durability::parse(Some("FULL")).expect("full"), Durability::Full);
        let refused = Durability::parse(Some("off")).expect_err("off is refused").to_string();
        assert!(refused.contains("AIMS_SQLITE_SYNCHRONOUS") && refused.contains("\"off\""), "{refused}");
    }
}
