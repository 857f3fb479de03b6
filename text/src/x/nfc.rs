//! Unicode Normalization Form C.
//!
//! In the browser (the wasm bundle) it is the browser's own `String.prototype.normalize("NFC")`,
//! which is what twitter-text itself calls: the tables stay out of the bundle (29 KB gzipped).
//! Elsewhere (the server, which decides what is valid when a post is saved) it is built from
//! `unicode-normalization`'s canonical primitives.
//!
//! Why not its `str::nfc()`: that iterator chooses between canonical and compatibility
//! decomposition at run time, so it links every decomposition table, canonical or not: 124 KB of
//! wasm, 62 KB gzipped (measured, `opt-level = "z"`, LTO). NFC needs only the canonical ones,
//! which `decompose_canonical`, `canonical_combining_class` and `compose` use: 53 KB, 29 KB
//! gzipped. The algorithm is UAX #15's, the same as the crate's; a test checks the two agree.

#[cfg(not(target_arch = "wasm32"))]
use unicode_normalization::char::{canonical_combining_class, compose, decompose_canonical};

/// `text` in NFC, as chars: the browser's `text.normalize()`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn nfc(text: &str) -> Vec<char> {
    let normalized: String = js_sys::JsString::from(text).normalize("NFC").into();
    normalized.chars().collect()
}

/// `text` in NFC, as chars (what JavaScript's `text.normalize()` returns, which twitter-text
/// counts).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn nfc(text: &str) -> Vec<char> {
    let mut chars = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose_canonical(c, |d| chars.push(d));
    }
    order_marks(&mut chars);
    compose_all(&chars)
}

/// Canonical ordering: each run of combining marks sorted by combining class, keeping the order
/// of marks of the same class (`e` + acute + dot below and `e` + dot below + acute are the same).
#[cfg(not(target_arch = "wasm32"))]
fn order_marks(chars: &mut [char]) {
    // Insertion sort: runs are a few marks long, and it is stable.
    for i in 1..chars.len() {
        let class = canonical_combining_class(chars[i]);
        if class == 0 {
            continue;
        }
        let mut j = i;
        while j > 0 && canonical_combining_class(chars[j - 1]) > class {
            chars.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Canonical composition: each mark joins the last starter before it unless a mark of the same
/// or a higher class stands in between (it is "blocked").
#[cfg(not(target_arch = "wasm32"))]
fn compose_all(chars: &[char]) -> Vec<char> {
    let mut composed: Vec<char> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    // The class of the last char kept since the starter (none kept yet: `None`).
    let mut last_class: Option<u8> = None;
    for &c in chars {
        let class = canonical_combining_class(c);
        if let Some(at) = starter {
            let blocked = last_class.is_some_and(|last| last >= class);
            if !blocked && let Some(joined) = compose(composed[at], c) {
                composed[at] = joined;
                continue;
            }
        }
        if class == 0 {
            starter = Some(composed.len());
            last_class = None;
        } else if starter.is_some() {
            last_class = Some(class);
        }
        composed.push(c);
    }
    composed
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization;

    use super::*;

    fn ours(text: &str) -> String {
        nfc(text).into_iter().collect()
    }

    #[test]
    fn agrees_with_the_crate_on_every_code_point() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(ours(&text), text.nfc().collect::<String>(), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn agrees_with_the_crate_on_mixed_sequences() {
        // Starters, marks of several classes, Hangul jamo and syllables, composition exclusions,
        // singletons; strings drawn from them by a fixed pseudo-random walk.
        let alphabet: Vec<char> = "aeAEoOsSuU\u{300}\u{301}\u{302}\u{303}\u{308}\u{323}\u{327}\u{328}\u{31B}\u{345}\u{5B4}\u{5BC}\u{5C1}\
             \u{5E9}\u{FB2C}\u{1100}\u{1161}\u{11A8}\u{AC00}\u{AC01}\u{212B}\u{2126}\u{F900}\u{958}\u{93C}\u{915}\u{1E0A}\u{1E0C}\
             \u{3099}\u{304B}\u{30AB}\u{FF76}\u{1D15E}\u{1D165}\u{1D16E}\u{0F73}\u{0F71}\u{0F72}\u{0F74}"
            .chars()
            .collect();
        let mut state: u64 = 0x5DEE_CE66;
        for _ in 0..50_000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (state >> 60) as usize + 1;
            let text: String = (0..len).map(|i| alphabet[((state >> (i * 4 % 56)) as usize + i * 7) % alphabet.len()]).collect();
            assert_eq!(ours(&text), text.nfc().collect::<String>(), "{text:?}");
        }
    }

    #[test]
    fn composes_what_twitter_text_expects() {
        assert_eq!(ours("A\u{301}B"), "\u{C1}B");
        // U+FB2C is excluded from composition: NFC expands it to three code points.
        assert_eq!(nfc("A\u{FB2C}").len(), 4);
        assert_eq!(ours("\u{1100}\u{1161}\u{11A8}"), "\u{AC01}");
    }
}
