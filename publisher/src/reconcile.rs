//! Settling an attempt whose outcome is unknown (the worker died during the call, a timeout, or
//! Meta's "HTTP 500 code 2", which may have created the post): X, LinkedIn and Facebook take no
//! idempotency key, so the only way not to publish twice is to look at the account's recent posts
//! for this one before trying again.

use chrono::{DateTime, TimeDelta, Utc};
use crier_clients::RecentPost;

/// Clocks differ between Crier and the platform; a post created this long before the first
/// attempt started may still be ours.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(120);

/// Text as compared: platforms rewrite links (X wraps every URL in t.co) and whitespace, so
/// links become one token and runs of whitespace one space.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(|word| if word.starts_with("http://") || word.starts_with("https://") { "<link>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The recent post that is this delivery's: the same text (as [`normalise`] sees it), created no
/// earlier than the first attempt (less [`CLOCK_SKEW`]) when both moments are known.
pub fn find<'a>(recent: &'a [RecentPost], text: &str, since: Option<DateTime<Utc>>) -> Option<&'a RecentPost> {
    let wanted = normalise(text);
    recent.iter().find(|post| {
        let recent_enough = match (since, post.created_at) {
            (Some(since), Some(created)) => created >= since - CLOCK_SKEW,
            _ => true,
        };
        recent_enough && normalise(&post.text) == wanted
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(id: &str, text: &str, created_at: Option<DateTime<Utc>>) -> RecentPost {
        RecentPost { external_id: id.into(), text: text.into(), created_at, permalink: None }
    }

    #[test]
    fn a_post_with_the_same_text_since_the_first_attempt_is_ours() {
        let since = Utc::now();
        let recent = [post("1", "Other", Some(since)), post("2", "Launch  day\nhttps://t.co/abc", Some(since + TimeDelta::seconds(3)))];
        assert_eq!(find(&recent, "Launch day https://example.com/launch", Some(since)).map(|p| p.external_id.as_str()), Some("2"));
    }

    #[test]
    fn yesterdays_post_with_the_same_text_is_not() {
        let since = Utc::now();
        let recent = [post("1", "Good morning", Some(since - TimeDelta::days(1)))];
        assert!(find(&recent, "Good morning", Some(since)).is_none());
        assert!(find(&recent, "Good evening", None).is_none());
        assert!(find(&recent, "Good morning", None).is_some(), "without times, the text decides");
    }
}
