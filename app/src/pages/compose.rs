//! `/compose`: for now, the live length counter every platform's composer will use. The counting
//! is `crier-text`, the same code the server and `crier check-text` run, compiled into the wasm,
//! so what the page says fits is exactly what the server will accept.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::server::accounts::platform_label;
use crier_domain::account::Platform;

/// The compose box with a per-platform live count.
#[component]
pub fn ComposePage() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let counters = move || {
        let current = text.read();
        Platform::ALL
            .into_iter()
            .map(|platform| {
                let check = crier_text::check(platform, &current);
                let over = check.length > check.limit;
                let class = if over { "counter over" } else { "counter" };
                let words = format!("{}: {} / {}", platform_label(platform), check.length, check.limit);
                let note = if over { format!(" ({} over)", check.length - check.limit) } else { String::new() };
                view! { <li class=class data-platform=platform.as_str()>{format!("{words}{note}")}</li> }
            })
            .collect_view()
    };
    view! {
        <Title text="Compose" />
        <h1>"Compose"</h1>
        <section class="panel stack">
            <div class="field">
                <label for="post-text">"Post text"</label>
                <p class="hint" id="post-text-hint">
                    "Counted as each platform counts: X weighs links as 23 and most emoji and CJK characters as 2."
                </p>
                <textarea
                    id="post-text"
                    name="text"
                    rows="6"
                    aria-describedby="post-text-hint post-text-counts"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
            </div>
            <ul class="counters" id="post-text-counts" aria-live="polite">{counters}</ul>
            <p class="hint">"Scheduling and publishing arrive with the publishing engine in an upcoming release."</p>
        </section>
    }
}
