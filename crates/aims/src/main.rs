//! The `aims` binary: parses the command line and hands over to [`aims::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    aims::cli::main()
}
