//! `/settings`

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use server_fn::ServerFn;

use crate::components::form::{FormError, Notice, action_error, kept_notice, refill};
use crate::components::retry::RetryPolicyLive;
use crate::server::auth::{SetTimezone, timezone_settings};
use crate::server::settings::{SetRetryPolicy, TeamRetryPolicy, retry_settings};

/// Team and personal settings.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SetTimezone>::new();
    let settings = Resource::new(|| (), |_| timezone_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetTimezone::PATH);
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <section class="panel">
            <ul>
                <li><A href="/settings/members">"Members"</A> " — invite people, change roles, remove members."</li>
                <li><A href="/settings/api">"API"</A> " — tokens for scripts and other systems, and the REST API's reference."</li>
                <li><A href="/settings/webhooks">"Webhooks"</A> " — HTTPS endpoints Crier calls, signed, when posts go out or fail and accounts need reconnecting."</li>
            </ul>
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
                                    <div><button type="submit">"Save timezone"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
        <h2>"Retries"</h2>
        <RetrySection />
    }
}

/// The team's retry policy: shown to everyone, changed by owners and admins. A plain form; the
/// fields and the line saying what they mean are an island (`RetryPolicyLive`).
#[component]
fn RetrySection() -> impl IntoView {
    let save = ServerAction::<SetRetryPolicy>::new();
    let settings = Resource::new(|| (), |_| retry_settings());
    let error = action_error(save.value());
    let saved = move || kept_notice(SetRetryPolicy::PATH);
    view! {
        <section class="panel">
            <p class="hint">"When a platform fails for a while (a server error, a timeout), Crier tries again, waiting twice as long each time, at most 4 hours. A post can set its own in Compose; posts already scheduled keep theirs. Rate limits and reconnecting never use up attempts."</p>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(TeamRetryPolicy { policy, can_manage: true }) => {
                            let attempts = refill(SetRetryPolicy::PATH, "max_attempts").unwrap_or_else(|| policy.max_attempts.to_string());
                            let minutes = refill(SetRetryPolicy::PATH, "first_retry_minutes").unwrap_or_else(|| policy.first_retry_minutes().to_string());
                            view! {
                                <ActionForm action=save attr:class="stack">
                                    <FormError error />
                                    <RetryPolicyLive attempts minutes error=error.get_untracked() />
                                    <div><button type="submit">"Save retries"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                        Ok(TeamRetryPolicy { policy, can_manage: false }) => {
                            view! { <p>{policy.describe()}</p><p class="hint">"Owners and admins can change this."</p> }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notice message=saved />
        </section>
    }
}
