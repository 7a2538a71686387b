//! The storage layer's one error type.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key or state conflict; the text names what clashed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The version a client based its change on is no longer the current one.
    #[error("stale version: current is {current}")]
    Stale { current: i64 },
    #[error("the database schema (version {found}) is newer than this binary knows (version {known}); upgrade aims")]
    SchemaTooNew { found: i64, known: i64 },
    /// The URL with its password masked (see [`crate::db::masked_url`]).
    #[error("unsupported database URL {0:?}: use sqlite:PATH, sqlite://PATH, postgres://… or postgresql://…")]
    BadUrl(String),
    /// The database server could not be reached or refused the connection: which server (its
    /// URL, password masked) and why, in the same words for every command and `serve`.
    #[error("cannot connect to the database {server}: {why}")]
    Connect { server: String, why: String },
    /// A setting (an environment variable) with a value aims does not accept; the text names it.
    #[error("{0}")]
    BadSetting(String),
    /// A backup that cannot be taken or restored; the text says why.
    #[error("backup: {0}")]
    Backup(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// An error of the pipelining PostgreSQL connections (`pg_pipelined`).
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// An error of the rusqlite connections (SQLite's hot reads and its writer).
    #[error("database error: {0}")]
    Rusqlite(#[from] rusqlite::Error),
    #[error("file store error: {0}")]
    Files(#[from] std::io::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Conflict`] with the given text.
    pub fn on_unique(self, what: &str) -> Self {
        match &self {
            StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => StoreError::Conflict(what.to_owned()),
            StoreError::Rusqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Conflict(what.to_owned())
            }
            _ => self,
        }
    }
}
