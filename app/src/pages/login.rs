//! `/login`

use leptos::prelude::*;

use crate::components::shell::SandboxBadge;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

use crate::components::form::{Field, FormError, action_error, refill};
use crate::server::auth::LogIn;

/// The login page. `?next=` (a local path) is where a successful login goes.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = action_error(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next");
    view! {
        <Title text="Log in" />
        <main class="auth-page">
            <p class="brand">"Crier " <SandboxBadge /></p>
            <h1>"Log in"</h1>
            <ActionForm action=action attr:class="stack">
                <FormError error />
                <input type="hidden" name="next" value=next />
                <Field label="Email" name="email" kind="email" autocomplete="email" error value=refill(LogIn::PATH, "email").unwrap_or_default() />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error />
                <button type="submit">"Log in"</button>
            </ActionForm>
            <p class="hint">"New to Crier? " <A href="/signup">"Create a team"</A></p>
        </main>
    }
}
