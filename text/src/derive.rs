//! Posts derived from a document (the content-generate endpoint): deterministic, no guessing.
//!
//! - **X**: a thread. The first post is the title and the link; the replies are the opening
//!   paragraphs' sentences, as many to a post as fit X's weighted limit (a sentence too long for
//!   one post is cut at a word boundary), at most [`MAX_REPLIES`] replies.
//! - **LinkedIn and Facebook**: one post: the title, then as many whole paragraphs as fit the
//!   platform's limit (at most [`LONG_TEXT`] characters, for a readable post), then the link.

use crier_platform::Platform;

use crate::{XConfig, limit, x_parse};

/// The most replies an X thread gets (Crier's thread limit).
pub const MAX_REPLIES: usize = 24;
/// The longest LinkedIn or Facebook text derived, in characters (within each platform's limit).
pub const LONG_TEXT: usize = 2_000;

/// A document as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Its title (the first line of a plain text; an HTML page's `<title>`).
    pub title: String,
    /// Its paragraphs, in order, without the title.
    pub paragraphs: Vec<String>,
    /// Where it is, if it is on the web.
    pub link: Option<String>,
}

impl Document {
    /// Reads a plain text: paragraphs are separated by blank lines; the first non-empty line is
    /// the title unless `title` is given.
    pub fn from_text(text: &str, title: Option<&str>, link: Option<&str>) -> Document {
        let mut paragraphs: Vec<String> = text
            .replace("\r\n", "\n")
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect();
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(title) => {
                if paragraphs.first().is_some_and(|p| p == title) {
                    paragraphs.remove(0);
                }
                title.split_whitespace().collect::<Vec<_>>().join(" ")
            }
            None if paragraphs.is_empty() => String::new(),
            None => {
                let first = paragraphs.remove(0);
                // A first paragraph of several lines: its first line is the title.
                let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
                if first.len() > line.len() && first.starts_with(line) {
                    paragraphs.insert(0, first[line.len()..].trim().to_owned());
                }
                line.split_whitespace().collect::<Vec<_>>().join(" ")
            }
        };
        Document { title, paragraphs, link: link.map(str::to_owned) }
    }
}

fn fits_x(text: &str) -> bool {
    x_parse(text, &XConfig::V3).valid
}

/// The sentences of `paragraph`: cut after `.`, `!` or `?` followed by a space.
fn sentences(paragraph: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = paragraph.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        if matches!(c, '.' | '!' | '?') && chars.peek().is_some_and(|n| n.is_whitespace()) {
            out.push(current.trim().to_owned());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// `text` cut into pieces that each fit X, at word boundaries.
fn cut_for_x(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
        if fits_x(&candidate) {
            current = candidate;
        } else {
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            // A single word longer than a post is cut by characters.
            let mut word_left = String::new();
            for ch in word.chars() {
                word_left.push(ch);
                if !fits_x(&word_left) {
                    word_left.pop();
                    pieces.push(std::mem::take(&mut word_left));
                    word_left.push(ch);
                }
            }
            current = word_left;
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// The X thread: the first post, then the replies.
pub fn x_thread(doc: &Document) -> (String, Vec<String>) {
    let head = match &doc.link {
        Some(link) => format!("{}\n\n{link}", doc.title),
        None => doc.title.clone(),
    };
    let head = if fits_x(&head) {
        head
    } else {
        // A title too long for a post: as much of it as fits, then the link.
        let room: Vec<String> = cut_for_x(&doc.title);
        let first = room.into_iter().next().unwrap_or_default();
        match &doc.link {
            Some(link) => {
                let mut words: Vec<&str> = first.split_whitespace().collect();
                loop {
                    let candidate = format!("{}…\n\n{link}", words.join(" "));
                    if fits_x(&candidate) || words.is_empty() {
                        break candidate;
                    }
                    words.pop();
                }
            }
            None => first,
        }
    };
    let mut replies: Vec<String> = Vec::new();
    let mut current = String::new();
    'all: for paragraph in &doc.paragraphs {
        for sentence in sentences(paragraph) {
            let candidate = if current.is_empty() { sentence.clone() } else { format!("{current} {sentence}") };
            if fits_x(&candidate) {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                replies.push(std::mem::take(&mut current));
            }
            if fits_x(&sentence) {
                current = sentence;
            } else {
                let mut pieces = cut_for_x(&sentence);
                current = pieces.pop().unwrap_or_default();
                replies.extend(pieces);
            }
            if replies.len() >= MAX_REPLIES {
                break 'all;
            }
        }
        // A paragraph ends its post: the next starts a new one.
        if !current.is_empty() {
            replies.push(std::mem::take(&mut current));
        }
        if replies.len() >= MAX_REPLIES {
            break;
        }
    }
    if !current.is_empty() {
        replies.push(current);
    }
    replies.truncate(MAX_REPLIES);
    (head, replies)
}

/// The LinkedIn or Facebook text: the title, whole paragraphs while they fit, the link.
pub fn long_text(doc: &Document, platform: Platform) -> String {
    let max = limit(platform).min(LONG_TEXT);
    let tail = doc.link.as_ref().map(|l| format!("\n\n{l}")).unwrap_or_default();
    let budget = max.saturating_sub(tail.chars().count());
    let mut text: String = doc.title.chars().take(budget).collect();
    for paragraph in &doc.paragraphs {
        let addition = format!("\n\n{paragraph}");
        if text.chars().count() + addition.chars().count() > budget {
            // The opening paragraph is always there, cut at a word boundary if need be.
            if text == doc.title {
                let room = budget.saturating_sub(text.chars().count() + 3);
                let mut cut = String::new();
                for word in paragraph.split_whitespace() {
                    if cut.chars().count() + word.chars().count() + 1 > room {
                        break;
                    }
                    if !cut.is_empty() {
                        cut.push(' ');
                    }
                    cut.push_str(word);
                }
                if !cut.is_empty() {
                    text.push_str(&format!("\n\n{cut}…"));
                }
            }
            break;
        }
        text.push_str(&addition);
    }
    text.push_str(&tail);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check;

    fn article() -> Document {
        let body = "Launch day\n\nWe shipped the new scheduler today. It posts on time! Does it? Yes.\n\n".to_owned()
            + &"A long sentence that goes on and on about queues and calendars and timezones. ".repeat(12)
            + "\n\nThe end.";
        Document::from_text(&body, None, Some("https://example.com/launch"))
    }

    #[test]
    fn a_text_gives_its_title_and_paragraphs() {
        let doc = Document::from_text("  Title line\nfirst words\n\nSecond  paragraph\n", None, None);
        assert_eq!(doc.title, "Title line");
        assert_eq!(doc.paragraphs, vec!["first words".to_owned(), "Second paragraph".to_owned()]);
        let given = Document::from_text("Given\n\nBody", Some("Given"), None);
        assert_eq!((given.title.as_str(), given.paragraphs.len()), ("Given", 1));
    }

    #[test]
    fn the_thread_fits_x_post_by_post_and_is_the_same_every_time() {
        let doc = article();
        let (head, replies) = x_thread(&doc);
        assert_eq!(head, "Launch day\n\nhttps://example.com/launch");
        assert_eq!(replies[0], "We shipped the new scheduler today. It posts on time! Does it? Yes.");
        assert!(replies.len() > 3 && replies.len() <= MAX_REPLIES);
        assert!(replies.iter().all(|r| check(Platform::X, r).valid), "{replies:?}");
        assert!(replies[1..replies.len() - 1].iter().all(|r| r.ends_with('.')), "cut at sentence ends: {replies:?}");
        assert_eq!(x_thread(&doc), (head, replies));
        // A sentence longer than a post is cut at words.
        let wall = Document::from_text(&format!("T\n\n{}", "word ".repeat(200)), None, None);
        assert!(x_thread(&wall).1.iter().all(|r| check(Platform::X, r).valid && !r.is_empty()));
    }

    #[test]
    fn the_long_text_keeps_whole_paragraphs_within_the_limit_and_ends_with_the_link() {
        let doc = article();
        for platform in [Platform::Linkedin, Platform::Facebook] {
            let text = long_text(&doc, platform);
            assert!(text.starts_with("Launch day\n\nWe shipped"));
            assert!(text.ends_with("\n\nhttps://example.com/launch"));
            assert!(text.chars().count() <= LONG_TEXT && check(platform, &text).valid);
        }
        let huge = Document::from_text(&format!("T\n\n{}", "word ".repeat(2_000)), None, None);
        let text = long_text(&huge, Platform::Linkedin);
        assert!(text.ends_with('…') && text.chars().count() <= LONG_TEXT);
    }
}
