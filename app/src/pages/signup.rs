//! `/signup`

use leptos::prelude::*;

use crate::components::shell::SandboxBadge;
use leptos_meta::Title;
use leptos_router::components::A;
use server_fn::ServerFn;

use crate::components::form::{BrowserTimezoneField, Field, FormError, action_error, refill};
use crate::server::auth::{SignUp, sign_up_open};

/// Creates a team with the person as its owner, or says plainly that this Crier is invite-only.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let open = Resource::new(|| (), |_| sign_up_open());
    view! {
        <Title text="Sign up" />
        <main class="auth-page">
            <p class="brand">"Crier " <SandboxBadge /></p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match open.await {
                        Ok(false) => view! {
                            <h1>"Sign-up is by invitation"</h1>
                            <p>
                                "This Crier does not take new teams. To join a team, ask its owner or an admin to invite you: "
                                "the invitation is a link that lets you set your password."
                            </p>
                            <p class="hint">"Already have an account? " <A href="/login">"Log in"</A></p>
                        }
                        .into_any(),
                        _ => view! { <SignUpForm /> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn SignUpForm() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action.value());
    view! {
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
    }
}
