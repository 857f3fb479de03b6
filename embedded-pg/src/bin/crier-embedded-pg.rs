//! Command-line front end of `crier-embedded-pg`, for scripts that start
//! Crier's private PostgreSQL in one process and stop it from another.
//!
//! Plain `std::env::args` parsing keeps the build light (no clap).

use std::path::PathBuf;
use std::process::ExitCode;

use crier_embedded_pg::{EmbeddedPostgres, Options, database_url_for_data_dir, stop_data_dir};

const USAGE: &str = "usage:
  crier-embedded-pg start DIR [--no-fsync]   start (or adopt) the server, print its database URL
  crier-embedded-pg stop DIR                 stop the server if it runs
  crier-embedded-pg url DIR                  print the database URL";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut no_fsync = false;
    let mut positional = Vec::new();
    for arg in &args {
        match arg.as_str() {
            "--no-fsync" => no_fsync = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => positional.push(arg.as_str()),
        }
    }
    let (command, dir) = match positional.as_slice() {
        [command, dir] => (*command, PathBuf::from(dir)),
        _ => return usage_error(),
    };
    if no_fsync && command != "start" {
        return usage_error();
    }
    let result = match command {
        "start" => {
            EmbeddedPostgres::start(&dir, &Options { fsync: !no_fsync, ..Options::default() }).map(|pg| println!("{}", pg.database_url()))
        }
        "stop" => stop_data_dir(&dir),
        "url" => database_url_for_data_dir(&dir).map(|url| println!("{url}")),
        _ => return usage_error(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crier-embedded-pg: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}
