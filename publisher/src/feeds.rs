//! The feed poller: reads the RSS and Atom feeds teams follow and turns their new items into
//! posts (`crier_domain::store::feeds`). It runs in every web process beside the notifier.
//!
//! - **Politely.** Each feed is polled at most once per [`FeedsConfig::min_interval`], with the
//!   ETag and Last-Modified it last answered (`If-None-Match`, `If-Modified-Since`), so an
//!   unchanged feed costs a 304. A failing feed waits longer after each failure (up to a day,
//!   and at least what its `Retry-After` asks).
//! - **Safely.** Feeds are fetched through `crier-outbound` under the address rules every URL a
//!   team gives is under (no internal addresses unless the operator allows their network; https
//!   unless `CRIER_WEBHOOKS_ALLOW_HTTP`), within [`FETCH_TIMEOUT`] and [`MAX_FEED_BYTES`], and
//!   parsed by `feed-rs`.
//! - **Once.** Feeds are claimed with a lease (`for update skip locked`), so several processes
//!   never poll one feed at once; an item's key and its post are written together, so an item is
//!   taken once for ever.
//! - **Gently.** A few feeds a claim, one after another, at most
//!   [`crier_domain::feed::MAX_ITEMS_PER_POLL`] new items a poll: polling never crowds out
//!   publishing.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crier_domain::feed::{FeedTemplate, FeedUrl, ItemFacts, MAX_ITEMS_PER_POLL};
use crier_domain::post::MediaRules;
use crier_domain::store::feeds::{self, Claimed, Outcome, Taken};
use crier_domain::{DomainError, FieldError};
use crier_outbound::{AddressPolicy, ClientOptions, OutboundClient, OutboundError};
use reqwest::header::{ACCEPT, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER};
use sqlx::PgPool;
use uuid::Uuid;

/// How often a feed is polled at most, unless configured (`CRIER_FEEDS_MIN_INTERVAL`).
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// How long a feed has to answer, body included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest feed read.
pub const MAX_FEED_BYTES: usize = 2 * 1024 * 1024;
/// How long a claim holds a feed: longer than a poll can take, so a poller that died frees it.
pub const LEASE: Duration = Duration::from_secs(180);
/// Feeds claimed at once.
const BATCH: i64 = 4;
/// Entries read of one feed (the newest first, as feeds list them).
const MAX_ENTRIES: usize = 500;
/// Characters of an entry's title or summary read (HTML included).
const MAX_TEXT_READ: usize = 20_000;

/// How a process polls feeds.
#[derive(Clone, Debug)]
pub struct FeedsConfig {
    /// A feed is polled at most once in this long.
    pub min_interval: Duration,
    /// How often the poller looks for due feeds.
    pub tick: Duration,
    /// Whether plain http:// feeds are fetched (CRIER_WEBHOOKS_ALLOW_HTTP).
    pub allow_http: bool,
    /// Which addresses feeds may have (CRIER_OUTBOUND_ALLOW_NETWORKS).
    pub outbound: AddressPolicy,
    /// Each platform's media rules, which scheduling checks.
    pub rules: MediaRules,
}

impl Default for FeedsConfig {
    /// Every 15 minutes at most, looking each minute, public https feeds only.
    fn default() -> Self {
        FeedsConfig {
            min_interval: DEFAULT_MIN_INTERVAL,
            tick: Duration::from_secs(60),
            allow_http: false,
            outbound: AddressPolicy::strict(),
            rules: MediaRules::default(),
        }
    }
}

/// What one poll of a feed did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollReport {
    /// The feed.
    pub feed_id: Uuid,
    /// Whether it answered 304 Not Modified.
    pub not_modified: bool,
    /// Posts (or drafts) written.
    pub made: usize,
    /// New items that could not be posted.
    pub skipped: usize,
    /// Why the poll failed, in words.
    pub error: Option<String>,
}

/// Polls feeds.
#[derive(Clone, Debug)]
pub struct Poller {
    pool: PgPool,
    http: OutboundClient,
    config: FeedsConfig,
}

impl Poller {
    /// A poller on `pool`.
    pub fn new(pool: PgPool, config: FeedsConfig) -> Result<Self, DomainError> {
        let options =
            ClientOptions { timeout: FETCH_TIMEOUT, max_redirects: 3, max_body: MAX_FEED_BYTES, ..ClientOptions::new("Crier-Feeds") };
        let http = OutboundClient::new(config.outbound.clone(), options)
            .map_err(|e| DomainError::Internal(format!("the feeds' HTTP client cannot be built: {e}")))?;
        Ok(Poller { pool, http, config })
    }

    /// How often a feed is polled at most.
    pub fn min_interval(&self) -> Duration {
        self.config.min_interval
    }

    /// Claims the feeds due at `now` (a few) and polls them one after another.
    pub async fn poll_due(&self, now: DateTime<Utc>) -> Result<Vec<PollReport>, DomainError> {
        let claimed = feeds::claim_due(&self.pool, now, LEASE, BATCH).await?;
        let mut reports = Vec::with_capacity(claimed.len());
        for feed in claimed {
            reports.push(self.poll(&feed, now).await?);
        }
        Ok(reports)
    }

    /// Polls the team's feed now, due or not ("Check now"): `None` while another poll of it is
    /// under way.
    pub async fn check_now(&self, team_id: Uuid, feed_id: Uuid) -> Result<Option<PollReport>, DomainError> {
        let now = Utc::now();
        match feeds::claim_one(&self.pool, team_id, feed_id, now, LEASE).await? {
            Some(feed) => Ok(Some(self.poll(&feed, now).await?)),
            None => Ok(None),
        }
    }

    /// Polls one claimed feed and records the outcome (which ends the claim).
    async fn poll(&self, feed: &Claimed, now: DateTime<Utc>) -> Result<PollReport, DomainError> {
        let mut report = PollReport { feed_id: feed.feed_id, not_modified: false, made: 0, skipped: 0, error: None };
        let outcome = match self.read(feed, now, &mut report).await {
            Ok(outcome) => outcome,
            Err(Failure::Feed { error, retry_after }) => Outcome::Failed { error, retry_after },
            Err(Failure::Crier(e)) => {
                tracing::error!(feed_id = %feed.feed_id, error = %e, "a feed's items could not be recorded");
                Outcome::Failed {
                    error: "Crier could not record the feed's items (an internal error); it tries again later.".into(),
                    retry_after: None,
                }
            }
        };
        match &outcome {
            Outcome::NotModified => report.not_modified = true,
            Outcome::Failed { error, .. } => report.error = Some(error.clone()),
            Outcome::Read { .. } => {}
        }
        feeds::finish(&self.pool, feed, now, self.config.min_interval, &outcome).await?;
        tracing::info!(feed_id = %feed.feed_id, team_id = %feed.team_id, made = report.made, skipped = report.skipped,
            not_modified = report.not_modified, failed = report.error.is_some(), "feed polled");
        Ok(report)
    }

    /// Fetches the feed and takes its new items.
    async fn read(&self, feed: &Claimed, now: DateTime<Utc>, report: &mut PollReport) -> Result<Outcome, Failure> {
        let template =
            FeedTemplate::parse(&feed.template).map_err(|e| Failure::words(format!("The template cannot be used: {}", e.message)))?;
        let url = FeedUrl::parse(&feed.url, self.config.allow_http).map_err(|e| Failure::words(e.message))?;
        let Some(fetched) = self.fetch(feed, url.as_str()).await? else {
            return Ok(Outcome::NotModified);
        };
        let validators = (fetched.etag, fetched.last_modified);
        // Parsing and reading HTML is CPU work (a 2 MB feed): off the tasks that publish.
        let base = url.as_str().to_owned();
        let ReadFeed { title, keyed } = tokio::task::spawn_blocking(move || read_feed(&fetched.body, &base))
            .await
            .map_err(|e| Failure::Crier(DomainError::Internal(format!("reading a feed failed: {e}"))))?
            .map_err(Failure::words)?;
        let keys: Vec<String> = keyed.iter().map(|(k, _)| k.clone()).collect();
        let unseen = feeds::unseen(&self.pool, feed.feed_id, &keys).await.map_err(Failure::Crier)?;
        let (mut new, existing): (Vec<_>, Vec<_>) = keyed
            .into_iter()
            .filter(|(k, _)| unseen.contains(k))
            .enumerate()
            .partition(|(_, (_, item))| item.is_new(!feed.primed, feed.created_at));
        let existing: Vec<(String, ItemFacts)> = existing.into_iter().map(|(_, kf)| kf).collect();
        feeds::remember_existing(&self.pool, feed.feed_id, &existing).await.map_err(Failure::Crier)?;

        // Oldest first, so the posts follow the feed's order: by date, then the feed's order
        // (newest first) reversed.
        new.sort_by_key(|(index, (_, item))| (item.date.unwrap_or(DateTime::<Utc>::MIN_UTC), std::cmp::Reverse(*index)));
        let waiting = new.len().saturating_sub(MAX_ITEMS_PER_POLL);
        for (_, (key, item)) in new.into_iter().take(MAX_ITEMS_PER_POLL) {
            match feeds::take_item(&self.pool, feed, &template, &key, &item, now, &self.config.rules).await.map_err(Failure::Crier)? {
                Taken::Posted(_) | Taken::Drafted(_) => report.made += 1,
                Taken::Skipped(_) => report.skipped += 1,
                Taken::AlreadySeen => {}
            }
        }
        let words = describe(feed.primed, existing.len(), report.made, report.skipped, waiting);
        // While items wait, the next poll must read the feed in full: no validators.
        let (etag, last_modified) = if waiting > 0 { (None, None) } else { validators };
        Ok(Outcome::Read { title, etag, last_modified, words })
    }

    /// GETs the feed with its validators: `None` when it answers 304 Not Modified.
    async fn fetch(&self, feed: &Claimed, url: &str) -> Result<Option<Fetched>, Failure> {
        let mut request = self.http.request(reqwest::Method::GET, url).map_err(Failure::outbound)?.header(
            ACCEPT,
            "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        );
        if let Some(etag) = &feed.etag {
            request = request.header(IF_NONE_MATCH, etag.as_str());
        }
        if let Some(modified) = &feed.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified.as_str());
        }
        let response = self.http.send(request).await.map_err(Failure::outbound)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let hint = match status.as_u16() {
                404 | 410 => ": check the address (the feed may have moved)",
                401 | 403 => ": the feed is not public",
                429 => ": the site asks Crier to poll less often",
                500..=599 => ": the site has a problem; Crier tries again later",
                _ => "",
            };
            return Err(Failure::Feed { error: format!("The feed answered HTTP {}{hint}.", status.as_u16()), retry_after });
        }
        let header = |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_owned);
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        let body = self.http.read_body(response).await.map_err(Failure::outbound)?;
        Ok(Some(Fetched { body, etag, last_modified }))
    }
}

/// Refuses a new feed's address when it is, or now resolves to, an address `policy` refuses, so
/// the form says at once why it will not be fetched. A name that does not resolve now is
/// accepted: every fetch is checked again.
pub async fn check_address(policy: &AddressPolicy, url: &FeedUrl) -> Result<(), FieldError> {
    const RESOLVE_WITHIN: Duration = Duration::from_secs(5);
    match crier_outbound::check_url(policy, url.as_str(), RESOLVE_WITHIN).await {
        Err(refused @ OutboundError::Refused { .. }) => Err(FieldError::new("url", refused.to_string())),
        Err(other) => {
            tracing::info!(error = %other, "a new feed's host does not resolve now; accepted");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// A full answer.
struct Fetched {
    body: Vec<u8>,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// Why a poll failed.
enum Failure {
    /// The feed's fault (or the network's): recorded on the feed, in words.
    Feed { error: String, retry_after: Option<Duration> },
    /// Crier's (the database): logged; the feed says only that it will be tried again.
    Crier(DomainError),
}

impl Failure {
    fn words(error: String) -> Self {
        Failure::Feed { error, retry_after: None }
    }

    fn outbound(e: OutboundError) -> Self {
        let words = match &e {
            OutboundError::Refused { .. } => format!("Not fetched: {e}"),
            OutboundError::Timeout(limit) => format!("The feed did not answer within {} seconds.", limit.as_secs()),
            OutboundError::TooLarge { .. } => format!("The feed is larger than {} MB.", MAX_FEED_BYTES / (1024 * 1024)),
            other => format!("The feed could not be fetched: {other}."),
        };
        Failure::words(words)
    }
}

/// What a poll did, in words for the feed's page.
fn describe(primed: bool, existing: usize, made: usize, skipped: usize, waiting: usize) -> String {
    let plural = |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let mut parts = Vec::new();
    if !primed {
        parts.push(format!("First read: {} already in the feed left alone", plural(existing, "item", "items")));
    }
    if made == 0 && skipped == 0 {
        parts.push("no new items".to_owned());
    }
    if made > 0 {
        parts.push(plural(made, "post made", "posts made"));
    }
    if skipped > 0 {
        parts.push(format!("{} (see why below)", plural(skipped, "item skipped", "items skipped")));
    }
    if waiting > 0 {
        parts.push(format!("{waiting} more wait for the next poll"));
    }
    let mut words = parts.join("; ");
    if let Some(first) = words.get(..1) {
        words = format!("{}{}.", first.to_uppercase(), &words[1..]);
    }
    words
}

/// The feed's title and its entries (the first [`MAX_ENTRIES`], newest first as feeds list
/// them), each with its key; an entry listed twice counts once. `Err`: why it is not a feed.
fn read_feed(body: &[u8], base: &str) -> Result<ReadFeed, String> {
    let parsed = feed_rs::parser::Builder::new()
        // No made-up ids: an item without one is keyed by its link or title (`ItemFacts::key`).
        .id_generator(|_, _, _| String::new())
        .base_uri(Some(base))
        .build()
        .parse(body)
        .map_err(|e| format!("The address does not serve an RSS or Atom feed Crier can read ({e})."))?;
    let title = parsed.title.as_ref().map(plain).filter(|t| !t.is_empty());
    let mut keyed = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for entry in parsed.entries.iter().take(MAX_ENTRIES) {
        let facts = facts(entry);
        if let Some(key) = facts.key()
            && listed.insert(key.clone())
        {
            keyed.push((key, facts));
        }
    }
    Ok(ReadFeed { title, keyed })
}

/// A feed as [`read_feed`] read it.
struct ReadFeed {
    /// Its own title.
    title: Option<String>,
    /// Its entries, each with its key.
    keyed: Vec<(String, ItemFacts)>,
}

/// An entry as Crier reads it.
fn facts(entry: &feed_rs::model::Entry) -> ItemFacts {
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| entry.links.first())
        .map(|l| l.href.trim().to_owned())
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"));
    ItemFacts {
        id: Some(entry.id.trim().to_owned()).filter(|id| !id.is_empty()),
        title: entry.title.as_ref().map(plain).filter(|t| !t.is_empty()),
        link,
        summary: entry.summary.as_ref().map(plain).filter(|s| !s.is_empty()),
        date: entry.published.or(entry.updated),
    }
}

/// A feed text as plain text: HTML read as a person would.
fn plain(text: &feed_rs::model::Text) -> String {
    // A summary is cut to a few hundred characters: reading more of it is wasted work.
    let content = match text.content.char_indices().nth(MAX_TEXT_READ) {
        Some((end, _)) => &text.content[..end],
        None => text.content.as_str(),
    }
    .trim();
    if text.content_type.to_string().contains("html") {
        html2text::from_read_with_decorator(content.as_bytes(), 10_000, html2text::render::TrivialDecorator::new())
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| content.to_owned())
    } else {
        content.to_owned()
    }
}

/// Polls due feeds until `shutdown` completes: a claim every [`FeedsConfig::tick`], the first a
/// tick after start (at once again while claims come back full).
pub async fn run(poller: Arc<Poller>, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    tracing::info!(min_interval_secs = poller.config.min_interval.as_secs(), "feed poller started");
    let mut busy = false;
    loop {
        if !busy {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(poller.config.tick) => {}
            }
        }
        busy = tokio::select! {
            _ = &mut shutdown => break,
            polled = poller.poll_due(Utc::now()) => match polled {
                Ok(reports) => reports.len() as i64 == BATCH,
                Err(e) => {
                    tracing::error!(error = %e, "feeds could not be polled");
                    false
                }
            },
        };
    }
    tracing::info!("feed poller stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom_entries_are_read_alike() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
            <item><title>One &amp; two</title><link>https://e.com/1</link><guid>g-1</guid>
              <description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description><pubDate>Mon, 14 Dec 2026 10:00:00 GMT</pubDate></item>
            <item><title>No guid</title><link>https://e.com/2</link></item>
            </channel></rss>"#;
        let feed = feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build().parse(rss.as_bytes()).unwrap();
        let items: Vec<ItemFacts> = feed.entries.iter().map(facts).collect();
        assert_eq!(items[0].title.as_deref(), Some("One & two"));
        assert_eq!(items[0].summary.as_deref(), Some("Hello world"));
        assert_eq!(items[0].key().as_deref(), Some("id:g-1"));
        assert!(items[0].date.is_some());
        assert_eq!(items[1].key().as_deref(), Some("link:https://e.com/2"), "no made-up id");

        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2026-12-14T10:00:00Z</updated>
            <entry><title type="html">&lt;em&gt;Hi&lt;/em&gt;</title><id>urn:a:1</id><link rel="alternate" href="https://e.com/a1"/>
            <updated>2026-12-14T10:00:00Z</updated><summary>Short</summary></entry></feed>"#;
        let feed = feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build().parse(atom.as_bytes()).unwrap();
        let item = facts(&feed.entries[0]);
        assert_eq!(
            (item.title.as_deref(), item.link.as_deref(), item.key().as_deref()),
            (Some("Hi"), Some("https://e.com/a1"), Some("id:urn:a:1"))
        );
    }

    #[test]
    fn polls_are_described_in_words() {
        assert_eq!(describe(false, 12, 1, 0, 0), "First read: 12 items already in the feed left alone; 1 post made.");
        assert_eq!(describe(true, 0, 0, 0, 0), "No new items.");
        assert_eq!(describe(true, 0, 2, 1, 4), "2 posts made; 1 item skipped (see why below); 4 more wait for the next poll.");
    }
}
