//! URL extraction as twitter-text 3.1 does it (`js/src/extractUrlsWithIndices.js` and the patterns
//! in `js/src/regexp/`): X counts every URL it finds as 23 whatever its length, so where a URL
//! starts and ends, and whether `example.com` is one, decides the count.
//!
//! The patterns below mirror the JavaScript ones name for name; the comments quote them. Known
//! differences, all in corners no real post reaches: case-insensitive matching is ASCII-only (an
//! upper-case Cyrillic TLD is not recognised), positions are code points where JavaScript has
//! UTF-16 units (an emoji inside a host name splits differently), and a URL path ends after
//! 32 nested parenthesised parts (see `pattern::MAX_ITERATIONS`).

use std::sync::LazyLock;

use super::pattern::{Captures, Pattern, Subject, either, group, label, lit, opt, plus, seq, set, star, words};
use super::{punycode, tlds};

/// A URL found in the text: where it starts and how many characters X replaces by a t.co link,
/// both in chars of the NFC-normalised text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UrlEntity {
    pub start: usize,
    pub len: usize,
}

/// twitter-text's `MAX_URL_LENGTH`: longer URLs are not URLs.
const MAX_URL_LENGTH: usize = 4096;
/// twitter-text's `MAX_TCO_SLUG_LENGTH`.
const MAX_TCO_SLUG_LENGTH: usize = 40;
/// The protocol assumed for the length check of a URL written without one.
const DEFAULT_PROTOCOL: &str = "https://";

// Groups of EXTRACT_URL.
const BEFORE: usize = 1;
const URL: usize = 2;
const PROTOCOL: usize = 3;
const DOMAIN: usize = 4;
const PATH: usize = 5;

/// The URLs in `text` (NFC-normalised), in order.
pub(crate) fn extract_urls(text: &[char]) -> Vec<UrlEntity> {
    let mut urls = Vec::new();
    // Every pattern needs a dot; most posts have none worth scanning for.
    if !text.contains(&'.') {
        return urls;
    }
    let subject = Subject::new(text);
    let mut from = 0;
    while let Some(captures) = EXTRACT_URL.find(&subject, from) {
        // Like the JavaScript loop, a rejected match is skipped whole, not retried shorter.
        from = span(&captures, 0).1;
        let (url_start, url_end) = span(&captures, URL);
        let (domain_start, domain_end) = span(&captures, DOMAIN);
        let url = &text[url_start..url_end];
        let domain = &text[domain_start..domain_end];
        let protocol_length = captures[PROTOCOL].map_or(DEFAULT_PROTOCOL.len(), |(start, end)| end - start);
        if !is_valid_url(url, protocol_length, domain) {
            continue;
        }
        if captures[PROTOCOL].is_some() {
            let Some(len) = with_protocol_length(url) else { continue };
            urls.push(UrlEntity { start: url_start, len });
        } else {
            let before = captures[BEFORE].and_then(|(start, end)| text[start..end].last().copied());
            push_without_protocol(&mut urls, before, &captures, domain, url.len());
        }
    }
    urls
}

/// Where group `index` matched (an empty range at 0 if it did not take part).
fn span(captures: &Captures, index: usize) -> (usize, usize) {
    captures[index].unwrap_or((0, 0))
}

/// How much of a URL with a protocol counts: all of it, except that a t.co link ends with its
/// slug (and query), and a t.co link with a slug over 40 characters is no URL at all.
fn with_protocol_length(url: &[char]) -> Option<usize> {
    let Some(tco) = VALID_TCO_URL.match_at(&Subject::new(url), 0) else { return Some(url.len()) };
    let (slug_start, slug_end) = span(&tco, 1);
    (slug_end - slug_start <= MAX_TCO_SLUG_LENGTH).then_some(span(&tco, 0).1)
}

/// A URL without a protocol counts only from its ASCII host on (`www.example.com` in
/// `例えばwww.example.com`); every ASCII host in it is a URL, and the last one takes the path.
fn push_without_protocol(urls: &mut Vec<UrlEntity>, before: Option<char>, captures: &Captures, domain: &[char], url_len: usize) {
    // invalidUrlWithoutProtocolPrecedingChars: /[-_.\/]$/ (not in `foo.bar.com`'s middle, say).
    if before.is_some_and(|c| matches!(c, '-' | '_' | '.' | '/')) {
        return;
    }
    let domain_start = span(captures, DOMAIN).0;
    let subject = Subject::new(domain);
    let mut last = None;
    let mut from = 0;
    while let Some(found) = VALID_ASCII_DOMAIN.find(&subject, from) {
        let (start, end) = span(&found, 0);
        urls.push(UrlEntity { start: domain_start + start, len: end - start });
        last = Some(urls.len() - 1);
        from = end;
    }
    // JavaScript: `lastUrl.url = url.replace(domain, lastUrl.url)` when there is a path: the
    // ASCII host plus whatever followed the host (port, path, query).
    if let (Some(last), Some(_)) = (last, captures[PATH]) {
        urls[last].len += url_len - domain.len();
    }
}

/// twitter-text's `isValidUrl` (in extractUrlsWithIndices.js) with its `idna.toAscii`: every label
/// of the host fits DNS once punycoded, a `xn--` host holds an ASCII domain, and the whole URL
/// (with `https://` when it has no protocol) is at most 4,096 UTF-16 units.
fn is_valid_url(url: &[char], protocol_length: usize, domain: &[char]) -> bool {
    if domain.starts_with(&['x', 'n', '-', '-']) && VALID_ASCII_DOMAIN.find(&Subject::new(domain), 0).is_none() {
        return false;
    }
    let labels_fit =
        domain.split(|&c| c == '.').all(|label| (1..=punycode::MAX_LABEL_LENGTH).contains(&punycode::ascii_label_length(label)));
    let utf16_length: usize = url.iter().map(|c| c.len_utf16()).sum();
    labels_fit && protocol_length + utf16_length <= MAX_URL_LENGTH
}

// ---- Character classes (the `i` flag is spelled out: both cases are listed) ----

/// invalidCharsGroup: `/\uFFFE\uFEFF\uFFFF/`
pub(crate) fn is_invalid(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

/// directionalMarkersGroup: `/\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069/`
fn is_directional_marker(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2066}'..='\u{2069}')
}

/// spacesGroup: `/\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000/`
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{09}'..='\u{0D}' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{180E}' | '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// punct: `/\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$/` (no `"` and no backtick: they are
/// domain characters to twitter-text).
fn is_punctuation(c: char) -> bool {
    "!'#%&()*+,\\-./:;<=>?@[]^_{|}~$".contains(c)
}

/// validDomainChars: `/[^#{punct}#{spacesGroup}#{invalidCharsGroup}#{directionalMarkersGroup}]/`
fn is_domain_char(c: char) -> bool {
    !(is_punctuation(c) || is_space(c) || is_invalid(c) || is_directional_marker(c))
}

/// latinAccentChars:
/// ```text
/// /\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B
///  \u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF/
/// ```
fn is_latin_accent(c: char) -> bool {
    matches!(
        c,
        '\u{C0}'..='\u{D6}'
            | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{24F}'
            | '\u{253}'
            | '\u{254}'
            | '\u{256}'
            | '\u{257}'
            | '\u{259}'
            | '\u{25B}'
            | '\u{263}'
            | '\u{268}'
            | '\u{26F}'
            | '\u{272}'
            | '\u{289}'
            | '\u{28B}'
            | '\u{2BB}'
            | '\u{300}'..='\u{36F}'
            | '\u{1E00}'..='\u{1EFF}'
    )
}

/// cyrillicLettersAndMarks: `/\u0400-\u04FF/`
fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{4FF}')
}

/// Letters as the path patterns take them: `a-z`, Cyrillic and accented Latin.
fn is_path_letter(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_cyrillic(c) || is_latin_accent(c)
}

/// validGeneralUrlPathChars: `/[a-z#{cyrillic}0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&#{latinAccentChars}]/i`
fn is_path_char(c: char) -> bool {
    is_path_letter(c) || "!*';:=+,.$/%#[]-\u{2013}_~@|&".contains(c)
}

/// validUrlPathEndingChars' class: `/[\+\-a-z#{cyrillic}0-9=_#\/#{latinAccentChars}]/i`
fn is_path_ending_char(c: char) -> bool {
    is_path_letter(c) || "+-=_#/".contains(c)
}

/// The label characters of validAsciiDomain: `/[\-a-z0-9#{latinAccentChars}]/i`
fn is_ascii_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || is_latin_accent(c)
}

/// validUrlQueryChars: `/[a-z0-9!?\*'@\(\);:&=\+\$\/%#\[\]\-_\.,~|]/i`
fn is_query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!?*'@();:&=+$/%#[]-_.,~|".contains(c)
}

/// validUrlQueryEndingChars: `/[a-z0-9\-_&=#\/]/i`
fn is_query_ending_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_&=#/".contains(c)
}

// ---- Patterns ----

/// validUrlPrecedingChars: `/(?:[^A-Za-z0-9@＠$#＃#{invalidCharsGroup}]|[#{directionalMarkersGroup}]|^)/`
fn valid_url_preceding_chars() -> Pattern {
    either([
        set(|c| !(c.is_ascii_alphanumeric() || matches!(c, '@' | '＠' | '$' | '#' | '＃') || is_invalid(c))),
        set(is_directional_marker),
        Pattern::Start,
    ])
}

/// A TLD list followed by (?=[^0-9a-zA-Z@+-]|$), as validGTLD and validCCTLD end.
fn tld(list: &'static str) -> Pattern {
    seq([words(list), Pattern::NotFollowedBy(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-'))])
}

/// validPunycode: `/(?:xn--[\-0-9a-z]+)/`
fn valid_punycode() -> Pattern {
    seq([lit("xn--"), plus(set(|c| c.is_ascii_alphanumeric() || c == '-'))])
}

/// validSubdomain: `/(?:(?:#{validDomainChars}(?:[_-]|#{validDomainChars})*)?#{validDomainChars}\.)/`
fn valid_subdomain() -> Pattern {
    label(|c| matches!(c, '_' | '-') || is_domain_char(c), is_domain_char)
}

/// validDomainName: `/(?:(?:#{validDomainChars}(?:-|#{validDomainChars})*)?#{validDomainChars}\.)/`
fn valid_domain_name() -> Pattern {
    label(|c| c == '-' || is_domain_char(c), is_domain_char)
}

/// validDomain: `/(?:#{validSubdomain}*#{validDomainName}(?:#{validGTLD}|#{validCCTLD}|#{validPunycode}))/`
fn valid_domain() -> Pattern {
    seq([star(valid_subdomain()), valid_domain_name(), either([tld(tlds::GENERIC), tld(tlds::COUNTRY), valid_punycode()])])
}

/// validUrlBalancedParens: up to two nested levels, as in Wikipedia's `/Primer_(film)`:
/// `/\((?:#{general}+|(?:#{general}*\(#{general}+\)#{general}*))\)/i`
fn valid_url_balanced_parens() -> Pattern {
    seq([
        lit("("),
        either([
            plus(set(is_path_char)),
            seq([star(set(is_path_char)), lit("("), plus(set(is_path_char)), lit(")"), star(set(is_path_char))]),
        ]),
        lit(")"),
    ])
}

/// validUrlPath: path characters that do not end on punctuation (`/foo.` leaves the period), or
/// an `@` in the middle (`/@user/`):
/// `/(?:(?:#{general}*(?:#{balancedParens}#{general}*)*#{pathEndingChars})|(?:@#{general}+\/))/i`
fn valid_url_path() -> Pattern {
    either([
        seq([
            star(set(is_path_char)),
            star(seq([valid_url_balanced_parens(), star(set(is_path_char))])),
            either([set(is_path_ending_char), valid_url_balanced_parens()]),
        ]),
        seq([lit("@"), plus(set(is_path_char)), lit("/")]),
    ])
}

/// extractUrl:
/// ```text
/// /((#{validUrlPrecedingChars})((https?:\/\/)?(#{validDomain})(?::(#{validPortNumber}))?
///  (\/#{validUrlPath}*)?(\?#{validUrlQueryChars}*#{validUrlQueryEndingChars})?))/gi
/// ```
static EXTRACT_URL: LazyLock<Pattern> = LazyLock::new(|| {
    seq([
        group(BEFORE, valid_url_preceding_chars()),
        group(
            URL,
            seq([
                opt(group(PROTOCOL, seq([lit("http"), opt(lit("s")), lit("://")]))),
                group(DOMAIN, valid_domain()),
                opt(seq([lit(":"), plus(set(|c| c.is_ascii_digit()))])),
                opt(group(PATH, seq([lit("/"), star(valid_url_path())]))),
                opt(seq([lit("?"), star(set(is_query_char)), set(is_query_ending_char)])),
            ]),
        ),
    ])
});

/// validAsciiDomain: `/(?:(?:[\-a-z0-9#{latinAccentChars}]+)\.)+(?:#{validGTLD}|#{validCCTLD}|#{validPunycode})/gi`
static VALID_ASCII_DOMAIN: LazyLock<Pattern> = LazyLock::new(|| {
    seq([plus(label(is_ascii_label_char, is_ascii_label_char)), either([tld(tlds::GENERIC), tld(tlds::COUNTRY), valid_punycode()])])
});

/// validTcoUrl: `/^https?:\/\/t\.co\/([a-z0-9]+)(?:\?#{validUrlQueryChars}*#{validUrlQueryEndingChars})?/i`
static VALID_TCO_URL: LazyLock<Pattern> = LazyLock::new(|| {
    seq([
        lit("http"),
        opt(lit("s")),
        lit("://t.co/"),
        group(1, plus(set(|c| c.is_ascii_alphanumeric()))),
        opt(seq([lit("?"), star(set(is_query_char)), set(is_query_ending_char)])),
    ])
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x::pattern::MAX_ITERATIONS;

    /// The URLs of `text`, as strings.
    fn urls(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        extract_urls(&chars).iter().map(|url| chars[url.start..url.start + url.len].iter().collect()).collect()
    }

    #[test]
    fn finds_urls_with_a_protocol() {
        assert_eq!(urls("see https://example.com/a/b?c=d, then"), ["https://example.com/a/b?c=d"]);
        assert_eq!(urls("http://☃.net/ snow"), ["http://☃.net/"]);
        assert_eq!(urls("HTTPS://www.ExaMPLE.COM/index.html"), ["HTTPS://www.ExaMPLE.COM/index.html"]);
    }

    #[test]
    fn leaves_trailing_punctuation_out() {
        assert_eq!(urls("Go to https://example.com/path. Now!"), ["https://example.com/path"]);
        assert_eq!(urls("(see https://en.wikipedia.org/wiki/Primer_(film))"), ["https://en.wikipedia.org/wiki/Primer_(film)"]);
    }

    #[test]
    fn finds_urls_without_a_protocol_on_known_tlds_only() {
        assert_eq!(urls("example.com and www.example.co.uk/path?q=1"), ["example.com", "www.example.co.uk/path?q=1"]);
        assert!(urls("file.txt or v1.2 or hello.notatld").is_empty());
        // Only the ASCII host counts, not the Japanese text glued in front of it.
        assert_eq!(urls("例えばexample.com"), ["example.com"]);
        // Not after a dash, underscore, dot or slash.
        assert!(urls("-example.com").is_empty());
    }

    #[test]
    fn keeps_tco_links_to_their_slug() {
        assert_eq!(urls("https://t.co/abc123/more"), ["https://t.co/abc123"]);
        assert!(urls(&format!("https://t.co/{}", "a".repeat(41))).is_empty());
    }

    #[test]
    fn rejects_labels_too_long_for_dns() {
        assert!(urls(&format!("https://{}.com", "a".repeat(64))).is_empty());
        assert_eq!(urls(&format!("https://{}.com", "a".repeat(63))).len(), 1);
    }

    #[test]
    fn pathological_texts_stay_fast_and_within_the_stack() {
        // Each of these once took seconds or overflowed the stack (see pattern.rs).
        let kana = "故".repeat(10_000) + ".";
        let labels = "a.".repeat(10_000);
        let parens = format!("https://example.com/{}", "(a)".repeat(5_000));
        for text in [&kana, &labels, &parens] {
            let chars: Vec<char> = text.chars().collect();
            let found = extract_urls(&chars);
            assert!(found.len() <= 1, "{found:?}");
        }
        // A path past the bound on nested repetitions ends there, still a URL.
        let cut = &urls(&parens)[0];
        assert!(cut.starts_with("https://example.com/(a)(a)") && cut.len() < 20 + 3 * MAX_ITERATIONS, "{cut}");
    }
}
