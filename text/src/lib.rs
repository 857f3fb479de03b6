//! How long a post's text is on each platform, what the platform allows, and whether it fits.
//!
//! Pure functions (no I/O, no async), compiled into the server and into the browser's wasm bundle
//! alike: the compose box shows the same count the scheduler enforces before publishing.
//!
//! | platform | counts | limit |
//! |----------|--------|-------|
//! | X        | twitter-text v3 weighted length ([`x_weighted_length`]): after NFC, 1 per code point up to U+10FF (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic…) and for common punctuation, 2 for others (CJK…), 23 per URL, 2 per emoji | 280 |
//! | LinkedIn | characters (code points) as typed, before [`linkedin_escape`] | 3,000 |
//! | Facebook | characters (code points) | 63,206 |
//!
//! A text that is empty or only whitespace is never valid, on any platform.
//!
//! LinkedIn and Meta do not say what unit their limits count; code points are what a person
//! would call characters. (Counting UTF-16 units instead would make each emoji count 2.)

pub mod derive;
mod linkedin;
mod shown;
mod x;

use crier_platform::Platform;
use serde::{Deserialize, Serialize};

pub use linkedin::linkedin_escape;
pub use shown::{FOLD, Fold, Mark, Piece, Shown, shown};
pub use x::{WeightRange, XConfig, XParse, x_parse, x_weighted_length};

/// The most a post may count on `platform`, in the units [`check`] counts.
///
/// X: 280 weighted characters (twitter-text's `maxWeightedTweetLength`). LinkedIn: 3,000
/// characters for a post's commentary (the product brief; LinkedIn's own documentation gives no
/// figure). Facebook: 63,206 characters for a Page post.
pub fn limit(platform: Platform) -> usize {
    match platform {
        Platform::X => XConfig::V3.max_weighted_length,
        Platform::Linkedin => 3_000,
        Platform::Facebook => 63_206,
    }
}

/// A post text measured for one platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextCheck {
    /// The platform it was measured for.
    pub platform: Platform,
    /// Its length as the platform counts it (X: weighted length).
    pub length: usize,
    /// The platform's limit ([`limit`]).
    pub limit: usize,
    /// Not blank, within the limit, and (on X) free of the characters X refuses.
    pub valid: bool,
}

/// Measures `text` for `platform` (see the table in the crate documentation).
///
/// The text is measured as the person typed it: LinkedIn's escaping ([`linkedin_escape`]) is
/// for the API request and does not count against the limit.
///
/// ```
/// use crier_platform::Platform;
/// use crier_text::check;
/// let x = check(Platform::X, "故人西辞黄鹤楼");
/// assert_eq!((x.length, x.limit, x.valid), (14, 280, true));
/// assert!(!check(Platform::Linkedin, "  \n ").valid);
/// ```
pub fn check(platform: Platform, text: &str) -> TextCheck {
    let limit = limit(platform);
    let (length, fits) = match platform {
        Platform::X => {
            let parse = x_parse(text, &XConfig::V3);
            (parse.weighted_length, parse.valid)
        }
        Platform::Linkedin | Platform::Facebook => {
            let length = text.chars().count();
            (length, length <= limit)
        }
    };
    // A post with nothing to read is a mistake on every platform (X would take a lone space).
    let blank = text.trim().is_empty();
    TextCheck { platform, length, limit, valid: fits && !blank }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` of `count` copies of `unit`: (length, valid).
    fn repeated(platform: Platform, unit: &str, count: usize) -> (usize, bool) {
        let result = check(platform, &unit.repeat(count));
        assert_eq!((result.platform, result.limit), (platform, limit(platform)));
        (result.length, result.valid)
    }

    #[test]
    fn x_allows_exactly_280() {
        assert_eq!(repeated(Platform::X, "a", 280), (280, true));
        assert_eq!(repeated(Platform::X, "a", 281), (281, false));
        // CJK weighs 2: 140 fit.
        assert_eq!(repeated(Platform::X, "故", 140), (280, true));
        assert_eq!(repeated(Platform::X, "故", 141), (282, false));
    }

    #[test]
    fn linkedin_allows_exactly_3000_characters_as_typed() {
        assert_eq!(repeated(Platform::Linkedin, "a", 3_000), (3_000, true));
        assert_eq!(repeated(Platform::Linkedin, "a", 3_001), (3_001, false));
        // Characters, not bytes: 3,000 emoji fit.
        assert_eq!(repeated(Platform::Linkedin, "👋", 3_000), (3_000, true));
        // Escaping doubles these, but the limit applies to the text as typed.
        assert_eq!(repeated(Platform::Linkedin, "(", 3_000), (3_000, true));
    }

    #[test]
    fn facebook_allows_exactly_63206_characters() {
        assert_eq!(repeated(Platform::Facebook, "a", 63_206), (63_206, true));
        assert_eq!(repeated(Platform::Facebook, "a", 63_207), (63_207, false));
    }

    #[test]
    fn blank_text_is_never_valid() {
        for platform in Platform::ALL {
            for blank in ["", " ", "\n\t \u{3000}"] {
                assert!(!check(platform, blank).valid, "{platform} {blank:?}");
            }
            assert!(check(platform, " hi ").valid, "{platform}");
        }
    }

    #[test]
    fn checks_serialize_with_the_platform_lowercase() {
        let check = check(Platform::X, "hi");
        let json = serde_json::to_string(&check).unwrap();
        assert_eq!(json, r#"{"platform":"x","length":2,"limit":280,"valid":true}"#);
        assert_eq!(serde_json::from_str::<TextCheck>(&json).unwrap(), check);
    }
}
