//! LinkedIn's "little text format" for post commentary (platforms.md §2.4): what LinkedIn keeps of
//! a commentary that holds an unescaped reserved character. A small parser of its own, apart from
//! the publishing rules.

/// Reserved characters of the little text format (platforms.md §2.4).
const RESERVED: &[char] = &['\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~'];

/// The commentary LinkedIn keeps: cut at the first unescaped reserved character that does not open
/// a template (`@[name](urn:li:...)` mention, `{hashtag|\#|tag}`, `#tag`), §2.4. Escapes are kept as sent.
pub(super) fn little_text_keep(commentary: &str) -> &str {
    let chars: Vec<(usize, char)> = commentary.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c == '\\' {
            match chars.get(i + 1) {
                Some((_, next)) if RESERVED.contains(next) => {
                    i += 2;
                    continue;
                }
                // A lone backslash before an ordinary character, or at the end: reserved, unescaped.
                _ => return &commentary[..at],
            }
        }
        if RESERVED.contains(&c) {
            match template_len(&commentary[at..]) {
                Some(len) => {
                    let end = at + len;
                    while i < chars.len() && chars[i].0 < end {
                        i += 1;
                    }
                    continue;
                }
                None => return &commentary[..at],
            }
        }
        i += 1;
    }
    commentary
}

/// Byte length of a template starting at `s`, if one does.
fn template_len(s: &str) -> Option<usize> {
    if let Some(rest) = s.strip_prefix("@[") {
        let close = rest.find("](")?;
        let name = &rest[..close];
        if name.contains(['[', ']', '(', ')']) {
            return None;
        }
        let after = &rest[close + 2..];
        let end = after.find(')')?;
        let urn = &after[..end];
        let ok = ["urn:li:person:", "urn:li:organization:"].iter().any(|p| {
            urn.strip_prefix(p).is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        });
        return ok.then_some(2 + close + 2 + end + 1);
    }
    if let Some(rest) = s.strip_prefix("{hashtag|\\#|") {
        let end = rest.find('}')?;
        let tag = &rest[..end];
        let ok = !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric());
        return ok.then_some("{hashtag|\\#|".len() + end + 1);
    }
    if let Some(rest) = s.strip_prefix('#') {
        let len: usize = rest.chars().take_while(|c| c.is_alphanumeric()).map(char::len_utf8).sum();
        return (len > 0).then_some(1 + len);
    }
    None
}
