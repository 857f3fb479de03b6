//! Emoji sequences, which twitter-text v3 counts as 2 however many code points they hold.
//!
//! twitter-text finds them with twemoji-parser's regular expression (13 KB listing every emoji of
//! its Unicode version). Only *sequences* change the count (a lone emoji code point weighs 2
//! anyway, being outside the light ranges), so this module recognises their structure (Unicode
//! UTS #51) instead of listing them, with one 78-range table of Extended_Pictographic code points
//! and one 40-range table of modifier bases (under 1 KB together):
//!
//! - keycaps: `[0-9#*]`, an optional U+FE0F, U+20E3 (`1⃣`);
//! - flags: two regional indicators (`🇯🇵`), or U+1F3F4 with tag characters (`🏴󠁧󠁢󠁥󠁮󠁧󠁿`);
//! - an element: a pictographic code point with an optional U+FE0F, or a skin-tone modifier after
//!   a modifier base (`🙋🏽`); and elements joined by U+200D (`👨‍👩‍👧‍👦`, `❤️‍🔥`).
//!
//! `©` and `®` sit in the light range (weight 1), so as twemoji does they are emoji only when
//! followed by U+FE0F. The difference from twemoji: a joined sequence that is not a recommended
//! emoji (`👨‍🐱`) counts 2 here and 5 there, and so do sequences newer than twemoji's list, which X
//! itself counts as 2 today.

/// U+200D ZERO WIDTH JOINER: joins elements into one emoji.
const ZWJ: char = '\u{200D}';
/// U+FE0F VARIATION SELECTOR-16: "show the preceding character as an emoji".
const VS16: char = '\u{FE0F}';
/// U+20E3 COMBINING ENCLOSING KEYCAP.
const KEYCAP: char = '\u{20E3}';
/// U+1F3F4 WAVING BLACK FLAG, the base of subdivision flags (England, Scotland, Wales).
const BLACK_FLAG: char = '\u{1F3F4}';
/// U+E007F CANCEL TAG, the end of a tag sequence.
const CANCEL_TAG: char = '\u{E007F}';

/// Extended_Pictographic (Unicode 16.0 `emoji-data.txt`, as the `regex-syntax` crate's generated
/// tables have it): every code point that is, or is reserved to be, an emoji.
const EXTENDED_PICTOGRAPHIC: &[(u32, u32)] = &[
    (0xA9, 0xA9),
    (0xAE, 0xAE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
];

/// Emoji_Modifier_Base (same source): the people and body parts that take a skin tone.
const MODIFIER_BASE: &[(u32, u32)] = &[
    (0x261D, 0x261D),
    (0x26F9, 0x26F9),
    (0x270A, 0x270D),
    (0x1F385, 0x1F385),
    (0x1F3C2, 0x1F3C4),
    (0x1F3C7, 0x1F3C7),
    (0x1F3CA, 0x1F3CC),
    (0x1F442, 0x1F443),
    (0x1F446, 0x1F450),
    (0x1F466, 0x1F478),
    (0x1F47C, 0x1F47C),
    (0x1F481, 0x1F483),
    (0x1F485, 0x1F487),
    (0x1F48F, 0x1F48F),
    (0x1F491, 0x1F491),
    (0x1F4AA, 0x1F4AA),
    (0x1F574, 0x1F575),
    (0x1F57A, 0x1F57A),
    (0x1F590, 0x1F590),
    (0x1F595, 0x1F596),
    (0x1F645, 0x1F647),
    (0x1F64B, 0x1F64F),
    (0x1F6A3, 0x1F6A3),
    (0x1F6B4, 0x1F6B6),
    (0x1F6C0, 0x1F6C0),
    (0x1F6CC, 0x1F6CC),
    (0x1F90C, 0x1F90C),
    (0x1F90F, 0x1F90F),
    (0x1F918, 0x1F91F),
    (0x1F926, 0x1F926),
    (0x1F930, 0x1F939),
    (0x1F93C, 0x1F93E),
    (0x1F977, 0x1F977),
    (0x1F9B5, 0x1F9B6),
    (0x1F9B8, 0x1F9B9),
    (0x1F9BB, 0x1F9BB),
    (0x1F9CD, 0x1F9CF),
    (0x1F9D1, 0x1F9DD),
    (0x1FAC3, 0x1FAC5),
    (0x1FAF0, 0x1FAF8),
];

/// How many chars the emoji sequence starting at `start` spans, if one starts there. A lone
/// emoji code point is a sequence of 1.
pub(crate) fn sequence_len(text: &[char], start: usize) -> Option<usize> {
    let first = *text.get(start)?;
    if matches!(first, '0'..='9' | '#' | '*') {
        return keycap_end(text, start).map(|end| end - start);
    }
    if is_regional_indicator(first) {
        // A pair is a flag; a lone indicator weighs 2 as a plain character would.
        return Some(if text.get(start + 1).copied().is_some_and(is_regional_indicator) { 2 } else { 1 });
    }
    let mut end = element_end(text, start)?;
    while text.get(end) == Some(&ZWJ) {
        match element_end(text, end + 1) {
            Some(joined_end) => end = joined_end,
            None => break,
        }
    }
    Some(end - start)
}

/// `1⃣` or `1️⃣`.
fn keycap_end(text: &[char], start: usize) -> Option<usize> {
    let mut end = start + 1;
    if text.get(end) == Some(&VS16) {
        end += 1;
    }
    (text.get(end) == Some(&KEYCAP)).then_some(end + 1)
}

/// One emoji element: a pictograph with its presentation selector or skin tone, or a tag flag.
fn element_end(text: &[char], start: usize) -> Option<usize> {
    let base = *text.get(start)?;
    if !in_table(EXTENDED_PICTOGRAPHIC, base) {
        return None;
    }
    let next = start + 1;
    if base == BLACK_FLAG
        && let Some(end) = tag_sequence_end(text, next)
    {
        return Some(end);
    }
    match text.get(next) {
        Some(&VS16) => Some(next + 1),
        Some(&modifier) if is_skin_tone(modifier) && in_table(MODIFIER_BASE, base) => Some(next + 1),
        // `©` and `®` are text unless asked to be emoji (and weigh 1 as text).
        _ if base == '©' || base == '®' => None,
        _ => Some(next),
    }
}

/// The end of `tag+ cancel-tag` starting at `start` (the letters of `gbeng` in England's flag).
fn tag_sequence_end(text: &[char], start: usize) -> Option<usize> {
    let tags = text[start.min(text.len())..].iter().take_while(|&&c| matches!(c, '\u{E0020}'..='\u{E007E}')).count();
    (tags > 0 && text.get(start + tags) == Some(&CANCEL_TAG)).then_some(start + tags + 1)
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

fn is_skin_tone(c: char) -> bool {
    matches!(c, '\u{1F3FB}'..='\u{1F3FF}')
}

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table
        .binary_search_by(|&(start, end)| {
            if end < c {
                std::cmp::Ordering::Less
            } else if start > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(text: &str) -> Option<usize> {
        sequence_len(&text.chars().collect::<Vec<_>>(), 0)
    }

    #[test]
    fn recognises_each_kind_of_sequence() {
        assert_eq!(len("😷"), Some(1));
        assert_eq!(len("❤️"), Some(2));
        assert_eq!(len("🙋🏽x"), Some(2));
        assert_eq!(len("👨‍👩‍👧‍👦"), Some(7));
        assert_eq!(len("❤️‍🔥"), Some(4));
        assert_eq!(len("🏳️‍🌈"), Some(4));
        assert_eq!(len("1⃣"), Some(2));
        assert_eq!(len("#️⃣"), Some(3));
        assert_eq!(len("🇯🇵🇫🇷"), Some(2));
        assert_eq!(len("🏴󠁧󠁢󠁥󠁮󠁧󠁿"), Some(7));
        assert_eq!(len("©️"), Some(2));
    }

    #[test]
    fn leaves_plain_characters_alone() {
        assert_eq!(len("a"), None);
        assert_eq!(len("1"), None);
        assert_eq!(len("©"), None);
        assert_eq!(len("故"), None);
        // A skin tone only joins a person or a hand; a trailing joiner joins nothing.
        assert_eq!(len("🐱🏽"), Some(1));
        assert_eq!(len("👨\u{200D}a"), Some(1));
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for table in [EXTENDED_PICTOGRAPHIC, MODIFIER_BASE] {
            assert!(table.windows(2).all(|pair| pair[0].1 < pair[1].0));
            assert!(table.iter().all(|&(start, end)| start <= end));
        }
    }
}
