//! `/settings`

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::form::{FormError, action_error};
use crate::server::auth::{SetTimezone, timezone_settings};

/// Team and personal settings.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SetTimezone>::new();
    let settings = Resource::new(|| (), |_| timezone_settings());
    let error = action_error(save.value());
    let saved = move || save.value().get().and_then(Result::ok).map(|zone| format!("Times are now shown in {zone}."));
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <section class="panel">
            <ul>
                <li><A href="/settings/members">"Members"</A> " — invite people, change roles, remove members."</li>
            </ul>
            <p class="hint">"API tokens can be created with " <code>"crier admin create-token"</code> " until their settings page arrives with the REST API."</p>
        </section>
        <h2>"Your timezone"</h2>
        <section class="panel">
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(data) => {
                            let current = data.current.clone();
                            let options = data
                                .all
                                .into_iter()
                                .map(|zone| {
                                    let selected = zone == current;
                                    let label = zone.clone();
                                    view! { <option value=zone selected=selected>{label}</option> }
                                })
                                .collect_view();
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <div class="field">
                                        <label for="timezone">"Timezone"</label>
                                        <p class="hint" id="timezone-hint">"Times on every page are shown, and schedule times entered, in this zone."</p>
                                        <select id="timezone" name="timezone" aria-describedby="timezone-hint">{options}</select>
                                    </div>
                                    <div><button type="submit" disabled=move || save.pending().get()>"Save timezone"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Show when=move || saved().is_some()>
                <p class="notice" role="status">{saved}</p>
            </Show>
        </section>
    }
}
