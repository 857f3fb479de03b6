//! The engine's metrics, recorded through the `metrics` facade: without an installed recorder
//! (the binary installs the Prometheus one when `/metrics` is served) every call is a no-op.
//!
//! Labels are bounded sets (platform, outcome, reason), never ids: each distinct label set is a
//! series Prometheus keeps.

use std::time::Duration;

use crier_domain::delivery::{AttemptOutcome, DeliveryState};
use crier_domain::store::deliveries::Completion;
use crier_platform::Platform;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

/// Deliveries whose attempt was written, by platform and the state it left them in.
pub const DELIVERIES: &str = "crier_deliveries_total";
/// How long an attempt took, from its start to its outcome (token refresh and reconciliation
/// included), by platform.
pub const PUBLISH_DURATION: &str = "crier_publish_duration_seconds";
/// How late a delivery was claimed: the claim's moment minus its due time, by platform.
pub const SCHEDULE_LAG: &str = "crier_schedule_lag_seconds";
/// Retries scheduled, by platform and reason (`temporary`, `rate_limited`).
pub const RETRIES: &str = "crier_retries_total";
/// Claims of stopped workers put back for a reconciled retry.
pub const RESCUED: &str = "crier_deliveries_rescued_total";
/// Token refreshes, by platform and result (`ok`, `failed`), counted by the accounts service.
pub use crier_accounts::refresh::REFRESHES;
/// Accounts paused until their rate limit resets, by platform.
pub const RATE_LIMIT_PAUSES: &str = "crier_rate_limit_pauses_total";
/// The watchdog's last count of deliveries overdue and unclaimed.
pub const OVERDUE: &str = "crier_deliveries_overdue";

/// Gives each metric its help text and unit (shown by Prometheus); call once after installing a
/// recorder.
pub fn describe() {
    describe_counter!(DELIVERIES, "Deliveries whose attempt was written, by platform and the state it left them in.");
    describe_histogram!(
        PUBLISH_DURATION,
        Unit::Seconds,
        "How long one attempt took, from its start to its outcome (token refresh and reconciliation included)."
    );
    describe_histogram!(SCHEDULE_LAG, Unit::Seconds, "How late deliveries were claimed: the claim's moment minus the due time.");
    describe_counter!(RETRIES, "Retries scheduled, by platform and reason (temporary failure or rate limit).");
    describe_counter!(RESCUED, "Claims of stopped workers put back for a reconciled retry.");
    describe_counter!(REFRESHES, "Access-token refreshes, by platform and result.");
    describe_counter!(RATE_LIMIT_PAUSES, "Accounts paused until their rate limit resets, by platform.");
    describe_gauge!(OVERDUE, "Deliveries overdue (a minute by default) that no worker has claimed: the watchdog's last count.");
}

/// A delivery was claimed `lag` after it fell due.
pub(crate) fn claimed(platform: Platform, lag: Duration) {
    histogram!(SCHEDULE_LAG, "platform" => platform.as_str()).record(lag.as_secs_f64());
}

/// An attempt took `took`.
pub(crate) fn attempted(platform: Platform, took: Duration) {
    histogram!(PUBLISH_DURATION, "platform" => platform.as_str()).record(took.as_secs_f64());
}

/// A completion was written.
pub(crate) fn completed(c: &Completion) {
    counter!(DELIVERIES, "platform" => c.platform.as_str(), "outcome" => c.state.as_str()).increment(1);
    if c.state == DeliveryState::Retrying {
        let reason = if c.outcome == AttemptOutcome::RateLimited { "rate_limited" } else { "temporary" };
        counter!(RETRIES, "platform" => c.platform.as_str(), "reason" => reason).increment(1);
    }
}

/// Claims of stopped workers were put back.
pub(crate) fn rescued(count: u64) {
    counter!(RESCUED).increment(count);
}

/// An account was paused until its rate limit resets.
pub(crate) fn paused(platform: Platform) {
    counter!(RATE_LIMIT_PAUSES, "platform" => platform.as_str()).increment(1);
}

/// The watchdog counted `overdue` deliveries.
pub(crate) fn overdue(overdue: i64) {
    gauge!(OVERDUE).set(overdue as f64);
}
