//! Link tracking: UTM parameters on a post's links, and short links Crier serves itself
//! (`/l/<code>`) that count clicks per delivery.
//!
//! A team sets defaults (Settings → Link tracking) that Compose starts with; each post keeps its
//! own choice. The links are rewritten as a delivery goes out, never in what the team wrote: the
//! post's page and its edits show the link as typed, and each platform gets its own `utm_source`
//! (and, with short links, a short link of its own, so clicks are counted per delivery).

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crier_platform::Platform;

/// The longest campaign or medium accepted (analytics tools truncate far earlier).
pub const MAX_UTM_VALUE_CHARS: usize = 100;

/// The medium when none is chosen: what analytics tools group as social traffic.
pub const DEFAULT_UTM_MEDIUM: &str = "social";

/// What a post's links get as it goes out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTracking {
    /// UTM parameters to add, if any.
    pub utm: Option<Utm>,
    /// Whether links are replaced by Crier's short links.
    pub short_links: bool,
}

/// The UTM parameters a person chooses; `utm_source` is the platform's ([`utm_source`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utm {
    /// `utm_campaign`, if any.
    pub campaign: Option<String>,
    /// `utm_medium`.
    pub medium: String,
}

impl LinkTracking {
    /// Parses a form's fields: the two switches, and the campaign and medium (trimmed; an empty
    /// medium is [`DEFAULT_UTM_MEDIUM`]). The campaign and medium are checked even when UTM is off,
    /// so what was typed is never silently dropped as wrong.
    pub fn parse(utm: bool, campaign: &str, medium: &str, short_links: bool) -> Result<LinkTracking, FieldError> {
        let campaign = utm_value("utm_campaign", "campaign", campaign)?;
        let medium = utm_value("utm_medium", "medium", medium)?.unwrap_or_else(|| DEFAULT_UTM_MEDIUM.to_owned());
        Ok(LinkTracking { utm: utm.then_some(Utm { campaign, medium }), short_links })
    }

    /// Whether links go out as written.
    pub fn is_off(&self) -> bool {
        self.utm.is_none() && !self.short_links
    }

    /// In words, for the post's page and the settings.
    pub fn describe(&self) -> String {
        let utm = self.utm.as_ref().map(|utm| match &utm.campaign {
            Some(campaign) => format!("UTM parameters (medium “{}”, campaign “{campaign}”)", utm.medium),
            None => format!("UTM parameters (medium “{}”)", utm.medium),
        });
        match (utm, self.short_links) {
            (None, false) => "Links go out as written.".to_owned(),
            (Some(utm), false) => format!("Links get {utm}."),
            (None, true) => "Links go out as Crier short links that count clicks.".to_owned(),
            (Some(utm), true) => format!("Links get {utm} and go out as Crier short links that count clicks."),
        }
    }
}

fn utm_value(field: &str, name: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let value = raw.trim();
    if value.chars().count() > MAX_UTM_VALUE_CHARS {
        return Err(FieldError::new(field, format!("Keep the {name} to {MAX_UTM_VALUE_CHARS} characters at most.")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, format!("The {name} cannot contain line breaks or tabs.")));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// `utm_source` for a platform: the names analytics tools recognise as social sources (X's links
/// have been counted as `twitter` for years, and its short links still are `t.co`).
pub fn utm_source(platform: Platform) -> &'static str {
    match platform {
        Platform::X => "twitter",
        Platform::Linkedin => "linkedin",
        Platform::Facebook => "facebook",
    }
}

/// `url` with the UTM parameters for `platform` added. A parameter the link already has is kept
/// as it is (the person chose it); a link that is not an http(s) URL is returned unchanged.
#[cfg(feature = "store")]
pub fn tag(url: &str, platform: Platform, utm: &Utm) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_owned() };
    if !matches!(parsed.scheme(), "http" | "https") {
        return url.to_owned();
    }
    let present: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let wanted =
        [("utm_source", Some(utm_source(platform))), ("utm_medium", Some(utm.medium.as_str())), ("utm_campaign", utm.campaign.as_deref())];
    let missing: Vec<(&str, &str)> =
        wanted.into_iter().filter_map(|(k, v)| Some((k, v?))).filter(|(k, _)| !present.iter().any(|p| p == k)).collect();
    if missing.is_empty() {
        return url.to_owned();
    }
    parsed.query_pairs_mut().extend_pairs(missing);
    parsed.into()
}

/// Every web address in `text` (a word starting with `http://` or `https://`, without the
/// punctuation that ends a sentence after it), replaced by what `replace` makes of it.
pub fn rewrite_links(text: &str, mut replace: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        out.push_str(&rest[..start]);
        let word = &rest[start..];
        let end = word.find(char::is_whitespace).unwrap_or(word.len());
        // "See https://example.com/a." ends the sentence, not the link; a link inside brackets or
        // quotes ends before them.
        let link = word[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '"', '\'', '’', '”', '»']);
        out.push_str(&replace(link));
        rest = &word[link.len()..];
    }
    out.push_str(rest);
    out
}

/// Where the next link starts: `http://` or `https://` at the start of a word (or after an
/// opening bracket or quote).
fn find_link(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find("http").map(|i| i + from) {
        let tail = &text[found..];
        let is_link = tail.starts_with("https://") || tail.starts_with("http://");
        let at_word_start = text[..found].chars().next_back().is_none_or(|c| c.is_whitespace() || "([\"'“‘«<".contains(c));
        let has_host = tail.split("//").nth(1).and_then(|h| h.chars().next()).is_some_and(|c| !c.is_whitespace());
        if is_link && at_word_start && has_host {
            return Some(found);
        }
        from = found + 4;
    }
    None
}

/// Whether a short link's code is one Crier could have made (checked before any lookup).
pub fn is_short_code(code: &str) -> bool {
    (SHORT_CODE_LEN..=SHORT_CODE_LEN).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The length of a short link's code: 62^10 codes, so guessing one is hopeless.
pub const SHORT_CODE_LEN: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_trims_defaults_the_medium_and_refuses_what_cannot_be_sent() {
        let tracking = LinkTracking::parse(true, "  spring launch ", "", false).unwrap();
        assert_eq!(tracking.utm, Some(Utm { campaign: Some("spring launch".into()), medium: "social".into() }));
        assert!(LinkTracking::parse(false, "", "", false).unwrap().is_off());
        assert!(!LinkTracking::parse(false, "", "", true).unwrap().is_off());
        let long = "x".repeat(MAX_UTM_VALUE_CHARS + 1);
        assert_eq!(LinkTracking::parse(true, &long, "", false).unwrap_err().field, "utm_campaign");
        assert_eq!(LinkTracking::parse(true, "", "a\nb", false).unwrap_err().field, "utm_medium");
        // Checked even when off: what was typed is not silently thrown away.
        assert!(LinkTracking::parse(false, &long, "", false).is_err());
    }

    #[cfg(feature = "store")]
    #[test]
    fn tagging_adds_what_is_missing_and_keeps_what_the_link_has() {
        let utm = Utm { campaign: Some("spring launch".into()), medium: "social".into() };
        assert_eq!(
            tag("https://example.com/a?x=1#top", Platform::X, &utm),
            "https://example.com/a?x=1&utm_source=twitter&utm_medium=social&utm_campaign=spring+launch#top"
        );
        assert_eq!(
            tag("https://example.com/?utm_source=newsletter", Platform::Linkedin, &Utm { campaign: None, medium: "paid".into() }),
            "https://example.com/?utm_source=newsletter&utm_medium=paid"
        );
        assert_eq!(tag("not a url", Platform::Facebook, &utm), "not a url");
        assert_eq!(tag("ftp://example.com/file", Platform::Facebook, &utm), "ftp://example.com/file");
    }

    #[test]
    fn links_in_text_are_found_without_the_punctuation_around_them() {
        let text = "Read https://example.com/a. Or (https://example.com/b), “https://x.org/c” and http://y.org!\nnohttps://z.org https://";
        let mut seen = Vec::new();
        let out = rewrite_links(text, |link| {
            seen.push(link.to_owned());
            "L".to_owned()
        });
        assert_eq!(seen, ["https://example.com/a", "https://example.com/b", "https://x.org/c", "http://y.org"]);
        assert_eq!(out, "Read L. Or (L), “L” and L!\nnohttps://z.org https://");
        assert_eq!(rewrite_links("no links here", |_| unreachable!()), "no links here");
    }

    #[test]
    fn short_codes_are_checked_before_any_lookup() {
        assert!(is_short_code("aB3dE5gH9k"));
        assert!(!is_short_code("aB3dE5gH9"));
        assert!(!is_short_code("aB3dE5gH9-"));
        assert!(!is_short_code(&"a".repeat(1000)));
    }
}
