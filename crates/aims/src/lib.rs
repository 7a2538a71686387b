//! The `aims` binary's library: the command line ([`cli`]) and the server composition
//! ([`server`]), kept in a library so integration tests and benchmarks build the same server.

pub mod cli;
pub mod server;
