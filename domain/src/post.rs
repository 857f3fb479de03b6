//! A post's content, parsed once: the shared text, per-platform overrides, a link and an X thread.
//!
//! Pure types (no store): the browser's Compose page and the server apply the same rules, and the
//! worker publishes exactly the text [`PostContent::published_text`] gives, which is what the
//! counters measured.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crier_media::{Attachment, MediaFacts, MediaLimits};
use crier_platform::{PerPlatform, Platform};
use uuid::Uuid;

/// The longest alt text accepted (the store's limit; each platform's own is checked when a post
/// goes to it).
pub const MAX_ALT_TEXT_CHARS: usize = 4_000;

/// How far in the past a schedule time may be and still count as "now": the time it takes to
/// fill in a form.
pub const PAST_GRACE_SECONDS: i64 = 60;

/// Whether a time a post is scheduled for has passed (beyond [`PAST_GRACE_SECONDS`]): such a post
/// is refused rather than published at once, so nobody publishes by mistake what they meant for
/// later.
pub fn has_passed(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    at < now - chrono::TimeDelta::seconds(PAST_GRACE_SECONDS)
}

/// The longest link accepted (browsers and platforms cope with far less).
pub const MAX_LINK_LEN: usize = 2000;
/// The most replies an X thread may have after its first post.
pub const MAX_THREAD_ITEMS: usize = 24;
/// The most posts one batch (the batch form, one per line) may schedule.
pub const MAX_BATCH_POSTS: usize = 500;

/// The longest text accepted in any text field, whatever the platforms: the longest a platform
/// takes (a Facebook Page post). A platform's own, shorter limit is checked when the post is
/// scheduled to it; this bounds what any request can make Crier store (an override for a platform
/// the post does not go to is never checked otherwise).
pub const MAX_TEXT_CHARS: usize = 63_206;
/// The longest thread reply accepted: well above X's 280 weighted characters, which is checked
/// when the post goes to X.
pub const MAX_THREAD_ITEM_CHARS: usize = 1_000;

/// The most media one post (or one thread reply) carries on one platform: LinkedIn's multi-image
/// maximum, the largest any platform takes. Each platform's own count is checked when the post
/// is scheduled to it.
pub const MAX_MEDIA_PER_ITEM: usize = 20;

/// The most media choices one post makes in all (its lists, its thread's).
pub const MAX_MEDIA_PER_POST: usize = 100;

/// A media item a post carries, where, and with which alt text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaChoice {
    /// The team's media item.
    pub media_id: Uuid,
    /// The alt text it is published with; `None`: the item's own.
    pub alt_text: Option<String>,
    /// `None`: every platform the post goes to (unless that platform has a list of its own);
    /// set: that platform's own list.
    pub platform: Option<Platform>,
    /// 0: the post itself; N: the X thread's reply N.
    pub item: u8,
}

/// Each platform's media rules as this installation configured them (`CRIER_*_MEDIA_LIMITS`):
/// Compose checks attachments with them in the browser, and scheduling checks again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaRules(pub PerPlatform<MediaLimits>);

impl Default for MediaRules {
    /// Every platform's defaults ([`MediaLimits::defaults`]).
    fn default() -> Self {
        MediaRules(PerPlatform::from_fn(MediaLimits::defaults))
    }
}

impl MediaRules {
    /// Checks the media `content` sends to each of `platforms` (the post's, and on X each
    /// reply's), with the facts and alt text `item` finds for a media id. The error, on the
    /// `media` field, says every problem, each with what to change.
    pub fn check<'a>(
        &self,
        content: &PostContent,
        platforms: &[Platform],
        item: impl Fn(Uuid) -> Option<(&'a MediaFacts, &'a str)>,
    ) -> Result<(), FieldError> {
        let mut problems: Vec<String> = Vec::new();
        for &platform in platforms {
            let items = if platform == Platform::X { content.thread.len() } else { 0 };
            for index in 0..=items {
                let chosen = content.media_for(platform, index as u8);
                if chosen.is_empty() {
                    continue;
                }
                let mut attachments = Vec::with_capacity(chosen.len());
                for choice in chosen {
                    let Some((facts, own_alt)) = item(choice.media_id) else {
                        return Err(FieldError::new(
                            "media",
                            "One of the attached media is no longer in the library. Remove it and attach it again.",
                        ));
                    };
                    attachments.push(Attachment { facts, alt_text: choice.alt_text.as_deref().unwrap_or(own_alt) });
                }
                let found = crier_media::check(platform, &attachments, &self.0[platform]);
                let where_ = if index == 0 { String::new() } else { format!(" (reply {index})") };
                problems.extend(found.iter().filter(|p| p.blocks()).map(|p| format!("{p}{where_}.")));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(FieldError::new("media", problems.join(" "))) }
    }
}

/// What a post says, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostContent {
    /// The text every platform gets unless it has an override.
    pub text: String,
    /// A different text for some platforms (for example a shorter one for X).
    pub overrides: Vec<(Platform, String)>,
    /// A link: appended to the X text, an article card on LinkedIn, a link preview on Facebook.
    pub link: Option<String>,
    /// X only: replies that follow the first post, in order.
    pub thread: Vec<String>,
    /// Its media, in order: a shared list, and lists of their own for some platforms.
    #[serde(default)]
    pub media: Vec<MediaChoice>,
    /// What its links get as it goes out (UTM parameters, short links).
    #[serde(default)]
    pub tracking: crate::link_tracking::LinkTracking,
    /// A comment under the post, per platform, sent once the post is out (on X a reply by the
    /// same account).
    #[serde(default)]
    pub first_comments: Vec<(Platform, String)>,
}

/// The longest first comment per platform: X's post limit (weighted), LinkedIn's comment limit,
/// and on Facebook Crier's own bound (Meta documents none below its post limit).
pub fn first_comment_limit(platform: Platform) -> usize {
    match platform {
        Platform::X => 280,
        Platform::Linkedin => 1250,
        Platform::Facebook => 3000,
    }
}

impl PostContent {
    /// Parses a form's fields. Blank overrides and blank thread items are dropped (an empty box
    /// is not a request for an empty post); the text and link are trimmed.
    pub fn parse(
        text: &str,
        overrides: impl IntoIterator<Item = (Platform, String)>,
        link: &str,
        thread: impl IntoIterator<Item = String>,
    ) -> Result<PostContent, FieldError> {
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Err(FieldError::new("text", "Write the text of the post."));
        }
        let too_long = |field: String| {
            FieldError::new(&field, format!("This text is longer than any platform takes ({MAX_TEXT_CHARS} characters at most)."))
        };
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(too_long("text".to_owned()));
        }
        let link = link.trim();
        let link = if link.is_empty() {
            None
        } else {
            let lower = link.to_ascii_lowercase();
            let has_scheme = lower.starts_with("https://") || lower.starts_with("http://");
            if !has_scheme || link.len() > MAX_LINK_LEN || link.chars().any(char::is_whitespace) || link.len() < 12 {
                return Err(FieldError::new("link", "Enter a full web address starting with https:// (or leave the link empty)."));
            }
            Some(link.to_owned())
        };
        let overrides: Vec<(Platform, String)> =
            overrides.into_iter().map(|(p, t)| (p, t.trim().to_owned())).filter(|(_, t)| !t.is_empty()).collect();
        if let Some((platform, _)) = overrides.iter().find(|(_, t)| t.chars().count() > MAX_TEXT_CHARS) {
            return Err(too_long(format!("text_{}", platform.as_str())));
        }
        // At most one override per platform: the first one written counts.
        let overrides = overrides.into_iter().fold(Vec::<(Platform, String)>::new(), |mut kept, (p, t)| {
            if !kept.iter().any(|(k, _)| *k == p) {
                kept.push((p, t));
            }
            kept
        });
        // Counted before the blank ones are dropped too: a request cannot send a million empty
        // replies either.
        let thread: Vec<String> = thread.into_iter().take(MAX_THREAD_ITEMS * 4 + 1).map(|t| t.trim().to_owned()).collect();
        let thread: Vec<String> = thread.into_iter().filter(|t| !t.is_empty()).collect();
        if thread.len() > MAX_THREAD_ITEMS {
            return Err(FieldError::new("thread", format!("A thread may have at most {MAX_THREAD_ITEMS} replies.")));
        }
        if let Some(index) = thread.iter().position(|t| t.chars().count() > MAX_THREAD_ITEM_CHARS) {
            return Err(FieldError::new(
                &format!("thread_{}", index + 1),
                format!("Reply {} is far longer than X takes ({MAX_THREAD_ITEM_CHARS} characters at most here, 280 on X).", index + 1),
            ));
        }
        Ok(PostContent { text, overrides, link, thread, ..PostContent::default() })
    }

    /// With first comments (blank ones dropped, the first per platform kept), each within
    /// [`first_comment_limit`]; a refusal names the field `first_comment_<platform>`.
    pub fn with_first_comments(mut self, comments: impl IntoIterator<Item = (Platform, String)>) -> Result<PostContent, FieldError> {
        let mut kept: Vec<(Platform, String)> = Vec::new();
        for (platform, text) in comments.into_iter().take(Platform::ALL.len() * 4) {
            let text = text.trim().to_owned();
            if text.is_empty() || kept.iter().any(|(p, _)| *p == platform) {
                continue;
            }
            let limit = first_comment_limit(platform);
            let fits = match platform {
                Platform::X => crier_text::check(Platform::X, &text).valid,
                _ => text.chars().count() <= limit,
            };
            if !fits {
                return Err(FieldError::new(
                    &format!("first_comment_{}", platform.as_str()),
                    format!("The first comment on {} is too long: {limit} characters at most.", platform.label()),
                ));
            }
            kept.push((platform, text));
        }
        self.first_comments = kept;
        Ok(self)
    }

    /// The first comment for `platform`, if any.
    pub fn first_comment_for(&self, platform: Platform) -> Option<&str> {
        self.first_comments.iter().find(|(p, _)| *p == platform).map(|(_, t)| t.as_str())
    }

    /// With `tracking` for its links.
    pub fn with_tracking(mut self, tracking: crate::link_tracking::LinkTracking) -> PostContent {
        self.tracking = tracking;
        self
    }

    /// Attaches media. Refused: more than [`MAX_MEDIA_PER_ITEM`] in one list, the same item twice
    /// in one list, a reply that does not exist, alt text over 4,000 characters.
    pub fn with_media(mut self, media: Vec<MediaChoice>) -> Result<PostContent, FieldError> {
        if media.len() > MAX_MEDIA_PER_POST {
            return Err(FieldError::new(
                "media",
                format!("At most {MAX_MEDIA_PER_POST} media in one post, its thread and its platforms' own lists together."),
            ));
        }
        let mut lists: Vec<(Option<Platform>, u8, Vec<Uuid>)> = Vec::new();
        for choice in &media {
            if usize::from(choice.item) > self.thread.len() {
                return Err(FieldError::new("media", format!("Reply {} has media, but the thread has no such reply.", choice.item)));
            }
            if choice.alt_text.as_deref().is_some_and(|t| t.chars().count() > MAX_ALT_TEXT_CHARS) {
                return Err(FieldError::new(
                    "media",
                    format!("An alt text is longer than {MAX_ALT_TEXT_CHARS} characters: describe it more briefly."),
                ));
            }
            let index = match lists.iter().position(|(p, i, _)| *p == choice.platform && *i == choice.item) {
                Some(index) => index,
                None => {
                    lists.push((choice.platform, choice.item, Vec::new()));
                    lists.len() - 1
                }
            };
            let ids = &mut lists[index].2;
            if ids.contains(&choice.media_id) {
                return Err(FieldError::new("media", "The same media is attached twice: remove one."));
            }
            ids.push(choice.media_id);
            if ids.len() > MAX_MEDIA_PER_ITEM {
                return Err(FieldError::new("media", format!("At most {MAX_MEDIA_PER_ITEM} media per post: remove some.")));
            }
        }
        self.media = media
            .into_iter()
            .map(|c| MediaChoice { alt_text: c.alt_text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()), ..c })
            .collect();
        Ok(self)
    }

    /// The media `platform` gets on `item` (0: the post, N: reply N), in order: its own list if
    /// it has one for that item, else the shared list.
    pub fn media_for(&self, platform: Platform, item: u8) -> Vec<&MediaChoice> {
        let own: Vec<&MediaChoice> = self.media.iter().filter(|c| c.item == item && c.platform == Some(platform)).collect();
        if !own.is_empty() {
            return own;
        }
        self.media.iter().filter(|c| c.item == item && c.platform.is_none()).collect()
    }

    /// Every media item the post names, once each.
    pub fn media_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = Vec::new();
        for choice in &self.media {
            if !ids.contains(&choice.media_id) {
                ids.push(choice.media_id);
            }
        }
        ids
    }

    /// The text written for `platform`: its override, or the shared text.
    pub fn text_for(&self, platform: Platform) -> &str {
        self.overrides.iter().find(|(p, _)| *p == platform).map_or(self.text.as_str(), |(_, t)| t.as_str())
    }

    /// The text sent to `platform`, whose post carries media or not (`with_media`). The link goes
    /// at the end of the text (unless the text already has it) on X, which has no separate link
    /// field, and on LinkedIn and Facebook when the post shows media: a post there shows media or
    /// a link card, not both. Otherwise LinkedIn and Facebook carry the link apart, as a card.
    pub fn published_text(&self, platform: Platform, with_media: bool) -> String {
        let text = self.text_for(platform);
        match &self.link {
            Some(link) if (platform == Platform::X || with_media) && !text.contains(link.as_str()) => format!("{text}\n\n{link}"),
            _ => text.to_owned(),
        }
    }

    /// Checks the text for each platform it goes to, and the thread (X only). The error names the
    /// field to fix: `text`, `text_x`/`text_linkedin`/`text_facebook` for an override, `thread_N`.
    pub fn check(&self, platforms: &[Platform]) -> Result<(), FieldError> {
        for &platform in platforms {
            let check = crier_text::check(platform, &self.published_text(platform, !self.media_for(platform, 0).is_empty()));
            if !check.valid {
                let field = if self.overrides.iter().any(|(p, _)| *p == platform) {
                    format!("text_{}", platform.as_str())
                } else {
                    "text".to_owned()
                };
                let what = if self.link.is_some() && platform == Platform::X { "text and link" } else { "text" };
                return Err(FieldError::new(
                    &field,
                    format!(
                        "The {what} for {} is {} characters long; {} allows {}. Shorten it, or write a separate text for {}.",
                        platform.label(),
                        check.length,
                        platform.label(),
                        check.limit,
                        platform.label()
                    ),
                ));
            }
        }
        if !self.thread.is_empty() {
            if !platforms.contains(&Platform::X) {
                return Err(FieldError::new("thread", "Threads are for X: choose an X account, or remove the thread's replies."));
            }
            for (index, item) in self.thread.iter().enumerate() {
                let check = crier_text::check(Platform::X, item);
                if !check.valid {
                    return Err(FieldError::new(
                        &format!("thread_{}", index + 1),
                        format!("Reply {} of the thread is {} characters long; X allows {}.", index + 1, check.length, check.limit),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str, link: &str) -> PostContent {
        PostContent::parse(text, [], link, []).unwrap()
    }

    #[test]
    fn the_link_is_appended_on_x_and_beside_media_and_only_once() {
        let post = content("Launch day", "https://example.com/launch");
        assert_eq!(post.published_text(Platform::X, false), "Launch day\n\nhttps://example.com/launch");
        assert_eq!(post.published_text(Platform::Linkedin, false), "Launch day");
        let already = content("Read https://example.com/launch now", "https://example.com/launch");
        assert_eq!(already.published_text(Platform::X, false), "Read https://example.com/launch now");
        // With media LinkedIn and Facebook show no link card: the link is in the text, and counted.
        assert_eq!(post.published_text(Platform::Facebook, true), "Launch day\n\nhttps://example.com/launch");
        assert_eq!(already.published_text(Platform::Linkedin, true), "Read https://example.com/launch now");
    }

    #[test]
    fn blank_text_and_bad_links_are_refused_with_the_field_to_fix() {
        assert_eq!(PostContent::parse("  ", [], "", []).unwrap_err().field, "text");
        assert_eq!(PostContent::parse("Hi", [], "example.com", []).unwrap_err().field, "link");
        assert_eq!(PostContent::parse("Hi", [], "https://exa mple.com", []).unwrap_err().field, "link");
    }

    #[test]
    fn an_override_is_what_its_platform_gets_and_is_checked_under_its_own_name() {
        let long = "a".repeat(300);
        let post = PostContent::parse(&long, [(Platform::X, "Short".to_owned()), (Platform::Facebook, " ".into())], "", []).unwrap();
        assert_eq!(post.text_for(Platform::X), "Short");
        assert_eq!(post.text_for(Platform::Facebook), long, "a blank override is dropped");
        assert!(post.check(&[Platform::X, Platform::Linkedin]).is_ok());
        let err = PostContent::parse(&long, [], "", []).unwrap().check(&[Platform::X]).unwrap_err();
        assert_eq!(err.field, "text");
        assert!(err.message.contains("300") && err.message.contains("280"), "{}", err.message);
    }

    #[test]
    fn threads_need_an_x_account_and_each_reply_must_fit() {
        let post = PostContent::parse("First", [], "", ["Second".to_owned(), "".to_owned(), "b".repeat(281)]).unwrap();
        assert_eq!(post.thread.len(), 2, "blank replies are dropped");
        assert_eq!(post.check(&[Platform::Linkedin]).unwrap_err().field, "thread");
        assert_eq!(post.check(&[Platform::X]).unwrap_err().field, "thread_2");
    }
}
