//! `/compose/batch`: "Schedule batch": several posts, each with its own time, to the same
//! accounts, in one go (all of them or, if a line is wrong, none).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::form::{FormError, FormKey, action_error, kept_notice, refill, refill_list};
use crate::pages::compose::{AccountChoice, FieldMessage};
use crate::server::media::{ComposeMedia, media_library};
use crate::server::posts::{ScheduleBatch, compose_view};
use server_fn::ServerFn;

/// The batch form.
#[component]
pub fn BatchPage() -> impl IntoView {
    let data = Resource::new(
        || (),
        |_| async {
            Ok::<_, crate::errors::AppError>((
                compose_view(Vec::new(), Vec::new(), String::new(), String::new(), String::new()).await?,
                media_library(String::new()).await?,
            ))
        },
    );
    let batch = ServerAction::<ScheduleBatch>::new();
    let error = action_error(batch.value());
    let done = move || kept_notice(ScheduleBatch::PATH);
    view! {
        <Title text="Schedule batch" />
        <h1>"Schedule batch"</h1>
        <p><a href="/compose/import">"Import posts from a CSV file"</a></p>
        <Suspense fallback=|| view! { <p class="hint">"Loading your accounts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((view_data, library)) => {
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
                                <BatchMedia library error />
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

/// The library's newest items, each a checkbox with its thumbnail: the ones ticked go with every
/// post of the batch (a plain form; the whole library is on the Media page).
#[component]
fn BatchMedia(library: Vec<ComposeMedia>, error: Signal<Option<crate::errors::AppError>>) -> impl IntoView {
    let ticked = refill_list(ScheduleBatch::PATH, "media");
    let items = if library.is_empty() {
        view! { <p class="hint">"No media yet. Upload some on the " <a href="/media">"Media page"</a> "."</p> }.into_any()
    } else {
        library
            .into_iter()
            .map(|item| {
                let (id, label_for) = (format!("batch-media-{}", item.id), format!("batch-media-{}", item.id));
                let checked = ticked.contains(&item.id);
                let summary = item.summary();
                let (value, alt, name) = (item.id.clone(), item.alt_text.clone(), item.file_name.clone());
                view! {
                    <label class="check batch-media" for=label_for>
                        <input type="checkbox" id=id name="media[]" value=value checked=checked />
                        <crate::components::attachments::MediaPicture media=item alt=Signal::stored(alt) />
                        <span><strong>{name}</strong> " " <small class="hint">{summary}</small></span>
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <fieldset class="batch-library">
            <legend>"Media for every post (optional)"</legend>
            <p class="hint">"The newest items of the library, with their own alt text."</p>
            {items}
            <FieldMessage name="media" error />
        </fieldset>
    }
}
