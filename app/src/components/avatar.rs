//! An account's small round picture beside its name: the profile picture Crier stored (served by
//! Crier at `/accounts/{id}/picture?v=…`, never the platform's own URL), or, without one, the
//! name's first letter in a circle. Decorative either way (the name is always beside it), so the
//! picture has empty alt text and the letter is hidden from screen readers.

use leptos::either::Either;
use leptos::prelude::*;

/// The avatar of an account named `name`: 20 pixels square, or 16 when `small` (chips, the
/// calendar); `picture` is where Crier serves its picture, if it has one. The sizes are the
/// stylesheet's (`.avatar`), since pages allow no inline styles.
#[component]
pub fn Avatar(#[prop(into)] name: String, picture: Option<String>, #[prop(optional)] small: bool) -> impl IntoView {
    let (class, size) = if small { ("avatar small", 16) } else { ("avatar", 20) };
    match picture {
        Some(src) => Either::Left(view! { <img class=class src=src alt="" width=size height=size decoding="async" /> }),
        None => Either::Right(view! { <span class=format!("{class} letter") aria-hidden="true">{initial(&name)}</span> }),
    }
}

/// The name's first character (the stylesheet writes it upper-case). Kept this plain because
/// Compose's picker is in the wasm, where Unicode case tables would cost kilobytes.
pub fn initial(name: &str) -> String {
    name.trim_start().chars().next().map_or_else(|| "?".to_owned(), String::from)
}

#[cfg(test)]
mod tests {
    use super::initial;

    #[test]
    fn the_letter_is_the_first_character() {
        assert_eq!(initial("sandbox page"), "s");
        assert_eq!(initial("  42 Things"), "4");
        assert_eq!(initial(""), "?");
    }
}
