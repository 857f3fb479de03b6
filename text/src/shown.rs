//! A post's text as a platform's feed shows it: which parts are links, @mentions and #hashtags,
//! and where the feed folds a long text behind "Show more" / "…see more" / "See more".
//!
//! For Compose's previews (drawn by the server, so none of this is in the wasm). What each
//! platform marks, for a post Crier sends:
//!
//! | platform | links | @mentions | #hashtags |
//! |----------|-------|-----------|-----------|
//! | X        | yes, shown without the scheme and cut after 25 characters | yes | yes |
//! | LinkedIn | yes   | no: a mention needs an annotation Crier does not send | no: Crier escapes `#` (little text format), so it shows as typed |
//! | Facebook | yes   | no: a Page post tags people through the API's tags, not text | yes |
//!
//! Where the feeds fold is not documented anywhere; these are what the feeds showed at the time
//! of writing, and [`FOLD`] holds them in one place: X folds a long post (a Premium account's,
//! over 280) at 280 weighted characters; LinkedIn after about 210 characters or 3 lines;
//! Facebook after about 480 characters or 5 lines.

use crier_platform::Platform;

use crate::x::{nfc, url};

/// How a piece of the text shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// As typed.
    Plain,
    /// A link (its shown text may be shorter than the URL, see [`Piece::text`]).
    Link,
    /// An @mention.
    Mention,
    /// A #hashtag.
    Hashtag,
}

impl Mark {
    /// The name for styles.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Plain => "plain",
            Mark::Link => "link",
            Mark::Mention => "mention",
            Mark::Hashtag => "hashtag",
        }
    }
}

/// A run of the text with one mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// How it shows.
    pub mark: Mark,
    /// What the feed shows (for an X link, the shortened form).
    pub text: String,
}

/// The text as a feed shows it: what is shown at first, and what only "see more" shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    /// Shown at first.
    pub lead: Vec<Piece>,
    /// Behind the fold (empty when the whole text shows).
    pub rest: Vec<Piece>,
}

/// Where a feed folds a long text: after this many characters (X: weighted, see
/// [`crate::x_weighted_length`]) or this many lines, whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    /// Characters shown before the fold.
    pub chars: usize,
    /// Lines shown before the fold (`usize::MAX`: lines do not fold).
    pub lines: usize,
}

/// Each platform's fold (see the module documentation).
pub const FOLD: [(Platform, Fold); 3] = [
    (Platform::X, Fold { chars: 280, lines: usize::MAX }),
    (Platform::Linkedin, Fold { chars: 210, lines: 3 }),
    (Platform::Facebook, Fold { chars: 480, lines: 5 }),
];

/// How much of an X link's text (after the scheme) the feed shows before "…".
const X_LINK_SHOWN: usize = 25;
/// The longest @handle X recognises.
const X_HANDLE_MAX: usize = 15;

/// `text` as `platform` shows it (the text as published: see `PostContent::published_text`).
///
/// ```
/// use crier_platform::Platform;
/// use crier_text::{Mark, shown};
/// let marked = shown(Platform::X, "Hi @crier, see https://example.com/launch #news");
/// let marks: Vec<_> = marked.lead.iter().map(|p| (p.mark, p.text.as_str())).collect();
/// assert_eq!(marks[1], (Mark::Mention, "@crier"));
/// assert_eq!(marks[3], (Mark::Link, "example.com/launch"));
/// assert_eq!(marks[5], (Mark::Hashtag, "#news"));
/// assert!(marked.rest.is_empty());
/// ```
pub fn shown(platform: Platform, text: &str) -> Shown {
    let chars = nfc::nfc(text);
    let entities = entities(platform, &chars);
    let fold = fold_at(platform, &chars, &entities);
    let mut shown = Shown::default();
    let mut at = 0;
    let mut push = |start: usize, end: usize, mark: Mark| {
        if start >= end {
            return;
        }
        let side = if start >= fold { &mut shown.rest } else { &mut shown.lead };
        let raw: String = chars[start..end].iter().collect();
        let text = if mark == Mark::Link && platform == Platform::X { x_link_text(&raw) } else { raw };
        side.push(Piece { mark, text });
    };
    for &(start, end, mark) in &entities {
        // Plain text around the fold is split there; an entity never is (the fold moved to it).
        push(at, fold.clamp(at, start), Mark::Plain);
        push(fold.clamp(at, start), start, Mark::Plain);
        push(start, end, mark);
        at = end;
    }
    push(at, fold.clamp(at, chars.len()), Mark::Plain);
    push(fold.clamp(at, chars.len()), chars.len(), Mark::Plain);
    shown
}

/// The links, mentions and hashtags `platform` marks in `chars`, as (start, end, mark), in order.
fn entities(platform: Platform, chars: &[char]) -> Vec<(usize, usize, Mark)> {
    let links: Vec<(usize, usize)> = url::extract_urls(chars).iter().map(|u| (u.start, u.start + u.len)).collect();
    let mut found: Vec<(usize, usize, Mark)> = links.iter().map(|&(s, e)| (s, e, Mark::Link)).collect();
    let (mentions, hashtags) = match platform {
        Platform::X => (true, true),
        Platform::Linkedin => (false, false),
        Platform::Facebook => (false, true),
    };
    let in_link = |i: usize| links.iter().any(|&(s, e)| (s..e).contains(&i));
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || "_@#&$%*!".contains(chars[i - 1]));
        let end = match chars[i] {
            '@' | '＠' if mentions && starts_word && !in_link(i) => {
                let len = chars[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').count();
                // Followed by another "@" it is an e-mail address, not a mention.
                ((1..=X_HANDLE_MAX).contains(&len) && chars.get(i + 1 + len) != Some(&'@')).then_some((i + 1 + len, Mark::Mention))
            }
            '#' | '＃' if hashtags && starts_word && !in_link(i) => {
                let word = chars[i + 1..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').count();
                // "#1" is a number, not a hashtag.
                let tag = &chars[i + 1..i + 1 + word];
                (!tag.is_empty() && !tag.iter().all(char::is_ascii_digit)).then_some((i + 1 + word, Mark::Hashtag))
            }
            _ => None,
        };
        match end {
            Some((end, mark)) => {
                found.push((i, end, mark));
                i = end;
            }
            None => i += 1,
        }
    }
    found.sort_by_key(|&(start, _, _)| start);
    found
}

/// Where `platform`'s feed folds `chars` (`chars.len()` when it shows them whole), moved back to
/// the start of an entity it would split and past the spaces before it.
fn fold_at(platform: Platform, chars: &[char], entities: &[(usize, usize, Mark)]) -> usize {
    let Some(&(_, fold)) = FOLD.iter().find(|(p, _)| *p == platform) else { return chars.len() };
    let by_length = match platform {
        Platform::X => {
            // The longest start that still weighs within the limit (weights only grow with length).
            let weight = |n: usize| crate::x_weighted_length(&chars[..n].iter().collect::<String>());
            if weight(chars.len()) <= fold.chars {
                chars.len()
            } else {
                let (mut fits, mut over) = (0, chars.len());
                while over - fits > 1 {
                    let middle = (fits + over) / 2;
                    if weight(middle) <= fold.chars { fits = middle } else { over = middle }
                }
                fits
            }
        }
        _ => fold.chars.min(chars.len()),
    };
    let by_lines = chars.iter().enumerate().filter(|(_, c)| **c == '\n').nth(fold.lines.saturating_sub(1)).map_or(chars.len(), |(i, _)| i);
    let mut at = by_length.min(by_lines);
    if at >= chars.len() {
        return chars.len();
    }
    if let Some(&(start, _, _)) = entities.iter().find(|(s, e, _)| *s < at && at < *e) {
        at = start;
    }
    while at > 0 && chars[at - 1].is_whitespace() {
        at -= 1;
    }
    at
}

/// An X link as X shows it: without `https://` or `http://`, and cut with "…" after
/// [`X_LINK_SHOWN`] characters.
fn x_link_text(url: &str) -> String {
    let bare = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or(url);
    if bare.chars().count() > X_LINK_SHOWN {
        format!("{}…", bare.chars().take(X_LINK_SHOWN).collect::<String>())
    } else {
        bare.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(shown: &[Piece]) -> Vec<(Mark, &str)> {
        shown.iter().map(|p| (p.mark, p.text.as_str())).collect()
    }

    #[test]
    fn each_platform_marks_what_it_links() {
        let text = "Meet @ana at #RustConf: https://example.com";
        assert_eq!(
            marks(&shown(Platform::X, text).lead),
            [
                (Mark::Plain, "Meet "),
                (Mark::Mention, "@ana"),
                (Mark::Plain, " at "),
                (Mark::Hashtag, "#RustConf"),
                (Mark::Plain, ": "),
                (Mark::Link, "example.com")
            ]
        );
        assert_eq!(
            marks(&shown(Platform::Linkedin, text).lead),
            [(Mark::Plain, "Meet @ana at #RustConf: "), (Mark::Link, "https://example.com")]
        );
        assert_eq!(
            marks(&shown(Platform::Facebook, text).lead),
            [(Mark::Plain, "Meet @ana at "), (Mark::Hashtag, "#RustConf"), (Mark::Plain, ": "), (Mark::Link, "https://example.com")]
        );
    }

    #[test]
    fn addresses_numbers_and_words_with_signs_inside_are_not_marked() {
        let text = "mail ana@example.org, issue #12, C# and a@b@c";
        let pieces = shown(Platform::X, text).lead;
        assert!(pieces.iter().all(|p| p.mark != Mark::Mention && p.mark != Mark::Hashtag), "{pieces:?}");
        // A hash inside a link is the link's.
        let linked = shown(Platform::Facebook, "see https://example.com/#top").lead;
        assert_eq!(marks(&linked), [(Mark::Plain, "see "), (Mark::Link, "https://example.com/#top")]);
    }

    #[test]
    fn long_x_links_are_shown_short() {
        let pieces = shown(Platform::X, "https://example.com/a/very/long/path/to/a/page").lead;
        assert_eq!(marks(&pieces), [(Mark::Link, "example.com/a/very/long/p…")]);
    }

    #[test]
    fn linkedin_folds_after_three_lines_or_210_characters() {
        let lines = shown(Platform::Linkedin, "one\ntwo\nthree\nfour");
        assert_eq!(marks(&lines.lead), [(Mark::Plain, "one\ntwo\nthree")]);
        assert_eq!(marks(&lines.rest), [(Mark::Plain, "\nfour")]);
        let long = "word ".repeat(60);
        let folded = shown(Platform::Linkedin, &long);
        let lead: String = folded.lead.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(lead.chars().count(), 209, "the space before the fold stays behind it");
        assert!(!folded.rest.is_empty());
        assert!(shown(Platform::Linkedin, "short").rest.is_empty());
    }

    #[test]
    fn a_fold_never_splits_a_link() {
        let text = format!("{} https://example.com/a/long/path", "x".repeat(199));
        let folded = shown(Platform::Linkedin, &text);
        assert_eq!(marks(&folded.lead), [(Mark::Plain, "x".repeat(199).as_str())]);
        assert_eq!(marks(&folded.rest), [(Mark::Plain, " "), (Mark::Link, "https://example.com/a/long/path")]);
    }

    #[test]
    fn x_folds_at_its_weighted_limit() {
        // CJK weighs 2: 140 of them fill 280.
        let text = "好".repeat(150);
        let folded = shown(Platform::X, &text);
        assert_eq!(folded.lead[0].text.chars().count(), 140);
        assert_eq!(folded.rest[0].text.chars().count(), 10);
        assert!(shown(Platform::X, &"好".repeat(140)).rest.is_empty());
    }
}
