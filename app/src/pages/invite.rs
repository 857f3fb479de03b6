//! `/invite/:token`

use leptos::prelude::*;

use crate::components::shell::SandboxBadge;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::form::{BrowserTimezoneField, Field, FormError, action_error};
use crate::server::members::{AcceptInvite, invite_info};

/// Joining a team through an invite link: the person chooses a password.
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let info = Resource::new(token, invite_info);
    let action = ServerAction::<AcceptInvite>::new();
    let error = action_error(action.value());
    view! {
        <Title text="Join a team" />
        <main class="auth-page">
            <p class="brand">"Crier " <SandboxBadge /></p>
            <Suspense fallback=|| view! { <p class="hint">"Checking the invite…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(info) => view! {
                            <h1>{format!("Join {}", info.team_name)}</h1>
                            <p>"You are invited as " {info.role.label()} " with the email " <strong>{info.email.clone()}</strong> "."</p>
                            <ActionForm action=action attr:class="stack">
                                <FormError error />
                                <input type="hidden" name="token" value=token />
                                <Field label="Password" name="password" kind="password" autocomplete="new-password" hint="At least 10 characters." error />
                                <BrowserTimezoneField />
                                <button type="submit">"Join team"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! {
                            <h1>"Invite not valid"</h1>
                            <p role="alert" class="form-error">{e.to_string()}</p>
                            <p class="hint"><A href="/login">"Log in"</A> " if you already have an account."</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
