//! The `aims` binary's library: the command line ([`cli`]) and the server composition
//! ([`server`]), kept in a library so integration tests and benchmarks build the same server.

/// mimalloc rather than the system allocator: see the workspace `Cargo.toml`. Set here, in the
/// library, so the tests and benchmarks that build this server allocate as the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod backup;
pub mod cli;
pub mod server;
