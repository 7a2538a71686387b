//! Storage of aims behind one interface for SQLite (the embedded default) and PostgreSQL.
//!
//! Every query is written once, in SQL both backends accept (TEXT ids and timestamps, BIGINT
//! counters, `$n` placeholders), and run through [`on_pool!`] / [`on_conn!`], which expand the
//! same code for each driver. Writes go through [`WriteTx`], which serialises writers (SQLite
//! `BEGIN IMMEDIATE`; PostgreSQL row lock on the organisation) so the activity chain and
//! record versions never race.

#[macro_use]
mod db;
pub mod activity;
pub mod error;
pub mod files;
pub mod migrate;
pub mod model;
pub mod onetime;
pub mod orgs;
pub mod page_json;
pub mod readers;
pub mod records;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use db::{Backend, Db, WriteTx};
pub use error::{StoreError, StoreResult};
