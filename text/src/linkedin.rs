//! LinkedIn's "little text" format, which a post's `commentary` is written in.

/// The characters little text reserves for its templates (mentions `@[Name](urn:…)`, hashtags
/// `{hashtag|\#|coding}`). LinkedIn documents that each must be backslash-escaped to appear
/// literally, "even when not used in a template".
const RESERVED: &str = r"\|{}@[]()<>#*_~";

/// Escapes `commentary` for LinkedIn's Posts API, so it is published exactly as typed.
///
/// Every reserved character (`\ | { } @ [ ] ( ) < > # * _ ~`) gets a backslash before it. Why it
/// matters: LinkedIn does not refuse unescaped text, it silently cuts the post at the first
/// reserved character (and still answers 201 Created), so `Launch (beta)` would go out as
/// `Launch `. The backslash itself is escaped too, and in the same single pass: that is the
/// "backslash first" rule, so no backslash added here is escaped again.
///
/// As every reserved character is made literal, the result holds no mention or hashtag
/// templates: `#rust` is published as the text "#rust".
///
/// Only for `commentary` (and other little-text fields): the comments API takes plain text.
///
/// ```
/// assert_eq!(crier_text::linkedin_escape("Launch (beta) @ 9am #rust"), r"Launch \(beta\) \@ 9am \#rust");
/// ```
pub fn linkedin_escape(commentary: &str) -> String {
    let mut escaped = String::with_capacity(commentary.len() + 8);
    for c in commentary.chars() {
        if RESERVED.contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_reserved_character() {
        for reserved in ['\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~'] {
            assert_eq!(linkedin_escape(&reserved.to_string()), format!("\\{reserved}"), "{reserved:?}");
        }
        assert_eq!(linkedin_escape(r"\|{}@[]()<>#*_~"), r"\\\|\{\}\@\[\]\(\)\<\>\#\*\_\~");
    }

    #[test]
    fn escapes_backslashes_once_only() {
        // A backslash typed before a reserved character: both are escaped, neither twice.
        assert_eq!(linkedin_escape(r"a\(b"), r"a\\\(b");
        assert_eq!(linkedin_escape(r"C:\temp\"), r"C:\\temp\\");
    }

    #[test]
    fn leaves_everything_else_alone() {
        let plain = "Plain text, with punctuation: ! ? . , ; ' \" - + = / % & $ ^ é 故 👋 and\nnew lines.";
        assert_eq!(linkedin_escape(plain), plain);
        assert_eq!(linkedin_escape(""), "");
    }

    #[test]
    fn escapes_a_realistic_post() {
        let post = "We're hiring (remote)! Email jobs@example.com or see <https://example.com/jobs> #hiring *now* ~ 2_000 € [EU]";
        let expected =
            r"We're hiring \(remote\)! Email jobs\@example.com or see \<https://example.com/jobs\> \#hiring \*now\* \~ 2\_000 € \[EU\]";
        assert_eq!(linkedin_escape(post), expected);
    }
}
