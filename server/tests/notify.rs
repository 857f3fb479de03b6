//! Notifications by email and chat: digests with unsubscribe links through a real SMTP server
//! (aiosmtpd), members' choices, refused and unreachable mail servers, Slack and Teams channels
//! through a real HTTP receiver, stalled publishing, and invitations emailed.
//!
//! The app under test runs its notifier with a gathering time of an hour, so it never sends what a
//! test is about to look at; each test sends with one step of a notifier of its own
//! (`crier_publisher::notify::step`, which gathers nothing), then reads what arrived.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crier::config::{WebArgs, WebConfig};
use crier_domain::store::audit::{self, Actor};
use crier_mail::Mailer;
use crier_mail::test_smtp::TestSmtp;
use crier_outbound::AddressPolicy;
use crier_publisher::notify::{NotifierConfig, step};
use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, connect_x_account, error_of, field_errors};
use uuid::Uuid;

const WITHIN: Duration = Duration::from_secs(20);

fn mailer() -> Mailer {
    Mailer::new(&TestSmtp::shared().url(), "Crier <crier@crier.test>", Duration::from_secs(10)).unwrap()
}

/// The app, sending email through the test SMTP server, allowed to call chat channels on this
/// machine over http.
async fn app() -> TestApp {
    let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
    web.notify.mailer = Some(mailer());
    web.notify.gather = Duration::from_secs(3600);
    web.webhooks_allow_http = true;
    web.outbound = AddressPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
    TestApp::spawn_configured(web).await
}

/// A notifier step with `mailer`, gathering nothing.
async fn send(app: &TestApp, mailer: Option<Mailer>) -> Vec<Vec<crier_domain::store::notify::Sent>> {
    let config = NotifierConfig {
        mailer,
        gather: Duration::ZERO,
        allow_http: true,
        outbound: AddressPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()]),
        stall_after: Duration::from_secs(60),
        ..NotifierConfig::new("test-notifier", app.base.clone())
    };
    step(app.pool.clone(), app.vault.clone(), config).await.unwrap()
}

/// A unique address (the SMTP server is shared by every test of the process).
fn address(who: &str) -> String {
    format!("{who}-{}@crier.test", Uuid::new_v4().simple())
}

async fn team_of(app: &TestApp, email: &str) -> Uuid {
    sqlx::query_scalar("select team_id from app_user where email = $1").bind(email).fetch_one(&app.pool).await.unwrap()
}

/// Records that the account needs reconnecting, as the engine does when a token is refused.
async fn needs_reauth(app: &TestApp, team_id: Uuid, account_id: &str) {
    audit::record(&app.pool, team_id, Actor::System, "account_needs_reauth", "account", Some(account_id), serde_json::json!({}))
        .await
        .unwrap();
}

async fn message_states(app: &TestApp, team_id: Uuid) -> Vec<(String, String, i16, Option<String>)> {
    sqlx::query_as("select channel, state, attempt, last_error from notification_message where team_id = $1 order by message_id")
        .bind(team_id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_is_one_digest_whose_unsubscribe_link_turns_that_kind_off_after_asking() {
    let app = app().await;
    let email = address("owner");
    let owner = app.owner("Digest Co", &email).await;
    let team_id = team_of(&app, &email).await;
    let account = connect_x_account(&app, &owner).await;
    for _ in 0..3 {
        needs_reauth(&app, team_id, &account).await;
    }

    let sent = send(&app, Some(mailer())).await;
    assert_eq!(sent.len(), 1, "one recipient, one parcel: {sent:?}");
    let mails = TestSmtp::shared().wait_for(&email, 1, WITHIN);
    assert_eq!(mails.len(), 1, "three events, one email");
    let mail = &mails[0];
    assert_eq!(mail.subject, "Crier: 3 notifications for Digest Co");
    assert_eq!(mail.text.matches("needs reconnecting").count(), 3, "{}", mail.text);
    assert!(mail.html.contains(&format!("href=\"{}/accounts\"", app.base)), "{}", mail.html);
    assert_eq!(mail.from, "crier@crier.test");
    assert!(message_states(&app, team_id).await.iter().all(|(_, state, attempt, _)| state == "sent" && *attempt == 1));
    // In the app too, unread.
    assert!(owner.page("/notifications").await.matches("needs reconnecting").count() >= 3);

    // One kind: its link is in the header too (one-click), and in the body.
    let link = mail.list_unsubscribe.trim_matches(['<', '>']).to_owned();
    assert!(link.starts_with(&format!("{}/unsubscribe?", app.base)), "{link}");
    assert_eq!(mail.list_unsubscribe_post, "List-Unsubscribe=One-Click");
    assert!(mail.text.contains(&link));

    // A GET (a mail scanner, or the reader) only asks; an altered link does nothing.
    let client = reqwest::Client::new();
    let asked = client.get(&link).send().await.unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked.text().await.unwrap().contains("An account must be reconnected"));
    let altered = format!("{}x", &link[..link.len() - 1]);
    let refused = client.post(&altered).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let muted: i64 = sqlx::query_scalar("select count(*) from notification_mute").fetch_one(&app.pool).await.unwrap();
    assert_eq!(muted, 0, "neither a GET nor a bad link turns anything off");

    // The mail client's one-click POST, without a session or an Origin.
    let done = client.post(&link).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("no longer emails you"));
    needs_reauth(&app, team_id, &account).await;
    let before = message_states(&app, team_id).await.len();
    assert_eq!(before, 3, "no email is queued for a kind turned off");
    assert!(send(&app, Some(mailer())).await.is_empty());
    assert_eq!(TestSmtp::shared().received_by(&email).len(), 1);
    // Still under the bell.
    let unread: i64 = sqlx::query_scalar("select count(*) from notification where team_id = $1 and read_at is null")
        .bind(team_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(unread, 4);
}

#[tokio::test]
async fn a_member_chooses_per_kind_and_channel_on_the_settings_page() {
    let app = app().await;
    let email = address("chooser");
    let owner = app.owner("Choosers", &email).await;
    let team_id = team_of(&app, &email).await;
    let account = connect_x_account(&app, &owner).await;
    let page = owner.page("/settings/notifications").await;
    assert!(page.contains("Notification settings") && page.contains("An account must be reconnected"), "{page}");
    assert!(page.contains("value=\"account_needs_reauth:email\" checked"), "everything is on at first");

    // Everything ticked but this kind in the app: it is emailed, not shown under the bell.
    let mut on: Vec<(&str, String)> = Vec::new();
    for kind in crier_domain::notification::NotificationKind::ALL {
        for channel in ["app", "email"] {
            if !(kind.as_str() == "account_needs_reauth" && channel == "app") {
                on.push(("on[]", format!("{}:{channel}", kind.as_str())));
            }
        }
    }
    let form: Vec<(&str, &str)> = on.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = owner.post_plain("settings/notifications/save", &form, "/settings/notifications").await;
    assert!(saved.status().is_redirection(), "{}", saved.status());
    let page = owner.page("/settings/notifications").await;
    assert!(
        page.contains("value=\"account_needs_reauth:app\"/>") || page.contains("value=\"account_needs_reauth:app\" aria-label"),
        "{page}"
    );
    assert!(page.contains("value=\"account_needs_reauth:email\" checked"));

    needs_reauth(&app, team_id, &account).await;
    let shown: i64 =
        sqlx::query_scalar("select count(*) from notification where team_id = $1").bind(team_id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(shown, 0, "turned off in the app");
    send(&app, Some(mailer())).await;
    let mails = TestSmtp::shared().wait_for(&email, 1, WITHIN);
    assert!(mails[0].subject.ends_with("needs reconnecting: its posts wait until it is."), "{}", mails[0].subject);
}

#[tokio::test]
async fn a_refused_mailbox_fails_an_unreachable_server_retries_and_no_server_drops() {
    let app = app().await;
    let email = format!("refused-{}@crier.test", Uuid::new_v4().simple());
    let owner = app.owner("Refused", &email).await;
    let team_id = team_of(&app, &email).await;
    let account = connect_x_account(&app, &owner).await;

    // A server nobody listens on: retried later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable =
        Mailer::new(&secrecy::SecretString::from(format!("smtp://127.0.0.1:{port}")), "crier@crier.test", Duration::from_secs(5)).unwrap();
    needs_reauth(&app, team_id, &account).await;
    send(&app, Some(unreachable)).await;
    let (channel, state, attempt, error) = message_states(&app, team_id).await.remove(0);
    assert_eq!((channel.as_str(), state.as_str(), attempt), ("email", "pending", 1));
    assert!(error.unwrap().starts_with("Not emailed yet"));
    let retry_later: bool = sqlx::query_scalar("select next_at > now() from notification_message where team_id = $1")
        .bind(team_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(retry_later, "it waits before the next attempt");

    // Due again: the server refuses the mailbox for good.
    sqlx::query("update notification_message set next_at = now() where team_id = $1").bind(team_id).execute(&app.pool).await.unwrap();
    send(&app, Some(mailer())).await;
    let (_, state, attempt, error) = message_states(&app, team_id).await.remove(0);
    assert_eq!((state.as_str(), attempt), ("failed", 2));
    assert!(error.unwrap().contains("refused"), "the server's refusal is told");

    // Without an SMTP server, emails are dropped and the log says why.
    needs_reauth(&app, team_id, &account).await;
    send(&app, None).await;
    let (_, state, _, error) = message_states(&app, team_id).await.remove(1);
    assert_eq!(state, "dropped");
    assert!(error.unwrap().contains("CRIER_SMTP_URL"));
    // The owner sees the log on the settings page.
    let page = owner.page("/settings/notifications").await;
    assert!(page.contains("Recently sent") && page.contains("dropped"), "{page}");
}

/// An incoming-webhook receiver on this machine: what it was sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let router = axum::Router::new().route(
        "/hook/{secret}",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook/T0000-secret-B0000", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, got)
}

#[tokio::test]
async fn slack_and_teams_channels_are_told_once_per_event_with_their_urls_sealed() {
    let app = app().await;
    let email = address("chat");
    let owner = app.owner("Chatty", &email).await;
    let team_id = team_of(&app, &email).await;
    let account = connect_x_account(&app, &owner).await;
    let (slack_url, slack) = receiver().await;
    let (teams_url, teams) = receiver().await;

    // Refusals say what to fix, and keep nothing.
    let refused =
        error_of(owner.call("settings/notifications/chat/add", &[("service", "irc"), ("label", ""), ("url", "not a url")]).await).await;
    let fields = field_errors(&refused);
    assert!(
        fields.contains_key("service") && fields.contains_key("label") && fields.contains_key("url") && fields.contains_key("kinds"),
        "{fields:?}"
    );

    for (service, url) in [("slack", &slack_url), ("teams", &teams_url)] {
        let added = owner
            .call(
                "settings/notifications/chat/add",
                &[
                    ("service", service),
                    ("label", "#social"),
                    ("url", url),
                    ("kinds[]", "account_needs_reauth"),
                    ("kinds[]", "delivery_failed"),
                ],
            )
            .await;
        assert!(added.status().is_success(), "{}", added.status());
    }
    // Sealed: the stored bytes do not hold the URL; the page shows its host only.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select url from chat_hook").fetch_all(&app.pool).await.unwrap();
    assert!(stored.iter().all(|bytes| !String::from_utf8_lossy(bytes).contains("secret")));
    let page = owner.page("/settings/notifications").await;
    assert!(page.contains("Microsoft Teams") && page.contains("http://127.0.0.1:") && !page.contains("T0000-secret"), "{page}");

    needs_reauth(&app, team_id, &account).await;
    send(&app, Some(mailer())).await;
    let slack = slack.lock().unwrap().clone();
    assert_eq!(slack.len(), 1, "once per event, not per member told");
    let text = slack[0]["text"].as_str().unwrap();
    assert!(text.contains(&format!("<{}/accounts|", app.base)) && text.contains("needs reconnecting"), "{text}");
    let teams = teams.lock().unwrap().clone();
    assert_eq!(teams.len(), 1);
    assert_eq!(teams[0]["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    let card = teams[0]["attachments"][0]["content"]["body"].to_string();
    assert!(card.contains("needs reconnecting") && card.contains(&format!("({}/accounts)", app.base)), "{card}");

    // Another team cannot remove them, whatever id it sends; the owner can.
    let other = app.owner("Other team", &address("other")).await;
    let hook_id: String = sqlx::query_scalar("select hook_id::text from chat_hook limit 1").fetch_one(&app.pool).await.unwrap();
    let response = other.call("settings/notifications/chat/remove", &[("hook_id", &hook_id)]).await;
    assert!(response.status().is_client_error());
    assert!(!other.page("/settings/notifications").await.contains("data-chat-hook"), "another team sees none of them");
    assert!(owner.page("/settings/notifications").await.contains(&format!("data-chat-hook=\"{hook_id}\"")));
    assert!(owner.call("settings/notifications/chat/remove", &[("hook_id", &hook_id)]).await.status().is_success());
    let left: i64 = sqlx::query_scalar("select count(*) from chat_hook").fetch_one(&app.pool).await.unwrap();
    assert_eq!(left, 1);
}

#[tokio::test]
async fn stalled_publishing_warns_the_owners_once_per_stall() {
    let app = app().await;
    let email = address("stall");
    let owner = app.owner("Stalled", &email).await;
    let team_id = team_of(&app, &email).await;
    let account = connect_x_account(&app, &owner).await;
    let scheduled = owner.call("posts/batch", &[("posts", "2030-03-05 09:00 | Waiting"), ("accounts[]", &account)]).await;
    assert_eq!(scheduled.status(), StatusCode::OK, "{}", scheduled.text().await.unwrap());
    // Its time came ten minutes ago, and no worker runs in this app.
    sqlx::query("update delivery set next_attempt_at = now() - interval '10 minutes' where team_id = $1")
        .bind(team_id)
        .execute(&app.pool)
        .await
        .unwrap();

    send(&app, Some(mailer())).await;
    let mails = TestSmtp::shared().wait_for(&email, 1, WITHIN);
    assert!(mails[0].subject.contains("Publishing is stalled"), "{}", mails[0].subject);
    assert!(owner.page("/notifications").await.contains("Publishing is stalled"));
    // Once per stall.
    send(&app, Some(mailer())).await;
    let warned: i64 = sqlx::query_scalar("select count(*) from audit_event where team_id = $1 and action = 'publishing_stalled'")
        .bind(team_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(warned, 1);
    // Moving again clears it, so the next stall warns again.
    sqlx::query("update delivery set next_attempt_at = now() + interval '1 hour' where team_id = $1")
        .bind(team_id)
        .execute(&app.pool)
        .await
        .unwrap();
    send(&app, None).await;
    let cleared: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select stall_warned_at from team where team_id = $1").bind(team_id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(cleared, None);
}

#[tokio::test]
async fn an_invitation_is_emailed_and_its_link_still_shown() {
    let app = app().await;
    let owner: Browser = app.owner("Inviters", &address("inviter")).await;
    let invitee = address("invitee");
    let created: Value = owner.call("create_invite", &[("email", &invitee), ("role", "editor")]).await.json().await.unwrap();
    assert_eq!(created["emailed"], format!("Emailed to {invitee}."));
    let url = created["url"].as_str().unwrap();
    let mails = TestSmtp::shared().wait_for(&invitee, 1, WITHIN);
    assert_eq!(mails[0].subject, "You are invited to Inviters on Crier");
    assert!(mails[0].text.contains(url) && mails[0].html.contains(url), "the email holds the link");
    assert!(mails[0].text.contains("as Editor") || mails[0].text.contains("as editor"), "{}", mails[0].text);
}
