//! `/compose/batch`: "Schedule batch": several posts, each with its own time, to the same
//! accounts, in one go (all of them or, if a line is wrong, none).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::form::{FormError, FormKey, action_error, kept_notice, refill, refill_list};
use crate::pages::compose::{AccountChoice, FieldMessage};
use crate::server::posts::{ScheduleBatch, compose_view};
use server_fn::ServerFn;

/// The batch form.
#[component]
pub fn BatchPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| compose_view(Vec::new(), Vec::new()));
    let batch = ServerAction::<ScheduleBatch>::new();
    let error = action_error(batch.value());
    let done = move || kept_notice(ScheduleBatch::PATH);
    view! {
        <Title text="Schedule batch" />
        <h1>"Schedule batch"</h1>
        <Suspense fallback=|| view! { <p class="hint">"Loading your accounts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => {
                        let example = format!("{} | Good morning!", view_data.now_local.replace('T', " "));
                        view! {
                            <ActionForm action=batch attr:class="panel stack">
                                <FormKey />
                                <FormError error />
                                <Show when=move || done().is_some()>
                                    <p class="notice" role="status">{done} " " <a href="/">"See them on the dashboard"</a></p>
                                </Show>
                                <div class="field">
                                    <label for="posts">{format!("Posts, one per line: date and time ({}) | text", view_data.timezone)}</label>
                                    <p class="hint" id="posts-hint">{format!("For example: {example}")}</p>
                                    <textarea id="posts" name="posts" rows="8" required aria-describedby="posts-hint">{refill(ScheduleBatch::PATH, "posts").unwrap_or_default()}</textarea>
                                    <FieldMessage name="posts" error />
                                </div>
                                <AccountChoice accounts=view_data.accounts ticked=refill_list(ScheduleBatch::PATH, "accounts") error />
                                <div class="actions"><button type="submit">"Schedule batch"</button></div>
                            </ActionForm>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
