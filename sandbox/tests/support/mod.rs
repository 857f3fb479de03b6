//! What every platform's tests share: a sandbox served over real HTTP on 127.0.0.1:0, a manual
//! clock the tests move instead of sleeping, and a client that does not follow redirects (the
//! OAuth tests read them).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use crier_sandbox::{ManualClock, Sandbox, SandboxConfig};
use reqwest::redirect::Policy;

/// A running sandbox.
pub struct Harness {
    /// `http://127.0.0.1:<port>/sandbox`
    pub base: String,
    /// The sandbox itself (ledger, app registration).
    pub sandbox: Sandbox,
    /// The sandbox's clock.
    pub clock: Arc<ManualClock>,
    /// A client that does not follow redirects.
    pub http: reqwest::Client,
}

/// Serves a sandbox configured by `tweak`, with `register` run on it before it starts (apps).
pub async fn serve(tweak: impl FnOnce(&mut SandboxConfig), register: impl FnOnce(&Sandbox)) -> Harness {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()));
    let mut config = SandboxConfig::default().with_clock(clock.clone());
    tweak(&mut config);
    let (base, sandbox) = Sandbox::serve_local(config).await.unwrap();
    register(&sandbox);
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    Harness { base, sandbox, clock, http }
}
