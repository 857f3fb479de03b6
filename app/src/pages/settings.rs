//! `/settings`

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Team settings.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <section class="panel">
            <ul>
                <li><A href="/settings/members">"Members"</A> " — invite people, change roles, remove members."</li>
            </ul>
            <p class="hint">"API tokens can be created with " <code>"crier admin create-token"</code> " until their settings page arrives with the REST API."</p>
        </section>
    }
}
