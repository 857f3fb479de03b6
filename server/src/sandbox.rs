//! The sandbox platforms: mounted under `/sandbox` in `crier serve` (CRIER_SANDBOX), or served
//! alone by `crier sandbox` for tests and benchmarks.

use std::future::Future;

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_SECURITY_POLICY;
use crier_sandbox::{Sandbox, SandboxConfig};
use tokio::net::TcpListener;

use crate::cli::CliError;

/// The path the sandbox is nested at, in both modes.
pub const PREFIX: &str = "/sandbox";

/// The consent pages carry an inline stylesheet, and their form redirects to the app's callback
/// (another origin when the sandbox runs alone): they get their own policy instead of the app's
/// deny-all default.
const SANDBOX_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

/// The sandbox's routes under [`PREFIX`].
pub fn routes(sandbox: &Sandbox) -> Router {
    Router::new().nest(PREFIX, sandbox.router()).layer(axum::middleware::map_response(
        |mut response: axum::response::Response| async move {
            response.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(SANDBOX_CSP));
            response
        },
    ))
}

/// `crier sandbox --addr HOST:PORT`: the fakes alone until `shutdown`.
pub async fn serve_alone(
    addr: &str,
    public_url: Option<&str>,
    control_token: Option<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    let addr: std::net::SocketAddr =
        addr.trim().parse().map_err(|_| CliError::Usage(format!("--addr: `{addr}` is not an address like 127.0.0.1:3100")))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Failed(anyhow::anyhow!("cannot listen on {addr} (CRIER_SANDBOX_ADDR): {e}")))?;
    let bound = listener.local_addr().map_err(|e| CliError::Failed(e.into()))?;
    let base = public_url.map(|u| u.trim().trim_end_matches('/').to_owned()).filter(|u| !u.is_empty()).unwrap_or(format!("http://{bound}"));
    let sandbox = Sandbox::new(SandboxConfig { control_token, ..SandboxConfig::new(format!("{base}{PREFIX}")) });
    // Scripts wait for this line (or poll the address) before registering apps.
    println!("crier: sandbox serving at {base}{PREFIX}");
    tracing::info!(%bound, "sandbox serving");
    axum::serve(listener, routes(&sandbox))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| CliError::Failed(anyhow::anyhow!("the sandbox server failed: {e}")))
}
