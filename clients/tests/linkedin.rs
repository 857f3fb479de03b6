//! The LinkedIn client against the sandbox's LinkedIn fake, over real HTTP.

mod support;

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use crier_clients::{
    ErrorClass, LinkedInArticle, LinkedInAuthor, LinkedInClient, LinkedInMember, LinkedInOrganization, LinkedInPost, LinkedInSettings,
    RevokeOutcome, TokenSet,
};
use crier_sandbox::LinkedInLimits;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{Harness, query};
use url::Url;

const CLIENT_ID: &str = "crier-linkedin-client";
const CLIENT_SECRET: &str = "linkedin-client-secret-value";
const REDIRECT: &str = "http://localhost:3000/connect/linkedin/callback";
const MEMBER: &str = "782bbtaQ";
const ORG: &str = "5515715";

async fn start_with(limits: LinkedInLimits) -> Harness {
    support::serve(
        |config| config.linkedin_limits = limits,
        |sandbox| sandbox.register_linkedin_app(CLIENT_ID, CLIENT_SECRET, REDIRECT, "Crier"),
    )
    .await
}

async fn start() -> Harness {
    start_with(LinkedInLimits::default()).await
}

fn redirect() -> Url {
    Url::parse(REDIRECT).unwrap()
}

fn settings(h: &Harness) -> LinkedInSettings {
    LinkedInSettings::sandbox(&h.base, CLIENT_ID.into(), SecretString::from(CLIENT_SECRET))
}

fn client(h: &Harness) -> LinkedInClient {
    LinkedInClient::with_clock(settings(h), h.client_clock())
}

/// The whole flow through the consent page as the default member, who administers organization
/// 5515715 (checked on the page).
async fn connect(h: &Harness, li: &LinkedInClient) -> TokenSet {
    let start = li.start_authorization(&redirect());
    assert!(start.pkce_verifier.is_none());
    let back = h.consent(&start.url, |_| {}, "authorize").await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some(start.state.as_str()));
    // Spawned, as a request handler runs it: the token futures are `Send` whatever they borrow.
    let (li, code) = (li.clone(), query(&back, "code").unwrap());
    tokio::spawn(async move { li.exchange_code(&code, None, &redirect()).await }).await.unwrap().unwrap()
}

fn post(author: LinkedInAuthor, text: &str) -> LinkedInPost {
    LinkedInPost { author, text: text.to_owned(), article: None }
}

#[tokio::test]
async fn oauth_flow_who_am_i_and_organizations() {
    let h = start().await;
    let li = client(&h);
    let start = li.start_authorization(&redirect());
    let scope = query(&start.url, "scope").unwrap();
    assert_eq!(scope, "openid profile w_member_social w_organization_social r_organization_social");
    assert_eq!(query(&start.url, "response_type").as_deref(), Some("code"));

    let tokens = connect(&h, &li).await;
    assert_eq!(tokens.expires_at, Some(h.now() + TimeDelta::days(60)));
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.refresh_expires_at, Some(h.now() + TimeDelta::days(365)));
    assert_eq!(tokens.scopes, ["openid", "profile", "w_member_social", "w_organization_social", "r_organization_social"]);

    let me = li.who_am_i(&tokens.access_token).await.unwrap();
    let picture = me.picture.clone().expect("userinfo has the member's picture with the profile scope");
    assert!(picture.ends_with(&format!("/sandbox/pictures/linkedin/{MEMBER}.png")), "{picture}");
    assert_eq!(me, LinkedInMember { id: MEMBER.into(), name: "Sandbox Member".into(), picture: Some(picture) });
    let orgs = li.organizations(&tokens.access_token).await.unwrap();
    // The logo: `logoV2`'s asset, looked up in the Images API for its download URL.
    let logo = orgs[0].picture.clone().expect("the organization's logo");
    assert!(logo.ends_with(&format!("/sandbox/pictures/linkedin/org-{ORG}.png")), "{logo}");
    assert_eq!(
        orgs,
        [LinkedInOrganization {
            id: ORG.into(),
            urn: format!("urn:li:organization:{ORG}"),
            name: "Sandbox Organization".into(),
            picture: Some(logo)
        }]
    );
}

#[tokio::test]
async fn organizations_chosen_on_the_consent_page() {
    let h = start().await;
    let li = client(&h);
    let start = li.start_authorization(&redirect());
    let back = h
        .consent(
            &start.url,
            |fields| {
                fields.push(("organization".into(), "2414183".into()));
                support::set(fields, "new_organization", "Crier Labs");
            },
            "authorize",
        )
        .await;
    let tokens = li.exchange_code(&query(&back, "code").unwrap(), None, &redirect()).await.unwrap();
    let names: Vec<String> = li.organizations(&tokens.access_token).await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["Sandbox Organization", "Devtestco", "Crier Labs"]);
}

#[tokio::test]
async fn publish_as_the_member() {
    let h = start().await;
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    let response = li.publish(&tokens.access_token, &post(LinkedInAuthor::Member(MEMBER.into()), "Hello LinkedIn")).await;
    assert_eq!(response.budget, None);
    let published = response.value.unwrap();
    assert!(published.external_id.starts_with("urn:li:share:"), "{}", published.external_id);
    assert_eq!(published.permalink, Some(format!("https://www.linkedin.com/feed/update/{}", published.external_id)));
    let ledger = h.sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].platform.as_str(), ledger[0].user_id.as_str()), ("linkedin", MEMBER));
    assert_eq!(ledger[0].author, format!("urn:li:person:{MEMBER}"));
    assert_eq!((ledger[0].post_id.as_str(), ledger[0].text.as_str()), (published.external_id.as_str(), "Hello LinkedIn"));

    // Listing a member's posts needs r_member_social, which the default scopes do not have.
    let e = li.recent_posts(&tokens.access_token, &LinkedInAuthor::Member(MEMBER.into()), 10).await.value.unwrap_err();
    assert_eq!((e.status, e.code.as_deref()), (Some(403), Some("100")));
}

#[tokio::test]
async fn organization_posts_arrive_escaped_and_untruncated() {
    let h = start().await;
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    let org = LinkedInAuthor::Organization(ORG.into());
    let text = r"Launch (beta) @ 9am: 50% off_today #rust *new* ~fast~ <soon> [docs] {api} | C:\path and the rest";
    let article = LinkedInArticle {
        source: Url::parse("https://example.com/launch").unwrap(),
        title: Some("Launch (beta)".into()),
        description: Some("What is new".into()),
    };
    let response = li.publish(&tokens.access_token, &LinkedInPost { author: org.clone(), text: text.into(), article: Some(article) }).await;
    let published = response.value.unwrap();

    // The ledger holds what LinkedIn kept: all of it, with every reserved character escaped.
    let entry = h.sandbox.ledger().pop().unwrap();
    assert_eq!(entry.author, format!("urn:li:organization:{ORG}"));
    assert_eq!(entry.text, crier_text::linkedin_escape(text));
    assert!(entry.text.ends_with("and the rest"), "{}", entry.text);

    // Reading it back gives the text as typed.
    let posts = li.recent_posts(&tokens.access_token, &org, 10).await.value.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!((posts[0].external_id.as_str(), posts[0].text.as_str()), (published.external_id.as_str(), text));
    assert_eq!(posts[0].created_at, Some(h.now()));

    // Delete is idempotent.
    assert_eq!(li.delete_post(&tokens.access_token, &published.external_id).await.value, Ok(()));
    assert_eq!(li.delete_post(&tokens.access_token, &published.external_id).await.value, Ok(()));
    assert!(li.recent_posts(&tokens.access_token, &org, 10).await.value.unwrap().is_empty());
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_and_its_expiry() {
    let h = start().await;
    let li = client(&h);
    let first = connect(&h, &li).await;
    let granted_at = h.now();
    h.clock.advance(Duration::from_secs(10 * 24 * 3600));
    let refresh = first.refresh_token.clone().unwrap();
    let spawned = (li.clone(), refresh.clone());
    let second = tokio::spawn(async move { spawned.0.refresh(&spawned.1).await }).await.unwrap().unwrap();
    assert_eq!(second.refresh_token.as_ref().unwrap().expose_secret(), refresh.expose_secret());
    assert_eq!(second.refresh_expires_at, Some(granted_at + TimeDelta::days(365)));
    assert_eq!(second.expires_at, Some(h.now() + TimeDelta::days(60)));
    assert_ne!(second.access_token.expose_secret(), first.access_token.expose_secret());
    assert_eq!(li.who_am_i(&second.access_token).await.unwrap().id, MEMBER);
    // Not rotated: the same refresh token works again.
    assert!(li.refresh(&refresh).await.is_ok());

    // An expired refresh token: reconnect.
    h.control("/control/linkedin/expire-token", json!({"access_token": refresh.expose_secret()})).await;
    let e = li.refresh(&refresh).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::NeedsReauth, Some(400), Some("invalid_request")));
}

#[tokio::test]
async fn no_refresh_token_unless_the_app_is_approved() {
    let h = start().await;
    assert!(h.sandbox.set_linkedin_refresh_tokens(CLIENT_ID, false));
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    assert!(tokens.refresh_token.is_none());
    assert_eq!(tokens.refresh_expires_at, None);
    assert_eq!(tokens.expires_at, Some(h.now() + TimeDelta::days(60)));
}

#[tokio::test]
async fn every_error_class_from_real_answers() {
    let h = start_with(LinkedInLimits { posts_per_member_per_day: 2, ..LinkedInLimits::default() }).await;
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    let token = &tokens.access_token;
    let member = || LinkedInAuthor::Member(MEMBER.into());

    // 5xx → Temporary.
    h.control(
        "/control/linkedin/faults",
        json!({"next_responses": [{"status": 504, "body": {"message": "Gateway Timeout", "status": 504}}]}),
    )
    .await;
    let e = li.publish(token, &post(member(), "during an outage")).await.value.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::Temporary, Some(504)));

    // Duplicate → Permanent, DUPLICATE_POST.
    li.publish(token, &post(member(), "twice")).await.value.unwrap();
    let e = li.publish(token, &post(member(), "twice")).await.value.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Permanent, Some(422), Some("DUPLICATE_POST")));

    // The daily throttle → RateLimited until the next 00:00 UTC.
    let e = li.publish(token, &post(member(), "over the daily limit")).await.value.unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimited { until: Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() });
    assert_eq!((e.status, e.code.as_deref()), (Some(429), Some("101")));

    // A retired API version → Permanent, NONEXISTENT_VERSION.
    let mut old = settings(&h);
    old.version = "202401".into();
    let e = LinkedInClient::with_clock(old, h.client_clock()).organizations(token).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Permanent, Some(426), Some("NONEXISTENT_VERSION")));

    // Expired → NeedsReauth; revoked by the member → NeedsReauth, REVOKED_ACCESS_TOKEN.
    h.control("/control/linkedin/expire-token", json!({"access_token": token.expose_secret()})).await;
    let e = li.who_am_i(token).await.unwrap_err();
    assert_eq!((e.class, e.status, e.message.as_str()), (ErrorClass::NeedsReauth, Some(401), "Expired access token"));
    let fresh = connect(&h, &li).await;
    h.control("/control/linkedin/revoke-user", json!({"user_id": MEMBER})).await;
    let e = li.delete_post(&fresh.access_token, "urn:li:share:1").await.value.unwrap_err();
    assert_eq!((e.class, e.code.as_deref()), (ErrorClass::NeedsReauth, Some("REVOKED_ACCESS_TOKEN")));

    // A bad code → NeedsReauth; wrong client secret → Permanent.
    let e = li.exchange_code("AQnot-a-code", None, &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status), (ErrorClass::NeedsReauth, Some(401)));
    let mut wrong = settings(&h);
    wrong.client_secret = SecretString::from("wrong");
    let e = LinkedInClient::new(wrong).exchange_code("AQnot-a-code", None, &redirect()).await.unwrap_err();
    assert_eq!((e.class, e.status, e.code.as_deref()), (ErrorClass::Permanent, Some(401), Some("invalid_client")));
}

#[tokio::test]
async fn revoke_is_not_supported() {
    let h = start().await;
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    assert_eq!(li.revoke(&tokens.access_token).await.unwrap(), RevokeOutcome::NotSupported);
    // Nothing was revoked.
    assert!(li.who_am_i(&tokens.access_token).await.is_ok());
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let h = start().await;
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    let shown = format!("{tokens:?}\n{:?}\n{li:?}", li.settings());
    for secret in [tokens.access_token.expose_secret(), tokens.refresh_token.as_ref().unwrap().expose_secret(), CLIENT_SECRET] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("202601"), "{shown}");
}

#[tokio::test]
async fn post_metrics_for_what_the_token_may_read_and_share_statistics_only_for_admins() {
    use crier_clients::PostMetricsRead;

    let h = start().await;
    let li = client(&h);
    let tokens = connect(&h, &li).await;
    let org_post = li.publish(&tokens.access_token, &post(LinkedInAuthor::Organization(ORG.into()), "From the org")).await.value.unwrap();
    let member_post = li.publish(&tokens.access_token, &post(LinkedInAuthor::Member(MEMBER.into()), "Mine")).await.value.unwrap();
    h.clock.advance(Duration::from_secs(24 * 3600));
    let expected = crier_sandbox::engagement(&org_post.external_id, TimeDelta::days(1));

    let read = li.post_metrics(&tokens.access_token, &org_post.external_id).await.value.unwrap();
    let PostMetricsRead::Read(figures) = read else { panic!("{read:?}") };
    assert_eq!((figures.likes, figures.replies, figures.impressions), (Some(expected.likes), Some(expected.replies), None));
    // Crier asks for no r_member_social (LinkedIn grants it to few apps): a member's post is not
    // readable, and says so.
    assert_eq!(li.post_metrics(&tokens.access_token, &member_post.external_id).await.value.unwrap(), PostMetricsRead::NotAllowed);
    assert_eq!(li.post_metrics(&tokens.access_token, "urn:li:share:1").await.value.unwrap(), PostMetricsRead::Gone);
    // Nor rw_organization_admin: share statistics are refused, per post.
    let stats = li.share_statistics(&tokens.access_token, ORG, &[org_post.external_id.as_str()]).await.value.unwrap();
    assert_eq!(stats, [(org_post.external_id.clone(), PostMetricsRead::NotAllowed)]);
}
