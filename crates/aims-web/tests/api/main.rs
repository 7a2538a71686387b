//! API integration tests: the real API router served over HTTP on 127.0.0.1:0, a fresh
//! database per test, every test on SQLite and on PostgreSQL.

#[macro_use]
mod helpers;
mod access;
mod activity;
mod assessments;
mod audit;
mod catalogue;
mod conventions;
mod documents;
mod improvement;
mod members;
mod operations;
mod readiness;
mod records;
mod reports;
mod review;
mod schedules;
mod security;
mod sso;
mod tenancy;
mod tokens;
mod workflows;
