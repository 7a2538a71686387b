//! The `aims` binary's library: the command line ([`cli`]) and the server composition
//! ([`server`]), kept in a library so integration tests and benchmarks build the same server.

/// mimalloc rather than the system allocator: see the workspace `Cargo.toml`. Set here, in the
/// library, so the tests and benchmarks that build this server allocate as the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands back to the operating system the memory that start-up used and freed (migrations, the
/// catalogue, the route table and its OpenAPI document: three quarters of a fresh server's heap).
/// mimalloc keeps freed pages for reuse and purges them only as later allocations pass by, so a
/// server idle after start would otherwise hold them for good.
pub fn return_freed_memory() {
    // mimalloc's own function, linked in with it (libmimalloc-sys declares it only behind a
    // feature that needs one more crate).
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mi_collect takes no pointers; forcing a collection is always allowed.
    unsafe { mi_collect(true) }
}

pub mod backup;
pub mod cli;
pub mod server;
