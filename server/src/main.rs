//! `crier`: see `crier --help`. Everything happens in the library so tests run the same code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    crier::cli::main(crier::cli::Cli::parse())
}
