//! `/signup`

use leptos::prelude::*;

use crate::components::shell::SandboxBadge;
use leptos_meta::Title;
use leptos_router::components::A;
use server_fn::ServerFn;

use crate::components::form::{BrowserTimezoneField, Field, FormError, action_error, refill};
use crate::server::auth::SignUp;

/// Creates a team with the person as its owner.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action.value());
    view! {
        <Title text="Sign up" />
        <main class="auth-page">
            <p class="brand">"Crier " <SandboxBadge /></p>
            <h1>"Create your team"</h1>
            <ActionForm action=action attr:class="stack">
                <FormError error />
                <Field label="Team name" name="team_name" autocomplete="organization" error value=refill(SignUp::PATH, "team_name").unwrap_or_default() />
                <Field label="Email" name="email" kind="email" autocomplete="email" error value=refill(SignUp::PATH, "email").unwrap_or_default() />
                <Field label="Password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters." error />
                <BrowserTimezoneField />
                <button type="submit">"Sign up"</button>
            </ActionForm>
            <p class="hint">"Already have an account? " <A href="/login">"Log in"</A></p>
        </main>
    }
}
