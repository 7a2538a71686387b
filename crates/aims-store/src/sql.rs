//! Statements of a write transaction, written once for both backends: `tx.query(sql)`, then
//! `.bind(…)` per `$n` placeholder, then `execute`, `fetch_one`, `fetch_optional` or
//! `fetch_all` into a tuple of column values. PostgreSQL runs them through sqlx; SQLite runs
//! them on the process's one writer connection (see [`crate::writer`]).

use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Postgres};

use crate::db::{TxInner, WriteTx};
use crate::error::{StoreError, StoreResult};
use crate::readers::numbered;

/// One bound value. NULLs keep their type: PostgreSQL refuses a text NULL in a BIGINT column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'q> {
    Text(Option<&'q str>),
    Int(Option<i64>),
    Bool(bool),
    Bytes(&'q [u8]),
}

/// A Rust value that can be bound to a placeholder.
pub(crate) trait Bind<'q> {
    fn param(self) -> Param<'q>;
}

impl<'q> Bind<'q> for &'q str {
    fn param(self) -> Param<'q> {
        Param::Text(Some(self))
    }
}

impl<'q> Bind<'q> for &'q String {
    fn param(self) -> Param<'q> {
        Param::Text(Some(self.as_str()))
    }
}

impl<'q> Bind<'q> for Option<&'q str> {
    fn param(self) -> Param<'q> {
        Param::Text(self)
    }
}

impl<'q> Bind<'q> for &'q Option<String> {
    fn param(self) -> Param<'q> {
        Param::Text(self.as_deref())
    }
}

impl<'q> Bind<'q> for i64 {
    fn param(self) -> Param<'q> {
        Param::Int(Some(self))
    }
}

impl<'q> Bind<'q> for Option<i64> {
    fn param(self) -> Param<'q> {
        Param::Int(self)
    }
}

impl<'q> Bind<'q> for bool {
    fn param(self) -> Param<'q> {
        Param::Bool(self)
    }
}

impl<'q> Bind<'q> for &'q [u8] {
    fn param(self) -> Param<'q> {
        Param::Bytes(self)
    }
}

/// A column value both drivers decode.
pub(crate) trait Column: Sized + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + rusqlite::types::FromSql {}

impl<T> Column for T where T: Sized + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + rusqlite::types::FromSql {}

/// A result row of either backend, decoded by column position.
pub(crate) trait FromRow: Sized {
    fn from_pg(row: &PgRow) -> Result<Self, sqlx::Error>;
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Column),+> FromRow for ($($t,)+) {
            fn from_pg(row: &PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(($(row.try_get::<$t, usize>($i)?,)+))
            }
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<usize, $t>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);

/// A statement being prepared for a write transaction.
pub(crate) struct Query<'t, 'q> {
    tx: &'t mut WriteTx,
    sql: &'q str,
    params: Vec<Param<'q>>,
}

impl WriteTx {
    /// A statement to run in this transaction; its text uses `$1`, `$2`, … placeholders.
    pub(crate) fn query<'t, 'q>(&'t mut self, sql: &'q str) -> Query<'t, 'q> {
        Query { tx: self, sql, params: Vec::new() }
    }

    /// Runs a script of statements without parameters (migrations).
    pub(crate) async fn execute_script(&mut self, script: &str) -> StoreResult<()> {
        match &mut self.inner {
            TxInner::Sqlite(writer) => writer.connection()?.execute_batch(script)?,
            TxInner::Postgres(t) => {
                sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut **t).await?;
            }
        }
        Ok(())
    }
}

fn pg_query<'q>(sql: &'q str, params: &[Param<'q>]) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for param in params {
        query = match *param {
            Param::Text(text) => query.bind(text),
            Param::Int(int) => query.bind(int),
            Param::Bool(flag) => query.bind(flag),
            Param::Bytes(bytes) => query.bind(bytes),
        };
    }
    query
}

fn sqlite_params<'a, 'q>(params: &'a [Param<'q>]) -> impl Iterator<Item = &'a dyn rusqlite::ToSql> + 'a {
    params.iter().map(|param| -> &dyn rusqlite::ToSql {
        match param {
            Param::Text(text) => text,
            Param::Int(int) => int,
            Param::Bool(flag) => flag,
            Param::Bytes(bytes) => bytes,
        }
    })
}

impl<'q> Query<'_, 'q> {
    pub(crate) fn bind(mut self, value: impl Bind<'q>) -> Self {
        self.params.push(value.param());
        self
    }

    /// Runs the statement; returns how many rows it changed.
    pub(crate) async fn execute(self) -> StoreResult<u64> {
        match &mut self.tx.inner {
            TxInner::Sqlite(writer) => {
                let connection = writer.connection()?;
                let mut statement = connection.prepare_cached(&numbered(self.sql))?;
                let changed = statement.execute(rusqlite::params_from_iter(sqlite_params(&self.params)))?;
                Ok(changed as u64)
            }
            TxInner::Postgres(t) => Ok(pg_query(self.sql, &self.params).execute(&mut **t).await?.rows_affected()),
        }
    }

    pub(crate) async fn fetch_all<R: FromRow>(self) -> StoreResult<Vec<R>> {
        match &mut self.tx.inner {
            TxInner::Sqlite(writer) => {
                let connection = writer.connection()?;
                let mut statement = connection.prepare_cached(&numbered(self.sql))?;
                let rows = statement.query_map(rusqlite::params_from_iter(sqlite_params(&self.params)), R::from_sqlite)?;
                Ok(rows.collect::<rusqlite::Result<Vec<R>>>()?)
            }
            TxInner::Postgres(t) => {
                let rows = pg_query(self.sql, &self.params).fetch_all(&mut **t).await?;
                Ok(rows.iter().map(R::from_pg).collect::<Result<Vec<R>, sqlx::Error>>()?)
            }
        }
    }

    pub(crate) async fn fetch_optional<R: FromRow>(self) -> StoreResult<Option<R>> {
        match &mut self.tx.inner {
            TxInner::Sqlite(writer) => {
                let connection = writer.connection()?;
                let mut statement = connection.prepare_cached(&numbered(self.sql))?;
                let mut rows = statement.query(rusqlite::params_from_iter(sqlite_params(&self.params)))?;
                Ok(rows.next()?.map(R::from_sqlite).transpose()?)
            }
            TxInner::Postgres(t) => {
                let row = pg_query(self.sql, &self.params).fetch_optional(&mut **t).await?;
                Ok(row.as_ref().map(R::from_pg).transpose()?)
            }
        }
    }

    /// The first row; a statement that returns none is a [`StoreError::NotFound`].
    pub(crate) async fn fetch_one<R: FromRow>(self) -> StoreResult<R> {
        self.fetch_optional().await?.ok_or(StoreError::NotFound)
    }
}
