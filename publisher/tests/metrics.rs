//! The engine's metrics as a Prometheus scrape shows them, after real publishes, a retry, a rate
//! limit and a token refresh against the sandbox. A test binary of its own: the metrics recorder
//! is global to the process, so every count here is this test's alone.

mod support;

use chrono::{TimeDelta, Utc};
use crier_domain::delivery::DeliveryState::{self, *};
use metrics_exporter_prometheus::PrometheusBuilder;
use secrecy::ExposeSecret;
use serde_json::json;
use support::env;

/// The value of one series (`name{labels}` exactly as rendered) in a scrape.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn finished(state: DeliveryState) -> bool {
    !matches!(state, Scheduled | Publishing | Retrying)
}

#[tokio::test]
async fn publishes_retries_pauses_and_refreshes_show_in_the_scrape() {
    let handle = PrometheusBuilder::new().install_recorder().expect("the only recorder in this process");
    crier_publisher::telemetry::describe();
    let env = env().await;
    let x = env.connect_x("acme").await;
    let limited = env.connect_x("limited").await;
    let li = env.connect_linkedin().await;
    let fb = env.connect_facebook().await;
    // acme's access token has expired, at X and in Crier's records: its first publish renews it.
    env.h.control("/control/x/expire-token", json!({ "access_token": x.access_token.expose_secret() })).await;
    sqlx::query("update platform_account set token_expires_at = now() - interval '1 minute' where account_id = $1")
        .bind(x.account_id)
        .execute(&env.pool)
        .await
        .unwrap();

    let engine = env.start(|_| {});
    let launch = env.post(&[x.account_id, li.account_id, fb.account_id], "Launch day", |_| {}).await;
    assert_eq!(env.wait_for(launch, finished).await, [Published, Published, Published]);

    // X then fails acme's next call (a retry in five minutes) and rate-limits limited's (a pause).
    let unavailable = json!({ "title": "Service Unavailable", "detail": "busy", "type": "about:blank", "status": 503 });
    env.h.control("/control/x/faults", json!({ "user_id": x.user_id, "next_responses": [{ "status": 503, "body": unavailable }] })).await;
    let reset = Utc::now() + TimeDelta::minutes(10);
    env.h.control("/control/x/faults", json!({ "user_id": limited.user_id, "next_responses": [support::x_rate_limited(reset)] })).await;
    let busy = env.post(&[x.account_id], "Busy at X", |_| {}).await;
    let paused = env.post(&[limited.account_id], "Rate limited at X", |_| {}).await;
    assert_eq!(env.wait_for(busy, |s| s == Retrying).await, [Retrying]);
    assert_eq!(env.wait_for(paused, |s| s == Retrying).await, [Retrying]);
    // Stopping waits for the outcome writer, which counts what it wrote.
    engine.stop().await;

    let scrape = handle.render();
    let value = |series: &str| sample(&scrape, series).unwrap_or_else(|| panic!("{series} is not in the scrape:\n{scrape}"));
    assert_eq!(value(r#"crier_deliveries_total{platform="x",outcome="published"}"#), 1.0);
    assert_eq!(value(r#"crier_deliveries_total{platform="linkedin",outcome="published"}"#), 1.0);
    assert_eq!(value(r#"crier_deliveries_total{platform="facebook",outcome="published"}"#), 1.0);
    assert_eq!(value(r#"crier_deliveries_total{platform="x",outcome="retrying"}"#), 2.0);
    assert_eq!(value(r#"crier_retries_total{platform="x",reason="temporary"}"#), 1.0);
    assert_eq!(value(r#"crier_retries_total{platform="x",reason="rate_limited"}"#), 1.0);
    assert_eq!(value(r#"crier_rate_limit_pauses_total{platform="x"}"#), 1.0);
    assert_eq!(value(r#"crier_token_refreshes_total{platform="x",result="ok"}"#), 1.0);
    assert_eq!(sample(&scrape, r#"crier_token_refreshes_total{platform="x",result="failed"}"#), None);
    // Every attempt is timed, and every claim's lateness measured, per platform.
    assert_eq!(value(r#"crier_publish_duration_seconds_count{platform="x"}"#), 3.0);
    assert_eq!(value(r#"crier_publish_duration_seconds_count{platform="linkedin"}"#), 1.0);
    assert_eq!(value(r#"crier_schedule_lag_seconds_count{platform="x"}"#), 3.0);
    assert_eq!(value(r#"crier_schedule_lag_seconds_count{platform="facebook"}"#), 1.0);
    assert!(value(r#"crier_publish_duration_seconds_sum{platform="x"}"#) > 0.0);
    // The watchdog reported, and found nothing overdue.
    assert_eq!(value("crier_deliveries_overdue"), 0.0);
    assert!(scrape.contains("# HELP crier_deliveries_total Deliveries whose attempt was written"), "{scrape}");
}
