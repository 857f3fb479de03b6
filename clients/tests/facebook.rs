//! The Meta client against the sandbox's Meta fake, over real HTTP.

mod support;

use std::time::Duration;

use chrono::TimeDelta;
use crier_clients::{
    ErrorClass, FacebookClient, FacebookPage, FacebookPageInfo, FacebookPost, FacebookSettings, FacebookUser, RevokeOutcome, TokenSet,
};
use crier_sandbox::FacebookLimits;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{Harness, query};
use url::Url;

const APP_ID: &str = "1234567890123456";
const APP_SECRET: &str = "meta-app-secret-value";
const REDIRECT: &str = "http://localhost:3000/connect/facebook/callback";
const USER: &str = "10160000000000001";
const PAGE: &str = "422575694827569";

async fn start_with(limits: FacebookLimits) -> Harness {
    support::serve(|config| config.facebook_limits = limits, |sandbox| sandbox.register_facebook_app(APP_ID, APP_SECRET, REDIRECT, "Crier"))
        .await
}

async fn start() -> Harness {
    start_with(FacebookLimits::default()).await
}

fn redirect() -> Url {
    Url::parse(REDIRECT).unwrap()
}

fn client(h: &Harness) -> FacebookClient {
    FacebookClient::with_clock(FacebookSettings::sandbox(&h.base, APP_ID.into(), SecretString::from(APP_SECRET)), h.client_clock())
}

/// The login dialog as the default person, granting both default Pages (checked on the page).
async fn connect(h: &Harness, meta: &FacebookClient) -> TokenSet {
    let start = meta.start_authorization(&redirect());
    let back = h.consent(&start.url, |_| {}, "authorize").await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some(start.state.as_str()));
    // Spawned, as a request handler runs it: the futures are `Send` whatever they borrow.
    let (meta, code) = (meta.clone(), query(&back, "code").unwrap());
    tokio::spawn(async move { meta.exchange_code(&code, None, &redirect()).await }).await.unwrap().unwrap()
}

async fn page_token(h: &Harness, meta: &FacebookClient) -> (TokenSet, SecretString) {
    let user = connect(h, meta).await;
    let pages = meta.pages(&user.access_token).await.unwrap();
    let page = pages.into_iter().find(|p| p.id == PAGE).expect("the default Page");
    (user, page.access_token)
}

fn message(text: &str) -> FacebookPost {
    FacebookPost { message: text.to_owned(), link: None }
}

#[tokio::test]
async fn login_gives_a_long_lived_user_token_and_page_tokens() {
    let h = start().await;
    let meta = client(&h);
    let start = meta.start_authorization(&redirect());
    assert_eq!(
        query(&start.url, "scope").as_deref(),
        Some("pages_manage_posts,pages_read_engagement,pages_show_list,pages_manage_engagement")
    );
    assert!(start.url.path().ends_with("/facebook/v26.0/dialog/oauth"), "{}", start.url);
    assert!(start.pkce_verifier.is_none());

    let user = connect(&h, &meta).await;
    // Long-lived (about 60 days), not the 2-hour token the code alone gives; no refresh token.
    assert_eq!(user.expires_at, Some(h.now() + TimeDelta::days(60)));
    assert!(user.refresh_token.is_none() && user.refresh_expires_at.is_none());

    assert_eq!(meta.who_am_i(&user.access_token).await.unwrap(), FacebookUser { id: USER.into(), name: "Sandbox User".into() });
    let pages = meta.pages(&user.access_token).await.unwrap();
    let summary: Vec<(&str, &str, Option<_>)> = pages.iter().map(|p| (p.id.as_str(), p.name.as_str(), p.token_expires_at)).collect();
    assert_eq!(summary, [(PAGE, "Sandbox Page", None), ("112130216863063", "Second Sandbox Page", None)]);
    assert_ne!(pages[0].access_token.expose_secret(), user.access_token.expose_secret());
    let picture = pages[0].picture.clone().expect("/me/accounts gives each Page's picture");
    assert!(picture.ends_with(&format!("/sandbox/pictures/facebook/{PAGE}.png")), "{picture}");
    assert_eq!(
        meta.page(PAGE, &pages[0].access_token).await.unwrap(),
        FacebookPageInfo { id: PAGE.into(), name: "Sandbox Page".into(), picture: Some(picture) }
    );

    // Page tokens from a long-lived user token do not expire: three days on, they still publish.
    h.clock.advance(Duration::from_secs(3 * 24 * 3600));
    let published = meta.publish(PAGE, &pages[0].access_token, &message("Hello from Crier")).await.value.unwrap();
    assert!(published.external_id.starts_with(&format!("{PAGE}_")), "{}", published.external_id);
    assert_eq!(published.permalink, Some(format!("https://www.facebook.com/{}", published.external_id)));
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].platform.as_str(), ledger[0].user_id.as_str(), ledger[0].author.as_str()), ("facebook", USER, PAGE));
    assert_eq!((ledger[0].post_id.as_str(), ledger[0].text.as_str()), (published.external_id.as_str(), "Hello from Crier"));
}

#[tokio::test]
async fn only_the_pages_granted_in_the_dialog() {
    let h = start().await;
    let meta = client(&h);
    let start = meta.start_authorization(&redirect());
    let back = h.consent(&start.url, |fields| fields.retain(|(k, v)| !(k == "page" && v != PAGE)), "authorize").await;
    let user = meta.exchange_code(&query(&back, "code").unwrap(), None, &redirect()).await.unwrap();
    let ids: Vec<String> = meta.pages(&user.access_token).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, [PAGE]);
}

#[tokio::test]
async fn link_posts_recent_posts_and_delete() {
    let h = start().await;
    let meta = client(&h);
    let (_, token) = page_token(&h, &meta).await;
    let link = FacebookPost { message: "Read the launch notes".into(), link: Some(Url::parse("https://example.com/launch").unwrap()) };
    let first = meta.publish(PAGE, &token, &link).await.value.unwrap();
    h.clock.advance(Duration::from_secs(60));
    let second = meta.publish(PAGE, &token, &message("second")).await.value.unwrap();

    let posts = meta.recent_posts(PAGE, &token, 10).await.value.unwrap();
    let seen: Vec<(&str, &str)> = posts.iter().map(|p| (p.external_id.as_str(), p.text.as_str())).collect();
    assert_eq!(seen, [(second.external_id.as_str(), "second"), (first.external_id.as_str(), "Read the launch notes")]);
    assert_eq!(posts[0].created_at, Some(h.now()));
    assert_eq!(posts[1].created_at, Some(h.now() - TimeDelta::minutes(1)));

    assert_eq!(meta.delete_post(&second.external_id, &token).await.value, Ok(()));
    let e = meta.delete_post(&second.external_id, &token).await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::Permanent, Some("100/33")));
    assert_eq!(meta.recent_posts(PAGE, &token, 10).await.value.unwrap().len(), 1);
}

#[tokio::test]
async fn created_then_500_is_temporary_and_the_post_is_found_again() {
    let h = start().await;
    let meta = client(&h);
    let (_, token) = page_token(&h, &meta).await;
    h.control("/control/facebook/faults", json!({"created_then_500": 1})).await;
    let e = meta.publish(PAGE, &token, &message("did it go out?")).await.value.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Temporary, Some(500), Some("2")));
    // Reconciling: the post exists.
    let posts = meta.recent_posts(PAGE, &token, 5).await.value.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "did it go out?");
    assert_eq!(posts[0].external_id, h.sandbox.ledger()[0].post_id);
}

#[tokio::test]
async fn page_usage_headers_become_a_budget_and_then_a_wait() {
    let h = start_with(FacebookLimits { page_calls_per_day: 4, ..FacebookLimits::default() }).await;
    let meta = client(&h);
    let (_, token) = page_token(&h, &meta).await;
    let first_call = h.now();
    for (i, expected) in [25u8, 50, 75].into_iter().enumerate() {
        let response = meta.publish(PAGE, &token, &message(&format!("post {i}"))).await;
        response.value.unwrap();
        let budget = response.budget.unwrap();
        assert_eq!((budget.usage_percent, budget.reset_at), (Some(expected), None), "call {i}");
        assert!(!budget.is_exhausted());
    }
    // The fourth call uses the day up: 100 %, and the estimate (minutes) to regain access.
    let response = meta.recent_posts(PAGE, &token, 5).await;
    assert_eq!(response.value.unwrap().len(), 3);
    let budget = response.budget.unwrap();
    assert!(budget.is_exhausted());
    assert_eq!(budget.reset_at, Some(first_call + TimeDelta::hours(24)));
    // The fifth is refused with code 32: wait until access comes back.
    let e = meta.publish(PAGE, &token, &message("one more")).await.value.unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimited { until: first_call + TimeDelta::hours(24) });
    assert_eq!(e.code.as_deref(), Some("32"));
}

#[tokio::test]
async fn every_error_class_from_real_answers() {
    let h = start().await;
    let meta = client(&h);
    let (user, token) = page_token(&h, &meta).await;

    // HTTP 500 code 2 → Temporary.
    let transient = json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException", "code": 2, "is_transient": true, "fbtrace_id": "Abc"}});
    h.control("/control/facebook/faults", json!({"next_responses": [{"status": 500, "body": transient}]})).await;
    let e = meta.publish(PAGE, &token, &message("during an outage")).await.value.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Temporary, Some(500), Some("2")));

    // Duplicate → Permanent, 506.
    meta.publish(PAGE, &token, &message("twice")).await.value.unwrap();
    let e = meta.publish(PAGE, &token, &message("twice")).await.value.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Permanent, Some(400), Some("506")));

    // Expired Page token → NeedsReauth, 190/463.
    h.control("/control/facebook/expire-token", json!({"access_token": token.expose_secret()})).await;
    let e = meta.page(PAGE, &token).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::NeedsReauth, Some("190/463")));
    // An expired user token cannot be extended.
    h.control("/control/facebook/expire-token", json!({"access_token": user.access_token.expose_secret()})).await;
    let e = meta.extend_user_token(&user.access_token).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::NeedsReauth, Some("190/463")));

    // The person changed their password → every token dies, 190/460.
    let (fresh_user, fresh_page) = page_token(&h, &meta).await;
    h.control("/control/facebook/revoke-user", json!({"user_id": USER})).await;
    let e = meta.who_am_i(&fresh_user.access_token).await.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::NeedsReauth, Some("190/460")));
    let e = meta.recent_posts(PAGE, &fresh_page, 5).await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::NeedsReauth, Some("190/460")));

    // A bad code → NeedsReauth.
    let e = meta.exchange_code("AQnot-a-code", None, &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::NeedsReauth, Some(400), Some("100")));
    let wrong = FacebookClient::new(FacebookSettings::sandbox(&h.base, APP_ID.into(), SecretString::from("wrong")));
    let e = wrong.exchange_code("AQnot-a-code", None, &redirect()).await.unwrap_err();
    // A wrong app secret: code 1 "Error validating client secret.", which crier_protocol reads
    // as code 1 "API Unknown" (Temporary, §3.3); platforms.md says nothing about bad secrets. The
    // secret itself is not in the error.
    assert_eq!((e.status, e.code.as_deref(), e.message.as_str()), (Some(400), Some("1"), "Error validating client secret."));
}

#[tokio::test]
async fn revoke_deauthorizes_the_app_and_every_token_dies() {
    let h = start().await;
    let meta = client(&h);
    let (user, page) = page_token(&h, &meta).await;
    assert_eq!(meta.revoke(&user.access_token).await.unwrap(), RevokeOutcome::Revoked);

    // The user token and the Page token got through it are refused: 190/458, "App Not Installed".
    let e = meta.who_am_i(&user.access_token).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::NeedsReauth, Some(400), Some("190/458")));
    let e = meta.publish(PAGE, &page, &message("after revoking")).await.value.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::NeedsReauth, Some(400), Some("190/458")));
    let e = meta.page(PAGE, &page).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::NeedsReauth);
    assert!(h.sandbox.ledger().is_empty());
    // Revoking again, or with a token Meta never issued: the token is refused.
    for token in [user.access_token.clone(), SecretString::from("EAAnot-a-token")] {
        let e = meta.revoke(&token).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::NeedsReauth);
    }

    // Connecting again gives working tokens.
    let (_, page) = page_token(&h, &meta).await;
    meta.publish(PAGE, &page, &message("connected again")).await.value.unwrap();
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let h = start().await;
    let meta = client(&h);
    let user = connect(&h, &meta).await;
    let pages: Vec<FacebookPage> = meta.pages(&user.access_token).await.unwrap();
    let shown = format!("{user:?}\n{pages:?}\n{:?}\n{meta:?}", meta.settings());
    let mut secrets = vec![user.access_token.expose_secret().to_owned(), APP_SECRET.to_owned()];
    secrets.extend(pages.iter().map(|p| p.access_token.expose_secret().to_owned()));
    for secret in &secrets {
        assert!(!shown.contains(secret.as_str()), "{secret} in {shown}");
    }
    assert!(shown.contains("Sandbox Page") && shown.contains("v26.0"), "{shown}");
}

#[tokio::test]
async fn post_metrics_counts_with_the_granted_permissions_and_gone_posts_say_so() {
    use crier_clients::PostMetricsRead;

    let h = start().await;
    let meta = client(&h);
    let (_, token) = page_token(&h, &meta).await;
    let id = meta.publish(PAGE, &token, &message("Counted")).await.value.unwrap().external_id;
    h.clock.advance(Duration::from_secs(24 * 3600));
    let expected = crier_sandbox::engagement(&id, TimeDelta::days(1));

    // Insights asked for but not granted (Crier's scopes have no read_insights): the counts stand.
    let read = meta.post_metrics(&id, &token, true).await.value.unwrap();
    let PostMetricsRead::Read(figures) = read else { panic!("{read:?}") };
    assert_eq!((figures.likes, figures.replies, figures.reposts), (Some(expected.likes), Some(expected.replies), Some(expected.reposts)));
    assert_eq!((figures.impressions, figures.clicks), (None, None));
    assert_eq!(meta.post_metrics(&format!("{PAGE}_1"), &token, false).await.value.unwrap(), PostMetricsRead::Gone);
}
