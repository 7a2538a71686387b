//! Storage of aims behind one interface for SQLite (the embedded default) and PostgreSQL.
//!
//! Every query is written once, in SQL both backends accept (TEXT ids and timestamps, BIGINT
//! counters, `$n` placeholders). Reads run through [`on_pool!`], which expands the same sqlx
//! code for each driver (and the hottest ones on rusqlite read connections, see [`readers`]).
//! Writes go through [`WriteTx`] and its `query(…)` builder ([`sql`]): sqlx on PostgreSQL, the
//! process's one rusqlite writer connection on SQLite ([`writer`]). Writers are serialised
//! (SQLite `BEGIN IMMEDIATE`; PostgreSQL row lock on the organisation) so the activity chain
//! and record versions never race.

#[macro_use]
mod db;
pub mod activity;
pub mod backup;
pub mod concern_tokens;
pub mod error;
pub mod files;
pub mod issued;
pub mod members;
pub mod mfa;
pub mod migrate;
pub mod model;
pub mod notify;
pub mod onetime;
pub mod orgs;
pub mod page_json;
pub mod pg_pipelined;
pub mod pg_readers;
pub mod readers;
pub mod readiness;
pub mod records;
pub mod sessions;
mod sql;
pub mod sso;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod writer;

pub use db::{Backend, Db, Durability, SYNCHRONOUS_ENV, WriteTx, sqlite_path};
pub use error::{StoreError, StoreResult};
