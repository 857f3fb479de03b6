//! Logging: `RUST_LOG` picks levels (default `info`), CRIER_LOG_FORMAT the shape.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (tests start many apps) are no-ops.
pub fn init(format: LogFormat) {
    init_with_default(format, "info");
}

/// [`init`] with another default level (`crier bench` keeps the workers' info lines out of its
/// output unless RUST_LOG asks for them).
pub fn init_with_default(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _already_installed = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}
