//! `/`

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The dashboard. The calendar, per-account status and history arrive with the publishing engine.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <section class="panel">
            <p>"Your team is set up. The calendar, per-account status and publishing history will appear here once the publishing engine lands."</p>
            <p>"Meanwhile you can " <A href="/settings/members">"invite your team"</A> "."</p>
        </section>
    }
}
