//! Punycode (RFC 3492), only to measure a domain label the way twitter-text does.
//!
//! twitter-text drops a URL whose host has a label longer than DNS allows (63 characters) once
//! encoded as `xn--…`: so `http://` followed by 53 kana and `.com` is not a URL and its kana are
//! counted one by one. An IDNA crate would bring Unicode mapping tables; the length only needs the
//! encoder, which is a few lines.

const BASE: u64 = 36;
const T_MIN: u64 = 1;
const T_MAX: u64 = 26;
const SKEW: u64 = 38;
const DAMP: u64 = 700;
const INITIAL_BIAS: u64 = 72;
const INITIAL_N: u64 = 128;
/// The longest DNS label.
pub(crate) const MAX_LABEL_LENGTH: usize = 63;

/// The length of `label` as the npm `punycode` package's `toASCII` gives it, which twitter-text
/// calls on each dot-separated label: parts separated by the other full stops (`。．｡`) are encoded
/// separately, and a part with any non-ASCII character becomes `xn--` + its encoding.
pub(crate) fn ascii_label_length(label: &[char]) -> usize {
    let parts = label.split(|&c| matches!(c, '\u{3002}' | '\u{FF0E}' | '\u{FF61}'));
    let mut length = 0;
    let mut count = 0;
    for part in parts {
        count += 1;
        length += if part.iter().all(char::is_ascii) { part.len() } else { "xn--".len() + encode(part).len() };
    }
    length + count - 1
}

/// The Punycode encoding of `input` (without the `xn--` prefix), e.g. `bücher` → `bcher-kva`.
pub(crate) fn encode(input: &[char]) -> String {
    let mut output: String = input.iter().filter(|c| c.is_ascii()).collect();
    let basic = output.len() as u64;
    if basic > 0 {
        output.push('-');
    }
    let total = input.len() as u64;
    let mut handled = basic;
    let mut n = INITIAL_N;
    let mut delta: u64 = 0;
    let mut bias = INITIAL_BIAS;
    while handled < total {
        // The smallest code point not handled yet.
        let m = input.iter().map(|&c| u64::from(c)).filter(|&c| c >= n).min().unwrap_or(n);
        delta = delta.saturating_add((m - n).saturating_mul(handled + 1));
        n = m;
        for &c in input {
            let c = u64::from(c);
            if c < n {
                delta += 1;
            }
            if c == n {
                // Write delta as a generalized variable-length integer.
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = threshold(k, bias);
                    if q < t {
                        break;
                    }
                    output.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                output.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    output
}

fn threshold(k: u64, bias: u64) -> u64 {
    if k <= bias {
        T_MIN
    } else if k >= bias + T_MAX {
        T_MAX
    } else {
        k - bias
    }
}

fn adapt(delta: u64, points: u64, first: bool) -> u64 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

/// A Punycode digit: `a`–`z` for 0–25, `0`–`9` for 26–35.
fn digit(d: u64) -> char {
    let d = d as u8; // Always < 36.
    if d < 26 { char::from(b'a' + d) } else { char::from(b'0' + d - 26) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(text: &str) -> String {
        encode(&text.chars().collect::<Vec<_>>())
    }

    #[test]
    fn encodes_like_rfc_3492() {
        assert_eq!(encoded("bücher"), "bcher-kva");
        assert_eq!(encoded("münchen"), "mnchen-3ya");
        assert_eq!(encoded("☃"), "n3h");
        // RFC 3492 section 7.1, sample (A) Arabic (Egyptian) and (L) Japanese.
        assert_eq!(encoded("ليهمابتكلموشعربي؟"), "egbpdaj6bu4bxfgehfvwxn");
        assert_eq!(encoded("3年B組金八先生"), "3B-ww4c5e180e575a65lsy2b");
    }

    #[test]
    fn measures_labels_as_twitter_text_does() {
        let label: Vec<char> = "bücher".chars().collect();
        assert_eq!(ascii_label_length(&label), "xn--bcher-kva".len());
        let ascii: Vec<char> = "example".chars().collect();
        assert_eq!(ascii_label_length(&ascii), 7);
        // An ideographic full stop separates labels for the punycode package too.
        let split: Vec<char> = "a\u{3002}b".chars().collect();
        assert_eq!(ascii_label_length(&split), 3);
    }
}
