//! Pages whose features arrive in later releases; they say so plainly.

use leptos::prelude::*;
use leptos_meta::Title;

/// A page that is not built yet.
#[component]
pub fn PlaceholderPage(
    /// The page's title.
    title: &'static str,
    /// What it will offer.
    what: &'static str,
) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <section class="panel">
            <p>{what} " is not available yet: it arrives in an upcoming Crier release. Nothing here is lost in the meantime."</p>
        </section>
    }
}
