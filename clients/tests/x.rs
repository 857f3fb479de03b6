//! The X client against the sandbox's X fake, over real HTTP.

mod support;

use std::time::Duration;

use chrono::TimeDelta;
use crier_clients::{ErrorClass, OAuth1Credentials, RevokeOutcome, Timeouts, TokenSet, XAuth, XClient, XSettings, XUser};
use crier_sandbox::XLimits;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{Harness, query, set};
use url::Url;

const CLIENT_ID: &str = "crier-x-client";
const CLIENT_SECRET: &str = "x-client-secret-value";
const REDIRECT: &str = "http://localhost:3000/connect/x/callback";

async fn start_with(limits: XLimits) -> Harness {
    support::serve(|config| config.x_limits = limits, |sandbox| sandbox.register_x_app(CLIENT_ID, CLIENT_SECRET, REDIRECT, "Crier")).await
}

async fn start() -> Harness {
    start_with(XLimits::default()).await
}

fn redirect() -> Url {
    Url::parse(REDIRECT).unwrap()
}

fn client(h: &Harness) -> XClient {
    XClient::with_clock(XSettings::sandbox(&h.base, CLIENT_ID.into(), SecretString::from(CLIENT_SECRET)), h.client_clock())
}

/// The whole OAuth 2.0 flow through the consent page, as `account`.
async fn connect(h: &Harness, x: &XClient, account: &str) -> TokenSet {
    let start = x.start_authorization(&redirect());
    let back = h.consent(&start.url, |fields| set(fields, "account", account), "authorize").await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some(start.state.as_str()));
    let code = query(&back, "code").expect("a code");
    // Spawned, as a request handler runs it: the token futures are `Send` whatever they borrow.
    let x = x.clone();
    tokio::spawn(async move { x.exchange_code(&code, start.pkce_verifier.as_ref(), &redirect()).await }).await.unwrap().unwrap()
}

fn bearer(tokens: &TokenSet) -> XAuth {
    XAuth::Bearer(tokens.access_token.clone())
}

#[tokio::test]
async fn oauth_flow_then_who_am_i_and_publish() {
    let h = start().await;
    let x = client(&h);
    let start = x.start_authorization(&redirect());
    let params: Vec<(String, String)> = start.url.query_pairs().into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(param("code_challenge_method"), Some("S256"));
    assert_eq!(param("scope"), Some("tweet.read tweet.write users.read offline.access media.write"));
    let verifier = start.pkce_verifier.as_ref().unwrap().expose_secret();
    assert_eq!(param("code_challenge"), Some(crier_protocol::pkce::s256_challenge(verifier).as_str()));
    assert_eq!(param("state"), Some(start.state.as_str()));

    let tokens = connect(&h, &x, "sandbox_user").await;
    assert_eq!(tokens.expires_at, Some(h.now() + TimeDelta::hours(2)));
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.refresh_expires_at, None);
    assert!(tokens.scopes.iter().any(|s| s == "tweet.write"), "{:?}", tokens.scopes);

    let me = x.who_am_i(&bearer(&tokens)).await.unwrap();
    let picture = me.picture.clone().expect("X answers the profile picture's URL");
    assert!(picture.ends_with("/sandbox/pictures/x/1.png"), "{picture}");
    let png = reqwest::get(&picture).await.unwrap().bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the fake image host serves a PNG");
    assert_eq!(me, XUser { id: "1".into(), name: "Sandbox User".into(), username: "sandbox_user".into(), picture: Some(picture) });

    let response = x.publish(&bearer(&tokens), "Hello from Crier https://example.com/launch").await;
    let published = response.value.unwrap();
    assert_eq!(published.permalink, Some(format!("https://x.com/i/web/status/{}", published.external_id)));
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].platform.as_str(), ledger[0].user_id.as_str()), ("x", "1"));
    assert_eq!(ledger[0].post_id, published.external_id);
    assert_eq!(ledger[0].text, "Hello from Crier https://example.com/launch");
    // The budget comes from the real x-rate-limit-* headers: 100 posts per 15 minutes, one used.
    let budget = response.budget.unwrap();
    assert_eq!((budget.limit, budget.remaining), (Some(100), Some(99)));
    assert_eq!(budget.reset_at, Some(h.now() + TimeDelta::minutes(15)));
}

#[tokio::test]
async fn a_new_account_on_the_consent_page_is_who_the_tokens_belong_to() {
    let h = start().await;
    let x = client(&h);
    let tokens = connect(&h, &x, "crier_team").await;
    let me = x.who_am_i(&bearer(&tokens)).await.unwrap();
    assert_eq!(me.username, "crier_team");
    assert_ne!(me.id, "1");
}

#[tokio::test]
async fn code_exchange_errors_are_classified() {
    let h = start().await;
    let x = client(&h);
    let start = x.start_authorization(&redirect());
    let back = h.consent(&start.url, |_| {}, "authorize").await;
    let code = query(&back, "code").unwrap();

    // Without the verifier nothing is sent.
    let e = x.exchange_code(&code, None, &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Permanent, None));
    // A wrong verifier spends the code (X: "Value passed for the code_verifier was invalid."), and
    // the code is then invalid: either way the person has to authorize again.
    let wrong = SecretString::from("a".repeat(43));
    let e = x.exchange_code(&code, Some(&wrong), &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::NeedsReauth, Some(400), Some("invalid_request")));
    assert_eq!(e.message, "Value passed for the code_verifier was invalid.");
    let e = x.exchange_code(&code, start.pkce_verifier.as_ref(), &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::NeedsReauth, Some(400)));
    assert_eq!(e.message, "Value passed for the authorization code was invalid.");

    // Wrong client secret: our configuration, not the user's grant.
    let start = x.start_authorization(&redirect());
    let back = h.consent(&start.url, |_| {}, "authorize").await;
    let bad = XClient::with_clock(XSettings::sandbox(&h.base, CLIENT_ID.into(), SecretString::from("wrong")), h.client_clock());
    let e = bad.exchange_code(&query(&back, "code").unwrap(), start.pkce_verifier.as_ref(), &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Permanent, Some(401), Some("unauthorized_client")));
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies() {
    let h = start().await;
    let x = client(&h);
    let first = connect(&h, &x, "sandbox_user").await;
    h.clock.advance(Duration::from_secs(3600));
    let old = first.refresh_token.clone().unwrap();
    let spawned = (x.clone(), old.clone());
    let second = tokio::spawn(async move { spawned.0.refresh(&spawned.1).await }).await.unwrap().unwrap();
    let new = second.refresh_token.clone().unwrap();
    assert_ne!(new.expose_secret(), old.expose_secret());
    assert_ne!(second.access_token.expose_secret(), first.access_token.expose_secret());
    assert_eq!(second.expires_at, Some(h.now() + TimeDelta::hours(2)));
    assert_eq!(x.who_am_i(&bearer(&second)).await.unwrap().id, "1");

    let e = x.refresh(&old).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::NeedsReauth, Some(400), Some("invalid_request")));
    assert_eq!(e.message, "Value passed for the token was invalid.");
    // The newest one still works, once.
    assert!(x.refresh(&new).await.is_ok());
}

#[tokio::test]
async fn revoke_kills_access_and_refresh_tokens() {
    let h = start().await;
    let x = client(&h);
    let tokens = connect(&h, &x, "sandbox_user").await;
    assert_eq!(x.revoke(&tokens.access_token).await.unwrap(), RevokeOutcome::Revoked);
    let e = x.who_am_i(&bearer(&tokens)).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::NeedsReauth, Some(401)));

    let refresh = tokens.refresh_token.unwrap();
    assert_eq!(x.revoke_refresh_token(&refresh).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(x.refresh(&refresh).await.unwrap_err().class, ErrorClass::NeedsReauth);
}

#[tokio::test]
async fn a_public_client_sends_its_id_in_the_body() {
    let h = support::serve(|_| {}, |sandbox| sandbox.register_x_app("public-app", "", REDIRECT, "Crier Native")).await;
    let x = XClient::with_clock(XSettings::sandbox(&h.base, "public-app".into(), SecretString::from("")), h.client_clock());
    let tokens = connect(&h, &x, "sandbox_user").await;
    let refreshed = x.refresh(tokens.refresh_token.as_ref().unwrap()).await.unwrap();
    assert_eq!(x.revoke(&refreshed.access_token).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(x.who_am_i(&bearer(&refreshed)).await.unwrap_err().class, ErrorClass::NeedsReauth);
}

#[tokio::test]
async fn every_error_class_from_real_answers() {
    let h = start_with(XLimits { post_per_15min: 3, ..XLimits::default() }).await;
    let x = client(&h);
    let tokens = connect(&h, &x, "sandbox_user").await;
    let auth = bearer(&tokens);

    // 5xx → Temporary.
    let problem = json!({"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503});
    h.control("/control/x/faults", json!({"next_responses": [{"status": 503, "body": problem}]})).await;
    let e = x.publish(&auth, "during an outage").await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, Some(503)));

    // Duplicate → Permanent (X gives no code, only its words).
    x.publish(&auth, "same words").await.value.unwrap();
    let e = x.publish(&auth, "same words").await.value.unwrap_err();
    assert_eq!((e.class, e.status, e.code), (ErrorClass::Permanent, Some(403), None));
    assert_eq!(e.message, "You are not allowed to create a Tweet with duplicate content.");

    // 429 → RateLimited until the window's x-rate-limit-reset; the budget says so too.
    let window_start = h.now();
    x.publish(&auth, "third call of the window").await.value.unwrap();
    h.clock.advance(Duration::from_secs(60));
    let response = x.publish(&auth, "one too many").await;
    let e = response.value.unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimited { until: window_start + TimeDelta::minutes(15) });
    assert_eq!(e.status, Some(429));
    let budget = response.budget.unwrap();
    assert!(budget.is_exhausted());
    assert_eq!(budget.reset_at, Some(window_start + TimeDelta::minutes(15)));

    // Expired token → NeedsReauth.
    h.control("/control/x/expire-token", json!({"access_token": tokens.access_token.expose_secret()})).await;
    let e = x.who_am_i(&auth).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::NeedsReauth, Some(401)));
    // A user who removed the app → NeedsReauth for a fresh token too.
    let fresh = connect(&h, &x, "sandbox_user").await;
    h.control("/control/x/revoke-user", json!({"user_id": "1"})).await;
    let e = x.delete_post(&bearer(&fresh), "1234567890123456789").await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::NeedsReauth, Some(401)));
}

#[tokio::test]
async fn no_answer_is_temporary_without_a_status() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = Url::parse(&format!("http://{}/sandbox", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let x = XClient::new(XSettings::sandbox(&base, CLIENT_ID.into(), SecretString::from(CLIENT_SECRET)));
    let auth = XAuth::Bearer(SecretString::from("token-that-must-not-leak-0123456789abcdef"));
    let response = x.publish(&auth, "nobody home").await;
    let e = response.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, None));
    assert!(e.message.starts_with("could not connect"), "{}", e.message);
    assert_eq!(response.budget, None);
    let e = x.refresh(&SecretString::from("refresh-0123456789abcdef0123456789abcdef")).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, None));
    assert!(!e.message.contains("0123456789abcdef"), "{}", e.message);

    // A platform slower than the total timeout.
    let h = start().await;
    let mut settings = XSettings::sandbox(&h.base, CLIENT_ID.into(), SecretString::from(CLIENT_SECRET));
    settings.timeouts = Timeouts { connect: Duration::from_secs(5), total: Duration::from_millis(300) };
    let slow = XClient::with_clock(settings, h.client_clock());
    let tokens = connect(&h, &client(&h), "sandbox_user").await;
    h.control("/control/x/faults", json!({"latency_ms": 5000})).await;
    let e = slow.who_am_i(&bearer(&tokens)).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, None));
    assert!(e.message.starts_with("the request timed out"), "{}", e.message);
}

#[tokio::test]
async fn a_thread_is_a_chain_of_replies() {
    let h = start().await;
    let x = client(&h);
    let auth = bearer(&connect(&h, &x, "sandbox_user").await);
    let outcome = x.publish_thread(&auth, &["1/3 a thread", "2/3 continues", "3/3 ends"], None).await;
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.published.len(), 3);
    assert_eq!(outcome.budget.unwrap().remaining, Some(97));
    let ledger = h.sandbox.ledger();
    let ids: Vec<&str> = outcome.published.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(ledger.iter().map(|e| e.post_id.as_str()).collect::<Vec<_>>(), ids);
    assert_eq!(ledger[0].in_reply_to, None);
    assert_eq!(ledger[1].in_reply_to.as_deref(), Some(ids[0]));
    assert_eq!(ledger[2].in_reply_to.as_deref(), Some(ids[1]));

    // It stops at the first failure and says which part: here a duplicate of part 0.
    let outcome = x.publish_thread(&auth, &["again a thread", "more", "again a thread", "never sent"], None).await;
    assert_eq!(outcome.published.len(), 2);
    let failure = outcome.failure.unwrap();
    assert_eq!((failure.index, failure.error.class), (2, ErrorClass::Permanent));
    assert_eq!(h.sandbox.ledger().len(), 5);

    // Resuming: the remaining parts reply to the last one published.
    let last = outcome.published[1].external_id.clone();
    let resumed = x.publish_thread(&auth, &["fixed part three", "part four"], Some(&last)).await;
    assert_eq!(resumed.failure, None);
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger[5].in_reply_to.as_deref(), Some(last.as_str()));
    assert_eq!(ledger[6].in_reply_to.as_deref(), Some(resumed.published[0].external_id.as_str()));
}

#[tokio::test]
async fn recent_posts_and_delete() {
    let h = start().await;
    let x = client(&h);
    let auth = bearer(&connect(&h, &x, "sandbox_user").await);
    let mut ids = Vec::new();
    for text in ["older", "newer"] {
        ids.push(x.publish(&auth, text).await.value.unwrap().external_id);
    }
    let recent = x.recent_posts(&auth, "1", 10).await;
    let posts = recent.value.unwrap();
    assert_eq!(
        posts.iter().map(|p| (p.external_id.as_str(), p.text.as_str())).collect::<Vec<_>>(),
        [(ids[1].as_str(), "newer"), (ids[0].as_str(), "older")]
    );
    assert_eq!(posts[0].permalink, Some(format!("https://x.com/i/web/status/{}", ids[1])));
    assert_eq!(recent.budget.unwrap().limit, Some(900));

    let deleted = x.delete_post(&auth, &ids[1]).await;
    assert_eq!(deleted.value, Ok(()));
    assert_eq!(deleted.budget.unwrap().limit, Some(50));
    let e = x.delete_post(&auth, &ids[1]).await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Permanent, Some(404)));
    let posts = x.recent_posts(&auth, "1", 10).await.value.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].external_id, ids[0]);
}

const CONSUMER_KEY: &str = "oauth1-consumer-key";
const CONSUMER_SECRET: &str = "oauth1-consumer-secret-value";
const ACCESS_TOKEN: &str = "1-oauth1-access-token";
const TOKEN_SECRET: &str = "oauth1-token-secret-value";

fn oauth1(token_secret: &str) -> XAuth {
    XAuth::OAuth1(OAuth1Credentials {
        consumer_key: CONSUMER_KEY.into(),
        consumer_secret: SecretString::from(CONSUMER_SECRET),
        token: ACCESS_TOKEN.into(),
        token_secret: SecretString::from(token_secret),
    })
}

#[tokio::test]
async fn oauth1_signed_calls() {
    let h = start().await;
    let user_id = h.sandbox.register_x_oauth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, TOKEN_SECRET, "signed_user");
    let x = client(&h);
    let auth = oauth1(TOKEN_SECRET);

    let me = x.who_am_i(&auth).await.unwrap();
    assert_eq!((me.id.as_str(), me.username.as_str()), (user_id.as_str(), "signed_user"));
    let published = x.publish(&auth, "signed with HMAC-SHA1 (OAuth 1.0a)").await.value.unwrap();
    let ledger = h.sandbox.ledger();
    assert_eq!((ledger[0].user_id.as_str(), ledger[0].text.as_str()), (user_id.as_str(), "signed with HMAC-SHA1 (OAuth 1.0a)"));
    let thread = x.publish_thread(&auth, &["signed reply"], Some(&published.external_id)).await;
    assert_eq!(thread.failure, None);
    assert_eq!(h.sandbox.ledger()[1].in_reply_to.as_deref(), Some(published.external_id.as_str()));
    // The query (max_results, tweet.fields) is signed too.
    let posts = x.recent_posts(&auth, &user_id, 5).await.value.unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(x.delete_post(&auth, &published.external_id).await.value, Ok(()));

    // A wrong secret makes a signature X refuses with its 401.
    let e = x.who_am_i(&oauth1("not-the-secret")).await.unwrap_err();
    assert_eq!((e.class, e.status, e.message.as_str()), (ErrorClass::NeedsReauth, Some(401), "Unauthorized"));
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let h = start().await;
    let x = client(&h);
    let tokens = connect(&h, &x, "sandbox_user").await;
    let start = x.start_authorization(&redirect());
    let shown = [
        format!("{tokens:?}"),
        format!("{:?}", x.settings()),
        format!("{x:?}"),
        format!("{:?}", bearer(&tokens)),
        format!("{:?}", oauth1(TOKEN_SECRET)),
        format!("{start:?}"),
    ]
    .join("\n");
    let secrets = [
        tokens.access_token.expose_secret().to_owned(),
        tokens.refresh_token.as_ref().unwrap().expose_secret().to_owned(),
        CLIENT_SECRET.to_owned(),
        CONSUMER_SECRET.to_owned(),
        ACCESS_TOKEN.to_owned(),
        TOKEN_SECRET.to_owned(),
        start.pkce_verifier.as_ref().unwrap().expose_secret().to_owned(),
    ];
    for secret in &secrets {
        assert!(!shown.contains(secret.as_str()), "{secret} in {shown}");
    }
    assert!(shown.contains(CLIENT_ID) && shown.contains("XSettings"), "{shown}");
}

#[tokio::test]
async fn post_metrics_read_back_a_hundred_ids_a_call_with_what_x_refuses_said_per_post() {
    use crier_clients::PostMetricsRead;

    let h = start().await;
    let user_id = h.sandbox.register_x_oauth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, TOKEN_SECRET, "signed_user");
    h.sandbox.register_x_oauth1("other-key", "other-secret", "2-other-token", "other-token-secret", "someone_else");
    let other = XAuth::OAuth1(OAuth1Credentials {
        consumer_key: "other-key".into(),
        consumer_secret: SecretString::from("other-secret"),
        token: "2-other-token".into(),
        token_secret: SecretString::from("other-token-secret"),
    });
    let x = client(&h);
    let auth = oauth1(TOKEN_SECRET);
    let mine = x.publish(&auth, "counted").await.value.unwrap().external_id;
    assert!(!user_id.is_empty());
    h.clock.advance(Duration::from_secs(2 * 24 * 3600));
    let expected = crier_sandbox::engagement(&mine, TimeDelta::days(2));

    // 101 ids: two calls; the unknown ones are gone, the post has its figures, clicks included.
    let mut ids: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
    ids.insert(50, mine.clone());
    let asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    let read = x.post_metrics(&auth, &asked, true).await;
    let budget = read.budget.unwrap();
    let read = read.value.unwrap();
    assert_eq!(read.len(), 101);
    assert_eq!(read.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), asked, "in the order asked");
    let PostMetricsRead::Read(figures) = &read[50].1 else { panic!("{:?}", read[50]) };
    assert_eq!(figures.impressions, Some(expected.impressions));
    assert_eq!((figures.likes, figures.reposts, figures.replies), (Some(expected.likes), Some(expected.reposts), Some(expected.replies)));
    assert_eq!((figures.quotes, figures.bookmarks), (Some(expected.quotes), Some(expected.bookmarks)));
    assert_eq!(figures.clicks, Some(expected.link_clicks + expected.profile_clicks));
    assert!(read.iter().enumerate().all(|(i, (_, r))| i == 50 || *r == PostMetricsRead::Gone));
    assert_eq!((budget.limit, budget.remaining), (Some(5000), Some(4998)), "two calls of the lookup window");

    // Someone else: the public figures, or NotAllowed when asking for the private ones.
    let theirs = x.post_metrics(&other, &[mine.as_str()], false).await.value.unwrap();
    let PostMetricsRead::Read(public) = &theirs[0].1 else { panic!("{theirs:?}") };
    assert_eq!((public.likes, public.clicks), (Some(expected.likes), None));
    assert_eq!(x.post_metrics(&other, &[mine.as_str()], true).await.value.unwrap()[0].1, PostMetricsRead::NotAllowed);
}
