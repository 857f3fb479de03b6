//! Pages that change while someone looks at them. Pages are server-rendered; a page whose content
//! is about to change (a post going out, a webhook call in flight) includes this island, which
//! loads it again.

use std::time::Duration;

use leptos::prelude::*;

/// Reloads the page every 2 seconds while it is included, unless the person is typing into a
/// field or has a form open in a `<details>` (a reload would throw that away; it tries again 2
/// seconds later). Without JavaScript nothing happens, and reloading by hand shows the same.
#[island]
pub fn ReloadWhileBusy() -> impl IntoView {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(reload_unless_typing, Duration::from_secs(2)) {
            on_cleanup(move || handle.clear());
        }
    });
}

fn reload_unless_typing() {
    let document = document();
    let typing = document.active_element().is_some_and(|field| matches!(field.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    let form_open = document.query_selector("details[open] form").ok().flatten().is_some();
    if !typing && !form_open {
        let _ = window().location().reload();
    }
}
