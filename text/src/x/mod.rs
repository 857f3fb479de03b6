//! X's post length: twitter-text's `parseTweet` (v3 rules), ported from its JavaScript
//! (`js/src/parseTweet.js`, twitter-text 3.1, Apache-2.0).
//!
//! X does not count characters. It normalises the text to NFC, then adds a weight per code point
//! (1 for Latin, punctuation and the like, 2 for CJK and everything else), 23 for each URL
//! (whatever its length, as it becomes a t.co link) and, since v3, 2 for each emoji sequence
//! (a family of four is one emoji, not seven code points). A post may weigh 280.

mod emoji;
pub(crate) mod nfc;
mod pattern;
mod punycode;
mod tlds;
pub(crate) mod url;

/// A code point range that weighs other than the default (weights are scaled: 100 is 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightRange {
    /// First code point of the range.
    pub start: u32,
    /// Last code point of the range (inclusive).
    pub end: u32,
    /// Scaled weight of each code point in the range.
    pub weight: usize,
}

/// A twitter-text configuration (`config/v*.json`). X uses [`XConfig::V3`]; the older ones are
/// here because the conformance suite still checks them, and so that a change of rules at X is a
/// new constant rather than new code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XConfig {
    /// The most a valid post may weigh (`maxWeightedTweetLength`).
    pub max_weighted_length: usize,
    /// What one unit of weight is worth (`scale`): weights are integers, so 100 lets a code point
    /// weigh 1 while the total is still reported in whole units.
    pub scale: usize,
    /// The scaled weight of a code point in none of `ranges` (`defaultWeight`), and of an emoji.
    pub default_weight: usize,
    /// How many units a URL weighs (`transformedURLLength`): the length of a t.co link.
    pub transformed_url_length: usize,
    /// Code points that weigh other than the default (the first range containing one applies).
    pub ranges: &'static [WeightRange],
    /// Whether an emoji sequence weighs `default_weight` once (`emojiParsingEnabled`, v3).
    pub emoji_parsing: bool,
}

/// The light ranges of v2 and v3: Latin, Greek, Cyrillic, Hebrew, Arabic, Indic scripts and more
/// (0–4351), and spaces, dashes, quotes and primes of General Punctuation.
const LIGHT_RANGES: &[WeightRange] = &[
    WeightRange { start: 0, end: 4351, weight: 100 },
    WeightRange { start: 8192, end: 8205, weight: 100 },
    WeightRange { start: 8208, end: 8223, weight: 100 },
    WeightRange { start: 8242, end: 8247, weight: 100 },
];

impl XConfig {
    /// v1: 140 characters, each weighing 1, URLs 23.
    pub const V1: XConfig =
        XConfig { max_weighted_length: 140, scale: 1, default_weight: 1, transformed_url_length: 23, ranges: &[], emoji_parsing: false };
    /// v2: 280, with CJK and other scripts outside the light ranges weighing 2.
    pub const V2: XConfig = XConfig {
        max_weighted_length: 280,
        scale: 100,
        default_weight: 200,
        transformed_url_length: 23,
        ranges: LIGHT_RANGES,
        emoji_parsing: false,
    };
    /// v3, what X uses: v2 plus emoji sequences weighing 2 each.
    pub const V3: XConfig = XConfig { emoji_parsing: true, ..XConfig::V2 };
}

/// Everything twitter-text's `parseTweet` reports about a text. Positions are UTF-16 code unit
/// indices into the text as given (not normalised), inclusive, as JavaScript and the browser's
/// text fields count: a compose box can mark the text past `valid_range_end` as too long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XParse {
    /// The weighted length (X's "characters").
    pub weighted_length: usize,
    /// Within the limit, not empty, and free of the characters X refuses (U+FFFE, U+FEFF, U+FFFF).
    pub valid: bool,
    /// The weighted length in thousandths of the limit, rounded down.
    pub permillage: usize,
    /// The last UTF-16 index still within the limit (0 when nothing is).
    pub valid_range_end: usize,
    /// The last UTF-16 index of the text (0 for an empty text).
    pub display_range_end: usize,
}

/// X's weighted length of `text` under the current (v3) rules; the limit is 280.
///
/// ```
/// assert_eq!(crier_text::x_weighted_length("Hello, world! 👋"), 16);
/// assert_eq!(crier_text::x_weighted_length("café"), 4);
/// assert_eq!(crier_text::x_weighted_length("see https://example.com/a/very/long/path"), 27);
/// ```
pub fn x_weighted_length(text: &str) -> usize {
    x_parse(text, &XConfig::V3).weighted_length
}

/// Parses `text` as twitter-text's `parseTweet(text, config)` does (see [`XParse`]).
///
/// Unlike [`crate::check`], a text of only spaces is valid here (it weighs more than 0), as it is
/// to twitter-text.
pub fn x_parse(text: &str, config: &XConfig) -> XParse {
    let normalized = nfc::nfc(text);
    let urls = url::extract_urls(&normalized);
    let max_scaled = config.max_weighted_length * config.scale;

    let mut next_url = urls.iter().peekable();
    let mut weighted = 0;
    let mut valid = true;
    let mut valid_display_index = 0;
    let mut index = 0; // In chars of `normalized`.
    let mut utf16_index = 0; // The same position in UTF-16 units.
    while index < normalized.len() {
        // URLs that an emoji or another URL already covered cannot start a step.
        while next_url.next_if(|url| url.start < index).is_some() {}
        let (len, weight) = if let Some(url) = next_url.next_if(|url| url.start == index) {
            (url.len, config.transformed_url_length * config.scale)
        } else if let Some(len) = config.emoji_parsing.then(|| emoji::sequence_len(&normalized, index)).flatten() {
            (len, config.default_weight)
        } else {
            (1, char_weight(normalized[index], config))
        };
        let step = &normalized[index..(index + len.max(1)).min(normalized.len())];
        weighted += weight;
        utf16_index += step.iter().map(|c| c.len_utf16()).sum::<usize>();
        // As in parseTweet: once a refused character is seen the text stays invalid, and the valid
        // range ends at the last step that was still valid and within the limit.
        valid = valid && !step.last().copied().is_some_and(url::is_invalid);
        if valid && weighted <= max_scaled {
            valid_display_index = utf16_index - 1;
        }
        index += step.len();
    }

    let weighted_length = weighted / config.scale;
    let original_utf16: usize = text.encode_utf16().count();
    // parseTweet adds (original length - normalised length) to map the index back to the text as
    // given; it can only go below 0 in corners, where 0 is the honest answer.
    let normalization_offset = original_utf16 as isize - utf16_index as isize;
    XParse {
        weighted_length,
        valid: valid && weighted_length > 0 && weighted_length <= config.max_weighted_length,
        permillage: weighted_length * 1000 / config.max_weighted_length,
        valid_range_end: (valid_display_index as isize + normalization_offset).max(0) as usize,
        display_range_end: original_utf16.saturating_sub(1),
    }
}

/// The scaled weight of one code point: the first range that holds it, else the default.
fn char_weight(c: char, config: &XConfig) -> usize {
    let code = u32::from(c);
    config.ranges.iter().find(|range| (range.start..=range.end).contains(&code)).map_or(config.default_weight, |range| range.weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighs_scripts_urls_and_emoji_as_x_documents() {
        // docs.x.com, "Counting characters".
        assert_eq!(x_weighted_length("Hello, world! 👋"), 16);
        assert_eq!(x_weighted_length("café"), 4);
        assert_eq!(x_weighted_length("cafe\u{301}"), 4);
        assert_eq!(x_weighted_length("故人"), 4);
        assert_eq!(x_weighted_length("👨‍👩‍👧‍👦"), 2);
        assert_eq!(x_weighted_length("https://example.com/a/very/long/path/that/is/much/longer/than/23"), 23);
        assert_eq!(x_weighted_length("example.com"), 23);
        assert_eq!(x_weighted_length(""), 0);
    }

    #[test]
    fn refused_characters_make_the_text_invalid() {
        for refused in ['\u{FFFE}', '\u{FEFF}', '\u{FFFF}'] {
            let parse = x_parse(&format!("Hello{refused}"), &XConfig::V3);
            assert!(!parse.valid, "{refused:?}");
        }
        assert!(x_parse("Hello", &XConfig::V3).valid);
    }

    #[test]
    fn the_valid_range_ends_at_the_limit() {
        let text = "a".repeat(281);
        let parse = x_parse(&text, &XConfig::V3);
        assert_eq!((parse.weighted_length, parse.valid, parse.valid_range_end, parse.display_range_end), (281, false, 279, 280));
    }
}
