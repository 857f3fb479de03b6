//! The wasm entry point. Crier renders every page on the server and its forms work as plain HTML
//! forms; only the `#[island]` components in `app` (Compose, a post's live page, the retry policy
//! fields, the sign-up timezone) hydrate. Leptos' island loader calls `hydrate` and then each
//! island's own export, which is why `app` must be linked in although nothing here names it.

extern crate app;

use std::time::Duration;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // The loader hydrates the islands right after this returns, in the same task; a zero timeout
    // runs after that, so `<body data-hydrated>` tells tests (and anyone reading the DOM) that
    // every island on the page is interactive.
    leptos::prelude::set_timeout(
        || {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "");
            }
        },
        Duration::ZERO,
    );
}
