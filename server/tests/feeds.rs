//! RSS and Atom feeds against a local web server that honours If-None-Match and
//! If-Modified-Since: a second poll is conditional and answered 304 with no posts; an item
//! repeated (in one answer, and across polls) is posted once; a broken feed records its error,
//! backs off and recovers; drafts, queued posts and posts published now; an item too long for X
//! is skipped with the reason; bad input and private addresses are refused on save; another team
//! neither sees nor removes nor checks the feed.
//!
//! Polls are driven by the test (`Poller::poll_due` with a clock it chooses, or the page's
//! "Check now"); the app's own poller only looks once a day here.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use crier::config::{WebArgs, WebConfig};
use crier_outbound::AddressPolicy;
use crier_publisher::feeds::{FeedsConfig, Poller};
use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, connect_x_account, error_of, field_errors, location};

const INTERVAL: Duration = Duration::from_secs(15 * 60);

/// What the local feed server answers, and what it was asked.
#[derive(Default)]
struct Served {
    status: u16,
    body: String,
    content_type: &'static str,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Each request's (If-None-Match, If-Modified-Since).
    asked: Vec<(Option<String>, Option<String>)>,
    /// How many answers were 304.
    not_modified: usize,
}

type Shared = Arc<Mutex<Served>>;

async fn serve_feed(State(served): State<Shared>, headers: HeaderMap) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut s = served.lock().unwrap();
    let (if_none_match, if_modified_since) = (header("if-none-match"), header("if-modified-since"));
    s.asked.push((if_none_match.clone(), if_modified_since.clone()));
    if s.status != 200 {
        return (AxumStatus::from_u16(s.status).unwrap(), "broken").into_response();
    }
    let fresh = match (&if_none_match, &s.etag) {
        (Some(asked), Some(etag)) => asked != etag,
        _ => !(if_modified_since.is_some() && if_modified_since == s.last_modified),
    };
    if !fresh {
        s.not_modified += 1;
        return AxumStatus::NOT_MODIFIED.into_response();
    }
    let mut response = ([("content-type", s.content_type)], s.body.clone()).into_response();
    if let Some(etag) = &s.etag {
        response.headers_mut().insert("etag", etag.parse().unwrap());
    }
    if let Some(modified) = &s.last_modified {
        response.headers_mut().insert("last-modified", modified.parse().unwrap());
    }
    response
}

/// A feed server on this machine: answers `/feed` from `served`.
async fn feed_server(served: Shared) -> String {
    let router = axum::Router::new().route("/feed", axum::routing::get(serve_feed)).with_state(served);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("{base}/feed")
}

fn rss(items: &[(&str, &str, DateTime<Utc>)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, date)| {
            format!(
                "<item><title>{title}</title><link>https://blog.example.com/{guid}</link><guid isPermaLink=\"false\">{guid}</guid>\
                 <description>&lt;p&gt;About {title}&lt;/p&gt;</description><pubDate>{}</pubDate></item>",
                date.to_rfc2822()
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>The Example Blog</title><link>https://blog.example.com</link>{items}</channel></rss>"
    )
}

fn atom(entries: &[(&str, &str, DateTime<Utc>)]) -> String {
    let entries: String = entries
        .iter()
        .map(|(id, title, date)| {
            format!(
                "<entry><title>{title}</title><id>urn:example:{id}</id><link rel=\"alternate\" href=\"https://news.example.com/{id}\"/>\
                 <updated>{}</updated><summary>Summary of {title}</summary></entry>",
                date.to_rfc3339()
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Example News</title><id>urn:example</id>\
         <updated>2026-12-14T10:00:00Z</updated>{entries}</feed>"
    )
}

fn loopback() -> AddressPolicy {
    AddressPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()])
}

/// The app, fetching plain http:// (and loopback when `allow_loopback`), its own poller idle.
async fn app(allow_loopback: bool) -> TestApp {
    let mut web = WebConfig::parse(&WebArgs { addr: "127.0.0.1:0".into(), ..WebArgs::default() }).unwrap();
    web.webhooks_allow_http = true;
    web.feeds.tick = Duration::from_secs(86_400);
    if allow_loopback {
        web.outbound = loopback();
    }
    TestApp::spawn_configured(web).await
}

/// The test's own poller on the app's database, with the app's rules.
fn poller(app: &TestApp) -> Poller {
    Poller::new(
        app.pool.clone(),
        FeedsConfig {
            min_interval: INTERVAL,
            tick: Duration::from_secs(86_400),
            allow_http: true,
            outbound: loopback(),
            ..Default::default()
        },
    )
    .unwrap()
}

async fn add_feed(browser: &Browser, url: &str, accounts: &[&str], template: &str, mode: &str) -> reqwest::Response {
    let mut form = vec![("url", url), ("template", template), ("mode", mode)];
    form.extend(accounts.iter().map(|a| ("accounts[]", *a)));
    browser.call("settings/feeds/add", &form).await
}

async fn feed_id(app: &TestApp, url: &str) -> String {
    sqlx::query_scalar("select feed_id::text from feed where url = $1").bind(url).fetch_one(&app.pool).await.unwrap()
}

async fn items(app: &TestApp, feed_id: &str) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as("select item_key, state, reason from feed_item where feed_id = $1::uuid order by item_key")
        .bind(feed_id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &'static str, feed_id: &str) -> i64 {
    sqlx::query_scalar(sql).bind(feed_id).fetch_one(&app.pool).await.unwrap()
}

const POSTS_OF: &str = "select count(*) from post p join feed_item i on i.post_id = p.post_id where i.feed_id = $1::uuid";

#[tokio::test]
async fn an_rss_feed_is_polled_conditionally_and_each_item_is_taken_once() {
    let app = app(true).await;
    let owner = app.owner("Feeders", "owner@feeds.test").await;
    let x = connect_x_account(&app, &owner).await;
    let served: Shared = Arc::new(Mutex::new(Served { status: 200, content_type: "application/rss+xml", ..Default::default() }));
    let url = feed_server(served.clone()).await;

    let added = add_feed(&owner, &url, &[&x], "New on the blog: {title} {link}", "draft").await;
    assert!(added.status().is_success(), "{}", added.text().await.unwrap());
    let feed = feed_id(&app, &url).await;
    let now = Utc::now();
    let later = now + chrono::Duration::minutes(1);
    {
        let mut s = served.lock().unwrap();
        // One item from before the feed was added, one after (RSS dates are to the second).
        s.body = rss(&[("b", "Feeds are here", later), ("a", "An old post", now - chrono::Duration::days(30))]);
        s.etag = Some("\"v1\"".into());
        s.last_modified = Some("Mon, 14 Dec 2026 10:00:00 GMT".into());
    }

    // Two processes' pollers at once: one claims the feed, the other skips it.
    let (poller, rival) = (poller(&app), poller(&app));
    let (mine, theirs) = tokio::join!(poller.poll_due(now), rival.poll_due(now));
    let first: Vec<_> = mine.unwrap().into_iter().chain(theirs.unwrap()).collect();
    assert_eq!(first.len(), 1, "one poll of the feed: {first:?}");
    assert_eq!(served.lock().unwrap().asked.len(), 1);
    assert_eq!((first[0].made, first[0].skipped, first[0].error.as_deref()), (1, 0, None));
    assert_eq!(served.lock().unwrap().asked[0], (None, None), "the first poll has nothing to send back");
    let seen = items(&app, &feed).await;
    assert_eq!(seen.iter().map(|(k, s, _)| (k.as_str(), s.as_str())).collect::<Vec<_>>(), [("id:a", "existing"), ("id:b", "drafted")]);
    let text: String = sqlx::query_scalar("select p.text from post p join feed_item i on i.post_id = p.post_id where i.feed_id = $1::uuid")
        .bind(&feed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(text, "New on the blog: Feeds are here https://blog.example.com/b");
    let state: String =
        sqlx::query_scalar("select p.state::text from post p join feed_item i on i.post_id = p.post_id where i.feed_id = $1::uuid")
            .bind(&feed)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(state, "draft");

    // Not due again before the interval; then a conditional GET, answered 304: nothing made.
    assert!(poller.poll_due(now + chrono::Duration::minutes(10)).await.unwrap().is_empty(), "at most once per interval");
    let second = poller.poll_due(now + chrono::Duration::minutes(16)).await.unwrap();
    assert!(second[0].not_modified && second[0].made == 0, "{second:?}");
    {
        let s = served.lock().unwrap();
        assert_eq!(s.asked[1], (Some("\"v1\"".into()), Some("Mon, 14 Dec 2026 10:00:00 GMT".into())), "the validators went back");
        assert_eq!(s.not_modified, 1);
    }
    assert_eq!(count(&app, POSTS_OF, &feed).await, 1);

    // The feed changes: a new item, the earlier one repeated (twice in the answer): one post more.
    {
        let mut s = served.lock().unwrap();
        s.body = rss(&[("c", "Queues, too", later), ("b", "Feeds are here", later), ("b", "Feeds are here (again)", later)]);
        s.etag = Some("\"v2\"".into());
    }
    let third = poller.poll_due(now + chrono::Duration::minutes(32)).await.unwrap();
    assert_eq!((third[0].made, third[0].not_modified), (1, false), "{third:?}");
    assert_eq!(count(&app, POSTS_OF, &feed).await, 2);

    // "Check now" on the page reads it again (due or not): the same items make nothing.
    served.lock().unwrap().etag = Some("\"v3\"".into());
    let checked: Value = owner.call("settings/feeds/check", &[("feed_id", &feed)]).await.json().await.unwrap();
    assert_eq!(checked, "Checked: no new items.");
    assert_eq!(count(&app, POSTS_OF, &feed).await, 2, "a GUID is taken once, across polls");

    // The page shows the feed, its last poll and the drafts it made.
    let page = owner.page("/settings/feeds").await;
    assert!(page.contains("The Example Blog") && page.contains("No new items.") && page.contains("Queues, too"), "{page}");
    assert!(page.contains("/compose?draft="), "links to the drafts: {page}");
    let audit: i64 = sqlx::query_scalar("select count(*) from audit_event where action = 'feed_created' and entity_id = $1")
        .bind(&feed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audit, 1);
}

#[tokio::test]
async fn atom_items_go_to_the_queue_or_out_at_once_and_what_cannot_go_is_skipped() {
    let app = app(true).await;
    let owner = app.owner("Atomics", "owner@atom.test").await;
    let x = connect_x_account(&app, &owner).await;
    let mut form: Vec<(String, String)> = vec![("account_id".into(), x.clone()), ("timezone".into(), "UTC".into())];
    form.extend((1..=7).map(|d| (format!("times_{d}"), "09:00, 17:00".to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(owner.call("queue/schedule", &form).await.status().is_success());

    let queued: Shared = Arc::new(Mutex::new(Served { status: 200, content_type: "application/atom+xml", ..Default::default() }));
    let now_served: Shared = Arc::new(Mutex::new(Served { status: 200, content_type: "application/atom+xml", ..Default::default() }));
    let (queue_url, now_url) = (feed_server(queued.clone()).await, feed_server(now_served.clone()).await);
    assert!(add_feed(&owner, &queue_url, &[&x], "{title} {link}", "queue").await.status().is_success());
    assert!(add_feed(&owner, &now_url, &[&x], "{title}\n\n{summary}\n\n{link}", "publish").await.status().is_success());
    let (queue_feed, now_feed) = (feed_id(&app, &queue_url).await, feed_id(&app, &now_url).await);
    let now = Utc::now();
    let long_title = "Too long for X ".repeat(25);
    queued.lock().unwrap().body = atom(&[("q1", "Queued one", now)]);
    now_served.lock().unwrap().body = atom(&[("n1", "Out now", now), ("n2", long_title.trim(), now)]);

    let reports = poller(&app).poll_due(now).await.unwrap();
    assert_eq!(reports.len(), 2);

    // The queue: the delivery takes the account's next free time.
    let slot: Option<DateTime<Utc>> =
        sqlx::query_scalar("select d.queue_slot from delivery d join feed_item i on i.post_id = d.post_id where i.feed_id = $1::uuid")
            .bind(&queue_feed)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(slot.is_some_and(|s| s > now), "queued at a slot: {slot:?}");

    // At once: scheduled for now; the item too long for X is skipped with the reason, not retried.
    let due: DateTime<Utc> =
        sqlx::query_scalar("select d.next_attempt_at from delivery d join feed_item i on i.post_id = d.post_id where i.feed_id = $1::uuid")
            .bind(&now_feed)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(due <= Utc::now(), "published now");
    let text: String = sqlx::query_scalar("select p.text from post p join feed_item i on i.post_id = p.post_id where i.feed_id = $1::uuid")
        .bind(&now_feed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(text, "Out now\n\nSummary of Out now\n\nhttps://news.example.com/n1");
    let seen = items(&app, &now_feed).await;
    assert_eq!(seen[0].1, "posted");
    assert_eq!(seen[1].1, "skipped");
    assert!(seen[1].2.as_deref().unwrap().contains("X allows 280"), "{seen:?}");
    let page = owner.page("/settings/feeds").await;
    assert!(page.contains("Skipped: ") && page.contains("X allows 280"), "the page says why");
    let again = poller(&app).poll_due(now + chrono::Duration::minutes(16)).await.unwrap();
    assert!(again.iter().all(|r| r.made == 0 && r.skipped == 0), "a skipped item is not retried: {again:?}");
}

#[tokio::test]
async fn a_broken_feed_records_its_error_backs_off_and_recovers() {
    let app = app(true).await;
    let owner = app.owner("Breakers", "owner@broken.test").await;
    let x = connect_x_account(&app, &owner).await;
    let served: Shared = Arc::new(Mutex::new(Served { status: 500, content_type: "application/rss+xml", ..Default::default() }));
    let url = feed_server(served.clone()).await;
    assert!(add_feed(&owner, &url, &[&x], "{title} {link}", "draft").await.status().is_success());
    let feed = feed_id(&app, &url).await;
    let poller = poller(&app);
    let now = Utc::now();
    let state = || async {
        sqlx::query_as::<_, (Option<String>, i32, DateTime<Utc>)>(
            "select last_error, error_count, next_poll_at from feed where feed_id = $1::uuid",
        )
        .bind(&feed)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };

    let failed = poller.poll_due(now).await.unwrap();
    assert!(failed[0].error.as_deref().unwrap().contains("HTTP 500"), "{failed:?}");
    let (error, errors, next) = state().await;
    assert!(error.unwrap().contains("The feed answered HTTP 500"));
    assert_eq!(errors, 1);
    assert!((next - now - chrono::Duration::minutes(30)).num_seconds().abs() <= 1, "backed off to twice the interval: {next}");
    let page = owner.page("/settings/feeds").await;
    assert!(page.contains("Last error: ") && page.contains("HTTP 500"), "the page shows the error");

    // Not a feed at all: still an error, in words, and a longer wait.
    {
        let mut s = served.lock().unwrap();
        s.status = 200;
        s.body = "<html><body>Not a feed</body></html>".into();
    }
    assert!(poller.poll_due(now + chrono::Duration::minutes(20)).await.unwrap().is_empty(), "not before the backoff");
    poller.poll_due(now + chrono::Duration::minutes(31)).await.unwrap();
    let (error, errors, next) = state().await;
    assert!(error.unwrap().contains("does not serve an RSS or Atom feed"));
    assert_eq!(errors, 2);
    assert!(next >= now + chrono::Duration::minutes(31 + 59), "{next}");

    // A good poll clears it.
    served.lock().unwrap().body = rss(&[("a", "Back again", Utc::now() + chrono::Duration::minutes(1))]);
    let good = poller.poll_due(now + chrono::Duration::minutes(120)).await.unwrap();
    assert_eq!((good[0].made, good[0].error.as_deref()), (1, None));
    let (error, errors, _) = state().await;
    assert_eq!((error, errors), (None, 0));
}

#[tokio::test]
async fn bad_input_and_private_addresses_are_refused_and_other_teams_see_nothing() {
    // Loopback is not allowed here: the rules every URL a team gives is under.
    let app = app(false).await;
    let owner = app.owner("Guards", "owner@guards.test").await;
    let x = connect_x_account(&app, &owner).await;

    let private = field_errors(&error_of(add_feed(&owner, "http://127.0.0.1:9/feed", &[&x], "{title}", "draft").await).await);
    assert!(private["url"].contains("127.0.0.1 is") && private["url"].contains("CRIER_OUTBOUND_ALLOW_NETWORKS"), "{private:?}");
    let metadata = field_errors(&error_of(add_feed(&owner, "http://169.254.169.254/latest", &[&x], "{title}", "draft").await).await);
    assert!(metadata.contains_key("url"));
    let unknown = uuid::Uuid::new_v4().to_string();
    let bad = field_errors(&error_of(add_feed(&owner, "not a url", &[&unknown], "", "draft").await).await);
    assert!(bad["url"].contains("not a web address") && bad["template"].contains("Write the post's text"), "{bad:?}");
    let long = format!("{{title}} {}", "x".repeat(1000));
    let too_long = field_errors(&error_of(add_feed(&owner, "https://example.com/feed", &[&x], &long, "draft").await).await);
    assert!(too_long["template"].contains("shorten it to 1000"), "{too_long:?}");
    let stranger = field_errors(&error_of(add_feed(&owner, "https://example.com/feed", &[&unknown], "{title}", "draft").await).await);
    assert!(stranger["accounts"].contains("not the team's"), "{stranger:?}");
    let none: i64 = sqlx::query_scalar("select count(*) from feed").fetch_one(&app.pool).await.unwrap();
    assert_eq!(none, 0, "nothing refused was kept");

    // Without JavaScript: the refused form comes back with what was typed.
    let plain = owner
        .post_plain(
            "settings/feeds/add",
            &[("url", "https://example.com/typed.xml"), ("template", "{titel}"), ("mode", "queue"), ("accounts[]", &x)],
            "/settings/feeds",
        )
        .await;
    assert!(plain.status().is_redirection(), "{}", plain.status());
    let back = location(&plain).unwrap();
    let page = owner.page(back.strip_prefix(&app.base).unwrap_or(&back)).await;
    assert!(page.contains("{titel} is not a placeholder") && page.contains("value=\"https://example.com/typed.xml\""), "{page}");

    // A name that resolves to a public address later is fine to save; the owner's feed exists.
    assert!(add_feed(&owner, "https://feeds.example.com/rss", &[&x], "{title} {link}", "draft").await.status().is_success());
    let feed = feed_id(&app, "https://feeds.example.com/rss").await;
    let again = field_errors(&error_of(add_feed(&owner, "https://feeds.example.com/rss", &[&x], "{title}", "draft").await).await);
    assert!(again["url"].contains("already follows"), "{again:?}");

    // Another team: not on its page, and neither removed nor checked by its id.
    let other = app.owner("Others", "owner@others.test").await;
    let view: Value = other.call("settings/feeds", &[]).await.json().await.unwrap();
    assert_eq!(view["feeds"].as_array().unwrap().len(), 0);
    let removed = other.call("settings/feeds/remove", &[("feed_id", &feed)]).await;
    assert_eq!(error_of(removed).await, "NotFound");
    let checked = other.call("settings/feeds/check", &[("feed_id", &feed)]).await;
    assert_eq!(error_of(checked).await, "NotFound");
    assert_eq!(feed_id(&app, "https://feeds.example.com/rss").await, feed, "still there");

    // The owner removes it; audited.
    let removed = owner.call("settings/feeds/remove", &[("feed_id", &feed)]).await;
    assert_eq!(removed.status(), StatusCode::OK);
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_event where action in ('feed_created', 'feed_deleted')")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

/// A team API token of `role`, made by `browser`'s member.
async fn token(browser: &Browser, role: &str) -> String {
    let created: Value = browser.call("api_tokens/create", &[("name", "feeds"), ("role", role)]).await.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_rest_api_lists_adds_and_removes_feeds_within_the_team() {
    let app = app(false).await;
    let owner = app.owner("Api Feeds", "owner@apifeeds.test").await;
    let x = connect_x_account(&app, &owner).await;
    let admin = token(&owner, "admin").await;
    let editor = token(&owner, "editor").await;
    let http = reqwest::Client::new();
    let feeds_url = format!("{}/api/v1/feeds", app.base);
    let body =
        serde_json::json!({ "url": "https://feeds.example.org/atom", "account_ids": [x], "template": "{title} {link}", "mode": "queue" });
    let by_editor = http.post(&feeds_url).bearer_auth(&editor).json(&body).send().await.unwrap();
    assert_eq!(by_editor.status(), StatusCode::FORBIDDEN, "feeds are an admin's");

    let refused = http
        .post(&feeds_url)
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "url": "https://10.0.0.1/feed", "account_ids": [], "template": "{title}", "mode": "later" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["account_ids", "mode"], "{problem}");
    let private = http
        .post(&feeds_url)
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "url": "https://10.0.0.1/feed", "account_ids": [x], "template": "{title}", "mode": "draft" }))
        .send()
        .await
        .unwrap();
    let problem: Value = private.json().await.unwrap();
    assert!(problem["errors"][0]["detail"].as_str().unwrap().contains("10.0.0.1 is"), "{problem}");

    let created = http.post(&feeds_url).bearer_auth(&admin).json(&body).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = location(&created).unwrap();
    let feed: Value = created.json().await.unwrap();
    assert_eq!((feed["mode"].as_str(), feed["account_ids"][0].as_str()), (Some("queue"), Some(x.as_str())));
    assert_eq!(location, format!("/api/v1/feeds/{}", feed["id"].as_str().unwrap()));
    let listed: Value = http.get(&feeds_url).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Another team's token: 404 for the feed, whatever it asks.
    let other = app.owner("Api Others", "owner@apiothers.test").await;
    let stranger = token(&other, "admin").await;
    let one = format!("{}{location}", app.base);
    assert_eq!(http.get(&one).bearer_auth(&stranger).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(http.delete(&one).bearer_auth(&stranger).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let theirs: Value = http.get(&feeds_url).bearer_auth(&stranger).send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs.as_array().unwrap().len(), 0);

    assert_eq!(http.delete(&one).bearer_auth(&admin).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(http.get(&one).bearer_auth(&admin).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
