//! RSS and Atom feeds a team follows, as values: what a team types when it adds one (parsed into
//! a [`NewFeed`] or refused field by field), the template a post is written from, which key an
//! item is remembered by, whether an item is new, and when a feed is polled next.
//!
//! Fetching and parsing the feed itself is the poller's (`crier_publisher::feeds`); the store is
//! [`crate::store::feeds`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::FieldError;

/// The longest template, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 1000;
/// The longest feed address.
pub const MAX_URL_LEN: usize = 2048;
/// The most feeds a team follows.
pub const MAX_FEEDS_PER_TEAM: i64 = 20;
/// The most accounts one feed posts to.
pub const MAX_ACCOUNTS: usize = 20;
/// The most new items one poll takes; the rest wait for the next poll, so a feed that suddenly
/// shows a hundred items cannot flood the accounts or hold the poller.
pub const MAX_ITEMS_PER_POLL: usize = 10;
/// `{summary}` is cut to this many characters (at a word, with "…").
pub const MAX_SUMMARY_CHARS: usize = 280;
/// The longest item key kept as it is; a longer GUID is kept as its SHA-256.
pub const MAX_KEY_CHARS: usize = 500;
/// The longest wait between polls of a failing feed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// What a new item becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedMode {
    /// A draft, for a person to open, edit and schedule.
    Draft,
    /// A post in each account's queue (its next free posting time).
    Queue,
    /// A post published at once.
    Publish,
}

impl FeedMode {
    /// Every mode, in the order the form offers them.
    pub const ALL: [FeedMode; 3] = [FeedMode::Draft, FeedMode::Queue, FeedMode::Publish];

    /// The stored (and submitted) name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedMode::Draft => "draft",
            FeedMode::Queue => "queue",
            FeedMode::Publish => "publish",
        }
    }

    /// A stored or submitted name.
    pub fn parse(name: &str) -> Option<FeedMode> {
        FeedMode::ALL.into_iter().find(|m| m.as_str() == name.trim())
    }

    /// What it does, in words.
    pub fn label(self) -> &'static str {
        match self {
            FeedMode::Draft => "Save as drafts",
            FeedMode::Queue => "Add to the accounts' queues",
            FeedMode::Publish => "Publish at once",
        }
    }
}

/// A placeholder a template may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placeholder {
    Title,
    Link,
    Summary,
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Placeholder),
}

/// A post's template: text with `{title}`, `{link}` and `{summary}` (`{{` and `}}` write braces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedTemplate {
    source: String,
    pieces: Vec<Piece>,
}

/// The placeholders, as the form names them.
pub const PLACEHOLDERS: &str = "{title}, {link} and {summary}";

impl FeedTemplate {
    /// Parses a template: not empty, at most [`MAX_TEMPLATE_CHARS`], and every `{name}` one of
    /// [`PLACEHOLDERS`].
    pub fn parse(raw: &str) -> Result<FeedTemplate, FieldError> {
        let source = raw.trim().replace("\r\n", "\n");
        if source.is_empty() {
            return Err(FieldError::new("template", format!("Write the post's text, with {PLACEHOLDERS} where the item's go.")));
        }
        let length = source.chars().count();
        if length > MAX_TEMPLATE_CHARS {
            return Err(FieldError::new(
                "template",
                format!("The template is {length} characters long; shorten it to {MAX_TEMPLATE_CHARS} at most."),
            ));
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = source.as_str();
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push(c);
                rest = &rest[2..];
                continue;
            }
            if c == '{'
                && let Some(end) = rest.find('}')
            {
                let name = &rest[1..end];
                if !name.is_empty() && name.len() <= 40 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    let field = match name {
                        "title" => Placeholder::Title,
                        "link" | "url" => Placeholder::Link,
                        "summary" | "description" => Placeholder::Summary,
                        other => {
                            return Err(FieldError::new(
                                "template",
                                format!("{{{other}}} is not a placeholder: use {PLACEHOLDERS} (write {{{{ for a brace)."),
                            ));
                        }
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field(field));
                    rest = &rest[end + 1..];
                    continue;
                }
            }
            text.push(c);
            rest = &rest[c.len_utf8()..];
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Field(_))) {
            return Err(FieldError::new(
                "template",
                format!("The template has no placeholder, so every post would say the same: use {PLACEHOLDERS}."),
            ));
        }
        Ok(FeedTemplate { source, pieces })
    }

    /// The template as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The post's text for `item`: each placeholder replaced (an item without one leaves it
    /// empty), trimmed, without the blank lines an empty placeholder leaves.
    pub fn render(&self, item: &ItemFacts) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Field(Placeholder::Title) => out.push_str(&one_line(item.title.as_deref().unwrap_or_default())),
                Piece::Field(Placeholder::Link) => out.push_str(item.link.as_deref().unwrap_or_default().trim()),
                Piece::Field(Placeholder::Summary) => {
                    out.push_str(&shorten(&one_line(item.summary.as_deref().unwrap_or_default()), MAX_SUMMARY_CHARS))
                }
            }
        }
        let mut lines: Vec<&str> = out.lines().map(str::trim_end).collect();
        lines.dedup_by(|a, b| a.is_empty() && b.is_empty());
        lines.join("\n").trim().to_owned()
    }
}

/// Text on one line, its runs of white space one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` characters, at a word when there is one, ending with "…".
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if space > cut.len() / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([' ', ',', ';', ':', '.']))
}

/// A feed's address: http(s), with a host, at most [`MAX_URL_LEN`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedUrl(String);

impl FeedUrl {
    /// Parses an address a team typed; plain http:// only when `allow_http` (development).
    pub fn parse(raw: &str, allow_http: bool) -> Result<FeedUrl, FieldError> {
        let raw = raw.trim();
        let https_only = if allow_http { "starting with https:// or http://" } else { "starting with https://" };
        if raw.is_empty() {
            return Err(FieldError::new("url", format!("Give the feed's address, {https_only}.")));
        }
        if raw.len() > MAX_URL_LEN {
            return Err(FieldError::new("url", format!("The address is longer than {MAX_URL_LEN} characters.")));
        }
        let url =
            url::Url::parse(raw).map_err(|_| FieldError::new("url", format!("“{raw}” is not a web address: give one {https_only}.")))?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => return Err(FieldError::new("url", "Give an https:// address: Crier fetches feeds over HTTPS only.")),
            _ => return Err(FieldError::new("url", format!("Give a web address {https_only}."))),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(FieldError::new("url", "The address has no host name."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new("url", "Leave the user name and password out of the address."));
        }
        Ok(FeedUrl(url.to_string()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A feed as a team adds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFeed {
    /// Where it is.
    pub url: FeedUrl,
    /// The accounts its posts go to (at least one, distinct).
    pub account_ids: Vec<Uuid>,
    /// The posts' text.
    pub template: FeedTemplate,
    /// What new items become.
    pub mode: FeedMode,
}

impl NewFeed {
    /// Parses the form: every field's problem at once.
    pub fn parse(url: &str, accounts: &[String], template: &str, mode: &str, allow_http: bool) -> Result<NewFeed, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = FeedUrl::parse(url, allow_http).map_err(|e| errors.push(e)).ok();
        let mut account_ids: Vec<Uuid> = Vec::new();
        if accounts.is_empty() {
            errors.push(FieldError::new("accounts", "Choose at least one account for the feed's posts."));
        } else if accounts.len() > MAX_ACCOUNTS {
            errors.push(FieldError::new("accounts", format!("Choose at most {MAX_ACCOUNTS} accounts.")));
        } else {
            for raw in accounts {
                match Uuid::parse_str(raw.trim()) {
                    Ok(id) if !account_ids.contains(&id) => account_ids.push(id),
                    Ok(_) => {}
                    Err(_) => {
                        errors.push(FieldError::new("accounts", "One of the chosen accounts is not one of the team's: reload the page."));
                        break;
                    }
                }
            }
        }
        let template = FeedTemplate::parse(template).map_err(|e| errors.push(e)).ok();
        let mode = FeedMode::parse(mode);
        if mode.is_none() {
            errors.push(FieldError::new("mode", "Choose what new items become: drafts, queued posts or posts published at once."));
        }
        match (url, template, mode) {
            (Some(url), Some(template), Some(mode)) if errors.is_empty() => Ok(NewFeed { url, account_ids, template, mode }),
            _ => Err(errors),
        }
    }
}

/// What Crier reads of an item (from RSS, Atom or JSON Feed alike).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemFacts {
    /// Its GUID (RSS) or id (Atom), if it has one.
    pub id: Option<String>,
    /// Its title, as plain text.
    pub title: Option<String>,
    /// Its address.
    pub link: Option<String>,
    /// Its summary, as plain text.
    pub summary: Option<String>,
    /// When it was published (or else last updated).
    pub date: Option<DateTime<Utc>>,
}

impl ItemFacts {
    /// The key it is remembered by: its GUID or id; else its link; else a hash of its title. An
    /// item with none of them cannot be told from another and is not taken (`None`).
    pub fn key(&self) -> Option<String> {
        let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let key = if let Some(id) = present(&self.id) {
            format!("id:{id}")
        } else if let Some(link) = present(&self.link) {
            format!("link:{link}")
        } else {
            let title = present(&self.title)?;
            format!("title:{}", hex(&Sha256::digest(one_line(&title).as_bytes())))
        };
        if key.chars().count() > MAX_KEY_CHARS {
            return Some(format!("sha256:{}", hex(&Sha256::digest(key.as_bytes()))));
        }
        Some(key)
    }

    /// Whether the item is posted: one published before the feed was added never is (the feed's
    /// past is not replayed); an undated one is on every poll but the first (on the first, nothing
    /// says whether it is new).
    pub fn is_new(&self, first_poll: bool, feed_added: DateTime<Utc>) -> bool {
        match self.date {
            Some(date) => date > feed_added,
            None => !first_poll,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long until a feed is polled again: `interval` after a good poll; after `errors` failures
/// in a row `interval × 2^errors`, at most [`MAX_BACKOFF`]; never sooner than the feed asked
/// (`Retry-After`), nor later than [`MAX_BACKOFF`].
pub fn next_poll_in(interval: Duration, errors: u32, retry_after: Option<Duration>) -> Duration {
    let backoff = interval.saturating_mul(2u32.saturating_pow(errors.min(16))).min(MAX_BACKOFF).max(interval);
    retry_after.map_or(backoff, |asked| asked.clamp(backoff, MAX_BACKOFF.max(backoff)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str, link: &str, summary: &str) -> ItemFacts {
        ItemFacts { id: None, title: Some(title.into()), link: Some(link.into()), summary: Some(summary.into()), date: None }
    }

    #[test]
    fn templates_fill_their_placeholders() {
        let template = FeedTemplate::parse("New: {title} {link}").unwrap();
        assert_eq!(
            template.render(&item(" Crier  ships\nfeeds ", "https://example.com/a", "")),
            "New: Crier ships feeds https://example.com/a"
        );
        let braces = FeedTemplate::parse("{{x}} {title}\n\n{summary}\n\n{link}").unwrap();
        assert_eq!(braces.render(&item("T", "https://e.com", "")), "{x} T\n\nhttps://e.com", "an empty placeholder leaves no blank lines");
        let long = "word ".repeat(100);
        let rendered = FeedTemplate::parse("{summary}").unwrap().render(&item("", "", &long));
        assert!(rendered.chars().count() <= MAX_SUMMARY_CHARS && rendered.ends_with("word…"), "{rendered}");
        assert_eq!(FeedTemplate::parse("a { b } {title}").unwrap().render(&item("T", "", "")), "a { b } T", "stray braces are text");
    }

    #[test]
    fn bad_templates_say_what_to_fix() {
        assert!(FeedTemplate::parse("  ").unwrap_err().message.contains("Write the post's text"));
        assert!(FeedTemplate::parse("{titel} {link}").unwrap_err().message.contains("{titel} is not a placeholder"));
        assert!(FeedTemplate::parse("always the same").unwrap_err().message.contains("no placeholder"));
        let long = format!("{{title}} {}", "x".repeat(MAX_TEMPLATE_CHARS));
        assert!(FeedTemplate::parse(&long).unwrap_err().message.contains("shorten it to 1000"));
    }

    #[test]
    fn addresses_are_https_unless_allowed() {
        assert_eq!(FeedUrl::parse(" https://example.com/feed.xml ", false).unwrap().as_str(), "https://example.com/feed.xml");
        assert!(FeedUrl::parse("http://example.com/feed", false).unwrap_err().message.contains("https://"));
        assert!(FeedUrl::parse("http://example.com/feed", true).is_ok());
        assert!(FeedUrl::parse("not a url", true).unwrap_err().message.contains("not a web address"));
        assert!(FeedUrl::parse("ftp://example.com/feed", true).is_err());
        assert!(FeedUrl::parse("https://user:pw@example.com/feed", false).unwrap_err().message.contains("password"));
        assert!(FeedUrl::parse(&format!("https://example.com/{}", "a".repeat(MAX_URL_LEN)), false).is_err());
    }

    #[test]
    fn a_new_feed_reports_every_field() {
        let errors = NewFeed::parse("nope", &[], "", "sometimes", false).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "accounts", "template", "mode"]);
        let id = Uuid::new_v4().to_string();
        let feed = NewFeed::parse("https://example.com/rss", &[id.clone(), id.clone()], "{title}", "queue", false).unwrap();
        assert_eq!((feed.account_ids.len(), feed.mode), (1, FeedMode::Queue));
        assert_eq!(NewFeed::parse("https://example.com/rss", &["x".into()], "{title}", "draft", false).unwrap_err()[0].field, "accounts");
    }

    #[test]
    fn items_are_keyed_by_guid_then_link_then_title() {
        let mut it = ItemFacts { id: Some("urn:1".into()), ..item("Title", "https://e.com/1", "") };
        assert_eq!(it.key().as_deref(), Some("id:urn:1"));
        it.id = Some("  ".into());
        assert_eq!(it.key().as_deref(), Some("link:https://e.com/1"));
        it.link = None;
        let by_title = it.key().unwrap();
        assert!(by_title.starts_with("title:") && by_title.len() == 6 + 64);
        assert_eq!(ItemFacts { title: Some(" Title ".into()), ..Default::default() }.key(), Some(by_title), "white space aside");
        assert_eq!(ItemFacts::default().key(), None);
        let long = ItemFacts { id: Some("x".repeat(2000)), ..Default::default() }.key().unwrap();
        assert!(long.starts_with("sha256:") && long.chars().count() <= MAX_KEY_CHARS);
    }

    #[test]
    fn the_first_poll_takes_only_what_came_after_the_feed() {
        let added = DateTime::parse_from_rfc3339("2026-12-14T10:00:00Z").unwrap().with_timezone(&Utc);
        let dated = |h: i64| ItemFacts { date: Some(added + chrono::Duration::hours(h)), ..Default::default() };
        assert!(!dated(-1).is_new(true, added) && !dated(-1).is_new(false, added));
        assert!(dated(1).is_new(true, added));
        assert!(!ItemFacts::default().is_new(true, added) && ItemFacts::default().is_new(false, added));
    }

    #[test]
    fn failing_feeds_back_off() {
        let m = Duration::from_secs(15 * 60);
        assert_eq!(next_poll_in(m, 0, None), m);
        assert_eq!(next_poll_in(m, 1, None), 2 * m);
        assert_eq!(next_poll_in(m, 3, None), 8 * m);
        assert_eq!(next_poll_in(m, 40, None), MAX_BACKOFF);
        assert_eq!(next_poll_in(m, 0, Some(Duration::from_secs(3600))), Duration::from_secs(3600), "Retry-After is honoured");
        assert_eq!(next_poll_in(m, 0, Some(Duration::from_secs(5))), m, "but never sooner than the interval");
        assert_eq!(next_poll_in(m, 0, Some(Duration::from_secs(10 * 86_400))), MAX_BACKOFF);
    }
}
