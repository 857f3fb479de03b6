//! Webhooks end to end: a real Postgres, the publishing engine against the sandbox platforms,
//! the dispatcher's own loop, and receivers served over real HTTP on 127.0.0.1 that check each
//! call's signature the way the documentation tells receivers to.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use crier_domain::delivery::DeliveryState;
use crier_domain::password::Password;
use crier_domain::store::webhooks::{self, CallLogEntry, WebhookUrl};
use crier_domain::store::{Member, posts, teams};
use crier_domain::webhook::{CallState, WebhookEvent};
use crier_domain::webhook_signature::{TOLERANCE, verify};
use crier_domain::{DomainError, EmailAddress, TeamName};
use crier_outbound::AddressPolicy;
use crier_publisher::webhooks::WebhookConfig;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use support::{Env, env};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

/// One call as a receiver saw it.
struct Received {
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Checks the signature exactly as docs/webhooks.md says: over `t`, a dot and the raw body.
    fn assert_signed_with(&self, secret: &SecretString) {
        let header = self.header("crier-signature");
        assert!(header.starts_with("t="), "{header}");
        verify(secret, header, &self.body, Utc::now().timestamp(), TOLERANCE).unwrap_or_else(|e| panic!("{e}: {header}"));
    }
}

/// An HTTP endpoint on 127.0.0.1 answering each call with the next status of its script (then 200).
struct Receiver {
    url: String,
    calls: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let (tx, calls) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (tx, script) = (tx.clone(), script.clone());
                async move {
                    let status = script.lock().unwrap().pop_front().unwrap_or(200);
                    let _ = tx.send(Received { headers, body, at: Instant::now() });
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, calls }
    }

    /// The next call (within 30 s: a deadline, not a guess at how long sending takes).
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(30), self.calls.recv()).await.expect("a webhook call within 30 s").unwrap()
    }

    /// Calls received and not yet looked at.
    fn pending(&mut self) -> usize {
        let mut n = 0;
        while self.calls.try_recv().is_ok() {
            n += 1;
        }
        n
    }
}

/// These tests send several test events to one endpoint at once; the limit people have (one a
/// minute) is the web form's, tested with it (server/tests/webhooks.rs).
const NO_LIMIT: Duration = Duration::ZERO;

/// The receivers' network: the operator's opt-in (CRIER_OUTBOUND_ALLOW_NETWORKS) that lets the
/// dispatcher call this machine, which it otherwise refuses.
fn loopback_allowed() -> AddressPolicy {
    AddressPolicy::parse("127.0.0.0/8,::1/128").unwrap()
}

/// A running dispatcher.
struct Dispatcher {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), DomainError>>,
}

impl Dispatcher {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Starts a dispatcher for tests: plain http and loopback allowed (the receivers are local),
/// retries after 1 s.
fn dispatch(env: &Env, tweak: impl FnOnce(&mut WebhookConfig)) -> Dispatcher {
    let mut config = WebhookConfig::new(format!("test-webhooks-{}", Uuid::new_v4()));
    config.allow_http = true;
    config.outbound = loopback_allowed();
    config.retry.first_retry_seconds = 1;
    config.rescue_every = Duration::from_millis(200);
    config.idle_poll = Duration::from_secs(1);
    tweak(&mut config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(crier_publisher::webhooks::run(env.pool.clone(), env.vault.clone(), config, async move {
        let _ = stopped.await;
    }));
    Dispatcher { stop, task }
}

/// Adds an endpoint for `member`'s team; answers its id and signing secret.
async fn endpoint(env: &Env, member: &Member, url: &str, events: &[WebhookEvent]) -> (Uuid, SecretString) {
    let created = webhooks::create(&env.pool, &env.vault, member, &WebhookUrl::parse(url, true).unwrap(), events).await.unwrap();
    assert!(created.secret.expose().starts_with("crier_whsec_"));
    (created.endpoint.endpoint_id, SecretString::from(created.secret.expose().to_owned()))
}

/// The endpoint's log, oldest line first.
async fn log_of(env: &Env, team_id: Uuid, endpoint_id: Uuid) -> Vec<CallLogEntry> {
    let mut lines: Vec<_> =
        webhooks::log(&env.pool, team_id, 50).await.unwrap().into_iter().filter(|l| l.endpoint_id == endpoint_id).collect();
    lines.reverse();
    lines
}

/// Waits until every call to the endpoint is in a state `done` accepts (polled, for at most 30 s).
async fn wait_for_calls(env: &Env, team_id: Uuid, endpoint_id: Uuid, done: impl Fn(CallState) -> bool) -> Vec<CallLogEntry> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let lines = log_of(env, team_id, endpoint_id).await;
        if !lines.is_empty() && lines.iter().all(|l| done(l.state)) {
            return lines;
        }
        assert!(Instant::now() < deadline, "calls still {lines:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (attempt, outcome, HTTP status) of each line.
fn attempts(lines: &[CallLogEntry]) -> Vec<(Option<i16>, Option<&str>, Option<i16>)> {
    lines.iter().map(|l| (l.attempt, l.outcome.as_deref(), l.http_status)).collect()
}

async fn second_team(env: &Env) -> Member {
    teams::sign_up(
        &env.pool,
        TeamName::parse("Globex").unwrap(),
        EmailAddress::parse("owner@globex.test").unwrap(),
        Password::parse(SecretString::from("correct horse battery")).unwrap(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_published_delivery_reaches_the_endpoint_signed_with_its_permalink() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    let mut receiver = Receiver::start(&[]).await;
    let (endpoint_id, secret) = endpoint(&env, &env.team, &receiver.url, &[WebhookEvent::DeliveryPublished]).await;
    let engine = env.start(|_| {});
    let dispatcher = dispatch(&env, |_| {});

    let post = env.post(&[x.account_id], "Hello, webhooks", |_| {}).await;
    assert_eq!(env.wait_for(post, |s| s == DeliveryState::Published).await, [DeliveryState::Published]);
    let call = receiver.next().await;
    call.assert_signed_with(&secret);
    assert_eq!(call.header("crier-event"), "delivery.published");
    assert_eq!(call.header("content-type"), "application/json");
    let body = call.json();
    assert_eq!(call.header("crier-webhook-id"), body["id"].as_str().unwrap());
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(body["type"], "delivery.published");
    let delivery = &posts::get(&env.pool, env.team.team_id, post).await.unwrap().summary.deliveries[0];
    assert_eq!(body["data"]["delivery_id"], delivery.delivery_id.to_string());
    assert_eq!(body["data"]["post_id"], post.to_string());
    assert_eq!(body["data"]["account_id"], x.account_id.to_string());
    assert_eq!(body["data"]["platform"], "x");
    assert_eq!(body["data"]["attempt"], 1);
    assert_eq!(body["data"]["permalink"].as_str(), delivery.permalink.as_deref(), "the link written in the same statement as the event");
    assert!(body["data"]["permalink"].as_str().is_some_and(|p| p.starts_with("https://")));
    let text = String::from_utf8_lossy(&call.body);
    assert!(!text.contains(x.access_token.expose_secret()), "never a token");

    let lines = wait_for_calls(&env, env.team.team_id, endpoint_id, |s| s == CallState::Delivered).await;
    assert_eq!(attempts(&lines), [(Some(1), Some("delivered"), Some(200))]);
    assert_eq!(lines[0].event_type, "delivery.published");
    assert_eq!(receiver.pending(), 0, "one call; the endpoint does not subscribe to anything else");
    dispatcher.stop().await;
    engine.stop().await;
}

#[tokio::test]
async fn a_held_delivery_and_an_account_needing_reauth_tell_their_reason() {
    let env = env().await;
    let x = env.connect_x("acme").await;
    env.h.control("/control/x/revoke-user", json!({ "user_id": x.user_id })).await;
    let mut receiver = Receiver::start(&[]).await;
    let (_, secret) = endpoint(&env, &env.team, &receiver.url, &[WebhookEvent::DeliveryHeld, WebhookEvent::AccountNeedsReauth]).await;
    let dispatcher = dispatch(&env, |_| {});
    let engine = env.start(|_| {});
    let post = env.post(&[x.account_id], "Held for now", |_| {}).await;
    assert_eq!(env.wait_for(post, |s| s == DeliveryState::Held).await, [DeliveryState::Held]);

    let mut seen = Vec::new();
    for _ in 0..2 {
        let call = receiver.next().await;
        call.assert_signed_with(&secret);
        seen.push(call.json());
    }
    seen.sort_by_key(|b| b["type"].as_str().unwrap().to_owned());
    let [reauth, held] = &seen[..] else { panic!("{seen:?}") };
    assert_eq!(reauth["type"], "account.needs_reauth");
    assert_eq!(reauth["data"]["account_id"], x.account_id.to_string());
    assert_eq!(reauth["data"]["platform"], "x");
    assert!(reauth["data"]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{reauth}");
    assert_eq!(held["type"], "delivery.held");
    assert_eq!(held["data"]["error"]["class"], "needs_reauth", "{held}");
    engine.stop().await;
    dispatcher.stop().await;
}

#[tokio::test]
async fn a_failed_call_is_sent_again_after_the_backoff_and_the_last_failure_is_final() {
    let env = env().await;
    let mut receiver = Receiver::start(&[500, 200, 500, 500]).await;
    let (endpoint_id, secret) = endpoint(&env, &env.team, &receiver.url, &[WebhookEvent::DeliveryFailed]).await;
    let dispatcher = dispatch(&env, |c| c.retry.max_attempts = 2);

    // 500, then (1 second later) 200.
    webhooks::send_test(&env.pool, &env.team, endpoint_id, NO_LIMIT).await.unwrap();
    let first = receiver.next().await;
    let second = receiver.next().await;
    first.assert_signed_with(&secret);
    second.assert_signed_with(&secret);
    assert_eq!(first.header("crier-event"), "ping");
    assert_eq!(first.header("crier-webhook-id"), second.header("crier-webhook-id"), "the same id on every attempt");
    assert_eq!(first.body, second.body);
    assert!(second.at - first.at >= Duration::from_millis(900), "the retry waited for the 1-second backoff: {:?}", second.at - first.at);
    let lines = wait_for_calls(&env, env.team.team_id, endpoint_id, |s| s == CallState::Delivered).await;
    assert_eq!(attempts(&lines), [(Some(1), Some("failed"), Some(500)), (Some(2), Some("delivered"), Some(200))]);
    assert!(lines[0].error.as_deref().is_some_and(|e| e.contains("HTTP 500")), "{:?}", lines[0].error);

    // With 2 attempts allowed, a second 500 fails the call for good: no third call.
    webhooks::send_test(&env.pool, &env.team, endpoint_id, NO_LIMIT).await.unwrap();
    receiver.next().await;
    receiver.next().await;
    let lines = wait_for_calls(&env, env.team.team_id, endpoint_id, |s| matches!(s, CallState::Delivered | CallState::Failed)).await;
    let last: Vec<_> = lines.iter().filter(|l| l.state == CallState::Failed).collect();
    assert_eq!(last.iter().map(|l| (l.attempt, l.http_status)).collect::<Vec<_>>(), [(Some(1), Some(500)), (Some(2), Some(500))]);
    assert!(last.iter().all(|l| l.next_attempt_at.is_none()), "no retry is due");
    dispatcher.stop().await;
    assert_eq!(receiver.pending(), 0, "nothing after the last attempt");
}

#[tokio::test]
async fn another_teams_endpoints_never_receive_this_teams_events_nor_can_it_touch_them() {
    let env = env().await;
    let globex = second_team(&env).await;
    let x = env.connect_x("acme").await;
    let mut ours = Receiver::start(&[]).await;
    let mut theirs = Receiver::start(&[]).await;
    let (our_endpoint, _) = endpoint(&env, &env.team, &ours.url, &WebhookEvent::ALL).await;
    let (their_endpoint, _) = endpoint(&env, &globex, &theirs.url, &WebhookEvent::ALL).await;
    let engine = env.start(|_| {});
    let dispatcher = dispatch(&env, |_| {});

    let post = env.post(&[x.account_id], "Only for Acme", |_| {}).await;
    env.wait_for(post, |s| s == DeliveryState::Published).await;
    webhooks::send_test(&env.pool, &env.team, our_endpoint, NO_LIMIT).await.unwrap();
    let mut types = vec![ours.next().await.json()["type"].clone(), ours.next().await.json()["type"].clone()];
    types.sort_by_key(|t| t.to_string());
    assert_eq!(types, [json!("delivery.published"), json!("ping")]);
    wait_for_calls(&env, env.team.team_id, our_endpoint, |s| s == CallState::Delivered).await;

    // Calls are queued in the event's own transaction: none exists for Globex, so none can come.
    let queued_for_them: i64 = sqlx::query_scalar("select count(*) from webhook_call where endpoint_id = $1 or team_id = $2")
        .bind(their_endpoint)
        .bind(globex.team_id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(queued_for_them, 0);
    assert_eq!(theirs.pending(), 0);
    assert!(webhooks::log(&env.pool, globex.team_id, 50).await.unwrap().is_empty());

    // Globex cannot see, test, disable or delete Acme's endpoint: it does not exist for them.
    assert!(webhooks::list(&env.pool, globex.team_id).await.unwrap().iter().all(|e| e.endpoint_id == their_endpoint));
    assert!(matches!(webhooks::get(&env.pool, globex.team_id, our_endpoint).await, Err(DomainError::NotFound)));
    assert!(matches!(webhooks::send_test(&env.pool, &globex, our_endpoint, NO_LIMIT).await, Err(DomainError::NotFound)));
    assert!(matches!(webhooks::set_enabled(&env.pool, &globex, our_endpoint, false).await, Err(DomainError::NotFound)));
    assert!(matches!(webhooks::delete(&env.pool, &globex, our_endpoint).await, Err(DomainError::NotFound)));
    assert!(webhooks::get(&env.pool, env.team.team_id, our_endpoint).await.unwrap().enabled);
    dispatcher.stop().await;
    engine.stop().await;
}

#[tokio::test]
async fn a_call_claimed_by_a_dead_worker_is_rescued_and_sent_again() {
    let env = env().await;
    let mut receiver = Receiver::start(&[]).await;
    let (endpoint_id, secret) = endpoint(&env, &env.team, &receiver.url, &[WebhookEvent::DeliveryPublished]).await;
    webhooks::send_test(&env.pool, &env.team, endpoint_id, NO_LIMIT).await.unwrap();
    // A worker claimed it a minute ago and died (kill -9) during the call.
    let claimed = sqlx::query(
        "update webhook_call set state = 'sending', claimed_by = 'dead-worker', claimed_at = now() - interval '1 minute', attempts = 1
         where endpoint_id = $1",
    )
    .bind(endpoint_id)
    .execute(&env.pool)
    .await
    .unwrap();
    assert_eq!(claimed.rows_affected(), 1);

    let dispatcher = dispatch(&env, |c| c.stale_after = Duration::from_secs(30));
    let call = receiver.next().await;
    call.assert_signed_with(&secret);
    let lines = wait_for_calls(&env, env.team.team_id, endpoint_id, |s| s == CallState::Delivered).await;
    assert_eq!(attempts(&lines), [(Some(1), Some("unknown"), None), (Some(2), Some("delivered"), Some(200))]);
    assert!(lines[0].error.as_deref().is_some_and(|e| e.contains("worker stopped")), "{:?}", lines[0].error);
    dispatcher.stop().await;
}

#[tokio::test]
async fn a_disabled_endpoint_gets_nothing_until_enabled_and_a_deleted_one_loses_its_calls() {
    let env = env().await;
    let mut receiver = Receiver::start(&[]).await;
    let (endpoint_id, _) = endpoint(&env, &env.team, &receiver.url, &[WebhookEvent::DeliveryPublished]).await;
    // Queued while enabled, then the endpoint is turned off: the call waits.
    webhooks::send_test(&env.pool, &env.team, endpoint_id, NO_LIMIT).await.unwrap();
    webhooks::set_enabled(&env.pool, &env.team, endpoint_id, false).await.unwrap();
    assert!(
        matches!(webhooks::send_test(&env.pool, &env.team, endpoint_id, NO_LIMIT).await, Err(DomainError::NotFound)),
        "no tests to a disabled one"
    );
    assert!(webhooks::next_due(&env.pool).await.unwrap().is_none(), "nothing is due for a disabled endpoint");
    assert!(webhooks::claim(&env.pool, "probe", 10).await.unwrap().is_empty(), "nor can it be claimed");

    let dispatcher = dispatch(&env, |_| {});
    webhooks::set_enabled(&env.pool, &env.team, endpoint_id, true).await.unwrap();
    assert_eq!(receiver.next().await.header("crier-event"), "ping");
    wait_for_calls(&env, env.team.team_id, endpoint_id, |s| s == CallState::Delivered).await;

    webhooks::delete(&env.pool, &env.team, endpoint_id).await.unwrap();
    assert!(webhooks::log(&env.pool, env.team.team_id, 50).await.unwrap().is_empty());
    let audited: Vec<String> =
        sqlx::query_scalar("select action from audit_event where entity = 'webhook' order by audit_id").fetch_all(&env.pool).await.unwrap();
    assert_eq!(audited, ["webhook_created", "webhook_test_sent", "webhook_disabled", "webhook_enabled", "webhook_deleted"]);
    let metadata: Vec<Value> =
        sqlx::query_scalar("select metadata from audit_event where entity = 'webhook'").fetch_all(&env.pool).await.unwrap();
    assert!(metadata.iter().all(|m| m["host"] == "127.0.0.1" && !m.to_string().contains("/hook")), "the host only: {metadata:?}");
    dispatcher.stop().await;
}

#[tokio::test]
async fn a_stored_endpoint_on_an_internal_address_is_refused_at_every_call_until_its_network_is_allowed() {
    let env = env().await;
    let mut receiver = Receiver::start(&[]).await;
    let port = url::Url::parse(&receiver.url).unwrap().port().unwrap();
    let (endpoint_id, _) = endpoint(&env, &env.team, &receiver.url, &[WebhookEvent::DeliveryPublished]).await;
    let config = |outbound: AddressPolicy| {
        let mut config = WebhookConfig::new(format!("test-webhooks-{}", Uuid::new_v4()));
        config.allow_http = true;
        config.outbound = outbound;
        config
    };

    // Rows written straight into the table (as before this rule, or by anything but the form):
    // the dispatcher checks the address at the call all the same, a name where it resolves then.
    let internal = [
        (format!("http://127.0.0.1:{port}/hook"), "a loopback address"),
        (format!("http://localhost:{port}/hook"), "localhost resolves to 127.0.0.1, a loopback address"),
        (format!("http://[::1]:{port}/hook"), "::1 is a loopback address"),
        (format!("http://[::ffff:127.0.0.1]:{port}/hook"), "a loopback address"),
        ("http://10.0.0.1/hook".to_owned(), "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/".to_owned(), "169.254.169.254 is a link-local address"),
    ];
    for (url, words) in &internal {
        sqlx::query("update webhook_endpoint set url = $2 where endpoint_id = $1")
            .bind(endpoint_id)
            .bind(url)
            .execute(&env.pool)
            .await
            .unwrap();
        webhooks::send_test(&env.pool, &env.team, endpoint_id, NO_LIMIT).await.unwrap();
        let outcomes = crier_publisher::webhooks::step(env.pool.clone(), env.vault.clone(), config(AddressPolicy::strict())).await.unwrap();
        let [outcome] = &outcomes[..] else { panic!("one call: {outcomes:?}") };
        assert_eq!((outcome.state, outcome.http_status), (CallState::Pending, None), "{url}: retried like any failure");
        assert!(outcome.next_attempt_at.is_some(), "{url}");
        let error = outcome.error.as_deref().unwrap_or_default();
        assert!(error.starts_with("Not called: ") && error.contains(words), "{url}: {error}");
        assert!(error.contains("CRIER_OUTBOUND_ALLOW_NETWORKS"), "it says how to allow it: {error}");
        assert!(!error.contains("/hook") && !error.contains("meta-data"), "never the path: {error}");
    }
    assert_eq!(receiver.pending(), 0, "nothing reached the receiver");
    let lines = log_of(&env, env.team.team_id, endpoint_id).await;
    assert_eq!(lines.len(), internal.len());
    assert!(
        lines.iter().all(|l| l.outcome.as_deref() == Some("failed") && l.error.as_deref().is_some_and(|e| e.contains("Not called"))),
        "the team's log says why: {lines:?}"
    );

    // The operator allows this machine: the waiting calls go out on their retry.
    let url = format!("http://localhost:{port}/hook");
    sqlx::query("update webhook_endpoint set url = $2 where endpoint_id = $1")
        .bind(endpoint_id)
        .bind(&url)
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("update webhook_call set next_attempt_at = now() where endpoint_id = $1")
        .bind(endpoint_id)
        .execute(&env.pool)
        .await
        .unwrap();
    let outcomes = crier_publisher::webhooks::step(env.pool.clone(), env.vault.clone(), config(loopback_allowed())).await.unwrap();
    assert_eq!(outcomes.len(), internal.len());
    assert!(outcomes.iter().all(|o| o.state == CallState::Delivered && o.http_status == Some(200)), "{outcomes:?}");
    for _ in &internal {
        assert_eq!(receiver.next().await.header("crier-event"), "ping");
    }
}
